//! `NAME.json`, the metadata next to each `NAME.onnx` (schema: `models/README.md`, "Metadata
//! schema"; written by `training/export.py`). Only the fields the app uses are read; unknown
//! fields are ignored so the training side can add provenance freely.

use super::SurrogateError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const FORMAT: &str = "neurotwin-dnn";
pub const FORMAT_VERSION: u32 = 1;

/// The model metadata (the subset neurotwin reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    pub format: String,
    pub format_version: u32,
    pub name: String,
    /// Model file name, relative to the metadata file's folder (default `NAME.onnx`, or
    /// `NAME.pt` for an ELM).
    #[serde(default)]
    pub model_file: Option<String>,
    /// What kind of network the model file holds; absent: an ONNX graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkInfo>,
    /// `sha256:…` of the morphology the training data was simulated on
    /// (`dataset::morphology_fingerprint`).
    pub morphology_fingerprint: String,
    #[serde(default)]
    pub input: Option<TensorInfo>,
    pub input_rows: InputRows,
    #[serde(default)]
    pub output: Option<OutputInfo>,
    /// Receptive field (ms): the output at t depends on inputs t − window_ms + 1 ..= t.
    pub window_ms: usize,
    pub target_transforms: TargetTransforms,
    /// Thresholds on the spike probability, keyed by the target FPR as text ("0.0025", "0.01").
    #[serde(default)]
    pub spike_thresholds: BTreeMap<String, SpikeThreshold>,
    /// Held-out metrics as the training side computed them (shown, not interpreted).
    #[serde(default)]
    pub metrics_held_out: Option<serde_json::Value>,
    #[serde(default)]
    pub parity: Option<Parity>,
    /// The input protocol of the training data (a `PaperProtocol`, as the dataset manifest
    /// recorded it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_protocol: Option<serde_json::Value>,
}

/// `network`: `{"kind": "onnx"}` (the default) or `{"kind": "elm", "config_file": "…"}` for a
/// recurrent ELM stored as a PyTorch state dict with the ELM authors' `model_config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkInfo {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_file: Option<String>,
    /// An ELM's input values: "neuronio_signed" (exc rows +1, inh rows −1; the default) or "binary".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_convention: Option<String>,
    /// Where the weights come from (a published model's source and citation), shown in the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Name and shape of an ONNX tensor (`"batch"`, `"time"` or a number per axis).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorInfo {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub shape: Vec<serde_json::Value>,
}

/// The input row order: rows 0..n_segments excitatory, n_segments..2·n_segments inhibitory, each
/// in the dataset's segment order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRows {
    pub n_rows: usize,
    pub n_segments: usize,
    #[serde(default)]
    pub rule: Option<String>,
}

/// Output description: channel 0 spike, channel 1 soma.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputInfo {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub channels: Vec<OutputChannel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputChannel {
    pub index: usize,
    /// `"probability"` (sigmoid applied in the graph) or `"logit"` for channel 0;
    /// `"soma_target"` for channel 1.
    pub kind: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TargetTransforms {
    pub soma: SomaTransform,
}

/// `y = (min(v_mV, clip_max_mV) − offset_mV) / scale_mV`; inverse `v_mV = y·scale_mV + offset_mV`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SomaTransform {
    #[serde(rename = "clip_max_mV")]
    pub clip_max_mv: f64,
    #[serde(rename = "offset_mV")]
    pub offset_mv: f64,
    #[serde(rename = "scale_mV")]
    pub scale_mv: f64,
}

impl SomaTransform {
    /// Model output (target units) → clipped somatic voltage (mV).
    pub fn to_mv(&self, y: f32) -> f64 {
        f64::from(y) * self.scale_mv + self.offset_mv
    }

    /// Somatic voltage (mV) → the clipped value the model was trained to predict (mV).
    pub fn clip_mv(&self, v_mv: f64) -> f64 {
        v_mv.min(self.clip_max_mv)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpikeThreshold {
    pub fpr_target: f64,
    /// Predict a spike where the probability is ≥ this.
    pub probability: f64,
    #[serde(default)]
    pub tpr: Option<f64>,
    /// `"fpr"` (the default: chosen for `fpr_target`) or `"count_matched"`: chosen so that the
    /// twin predicts as many spikes as the cell fired on the validation data (`fpr_target` is
    /// then the false-positive rate it reached there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl SpikeThreshold {
    pub fn is_count_matched(&self) -> bool {
        self.kind.as_deref() == Some("count_matched")
    }
}

/// Largest |native − ONNX| accepted on the load-time check (the parity tolerance of the issue).
pub const NATIVE_TOLERANCE: f32 = 1e-4;

/// Parity vector: an input crop and the expected output, `.npy` files next to the metadata. The
/// input is either a file or `input_generated_ms`: the deterministic ~1 %-dense input of that many
/// ms that `parity::pseudo_random_input` makes (xorshift64 from 0x9E3779B97F4A7C15, a spike where
/// the state is a multiple of 100, row-major over rows × ms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parity {
    #[serde(default)]
    pub input_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_generated_ms: Option<usize>,
    pub output_file: String,
    #[serde(default)]
    pub tolerance: Option<f64>,
}

impl ModelMetadata {
    /// The paper protocol the model was trained on, when the metadata records a readable one.
    pub fn training_protocol(&self) -> Option<crate::stimulus::PaperProtocol> {
        self.dataset_protocol.clone().and_then(|v| serde_json::from_value(v).ok())
    }

