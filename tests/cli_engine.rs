//! `neurotwin replay` and `neurotwin simulate` from the command line.

mod common;

use std::process::Command;

fn neurotwin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neurotwin"))
}

#[test]
fn replay_writes_the_golden_format_with_our_results_and_timing() {
    let dir = tempfile::tempdir().expect("tmp");
    let out_path = dir.path().join("out.json");
    let case = common::shared("reference/bac_soma_only.json");
    let out = neurotwin()
        .arg("replay")
        .arg(&case)
        .arg("--morphology")
        .arg(common::shared("morphologies/cell1.asc"))
        .arg("--out")
        .arg(&out_path)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ours: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out_path).expect("out")).expect("json");
    let reference: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&case).expect("case")).expect("json");
    assert_eq!(ours["format"], "l5pc-golden-v1");
    assert_eq!(ours["synapses"], reference["synapses"]);
    let (a, b) = (&ours["results"], &reference["results"]);
    assert_eq!(a["n_soma_samples"], b["n_soma_samples"]);
    let spikes = |v: &serde_json::Value| -> Vec<f64> { v["spike_times_ms"].as_array().expect("spikes").iter().map(|x| x.as_f64().expect("t")).collect() };
    let (sa, sb) = (spikes(a), spikes(b));
    assert_eq!(sa.len(), sb.len());
    assert!(sa.iter().zip(&sb).all(|(x, y)| (x - y).abs() < 0.05));
    assert!(ours["timing"]["cpu_s"].as_f64().expect("cpu_s") > 0.0);
    assert!(ours["timing"]["wall_s"].as_f64().expect("wall_s") > 0.0);
}

#[test]
fn replay_summary_and_bad_cases() {
    let out = neurotwin()
        .arg("replay")
        .arg(common::shared("reference/passive_noIh.json"))
        .arg("--morphology")
        .arg(common::shared("morphologies/cell1.asc"))
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("spike count matches"), "{text}");
    let dir = tempfile::tempdir().expect("tmp");
    let reference = std::fs::read_to_string(common::shared("reference/single_syn_1spike.json")).expect("read");
    for (name, from, to) in [
        ("unknown_section.json", "\"sec\":\"dend[5]\"", "\"sec\":\"dend[500]\""),
        ("bad_x.json", "\"x\":0.5,\"spikes_ms\"", "\"x\":1.5,\"spikes_ms\""),
        ("negative_dt.json", "\"dt\":0.025", "\"dt\":-0.025"),
    ] {
        assert!(reference.contains(from), "fixture text {from} not found");
        let path = dir.path().join(name);
        std::fs::write(&path, reference.replacen(from, to, 1)).expect("write");
        let out = neurotwin().arg("replay").arg(&path).arg("--morphology").arg(common::shared("morphologies/cell1.asc")).output().expect("run");
        assert!(!out.status.success(), "{name} must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error:") && !err.contains("panicked"), "{name}: {err}");
    }
}

#[test]
fn simulate_writes_csv_npy_and_spikes() {
    let dir = tempfile::tempdir().expect("tmp");
    let prefix = dir.path().join("run");
    let out = neurotwin()
        .args(["simulate", "--tstop-ms", "300", "--iclamp", "soma[0],0.5,100,150,1.9", "--record", "apic[50],0.8", "--morphology"])
        .arg(common::shared("morphologies/cell1.asc"))
        .arg("--out")
        .arg(&prefix)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = std::fs::read_to_string(dir.path().join("run.csv")).expect("csv");
    let mut lines = csv.lines();
    let header = lines.next().expect("header");
    assert_eq!(header.split(',').count(), 3, "{header}");
    assert_eq!(lines.count(), 3001, "samples at 0.1 ms from 0 to 300 ms");
    let npy = std::fs::read(dir.path().join("run.npy")).expect("npy");
    assert_eq!(&npy[..6], b"\x93NUMPY");
    let spikes = std::fs::read_to_string(dir.path().join("run.spikes.txt")).expect("spikes");
    assert!(spikes.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).count() >= 3, "1.9 nA for 150 ms must fire: {spikes}");
}
