//! The paper's evaluation of a surrogate on a dataset written by `neurotwin dataset`
//! (paper-dnn.md §5, same definitions as `training/evaluate.py`): every (simulation, 1-ms bin)
//! after the first 500 ms; spike labels at bin `int(t − 0.5)` of each output spike; ROC AUC with
//! exact bin matching; TPR at FPR 0.25 % and 1 %; somatic RMSE and explained variance against the
//! voltage clipped as in training, raw and after the paper's rescaling.

use super::fit::{CellInputs, Fit};
use super::model::SurrogateModel;
use super::predict::{PredictOptions, Prediction};
use super::SurrogateError;
use crate::dataset::Dataset;
use crate::metrics::{roc_curve, OperatingPoint, SomaMetrics};
use serde::Serialize;
use std::time::Instant;

/// Options of [`evaluate_dataset`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvalOptions {
    /// Bins before this are not scored (the paper: 500 ms).
    pub ignore_first_ms: usize,
    /// Skip this many simulations (in shard order) before evaluating.
    pub first_sim: usize,
    /// Evaluate at most this many simulations.
    pub max_sims: Option<usize>,
    /// False-positive rates for the TPR operating points.
    pub fprs: Vec<f64>,
    /// The paper's headline subset: simulations with at most this many output spikes per 6 s.
    pub max_spikes_per_6s: usize,
    pub predict: PredictOptions,
    /// Predict with the model's native evaluation when it has one (verified against the ONNX
    /// outputs at load; much faster than a dense ONNX run); `false`: always the ONNX backend.
    pub native: bool,
    /// Check each shard's files against the sizes and SHA-256 in the manifest before reading it
    /// (`false`: `--no-verify`; the evaluation then says so).
    pub verify: bool,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            ignore_first_ms: 500,
            first_sim: 0,
            max_sims: None,
            fprs: vec![0.0025, 0.01],
            max_spikes_per_6s: 24,
            predict: PredictOptions::default(),
            native: true,
            verify: true,
        }
    }
}

/// Metrics over one set of simulations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubsetMetrics {
    pub n_sims: usize,
    pub n_bins: usize,
    pub n_spike_bins: usize,
    /// `None` when the set has no spike bins (or only spike bins): ROC undefined.
    pub auc: Option<f64>,
    pub at_fpr: Vec<OperatingPointJson>,
    pub soma: Option<SomaMetrics>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OperatingPointJson {
    pub target_fpr: f64,
    pub tpr: f64,
    pub fpr: f64,
    /// On the spike probability.
    pub threshold: f64,
}

impl From<OperatingPoint> for OperatingPointJson {
    fn from(p: OperatingPoint) -> Self {
        OperatingPointJson { target_fpr: p.target_fpr, tpr: p.tpr, fpr: p.fpr, threshold: p.threshold }
    }
}

/// How one of the model's shipped spike thresholds (metadata `spike_thresholds`, chosen on the
/// training side's validation data) does on this dataset: the false-positive rate a user of
/// `predict --fpr` or the app actually gets, beside the rate it was chosen for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ThresholdCheck {
    pub target_fpr: f64,
    /// Spike where the probability is ≥ this.
    pub probability: f64,
    pub tpr: f64,
    pub fpr: f64,
}

/// TPR and FPR of the rule "spike where prob ≥ threshold" (`None` without both classes).
pub fn rates_at_threshold(labels: &[bool], prob: &[f64], threshold: f64) -> Option<(f64, f64)> {
    let (mut tp, mut fp, mut pos, mut neg) = (0usize, 0usize, 0usize, 0usize);
    for (&l, &p) in labels.iter().zip(prob) {
        let hit = p >= threshold;
        if l {
            pos += 1;
            tp += usize::from(hit);
        } else {
            neg += 1;
            fp += usize::from(hit);
        }
    }
    (pos > 0 && neg > 0).then(|| (tp as f64 / pos as f64, fp as f64 / neg as f64))
}