    /// Read and check a metadata file.
    pub fn load(path: &Path) -> Result<ModelMetadata, SurrogateError> {
        let max_bytes = crate::limits::max_json_file_bytes()
            .map_err(|e| SurrogateError::Metadata { path: path.display().to_string(), message: e.to_string() })?;
        let text = crate::input::read_text_limited(path, max_bytes, crate::limits::ENV_MAX_JSON_MB)
            .map_err(|e| SurrogateError::Metadata { path: path.display().to_string(), message: e.to_string() })?;
        ModelMetadata::parse(&text, &path.display().to_string())
    }

    /// Parse and check metadata from its JSON text; `name` (the file) prefixes every error.
    pub fn parse(text: &str, name: &str) -> Result<ModelMetadata, SurrogateError> {
        let meta: ModelMetadata =
            serde_json::from_str(text).map_err(|e| SurrogateError::Metadata { path: name.to_string(), message: e.to_string() })?;
        meta.check().map_err(|message| SurrogateError::Metadata { path: name.to_string(), message })?;
        Ok(meta)
    }

    /// Internal consistency: format, rows, window, transform, channel kinds, thresholds.
    pub fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("format {:?}, expected {FORMAT:?}", self.format));
        }
        if self.format_version != FORMAT_VERSION {
            return Err(format!("format_version {} not supported (this build reads {FORMAT_VERSION})", self.format_version));
        }
        if self.input_rows.n_rows != 2 * self.input_rows.n_segments {
            return Err(format!("input_rows: {} rows for {} segments (expected 2 per segment)", self.input_rows.n_rows, self.input_rows.n_segments));
        }
        if self.window_ms == 0 {
            return Err("window_ms is 0".into());
        }
        let t = &self.target_transforms.soma;
        if !(t.scale_mv.is_finite() && t.scale_mv != 0.0 && t.offset_mv.is_finite() && t.clip_max_mv.is_finite()) {
            return Err(format!("target_transforms.soma is unusable: {t:?}"));
        }
        if let Some(k) = self.output.as_ref().and_then(|o| o.channels.iter().find(|c| c.index == 0)).map(|c| c.kind.as_str()) {
            if k != "probability" && k != "logit" {
                return Err(format!("output channel 0 kind {k:?} (expected \"probability\" or \"logit\")"));
            }
        }
        for (key, th) in &self.spike_thresholds {
            if !(0.0..=1.0).contains(&th.probability) || !(0.0..=1.0).contains(&th.fpr_target) {
                return Err(format!("spike_thresholds[{key}] outside [0, 1]: {th:?}"));
            }
            if let Some(k) = th.kind.as_deref().filter(|k| *k != "fpr" && *k != "count_matched") {
                return Err(format!("spike_thresholds[{key}].kind is {k:?}; expected \"fpr\" or \"count_matched\""));
            }
            if let Some(tpr) = th.tpr.filter(|t| !(0.0..=1.0).contains(t)) {
                return Err(format!("spike_thresholds[{key}].tpr is {tpr}, outside [0, 1]"));
            }
        }
        self.check_fields()
    }

    /// The remaining fields that are read: names, paths (confined to the model's folder),
    /// tensor descriptions, output channels, the parity tolerance. Each error names its field.
    fn check_fields(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("name is empty".into());
        }
        if !self.morphology_fingerprint.starts_with("sha256:") {
            return Err(format!("morphology_fingerprint {:?} does not start with \"sha256:\"", self.morphology_fingerprint));
        }
        if self.input_rows.n_segments == 0 {
            return Err("input_rows.n_segments is 0".into());
        }
        if let Some(f) = &self.model_file {
            check_relative_path("model_file", f)?;
        }
        if let Some(n) = &self.network {
            match n.kind.as_str() {
                "onnx" => {}
                "elm" => {
                    match &n.config_file {
                        Some(f) => check_relative_path("network.config_file", f)?,
                        None => return Err("network.config_file is missing (an ELM needs its model_config.json)".into()),
                    }
                    super::elm::InputConvention::parse(n.input_convention.as_deref()).map_err(|e| e.0)?;
                }
                k => return Err(format!("network.kind is {k:?}; expected \"onnx\" or \"elm\"")),
            }
        }
        if let Some(p) = &self.parity {
            match (&p.input_file, p.input_generated_ms) {
                (Some(f), None) => check_relative_path("parity.input_file", f)?,
                (None, Some(ms)) if (1..=10_000).contains(&ms) => {}
                (None, Some(ms)) => return Err(format!("parity.input_generated_ms is {ms}; expected 1..=10000")),
                _ => return Err("parity needs exactly one of input_file and input_generated_ms".into()),
            }
            check_relative_path("parity.output_file", &p.output_file)?;
            if let Some(t) = p.tolerance.filter(|t| !(t.is_finite() && *t > 0.0)) {
                return Err(format!("parity.tolerance is {t}; it must be a positive number"));
            }
        }
        if let Some(input) = &self.input {
            check_shape("input.shape", &input.shape, 1, self.input_rows.n_rows)?;
        }
        if let Some(output) = &self.output {
            for (k, c) in output.channels.iter().enumerate() {
                let expected: &[&str] = match c.index {
                    0 => &["probability", "logit"],
                    1 => &["soma_target"],
                    i => return Err(format!("output.channels[{k}].index is {i}; the model has channels 0 (spike) and 1 (soma)")),
                };
                if !expected.contains(&c.kind.as_str()) {
                    return Err(format!("output.channels[{k}].kind is {:?} for channel {}; expected one of {expected:?}", c.kind, c.index));
                }
            }
        }
        Ok(())
    }

    /// The parity check's tolerance: `parity.tolerance`, else [`NATIVE_TOLERANCE`].
    pub fn parity_tolerance(&self) -> f64 {
        self.parity.as_ref().and_then(|p| p.tolerance).unwrap_or(f64::from(NATIVE_TOLERANCE))
    }

    /// True when output channel 0 is a logit (the sigmoid is applied by neurotwin).
    pub fn spike_channel_is_logit(&self) -> bool {
        self.output.as_ref().and_then(|o| o.channels.iter().find(|c| c.index == 0)).is_some_and(|c| c.kind == "logit")
    }

    /// The threshold stated for a target false-positive rate (e.g. 0.0025 or 0.01).
    pub fn threshold_for_fpr(&self, fpr: f64) -> Option<&SpikeThreshold> {
        self.spike_thresholds.values().filter(|t| !t.is_count_matched()).find(|t| (t.fpr_target - fpr).abs() <= 1e-9 * fpr.max(1e-12))
    }

    /// The count-matched threshold, when the model states one.
    pub fn count_matched_threshold(&self) -> Option<&SpikeThreshold> {
        self.spike_thresholds.values().find(|t| t.is_count_matched())
    }

    /// The model file's name (relative to the metadata's folder).
    pub fn model_file_name(&self) -> String {
        let ext = if self.is_elm() { "pt" } else { "onnx" };
        self.model_file.clone().unwrap_or_else(|| format!("{}.{ext}", self.name))
    }

    /// True when the model is a recurrent ELM (`network.kind` "elm").
    pub fn is_elm(&self) -> bool {
        self.network.as_ref().is_some_and(|n| n.kind == "elm")
    }

    /// Short fingerprint for messages: `ab12cd34…`.
    pub fn short_fingerprint(&self) -> String {
        short_fingerprint(&self.morphology_fingerprint)
    }
}

