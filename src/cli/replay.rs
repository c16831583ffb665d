//! `neurotwin replay`: replay a golden case on the Hay 2011 cell, print a comparison with the
//! case's reference results or write the case with neurotwin's results. The work is done by
//! `neurotwin::golden::replay`.

use super::load_morphology;
use anyhow::{bail, Context, Result};
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
    /// Replay even when the case's recording sites lie at other distances from the soma in this
    /// morphology than in the case (the case was made on another cell).
    #[arg(long)]
    allow_other_geometry: bool,
    /// Write --out even when it is one of the inputs (refused by default: it would destroy it).
    #[arg(long)]
    force: bool,
}

pub fn run(args: &ReplayArgs, morphology: Option<&Path>) -> Result<()> {
    super::refuse_overwriting_inputs(args.out.as_deref(), &[("the case", Some(&args.case)), ("--morphology", morphology)], args.force)?;
    replay(&args.case, &super::require_morphology(morphology)?, args.out.as_deref(), args.allow_other_geometry)
}

/// Largest difference (µm) between a recording site's distance from the soma in the case and
/// in the morphology before the case counts as made on another cell: 1 µm plus 1 %.
fn geometry_tolerance_um(dist_um: f64) -> f64 {
    1.0 + 0.01 * dist_um.abs()
}

/// The case's recording sites at the distances from soma(0.5) the case states, in this
/// morphology; an error naming the first site that is elsewhere.
fn check_geometry(case: &Case, morph: &neurotwin::Morphology, morph_path: &Path) -> Result<()> {
    let cable = neurotwin::Cable::new(morph, &neurotwin::Discretisation::default())?;
    // missing sections first: the plainer error
    for site in &case.recording.sites {
        if morph.section_index(&site.sec).is_none() {
            bail!("case {}: recording site {} ({}) is on a section {} lacks: no section named {}", case.name, site.label, site.x, morph_path.display(), site.sec);
        }
    }
    for site in &case.recording.sites {
        let (Some(expected), Some(si)) = (site.dist_from_soma_um, morph.section_index(&site.sec)) else {
            continue;
        };
        let ours = cable.section_dist0_um[si] + site.x * cable.section_length_um[si];
        if (ours - expected).abs() > geometry_tolerance_um(expected) {
            bail!(
                "case {} was made on another cell: its recording site {}({}) ({}) is {expected:.1} µm from the soma, \
                 {ours:.1} µm in {} (use --allow-other-geometry to replay anyway)",
                case.name,
                site.sec,
                site.x,
                site.label,
                morph_path.display()
            );
        }
    }
    Ok(())
}

fn replay(case_path: &Path, morph_path: &Path, out: Option<&Path>, allow_other_geometry: bool) -> Result<()> {
    let case = Case::load(case_path)?;
    let morph = load_morphology(morph_path)?;
    if !allow_other_geometry {
        check_geometry(&case, &morph, morph_path).with_context(|| format!("replaying {}", case_path.display()))?;
    }
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
