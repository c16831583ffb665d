//! The paper's background input protocol (Beniaguev et al. 2021, `simulate_L5PC_and_create_dataset.py`;
//! spec §6.1; reference README "Input generator for E") for any morphology: piecewise-constant
//! rates per tree, spread over segments by adjusted length with spatial noise, smoothed by a
//! Gaussian in time, then one Bernoulli draw per row and 1-ms bin. Deterministic for a seed with
//! our own PRNG (`rng`); it reproduces the statistics, not NumPy's stream.

use super::raster::InputRaster;
use crate::rng::{xoshiro, Draw, Xoshiro};
use super::segments::{DendriticSegments, Tree};
use super::StimulusError;
use serde::{Deserialize, Serialize};

/// The two published parameter sets (ordered: the main, NMDA, one first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputVariant {
    /// AMPA+NMDA excitation (the paper's main model).
    Nmda,
    /// AMPA-only excitation: higher rates to reach comparable output.
    Ampa,
}

/// All parameters of the protocol (recorded verbatim in dataset manifests). Counts are "spikes
/// per tree per 100 ms", as in the paper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperProtocol {
    pub variant: InputVariant,
    pub duration_ms: u32,
    /// Rate-hold interval T_c choices (ms); one is picked uniformly per simulation.
    pub rate_change_interval_options_ms: Vec<u32>,
    /// T_c gets an integer jitter trunc(U(−j, j)), i.e. −(j−1)..=(j−1) with 0 twice as likely
    /// (Python's `int()` truncation in the original).
    pub rate_change_interval_jitter_ms: u32,
    /// Gaussian smoothing σ choices (ms), jittered the same way.
    pub smoothing_sigma_options_ms: Vec<u32>,
    pub smoothing_sigma_jitter_ms: u32,
    /// Excitatory count range per 100 ms, basal tree [lo, hi].
    pub basal_exc_per_100ms: [f64; 2],
    pub apical_exc_per_100ms: [f64; 2],
    /// Inhibitory count = U(max(0, exc + lo), exc + hi) with this [lo, hi].
    pub basal_inh_minus_exc_per_100ms: [f64; 2],
    pub apical_inh_minus_exc_per_100ms: [f64; 2],
    /// Added to each segment length (µm) before weighting ("regularisation" in the original).
    pub min_seg_length_um: f64,
    /// Multiplicative spatial noise U(lo, hi), fresh per row and rate interval.
    pub spatial_noise: [f64; 2],
    /// Remove spikes in the 0-ms bin (spec §6.4 quirk 1: they would silence the synapse).
    pub drop_t0_spikes: bool,
}

impl PaperProtocol {
    /// The NMDA model's parameters, 6-s simulations.
    pub fn nmda() -> PaperProtocol {
        PaperProtocol {
            variant: InputVariant::Nmda,
            duration_ms: 6000,
            rate_change_interval_options_ms: vec![25, 30, 35, 40, 45, 55, 60, 65, 70, 75, 80, 85, 90, 100, 150, 200, 300, 450],
            rate_change_interval_jitter_ms: 20,
            smoothing_sigma_options_ms: vec![25, 30, 35, 40, 50, 60, 80, 100, 150, 200, 300, 400, 500, 600],
            smoothing_sigma_jitter_ms: 20,
            basal_exc_per_100ms: [0.0, 800.0],
            apical_exc_per_100ms: [0.0, 800.0],
            basal_inh_minus_exc_per_100ms: [-600.0, 200.0],
            apical_inh_minus_exc_per_100ms: [-600.0, 200.0],
            min_seg_length_um: 10.0,
            spatial_noise: [0.5, 1.5],
            drop_t0_spikes: true,
        }
    }

    /// The AMPA-only model's parameters (reference README).
    pub fn ampa() -> PaperProtocol {
        PaperProtocol {
            variant: InputVariant::Ampa,
            basal_exc_per_100ms: [0.0, 1900.0],
            apical_exc_per_100ms: [0.0, 2000.0],
            basal_inh_minus_exc_per_100ms: [-1650.0, 150.0],
            apical_inh_minus_exc_per_100ms: [-1650.0, 150.0],
            ..PaperProtocol::nmda()
        }
    }

