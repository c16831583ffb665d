//! The surrogate on the tract backend (this test binary's process chooses tract, whatever
//! ORT_DYLIB_PATH says): parity with ONNX Runtime's output, full-sequence vs chunked vs streaming
//! prediction, bad inputs, backend selection, model catalogue.

mod surrogate_common;

use ndarray::{s, Array2};
use neurotwin::stimulus::{InputRaster, InputVariant, PaperProtocol};
use neurotwin::surrogate::{
    self, select_backend, select_tract, Backend, CellInputs, Fit, LoadOptions, PredictOptions, Prediction, StreamingPredictor,
    SurrogateError, SurrogateModel,
};
use surrogate_common::{data, fixture_model, max_abs_diff, parity};

fn model() -> SurrogateModel {
    let choice = select_tract().expect("tract");
    assert_eq!(choice.backend, Backend::Tract);
    SurrogateModel::load(&fixture_model(), LoadOptions::default()).expect("fixture loads")
}

fn max_diff(a: &Prediction, b: &Prediction) -> f32 {
    assert_eq!((a.start_ms, a.len_ms()), (b.start_ms, b.len_ms()));
    let p = a.spike_probability.iter().zip(&b.spike_probability).map(|(x, y)| (x - y).abs());
    let v = a.soma_v_mv.iter().zip(&b.soma_v_mv).map(|(x, y)| (x - y).abs());
    p.chain(v).fold(0.0, f32::max)
}

/// A reproducible 0/1 raster for the fixture's 10 segments.
fn raster(duration_ms: u32) -> InputRaster {
    let mut state = 12345u64;
    let rows = (0..20)
        .map(|_| {
            (0..duration_ms)
                .filter(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (state >> 33) % 100 < 3
                })
                .collect()
        })
        .collect();
    InputRaster::from_rows(10, duration_ms, rows).expect("raster")
}

#[test]
fn tract_matches_the_parity_vector() {
    let mut m = model();
    let (x, expected) = parity();
    let got = m.run_raw(x.view()).expect("runs");
    let d = max_abs_diff(&got, &expected);
    println!("tract vs ONNX Runtime parity vector: max |diff| {d:.3e}");
    assert!(d < 1e-4, "tract differs from the parity vector by {d}");
    assert!(m.backend().to_string().starts_with("tract"));
}

#[test]
fn chunked_and_streaming_equal_one_full_run() {
    let mut m = model();
    let r = raster(1500);
    let full = m.predict_raster(&r, &PredictOptions::default()).expect("full");
    assert_eq!(full.len_ms(), 1500);
    // one run over everything, converted, is the reference
    let raw = m.run_raw(surrogate::predict::dense_columns(&r, 0, 1500).view()).expect("raw");
    let reference = Prediction::from_raw(raw.view(), m.metadata(), 0);
    assert!(max_diff(&full, &reference) < 1e-6);
    for chunk in [1, 6, 7, 100, 1499] {
        let c = m.predict_raster(&r, &PredictOptions { chunk_ms: Some(chunk) }).expect("chunked");
        let d = max_diff(&c, &full);
        assert!(d < 1e-5, "chunk {chunk} ms: max |diff| {d}");
    }
    // streaming in irregular pieces, as the app feeds it
    let mut sp = StreamingPredictor::new(m);
    // the fixture's graph (explicit Pad nodes, no BatchNorm, one 2-channel head) is not the
    // training package's TCN export, so it streams on the ONNX backend, and says why
    assert!(!sp.is_native());
    assert!(sp.engine_description().contains("native evaluation off"), "{}", sp.engine_description());
    let mut streamed = Prediction::default();
    let mut t = 0usize;
    for (i, n) in [1usize, 1, 2, 5, 6, 7, 8, 33, 1, 100].iter().cycle().enumerate() {
        if t >= 1500 {
            break;
        }
        let n = (*n).min(1500 - t);
        let cols = surrogate::predict::dense_columns(&r, t, t + n);
        let out = if i % 2 == 0 {
            sp.push_columns(cols.view()).expect("push")
        } else {
            let rows = cols.outer_iter().map(|row| row.iter().enumerate().filter(|(_, &v)| v > 0.5).map(|(k, _)| k as u32).collect()).collect();
            sp.push_raster(&InputRaster::from_rows(10, n as u32, rows).expect("chunk")).expect("push")
        };
        assert_eq!(out.start_ms, t);
        streamed.extend(out);
        t += n;
    }
    assert_eq!(sp.t_ms(), 1500);
    let d = max_diff(&streamed, &full);
    println!("streaming vs full-sequence: max |diff| {d:.3e}");
    assert!(d < 1e-5, "streaming differs from the full-sequence prediction by {d}");
    // reset starts a new simulation
    sp.reset();
    let again = sp.push_columns(surrogate::predict::dense_columns(&r, 0, 50).view()).expect("push");
    assert!(max_diff(&again, &Prediction { start_ms: 0, spike_probability: full.spike_probability[..50].to_vec(), soma_v_mv: full.soma_v_mv[..50].to_vec() }) < 1e-5);
}

