//! `neurotwin simulate`: an ad-hoc run described by command-line options and/or a small JSON
//! config, expressed as a golden-format [`Case`] and run by `neurotwin::golden::replay`, with
//! traces written as CSV and NumPy `.npy`.

use super::load_morphology;
use anyhow::Context as _;
use neurotwin::golden::case::{Case, EpspEntry, IClampEntry, Location, ModelInfo, RecordingInfo, Results, SimInfo, Site, Stimuli, SynapseEntry, VariantFlags};
use neurotwin::biophysics::SynapseKind;
use neurotwin::golden::timing::timed;
use serde::{Deserialize, Serialize};
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

/// The optional JSON config of `simulate` (every field optional; command-line values override
/// scalars and append to lists).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulateConfig {
    pub tstop_ms: Option<f64>,
    pub dt_ms: Option<f64>,
    pub celsius: Option<f64>,
    pub v_init_mv: Option<f64>,
    pub record_dt_ms: Option<f64>,
    #[serde(default)]
    pub variant_flags: VariantFlags,
    #[serde(default)]
    pub iclamps: Vec<IClampEntry>,
    #[serde(default)]
    pub epsp_currents: Vec<EpspEntry>,
    #[serde(default)]
    pub synapses: Vec<SynapseEntry>,
    #[serde(default)]
    pub record: Vec<Location>,
}

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("bad {what} {text:?}: {message}")]
    Parse { what: &'static str, text: String, message: String },
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("reading config {path}: {message}")]
    Config { path: String, message: String },
}

fn parse_f64(what: &'static str, text: &str, field: &str) -> Result<f64, SimulateError> {
    let x: f64 = field.trim().parse().map_err(|_| SimulateError::Parse { what, text: text.into(), message: format!("{field:?} is not a number") })?;
    if x.is_finite() {
        Ok(x)
    } else {
        Err(SimulateError::Parse { what, text: text.into(), message: format!("{field:?} is not finite") })
    }
}

/// `sec,x,delay,dur,amp` (ms, ms, nA).
pub fn parse_iclamp(text: &str) -> Result<IClampEntry, SimulateError> {
    let f: Vec<&str> = text.split(',').collect();
    if f.len() != 5 {
        return Err(SimulateError::Parse { what: "--iclamp", text: text.into(), message: "expected sec,x,delay_ms,dur_ms,amp_nA".into() });
    }
    Ok(IClampEntry {
        sec: f[0].trim().to_string(),
        x: parse_f64("--iclamp", text, f[1])?,
        delay_ms: parse_f64("--iclamp", text, f[2])?,
        dur_ms: parse_f64("--iclamp", text, f[3])?,
        amp_na: parse_f64("--iclamp", text, f[4])?,
    })
}

/// `exc|inh,sec,x,t1;t2;...` (ms).
pub fn parse_synapse(text: &str) -> Result<SynapseEntry, SimulateError> {
    let f: Vec<&str> = text.splitn(4, ',').collect();
    if f.len() != 4 {
        return Err(SimulateError::Parse { what: "--syn", text: text.into(), message: "expected exc|inh,sec,x,t1;t2;...".into() });
    }
    let kind = match f[0].trim() {
        "exc" => SynapseKind::Exc,
        "inh" => SynapseKind::Inh,
        other => return Err(SimulateError::Parse { what: "--syn", text: text.into(), message: format!("kind {other:?} is not exc or inh") }),
    };
    let spikes_ms = f[3].split(';').filter(|s| !s.trim().is_empty()).map(|s| parse_f64("--syn", text, s)).collect::<Result<Vec<_>, _>>()?;
    Ok(SynapseEntry { kind, sec: f[1].trim().to_string(), x: parse_f64("--syn", text, f[2])?, spikes_ms, paper_seg_index: None })
}

/// `sec,x`.
pub fn parse_location(text: &str) -> Result<Location, SimulateError> {
    let f: Vec<&str> = text.split(',').collect();
    if f.len() != 2 {
        return Err(SimulateError::Parse { what: "--record", text: text.into(), message: "expected sec,x".into() });
    }
    Ok(Location { sec: f[0].trim().to_string(), x: parse_f64("--record", text, f[1])? })
}

impl SimulateConfig {
    pub fn load(path: &Path) -> Result<SimulateConfig, SimulateError> {
        let err = |message: String| SimulateError::Config { path: path.display().to_string(), message };
        let text = neurotwin::input::read_json_text(path).map_err(|e| err(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| err(e.to_string()))
    }

    /// The run as a golden-format case (soma and sites sampled every `record_dt_ms`, default
    /// 0.1 ms; spikes as upward crossings of −20 mV). Defaults: dt 0.025 ms, 34 °C, v_init −80 mV
    /// (the Hay protocols of cases A-D).
    pub fn to_case(&self) -> Result<Case, SimulateError> {
        let record_dt = self.record_dt_ms.unwrap_or(0.1);
        Ok(Case {
            format: neurotwin::golden::case::FORMAT.to_string(),
            name: "simulate".into(),
            description: "neurotwin simulate".into(),
            model: ModelInfo { name: "Hay et al. 2011 L5PC, biophys5b".into(), variant_flags: self.variant_flags, changes_from_reference_model: vec![] },
            sim: SimInfo {
                dt: Some(self.dt_ms.unwrap_or(0.025)),
                tstop: self.tstop_ms.ok_or(SimulateError::Missing("--tstop-ms"))?,
                celsius: self.celsius.unwrap_or(34.0),
                v_init: self.v_init_mv.unwrap_or(-80.0),
                integrator: "neurotwin fixed step (NEURON backward Euler)".into(),
            },
            stimuli: Stimuli { iclamps: self.iclamps.clone(), epsp_currents: self.epsp_currents.clone() },
            synapses: self.synapses.clone(),
            recording: RecordingInfo {
                soma: Location { sec: "soma[0]".into(), x: 0.5 },
                soma_dt_ms: record_dt,
                sites_dt_ms: record_dt,
                sites: self.record.iter().map(|l| Site { sec: l.sec.clone(), x: l.x, dist_from_soma_um: None, label: format!("{}({})", l.sec, l.x) }).collect(),
                spike_threshold_mv: -20.0,
                spike_rule: None,
            },
            paper_input_params: None,
            results: None,
            timing: None,
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_options() {
        let c = parse_iclamp("soma[0],0.5,10,100,0.5").unwrap();
        assert_eq!((c.sec.as_str(), c.x, c.delay_ms, c.dur_ms, c.amp_na), ("soma[0]", 0.5, 10.0, 100.0, 0.5));
        let s = parse_synapse("exc,dend[5],0.5,100;105;110").unwrap();
        assert_eq!(s.spikes_ms, vec![100.0, 105.0, 110.0]);
        assert!(parse_synapse("ampa,dend[5],0.5,100").is_err());
        assert!(parse_iclamp("soma[0],0.5,10,NaN,1").is_err());
        assert!(parse_location("apic[50],0.9").is_ok());
        assert!(parse_location("apic[50]").is_err());
    }
}
