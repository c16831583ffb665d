//! `neurotwin replay`: replay a golden case on the Hay 2011 cell, print a comparison with the
//! case's reference results or write the case with neurotwin's results. The work is done by
//! `neurotwin::golden::replay`.

use super::load_morphology;
use anyhow::{Context, Result};
use neurotwin::golden::case::Case;
use neurotwin::golden::timing::timed;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// Golden-format case (l5pc-golden-v1 JSON); the cell is the global --morphology.
    case: PathBuf,
    /// Write the case with neurotwin's results and timing here instead of printing a summary.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: &ReplayArgs, morphology: Option<&Path>) -> Result<()> {
    replay(&args.case, &super::require_morphology(morphology)?, args.out.as_deref())
}

fn replay(case_path: &Path, morph_path: &Path, out: Option<&Path>) -> Result<()> {
    let case = Case::load(case_path)?;
    let morph = load_morphology(morph_path)?;
    let (results, timing) = timed(|| neurotwin::golden::replay::replay(&case, &morph));
    let results = results.with_context(|| format!("replaying {}", case_path.display()))?;
    if let Some(out) = out {
        let mut written = case.clone();
        written.results = Some(results);
        written.timing = Some(serde_json::to_value(timing)?);
        neurotwin::atomic::write(out, serde_json::to_string(&written)?).with_context(|| format!("writing {}", out.display()))?;
        return Ok(());
    }
    println!("case {} ({} ms simulated)", case.name, case.sim.tstop);
    println!("spikes: {} at {} ms", results.spike_times_ms.len(), super::format_times_ms(&results.spike_times_ms));
    let per_s = if case.sim.tstop > 0.0 { timing.cpu_s / (case.sim.tstop * 1e-3) } else { 0.0 };
    println!("time: {:.3} s wall, {:.3} s CPU ({:.3} CPU s per simulated s)", timing.wall_s, timing.cpu_s, per_s);
    if let Some(reference) = &case.results {
        let c = neurotwin::golden::replay::compare(&results, reference);
        let paired = c.spikes_ours.min(c.spikes_reference);
        println!(
            "vs reference: spike count {} ({} ours, {} reference), worst spike-time difference {}",
            if c.spikes_ours == c.spikes_reference { "matches" } else { "DIFFERS" },
            c.spikes_ours,
            c.spikes_reference,
            if paired == 0 {
                "n/a (no spikes to pair)".to_string()
            } else if c.spikes_ours != c.spikes_reference {
                format!("{:.3} ms over the first {paired} spikes in order", c.worst_spike_dt_ms)
            } else {
                format!("{:.3} ms", c.worst_spike_dt_ms)
            }
        );
        println!("soma RMSE {:.4} mV", c.soma_rmse_mv);
        for (site, r) in case.recording.sites.iter().zip(&c.site_rmse_mv) {
            println!("  {}({}) {}: RMSE {:.4} mV", site.sec, site.x, site.label, r);
        }
    }
    Ok(())
}