    pub fn for_variant(variant: InputVariant) -> PaperProtocol {
        match variant {
            InputVariant::Nmda => PaperProtocol::nmda(),
            InputVariant::Ampa => PaperProtocol::ampa(),
        }
    }

    /// Reject parameter sets that cannot produce valid rates.
    pub fn validate(&self) -> Result<(), StimulusError> {
        let bad = |m: String| Err(StimulusError::InvalidParams(m));
        if self.duration_ms == 0 {
            return bad("duration_ms must be > 0".into());
        }
        for (name, opts, jitter) in [
            ("rate_change_interval", &self.rate_change_interval_options_ms, self.rate_change_interval_jitter_ms),
            ("smoothing_sigma", &self.smoothing_sigma_options_ms, self.smoothing_sigma_jitter_ms),
        ] {
            let Some(&min) = opts.iter().min() else {
                return bad(format!("{name}_options_ms is empty"));
            };
            // the largest negative jitter is −(j−1) ms; the value must stay ≥ 1 ms
            if i64::from(min) - i64::from(jitter.saturating_sub(1)) < 1 {
                return bad(format!("{name}: option {min} ms minus jitter up to {} ms can reach 0 ms", jitter.saturating_sub(1)));
            }
        }
        for (name, r) in [("basal_exc_per_100ms", self.basal_exc_per_100ms), ("apical_exc_per_100ms", self.apical_exc_per_100ms)] {
            if !(r[0].is_finite() && r[1].is_finite() && r[0] >= 0.0 && r[0] <= r[1]) {
                return bad(format!("{name} = {r:?}: need finite 0 ≤ lo ≤ hi"));
            }
        }
        for (name, d, ex) in [
            ("basal_inh_minus_exc_per_100ms", self.basal_inh_minus_exc_per_100ms, self.basal_exc_per_100ms),
            ("apical_inh_minus_exc_per_100ms", self.apical_inh_minus_exc_per_100ms, self.apical_exc_per_100ms),
        ] {
            if !(d[0].is_finite() && d[1].is_finite() && d[0] <= d[1]) {
                return bad(format!("{name} = {d:?}: need finite lo ≤ hi"));
            }
            // the inhibitory upper bound exc + hi must not fall below 0 (negative rates)
            if ex[0] + d[1] < 0.0 {
                return bad(format!("{name} = {d:?}: with exc as low as {} the inhibitory count could be negative", ex[0]));
            }
        }
        if !(self.min_seg_length_um.is_finite() && self.min_seg_length_um >= 0.0) {
            return bad(format!("min_seg_length_um = {} must be finite and ≥ 0", self.min_seg_length_um));
        }
        let n = self.spatial_noise;
        if !(n[0].is_finite() && n[1].is_finite() && n[0] >= 0.0 && n[0] <= n[1]) {
            return bad(format!("spatial_noise = {n:?}: need finite 0 ≤ lo ≤ hi"));
        }
        Ok(())
    }

