//! `neurotwin faithfulness`: the deletion test over every somatic spike of a run (delete the top-k
//! attributed inputs, or k random active ones, in the engine and count the abolished spikes). The
//! work is done by `neurotwin::attribution::faithfulness`.

use super::attribute::setup;
use super::case_raster;
use anyhow::{Context, Result};
use neurotwin::attribution::faithfulness::{deletion_faithfulness, FaithfulnessOptions};
use neurotwin::golden::case::Case;
use neurotwin::stimulus::PaperProtocol;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct FaithfulnessArgs {
    /// Model (NAME.onnx next to NAME.json); default: the model in models/ that fits the morphology.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Golden-format case to use as the input; default: the paper's protocol (see --seed).
    #[arg(long)]
    case: Option<PathBuf>,
    /// Seed of the paper-protocol input when no case is given.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value_t = 6000)]
    duration_ms: u32,
    /// Rows deleted per trial.
    #[arg(long, default_value_t = 20)]
    k: usize,
    /// Random-deletion trials per spike.
    #[arg(long, default_value_t = 5)]
    random_trials: usize,
    /// Write every trial as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: &FaithfulnessArgs, morphology: Option<&Path>) -> Result<()> {
    let s = setup(morphology, args.model.as_deref())?;
    let tcn = s.tcn()?;
    let (raster, ampa_only, what) = match &args.case {
        Some(p) => {
            let case = Case::load(p)?;
            (case_raster(&case, &s.segs)?, case.model.variant_flags.ampa_only.unwrap_or(false), format!("case {}", case.name))
        }
        None => {
            let mut protocol = s.model.metadata().training_protocol().unwrap_or_else(PaperProtocol::nmda);
            protocol.duration_ms = args.duration_ms;
            let ampa = matches!(protocol.variant, neurotwin::stimulus::InputVariant::Ampa);
            (protocol.generate(&s.segs, args.seed)?.raster, ampa, format!("paper protocol, seed {}, {} ms", args.seed, args.duration_ms))
        }
    };
    let opts = FaithfulnessOptions { k: args.k, random_trials: args.random_trials, ampa_only, ..Default::default() };
    let t0 = Instant::now();
    let (f, original) = deletion_faithfulness(tcn, &s.cell, &s.segs, s.soma_node, &raster, &opts)?;
    println!("model {}; {what}: {} somatic spikes in the engine", s.model.metadata().name, original.spike_times_ms.len());
    for t in &f.trials {
        println!(
            "  spike {:8.2} ms: twin p {:.3} -> {:.3} without the top {}; engine spike {} by the top {}, {} of {} random deletions",
            t.spike_ms,
            t.twin_probability,
            t.twin_probability_top_deleted,
            f.k,
            if t.top_abolished { "abolished" } else { "kept" },
            f.k,
            t.random_abolished,
            t.random_trials
        );
    }
    let percent = |rate: Option<f64>, why: &str| rate.map_or_else(|| format!("n/a ({why})"), |r| format!("{:.0} %", 100.0 * r));
    println!(
        "deleting the top {} attributed inputs abolished {} of the spikes; deleting {} random active inputs {} ({:.0} s)",
        f.k,
        percent(f.top_rate(), "the engine fired no somatic spike, so there is nothing to abolish"),
        f.k,
        percent(f.random_rate(), "no random deletions were made: no spikes or --random-trials 0"),
        t0.elapsed().as_secs_f64()
    );
    if let Some(out) = &args.out {
        neurotwin::atomic::write(out, serde_json::to_string_pretty(&f)?).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}
