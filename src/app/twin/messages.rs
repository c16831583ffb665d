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

/// Which of the model's thresholds marks predicted spikes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThresholdChoice {
    /// The threshold at which the twin predicted as many spikes as the cell fired on its
    /// validation data (an unbiased detector); models without one fall back to FPR 0.25 %.
    CountMatched,
    /// The threshold chosen for this false-positive rate per 1-ms bin.
    Fpr(f64),
}

impl Default for ThresholdChoice {
    fn default() -> Self {
        ThresholdChoice::CountMatched
    }
}

impl ThresholdChoice {
    /// The choices the app offers.
    pub const ALL: [ThresholdChoice; 3] = [ThresholdChoice::CountMatched, ThresholdChoice::Fpr(0.0025), ThresholdChoice::Fpr(0.01)];

    pub fn label(self) -> String {
        match self {
            ThresholdChoice::CountMatched => "count-matched".into(),
            ThresholdChoice::Fpr(f) => format!("FPR {} %", f * 100.0),
        }
    }

    /// The model's threshold for this choice: (probability, what it is), or why there is none.
    pub fn resolve(self, meta: &crate::surrogate::ModelMetadata) -> Result<(f64, String), String> {
        match self {
            ThresholdChoice::CountMatched => match meta.count_matched_threshold() {
                Some(t) => Ok((t.probability, format!("count-matched on validation data (FPR {:.2} % there)", t.fpr_target * 100.0))),
                None => crate::surrogate::threshold_for_fpr(meta, SPIKE_FPR)
                    .map(|p| (p, format!("FPR {} % (the model states no count-matched threshold)", SPIKE_FPR * 100.0)))
                    .map_err(|e| e.to_string()),
            },
            ThresholdChoice::Fpr(f) => crate::surrogate::threshold_for_fpr(meta, f).map(|p| (p, format!("FPR {} %", f * 100.0))).map_err(|e| e.to_string()),
        }
    }
}

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
    /// Spike-probability threshold in use, or why there is none.
    pub threshold: Result<f64, String>,
    /// Which threshold that is, in words ("count-matched on validation data …", "FPR 0.25 %").
    pub threshold_label: String,
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
            threshold_label: String::new(),
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
    Threshold(ThresholdChoice),
}