    /// Generate one simulation's input for the cell `segs` from `seed`.
    pub fn generate(&self, segs: &DendriticSegments, seed: u64) -> Result<PaperInput, StimulusError> {
        self.validate()?;
        let n_seg = segs.len();
        let duration = self.duration_ms as usize;
        let mut rng = xoshiro(seed);
        let t_c = jittered(&mut rng, &self.rate_change_interval_options_ms, self.rate_change_interval_jitter_ms);
        let sigma = jittered(&mut rng, &self.smoothing_sigma_options_ms, self.smoothing_sigma_jitter_ms);
        let n_intervals = duration.div_ceil(t_c as usize);

        // adjusted lengths and their per-tree sums (the rate is per µm of adjusted length)
        let adjusted: Vec<f64> = segs.segments.iter().map(|s| s.length_um + self.min_seg_length_um).collect();
        let mut tree_total = [0.0f64; 2];
        for (s, a) in segs.segments.iter().zip(&adjusted) {
            tree_total[tree_slot(s.tree)] += a;
        }

        // per interval: [basal exc, basal inh, apical exc, apical inh] counts per 100 ms
        let mut tree_counts = Vec::with_capacity(n_intervals);
        for _ in 0..n_intervals {
            let mut c = [0.0; 4];
            for (slot, ex_r, d) in [
                (0, self.basal_exc_per_100ms, self.basal_inh_minus_exc_per_100ms),
                (2, self.apical_exc_per_100ms, self.apical_inh_minus_exc_per_100ms),
            ] {
                let ex = rng.uniform_range(ex_r[0], ex_r[1]);
                c[slot] = ex;
                c[slot + 1] = rng.uniform_range((ex + d[0]).max(0.0), ex + d[1]);
            }
            tree_counts.push(c);
        }

        let kernels = IntervalKernels::new(t_c as usize, sigma as usize, duration);
        let mut raster = InputRaster::new(n_seg, self.duration_ms);
        let mut coarse = vec![0.0f64; n_intervals];
        let mut smooth = vec![0.0f64; duration];
        for row in 0..2 * n_seg {
            let seg = row % n_seg;
            let inh = usize::from(row >= n_seg);
            let tree = tree_slot(segs.segments[seg].tree);
            let slot = 2 * tree + inh;
            // counts per 100 ms → spikes per µm per ms → per segment per ms (spec §6.1 step 3)
            let scale = if tree_total[tree] > 0.0 { adjusted[seg] / (100.0 * tree_total[tree]) } else { 0.0 };
            for (k, c) in coarse.iter_mut().enumerate() {
                *c = tree_counts[k][slot] * scale * rng.uniform_range(self.spatial_noise[0], self.spatial_noise[1]);
            }
            kernels.smooth(&coarse, &mut smooth);
            for (t, &rate) in smooth.iter().enumerate() {
                // p ~ Exponential(mean = smoothed rate), spike iff U < p (spec §6.1 step 5)
                let p = rng.exponential(rate.max(0.0));
                if rng.uniform() < p {
                    raster.add_spike(row, t as u32)?;
                }
            }
        }
        let n_dropped_t0_spikes = if self.drop_t0_spikes { raster.drop_t0_spikes() } else { 0 };
        let realised = RealisedInput {
            seed,
            rate_change_interval_ms: t_c,
            smoothing_sigma_ms: sigma,
            n_exc_spikes: raster.n_spikes_of(super::SynKind::Exc),
            n_inh_spikes: raster.n_spikes_of(super::SynKind::Inh),
            n_dropped_t0_spikes,
        };
        Ok(PaperInput { raster, realised, tree_counts_per_100ms: tree_counts })
    }
}

/// What one generation drew (like the E files' `paper_input_params`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealisedInput {
    pub seed: u64,
    pub rate_change_interval_ms: u32,
    pub smoothing_sigma_ms: u32,
    pub n_exc_spikes: usize,
    pub n_inh_spikes: usize,
    pub n_dropped_t0_spikes: usize,
}

/// A generated input: the raster plus the drawn parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct PaperInput {
    pub raster: InputRaster,
    pub realised: RealisedInput,
    /// Per rate interval: [basal exc, basal inh, apical exc, apical inh] spikes per tree per 100 ms.
    pub tree_counts_per_100ms: Vec<[f64; 4]>,
}

fn tree_slot(tree: Tree) -> usize {
    match tree {
        Tree::Basal => 0,
        Tree::Apical => 1,
    }
}

/// options[uniform index] + trunc(U(−j, j)); validation guarantees the result is ≥ 1.
fn jittered(rng: &mut Xoshiro, options: &[u32], jitter_ms: u32) -> u32 {
    let base = i64::from(options[rng.below(options.len() as u64) as usize]);
    let j = f64::from(jitter_ms);
    let jitter = (2.0 * j * rng.uniform() - j).trunc() as i64;
    (base + jitter).max(1) as u32
}

/// Gaussian smoothing of a rate held constant over intervals of `t_c` bins, exactly as the
/// original's `signal.convolve(rate, gaussian(1 + 7σ, σ)/sum, mode='same')` with zero padding.
/// Convolution is linear and every full interval has the same shape, so the result is a sum of
/// shifted copies of one precomputed kernel per interval length (the last interval may be
/// cropped): cost n_intervals · (t_c + window) per row instead of duration · window.
pub(crate) struct IntervalKernels {
    t_c: usize,
    duration: usize,
    /// 'same' offset: output bin i reads the full convolution at i + (M − 1)/2.
    center: usize,
    full: Vec<f64>,
    last: Vec<f64>,
}

