//! Time-dependent injected currents (positive = depolarising), evaluated at the step midpoint
//! t + dt/2 as NEURON's fixed step does (spec §7.2 step 2).

/// NEURON's IClamp: `amp_na` while delay ≤ t < delay + dur.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IClamp {
    pub node: usize,
    pub delay_ms: f64,
    pub dur_ms: f64,
    pub amp_na: f64,
}

impl IClamp {
    #[inline]
    pub fn current_na(&self, t_ms: f64) -> f64 {
        if t_ms >= self.delay_ms && t_ms < self.delay_ms + self.dur_ms {
            self.amp_na
        } else {
            0.0
        }
    }
}

/// Hay's EPSC-shaped current (epsp.mod, reference README):
/// i(t) = imax·A·(exp(−(t−onset)/τ1) − exp(−(t−onset)/τ0)) for t > onset, peak = imax.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpscCurrent {
    pub node: usize,
    pub onset_ms: f64,
    pub tau0_ms: f64,
    pub tau1_ms: f64,
    pub imax_na: f64,
    /// A = 1/(exp(−tp/τ1) − exp(−tp/τ0)), tp = τ0τ1·ln(τ0/τ1)/(τ0 − τ1).
    norm: f64,
}

impl EpscCurrent {
    pub fn new(node: usize, onset_ms: f64, tau0_ms: f64, tau1_ms: f64, imax_na: f64) -> Self {
        let tp = tau0_ms * tau1_ms * (tau0_ms / tau1_ms).ln() / (tau0_ms - tau1_ms);
        let norm = 1.0 / ((-tp / tau1_ms).exp() - (-tp / tau0_ms).exp());
        EpscCurrent { node, onset_ms, tau0_ms, tau1_ms, imax_na, norm }
    }

    #[inline]
    pub fn current_na(&self, t_ms: f64) -> f64 {
        if t_ms > self.onset_ms {
            let s = t_ms - self.onset_ms;
            self.imax_na * self.norm * ((-s / self.tau1_ms).exp() - (-s / self.tau0_ms).exp())
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epsc_peak_is_imax() {
        let e = EpscCurrent::new(0, 10.0, 0.5, 5.0, 0.5);
        let peak = (0..100000).map(|k| e.current_na(10.0 + k as f64 * 1e-4)).fold(0.0, f64::max);
        assert!((peak - 0.5).abs() < 1e-6);
    }

    #[test]
    fn iclamp_on_for_steps_from_delay() {
        let c = IClamp { node: 0, delay_ms: 10.0, dur_ms: 5.0, amp_na: 1.0 };
        let dt = 0.025;
        // midpoints of the steps starting at 9.975 and 15.0 are outside
        assert_eq!(c.current_na(9.975 + dt / 2.0), 0.0);
        assert_eq!(c.current_na(10.0 + dt / 2.0), 1.0);
        assert_eq!(c.current_na(14.975 + dt / 2.0), 1.0);
        assert_eq!(c.current_na(15.0 + dt / 2.0), 0.0);
    }
}
