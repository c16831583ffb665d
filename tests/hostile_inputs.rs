//! Issue 27, "tried as a hostile user would": every reproducer of the command line gets a clear
//! message within a second and changes nothing. FIFOs and devices are refused at once (no hang,
//! no endless read), shards are checked against the manifest's sizes and SHA-256, invalid values
//! in a shard name the file and index, a dataset folder has one writer, outputs never overwrite
//! inputs without --force, and non-finite option values are refused. (The scenario and control
//! limits are unit tests in `src/app/scenario_tests.rs`, `src/limits.rs`, `src/stimulus`.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn neurotwin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_neurotwin"));
    c.env_remove("ORT_DYLIB_PATH");
    c
}

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/surrogate").join(rel)
}

/// Run; it must end within `secs` (the command's own start included). One that hangs (a FIFO
/// read, an endless file) is killed after 10 s and fails the test instead of hanging it.
fn run_within(cmd: &mut Command, secs: f64) -> Output {
    use std::io::Read;
    let t0 = Instant::now();
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run neurotwin");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out_thread = drain(Box::new(child.stdout.take().expect("stdout")));
    let err_thread = drain(Box::new(child.stderr.take().expect("stderr")));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if t0.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hung: killed after {:?}", t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = t0.elapsed();
    let out = Output { status, stdout: out_thread.join().expect("stdout"), stderr: err_thread.join().expect("stderr") };
    assert!(elapsed < Duration::from_secs_f64(secs), "took {elapsed:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().expect("mkfifo").success();
    assert!(ok, "mkfifo {}", path.display());
}

/// A refusal: exit status 1 and every needle in stderr.
fn assert_refused(out: &Output, needles: &[&str]) {
    let e = stderr(out);
    assert_eq!(out.status.code(), Some(1), "expected a refusal, got {:?}: {e}", out.status);
    for n in needles {
        assert!(e.contains(n), "{n:?} not in stderr: {e}");
    }
}

/// A small dataset on the fixture's 10-segment cell (3 simulations of 1.5 s, 2 shards).
fn small_dataset(dir: &Path) -> PathBuf {
    let ds = dir.join("ds");
    let o = neurotwin()
        .args(["dataset", "--morphology"])
        .arg(data("tiny10.swc"))
        .args(["--count", "3", "--duration-ms", "1500", "--sims-per-shard", "2", "--quiet", "--out"])
        .arg(&ds)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    ds
}

fn evaluate(ds: &Path) -> Command {
    let mut c = neurotwin();
    c.args(["evaluate", "--model"]).arg(data("fixture.onnx")).arg("--data").arg(ds);
    c
}

#[test]
fn scenario_fifo_and_dev_zero_are_refused_before_the_window_opens() {
    let dir = tempfile::tempdir().expect("tmp");
    let fifo = dir.path().join("scenario.json");
    mkfifo(&fifo);
    // no display is needed: the scenario is read before the window opens
    let out = run_within(neurotwin().arg("--scenario").arg(&fifo).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY"), 1.0);
    assert_refused(&out, &["scenario.json", "not a regular file (a FIFO)"]);
    let out = run_within(neurotwin().args(["--scenario", "/dev/zero"]).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY"), 1.0);
    assert_refused(&out, &["/dev/zero", "character device"]);
    // a scenario breaking a limit: refused by name before the window opens too
    let burst = dir.path().join("burst.json");
    std::fs::write(
        &burst,
        r#"{"format": "neurotwin-scenario-v1", "synapses": [{"section": "apic[0]", "x": 0.5, "kind": "exc",
            "drive": {"type": "burst", "n_spikes": 4294967295, "freq_hz": 100.0, "start_ms": 0.0}}]}"#,
    )
    .expect("write");
    let out = run_within(neurotwin().arg("--scenario").arg(&burst).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY"), 1.0);
    assert_refused(&out, &["synapses[0].drive", "burst n_spikes = 4294967295", "limit of 100"]);
}

#[test]
fn a_parity_file_that_is_a_fifo_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("tmp");
    for f in ["fixture.onnx", "fixture.json", "fixture.parity.output.npy"] {
        std::fs::copy(data(f), dir.path().join(f)).expect("copy");
    }
    mkfifo(&dir.path().join("fixture.parity.input.npy"));
    let out = run_within(
        neurotwin()
            .arg("predict")
            .arg("--model")
            .arg(dir.path().join("fixture.onnx"))
            .arg("--case")
            .arg(data("fixture_case.json"))
            .arg("--morphology")
            .arg(data("tiny10.swc")),
        1.0,
    );
    assert_refused(&out, &["fixture.parity.input.npy", "not a regular file (a FIFO)"]);
}

