//! How well the twin agrees with the cell, ms by ms: hits, misses and false alarms of the twin's
//! spikes against the cell's (±5 ms), soma-voltage RMSE over the bins where both exist, and the
//! ROC AUC of the spike probability once the cell has spiked often enough. Used for the visible
//! window (in the UI, over ≤ 1000 ms) and the whole run (on the twin thread).

use crate::metrics::{roc::roc_auc, spikes::match_spikes};

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

    fn marks(&self) -> Marks<'_> {
        Marks { first_bin: self.first_bin, probability: Blocks::whole(&self.probability), blind: Blocks::whole(&self.blind) }
    }

    /// Whether bin `k` of the run (absolute ms) is blind; bins outside the series are not.
    pub fn blind_at(&self, bin: usize) -> bool {
        self.marks().blind_at(bin)
    }

    /// Whether a spike at `t_ms` falls in a blind stretch (its bin or the one before).
    pub fn blind_spike(&self, t_ms: f64) -> bool {
        self.marks().blind_spike(t_ms)
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

/// ms per block of a [`RunRecord`] (256 KB of probabilities).
pub const RUN_BLOCK_MS: usize = 65_536;

/// The whole run as its agreement needs it, 5 bytes per ms instead of a [`Series`]' 13: the spike
/// probability (kept whole, so that a new threshold recounts the run's predicted spikes exactly)
/// and the blind marks, while the two soma voltages are folded into the RMSE's running sums as
/// they arrive. Held in fixed blocks of [`RUN_BLOCK_MS`], never reallocated: memory grows by the
/// 5 bytes per ms and nothing else (a doubling vector would jump by its whole size, twice a run's
/// length in copies), 18 MB per twin for an hour of run.
#[derive(Debug, Clone, Default)]
pub struct RunRecord {
    pub first_bin: usize,
    probability: Vec<Vec<f32>>,
    blind: Vec<Vec<bool>>,
    len: usize,
    /// Σ (cell − twin)² over the seen ms where both voltages are finite (mV²).
    sq_sum_mv2: f64,
    n_v: usize,
}

impl RunRecord {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Append one ms (as [`Series::push`]).
    pub fn push(&mut self, cell_v_mv: f32, twin_v_mv: f32, probability: f32, blind: bool) {
        if cell_v_mv.is_finite() && twin_v_mv.is_finite() && !blind {
            let d = f64::from(cell_v_mv) - f64::from(twin_v_mv);
            self.sq_sum_mv2 += d * d;
            self.n_v += 1;
        }
        if self.len.is_multiple_of(RUN_BLOCK_MS) {
            self.probability.push(Vec::with_capacity(RUN_BLOCK_MS));
            self.blind.push(Vec::with_capacity(RUN_BLOCK_MS));
        }
        if let (Some(p), Some(b)) = (self.probability.last_mut(), self.blind.last_mut()) {
            p.push(probability);
            b.push(blind);
            self.len += 1;
        }
    }

    /// The spike probability of every ms, in order.
    pub fn probabilities(&self) -> impl Iterator<Item = f32> + '_ {
        self.probability.iter().flat_map(|b| b.iter().copied())
    }

    /// Bytes held (the blocks' capacity).
    pub fn bytes(&self) -> usize {
        self.probability.iter().map(|b| b.capacity() * std::mem::size_of::<f32>()).sum::<usize>() + self.blind.iter().map(Vec::capacity).sum::<usize>()
    }

    pub fn clear(&mut self, first_bin: usize) {
        *self = RunRecord { first_bin, ..RunRecord::default() };
    }

    /// The same numbers [`agreement`] gives for the [`Series`] of these ms.
    pub fn agreement(&self, cell_spikes_ms: &[f64], twin_spikes_ms: &[f64]) -> Agreement {
        let rmse_mv = (self.n_v > 0).then(|| (self.sq_sum_mv2 / self.n_v as f64).sqrt());
        agreement_of(&self.marks(), rmse_mv, cell_spikes_ms, twin_spikes_ms)
    }

    fn marks(&self) -> Marks<'_> {
        Marks { first_bin: self.first_bin, probability: Blocks::new(&self.probability, RUN_BLOCK_MS, self.len), blind: Blocks::new(&self.blind, RUN_BLOCK_MS, self.len) }
    }
}