#[test]
fn outputs_are_converted_with_the_metadata() {
    let mut m = model();
    let (x, expected) = parity();
    let p = m.predict_dense(x.view(), &PredictOptions::default()).expect("predict");
    for t in 0..p.len_ms() {
        let prob = 1.0 / (1.0 + (-f64::from(expected[[0, t]])).exp());
        assert!((f64::from(p.spike_probability[t]) - prob).abs() < 1e-4);
        let v = f64::from(expected[[1, t]]) * 2.0 - 67.7; // fixture: scale 2 mV, offset −67.7 mV
        assert!((f64::from(p.soma_v_mv[t]) - v).abs() < 1e-3);
    }
    let thr = surrogate::threshold_for_fpr(m.metadata(), 0.0025).expect("stated");
    assert!(thr > 0.0 && thr < 1.0);
    assert!(surrogate::threshold_for_fpr(m.metadata(), 0.01).expect("stated") <= thr);
    let e = surrogate::threshold_for_fpr(m.metadata(), 0.05).unwrap_err();
    assert!(matches!(e, SurrogateError::NoThreshold { .. }), "{e}");
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let mut m = model();
    let mut x = Array2::<f32>::zeros((20, 30));
    x[[3, 7]] = f32::NAN;
    assert!(matches!(m.run_raw(x.view()), Err(SurrogateError::BadInput(_))));
    assert!(matches!(m.predict_dense(x.view(), &PredictOptions::default()), Err(SurrogateError::BadInput(_))));
    let wrong = Array2::<f32>::zeros((21, 30));
    assert!(matches!(m.predict_dense(wrong.view(), &PredictOptions::default()), Err(SurrogateError::Shape(_))));
    assert!(matches!(m.predict_raster(&InputRaster::new(11, 30), &PredictOptions::default()), Err(SurrogateError::Shape(_))));
    let mut sp = StreamingPredictor::new(m);
    assert!(sp.push_columns(wrong.view()).is_err());
    assert!(sp.push_columns(x.slice(s![.., 0..5]).view()).is_ok());
    assert!(sp.push_columns(x.view()).is_err());

    let e = SurrogateModel::load(&data("no-such-model.onnx"), LoadOptions::default()).unwrap_err();
    assert!(matches!(e, SurrogateError::ModelMissing(_)), "{e}");
    // an ONNX file without metadata, and metadata that disagrees with the graph
    let dir = tempfile::tempdir().expect("tmp");
    let lone = dir.path().join("lone.onnx");
    std::fs::copy(fixture_model(), &lone).expect("copy");
    let e = SurrogateModel::load(&lone, LoadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("missing"), "{e}");
    let mut meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(data("fixture.json")).expect("json")).expect("parse");
    meta["input_rows"] = serde_json::json!({"n_rows": 22, "n_segments": 11});
    std::fs::write(dir.path().join("lone.json"), meta.to_string()).expect("write");
    let e = SurrogateModel::load(&lone, LoadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("22"), "{e}");
    std::fs::write(dir.path().join("lone.json"), "{not json").expect("write");
    assert!(matches!(SurrogateModel::load(&lone, LoadOptions::default()), Err(SurrogateError::Metadata { .. })));
}

#[test]
fn backend_choice_is_once_per_process() {
    let first = select_tract().expect("tract");
    let again = select_tract().expect("again");
    assert_eq!(first, again);
    let asked = select_backend(Some(std::path::Path::new("/nonexistent/libonnxruntime.so.1.32.0"))).expect("still tract");
    assert_eq!(asked.backend, Backend::Tract);
    let w = asked.warning.expect("a warning says the request was not honoured");
    assert!(w.contains("already"), "{w}");
}

