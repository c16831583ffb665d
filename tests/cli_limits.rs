//! Issue 17, item 1: every size limit gives a clear error (or a warning) quickly, before
//! anything large is allocated. One reproducer per bullet, on small files built here.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn neurotwin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neurotwin"))
}

/// Run and check it ended within `secs`.
fn run_within(cmd: &mut Command, secs: f64) -> Output {
    let t0 = Instant::now();
    let out = cmd.output().expect("run neurotwin");
    assert!(t0.elapsed() < Duration::from_secs_f64(secs), "took {:?}", t0.elapsed());
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

fn synthetic() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("morphologies/l5pc-synthetic.swc")
}

#[test]
fn huge_coordinates_are_refused_before_allocating() {
    let dir = tempfile::tempdir().expect("tmp");
    for coord in ["1e7", "1e9", "1e308"] {
        let f = write(dir.path(), "big.swc", &format!("1 1 0 0 0 5 -1\n2 3 {coord} 0 0 1 1\n"));
        let out = run_within(neurotwin().args(["morph", "info"]).arg(&f), 10.0);
        assert_eq!(out.status.code(), Some(1), "{coord}");
        let e = stderr(&out);
        assert!(e.contains("big.swc") && e.contains("coordinate") && e.contains("above the limit"), "{coord}: {e}");
    }
}

#[test]
fn too_many_compartments_are_refused_and_many_warned() {
    let dir = tempfile::tempdir().expect("tmp");
    // five 900-mm dendrites: 5 × 45,001 compartments, over the 200,000 limit
    let mut text = String::from("1 1 0 0 0 5 -1\n");
    for k in 0..5 {
        text += &format!("{} 3 {} 900000 0 1 1\n", k + 2, k * 10);
    }
    let f = write(dir.path(), "many.swc", &text);
    let out = run_within(neurotwin().args(["morph", "info"]).arg(&f), 10.0);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains("compartments") && e.contains("NEUROTWIN_MAX_COMPARTMENTS"), "{e}");
    // raised through the environment it is accepted
    let out = run_within(neurotwin().env("NEUROTWIN_MAX_COMPARTMENTS", "300000").args(["morph", "info"]).arg(&f), 10.0);
    assert!(out.status.success(), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(e.contains("warning:") && e.contains("compartments, more than 20000"), "{e}");
    assert!(e.contains("are the coordinates in µm"), "{e}");
}

#[test]
fn an_endless_file_is_not_read_past_the_limit() {
    let dir = tempfile::tempdir().expect("tmp");
    // a device (issue 27: only regular files are read, so /dev/zero is refused before reading)
    if Path::new("/dev/zero").exists() {
        let link = dir.path().join("zero.swc");
        std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
        let out = run_within(neurotwin().env("NEUROTWIN_MAX_MORPHOLOGY_MB", "4").args(["morph", "info"]).arg(&link), 1.0);
        assert_eq!(out.status.code(), Some(1));
        let e = stderr(&out);
        assert!(e.contains("zero.swc") && e.contains("not a regular file (a character device)"), "{e}");
    }
    // a regular file over the limit: refused by its size, before reading it
    let big = dir.path().join("big.swc");
    std::fs::write(&big, vec![b'#'; 5 << 20]).expect("write");
    let out = run_within(neurotwin().env("NEUROTWIN_MAX_MORPHOLOGY_MB", "4").args(["morph", "info"]).arg(&big), 1.0);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains("big.swc") && e.contains("5242880 bytes") && e.contains("4194304 bytes") && e.contains("NEUROTWIN_MAX_MORPHOLOGY_MB"), "{e}");
}

