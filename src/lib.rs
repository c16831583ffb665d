//! neurotwin: a biophysical layer-5 pyramidal neuron (Hay et al. 2011, as used by Beniaguev,
//! Segev & London 2021) and its deep-network twin, side by side.
//!
//! The data path: morphology file → [`morphology::Morphology`] → [`morphology::Cable`]
//! (compartments) → `biophysics::Cell` (mechanisms placed by a recipe) → simulation → recording.
//!
//! Modules, lowest layer first (each uses only those above it; ARCHITECTURE.md has the whole map):
//! `rng` (the crate's PRNGs), `limits`, `input` (opening every input file: regular, size-capped), `atomic` (writing outputs), `locate` (finding `models/` and `morphologies/` wherever started), `metrics`, `morphology`, `biophysics` (the engine), `golden` (the
//! engine against NEURON's reference runs), `stimulus`, `dataset`, `surrogate` (the twin),
//! `attribution`, `app` (the GUI; feature `gui`, on by default). The command line is the binary's `src/cli/`.

#[cfg(feature = "gui")]
pub mod app;
pub mod atomic;
pub mod attribution;
pub mod biophysics;
pub mod dataset;
pub mod fetch;
pub mod golden;
pub mod input;
pub mod limits;
pub mod locate;
pub mod metrics;
pub mod peer;
pub mod morphology;
pub mod rng;
pub mod stimulus;
pub mod surrogate;

pub use morphology::{Cable, Discretisation, Morphology, MorphologyError, NsegRule};