/// A per-ms column read through blocks of `block` ms (one block: a plain vector).
#[derive(Clone, Copy)]
struct Blocks<'a, T> {
    blocks: &'a [Vec<T>],
    block: usize,
    len: usize,
}

impl<'a, T: Copy> Blocks<'a, T> {
    fn new(blocks: &'a [Vec<T>], block: usize, len: usize) -> Self {
        Blocks { blocks, block: block.max(1), len }
    }

    fn whole(v: &'a Vec<T>) -> Self {
        Blocks::new(std::slice::from_ref(v), v.len(), v.len())
    }

    fn get(&self, k: usize) -> Option<T> {
        if k >= self.len {
            return None;
        }
        self.blocks.get(k / self.block).and_then(|b| b.get(k % self.block)).copied()
    }

    fn iter(&self) -> impl Iterator<Item = T> + 'a {
        self.blocks.iter().flat_map(|b| b.iter().copied()).take(self.len)
    }
}

/// What the spike and AUC parts of the agreement read: the probability and the blind marks.
struct Marks<'a> {
    first_bin: usize,
    probability: Blocks<'a, f32>,
    blind: Blocks<'a, bool>,
}

impl Marks<'_> {
    fn blind_at(&self, bin: usize) -> bool {
        bin.checked_sub(self.first_bin).and_then(|i| self.blind.get(i)).unwrap_or(false)
    }

    fn blind_spike(&self, t_ms: f64) -> bool {
        let b = t_ms.max(0.0).floor() as usize;
        self.blind_at(b) || b.checked_sub(1).is_some_and(|p| self.blind_at(p))
    }
}

/// Compare `series` with the cell's spikes `cell_spikes_ms` and the twin's `twin_spikes_ms`
/// (both sorted; only those inside the series' time span count).
pub fn agreement(series: &Series, cell_spikes_ms: &[f64], twin_spikes_ms: &[f64]) -> Agreement {
    // RMSE over the ms the twin saw, summed in order (no copies of the series)
    let (mut sq_sum, mut n_v) = (0.0f64, 0usize);
    for k in 0..series.len() {
        let (c, t) = (series.cell_v_mv[k], series.twin_v_mv[k]);
        if c.is_finite() && t.is_finite() && !series.blind.get(k).copied().unwrap_or(false) {
            let d = f64::from(c) - f64::from(t);
            sq_sum += d * d;
            n_v += 1;
        }
    }
    let rmse_mv = (n_v > 0).then(|| (sq_sum / n_v as f64).sqrt());
    agreement_of(&series.marks(), rmse_mv, cell_spikes_ms, twin_spikes_ms)
}

