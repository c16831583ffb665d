//! Issue 17, item 2: a model that fails its parity vector is refused unless
//! `--allow-parity-mismatch`; metadata paths stay in the model's folder; each field read is
//! checked with its name in the error. Damaged copies of the fixture model are built here.

mod surrogate_common;

use neurotwin::dataset::npy::{read_npy, write_npy, NpyData};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use surrogate_common::data;

fn neurotwin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_neurotwin"));
    c.env_remove("ORT_DYLIB_PATH");
    c
}

/// A copy of the fixture model in `dir`; returns the copied `.onnx` path.
fn copy_fixture(dir: &Path) -> PathBuf {
    for f in ["fixture.onnx", "fixture.json", "fixture.parity.input.npy", "fixture.parity.output.npy"] {
        std::fs::copy(data(f), dir.join(f)).expect("copy");
    }
    dir.join("fixture.onnx")
}

fn predict(model: &Path, extra: &[&str]) -> Output {
    neurotwin()
        .args(extra)
        .arg("predict")
        .arg("--model")
        .arg(model)
        .arg("--case")
        .arg(data("fixture_case.json"))
        .arg("--morphology")
        .arg(data("tiny10.swc"))
        .output()
        .expect("runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_model_failing_its_parity_vector_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().expect("tmp");
    let model = copy_fixture(dir.path());
    // the expected outputs moved by 0.5: what flipped bytes in the weights look like from outside
    let out_path = dir.path().join("fixture.parity.output.npy");
    let a = read_npy(&out_path).expect("npy");
    let NpyData::F32(v) = a.data else { panic!("float32 expected") };
    let moved: Vec<f32> = v.iter().map(|x| x + 0.5).collect();
    write_npy(&out_path, &a.shape, &moved).expect("write");

    let o = predict(&model, &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("fails its parity vector") && e.contains("differs from the expected by 5") && e.contains("--allow-parity-mismatch"), "{e}");
    assert!(o.stdout.is_empty() || !String::from_utf8_lossy(&o.stdout).contains("soma RMSE"));

    let o = predict(&model, &["--allow-parity-mismatch"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: model") && stderr(&o).contains("parity vector"), "{}", stderr(&o));
}

#[test]
fn metadata_paths_and_fields_are_checked_by_name() {
    let dir = tempfile::tempdir().expect("tmp");
    let model = copy_fixture(dir.path());
    let meta_path = dir.path().join("fixture.json");
    let original: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&meta_path).expect("meta")).expect("json");
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        ("/model_file", serde_json::json!("../../etc/passwd"), "model_file \"../../etc/passwd\" leaves the model's folder"),
        ("/model_file", serde_json::json!("/etc/passwd"), "model_file \"/etc/passwd\" is an absolute path"),
        ("/model_file", serde_json::json!("other.onnx"), "model_file \"other.onnx\" does not name the model loaded"),
        ("/parity/input_file", serde_json::json!("../fixture.parity.input.npy"), "parity.input_file"),
        ("/input/shape", serde_json::json!(["batch", 21, "time"]), "input.shape[1] is 21"),
        ("/output/channels/1/kind", serde_json::json!("volts"), "output.channels[1].kind"),
    ];
    for (pointer, value, needle) in cases {
        let mut v = original.clone();
        *v.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer}")) = value;
        std::fs::write(&meta_path, v.to_string()).expect("write");
        let o = predict(&model, &[]);
        assert_eq!(o.status.code(), Some(1), "{pointer}");
        let e = stderr(&o);
        assert!(e.contains("fixture.json") && e.contains(needle), "{pointer}: {e}");
    }
}