#[test]
fn long_sections_cost_linear_time() {
    let dir = tempfile::tempdir().expect("tmp");
    // 80,000 points in one section (80 mm): was 1.8 s from a quadratic cost per segment
    let mut swc = String::from("1 1 0 0 0 5 -1\n");
    let mut asc = String::from("(\"CellBody\" (-5 0 0 1) (0 5 0 1) (5 0 0 1) (0 -5 0 1))\n( (Dendrite)\n");
    for i in 2..80_002 {
        swc += &format!("{i} 3 {} 0 0 1 {}\n", i, i - 1);
        asc += &format!("({} 0 0 1)\n", i + 3);
    }
    asc += ")\n";
    for (name, text) in [("long.swc", swc), ("long.asc", asc)] {
        let f = write(dir.path(), name, &text);
        let t0 = Instant::now();
        let out = neurotwin().args(["morph", "info", "--json"]).arg(&f).output().expect("run");
        let took = t0.elapsed().as_secs_f64();
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        // 0.15 s on the build machine in release; debug builds are slower
        assert!(took < 5.0, "{name}: {took} s");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert!(v["compartments"].as_u64().expect("n") > 3000);
    }
}

#[test]
fn simulate_and_replay_refuse_tstop_and_dt_out_of_range() {
    let dir = tempfile::tempdir().expect("tmp");
    let prefix = dir.path().join("run");
    for (flag, value, needle) in [("--tstop-ms", "1e9", "tstop"), ("--dt-ms", "1e-9", "dt (ms)"), ("--dt-ms", "0", "sim.dt must be positive")] {
        let mut cmd = neurotwin();
        cmd.args(["simulate", "--morphology"]).arg(synthetic()).args([flag, value, "--out"]).arg(&prefix);
        if flag != "--tstop-ms" {
            cmd.args(["--tstop-ms", "10"]);
        }
        let out = run_within(&mut cmd, 10.0);
        assert_eq!(out.status.code(), Some(1), "{flag} {value}");
        let e = stderr(&out);
        assert!(e.contains(needle), "{flag} {value}: {e}");
        assert!(!dir.path().join("run.csv").exists());
    }
    // replay: a golden case with tstop 1e9
    let case_text = std::fs::read_to_string(common::shared("reference/passive_noIh.json")).expect("case");
    let mut case: serde_json::Value = serde_json::from_str(&case_text).expect("json");
    case["sim"]["tstop"] = serde_json::json!(1e9);
    // without reference results (they would no longer match the tstop, a separate error)
    case["results"] = serde_json::Value::Null;
    let case_path = write(dir.path(), "long.json", &case.to_string());
    let out = run_within(
        neurotwin().arg("replay").arg(&case_path).arg("--morphology").arg(common::shared("morphologies/cell1.asc")),
        10.0,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("sim.tstop (ms) is 1000000000, above the limit"), "{}", stderr(&out));
    // predict refuses it before allocating the raster (was a 5 TB allocation and SIGABRT)
    let out = run_within(
        neurotwin().args(["--morphology"]).arg(common::shared("morphologies/cell1.asc")).args(["predict", "--case"]).arg(&case_path),
        10.0,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("sim.tstop (ms) is 1000000000, above the limit"), "{}", stderr(&out));
}

#[test]
fn dataset_counts_are_limited() {
    let dir = tempfile::tempdir().expect("tmp");
    for (args, needle) in [
        (vec!["--count", "18446744073709551615"], "--count"),
        (vec!["--count", "4000000000"], "--count"),
        (vec!["--count", "10", "--sims-per-shard", "100000"], "--sims-per-shard"),
        (vec!["--count", "10", "--duration-ms", "4000000000"], "--duration-ms"),
    ] {
        let mut cmd = neurotwin();
        cmd.args(["dataset", "--morphology"]).arg(synthetic()).arg("--out").arg(dir.path().join("ds")).args(&args);
        let out = run_within(&mut cmd, 10.0);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let e = stderr(&out);
        assert!(e.contains(needle) && e.contains("above the limit"), "{args:?}: {e}");
        assert!(!dir.path().join("ds").exists(), "nothing written");
    }
}
