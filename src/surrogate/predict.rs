//! Full-sequence prediction for batch use, the way the paper's evaluation runs a fixed-length
//! network over 6-s traces (paper-dnn.md §5): chunks of new ms, each run with window − 1 ms of
//! left context whose outputs are discarded. Because the network is causal with receptive field
//! `window_ms`, every kept output is exactly the output of one run over the whole sequence.

use super::metadata::ModelMetadata;
use super::model::SurrogateModel;
use super::SurrogateError;
use crate::stimulus::InputRaster;
use ndarray::{Array2, ArrayView2};
use serde::Serialize;

/// Options of [`SurrogateModel::predict_raster`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PredictOptions {
    /// New ms per run; `None`: as many as the model takes (the whole sequence when the ONNX time
    /// axis is dynamic, T − window + 1 for a fixed length T).
    pub chunk_ms: Option<usize>,
}

/// Per-ms outputs of the surrogate, starting at `start_ms`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Prediction {
    pub start_ms: usize,
    /// Probability of an output spike in each 1-ms bin (bin k holds spikes at t ∈ [k + 0.5, k + 1.5)
    /// ms, the paper's binning `int(t − 0.5)`).
    pub spike_probability: Vec<f32>,
    /// Somatic voltage (mV), clipped at the transform's `clip_max_mV` as in training.
    pub soma_v_mv: Vec<f32>,
}

impl Prediction {
    pub fn len_ms(&self) -> usize {
        self.spike_probability.len()
    }

    /// Convert a raw network output `[2 × time]`: sigmoid on channel 0 if it is a logit, the
    /// inverse soma transform on channel 1.
    pub fn from_raw(raw: ArrayView2<'_, f32>, meta: &ModelMetadata, start_ms: usize) -> Prediction {
        let logit = meta.spike_channel_is_logit();
        let tr = meta.target_transforms.soma;
        let spike_probability = raw.row(0).iter().map(|&y| if logit { sigmoid(y) } else { y.clamp(0.0, 1.0) }).collect();
        let soma_v_mv = raw.row(1).iter().map(|&y| tr.to_mv(y) as f32).collect();
        Prediction { start_ms, spike_probability, soma_v_mv }
    }

    /// Append a following chunk.
    pub fn extend(&mut self, next: Prediction) {
        self.spike_probability.extend(next.spike_probability);
        self.soma_v_mv.extend(next.soma_v_mv);
    }

    /// Predicted output spikes: each run of consecutive bins with probability ≥ `threshold` is
    /// one spike, at the run's most probable bin (absolute bin index).
    pub fn spike_bins(&self, threshold: f64) -> Vec<usize> {
        let mut out = Vec::new();
        let mut best: Option<(usize, f32)> = None;
        for (k, &p) in self.spike_probability.iter().enumerate() {
            if f64::from(p) >= threshold {
                if best.is_none_or(|(_, bp)| p > bp) {
                    best = Some((k, p));
                }
            } else if let Some((b, _)) = best.take() {
                out.push(self.start_ms + b);
            }
        }
        out.extend(best.map(|(b, _)| self.start_ms + b));
        out
    }

    /// [`Prediction::spike_bins`] as times (ms): bin k ↦ k + 1 ms, the centre of the spike times
    /// that the paper's binning puts into bin k.
    pub fn spike_times_ms(&self, threshold: f64) -> Vec<f64> {
        self.spike_bins(threshold).into_iter().map(|b| b as f64 + 1.0).collect()
    }
}

fn sigmoid(z: f32) -> f32 {
    (1.0 / (1.0 + (-f64::from(z)).exp())) as f32
}

/// The threshold on the spike probability stated in the metadata for a false-positive rate.
pub fn threshold_for_fpr(meta: &ModelMetadata, fpr: f64) -> Result<f64, SurrogateError> {
    meta.threshold_for_fpr(fpr).map(|t| t.probability).ok_or_else(|| SurrogateError::NoThreshold {
        model: meta.name.clone(),
        fpr,
        available: meta.spike_thresholds.values().map(|t| t.fpr_target).collect(),
    })
}

/// Dense `[rows × (to − from)]` columns of a raster (0/1).
pub fn dense_columns(raster: &InputRaster, from_ms: usize, to_ms: usize) -> Array2<f32> {
    let mut x = Array2::<f32>::zeros((raster.n_rows(), to_ms.saturating_sub(from_ms)));
    for (r, row) in raster.rows().iter().enumerate() {
        let lo = row.partition_point(|&t| (t as usize) < from_ms);
        for &t in row[lo..].iter().take_while(|&&t| (t as usize) < to_ms) {
            x[[r, t as usize - from_ms]] = 1.0;
        }
    }
    x
}

/// One run of a chunked prediction: input columns `[from_ms, to_ms)`, outputs kept from
/// `keep_from_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from_ms: usize,
    pub keep_from_ms: usize,
    pub to_ms: usize,
}

