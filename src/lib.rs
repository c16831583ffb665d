//! neurotwin: a biophysical layer-5 pyramidal neuron (Hay et al. 2011, as used by Beniaguev,
//! Segev & London 2021) and its deep-network twin, side by side.
//!
//! The data path: morphology file → [`morphology::Morphology`] → [`morphology::Cable`]
//! (compartments) → `biophysics::Cell` (mechanisms placed by a recipe) → simulation → recording.

pub mod app;
pub mod attribution;
pub mod biophysics;
pub mod dataset;
pub mod golden;
pub mod metrics;
pub mod morphology;
pub mod rng;
pub mod stimulus;
pub mod surrogate;

pub use morphology::{Cable, Discretisation, Morphology, MorphologyError, NsegRule};