/// A path from the metadata, confined to the model's folder: relative, no `..`, not empty.
fn check_relative_path(field: &str, path: &str) -> Result<(), String> {
    let p = Path::new(path);
    if path.trim().is_empty() {
        return Err(format!("{field} is empty"));
    }
    if p.is_absolute() || path.starts_with('/') || path.starts_with('\\') || path.contains(':') {
        return Err(format!("{field} {path:?} is an absolute path; it must name a file in the model's folder"));
    }
    if p.components().any(|c| !matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir)) || path.split(['/', '\\']).any(|c| c == "..") {
        return Err(format!("{field} {path:?} leaves the model's folder (\"..\"); it must name a file in the model's folder"));
    }
    Ok(())
}

/// A tensor shape description: each axis `"batch"`, `"time"` (or another name) or a positive
/// number; the axis `axis`, when a number, must be `size`.
fn check_shape(field: &str, shape: &[serde_json::Value], axis: usize, size: usize) -> Result<(), String> {
    for (k, v) in shape.iter().enumerate() {
        match v {
            serde_json::Value::String(_) => {}
            serde_json::Value::Number(n) => match n.as_u64() {
                Some(d) if d > 0 => {
                    if k == axis && d as usize != size {
                        return Err(format!("{field}[{k}] is {d}, but the metadata says {size} (input_rows.n_rows for the input)"));
                    }
                }
                _ => return Err(format!("{field}[{k}] is {n}; an axis is a positive integer or a name")),
            },
            other => return Err(format!("{field}[{k}] is {other}; an axis is a positive integer or a name")),
        }
    }
    Ok(())
}

