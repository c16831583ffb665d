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
    /// ms left out because the cell received current the twin does not see (somatic clamp,
    /// "inject pulse now", and [`crate::app::live::twin_feed::BLIND_AFTER_MS`] after it): no hits,
    /// misses, false alarms, RMSE or AUC are counted there.
    pub blind_ms: usize,
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
    /// Per ms: the twin was blind to the cell's input (see [`Agreement::blind_ms`]).
    pub blind: Vec<bool>,
}

impl Series {
    pub fn len(&self) -> usize {
        self.probability.len()
    }

    pub fn is_empty(&self) -> bool {
        self.probability.is_empty()
    }

    pub fn push(&mut self, cell_v_mv: f32, twin_v_mv: f32, probability: f32, blind: bool) {
        self.cell_v_mv.push(cell_v_mv);
        self.twin_v_mv.push(twin_v_mv);
        self.probability.push(probability);
        self.blind.push(blind);
    }

    /// Whether bin `k` of the run (absolute ms) is blind; bins outside the series are not.
    pub fn blind_at(&self, bin: usize) -> bool {
        bin.checked_sub(self.first_bin).and_then(|i| self.blind.get(i)).copied().unwrap_or(false)
    }

    /// Whether a spike at `t_ms` falls in a blind stretch (its bin or the one before).
    pub fn blind_spike(&self, t_ms: f64) -> bool {
        let b = t_ms.max(0.0).floor() as usize;
        self.blind_at(b) || b.checked_sub(1).is_some_and(|p| self.blind_at(p))
    }

    /// The blind stretches as `[from_ms, to_ms)` spans, in order.
    pub fn blind_spans_ms(&self) -> Vec<[f64; 2]> {
        let mut spans: Vec<[f64; 2]> = Vec::new();
        for (i, &b) in self.blind.iter().enumerate() {
            if !b {
                continue;
            }
            let t = (self.first_bin + i) as f64;
            match spans.last_mut() {
                Some(last) if last[1] == t => last[1] = t + 1.0,
                _ => spans.push([t, t + 1.0]),
            }
        }
        spans
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
    let blind = |k: usize| series.blind.get(k).copied().unwrap_or(false);
    let blind_ms = (0..n).filter(|&k| blind(k)).count();
    // spikes in blind stretches are the current's doing, not the twin's to predict
    let inside = |v: &[f64]| v.iter().copied().filter(|&t| t >= t0 && t < t1 + 1.0 && !series.blind_spike(t)).collect::<Vec<f64>>();
    let (cell, twin) = (inside(cell_spikes_ms), inside(twin_spikes_ms));
    let m = match_spikes(&cell, &twin, MATCH_TOLERANCE_MS);
    let (target, pred): (Vec<f64>, Vec<f64>) = series
        .cell_v_mv
        .iter()
        .zip(&series.twin_v_mv)
        .enumerate()
        .filter(|(k, (c, t))| c.is_finite() && t.is_finite() && !blind(*k))
        .map(|(_, (&c, &t))| (f64::from(c), f64::from(t)))
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
    let seen: Vec<usize> = (0..n).filter(|&k| !blind(k)).collect();
    let labels: Vec<bool> = seen.iter().map(|&k| labels[k]).collect();
    let positives = labels.iter().filter(|&&l| l).count();
    let auc = if cell.len() >= MIN_SPIKES_FOR_AUC && positives < labels.len() {
        let scores: Vec<f64> = seen.iter().map(|&k| f64::from(series.probability[k])).collect();
        roc_auc(&labels, &scores).ok()
    } else {
        None
    };
    Agreement {
        n_ms: n - blind_ms,
        blind_ms,
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
            s.push(-70.0, if k % 2 == 0 { -69.0 } else { -71.0 }, p, false);
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
    fn blind_stretches_are_left_out() {
        // 100 ms; a current pulse makes 40..60 blind: the cell spikes at 45 (the pulse's doing)
        // and at 80, the twin predicts only 80 and sits 10 mV off during the pulse
        let mut s = Series { first_bin: 0, ..Series::default() };
        for k in 0..100usize {
            let blind = (40..60).contains(&k);
            s.push(-70.0, if blind { -60.0 } else { -71.0 }, 0.1, blind);
        }
        let a = agreement(&s, &[45.0, 80.0], &[80.5]);
        assert_eq!((a.hits, a.misses, a.false_alarms, a.cell_spikes), (1, 0, 0, 1), "the pulse's spike is no miss");
        assert_eq!((a.n_ms, a.blind_ms), (80, 20));
        assert!((a.rmse_mv.expect("rmse") - 1.0).abs() < 1e-9, "the blind ms are not in the RMSE");
        assert_eq!(s.blind_spans_ms(), vec![[40.0, 60.0]]);
        let seen = agreement(&Series { blind: vec![false; 100], ..s.clone() }, &[45.0, 80.0], &[80.5]);
        assert_eq!((seen.misses, seen.blind_ms), (1, 0), "without the marking the pulse's spike is a miss");
    }

    #[test]
    fn spike_runs_match_prediction_spike_bins() {
        let p = [0.1, 0.6, 0.9, 0.7, 0.2, 0.8, 0.1];
        let mut r = SpikeRuns::new(0.5);
        let got: Vec<usize> = p.iter().enumerate().filter_map(|(k, &p)| r.push(100 + k, p)).collect();
        assert_eq!(got, vec![102, 105]);
    }
}
