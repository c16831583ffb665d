//! Helpers for the surrogate tests: the fixture model (tests/data/surrogate, made by
//! make_fixture.py) and its parity vector.
#![allow(dead_code)]

use ndarray::{Array2, Array3};
use neurotwin::dataset::npy::{read_npy, NpyData};
use std::path::PathBuf;

pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/surrogate").join(rel)
}

pub fn fixture_model() -> PathBuf {
    data("fixture.onnx")
}

fn read_f32(rel: &str) -> (Vec<usize>, Vec<f32>) {
    let a = read_npy(&data(rel)).expect("parity npy");
    match a.data {
        NpyData::F32(v) => (a.shape, v),
        other => panic!("{rel}: expected float32, got {other:?}"),
    }
}

/// Parity input `[rows × time]` and expected raw output `[2 × time]` (batch 1 squeezed).
pub fn parity() -> (Array2<f32>, Array2<f32>) {
    let (si, x) = read_f32("fixture.parity.input.npy");
    let (so, y) = read_f32("fixture.parity.output.npy");
    let x = Array3::from_shape_vec((si[0], si[1], si[2]), x).expect("input shape");
    let y = Array3::from_shape_vec((so[0], so[1], so[2]), y).expect("output shape");
    (x.index_axis(ndarray::Axis(0), 0).to_owned(), y.index_axis(ndarray::Axis(0), 0).to_owned())
}

/// Largest |a − b|.
pub fn max_abs_diff(a: &Array2<f32>, b: &Array2<f32>) -> f32 {
    assert_eq!(a.dim(), b.dim());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Full path of the pip wheel's ONNX Runtime library, found through python3. Panics with a clear
/// message when python3 or the onnxruntime package is missing: the native-backend tests must not
/// pass without checking anything (CI installs onnxruntime with pip).
pub fn onnxruntime_library() -> PathBuf {
    let script = "import onnxruntime, os, glob; d = os.path.join(os.path.dirname(onnxruntime.__file__), 'capi'); \
                  print(sorted(glob.glob(os.path.join(d, 'libonnxruntime.so.*')))[-1])";
    let out = std::process::Command::new("python3").args(["-c", script]).output().unwrap_or_else(|e| {
        panic!("python3 is needed to locate ONNX Runtime for the native-backend tests ({e}); install python3 and `python3 -m pip install onnxruntime`")
    });
    assert!(
        out.status.success(),
        "the native-backend tests need the onnxruntime Python package (`python3 -m pip install 'onnxruntime>=1.24,<2'`): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(path.is_file(), "ONNX Runtime library {} not found", path.display());
    path
}