#[test]
fn catalogue_picks_the_model_of_this_morphology() {
    let dir = tempfile::tempdir().expect("tmp");
    let meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(data("fixture.json")).expect("json")).expect("parse");
    for (name, fp, rows) in [("a-other-cell", "sha256:1111", 20), ("b-this-cell", "sha256:2222", 20), ("c-big", "sha256:3333", 1278)] {
        std::fs::copy(fixture_model(), dir.path().join(format!("{name}.onnx"))).expect("copy");
        let mut m = meta.clone();
        m["name"] = name.into();
        m["model_file"] = format!("{name}.onnx").into();
        m["morphology_fingerprint"] = fp.into();
        m["input_rows"] = serde_json::json!({"n_rows": rows, "n_segments": rows / 2});
        // the input tensor's description must agree with input_rows (checked since issue 17)
        m["input"]["shape"] = serde_json::json!(["batch", rows, "time"]);
        std::fs::write(dir.path().join(format!("{name}.json")), m.to_string()).expect("write");
    }
    std::fs::write(dir.path().join("broken.onnx"), b"not a model").expect("write");
    let all = surrogate::list_models(dir.path()).expect("list");
    assert_eq!(all.len(), 4);
    assert!(all.iter().any(|e| e.metadata.is_err()));

    let cell = CellInputs { fingerprint: "sha256:2222".into(), n_rows: 20 };
    let fits = surrogate::models_for(dir.path(), &cell).expect("fits");
    let names: Vec<(&str, Fit)> = fits.iter().map(|c| (c.metadata.name.as_str(), c.fit)).collect();
    assert_eq!(names, vec![("b-this-cell", Fit::Exact), ("a-other-cell", Fit::RowsOnly)]);
    assert_eq!(surrogate::default_model(dir.path(), &cell).expect("default").metadata.name, "b-this-cell");
    // an unknown cell with the same rows still gets a (rows-only) model
    let other = CellInputs { fingerprint: "sha256:9999".into(), n_rows: 20 };
    assert_eq!(surrogate::default_model(dir.path(), &other).expect("default").fit, Fit::RowsOnly);
    let none = CellInputs { fingerprint: "sha256:9999".into(), n_rows: 1290 };
    let e = surrogate::default_model(dir.path(), &none).unwrap_err().to_string();
    assert!(e.contains("model c-big expects 1278 input rows (fingerprint 3333…) but this morphology has 1290 rows (fingerprint 9999…)"), "{e}");
}

#[test]
fn catalogue_puts_the_nmda_twin_of_a_cell_before_its_ampa_twin() {
    let dir = tempfile::tempdir().expect("tmp");
    let meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(data("fixture.json")).expect("json")).expect("parse");
    // the AMPA twin sorts first by name; a model that records no protocol counts as NMDA
    for (name, variant) in [("a-ampa", Some(InputVariant::Ampa)), ("b-nmda", Some(InputVariant::Nmda)), ("c-unrecorded", None)] {
        std::fs::copy(fixture_model(), dir.path().join(format!("{name}.onnx"))).expect("copy");
        let mut m = meta.clone();
        m["name"] = name.into();
        m["model_file"] = format!("{name}.onnx").into();
        m["dataset_protocol"] = match variant {
            Some(v) => serde_json::to_value(PaperProtocol::for_variant(v)).expect("protocol"),
            None => serde_json::Value::Null,
        };
        std::fs::write(dir.path().join(format!("{name}.json")), m.to_string()).expect("write");
    }
    let cell = CellInputs { fingerprint: meta["morphology_fingerprint"].as_str().expect("fingerprint").into(), n_rows: 20 };
    let fits = surrogate::models_for(dir.path(), &cell).expect("fits");
    let names: Vec<(&str, InputVariant)> = fits.iter().map(|c| (c.metadata.name.as_str(), c.variant())).collect();
    assert_eq!(names, vec![("b-nmda", InputVariant::Nmda), ("c-unrecorded", InputVariant::Nmda), ("a-ampa", InputVariant::Ampa)]);
    assert_eq!(surrogate::default_model(dir.path(), &cell).expect("default").metadata.name, "b-nmda");
    // an AMPA-only cell's default is its AMPA twin, an NMDA cell's its NMDA twin
    let for_variant = |v| surrogate::default_model_for_variant(dir.path(), &cell, v).expect("default").metadata.name;
    assert_eq!(for_variant(InputVariant::Ampa), "a-ampa");
    assert_eq!(for_variant(InputVariant::Nmda), "b-nmda");
    // at equal fit and protocol, our own twin before a published one (whatever the names)
    let mut published = meta.clone();
    published["name"] = "0-published".into();
    published["model_file"] = "0-published.onnx".into();
    published["network"] = serde_json::json!({"kind": "onnx", "source": "someone, 2024"});
    std::fs::copy(fixture_model(), dir.path().join("0-published.onnx")).expect("copy");
    std::fs::write(dir.path().join("0-published.json"), published.to_string()).expect("write");
    let fits = surrogate::models_for(dir.path(), &cell).expect("fits");
    let names: Vec<&str> = fits.iter().map(|c| c.metadata.name.as_str()).collect();
    assert_eq!(names, vec!["b-nmda", "c-unrecorded", "0-published", "a-ampa"]);
    assert!(fits[2].is_published() && !fits[0].is_published());
    // without an AMPA twin, the AMPA cell still gets the NMDA one
    std::fs::remove_file(dir.path().join("a-ampa.json")).expect("remove");
    assert_eq!(for_variant(InputVariant::Ampa), "b-nmda");
}

