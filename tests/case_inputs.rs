//! Issue 17, items 3 and 5: inputs are checked before use (a case's reference traces, SWC
//! recoveries are announced), no NaN is printed as a result, BOM and CRLF are accepted.
//! Small files are built here from the fixture case.

mod surrogate_common;

use std::path::Path;
use std::process::{Command, Output};
use surrogate_common::{data, fixture_model};

fn neurotwin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_neurotwin"));
    c.env_remove("ORT_DYLIB_PATH");
    c
}

fn predict(case: &Path, extra: &[&str]) -> Output {
    neurotwin()
        .arg("predict")
        .arg("--model")
        .arg(fixture_model())
        .arg("--case")
        .arg(case)
        .arg("--morphology")
        .arg(data("tiny10.swc"))
        .args(extra)
        .output()
        .expect("runs")
}

fn fixture_case() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(data("fixture_case.json")).expect("case")).expect("json")
}

#[test]
fn reference_traces_are_checked_before_any_rmse() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("case.json");
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        ("/recording/soma_dt_ms", serde_json::json!(0.0), "recording.soma_dt_ms is 0"),
        ("/recording/soma_dt_ms", serde_json::json!(-10.0), "recording.soma_dt_ms is -10"),
        ("/results/soma_v", serde_json::json!([-70.0, -70.0, -70.0]), "results.soma_v has 3 samples"),
        ("/results/soma_v", serde_json::json!([]), "results.soma_v has 0 samples"),
        ("/results/spike_times_ms", serde_json::json!([1e9]), "results.spike_times_ms[0]"),
    ];
    for (pointer, value, needle) in cases {
        let mut v = fixture_case();
        *v.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer}")) = value;
        std::fs::write(&path, v.to_string()).expect("write");
        let o = predict(&path, &[]);
        assert_eq!(o.status.code(), Some(1), "{pointer}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains("case.json") && e.contains(needle), "{pointer}: {e}");
        assert!(!String::from_utf8_lossy(&o.stdout).contains("RMSE"));
    }
}

#[test]
fn bench_zero_prints_no_nan() {
    let o = predict(&data("fixture_case.json"), &["--bench", "0"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("NaN") && !out.contains("inf"), "{out}");
    assert!(out.contains("--bench 0 times no runs"), "{out}");
}

#[test]
fn swc_recoveries_are_announced_and_bom_crlf_accepted() {
    let dir = tempfile::tempdir().expect("tmp");
    let info = |name: &str, text: &[u8]| -> Output {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        neurotwin().args(["morph", "info"]).arg(&p).output().expect("runs")
    };
    let o = info("nosoma.swc", b"# no soma\n1 3 0 0 0 1 -1\n2 3 0 10 0 1 1\n");
    assert!(o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("nosoma.swc:2: no soma samples") && e.contains("one-point soma") && e.contains("2 µm"), "{e}");

    let o = info("roots.swc", b"1 1 0 0 0 5 -1\n2 3 0 10 0 1 1\n3 3 0 20 0 1 -1\n4 3 0 30 0 1 3\n");
    assert!(o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("roots.swc: 1 tree(s) not connected to the soma (parent -1 on line(s) 3)"), "{e}");

    let o = info("tiny_soma.swc", b"1 1 0 0 0 1e-9 -1\n2 3 0 10 0 1 1\n");
    assert!(String::from_utf8_lossy(&o.stderr).contains("membrane area"), "{}", String::from_utf8_lossy(&o.stderr));

    let plain = info("plain.swc", b"1 1 0 0 0 5 -1\n2 3 0 10 0 1 1\n");
    let bom = info("bom.swc", b"\xef\xbb\xbf1 1 0 0 0 5 -1\r\n2 3 0 10 0 1 1\r\n");
    assert!(bom.status.success(), "{}", String::from_utf8_lossy(&bom.stderr));
    let strip = |o: &Output| String::from_utf8_lossy(&o.stdout).replace("bom.swc", "plain.swc");
    assert_eq!(strip(&bom), strip(&plain));
    let asc = b"\xef\xbb\xbf(\"CellBody\"\r\n (-5 0 0 1) (0 5 0 1) (5 0 0 1) (0 -5 0 1))\r\n( (Dendrite)\r\n (5 0 0 1) (20 0 0 1))\r\n";
    let o = info("bom.asc", asc);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn replay_refuses_a_case_whose_sections_the_morphology_lacks() {
    let reference = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/passive_noIh.json");
    if !reference.exists() {
        panic!("missing {}: the NEURON reference data must sit beside the project", reference.display());
    }
    let o = neurotwin().arg("replay").arg(&reference).arg("--morphology").arg(data("tiny10.swc")).output().expect("runs");
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("passive_noIh.json") && e.contains("no section named dend[39]"), "{e}");
    assert!(o.stdout.is_empty(), "nothing reported before the refusal");
}

#[test]
fn replay_refuses_a_case_made_on_another_cell_unless_forced() {
    let reference = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/passive_noIh.json");
    let synthetic = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("morphologies/l5pc-synthetic.swc");
    // the synthetic cell has sections of the same names, so before issue 17 this exited 0
    let o = neurotwin().arg("replay").arg(&reference).arg("--morphology").arg(&synthetic).output().expect("runs");
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("was made on another cell") && e.contains("µm from the soma") && e.contains("--allow-other-geometry"), "{e}");
    let o = neurotwin().arg("replay").arg(&reference).arg("--morphology").arg(&synthetic).arg("--allow-other-geometry").output().expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
