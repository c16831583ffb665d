//! Issue 17, items 4 and 5: outputs written atomically, broken pipes end quietly, one
//! --morphology before or after the subcommand, help on every option, spike times to 0.001 ms.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn neurotwin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_neurotwin"));
    c.env_remove("ORT_DYLIB_PATH");
    c
}

fn synthetic() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("morphologies/l5pc-synthetic.swc")
}

#[test]
fn a_closed_pipe_ends_quietly() {
    for args in [vec!["morph", "convert", "--to", "swc"], vec!["morph", "info"]] {
        let mut child = neurotwin().args(&args).arg(synthetic()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("line");
        // the reader is dropped here: the pipe is closed after one line, as `| head -1` does
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!first.is_empty());
        assert!(!stderr.contains("panicked") && !stderr.contains("backtrace") && !stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

#[test]
fn morphology_before_or_after_the_subcommand_and_times_to_the_microsecond() {
    let dir = tempfile::tempdir().expect("tmp");
    let run = |before: bool, prefix: &str| {
        let mut c = neurotwin();
        if before {
            c.arg("--morphology").arg(synthetic());
        }
        c.args(["simulate", "--tstop-ms", "30", "--iclamp", "soma[0],0.5,5,20,2", "--out"]).arg(dir.path().join(prefix));
        if !before {
            c.arg("--morphology").arg(synthetic());
        }
        let out = c.output().expect("run");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().to_string()
    };
    let a = run(true, "a");
    let b = run(false, "b");
    assert_eq!(a, b);
    // "spikes: N at [11.610, 15.334] ms": three decimals each
    let inside = a.split('[').nth(1).and_then(|r| r.split(']').next()).expect("list");
    assert!(!inside.is_empty(), "{a}");
    for t in inside.split(", ") {
        assert_eq!(t.split('.').nth(1).map(str::len), Some(3), "{a}");
    }
    // a subcommand that needs a morphology says so
    let out = neurotwin().args(["simulate", "--tstop-ms", "10", "--out"]).arg(dir.path().join("c")).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --morphology FILE"));
}

#[test]
fn outputs_are_written_whole_or_not_at_all() {
    let dir = tempfile::tempdir().expect("tmp");
    // an existing output is replaced whole
    let out_path = dir.path().join("cell.swc");
    std::fs::write(&out_path, "old").expect("write");
    let out = neurotwin().args(["morph", "convert", "--to", "swc", "--out"]).arg(&out_path).arg(synthetic()).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&out_path).expect("read");
    assert!(text.starts_with("# SWC written by neurotwin") && text.ends_with('\n'));
    // a write that cannot be done leaves nothing behind (no temporary file, no half file)
    let missing = dir.path().join("no-such-folder/cell.swc");
    let out = neurotwin().args(["morph", "convert", "--to", "swc", "--out"]).arg(&missing).arg(synthetic()).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-folder/cell.swc"));
    let names: Vec<String> = std::fs::read_dir(dir.path()).expect("dir").map(|e| e.expect("e").file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, vec!["cell.swc".to_string()], "only the finished file");
}

#[test]
fn every_option_has_help_text() {
    let subcommands: &[&[&str]] = &[
        &[],
        &["morph", "info"],
        &["morph", "convert"],
        &["morph", "synth"],
        &["replay"],
        &["simulate"],
        &["dataset"],
        &["predict"],
        &["evaluate"],
        &["attribute"],
        &["faithfulness"],
        &["bench-twin"],
        &["bench"],
    ];
    for sub in subcommands {
        let out = neurotwin().args(*sub).arg("--help").output().expect("help");
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        let mut in_options = false;
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("Options:") {
                in_options = true;
                continue;
            }
            let is_option = line.starts_with("  -") || line.starts_with("      --");
            if !in_options || !is_option || line.contains("--help") || line.contains("--version") {
                continue;
            }
            let next = lines.get(i + 1).copied().unwrap_or("");
            // same-line layout ("--x <X>    text") or next-line layout (text indented below)
            let same_line = line.trim().split("  ").filter(|p| !p.trim().is_empty()).count() > 1;
            let described = same_line || (next.starts_with("          ") && !next.trim().is_empty());
            assert!(described, "{sub:?}: option without help text: {line}");
        }
    }
}