/// The "unbiased" threshold: where the twin predicts as many spikes as the cell fired in the
/// scored bins (the highest threshold with at least as many; on thousands of bins the counts
/// meet), counting each run of consecutive bins ≥ the threshold as one predicted spike (as
/// the app and `predict` do).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CountMatched {
    pub probability: f64,
    pub predicted_spikes: usize,
    pub true_spikes: usize,
    /// Bin-wise rates of "spike where prob ≥ probability".
    pub tpr: f64,
    pub fpr: f64,
}

/// Runs of consecutive values ≥ `threshold`.
fn count_runs(prob: &[f64], threshold: f64) -> usize {
    let mut n = 0;
    let mut inside = false;
    for &p in prob {
        let above = p >= threshold;
        n += usize::from(above && !inside);
        inside = above;
    }
    n
}

/// [`CountMatched`] over simulations' probability traces (each its own runs) and labels, on the
/// high-threshold side of the run count's peak; `None` without spikes or when no threshold gives
/// as many runs as spikes.
pub fn count_matched_threshold(probs: &[&[f64]], labels: &[bool]) -> Option<CountMatched> {
    let true_spikes = labels.iter().filter(|&&l| l).count();
    if true_spikes == 0 {
        return None;
    }
    let runs = |th: f64| probs.iter().map(|p| count_runs(p, th)).sum::<usize>();
    let sig = |z: f64| 1.0 / (1.0 + (-z).exp());
    // the run count rises from 0 as the threshold falls, then falls again (runs merge) towards one
    // run per trace: walk down from the top on a coarse logit grid to the first threshold with at
    // least as many runs as spikes, then bisect between it and the grid point above
    let mut hi = 30.0f64;
    let mut lo = None;
    let mut z = hi;
    while z >= -30.0 {
        if runs(sig(z)) >= true_spikes {
            lo = Some(z);
            break;
        }
        hi = z;
        z -= 0.25;
    }
    let mut lo = lo?;
    for _ in 0..50 {
        let mid = 0.5 * (lo + hi);
        if runs(sig(mid)) >= true_spikes {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // the highest threshold with at least as many predicted spikes as the cell's
    let hi = lo;
    let probability = sig(hi);
    let all: Vec<f64> = probs.iter().flat_map(|p| p.iter().copied()).collect();
    let (tpr, fpr) = rates_at_threshold(labels, &all, probability)?;
    Some(CountMatched { probability, predicted_spikes: runs(probability), true_spikes, tpr, fpr })
}

/// Result of [`evaluate_dataset`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub model: String,
    pub backend: String,
    pub ignore_first_ms: usize,
    pub all: SubsetMetrics,
    /// The model's own thresholds on all simulations, by target FPR (empty without both classes).
    pub at_model_thresholds: Vec<ThresholdCheck>,
    /// Simulations with ≤ `max_spikes_per_6s` output spikes per 6 s (scaled to the duration).
    pub low_rate: SubsetMetrics,
    /// The threshold at which the predicted spike count matches the cell's, on all simulations.
    pub count_matched: Option<CountMatched>,
    pub max_spikes_per_6s: usize,
    pub predict_wall_s: f64,
    /// Simulated ms predicted per wall-clock second.
    pub ms_per_s: f64,
    /// Set when the dataset's morphology differs from the model's but the rows agree.
    pub warning: Option<String>,
    /// Whether the shards read were checked against the manifest's sizes and SHA-256 (false only
    /// with `--no-verify`).
    pub shards_verified: bool,
}

struct Scored {
    labels: Vec<bool>,
    prob: Vec<f64>,
    v_true_mv: Vec<f64>,
    v_pred_mv: Vec<f64>,
    n_out_spikes: usize,
}

/// Spike labels per 1-ms bin: spike at t ms → bin `int(t − 0.5)`, clamped to the trace.
pub fn spike_labels(spike_times_ms: &[f64], duration_ms: usize) -> Vec<bool> {
    let mut y = vec![false; duration_ms];
    for &t in spike_times_ms {
        let b = ((t - 0.5).trunc().max(0.0) as usize).min(duration_ms.saturating_sub(1));
        if let Some(v) = y.get_mut(b) {
            *v = true;
        }
    }
    y
}

/// Predict and score the simulations of a dataset.
pub fn evaluate_dataset(model: &mut SurrogateModel, ds: &Dataset, opts: &EvalOptions) -> Result<Evaluation, SurrogateError> {
    let cell = CellInputs { fingerprint: ds.definition.morphology_fingerprint.clone(), n_rows: 2 * ds.definition.n_segments };
    let warning = match model.metadata().fit(&cell)? {
        Fit::Exact => None,
        Fit::RowsOnly => Some(model.metadata().rows_only_warning(&cell)),
    };
    let clip = model.metadata().target_transforms.soma;
    let mut scored = Vec::new();
    let (mut seen, mut predicted_ms, mut wall_s) = (0usize, 0usize, 0.0f64);
    'shards: for index in ds.done_shards() {
        if opts.verify {
            ds.check(index)?;
        }
        let shard = ds.read_shard(index)?;
        for (i, raster) in shard.rasters.iter().enumerate() {
            seen += 1;
            if seen <= opts.first_sim {
                continue;
            }
            if opts.max_sims.is_some_and(|m| scored.len() >= m) {
                break 'shards;
            }
            let t0 = Instant::now();
            let pred: Prediction = match model.native().filter(|_| opts.native) {
                Some(tcn) => {
                    let n = raster.duration_ms() as usize;
                    let raw = tcn.run(&super::tcn::active_rows(raster.rows(), 0, n)).map_err(SurrogateError::BadInput)?;
                    Prediction::from_raw(raw.view(), model.metadata(), 0)
                }
                None => model.predict_raster(raster, &opts.predict)?,
            };
            wall_s += t0.elapsed().as_secs_f64();
            let d = pred.len_ms();
            predicted_ms += d;
            let from = opts.ignore_first_ms.min(d);
            let spikes = &shard.out_spike_times_ms[i];
            let soma = &shard.soma_v[i];
            if soma.len() < d {
                return Err(SurrogateError::Shape(format!("shard {index} simulation {i}: {} soma samples for {d} ms", soma.len())));
            }
            scored.push(Scored {
                labels: spike_labels(spikes, d)[from..].to_vec(),
                prob: pred.spike_probability[from..].iter().map(|&p| f64::from(p)).collect(),
                v_true_mv: soma[from..d].iter().map(|&v| clip.clip_mv(f64::from(v))).collect(),
                v_pred_mv: pred.soma_v_mv[from..].iter().map(|&v| f64::from(v)).collect(),
                n_out_spikes: spikes.len(),
            });
        }
    }
    let duration = ds.definition.protocol.duration_ms as f64;
    let limit = opts.max_spikes_per_6s as f64 * duration / 6000.0;
    let all: Vec<&Scored> = scored.iter().collect();
    let low: Vec<&Scored> = scored.iter().filter(|s| s.n_out_spikes as f64 <= limit).collect();
    let labels: Vec<bool> = all.iter().flat_map(|s| s.labels.iter().copied()).collect();
    let prob: Vec<f64> = all.iter().flat_map(|s| s.prob.iter().copied()).collect();
    let at_model_thresholds = model
        .metadata()
        .spike_thresholds
        .values()
        .filter_map(|th| {
            rates_at_threshold(&labels, &prob, th.probability)
                .map(|(tpr, fpr)| ThresholdCheck { target_fpr: th.fpr_target, probability: th.probability, tpr, fpr })
        })
        .collect();
    Ok(Evaluation {
        model: model.metadata().name.clone(),
        backend: match model.native().filter(|_| opts.native) {
            Some(_) => model.native_status().to_string(),
            None => model.backend().to_string(),
        },
        ignore_first_ms: opts.ignore_first_ms,
        all: subset_metrics(&all, &opts.fprs)?,
        at_model_thresholds,
        low_rate: subset_metrics(&low, &opts.fprs)?,
        count_matched: count_matched_threshold(&all.iter().map(|s| s.prob.as_slice()).collect::<Vec<_>>(), &labels),
        max_spikes_per_6s: opts.max_spikes_per_6s,
        predict_wall_s: wall_s,
        ms_per_s: if wall_s > 0.0 { predicted_ms as f64 / wall_s } else { f64::NAN },
        warning,
        shards_verified: opts.verify,
    })
}

