//! An ad-hoc run described by a few options and/or a small JSON config (`neurotwin simulate`, the
//! Python bindings' `Cell.simulate_case`), expressed as a golden-format [`Case`] that
//! [`super::replay`] runs.

use super::case::{Case, EpspEntry, IClampEntry, Location, ModelInfo, RecordingInfo, SimInfo, Site, Stimuli, SynapseEntry, VariantFlags};
use crate::biophysics::SynapseKind;
use serde::{Deserialize, Serialize};
use std::path::Path;

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
        let text = crate::input::read_json_text(path).map_err(|e| err(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| err(e.to_string()))
    }

    /// The run as a golden-format case (soma and sites sampled every `record_dt_ms`, default
    /// 0.1 ms; spikes as upward crossings of −20 mV). Defaults: dt 0.025 ms, 34 °C, v_init −80 mV
    /// (the Hay protocols of cases A-D).
    pub fn to_case(&self) -> Result<Case, SimulateError> {
        let record_dt = self.record_dt_ms.unwrap_or(0.1);
        Ok(Case {
            format: super::case::FORMAT.to_string(),
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
