//! Surrogate: the deep-network twin (Beniaguev, Segev & London 2021) run through ONNX, or natively
//! (the sparse TCN beside its ONNX graph; the recurrent ELM of Spieler et al. 2024, `elm`). Owns the
//! model metadata (`metadata`, schema in `models/README.md`), the backend choice (tract or native
//! ONNX Runtime, `backend`), loading (`model`), the parity vector check (`parity`), matching models to a morphology (`fit`,
//! `catalog`), full-sequence prediction (`predict`), streaming prediction for live use
//! (`streaming`), and the paper's evaluation over a dataset (`evaluate`). Depends on `stimulus`
//! (the input raster), `dataset` (fingerprint, shards), `morphology` and `metrics`; never on the
//! engine or the GUI.

pub mod backend;
pub mod catalog;
pub mod elm;
pub mod evaluate;
pub mod fit;
pub mod metadata;
pub mod model;
pub mod native;
pub mod parity;
pub mod predict;
pub mod streaming;
pub mod tcn;

pub use backend::{select_backend, select_tract, selected_backend, Backend, BackendChoice};
pub use catalog::{default_model, default_model_for_variant, list_models, models_for, Candidate, CatalogEntry};
pub use fit::{CellInputs, Fit};
pub use metadata::ModelMetadata;
pub use elm::ElmNetwork;
pub use model::{LoadOptions, SurrogateModel};
pub use native::{NativeNet, NativeState};
pub use parity::ParityCheck;
pub use predict::{threshold_for_fpr, PredictOptions, Prediction};
pub use streaming::StreamingPredictor;
pub use tcn::NativeTcn;

use std::path::Path;

/// Errors of the surrogate.
#[derive(Debug, thiserror::Error)]
pub enum SurrogateError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("model file {0} not found")]
    ModelMissing(String),
    #[error("model metadata {path}: {message}")]
    Metadata { path: String, message: String },
    #[error("ONNX backend: {0}")]
    Backend(String),
    #[error("running {model}: {message}")]
    Onnx { model: String, message: String },
    #[error("{0}")]
    Mismatch(String),
    #[error("model {model} fails its parity vector: its output differs from the expected by {diff:e}, more than the tolerance {tolerance:e} (a damaged or mismatched model file; --allow-parity-mismatch runs it anyway)")]
    ParityMismatch { model: String, diff: f64, tolerance: f64 },
    #[error("wrong shape: {0}")]
    Shape(String),
    #[error("bad input: {0}")]
    BadInput(String),
    #[error("model {model} states no spike threshold for FPR {fpr} (it has {available:?})")]
    NoThreshold { model: String, fpr: f64, available: Vec<f64> },
    #[error("no model in {dir} fits this morphology: {}", reasons.join("; "))]
    NoModel { dir: String, reasons: Vec<String> },
    #[error("morphology: {0}")]
    Morphology(String),
    #[error(transparent)]
    Dataset(#[from] crate::dataset::DatasetError),
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
}

impl SurrogateError {
    pub(crate) fn io(path: &Path, e: std::io::Error) -> SurrogateError {
        SurrogateError::Io { path: path.display().to_string(), message: e.to_string() }
    }
}