/// Every model in models/ (and the fixture) reproduces its own parity vector on tract.
#[test]
fn shipped_models_pass_their_parity_vectors_on_tract() {
    select_tract().expect("tract");
    let mut paths = vec![fixture_model()];
    let models_dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models");
    if models_dir.is_dir() {
        for e in surrogate::list_models(&models_dir).expect("list") {
            paths.push(e.onnx_path);
        }
    }
    for p in paths {
        let mut m = SurrogateModel::load(&p, LoadOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let tol = m.metadata().parity.as_ref().and_then(|x| x.tolerance).unwrap_or(1e-4);
        match m.check_parity().unwrap_or_else(|e| panic!("{}: {e}", p.display())) {
            Some(c) => {
                println!("{}: tract parity max |diff| {:.3e} over {} ms", p.display(), c.max_abs_diff, c.n_ms);
                assert!(f64::from(c.max_abs_diff) < tol, "{}: {} ≥ {tol}", p.display(), c.max_abs_diff);
            }
            None => println!("{}: no parity vector in its metadata", p.display()),
        }
    }
}

/// Every shipped model streams on its native evaluation (checked against its parity vector at
/// load), and the streamed outputs equal tract's full-sequence prediction of the whole raster.
#[test]
fn shipped_models_stream_natively_equal_to_full_sequence() {
    select_tract().expect("tract");
    let models_dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models");
    let entries = surrogate::list_models(&models_dir).expect("list");
    assert!(!entries.is_empty(), "no shipped models in {}", models_dir.display());
    for e in entries {
        let mut m = SurrogateModel::load(&e.onnx_path, LoadOptions::default()).expect("loads");
        let native = m.check_native_parity().expect("native parity").expect("shipped models have parity vectors and run natively");
        println!("{}: native parity max |diff| {:.3e}; {}", e.onnx_path.display(), native.max_abs_diff, m.native_status());
        assert!(native.max_abs_diff < 1e-4);
        let n_seg = m.metadata().input_rows.n_segments;
        let mut state = 99u64;
        let rows = (0..2 * n_seg)
            .map(|_| {
                (0..400u32)
                    .filter(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (state >> 33).is_multiple_of(100)
                    })
                    .collect()
            })
            .collect();
        let r = InputRaster::from_rows(n_seg, 400, rows).expect("raster");
        let full = m.predict_raster(&r, &PredictOptions::default()).expect("full");
        let mut sp = StreamingPredictor::new(m);
        assert!(sp.is_native(), "{}", sp.engine_description());
        let mut streamed = Prediction::default();
        for t in (0..400).step_by(40) {
            streamed.extend(sp.push_columns(surrogate::predict::dense_columns(&r, t, t + 40).view()).expect("push"));
        }
        let d = max_diff(&streamed, &full);
        println!("{}: native streaming vs tract full sequence: max |diff| {d:.3e}", e.onnx_path.display());
        assert!(d < 1e-4, "{d}");
    }
}