fn agreement_of(series: &Marks<'_>, rmse_mv: Option<f64>, cell_spikes_ms: &[f64], twin_spikes_ms: &[f64]) -> Agreement {
    let n = series.probability.len;
    if n == 0 {
        return Agreement::default();
    }
    let (t0, t1) = (series.first_bin as f64, (series.first_bin + n) as f64);
    let blind = |k: usize| series.blind.get(k).unwrap_or(false);
    let blind_ms = series.blind.iter().take(n).filter(|&b| b).count();
    // spikes in blind stretches are the current's doing, not the twin's to predict
    let inside = |v: &[f64]| v.iter().copied().filter(|&t| t >= t0 && t < t1 + 1.0 && !series.blind_spike(t)).collect::<Vec<f64>>();
    let (cell, twin) = (inside(cell_spikes_ms), inside(twin_spikes_ms));
    let m = match_spikes(&cell, &twin, MATCH_TOLERANCE_MS);
    // the paper's binning: a spike at t belongs to bin int(t − 0.5); `cell` is sorted
    let mut positive_bins: Vec<usize> = cell
        .iter()
        .map(|&t| (t - 0.5).floor())
        .filter(|&b| b >= t0 && b < t1)
        .map(|b| b as usize - series.first_bin)
        .filter(|&k| !blind(k))
        .collect();
    positive_bins.dedup();
    let positives = positive_bins.len();
    let seen_ms = n - blind_ms;
    let auc = if cell.len() >= MIN_SPIKES_FOR_AUC && positives < seen_ms {
        if seen_ms <= EXACT_AUC_MAX_MS {
            let mut labels = vec![false; n];
            for &k in &positive_bins {
                labels[k] = true;
            }
            let seen: Vec<usize> = (0..n).filter(|&k| !blind(k)).collect();
            let labels: Vec<bool> = seen.iter().map(|&k| labels[k]).collect();
            let scores: Vec<f64> = seen.iter().map(|&k| f64::from(series.probability.get(k).unwrap_or(f32::NAN))).collect();
            roc_auc(&labels, &scores).ok()
        } else {
            binned_auc(series.probability.iter(), &positive_bins, &blind)
        }
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

/// Up to this many ms the AUC is exact (sorted scores); longer series (a whole run past a few
/// minutes, recomputed every second) use [`binned_auc`], which allocates nothing and takes O(n).
pub const EXACT_AUC_MAX_MS: usize = 120_000;

/// Bins of the AUC histogram over the spike logit, from −[`AUC_LOGIT_SPAN`] to +.
const AUC_BINS: usize = 4096;
const AUC_LOGIT_SPAN: f64 = 16.0;

/// ROC AUC from histograms of the spike logit (4096 bins over ±16; scores in one bin count as
/// ties, half): within 1e-4 of the exact AUC for a twin's probabilities, with no allocation
/// in proportion to the series (the whole run's agreement, hours long, is recomputed every
/// second on the twin's thread). `positive_bins`: sorted indices of the spike bins.
pub fn binned_auc(probability: impl Iterator<Item = f32>, positive_bins: &[usize], blind: &dyn Fn(usize) -> bool) -> Option<f64> {
    let mut pos = vec![0u64; AUC_BINS];
    let mut neg = vec![0u64; AUC_BINS];
    let mut next = positive_bins.iter().peekable();
    for (k, p) in probability.enumerate() {
        let is_pos = next.peek().is_some_and(|&&b| b == k);
        if is_pos {
            next.next();
        }
        if blind(k) || !p.is_finite() {
            continue;
        }
        let p = f64::from(p).clamp(1e-12, 1.0 - 1e-12);
        let logit = (p / (1.0 - p)).ln();
        let bin = (((logit + AUC_LOGIT_SPAN) / (2.0 * AUC_LOGIT_SPAN)) * AUC_BINS as f64).floor().clamp(0.0, (AUC_BINS - 1) as f64) as usize;
        if is_pos {
            pos[bin] += 1;
        } else {
            neg[bin] += 1;
        }
    }
    let (n_pos, n_neg) = (pos.iter().sum::<u64>() as f64, neg.iter().sum::<u64>() as f64);
    if n_pos == 0.0 || n_neg == 0.0 {
        return None;
    }
    // pairs with the positive above the negative, plus half the ties
    let (mut below, mut wins) = (0.0f64, 0.0f64);
    for b in 0..AUC_BINS {
        wins += pos[b] as f64 * (below + 0.5 * neg[b] as f64);
        below += neg[b] as f64;
    }
    Some(wins / (n_pos * n_neg))
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
    fn binned_auc_is_the_exact_auc_within_1e_4() {
        // 200 s of a twin-like probability: spikes where it is high, noise elsewhere
        use crate::rng::Draw;
        let mut rng = crate::rng::xoshiro(7);
        let mut s = Series { first_bin: 0, ..Series::default() };
        let mut spikes = Vec::new();
        for k in 0..200_000usize {
            let u = rng.uniform();
            let spike = u < 0.002;
            let p = if spike { 0.02 + 0.9 * rng.uniform() } else { (0.3 * rng.uniform()).powi(3) };
            if spike {
                spikes.push(k as f64 + 1.0);
            }
            s.push(-70.0, -70.5, p as f32, false);
        }
        let fast = agreement(&s, &spikes, &[]);
        assert!(s.len() > EXACT_AUC_MAX_MS);
        let head = Series { first_bin: 0, cell_v_mv: s.cell_v_mv[..EXACT_AUC_MAX_MS].to_vec(), twin_v_mv: s.twin_v_mv[..EXACT_AUC_MAX_MS].to_vec(), probability: s.probability[..EXACT_AUC_MAX_MS].to_vec(), blind: s.blind[..EXACT_AUC_MAX_MS].to_vec() };
        let exact = agreement(&head, &spikes, &[]).auc.expect("exact");
        let binned_head = {
            let bins: Vec<usize> = spikes.iter().map(|&t| (t - 0.5).floor() as usize).filter(|&b| b < EXACT_AUC_MAX_MS).collect();
            binned_auc(head.probability.iter().copied(), &bins, &|_| false).expect("binned")
        };
        assert!((exact - binned_head).abs() < 1e-4, "exact {exact}, binned {binned_head}");
        assert!(fast.auc.is_some_and(|a| a > 0.9));
        assert!((fast.rmse_mv.expect("rmse") - 0.5).abs() < 1e-6);
    }

    #[test]
    fn run_record_agrees_with_the_series() {
        // the whole-run record folds the voltages into sums: same numbers as the full series,
        // through blind stretches, NaN voltages, the exact AUC and the binned one
        use crate::rng::Draw;
        let mut rng = crate::rng::xoshiro(11);
        for n in [5_000usize, EXACT_AUC_MAX_MS + 3_000] {
            let (mut s, mut r) = (Series { first_bin: 40, ..Series::default() }, RunRecord::default());
            r.clear(40);
            let mut spikes = Vec::new();
            for k in 0..n {
                let bin = 40 + k;
                let spike = rng.uniform() < 0.004;
                if spike {
                    spikes.push(bin as f64 + 0.5 + 0.4 * rng.uniform());
                }
                let p = if spike { 0.1 + 0.8 * rng.uniform() } else { 0.2 * rng.uniform() };
                let blind = (k / 700) % 9 == 4;
                let cell = if k % 997 == 3 { f32::NAN } else { -70.0 + 5.0 * rng.uniform() as f32 };
                let twin = -70.0 + 5.0 * rng.uniform() as f32;
                s.push(cell, twin, p as f32, blind);
                r.push(cell, twin, p as f32, blind);
            }
            let twin_spikes: Vec<f64> = spikes.iter().step_by(2).map(|t| t + 2.0).collect();
            let (a, b) = (agreement(&s, &spikes, &twin_spikes), r.agreement(&spikes, &twin_spikes));
            assert!(a.blind_ms > 0 && a.cell_spikes >= MIN_SPIKES_FOR_AUC && a.auc.is_some(), "{a:?}");
            assert_eq!((a.n_ms, a.blind_ms, a.cell_spikes, a.twin_spikes, a.hits, a.misses, a.false_alarms), (b.n_ms, b.blind_ms, b.cell_spikes, b.twin_spikes, b.hits, b.misses, b.false_alarms));
            assert_eq!(a.auc, b.auc);
            let (ra, rb) = (a.rmse_mv.expect("rmse"), b.rmse_mv.expect("rmse"));
            assert!((ra - rb).abs() < 1e-9, "{ra} vs {rb}");
            assert_eq!(r.len(), n);
            assert!(r.probabilities().eq(s.probability.iter().copied()), "the threshold recount reads the same probabilities");
            // fixed blocks: memory in step with the ms recorded, never a doubled vector
            assert_eq!(r.bytes(), n.div_ceil(RUN_BLOCK_MS) * RUN_BLOCK_MS * 5);
        }
    }

    #[test]
    fn spike_runs_match_prediction_spike_bins() {
        let p = [0.1, 0.6, 0.9, 0.7, 0.2, 0.8, 0.1];
        let mut r = SpikeRuns::new(0.5);
        let got: Vec<usize> = p.iter().enumerate().filter_map(|(k, &p)| r.push(100 + k, p)).collect();
        assert_eq!(got, vec![102, 105]);
    }
}
