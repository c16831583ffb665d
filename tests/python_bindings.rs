//! The Python bindings (python/, `import neurotwin`): installed exactly as the README says
//! (`python3 -m pip install ./python`), then their pytest suite (python/tests: bit-identical
//! results to this executable on the same seeds, a golden case replayed as in Rust, bad input
//! raising `NeurotwinError`) and the example (examples/cell_vs_twin.py) run against the built
//! executable. Needs pip, pytest, numpy and matplotlib (training/requirements.txt).
#![cfg(feature = "python-suites")]

use std::path::Path;
use std::process::Command;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: could not start: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what} failed ({}):\n{text}", out.status);
    text
}

fn python() -> Command {
    Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
}

/// One test: pip install first, then everything that imports the installed package.
#[test]
fn bindings_install_and_pass_their_suite_and_example() {
    for module in ["pytest", "numpy", "matplotlib"] {
        let ok = python().args(["-c", &format!("import {module}")]).status().is_ok_and(|s| s.success());
        assert!(ok, "Python module {module} is missing: python3 -m pip install -r training/requirements.txt");
    }
    let install = run(
        python().args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "./python"]).current_dir(REPO),
        "python3 -m pip install ./python",
    );
    assert!(install.contains("Successfully installed neurotwin"), "{install}");
    let bin = env!("CARGO_BIN_EXE_neurotwin");
    let suite = run(
        python().args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "python/tests"]).env("NEUROTWIN_BIN", bin).current_dir(REPO),
        "pytest python/tests",
    );
    eprintln!("{suite}");
    assert!(suite.contains("passed") && !suite.contains("skipped"), "{suite}");
    let dir = tempfile::tempdir().expect("temporary folder");
    let png = dir.path().join("cell_vs_twin.png");
    let hay = Path::new(REPO).join("../shared/morphologies/cell1.asc");
    let example = run(
        python()
            .args(["examples/cell_vs_twin.py", "--duration-ms", "3000", "--seed", "3", "--model", "models/l5pc-hay-nmda.json", "--morphology"])
            .arg(&hay)
            .arg("--out")
            .arg(&png)
            .current_dir(REPO),
        "examples/cell_vs_twin.py",
    );
    eprintln!("{example}");
    assert!(example.contains("cell spikes: 8"), "the seed-3 input makes the Hay cell fire 8 times in 3 s:\n{example}");
    assert!(example.contains("the cell without them: spike"), "{example}");
    let bytes = std::fs::read(&png).expect("the example's PNG");
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000, "the plot is not a PNG of a figure");
}
