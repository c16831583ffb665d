//! Side and bottom panels: small structs with a `ui` method each.

pub mod controls;
pub mod files;
pub mod palette;
pub mod space_plot;
pub mod synapses;
pub mod traces;
pub mod twin_panel;
pub mod why_panel;

pub use controls::ControlPanel;
pub use files::{FileAction, FilesPanel};
pub use space_plot::SpacePlotPanel;
pub use synapses::SynapsePanel;
pub use traces::TracePanel;
pub use why_panel::WhyPanel;