fn subset_metrics(sims: &[&Scored], fprs: &[f64]) -> Result<SubsetMetrics, SurrogateError> {
    let labels: Vec<bool> = sims.iter().flat_map(|s| s.labels.iter().copied()).collect();
    let prob: Vec<f64> = sims.iter().flat_map(|s| s.prob.iter().copied()).collect();
    let v_true: Vec<f64> = sims.iter().flat_map(|s| s.v_true_mv.iter().copied()).collect();
    let v_pred: Vec<f64> = sims.iter().flat_map(|s| s.v_pred_mv.iter().copied()).collect();
    let n_spike_bins = labels.iter().filter(|&&l| l).count();
    let (auc, at_fpr) = if n_spike_bins > 0 && n_spike_bins < labels.len() {
        let roc = roc_curve(&labels, &prob)?;
        let pts = fprs.iter().map(|&f| roc.at_fpr(f).map(OperatingPointJson::from)).collect::<Result<Vec<_>, _>>()?;
        (Some(roc.auc()), pts)
    } else {
        (None, Vec::new())
    };
    Ok(SubsetMetrics {
        n_sims: sims.len(),
        n_bins: labels.len(),
        n_spike_bins,
        auc,
        at_fpr,
        soma: (!v_true.is_empty()).then(|| SomaMetrics::new(&v_true, &v_pred)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_use_the_papers_binning() {
        // 10.4 → int(9.9) = 9; 10.6 → 10; 0.2 → clamped to 0; 99.9 → 99 of 100
        let y = spike_labels(&[10.4, 10.6, 0.2, 99.9], 100);
        let bins: Vec<usize> = y.iter().enumerate().filter(|(_, &v)| v).map(|(k, _)| k).collect();
        assert_eq!(bins, vec![0, 9, 10, 99]);
    }

    #[test]
    fn the_count_matched_threshold_predicts_as_many_spikes_as_the_cell() {
        // two traces, 3 true spikes; bumps of height 0.9, 0.6, 0.3 and 0.2 (two bins each)
        let a = [0.0, 0.9, 0.8, 0.0, 0.0, 0.6, 0.5, 0.0];
        let b = [0.0, 0.3, 0.25, 0.0, 0.2, 0.1, 0.0, 0.0];
        let mut labels = vec![false; 16];
        for i in [1, 5, 9] {
            labels[i] = true;
        }
        let c = count_matched_threshold(&[&a, &b], &labels).expect("spikes");
        assert_eq!((c.predicted_spikes, c.true_spikes), (3, 3));
        assert!(c.probability > 0.2 && c.probability <= 0.3, "{c:?}");
        assert_eq!(count_runs(&a, 0.55), 2);
        assert!(count_matched_threshold(&[&a], &[false; 8]).is_none());
        // a trace above any low threshold everywhere is one run: the search must not stop there
        let flat = [0.4f64; 50];
        let mut l = vec![false; 50];
        l[10] = true;
        l[30] = true;
        assert!(count_matched_threshold(&[&flat], &l).is_none(), "one run can never match two spikes");
        let bumps: Vec<f64> = (0..50).map(|k| if k % 10 == 3 { 0.5 } else { 0.01 }).collect();
        let c = count_matched_threshold(&[&bumps], &l).expect("matched");
        assert_eq!(c.predicted_spikes, 5, "five bumps of one height: the nearest count is all five");
    }

    #[test]
    fn rates_at_a_threshold_count_ties_as_spikes() {
        let labels = [true, true, false, false, false, false];
        let prob = [0.9, 0.4, 0.5, 0.5, 0.1, 0.0];
        let (tpr, fpr) = rates_at_threshold(&labels, &prob, 0.5).expect("both classes");
        assert_eq!((tpr, fpr), (0.5, 0.5));
        let (tpr, fpr) = rates_at_threshold(&labels, &prob, 0.95).expect("both classes");
        assert_eq!((tpr, fpr), (0.0, 0.0));
        assert!(rates_at_threshold(&[false, false], &[0.1, 0.2], 0.5).is_none());
    }
}
