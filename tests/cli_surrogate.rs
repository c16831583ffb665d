//! `neurotwin predict` and `neurotwin evaluate` end to end with the fixture model on the tiny
//! 10-segment cell (tests/data/surrogate). The fixture case's "results" are ONNX Runtime's own
//! prediction for it, so predict must agree exactly (spikes) and to float precision (soma).

mod common;
mod surrogate_common;

use std::process::{Command, Output};
use surrogate_common::{data, fixture_model};

fn neurotwin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_neurotwin"));
    c.env_remove("ORT_DYLIB_PATH");
    c
}

fn predict(extra: &[&str]) -> Output {
    neurotwin()
        .arg("predict")
        .arg("--model")
        .arg(fixture_model())
        .arg("--case")
        .arg(data("fixture_case.json"))
        .arg("--morphology")
        .arg(data("tiny10.swc"))
        .args(extra)
        .output()
        .expect("runs")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn predict_reproduces_the_fixture_case_on_tract() {
    let dir = tempfile::tempdir().expect("tmp");
    let out_path = dir.path().join("pred.json");
    let o = predict(&["--out", out_path.to_str().expect("utf8")]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("backend: tract"), "{stdout}");
    // the fixture's fingerprint is not tiny10.swc's: rows agree, so a warning, not an error
    assert!(stderr.contains("warning: model fixture was trained on morphology"), "{stderr}");
    let case: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(data("fixture_case.json")).expect("case")).expect("json");
    let n_ref = case["results"]["spike_times_ms"].as_array().expect("spikes").len();
    assert!(n_ref > 5);
    assert!(stdout.contains(&format!("{n_ref} reference spikes, {n_ref} hits, 0 misses, 0 false alarms")), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out_path).expect("out")).expect("json");
    assert_eq!(report["predicted_spike_times_ms"], case["results"]["spike_times_ms"]);
    let rmse = report["agreement"]["soma_rmse_mv"].as_f64().expect("rmse");
    assert!(rmse < 1e-3, "soma RMSE vs ONNX Runtime's prediction {rmse}");
    assert!(report["agreement"]["auc"].as_f64().expect("auc") > 0.99);
    assert_eq!(report["prediction"]["spike_probability"].as_array().expect("p").len(), 6000);
}

/// Needs the onnxruntime pip wheel's library: one of the Python-backed suites.
#[cfg(feature = "python-suites")]
#[test]
fn predict_on_onnxruntime_and_fallback_with_a_warning() {
    let lib = surrogate_common::onnxruntime_library();
    let o = predict(&["--onnxruntime", lib.to_str().expect("utf8"), "--bench", "3"]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("backend: ONNX Runtime"), "{stdout}");
    assert!(stdout.contains("0 misses, 0 false alarms"), "{stdout}");
    assert!(stdout.contains("bench: 6000 ms prediction, median"), "{stdout}");

    let o = predict(&["--onnxruntime", "/nonexistent/libonnxruntime.so.1.32.0"]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("warning: could not load ONNX Runtime from /nonexistent"), "{stderr}");
    assert!(stdout.contains("backend: tract"), "{stdout}");
}

#[test]
fn predict_rejects_a_model_of_another_cell() {
    let o = neurotwin()
        .args(["predict", "--model"])
        .arg(fixture_model())
        .arg("--case")
        .arg(common::shared("reference/paper_input_nmda_seed1001.json"))
        .arg("--morphology")
        .arg(common::shared("morphologies/cell1.asc"))
        .output()
        .expect("runs");
    let (stdout, stderr) = text(&o);
    assert!(!o.status.success(), "{stdout}");
    assert!(stderr.contains("model fixture expects 20 input rows (fingerprint fixture-…) but this morphology has 1278 rows (fingerprint"), "{stderr}");
}

#[test]
fn predict_reports_missing_files() {
    let o = neurotwin().args(["predict", "--model", "/nonexistent/m.onnx", "--case"]).arg(data("fixture_case.json")).arg("--morphology").arg(data("tiny10.swc")).output().expect("runs");
    let (_, stderr) = text(&o);
    assert!(!o.status.success());
    assert!(stderr.contains("model file /nonexistent/m.onnx not found"), "{stderr}");
}

#[test]
fn evaluate_runs_the_papers_metrics_on_a_dataset() {
    let dir = tempfile::tempdir().expect("tmp");
    let ds = dir.path().join("ds");
    let o = neurotwin()
        .args(["dataset", "--morphology"])
        .arg(data("tiny10.swc"))
        .args(["--count", "3", "--duration-ms", "1500", "--sims-per-shard", "2", "--quiet", "--out"])
        .arg(&ds)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let eval_path = dir.path().join("eval.json");
    let o = neurotwin().args(["evaluate", "--model"]).arg(fixture_model()).arg("--data").arg(&ds).arg("--out").arg(&eval_path).output().expect("runs");
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("all simulations: 3 sims, 3000 bins after 500 ms"), "{stdout}");
    let ev: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&eval_path).expect("eval")).expect("json");
    assert_eq!(ev["all"]["n_sims"], 3);
    assert!(ev["all"]["soma"]["rmse_rescaled_mv"].as_f64().expect("rmse").is_finite());
    let o = neurotwin().args(["evaluate", "--model"]).arg(fixture_model()).arg("--data").arg(&ds).args(["--max-sims", "1", "--first-sim", "1"]).output().expect("runs");
    assert!(String::from_utf8_lossy(&o.stdout).contains("all simulations: 1 sims"), "{}", String::from_utf8_lossy(&o.stdout));
}
