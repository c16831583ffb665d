//! Deletion faithfulness of the twin's attributions, judged by the engine: for every somatic
//! spike of a run, delete (inside the twin's window before the spike) the spikes of the k
//! top-attributed input rows, or of k rows drawn at random among the rows active in the window,
//! re-simulate from a checkpoint at the window start, and count how often the spike disappears.

use super::whatif::{simulate, Checkpoint, EngineTrace};
use super::{attribute, delete_spikes, spike_bin, AttributionError};
use crate::biophysics::Cell;
use crate::rng::{xoshiro, Draw, Xoshiro};
use crate::stimulus::{DendriticSegments, InputRaster};
use crate::surrogate::NativeNet;
use serde::Serialize;

/// Options of [`deletion_faithfulness`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaithfulnessOptions {
    /// Input rows deleted per trial.
    pub k: usize,
    /// Random-deletion trials per spike.
    pub random_trials: usize,
    /// A spike survives when the edited run spikes within this many ms of it.
    pub tolerance_ms: f64,
    pub seed: u64,
    pub ampa_only: bool,
}

impl Default for FaithfulnessOptions {
    fn default() -> Self {
        FaithfulnessOptions { k: 20, random_trials: 5, tolerance_ms: 5.0, seed: 1, ampa_only: false }
    }
}

/// One somatic spike of the original run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpikeTrial {
    pub spike_ms: f64,
    /// The twin's bin and spike probability there.
    pub bin_ms: usize,
    pub twin_probability: f32,
    /// Rows with spikes in the window.
    pub active_rows: usize,
    /// Deleting the top-k rows abolished the spike.
    pub top_abolished: bool,
    /// The twin's probability after deleting the top-k rows.
    pub twin_probability_top_deleted: f32,
    /// Random trials that abolished the spike, of `random_trials`.
    pub random_abolished: usize,
    pub random_trials: usize,
}

/// Result of [`deletion_faithfulness`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Faithfulness {
    pub k: usize,
    pub tolerance_ms: f64,
    pub trials: Vec<SpikeTrial>,
}

impl Faithfulness {
    /// Fraction of spikes abolished by deleting the top-k attributed rows; `None` when the run
    /// had no somatic spike (nothing to abolish, the fraction is undefined).
    pub fn top_rate(&self) -> Option<f64> {
        let n = self.trials.len();
        (n > 0).then(|| self.trials.iter().filter(|t| t.top_abolished).count() as f64 / n as f64)
    }

    /// Fraction of random trials (over all spikes) that abolished the spike; `None` when no random
    /// trial was made (no spikes, or 0 random trials).
    pub fn random_rate(&self) -> Option<f64> {
        let n: usize = self.trials.iter().map(|t| t.random_trials).sum();
        (n > 0).then(|| self.trials.iter().map(|t| t.random_abolished).sum::<usize>() as f64 / n as f64)
    }
}

/// `k` distinct rows drawn uniformly from `pool` (all of it when it is smaller).
fn draw(pool: &[usize], k: usize, rng: &mut Xoshiro) -> Vec<usize> {
    let mut p = pool.to_vec();
    let k = k.min(p.len());
    for i in 0..k {
        let j = i + rng.below((p.len() - i) as u64) as usize;
        p.swap(i, j);
    }
    p.truncate(k);
    p
}

/// Run the deletion test over every somatic spike the engine fires on `raster`. Returns the
/// uninterrupted run too.
pub fn deletion_faithfulness(
    tcn: &NativeNet,
    cell: &Cell,
    segs: &DendriticSegments,
    soma_node: usize,
    raster: &InputRaster,
    opts: &FaithfulnessOptions,
) -> Result<(Faithfulness, EngineTrace), AttributionError> {
    let duration = f64::from(raster.duration_ms());
    let original = simulate(cell, segs, soma_node, raster, duration, opts.ampa_only)?;
    let mut cp = Checkpoint::new(cell, segs, soma_node, raster, 0, opts.ampa_only, &[])?;
    let mut rng = xoshiro(opts.seed);
    let mut trials = Vec::new();
    for &spike_ms in &original.spike_times_ms {
        let bin = spike_bin(spike_ms);
        if bin >= raster.duration_ms() as usize {
            continue;
        }
        let attr = attribute(tcn, raster, segs, bin)?;
        let (from, to) = (attr.window_from_ms, attr.t_ms);
        cp.advance_to(from as u32)?;
        let end = (spike_ms + opts.tolerance_ms + 1.0).min(duration);
        let top = attr.top_rows(opts.k);
        let edited = delete_spikes(raster, &top, from, to)?;
        let top_abolished = !cp.run(&edited, end)?.has_spike_near(spike_ms, opts.tolerance_ms);
        let twin_probability_top_deleted = tcn.probability_at(edited.rows(), bin).map_err(AttributionError::Model)?;
        let pool: Vec<usize> = attr.ranking.iter().map(|s| s.row).collect();
        let mut random_abolished = 0;
        for _ in 0..opts.random_trials {
            let rows = draw(&pool, opts.k, &mut rng);
            let edited = delete_spikes(raster, &rows, from, to)?;
            if !cp.run(&edited, end)?.has_spike_near(spike_ms, opts.tolerance_ms) {
                random_abolished += 1;
            }
        }
        trials.push(SpikeTrial {
            spike_ms,
            bin_ms: bin,
            twin_probability: attr.probability,
            active_rows: pool.len(),
            top_abolished,
            twin_probability_top_deleted,
            random_abolished,
            random_trials: opts.random_trials,
        });
    }
    Ok((Faithfulness { k: opts.k, tolerance_ms: opts.tolerance_ms, trials }, original))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(top_abolished: bool, random_abolished: usize, random_trials: usize) -> SpikeTrial {
        SpikeTrial {
            spike_ms: 10.0,
            bin_ms: 10,
            twin_probability: 0.5,
            active_rows: 3,
            top_abolished,
            twin_probability_top_deleted: 0.1,
            random_abolished,
            random_trials,
        }
    }

    #[test]
    fn rates_are_undefined_without_spikes_or_trials_never_nan() {
        let none = Faithfulness { k: 20, tolerance_ms: 2.0, trials: Vec::new() };
        assert_eq!((none.top_rate(), none.random_rate()), (None, None));
        let no_random = Faithfulness { k: 20, tolerance_ms: 2.0, trials: vec![trial(true, 0, 0), trial(false, 0, 0)] };
        assert_eq!((no_random.top_rate(), no_random.random_rate()), (Some(0.5), None));
        let some = Faithfulness { k: 20, tolerance_ms: 2.0, trials: vec![trial(true, 1, 4), trial(true, 0, 4)] };
        assert_eq!((some.top_rate(), some.random_rate()), (Some(1.0), Some(0.125)));
    }
}
