//! The Slurm job array of docs/datasets.md on a real single-node Slurm: `tests/slurm/run.sh`
//! starts munged, slurmctld and slurmd on localhost from a temporary folder, submits the
//! documented job script with small sizes (4 tasks), cancels one task mid-way and resubmits it,
//! merges the parts with the documented command and requires the folder to be byte identical to a
//! one-machine `neurotwin dataset` with the same seed. Everything it started is stopped after.
//!
//! Needs Slurm and MUNGE (Debian: `apt-get install slurm-wlm munge`) and the reference data
//! (`../shared`): system packages, so it runs with `--features slurm` (the README's second test
//! command, which CI runs with the packages installed). Without them the test FAILS, it never
//! skips.
#![cfg(feature = "slurm")]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[test]
fn the_documented_job_array_on_a_single_node_slurm_is_byte_identical_to_one_machine() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = repo.join("tests/slurm/run.sh");
    let started = Instant::now();
    let out = Command::new("bash")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_neurotwin"))
        .arg(repo)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{} failed ({}) after {:.0} s:\n{text}", script.display(), out.status, started.elapsed().as_secs_f64());
    assert!(text.contains("PASS:"), "{} ended without its PASS line:\n{text}", script.display());
    println!("{text}");
}
