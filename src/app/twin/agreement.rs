//! How well the twin agrees with the cell, ms by ms: hits, misses and false alarms of the twin's
//! spikes against the cell's (±5 ms), soma-voltage RMSE over the bins where both exist, and the
//! ROC AUC of the spike probability once the cell has spiked often enough. Used for the visible
//! window (in the UI, over ≤ 1000 ms) and the whole run (on the twin thread).

use crate::metrics::{roc::roc_auc, soma::rmse, spikes::match_spikes};

/// Spike-matching tolerance (ms).
pub const MATCH_TOLERANCE_MS: f64 = 5.0;
/// The AUC is shown once the cell has spiked this often.
pub const MIN_SPIKES_FOR_AUC: usize = 5;

/// Agreement numbers over one stretch of time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Agreement {
    /// ms compared.
    pub n_ms: usize,
    pub cell_spikes: usize,
    pub twin_spikes: usize,
    pub hits: usize,
    pub misses: usize,
    pub false_alarms: usize,
    /// Soma-voltage RMSE (mV), twin vs cell.
    pub rmse_mv: Option<f64>,
    /// ROC AUC of the spike probability against the cell's spikes (≥ 5 cell spikes).
    pub auc: Option<f64>,
}

/// The per-ms series to compare (equal lengths; bin k of the run is index k − first bin).
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub first_bin: usize,
    pub cell_v_mv: Vec<f32>,
    pub twin_v_mv: Vec<f32>,
    pub probability: Vec<f32>,
}

impl Series {
    pub fn len(&self) -> usize {
        self.probability.len()
    }

    pub fn is_empty(&self) -> bool {
        self.probability.is_empty()
    }

    pub fn push(&mut self, cell_v_mv: f32, twin_v_mv: f32, probability: f32) {
        self.cell_v_mv.push(cell_v_mv);
        self.twin_v_mv.push(twin_v_mv);
        self.probability.push(probability);
    }

    pub fn clear(&mut self, first_bin: usize) {
        *self = Series { first_bin, ..Series::default() };
    }
}

/// Compare `series` with the cell's spikes `cell_spikes_ms` and the twin's `twin_spikes_ms`
/// (both sorted; only those inside the series' time span count).
pub fn agreement(series: &Series, cell_spikes_ms: &[f64], twin_spikes_ms: &[f64]) -> Agreement {
    let n = series.len();
    if n == 0 {
        return Agreement::default();
    }
    let (t0, t1) = (series.first_bin as f64, (series.first_bin + n) as f64);
    let inside = |v: &[f64]| v.iter().copied().filter(|&t| t >= t0 && t < t1 + 1.0).collect::<Vec<f64>>();
    let (cell, twin) = (inside(cell_spikes_ms), inside(twin_spikes_ms));
    let m = match_spikes(&cell, &twin, MATCH_TOLERANCE_MS);
    let (target, pred): (Vec<f64>, Vec<f64>) = series
        .cell_v_mv
        .iter()
        .zip(&series.twin_v_mv)
        .filter(|(c, t)| c.is_finite() && t.is_finite())
        .map(|(&c, &t)| (f64::from(c), f64::from(t)))
        .unzip();
    let rmse_mv = (!target.is_empty()).then(|| rmse(&target, &pred));
    // the paper's binning: a spike at t belongs to bin int(t − 0.5)
    let mut labels = vec![false; n];
    for &t in &cell {
        let bin = (t - 0.5).floor();
        if bin >= t0 && bin < t1 {
            labels[bin as usize - series.first_bin] = true;
        }
    }
    let positives = labels.iter().filter(|&&l| l).count();
    let auc = if cell.len() >= MIN_SPIKES_FOR_AUC && positives < n {
        let scores: Vec<f64> = series.probability.iter().map(|&p| f64::from(p)).collect();
        roc_auc(&labels, &scores).ok()
    } else {
        None
    };
    Agreement {
        n_ms: n,
        cell_spikes: cell.len(),
        twin_spikes: twin.len(),
        hits: m.hits,
        misses: m.misses,
        false_alarms: m.false_alarms,
        rmse_mv,
        auc,
    }
}

/// Turns the spike probability, ms by ms, into predicted spikes: each run of bins at or above the
/// threshold is one spike at its most probable bin (`Prediction::spike_bins`, across chunks).
#[derive(Debug, Clone, Copy)]
pub struct SpikeRuns {
    pub threshold: f64,
    best: Option<(usize, f32)>,
}

impl SpikeRuns {
    pub fn new(threshold: f64) -> SpikeRuns {
        SpikeRuns { threshold, best: None }
    }

    /// Feed bin `bin`'s probability; returns a finished spike's bin.
    pub fn push(&mut self, bin: usize, p: f32) -> Option<usize> {
        if f64::from(p) >= self.threshold {
            if self.best.is_none_or(|(_, bp)| p > bp) {
                self.best = Some((bin, p));
            }
            None
        } else {
            self.best.take().map(|(b, _)| b)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_rmse_and_auc() {
        let mut s = Series { first_bin: 100, ..Series::default() };
        let spikes: [f64; 5] = [110.0, 130.0, 150.0, 170.0, 190.0];
        for k in 100..200usize {
            let p = if spikes.iter().any(|&t| (t - 0.5).floor() as usize == k) { 0.9 } else { 0.1 };
            s.push(-70.0, if k % 2 == 0 { -69.0 } else { -71.0 }, p);
        }
        let twin = [112.0, 131.0, 160.0];
        let a = agreement(&s, &spikes, &twin);
        assert_eq!((a.hits, a.misses, a.false_alarms), (2, 3, 1));
        assert!((a.rmse_mv.unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(a.auc, Some(1.0));
        let few = agreement(&s, &spikes[..2], &twin);
        assert_eq!(few.auc, None);
    }

    #[test]
    fn spike_runs_match_prediction_spike_bins() {
        let p = [0.1, 0.6, 0.9, 0.7, 0.2, 0.8, 0.1];
        let mut r = SpikeRuns::new(0.5);
        let got: Vec<usize> = p.iter().enumerate().filter_map(|(k, &p)| r.push(100 + k, p)).collect();
        assert_eq!(got, vec![102, 105]);
    }
}
