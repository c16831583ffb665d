//! The parity vector shipped with a model (`parity.input_file`, `parity.output_file` in the
//! metadata: float32 `.npy` of shapes (1, rows, T) and (1, 2, T)): run the input on this process's
//! backend and report the largest difference from the expected raw output.

use super::model::SurrogateModel;
use super::SurrogateError;
use crate::dataset::npy::{read_npy, NpyData};
use ndarray::Array2;
use std::path::Path;

/// Result of [`SurrogateModel::check_parity`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParityCheck {
    /// Largest |ours − expected| over both raw output channels.
    pub max_abs_diff: f32,
    pub n_ms: usize,
}

/// A parity vector: input `[rows × T]` and expected raw output `[2 × T]`.
pub type ParityArrays = (Array2<f32>, Array2<f32>);

fn read_2d(path: &Path, rows: usize) -> Result<Array2<f32>, SurrogateError> {
    let a = read_npy(path)?;
    let NpyData::F32(v) = a.data else {
        return Err(SurrogateError::Shape(format!("{}: parity arrays must be float32", path.display())));
    };
    match a.shape.as_slice() {
        [1, r, t] if *r == rows => Array2::from_shape_vec((rows, *t), v).map_err(|e| SurrogateError::Shape(e.to_string())),
        s => Err(SurrogateError::Shape(format!("{}: shape {s:?}, expected [1, {rows}, T]", path.display()))),
    }
}

impl SurrogateModel {
    /// The parity input `[rows × T]` and expected raw output `[2 × T]`; `None` when the metadata
    /// names none.
    pub fn parity_arrays(&self) -> Result<Option<ParityArrays>, SurrogateError> {
        let Some(parity) = self.metadata().parity.clone() else {
            return Ok(None);
        };
        let dir = self.onnx_path().parent().unwrap_or(Path::new(".")).to_path_buf();
        let x = match (&parity.input_file, parity.input_generated_ms) {
            (Some(f), _) => read_2d(&dir.join(f), self.n_rows())?,
            (None, Some(ms)) => super::model::pseudo_random_input(self.n_rows(), ms),
            (None, None) => return Err(SurrogateError::Shape("parity names no input".into())),
        };
        let expected = read_2d(&dir.join(&parity.output_file), 2)?;
        if expected.ncols() != x.ncols() {
            return Err(SurrogateError::Shape(format!("parity input has {} ms, output {}", x.ncols(), expected.ncols())));
        }
        Ok(Some((x, expected)))
    }

    /// Run the parity vector through the native evaluation (see [`SurrogateModel::native`]).
    pub fn check_native_parity(&self) -> Result<Option<ParityCheck>, SurrogateError> {
        let (Some(native), Some((x, expected))) = (self.native(), self.parity_arrays()?) else {
            return Ok(None);
        };
        let got = native.run(&super::tcn::active_rows_of_dense(x.view())).map_err(SurrogateError::BadInput)?;
        let max_abs_diff = got.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        Ok(Some(ParityCheck { max_abs_diff, n_ms: x.ncols() }))
    }

    /// Run the model's parity vector; `None` when the metadata names none.
    pub fn check_parity(&mut self) -> Result<Option<ParityCheck>, SurrogateError> {
        let Some((x, expected)) = self.parity_arrays()? else {
            return Ok(None);
        };
        let got = self.run_raw(x.view())?;
        let max_abs_diff = got.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        Ok(Some(ParityCheck { max_abs_diff, n_ms: x.ncols() }))
    }
}