impl IntervalKernels {
    pub(crate) fn new(t_c: usize, sigma: usize, duration: usize) -> IntervalKernels {
        let m = 1 + 7 * sigma;
        let half = (m as f64 - 1.0) / 2.0;
        let s = sigma as f64;
        let w: Vec<f64> = (0..m).map(|n| (-0.5 * ((n as f64 - half) / s).powi(2)).exp()).collect();
        let total: f64 = w.iter().sum();
        // cumulative normalised window: cum[k] = Σ_{n<k} w[n]/total
        let mut cum = Vec::with_capacity(m + 1);
        let mut acc = 0.0;
        cum.push(0.0);
        for v in &w {
            acc += v / total;
            cum.push(acc);
        }
        let n_intervals = duration.div_ceil(t_c);
        let last_len = duration - (n_intervals - 1) * t_c;
        let make = |len: usize| -> Vec<f64> {
            // kernel over u = i − a ∈ [−center, len − center + m − 1): Σ_{k} w[k] over the k with
            // i + center − k inside the interval [a, a + len)
            let c = Self::center_of(m) as i64;
            (0..len + m - 1)
                .map(|idx| {
                    let u = idx as i64 - c; // i − a
                    let hi = (u + c).min(m as i64 - 1); // k ≤ i + c − a
                    let lo = (u + c - len as i64 + 1).max(0); // k > i + c − a − len
                    if hi < lo {
                        0.0
                    } else {
                        cum[(hi + 1) as usize] - cum[lo as usize]
                    }
                })
                .collect()
        };
        IntervalKernels { t_c, duration, center: Self::center_of(m), full: make(t_c), last: make(last_len) }
    }

    fn center_of(m: usize) -> usize {
        (m - 1) / 2
    }

    /// `out[i]` = smoothed rate at bin i for interval values `coarse`.
    ///
    /// Each interval adds r·kernel to a run of output bins: one element-wise multiply and add per
    /// bin, in interval order, so the result is the same bit for bit however wide the vectors
    /// (a dataset is simulation k of its seed exactly; no fused multiply-add, which would round
    /// once instead of twice). The input generation is a tenth of a dataset simulation's time,
    /// nearly all of it here: where the CPU has AVX2 the loop runs as a copy compiled for it.
    pub(crate) fn smooth(&self, coarse: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above)
            unsafe { self.smooth_avx2(coarse, out) };
            return;
        }
        self.smooth_portable(coarse, out);
    }

    /// [`IntervalKernels::smooth`] compiled for AVX2 (the same operations in the same order).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn smooth_avx2(&self, coarse: &[f64], out: &mut [f64]) {
        self.smooth_portable(coarse, out);
    }

    #[inline(always)]
    fn smooth_portable(&self, coarse: &[f64], out: &mut [f64]) {
        out.iter_mut().for_each(|v| *v = 0.0);
        let n = coarse.len();
        for (k, &r) in coarse.iter().enumerate() {
            if r == 0.0 {
                continue;
            }
            let kernel = if k + 1 == n { &self.last } else { &self.full };
            let a = (k * self.t_c) as i64;
            // kernel index idx ↔ output bin a − center + idx
            let start = a - self.center as i64;
            let lo_idx = (-start).max(0) as usize;
            let hi_idx = ((self.duration as i64 - start).max(0) as usize).min(kernel.len());
            if lo_idx >= hi_idx {
                continue;
            }
            let first = (start + lo_idx as i64) as usize;
            let (Some(dst), Some(src)) = (out.get_mut(first..first + (hi_idx - lo_idx)), kernel.get(lo_idx..hi_idx)) else {
                continue;
            };
            for (o, &w) in dst.iter_mut().zip(src) {
                *o += r * w;
            }
        }
    }
}

#[cfg(test)]
#[path = "paper_protocol_tests.rs"]
mod tests;
