//! Streaming prediction for live use: feed the raster a few ms at a time; the predictor keeps the
//! last window − 1 ms of input as causal context and returns the outputs of the new ms only. The
//! numbers equal those of the full-sequence prediction (`predict`), up to float rounding.

use super::model::SurrogateModel;
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
}

impl StreamingPredictor {
    pub fn new(model: SurrogateModel) -> StreamingPredictor {
        let rows = model.n_rows();
        StreamingPredictor { model, context: Array2::zeros((rows, 0)), t_ms: 0 }
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
    }

    /// Feed the next ms as a raster chunk whose bin 0 is the current time.
    pub fn push_raster(&mut self, chunk: &InputRaster) -> Result<Prediction, SurrogateError> {
        let cols = dense_columns(chunk, 0, chunk.duration_ms() as usize);
        self.push_columns(cols.view())
    }

    /// Feed the next ms as dense columns `[rows × new_ms]` (0/1); returns their outputs.
    pub fn push_columns(&mut self, new: ArrayView2<'_, f32>) -> Result<Prediction, SurrogateError> {
        if new.nrows() != self.model.n_rows() {
            return Err(SurrogateError::Shape(format!("chunk has {} rows, model {} expects {}", new.nrows(), self.model.metadata().name, self.model.n_rows())));
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
