//! Streaming prediction for live use: feed the raster a few ms at a time; the predictor keeps the
//! last window − 1 ms of input as causal context and returns the outputs of the new ms only. The
//! numbers equal those of the full-sequence prediction (`predict`), up to float rounding.
//!
//! When the model's native evaluation is available ([`SurrogateModel::native`], verified against
//! the ONNX outputs at load), streaming runs on it: the state carries the first layer's pending
//! sums and each hidden layer's last k − 1 ms, so a chunk costs only its own ms (≫ 20× real time
//! for the shipped models on one core). Otherwise each chunk re-runs the ONNX graph over
//! window − 1 ms of context plus the new ms.

use super::model::SurrogateModel;
use super::native::NativeState;
use super::tcn::{active_rows, active_rows_of_dense};
use super::predict::{dense_columns, Prediction};
use super::SurrogateError;
use crate::stimulus::InputRaster;
use ndarray::{concatenate, s, Array2, ArrayView2, Axis};

/// A model plus the input history it needs.
#[derive(Debug)]
pub struct StreamingPredictor {
    model: SurrogateModel,
    /// The last ≤ window − 1 ms of input, `[rows × ms]`.
    context: Array2<f32>,
    /// ms fed so far (the next chunk starts here).
    t_ms: usize,
    /// The native evaluation's state, when the model runs natively.
    native: Option<NativeState>,
}

impl StreamingPredictor {
    pub fn new(model: SurrogateModel) -> StreamingPredictor {
        let rows = model.n_rows();
        let native = model.native().map(|t| t.new_state());
        StreamingPredictor { model, context: Array2::zeros((rows, 0)), t_ms: 0, native }
    }

    /// True when chunks run on the native evaluation rather than the ONNX backend.
    pub fn is_native(&self) -> bool {
        self.native.is_some()
    }

    /// What runs the chunks, in words (backend, or the native evaluation and its check).
    pub fn engine_description(&self) -> String {
        match self.native {
            Some(_) => format!("{} (loaded on {})", self.model.native_status(), self.model.backend()),
            None => format!("{} over window − 1 ms of context ({})", self.model.backend(), self.model.native_status()),
        }
    }

    pub fn model(&self) -> &SurrogateModel {
        &self.model
    }

    pub fn into_model(self) -> SurrogateModel {
        self.model
    }

    /// ms fed so far.
    pub fn t_ms(&self) -> usize {
        self.t_ms
    }

    /// Forget the history (a new simulation starting at t = 0).
    pub fn reset(&mut self) {
        self.context = Array2::zeros((self.model.n_rows(), 0));
        self.t_ms = 0;
        self.native = self.model.native().map(|t| t.new_state());
    }

    /// Feed the next ms as a raster chunk whose bin 0 is the current time.
    pub fn push_raster(&mut self, chunk: &InputRaster) -> Result<Prediction, SurrogateError> {
        if self.native.is_some() {
            if chunk.n_rows() != self.model.n_rows() {
                return Err(SurrogateError::Shape(format!("chunk has {} rows, model {} expects {}", chunk.n_rows(), self.model.metadata().name, self.model.n_rows())));
            }
            return self.push_native(&active_rows(chunk.rows(), 0, chunk.duration_ms() as usize));
        }
        let cols = dense_columns(chunk, 0, chunk.duration_ms() as usize);
        self.push_columns(cols.view())
    }

    /// Feed the next ms as the rows active in each (`active[i]`: rows with a spike in ms i), on
    /// the native evaluation (no dense columns built); falls back to dense columns otherwise.
    pub fn push_active(&mut self, active: &[Vec<u32>]) -> Result<Prediction, SurrogateError> {
        let rows = self.model.n_rows();
        if let Some(r) = active.iter().flatten().find(|&&r| r as usize >= rows) {
            return Err(SurrogateError::Shape(format!("input row {r} out of range (model {} has {rows} rows)", self.model.metadata().name)));
        }
        if self.native.is_some() {
            return self.push_native(active);
        }
        let mut x = ndarray::Array2::<f32>::zeros((rows, active.len()));
        for (t, a) in active.iter().enumerate() {
            for &r in a {
                x[[r as usize, t]] = 1.0;
            }
        }
        self.push_columns(x.view())
    }

    fn push_native(&mut self, active: &[Vec<u32>]) -> Result<Prediction, SurrogateError> {
        let (Some(net), Some(state)) = (self.model.native(), self.native.as_mut()) else {
            return Err(SurrogateError::Backend("native evaluation is not available".into()));
        };
        let raw = net.push(state, active).map_err(SurrogateError::BadInput)?;
        let pred = Prediction::from_raw(raw.view(), self.model.metadata(), self.t_ms);
        self.t_ms += active.len();
        Ok(pred)
    }

    /// Feed the next ms as dense columns `[rows × new_ms]` (0/1); returns their outputs.
    pub fn push_columns(&mut self, new: ArrayView2<'_, f32>) -> Result<Prediction, SurrogateError> {
        if new.nrows() != self.model.n_rows() {
            return Err(SurrogateError::Shape(format!("chunk has {} rows, model {} expects {}", new.nrows(), self.model.metadata().name, self.model.n_rows())));
        }
        if self.native.is_some() {
            if let Some((r, t)) = new.indexed_iter().find(|(_, v)| !v.is_finite()).map(|(ix, _)| ix) {
                return Err(SurrogateError::BadInput(format!("non-finite input at row {r}, ms {t} of the chunk")));
            }
            return self.push_native(&active_rows_of_dense(new));
        }
        // a model with a fixed time length takes at most T − (window − 1) new ms per run
        let per_run = match self.model.fixed_time_ms() {
            Some(fixed) => fixed.checked_sub(self.model.window_ms() - 1).filter(|&n| n > 0).ok_or_else(|| {
                SurrogateError::Shape(format!("fixed input length {fixed} ms is not longer than the window − 1"))
            })?,
            None => new.ncols().max(1),
        };
        let mut out = Prediction { start_ms: self.t_ms, ..Prediction::default() };
        let mut done = 0;
        while done < new.ncols() {
            let n = per_run.min(new.ncols() - done);
            out.extend(self.step(new.slice(s![.., done..done + n]))?);
            done += n;
        }
        Ok(out)
    }

    fn step(&mut self, new: ArrayView2<'_, f32>) -> Result<Prediction, SurrogateError> {
        let n = new.ncols();
        let input = concatenate(Axis(1), &[self.context.view(), new]).map_err(|e| SurrogateError::Shape(e.to_string()))?;
        let raw = self.model.run_raw(input.view())?;
        let c = self.context.ncols();
        let pred = Prediction::from_raw(raw.slice(s![.., c..]), self.model.metadata(), self.t_ms);
        let keep = (self.model.window_ms() - 1).min(input.ncols());
        self.context = input.slice(s![.., input.ncols() - keep..]).to_owned();
        self.t_ms += n;
        Ok(pred)
    }
}