#[test]
fn a_manifest_that_is_a_fifo_or_dev_zero_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let ds = dir.path().join("ds");
    std::fs::create_dir(&ds).expect("mkdir");
    mkfifo(&ds.join("manifest.json"));
    let out = run_within(&mut evaluate(&ds), 1.0);
    assert_refused(&out, &["manifest.json", "not a regular file (a FIFO)"]);
    std::fs::remove_file(ds.join("manifest.json")).expect("rm");
    std::os::unix::fs::symlink("/dev/zero", ds.join("manifest.json")).expect("symlink");
    let out = run_within(&mut evaluate(&ds), 1.0);
    assert_refused(&out, &["manifest.json", "character device"]);
}

#[test]
fn evaluate_checks_shards_against_the_manifest_and_refuses_invalid_values() {
    let dir = tempfile::tempdir().expect("tmp");
    let ds = small_dataset(dir.path());
    let out_json = dir.path().join("eval.json");
    // an edit of the same size: the last soma sample of shard 0 becomes NaN
    let soma = ds.join("shard_00000/soma_v.npy");
    let mut bytes = std::fs::read(&soma).expect("read");
    let n = bytes.len();
    bytes[n - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&soma, &bytes).expect("write");
    let out = run_within(evaluate(&ds).arg("--out").arg(&out_json), 1.0);
    assert_refused(&out, &["shard_00000", "soma_v.npy: SHA-256", "differs from the manifest's"]);
    assert!(!out_json.exists(), "nothing written");
    // without the check, the NaN itself is refused, naming the file and the index
    let out = run_within(evaluate(&ds).arg("--no-verify").arg("--out").arg(&out_json), 1.0);
    let last = 2 * 1500 - 1;
    assert_refused(&out, &["--no-verify given", &format!("soma_v.npy: value NaN at index {last} (simulation 1, 1499 ms) is not a finite voltage")]);
    assert!(!out_json.exists(), "nothing written");
    // a shorter file: the size differs
    std::fs::write(&soma, &bytes[..n - 4]).expect("write");
    let out = run_within(&mut evaluate(&ds), 1.0);
    assert_refused(&out, &["soma_v.npy has", "bytes, the manifest says"]);
}

#[test]
fn a_manifest_listing_a_shard_twice_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let ds = small_dataset(dir.path());
    let path = ds.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    let first = m["shards"][0].clone();
    m["shards"].as_array_mut().expect("shards").push(first);
    std::fs::write(&path, serde_json::to_string(&m).expect("json")).expect("write");
    let out = run_within(&mut evaluate(&ds), 1.0);
    assert_refused(&out, &["manifest.json", "shards[2]: shard 0 is listed twice"]);
}

