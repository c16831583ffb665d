//! Probes and spike detection (golden format §"JSON format").
//!
//! A probe samples the voltage of one node at exact multiples of its own interval
//! (sample k at t = k·interval, sample 0 = v_init). The spike detector finds upward crossings
//! of a threshold at one node on every step, linearly interpolated within the step.

use super::error::SimError;

/// Voltage probe at one node.
#[derive(Debug, Clone)]
pub struct Probe {
    pub node: usize,
    pub interval_steps: u64,
    pub samples_mv: Vec<f64>,
}

/// Upward threshold crossings at one node.
#[derive(Debug, Clone)]
pub struct SpikeDetector {
    pub node: usize,
    pub threshold_mv: f64,
    pub spike_times_ms: Vec<f64>,
    prev_v_mv: f64,
}

/// All probes of a run.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    pub probes: Vec<Probe>,
    pub spikes: Option<SpikeDetector>,
}

impl Recorder {
    /// Add a probe sampling `node` every `interval_ms`, which must be a whole number of steps.
    /// Returns the probe's index.
    pub fn add_probe(&mut self, node: usize, interval_ms: f64, dt_ms: f64) -> Result<usize, SimError> {
        let steps = (interval_ms / dt_ms).round();
        if !(interval_ms.is_finite() && steps >= 1.0 && (steps * dt_ms - interval_ms).abs() <= 1e-9 * interval_ms) {
            return Err(SimError::Settings(format!("sampling interval {interval_ms} ms is not a positive multiple of dt = {dt_ms} ms")));
        }
        self.probes.push(Probe { node, interval_steps: steps as u64, samples_mv: Vec::new() });
        Ok(self.probes.len() - 1)
    }

    pub fn set_spike_detector(&mut self, node: usize, threshold_mv: f64) {
        self.spikes = Some(SpikeDetector { node, threshold_mv, spike_times_ms: Vec::new(), prev_v_mv: f64::NAN });
    }

    /// Called with the voltages after step `step` (step 0 = the initial state).
    #[inline]
    pub fn observe(&mut self, step: u64, v_mv: &[f64], dt_ms: f64) {
        for p in &mut self.probes {
            if step.is_multiple_of(p.interval_steps) {
                p.samples_mv.push(v_mv[p.node]);
            }
        }
        if let Some(s) = &mut self.spikes {
            let v = v_mv[s.node];
            if step > 0 && s.prev_v_mv < s.threshold_mv && v >= s.threshold_mv {
                let t_prev = (step - 1) as f64 * dt_ms;
                s.spike_times_ms.push(t_prev + dt_ms * (s.threshold_mv - s.prev_v_mv) / (v - s.prev_v_mv));
            }
            s.prev_v_mv = v;
        }
    }

    pub fn spike_times_ms(&self) -> &[f64] {
        self.spikes.as_ref().map_or(&[], |s| &s.spike_times_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolated_crossing() {
        let mut r = Recorder::default();
        r.set_spike_detector(0, -20.0);
        r.observe(0, &[-30.0], 0.025);
        r.observe(1, &[-10.0], 0.025);
        r.observe(2, &[-30.0], 0.025);
        assert_eq!(r.spike_times_ms().len(), 1);
        assert!((r.spike_times_ms()[0] - 0.0125).abs() < 1e-15);
    }

    #[test]
    fn probe_interval_must_be_multiple_of_dt() {
        let mut r = Recorder::default();
        assert!(r.add_probe(0, 0.1, 0.025).is_ok());
        assert!(r.add_probe(0, 0.11, 0.025).is_err());
        assert!(r.add_probe(0, 0.0, 0.025).is_err());
    }
}
