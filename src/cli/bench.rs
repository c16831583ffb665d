//! `neurotwin bench`: the engine benchmark (a golden case replayed single-threaded after a
//! warm-up; CPU seconds per simulated second, time shares per phase, throughput of independent
//! simulations). The work is done by `neurotwin::golden::bench`.

use super::load_morphology;
use anyhow::{Context, Result};
use neurotwin::golden::case::Case;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Golden case to replay.
    #[arg(long, default_value = "../shared/reference/paper_input_nmda_seed1001.json")]
    case: PathBuf,
    /// Timed single-threaded runs (the best and the median are reported).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Simulate only this much of the case (ms), e.g. for a profiler; default the whole case.
    #[arg(value_parser = super::finite_f64, long)]
    tstop_ms: Option<f64>,
    /// Independent simulations per throughput measurement (0 skips it).
    #[arg(long, default_value_t = 4)]
    jobs: usize,
}

/// `morphology` is the global --morphology; default the Hay 2011 cell, ../shared/morphologies/cell1.asc.
pub fn run(args: &BenchArgs, morphology: Option<&Path>) -> Result<()> {
    let morph_path = morphology.map_or_else(|| std::path::PathBuf::from("../shared/morphologies/cell1.asc"), Path::to_path_buf);
    bench(&args.case, &morph_path, args.repeats, args.tstop_ms, args.jobs)
}

fn bench(case_path: &Path, morph_path: &Path, repeats: usize, tstop_ms: Option<f64>, jobs: usize) -> Result<()> {
    for (what, path) in [("case", case_path), ("morphology", morph_path)] {
        if !path.is_file() {
            anyhow::bail!("{what} file {} not found (pass --{what} PATH)", path.display());
        }
    }
    let case = Case::load(case_path)?;
    let morph = load_morphology(morph_path)?;
    let bench = neurotwin::golden::bench::BenchCase::new(case, &morph).with_context(|| format!("preparing {}", case_path.display()))?;
    let opts = neurotwin::golden::bench::Options { repeats: repeats.max(1), tstop_ms, jobs };
    neurotwin::golden::bench::report(&bench, &opts, &mut std::io::stdout().lock())
}