/// The first 8 hex digits of a `sha256:…` fingerprint, with an ellipsis.
pub fn short_fingerprint(fp: &str) -> String {
    let hex = fp.strip_prefix("sha256:").unwrap_or(fp);
    format!("{}…", hex.chars().take(8).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> serde_json::Value {
        serde_json::json!({
            "format": "neurotwin-dnn", "format_version": 1, "name": "m",
            "morphology_fingerprint": "sha256:abcdef0123456789",
            "input_rows": {"n_rows": 4, "n_segments": 2},
            "window_ms": 7,
            "target_transforms": {"soma": {"clip_max_mV": -55.0, "offset_mV": -67.7, "scale_mV": 1.0}, "spike_binning": "x"},
            "spike_thresholds": {"0.0025": {"fpr_target": 0.0025, "probability": 0.4, "logit": -0.4}},
            "unknown": [1, 2, 3]
        })
    }

    #[test]
    fn minimal_metadata_parses_and_ignores_extra_fields() {
        let m: ModelMetadata = serde_json::from_value(minimal()).unwrap();
        assert!(m.check().is_ok());
        assert!(!m.spike_channel_is_logit());
        assert_eq!(m.model_file_name(), "m.onnx");
        assert_eq!(m.threshold_for_fpr(0.0025).map(|t| t.probability), Some(0.4));
        assert!(m.threshold_for_fpr(0.01).is_none());
        assert_eq!(m.short_fingerprint(), "abcdef01…");
        assert!((m.target_transforms.soma.to_mv(2.0) - -65.7).abs() < 1e-12);
    }

    #[test]
    fn inconsistent_metadata_is_rejected() {
        for (path, value) in [
            ("/input_rows/n_rows", serde_json::json!(5)),
            ("/window_ms", serde_json::json!(0)),
            ("/format_version", serde_json::json!(2)),
            ("/target_transforms/soma/scale_mV", serde_json::json!(0.0)),
        ] {
            let mut v = minimal();
            *v.pointer_mut(path).unwrap() = value;
            let m: ModelMetadata = serde_json::from_value(v).unwrap();
            assert!(m.check().is_err(), "{path}");
        }
        let mut v = minimal();
        v["output"] = serde_json::json!({"channels": [{"index": 0, "kind": "volts"}]});
        assert!(serde_json::from_value::<ModelMetadata>(v).unwrap().check().is_err());
    }

    /// Issue 17: paths leave the model's folder, wrong input/output/parity fields; each error
    /// names the field.
    #[test]
    fn every_read_field_is_checked_by_name() {
        let cases: Vec<(&str, serde_json::Value, &str)> = vec![
            ("/model_file", serde_json::json!("../../etc/passwd"), "model_file"),
            ("/model_file", serde_json::json!("/etc/passwd"), "model_file"),
            ("/model_file", serde_json::json!(""), "model_file"),
            ("/parity", serde_json::json!({"input_file": "../x.npy", "output_file": "y.npy"}), "parity.input_file"),
            ("/parity", serde_json::json!({"input_file": "x.npy", "output_file": "/tmp/y.npy"}), "parity.output_file"),
            ("/parity", serde_json::json!({"input_file": "x.npy", "output_file": "y.npy", "tolerance": -1.0}), "parity.tolerance"),
            ("/input", serde_json::json!({"name": "x", "shape": ["batch", 5, "time"]}), "input.shape[1]"),
            ("/input", serde_json::json!({"name": "x", "shape": ["batch", -4, "time"]}), "input.shape[1]"),
            ("/output", serde_json::json!({"channels": [{"index": 2, "kind": "soma_target"}]}), "output.channels[0].index"),
            ("/output", serde_json::json!({"channels": [{"index": 1, "kind": "probability"}]}), "output.channels[0].kind"),
            ("/morphology_fingerprint", serde_json::json!("abc"), "morphology_fingerprint"),
            ("/name", serde_json::json!(" "), "name"),
        ];
        for (path, value, needle) in cases {
            let mut v = minimal();
            match v.pointer_mut(path) {
                Some(slot) => *slot = value.clone(),
                None => v[&path[1..]] = value.clone(),
            }
            let m: ModelMetadata = serde_json::from_value(v).unwrap();
            let e = m.check().expect_err(path);
            assert!(e.contains(needle), "{path} = {value}: {e}");
        }
        let mut v = minimal();
        v["model_file"] = serde_json::json!("sub/m.onnx");
        v["input"] = serde_json::json!({"name": "x", "shape": ["batch", 4, "time"]});
        assert!(serde_json::from_value::<ModelMetadata>(v).unwrap().check().is_ok());
    }
}
