//! The `l5pc-golden-v1` case format (reference README "JSON format"): model variant, settings,
//! stimuli, synapses, recording sites and (optionally) results.

use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "l5pc-golden-v1";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Case {
    #[serde(default = "default_format")]
    pub format: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub model: ModelInfo,
    pub sim: SimInfo,
    #[serde(default)]
    pub stimuli: Stimuli,
    #[serde(default)]
    pub synapses: Vec<SynapseEntry>,
    pub recording: RecordingInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_input_params: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Results>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<serde_json::Value>,
}

fn default_format() -> String {
    FORMAT.to_string()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ModelInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub variant_flags: VariantFlags,
    #[serde(default)]
    pub changes_from_reference_model: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantFlags {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passive: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_ih: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ampa_only: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimInfo {
    /// ms; `null` in CVODE reference files.
    pub dt: Option<f64>,
    pub tstop: f64,
    pub celsius: f64,
    pub v_init: f64,
    #[serde(default)]
    pub integrator: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stimuli {
    #[serde(default)]
    pub iclamps: Vec<IClampEntry>,
    #[serde(default)]
    pub epsp_currents: Vec<EpspEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IClampEntry {
    pub sec: String,
    pub x: f64,
    pub delay_ms: f64,
    pub dur_ms: f64,
    #[serde(rename = "amp_nA")]
    pub amp_na: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpspEntry {
    pub sec: String,
    pub x: f64,
    pub onset_ms: f64,
    pub tau0_ms: f64,
    pub tau1_ms: f64,
    #[serde(rename = "imax_nA")]
    pub imax_na: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SynapseEntry {
    pub kind: crate::biophysics::SynapseKind,
    pub sec: String,
    pub x: f64,
    pub spikes_ms: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_seg_index: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Location {
    pub sec: String,
    pub x: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Site {
    pub sec: String,
    pub x: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dist_from_soma_um: Option<f64>,
    #[serde(default)]
    pub label: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordingInfo {
    pub soma: Location,
    pub soma_dt_ms: f64,
    pub sites_dt_ms: f64,
    #[serde(default)]
    pub sites: Vec<Site>,
    #[serde(rename = "spike_threshold_mV", default = "default_threshold")]
    pub spike_threshold_mv: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spike_rule: Option<String>,
}

fn default_threshold() -> f64 {
    -20.0
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Results {
    pub spike_times_ms: Vec<f64>,
    pub soma_v: Vec<f64>,
    pub sites_v: Vec<Vec<f64>>,
    pub n_soma_samples: usize,
}

/// Errors reading a case file.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("reading {path}: {message}")]
    Io { path: String, message: String },
    #[error("parsing {path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: unsupported format {format:?} (expected {FORMAT})")]
    Format { path: String, format: String },
}

impl Case {
    pub fn load(path: &std::path::Path) -> Result<Case, CaseError> {
        let name = path.display().to_string();
        let max_bytes = crate::limits::max_json_file_bytes().map_err(|e| CaseError::Io { path: name.clone(), message: e.to_string() })?;
        let text = crate::input::read_text_limited(path, max_bytes, crate::limits::ENV_MAX_JSON_MB)
            .map_err(|e| CaseError::Io { path: name.clone(), message: e.to_string() })?;
        Case::parse(&text, &name)
    }

    /// Parse and check a case from its JSON text; `name` (the file) prefixes every error.
    pub fn parse(text: &str, name: &str) -> Result<Case, CaseError> {
        let case: Case = serde_json::from_str(text).map_err(|e| CaseError::Parse { path: name.to_string(), message: e.to_string() })?;
        if case.format != FORMAT {
            return Err(CaseError::Format { path: name.to_string(), format: case.format });
        }
        case.check_results().map_err(|message| CaseError::Invalid { path: name.to_string(), message })?;
        Ok(case)
    }

    /// Check the reference results (when present) before anything is compared with them:
    /// sampling intervals positive and finite, trace lengths matching `sim.tstop` and the
    /// sampling interval (tstop/dt + 1 samples, ±1), every value finite, spike times within
    /// [0, tstop]. Each error names the field.
    pub fn check_results(&self) -> Result<(), String> {
        let Some(r) = &self.results else {
            return Ok(());
        };
        let tstop = self.sim.tstop;
        if !(tstop.is_finite() && tstop >= 0.0) {
            return Err(format!("sim.tstop is {tstop}; it must be finite and ≥ 0"));
        }
        let expected_len = |field: &str, dt: f64| -> Result<f64, String> {
            if !(dt.is_finite() && dt > 0.0) {
                return Err(format!("{field} is {dt}; a sampling interval must be a positive number of ms"));
            }
            Ok((tstop / dt + 1e-9).floor() + 1.0)
        };
        let check_trace = |field: &str, trace: &[f64], dt_field: &str, dt: f64| -> Result<(), String> {
            let n = expected_len(dt_field, dt)?;
            if (trace.len() as f64 - n).abs() > 1.0 {
                return Err(format!(
                    "{field} has {} samples, but sim.tstop {tstop} ms sampled every {dt} ms ({dt_field}) makes {n}",
                    trace.len()
                ));
            }
            if let Some(k) = trace.iter().position(|v| !v.is_finite()) {
                return Err(format!("{field}[{k}] is {}; reference values must be finite", trace[k]));
            }
            Ok(())
        };
        check_trace("results.soma_v", &r.soma_v, "recording.soma_dt_ms", self.recording.soma_dt_ms)?;
        if r.n_soma_samples != r.soma_v.len() {
            return Err(format!("results.n_soma_samples is {}, but results.soma_v has {}", r.n_soma_samples, r.soma_v.len()));
        }
        if !r.sites_v.is_empty() && r.sites_v.len() != self.recording.sites.len() {
            return Err(format!("results.sites_v has {} traces for {} recording.sites", r.sites_v.len(), self.recording.sites.len()));
        }
        for (k, trace) in r.sites_v.iter().enumerate() {
            check_trace(&format!("results.sites_v[{k}]"), trace, "recording.sites_dt_ms", self.recording.sites_dt_ms)?;
        }
        if let Some(k) = r.spike_times_ms.iter().position(|t| !(t.is_finite() && (0.0..=tstop).contains(t))) {
            return Err(format!("results.spike_times_ms[{k}] is {} ms, outside [0, sim.tstop = {tstop}]", r.spike_times_ms[k]));
        }
        Ok(())
    }
}
