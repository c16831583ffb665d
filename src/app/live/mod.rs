//! The engine side of the app: the runner (a worker thread that owns the simulation and advances
//! it in 1-ms chunks) and everything that thread needs.
//!
//! - `model`: the [`model::LiveModel`] trait, all the runner knows of a simulation; `engine_model`
//!   adapts `biophysics::Simulation` to it (the only file here that uses `biophysics`), and
//!   `fake_model` is a test double (tests and the `dev-fake-model` feature only).
//! - `messages`: what crosses between the UI and the worker ([`messages::Command`] in,
//!   [`messages::Snapshot`] out); `runner`: the UI-side handle; `worker`: the thread's loop.
//! - `drives`, `background`: the inputs (per-synapse drives, the paper's background protocol).
//! - `whatif_engine`: checkpoints and re-runs of the engine with inputs deleted or added.
//! - `twin_feed`: the worker's side of the twin (the input raster forwarded to the twin thread).
//! - `placements`: what the user placed on the cell, mirrored to the runner as commands.
//!
//! May use `morphology`, `stimulus`, `biophysics` (in `engine_model` only) and nothing else of the
//! app: the twin, the view, the panels and the shell all build on this module.

pub mod background;
pub mod drives;
pub mod engine_model;
#[cfg(any(test, feature = "dev-fake-model"))]
pub mod fake_model;
pub mod messages;
pub mod model;
pub mod placements;
pub mod runner;
pub mod twin_feed;
pub mod whatif_engine;
pub mod worker;
