//! Dataset: the on-disk training data of the DNN twin, independent of the simulator. Owns the
//! shard format (folders of NPY arrays that NumPy reads without neurotwin, `npy`, `shard`), the
//! manifest with the morphology fingerprint (`manifest`), the resumable, parallel runner that
//! generates the paper's inputs and calls a simulate closure (`runner`), the merge of the
//! `--shard I/N` parts' manifests into one (`merge`), and the reader (`reader`). Depends on `morphology` and `stimulus`; the engine is passed in as a closure, so
//! nothing here depends on it except `paper_sim`, the paper's simulation of one raster that the
//! command line passes in as that closure (and `attribution` reuses).
//!
//! Layout of an output folder:
//! ```text
//! DIR/manifest.json                  (or manifest.part-I-of-N.json per --shard I/N partition)
//! DIR/shard_00000/spike_rows.npy …   (one folder per shard; arrays in manifest.arrays)
//! DIR/shard_00001.partial/           (a shard being written; ignored and redone on resume)
//! DIR/.manifest.json.lock            (while a run writes the folder: its PID; `lock`)
//! DIR/parts/manifest.part-I-of-N.json (the parts, once `merge` wrote manifest.json from them)
//! ```

pub mod lock;
pub mod manifest;
pub mod merge;
pub mod npy;
pub mod paper_sim;
pub mod reader;
pub mod runner;
pub mod shard;

pub use manifest::{morphology_fingerprint, DendDtype, Manifest, Partition, ShardStatus};
pub use merge::{merge_parts, MergeReport};
pub use reader::Dataset;
pub use runner::{run_dataset, run_dataset_for_cell, DatasetOptions, DatasetReport, SimOutput};
pub use shard::ShardData;

use std::path::Path;

/// Errors from writing or reading datasets.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("bad dataset file: {0}")]
    Format(String),
    #[error("invalid dataset options: {0}")]
    Options(String),
    #[error("{path} describes a different dataset ({detail}); use another --out folder or remove it")]
    DefinitionMismatch { path: String, detail: String },
    #[error(transparent)]
    Morphology(#[from] crate::morphology::MorphologyError),
    #[error(transparent)]
    Cable(#[from] crate::morphology::cable::CableError),
    #[error(transparent)]
    Stimulus(#[from] crate::stimulus::StimulusError),
    #[error("simulation {sim} (seed {seed}) failed: {message}")]
    Simulation { sim: usize, seed: u64, message: String },
    #[error("dataset folder {dir} is being written by process {pid} (lock {lock}); wait for it to finish, or use another --out folder")]
    Locked { dir: String, pid: i32, lock: String },
    #[error("simulation {sim} returned unusable output: {message}")]
    BadOutput { sim: usize, message: String },
    #[error("cannot merge the parts in {dir}: {message}")]
    Merge { dir: String, message: String },
}

impl DatasetError {
    pub(crate) fn io(path: &Path, e: std::io::Error) -> DatasetError {
        DatasetError::Io { path: path.display().to_string(), message: e.to_string() }
    }
}
