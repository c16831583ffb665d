//! The Python training package's own tests (pytest, tiny synthetic data), run as part of
//! `cargo test --features python-suites` (the README's second test command, which CI runs on every
//! submission). Needs python3 with `training/requirements.txt` installed; fails with a clear
//! message otherwise.
#![cfg(feature = "python-suites")]

use std::path::Path;
use std::process::Command;

#[test]
fn training_package_pytest_suite_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let probe = Command::new("python3").args(["-c", "import torch, numpy, onnx, onnxruntime, pytest"]).current_dir(root).output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "python3 lacks the training requirements ({}); run: python3 -m pip install -r training/requirements.txt",
            String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or("")
        ),
        Err(e) => panic!("python3 is needed for the training package's tests: {e}"),
    }
    let out = Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "training/tests"])
        .current_dir(root)
        .output()
        .expect("run pytest");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{text}");
    assert!(out.status.success(), "pytest failed:\n{text}");
    assert!(text.contains(" passed"), "pytest ran no test:\n{text}");
}
