//! What crosses between the UI and the runner's worker thread: the [`Command`]s the UI sends and
//! the [`Snapshot`] the worker publishes, with the keys and settings they carry. Its own module so
//! that the runner (the UI-side handle) and the worker (the thread's loop) share these types
//! without importing each other; `runner` re-exports them.

use super::drives::{BackgroundSettings, Drive};
use super::model::SynapseKind;
use crate::biophysics::mechanisms::NodeQuantity;
use crate::stimulus::DendriticSegments;
use std::sync::Arc;

/// Key of a synapse placed in the UI (the UI chooses it; the worker maps it to the model's SynId).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SynKey(pub u64);

/// Key of a recording site placed in the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteKey(pub u64);

/// Simulation speed as a multiple of real time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// Simulated ms per wall-clock ms.
    RealTimeFactor(f64),
    /// As fast as the model goes.
    Max,
}

/// Somatic current-clamp settings (absolute simulation times).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClampSettings {
    pub amp_na: f64,
    pub delay_ms: f64,
    pub dur_ms: f64,
}

/// What the UI asks the worker to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Play,
    Pause,
    /// Pause by itself when simulation time reaches this (ms), exactly, at any speed
    /// (`None`: no automatic pause). Cleared once it has happened (Reset keeps it: the demo's end is
    /// still its end).
    PauseAtMs(Option<f64>),
    /// Advance by this much simulated time (ms), then stay paused.
    StepMs(f64),
    /// Back to t = 0; traces are cleared, synapses and sites kept.
    Reset,
    SetSpeed(Speed),
    AddSynapse { key: SynKey, node: usize, kind: SynapseKind, drive: Drive },
    RemoveSynapse(SynKey),
    SetDrive { key: SynKey, drive: Drive },
    FireNow(SynKey),
    AddSite { key: SiteKey, node: usize },
    RemoveSite(SiteKey),
    /// Switch the paper's background protocol on (with these settings) or off.
    SetBackground(Option<BackgroundSettings>),
    /// Install (or with `None` remove) the somatic clamp.
    SetClamp(Option<ClampSettings>),
    /// A pulse of `amp_na` for `dur_ms` starting now (replaces the clamp).
    InjectPulse { amp_na: f64, dur_ms: f64 },
    SetNmda(bool),
    /// Forward the input raster to a deep-network twin (or stop: `None`). Connect (or disconnect) twin `slot` (0: the twin, 1: the second twin compared with it).
    SetTwin { slot: usize, link: Option<super::twin_feed::TwinLink> },
    /// Start the peaks of [`Snapshot::node_peak_v_mv`] again from the present voltages.
    ResetPeaks,
    /// Publish this state quantity per node in every snapshot ([`Snapshot::node_state`]) for
    /// "colour by state", or stop (`None`).
    ColorBy(Option<NodeQuantity>),
    /// Re-run the engine from the latest checkpoint before the edit to `to_ms`,
    /// without and with the edit (the result comes in [`Snapshot::whatif`]).
    WhatIf { edit: super::whatif_engine::Edit, to_ms: f64 },
    /// These commands, in order, as one: a scenario is applied whole or (when this cannot be
    /// queued) not at all, never half-dropped by a full queue.
    Batch(Vec<Command>),
}

/// A presynaptic spike shown in the input raster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RasterSpike {
    pub t_ms: f64,
    pub row: u32,
    pub kind: SynapseKind,
    /// Cable node of the synapse that received it.
    pub node: u32,
}

/// Everything the UI draws, as of one moment of simulation time.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Increases with every publication.
    pub seq: u64,
    pub t_ms: f64,
    pub playing: bool,
    /// Simulated ms per wall ms over the last half second of playing.
    pub achieved_real_time_factor: f64,
    /// The speed asked for (simulated ms per wall ms); `None` at maximum speed.
    pub requested_real_time_factor: Option<f64>,
    /// Membrane potential per Cable node (mV); empty before the first step or without a model.
    pub node_v_mv: Vec<f32>,
    /// The highest membrane potential of each node over every step since the last
    /// [`Command::ResetPeaks`] or [`Command::Reset`] (mV), kept by the worker so that fast events
    /// (an AP lasts a ms; the window draws a frame every few ms of slow motion and reads only
    /// the latest of several snapshots) are never missed (the space plot's envelope). Empty like
    /// `node_v_mv`.
    pub node_peak_v_mv: Vec<f32>,
    /// Soma voltage samples `[t_ms, v_mv]` over the trace window.
    pub soma_v_mv: Vec<[f64; 2]>,
    /// Voltage samples per recording site.
    pub sites: Vec<(SiteKey, Vec<[f64; 2]>)>,
    pub raster: Vec<RasterSpike>,
    /// Rows in use by the raster (background rows first, then placed synapses).
    pub raster_rows: u32,
    /// Somatic spike times (ms) in the trace window: upward crossings of −20 mV.
    pub soma_spikes_ms: Vec<f64>,
    pub background_on: bool,
    /// The last error from the model or worker, for the status line.
    pub error: Option<String>,
    /// Which model runs, with its settings (for a label in the UI).
    pub model_label: String,
    /// `Some(reason)` when no model is running (the UI still shows the morphology).
    pub no_model: Option<String>,
    /// The last engine what-if (or why it could not run).
    pub whatif: Option<Arc<Result<super::whatif_engine::EngineWhatIf, String>>>,
    /// The quantity asked for with [`Command::ColorBy`], per Cable node, as of `t_ms`.
    pub node_state: Option<Arc<NodeState>>,
}

/// One state quantity of the engine per Cable node (units: see [`NodeQuantity`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeState {
    pub quantity: NodeQuantity,
    /// Per node; NaN where the quantity does not exist. Empty when the model cannot report it.
    pub values: Vec<f32>,
}

/// Static facts the worker needs besides the model.
#[derive(Debug, Clone, Default)]
pub struct RunnerSetup {
    /// Soma node, for the somatic clamp.
    pub soma_node: usize,
    /// Dendritic segments in the paper's order, for the background protocol (`None`: the cell
    /// has none).
    pub background_segments: Option<Arc<DendriticSegments>>,
    /// Length of the trace window (ms).
    pub window_ms: f64,
}
