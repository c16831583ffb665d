//! The parity vector shipped with a model (`parity.input_file`, `parity.output_file` in the
//! metadata: float32 `.npy` of shapes (1, rows, T) and (1, 2, T)): run the input on this process's
//! backend and report the largest difference from the expected raw output.

use super::metadata::Parity;
use super::SurrogateError;
use crate::dataset::npy::{read_npy, NpyData};
use ndarray::Array2;
use std::path::Path;

/// Result of `SurrogateModel::check_parity` (in `model.rs`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParityCheck {
    /// Largest |ours − expected| over both raw output channels.
    pub max_abs_diff: f32,
    pub n_ms: usize,
}

/// A parity vector: input `[rows × T]` and expected raw output `[2 × T]`.
pub type ParityArrays = (Array2<f32>, Array2<f32>);

pub(crate) fn read_2d(path: &Path, rows: usize) -> Result<Array2<f32>, SurrogateError> {
    let a = read_npy(path)?;
    let NpyData::F32(v) = a.data else {
        return Err(SurrogateError::Shape(format!("{}: parity arrays must be float32", path.display())));
    };
    match a.shape.as_slice() {
        [1, r, t] if *r == rows => Array2::from_shape_vec((rows, *t), v).map_err(|e| SurrogateError::Shape(e.to_string())),
        s => Err(SurrogateError::Shape(format!("{}: shape {s:?}, expected [1, {rows}, T]", path.display()))),
    }
}

/// A deterministic ~1 %-dense 0/1 input `[rows × ms]`.
pub fn pseudo_random_input(rows: usize, ms: usize) -> Array2<f32> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    Array2::from_shape_fn((rows, ms), |_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if x.is_multiple_of(100) {
            1.0
        } else {
            0.0
        }
    })
}

/// The parity input `[rows × T]` and expected raw output `[2 × T]` of `parity` (files relative to
/// `dir`, the metadata's folder).
pub fn parity_arrays(parity: &Parity, dir: &Path, n_rows: usize) -> Result<ParityArrays, SurrogateError> {
    let x = match (&parity.input_file, parity.input_generated_ms) {
        (Some(f), _) => read_2d(&dir.join(f), n_rows)?,
        (None, Some(ms)) => pseudo_random_input(n_rows, ms),
        (None, None) => return Err(SurrogateError::Shape("parity names no input".into())),
    };
    let expected = read_2d(&dir.join(&parity.output_file), 2)?;
    if expected.ncols() != x.ncols() {
        return Err(SurrogateError::Shape(format!("parity input has {} ms, output {}", x.ncols(), expected.ncols())));
    }
    Ok((x, expected))
}
