//! The biophysical engine: mechanisms placed on a `Cable` (a `Cell`), NEURON's fixed-step scheme,
//! point processes, probes. Depends only on `morphology`; never on the GUI, ONNX or file formats.

pub mod calcium;
pub mod cell;
pub mod channels;
pub mod error;
pub mod mechanisms;
pub mod point_current;
pub mod profile;
pub mod rates_table;
pub mod recipe;
pub mod recording;
pub mod simulation;
pub mod solver;
pub mod synapse;

pub use cell::{CaDynamics, Cell, Channel, NodeMembrane, N_CHANNELS};
pub use mechanisms::InstructionSet;
pub use point_current::{EpscCurrent, IClamp};
pub use recording::Recorder;
pub use simulation::{SimError, SimSettings, Simulation, Stimulus, SynapseSpec};
pub use synapse::SynapseKind;
