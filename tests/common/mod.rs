//! Helpers shared by the integration tests: locating `../shared` (the NEURON reference data).
#![allow(dead_code)]

use std::path::PathBuf;

pub mod xvfb;

/// The `shared` folder beside the project (NEURON reference data, specs, the Hay morphology).
/// Panics with a clear message if it is missing: a golden test must never pass silently.
pub fn shared_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var("NEUROTWIN_SHARED").ok().map(PathBuf::from),
        Some(root.join("../shared")),
        Some(root.join("shared")),
    ];
    for c in candidates.into_iter().flatten() {
        if c.join("reference").is_dir() && c.join("spec").is_dir() {
            return c;
        }
    }
    panic!(
        "NEURON reference data not found: expected a `shared` folder (with reference/ and spec/) beside the \
         project at {}/../shared, or set NEUROTWIN_SHARED. These tests compare against it and cannot pass without it.",
        root.display()
    );
}

pub fn shared(rel: &str) -> PathBuf {
    let p = shared_dir().join(rel);
    assert!(p.exists(), "missing reference file {}", p.display());
    p
}

/// Relative difference |a − b| / max(|b|, tiny).
pub fn rel_diff(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}
