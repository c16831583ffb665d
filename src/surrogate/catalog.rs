//! The models in a folder (`models/`): every `NAME.onnx` (or an ELM's `NAME.pt`) with a readable `NAME.json`, and which of
//! them fit a cell. The default is the best fit: same fingerprint first, then same row count; ties
//! broken by name for a stable choice.

use super::fit::{CellInputs, Fit};
use super::metadata::ModelMetadata;
use super::model::metadata_path;
use super::SurrogateError;
use std::path::{Path, PathBuf};

/// One `.onnx` file in a models folder, with its metadata or why it could not be read.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub onnx_path: PathBuf,
    pub metadata: Result<ModelMetadata, String>,
}

/// A model that fits a cell.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub onnx_path: PathBuf,
    pub metadata: ModelMetadata,
    pub fit: Fit,
}

/// Every model file in `dir` (not recursive): each `.onnx`, and each `.pt` (a recurrent ELM's
/// state dict), sorted by file name.
pub fn list_models(dir: &Path) -> Result<Vec<CatalogEntry>, SurrogateError> {
    let rd = std::fs::read_dir(dir).map_err(|e| SurrogateError::io(dir, e))?;
    let mut paths: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "onnx" || x == "pt") && p.is_file())
        .collect();
    paths.sort();
    Ok(paths
        .into_iter()
        .map(|onnx_path| {
            let metadata = ModelMetadata::load(&metadata_path(&onnx_path)).map_err(|e| e.to_string());
            CatalogEntry { onnx_path, metadata }
        })
        .collect())
}

/// The models in `dir` that fit `cell`, best first.
pub fn models_for(dir: &Path, cell: &CellInputs) -> Result<Vec<Candidate>, SurrogateError> {
    let mut out: Vec<Candidate> = list_models(dir)?
        .into_iter()
        .filter_map(|e| {
            let metadata = e.metadata.ok()?;
            let fit = metadata.fit(cell).ok()?;
            Some(Candidate { onnx_path: e.onnx_path, metadata, fit })
        })
        .collect();
    // at equal fit, models of the paper's main (NMDA) protocol before AMPA-only ones (the default
    // twin of a cell is its NMDA twin; the app switches to the AMPA one with NMDA off), then our
    // own before published third-party ones, then by file name
    // (the key once per model: the protocol is read from the metadata's JSON)
    out.sort_by_cached_key(|c| (c.fit, c.variant(), c.is_published(), c.onnx_path.clone()));
    Ok(out)
}

impl Candidate {
    /// The input protocol the model was trained on (its metadata's dataset protocol; a model that
    /// records none counts as the paper's main, NMDA, protocol).
    pub fn variant(&self) -> crate::stimulus::InputVariant {
        self.metadata.training_protocol().map_or(crate::stimulus::InputVariant::Nmda, |p| p.variant)
    }

    /// True for a published third-party twin (its metadata names a source: `network.source`).
    pub fn is_published(&self) -> bool {
        self.metadata.network.as_ref().is_some_and(|n| n.source.is_some())
    }
}

/// The default model for `cell` in `dir` among those trained on `variant`'s protocol (the best
/// fit first), else [`default_model`]: `Twin.for_cell` of an AMPA-only cell gets its AMPA twin.
pub fn default_model_for_variant(dir: &Path, cell: &CellInputs, variant: crate::stimulus::InputVariant) -> Result<Candidate, SurrogateError> {
    let fits = models_for(dir, cell)?;
    let best_fit = fits.first().map(|c| c.fit);
    match fits.iter().find(|c| Some(c.fit) == best_fit && c.variant() == variant).or(fits.first()) {
        Some(c) => Ok(c.clone()),
        // none fits: the error that lists what is there
        None => default_model(dir, cell),
    }
}

/// The default model for `cell` in `dir`, or an error listing what is there and why none fits.
pub fn default_model(dir: &Path, cell: &CellInputs) -> Result<Candidate, SurrogateError> {
    if let Some(best) = models_for(dir, cell)?.into_iter().next() {
        return Ok(best);
    }
    let entries = list_models(dir)?;
    if entries.is_empty() {
        return Err(SurrogateError::NoModel { dir: dir.display().to_string(), reasons: vec!["the folder has no NAME.onnx models (give one with --model)".into()] });
    }
    let reasons: Vec<String> = entries
        .into_iter()
        .map(|e| match e.metadata {
            Ok(m) => m.fit(cell).err().map_or_else(|| format!("{}: fits", m.name), |err| err.to_string()),
            Err(err) => format!("{}: {err}", e.onnx_path.display()),
        })
        .collect();
    Err(SurrogateError::NoModel { dir: dir.display().to_string(), reasons })
}