/// The runs covering `[0, duration_ms)`: chunks of at most `chunk_ms` new ms, each with up to
/// window − 1 ms of left context, and no run longer than `fixed_ms` if the model's time axis is
/// fixed.
pub fn plan_spans(duration_ms: usize, window_ms: usize, chunk_ms: Option<usize>, fixed_ms: Option<usize>) -> Result<Vec<Span>, SurrogateError> {
    let context = window_ms.saturating_sub(1);
    let chunk = chunk_ms.unwrap_or(usize::MAX).max(1);
    let mut spans = Vec::new();
    let mut s = 0;
    while s < duration_ms {
        let from = s.saturating_sub(context);
        let mut to = duration_ms.min(s.saturating_add(chunk));
        if let Some(fixed) = fixed_ms {
            to = to.min(from + fixed);
        }
        if to <= s {
            return Err(SurrogateError::Shape(format!("the model's fixed input length {fixed_ms:?} ms is not longer than its window − 1 = {context} ms")));
        }
        spans.push(Span { from_ms: from, keep_from_ms: s, to_ms: to });
        s = to;
    }
    Ok(spans)
}

impl SurrogateModel {
    /// Predict a whole raster (batch use).
    /// A recurrent twin (ELM) always runs the whole raster from t = 0.
    pub fn predict_raster(&mut self, raster: &InputRaster, opts: &PredictOptions) -> Result<Prediction, SurrogateError> {
        self.check_rows(raster.n_rows())?;
        if let Some(net) = self.native().filter(|n| n.is_recurrent()) {
            let raw = net.run(&super::tcn::active_rows(raster.rows(), 0, raster.duration_ms() as usize)).map_err(SurrogateError::BadInput)?;
            return Ok(Prediction::from_raw(raw.view(), self.metadata(), 0));
        }
        self.predict_with(raster.duration_ms() as usize, opts, |from, to| dense_columns(raster, from, to))
    }

    /// Predict a dense `[rows × time]` input (0/1 spikes).
    pub fn predict_dense(&mut self, input: ArrayView2<'_, f32>, opts: &PredictOptions) -> Result<Prediction, SurrogateError> {
        self.check_rows(input.nrows())?;
        self.predict_with(input.ncols(), opts, |from, to| input.slice(ndarray::s![.., from..to]).to_owned())
    }

    fn check_rows(&self, rows: usize) -> Result<(), SurrogateError> {
        if rows != self.n_rows() {
            return Err(SurrogateError::Shape(format!("the input has {rows} rows, model {} expects {}", self.metadata().name, self.n_rows())));
        }
        Ok(())
    }

    fn predict_with(&mut self, duration_ms: usize, opts: &PredictOptions, columns: impl Fn(usize, usize) -> Array2<f32>) -> Result<Prediction, SurrogateError> {
        if self.is_recurrent() {
            // no windows: the whole input from a zero state
            let raw = self.run_raw(columns(0, duration_ms).view())?;
            return Ok(Prediction::from_raw(raw.view(), self.metadata(), 0));
        }
        let spans = plan_spans(duration_ms, self.window_ms(), opts.chunk_ms, self.fixed_time_ms())?;
        let mut out = Prediction::default();
        for sp in spans {
            let raw = self.run_raw(columns(sp.from_ms, sp.to_ms).view())?;
            let kept = raw.slice(ndarray::s![.., sp.keep_from_ms - sp.from_ms..]);
            out.extend(Prediction::from_raw(kept, self.metadata(), sp.keep_from_ms));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_once_with_context() {
        let s = plan_spans(10, 3, Some(4), None).unwrap();
        assert_eq!(s, vec![
            Span { from_ms: 0, keep_from_ms: 0, to_ms: 4 },
            Span { from_ms: 2, keep_from_ms: 4, to_ms: 8 },
            Span { from_ms: 6, keep_from_ms: 8, to_ms: 10 },
        ]);
        assert_eq!(plan_spans(10, 3, None, None).unwrap().len(), 1);
        // fixed length 5, window 3: 5 new ms first, then 3 per run
        let s = plan_spans(10, 3, None, Some(5)).unwrap();
        assert_eq!(s.iter().map(|s| (s.from_ms, s.keep_from_ms, s.to_ms)).collect::<Vec<_>>(), vec![(0, 0, 5), (3, 5, 8), (6, 8, 10)]);
        assert!(plan_spans(10, 6, None, Some(5)).is_err());
        assert!(plan_spans(0, 6, None, None).unwrap().is_empty());
    }

    #[test]
    fn dense_columns_window() {
        let r = InputRaster::from_rows(1, 10, vec![vec![1, 4, 9], vec![5]]).unwrap();
        let x = dense_columns(&r, 4, 9);
        assert_eq!(x.row(0).to_vec(), vec![1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(x.row(1).to_vec(), vec![0.0, 1.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn spike_bins_take_run_peaks() {
        let p = Prediction { start_ms: 100, spike_probability: vec![0.1, 0.6, 0.9, 0.7, 0.2, 0.8], soma_v_mv: vec![0.0; 6] };
        assert_eq!(p.spike_bins(0.5), vec![102, 105]);
        assert_eq!(p.spike_times_ms(0.5), vec![103.0, 106.0]);
        assert!(p.spike_bins(0.95).is_empty());
    }
}
