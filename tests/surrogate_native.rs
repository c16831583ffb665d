//! The surrogate on native ONNX Runtime (the pip wheel's library, located through python3; this
//! test binary's process chooses that backend). Fails, never skips, when python3 or onnxruntime is
//! missing: CI installs onnxruntime with pip. Part of the Python-backed suites
//! (`cargo test --features python-suites`, the README's second test command).
#![cfg(feature = "python-suites")]

mod surrogate_common;

use neurotwin::stimulus::InputRaster;
use neurotwin::surrogate::{select_backend, Backend, LoadOptions, PredictOptions, Prediction, StreamingPredictor, SurrogateModel};
use surrogate_common::{fixture_model, max_abs_diff, onnxruntime_library, parity};

fn model() -> SurrogateModel {
    let lib = onnxruntime_library();
    let choice = select_backend(Some(&lib)).expect("backend");
    assert_eq!(choice.backend, Backend::OnnxRuntime { library: lib.clone() }, "warning: {:?}", choice.warning);
    assert!(choice.warning.is_none(), "{:?}", choice.warning);
    SurrogateModel::load(&fixture_model(), LoadOptions::default()).expect("fixture loads")
}

#[test]
fn onnxruntime_matches_the_parity_vector() {
    let mut m = model();
    let (x, expected) = parity();
    let got = m.run_raw(x.view()).expect("runs");
    let d = max_abs_diff(&got, &expected);
    println!("native ONNX Runtime vs parity vector: max |diff| {d:.3e}");
    assert!(d < 1e-4, "ONNX Runtime differs from the parity vector by {d}");
    assert!(m.backend().to_string().starts_with("ONNX Runtime"));
    let c = m.check_parity().expect("parity runs").expect("the fixture has a parity vector");
    assert!(c.max_abs_diff < 1e-4);
}

#[test]
fn streaming_equals_full_sequence_on_onnxruntime() {
    let mut m = model();
    let rows: Vec<Vec<u32>> = (0..20u32).map(|r| (0..600u32).filter(|t| (t * 7 + r * 13) % 37 == 0).collect()).collect();
    let raster = InputRaster::from_rows(10, 600, rows).expect("raster");
    let full = m.predict_raster(&raster, &PredictOptions::default()).expect("full");
    let mut sp = StreamingPredictor::new(m);
    let mut streamed = Prediction::default();
    for t in (0..600).step_by(25) {
        let cols = neurotwin::surrogate::predict::dense_columns(&raster, t, t + 25);
        streamed.extend(sp.push_columns(cols.view()).expect("push"));
    }
    let d = full.spike_probability.iter().zip(&streamed.spike_probability).chain(full.soma_v_mv.iter().zip(&streamed.soma_v_mv)).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(d < 1e-5, "{d}");
}