#[test]
fn a_second_dataset_writer_is_refused_with_the_holders_pid() {
    let dir = tempfile::tempdir().expect("tmp");
    let ds = dir.path().join("ds");
    let args = |c: &mut Command, count: &str| {
        c.args(["dataset", "--morphology"]).arg(data("tiny10.swc")).args(["--count", count, "--duration-ms", "6000", "--threads", "1", "--quiet", "--out"]).arg(&ds);
    };
    let mut first_cmd = neurotwin();
    args(&mut first_cmd, "2000");
    let mut first = first_cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn the first writer");
    let lock = ds.join(".manifest.json.lock");
    let t0 = Instant::now();
    while !lock.exists() {
        assert!(t0.elapsed() < Duration::from_secs(20), "the first writer never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut second = neurotwin();
    args(&mut second, "2000");
    let out = run_within(&mut second, 1.0);
    let pid = first.id();
    assert_refused(&out, &[&format!("is being written by process {pid}"), ".manifest.json.lock"]);
    // killed, the first writer leaves its lock behind; the next writer takes it over (once the
    // first has written its manifest, which the third is then refused by: on a loaded machine
    // the lock can exist a while before the manifest does)
    let t0 = Instant::now();
    while !ds.join("manifest.json").exists() {
        assert!(t0.elapsed() < Duration::from_secs(60), "the first writer never wrote its manifest");
        std::thread::sleep(Duration::from_millis(20));
    }
    first.kill().expect("kill the first writer");
    first.wait().expect("reap it");
    assert!(lock.exists());
    let mut third = neurotwin();
    args(&mut third, "3");
    let out = run_within(&mut third, 5.0);
    let e = stderr(&out);
    assert!(e.contains("taking over the stale lock") && e.contains(&pid.to_string()), "{e}");
    // (it then refuses the folder, which holds another dataset definition; its lock is gone)
    assert!(e.contains("describes a different dataset"), "{e}");
    assert!(!lock.exists(), "the lock is removed when the writer ends");
}

#[test]
fn outputs_that_are_inputs_are_refused_unless_forced() {
    let dir = tempfile::tempdir().expect("tmp");
    let case = dir.path().join("case.json");
    std::fs::copy(data("fixture_case.json"), &case).expect("copy");
    let original = std::fs::read(&case).expect("read");
    let link = dir.path().join("link.json");
    std::fs::hard_link(&case, &link).expect("hard link");
    let morph = data("tiny10.swc");
    // replay CASE --out CASE, and through a hard link
    for out_path in [&case, &link] {
        let out = run_within(neurotwin().arg("replay").arg(&case).arg("--out").arg(out_path).arg("--morphology").arg(&morph), 1.0);
        assert_refused(&out, &["is the same file as the input", "--force"]);
    }
    // predict / attribute --case X --out X
    let out = run_within(
        neurotwin().arg("predict").arg("--model").arg(data("fixture.onnx")).arg("--case").arg(&case).arg("--out").arg(&case).arg("--morphology").arg(&morph),
        1.0,
    );
    assert_refused(&out, &["case.json is the same file as the input", "--case", "--force"]);
    let out = run_within(
        neurotwin().arg("attribute").arg("--model").arg(data("fixture.onnx")).arg("--case").arg(&case).args(["--t-ms", "100", "--out"]).arg(&link).arg("--morphology").arg(&morph),
        1.0,
    );
    assert_refused(&out, &["is the same file as the input", "--force"]);
    assert_eq!(std::fs::read(&case).expect("read"), original, "the case is untouched");
    // evaluate --out D/manifest.json
    let ds = dir.path().join("ds");
    std::fs::create_dir(&ds).expect("mkdir");
    std::fs::write(ds.join("manifest.json"), "{}").expect("write");
    let out = run_within(evaluate(&ds).arg("--out").arg(ds.join("manifest.json")), 1.0);
    assert_refused(&out, &["manifest.json is the same file as the input", "a dataset manifest"]);
    assert_eq!(std::fs::read_to_string(ds.join("manifest.json")).expect("read"), "{}");
}

#[test]
fn non_finite_option_values_are_refused() {
    for v in ["inf", "NaN", "-inf", "1e999"] {
        let out = run_within(
            neurotwin().arg("predict").arg("--model").arg(data("fixture.onnx")).arg("--case").arg(data("fixture_case.json")).arg(format!("--fpr={v}")),
            1.0,
        );
        let e = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{v}: {e}");
        assert!(e.contains("--fpr") && e.contains("not a finite number"), "{v}: {e}");
    }
    let out = run_within(neurotwin().args(["simulate", "--tstop-ms", "nan", "--out", "/nonexistent/x"]), 1.0);
    assert!(out.status.code() == Some(2) && stderr(&out).contains("not a finite number"), "{}", stderr(&out));
}

#[test]
fn a_manifest_whose_shards_do_not_add_up_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let ds = small_dataset(dir.path());
    let path = ds.join("manifest.json");
    let original = std::fs::read_to_string(&path).expect("read");
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut m: serde_json::Value = serde_json::from_str(&original).expect("json");
        f(&mut m);
        std::fs::write(&path, serde_json::to_string(&m).expect("json")).expect("write");
    };
    // a shard that claims to start elsewhere (its seeds would be derived for other simulations)
    edit(&|m| m["shards"][1]["first_sim"] = serde_json::json!(7));
    let out = run_within(&mut evaluate(&ds), 1.0);
    assert_refused(&out, &["manifest.json", "shards[1].first_sim is 7, expected"]);
    // a count that the shards do not hold
    edit(&|m| {
        let count = m["definition"]["count"].as_u64().expect("count");
        m["definition"]["count"] = serde_json::json!(count + 1);
    });
    let out = run_within(&mut evaluate(&ds), 1.0);
    assert_refused(&out, &["manifest.json", "simulations, definition.count is"]);
    // the untouched manifest still evaluates (the edits above were what was refused)
    std::fs::write(&path, &original).expect("write");
    let out = run_within(&mut evaluate(&ds), 60.0);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
