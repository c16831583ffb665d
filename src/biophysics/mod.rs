//! The biophysical engine: mechanisms placed on a `Cable` (a `Cell`), NEURON's fixed-step scheme,
//! point processes, probes. Depends only on `morphology`; never on the GUI, ONNX or file formats.

pub mod cell;
pub mod recipe;

pub use cell::{CaDynamics, Cell, Channel, NodeMembrane, N_CHANNELS};
