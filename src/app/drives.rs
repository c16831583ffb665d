//! Presynaptic spike trains for synapses placed in the GUI, generated chunk by chunk as the runner
//! advances. Kept minimal on purpose: `stimulus::drives` will replace it.

/// How a placed synapse is driven.
#[derive(Debug, Clone, PartialEq)]
pub enum Drive {
    /// Only "fire now" clicks.
    Silent,
    /// Homogeneous Poisson process.
    Poisson { rate_hz: f64 },
    /// Regular train, first spike one period after the start.
    Regular { rate_hz: f64 },
    /// Bursts of `n_spikes` spikes `isi_ms` apart, one burst every `period_ms`.
    Burst { n_spikes: u32, isi_ms: f64, period_ms: f64 },
    /// Explicit spike times (ms, absolute simulation time).
    SpikeList { times_ms: Vec<f64> },
}

impl Drive {
    pub fn label(&self) -> &'static str {
        match self {
            Drive::Silent => "silent",
            Drive::Poisson { .. } => "Poisson",
            Drive::Regular { .. } => "regular",
            Drive::Burst { .. } => "burst",
            Drive::SpikeList { .. } => "spike list",
        }
    }

    /// Append to `out` every spike time of this drive in `[t0_ms, t1_ms)`.
    /// Poisson spikes are drawn independently per call, so chunks may be of any length.
    pub fn spikes_in(&self, t0_ms: f64, t1_ms: f64, rng: &mut SplitMix64, out: &mut Vec<f64>) {
        match *self {
            Drive::Silent => {}
            Drive::Poisson { rate_hz } => {
                if rate_hz <= 0.0 || !rate_hz.is_finite() {
                    return;
                }
                let rate_per_ms = rate_hz / 1000.0;
                let mut t = t0_ms;
                loop {
                    t += -(1.0 - rng.next_f64()).ln() / rate_per_ms;
                    if t >= t1_ms {
                        break;
                    }
                    out.push(t);
                }
            }
            Drive::Regular { rate_hz } => {
                if rate_hz <= 0.0 || !rate_hz.is_finite() {
                    return;
                }
                let period_ms = 1000.0 / rate_hz;
                let mut k = (t0_ms / period_ms).floor().max(0.0);
                loop {
                    let t = (k + 1.0) * period_ms;
                    if t >= t1_ms {
                        break;
                    }
                    if t >= t0_ms {
                        out.push(t);
                    }
                    k += 1.0;
                }
            }
            Drive::Burst { n_spikes, isi_ms, period_ms } => {
                if period_ms <= 0.0 || !period_ms.is_finite() {
                    return;
                }
                let mut burst = ((t0_ms - f64::from(n_spikes) * isi_ms) / period_ms).floor().max(0.0);
                loop {
                    let start = (burst + 1.0) * period_ms;
                    if start >= t1_ms {
                        break;
                    }
                    for i in 0..n_spikes {
                        let t = start + f64::from(i) * isi_ms;
                        if t >= t0_ms && t < t1_ms {
                            out.push(t);
                        }
                    }
                    burst += 1.0;
                }
            }
            Drive::SpikeList { ref times_ms } => {
                out.extend(times_ms.iter().copied().filter(|t| *t >= t0_ms && *t < t1_ms));
            }
        }
    }
}

/// The dataset's background input (spec §6.1), held at constant rates: one excitatory and one
/// inhibitory synapse on every basal and apical segment, with a tree's total count per 100 ms
/// shared among its segments in proportion to their adjusted length (L/nseg + 10 µm), and at
/// most one spike per synapse per 1-ms bin at integer ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackgroundProtocol {
    pub basal_exc_per_100ms: f64,
    pub basal_inh_per_100ms: f64,
    pub apical_exc_per_100ms: f64,
    pub apical_inh_per_100ms: f64,
}

impl Default for BackgroundProtocol {
    /// The means of the dataset's draws: N_e ~ U(0, 800) -> 400, N_i ~ U(N_e - 600, N_e + 200) -> 400.
    fn default() -> Self {
        BackgroundProtocol {
            basal_exc_per_100ms: 400.0,
            basal_inh_per_100ms: 400.0,
            apical_exc_per_100ms: 400.0,
            apical_inh_per_100ms: 400.0,
        }
    }
}

/// Small, fast, reproducible generator (Steele, Lea & Flood 2014, "SplitMix64").
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spikes(d: &Drive, t0: f64, t1: f64) -> Vec<f64> {
        let mut out = Vec::new();
        d.spikes_in(t0, t1, &mut SplitMix64::new(7), &mut out);
        out
    }

    #[test]
    fn regular_train_is_split_consistently_across_chunks() {
        let d = Drive::Regular { rate_hz: 100.0 };
        let whole = spikes(&d, 0.0, 100.0);
        assert_eq!(whole.len(), 9);
        let mut parts = spikes(&d, 0.0, 33.0);
        parts.extend(spikes(&d, 33.0, 100.0));
        assert_eq!(whole, parts);
    }

    #[test]
    fn burst_and_list() {
        let d = Drive::Burst { n_spikes: 3, isi_ms: 5.0, period_ms: 100.0 };
        assert_eq!(spikes(&d, 0.0, 150.0), vec![100.0, 105.0, 110.0]);
        assert_eq!(spikes(&d, 104.0, 150.0), vec![105.0, 110.0]);
        let l = Drive::SpikeList { times_ms: vec![1.0, 5.0, 9.0] };
        assert_eq!(spikes(&l, 2.0, 9.0), vec![5.0]);
    }

    #[test]
    fn poisson_rate_is_about_right() {
        let d = Drive::Poisson { rate_hz: 50.0 };
        let n = spikes(&d, 0.0, 100_000.0).len() as f64;
        assert!((n - 5000.0).abs() < 300.0, "{n}");
        assert!(spikes(&Drive::Poisson { rate_hz: 0.0 }, 0.0, 1e5).is_empty());
    }
}
