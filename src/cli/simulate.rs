//! `neurotwin simulate`: an ad-hoc run described by command-line options and/or a small JSON
//! config, expressed as a golden-format [`Case`] and run by `neurotwin::golden::replay`, with
//! traces written as CSV and NumPy `.npy`.

use super::load_morphology;
use anyhow::Context as _;
use neurotwin::golden::adhoc::{parse_iclamp, parse_location, parse_synapse, SimulateConfig};
use neurotwin::golden::case::{Case, Results};
use neurotwin::golden::timing::timed;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// Simulated time (ms), at most 100,000 (see the README's Limits).
    #[arg(value_parser = super::finite_f64, long, allow_hyphen_values = true)]
    tstop_ms: Option<f64>,
    /// Time step (ms), 0.0001 to 1; default 0.025.
    #[arg(value_parser = super::finite_f64, long, allow_hyphen_values = true)]
    dt_ms: Option<f64>,
    /// Default 34 °C (Hay protocols; the paper's dataset used 6.3).
    #[arg(value_parser = super::finite_f64, long, allow_hyphen_values = true)]
    celsius: Option<f64>,
    /// Default −80 mV (Hay protocols; the paper's dataset used −76).
    #[arg(value_parser = super::finite_f64, long, allow_hyphen_values = true)]
    v_init_mv: Option<f64>,
    /// Sampling interval of the traces (ms), a multiple of dt; default 0.1.
    #[arg(value_parser = super::finite_f64, long, allow_hyphen_values = true)]
    record_dt_ms: Option<f64>,
    /// sec,x,delay_ms,dur_ms,amp_nA (repeatable).
    #[arg(long, allow_hyphen_values = true)]
    iclamp: Vec<String>,
    /// exc|inh,sec,x,t1;t2;... spike times in ms (repeatable).
    #[arg(long)]
    syn: Vec<String>,
    /// JSON with any of: tstop_ms, dt_ms, celsius, v_init_mv, record_dt_ms, variant_flags,
    /// iclamps, epsp_currents, synapses, record (options override scalars, append to lists).
    #[arg(long)]
    config: Option<PathBuf>,
    /// sec,x of an extra recording site (repeatable).
    #[arg(long)]
    record: Vec<String>,
    /// Output prefix: writes PREFIX.csv, PREFIX.npy and PREFIX.spikes.txt.
    #[arg(long, value_name = "PREFIX")]
    out: PathBuf,
}

/// Merge the options into the config (options override scalars, append to lists) and run.
pub fn run(args: SimulateArgs, morphology: Option<&Path>) -> anyhow::Result<()> {
    let morphology = super::require_morphology(morphology)?;
    let SimulateArgs { tstop_ms, dt_ms, celsius, v_init_mv, record_dt_ms, iclamp, syn, config, record, out } = args;
    let mut cfg = match &config {
        Some(p) => SimulateConfig::load(p)?,
        None => SimulateConfig::default(),
    };
    cfg.tstop_ms = tstop_ms.or(cfg.tstop_ms);
    cfg.dt_ms = dt_ms.or(cfg.dt_ms);
    cfg.celsius = celsius.or(cfg.celsius);
    cfg.v_init_mv = v_init_mv.or(cfg.v_init_mv);
    cfg.record_dt_ms = record_dt_ms.or(cfg.record_dt_ms);
    for c in &iclamp {
        cfg.iclamps.push(parse_iclamp(c)?);
    }
    for s in &syn {
        cfg.synapses.push(parse_synapse(s)?);
    }
    for r in &record {
        cfg.record.push(parse_location(r)?);
    }
    simulate_run(&cfg, &morphology, &out)
}

fn simulate_run(cfg: &SimulateConfig, morph_path: &Path, out: &Path) -> anyhow::Result<()> {
    let case = cfg.to_case()?;
    let morph = load_morphology(morph_path)?;
    let (results, timing) = timed(|| neurotwin::golden::replay::replay(&case, &morph));
    let results = results.context("simulating")?;
    let files = write_outputs(out, &case, &results).with_context(|| format!("writing outputs with prefix {}", out.display()))?;
    println!("spikes: {} at {} ms", results.spike_times_ms.len(), super::format_times_ms(&results.spike_times_ms));
    println!("time: {:.3} s wall, {:.3} s CPU", timing.wall_s, timing.cpu_s);
    for f in files {
        println!("wrote {}", f.display());
    }
    Ok(())
}

/// Write `PREFIX.csv`, `PREFIX.npy` (columns t_ms, soma_v_mv, one per site) and
/// `PREFIX.spikes.txt` (one spike time per line, ms).
pub fn write_outputs(prefix: &Path, case: &Case, results: &Results) -> std::io::Result<Vec<std::path::PathBuf>> {
    let dt = case.recording.soma_dt_ms;
    let rows: Vec<Vec<f64>> = (0..results.soma_v.len())
        .map(|k| {
            let mut row = vec![k as f64 * dt, results.soma_v[k]];
            row.extend(results.sites_v.iter().map(|s| s.get(k).copied().unwrap_or(f64::NAN)));
            row
        })
        .collect();
    let with_ext = |ext: &str| {
        let mut p = prefix.as_os_str().to_owned();
        p.push(ext);
        std::path::PathBuf::from(p)
    };
    let csv_path = with_ext(".csv");
    // every file atomically (temporary file, fsync, rename): a failed write leaves the previous
    // file or nothing
    neurotwin::atomic::write_with(&csv_path, |csv| {
        write!(csv, "t_ms,soma_v_mv")?;
        for s in &case.recording.sites {
            write!(csv, ",{}({})_v_mv", s.sec, s.x)?;
        }
        writeln!(csv)?;
        for row in &rows {
            let cells: Vec<String> = row.iter().map(|x| format!("{x}")).collect();
            writeln!(csv, "{}", cells.join(","))?;
        }
        Ok(())
    })?;
    let npy_path = with_ext(".npy");
    let n_cols = 2 + results.sites_v.len();
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    neurotwin::dataset::npy::write_npy(&npy_path, &[rows.len(), n_cols], &flat).map_err(std::io::Error::other)?;
    let spikes_path = with_ext(".spikes.txt");
    neurotwin::atomic::write_with(&spikes_path, |sp| {
        for t in &results.spike_times_ms {
            writeln!(sp, "{t}")?;
        }
        Ok(())
    })?;
    Ok(vec![csv_path, npy_path, spikes_path])
}

