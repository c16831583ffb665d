//! What crosses between the UI and the twin's thread: the [`Control`] requests the UI sends and
//! the [`TwinSnapshot`] the thread publishes (with the operating point both sides use). Its own
//! module so that the handle (`thread`) and the loop (`worker`) share these types without
//! importing each other; `thread` re-exports them.

use super::agreement::{Agreement, Series};
use super::why::{TwinWhatIf, WhyRequest};
use crate::attribution::Attribution;
use crate::surrogate::NativeNet;
use std::path::PathBuf;
use std::sync::Arc;

/// New ms per network run while keeping up.
pub const CHUNK_MS: usize = 100;
/// point (0.25 % of the non-spike ms, i.e. ~2.5 false alarms per s at worst).
pub const SPIKE_FPR: f64 = 0.0025;
/// History shown in the traces (ms), as the engine's trace window.
pub const WINDOW_MS: usize = 1000;

/// What the twin is doing.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum TwinState {
    #[default]
    Off,
    Loading(String),
    Running(String),
    Failed(String),
}

/// Wall time of the last network run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ChunkTiming {
    pub new_ms: usize,
    pub wall_ms: f64,
}

/// Everything the UI draws of the twin.
#[derive(Debug, Clone)]
pub struct TwinSnapshot {
    pub seq: u64,
    pub state: TwinState,
    /// Backend in use, and the fallback warning if it is not the one asked for.
    pub backend: Option<String>,
    pub backend_warning: Option<String>,
    /// Spike-probability threshold for [`SPIKE_FPR`], or why there is none.
    pub threshold: Result<f64, String>,
    /// Outputs exist for bins before this (ms of simulation time).
    pub predicted_until_ms: usize,
    /// ms of input that never reached the twin (it was too far behind), filled with silence.
    pub gap_ms: usize,
    pub last_run: Option<ChunkTiming>,
    /// The last ≤ [`WINDOW_MS`] ms of the twin and the cell, bin by bin.
    pub window: Series,
    /// The cell's spikes and the twin's predicted spikes (ms) in the window.
    pub cell_spikes_ms: Vec<f64>,
    pub twin_spikes_ms: Vec<f64>,
    pub whole_run: Agreement,
    /// The running model's native evaluation (first-layer filters, attribution), when verified.
    pub native: Option<Arc<NativeNet>>,
    /// The last attribution asked for, or why it failed.
    pub explain: Option<Arc<Result<Attribution, String>>>,
    /// The twin's side of the last what-if.
    pub what_if: Option<Arc<Result<TwinWhatIf, String>>>,
}

impl Default for TwinSnapshot {
    fn default() -> Self {
        TwinSnapshot {
            seq: 0,
            state: TwinState::Off,
            backend: None,
            backend_warning: None,
            threshold: Err("no model".into()),
            predicted_until_ms: 0,
            gap_ms: 0,
            last_run: None,
            window: Series::default(),
            cell_spikes_ms: Vec::new(),
            twin_spikes_ms: Vec::new(),
            whole_run: Agreement::default(),
            native: None,
            explain: None,
            what_if: None,
        }
    }
}

/// What the UI asks of the twin thread.
pub enum Control {
    Select(Option<PathBuf>),
    Why(WhyRequest),
}
