//! Stimulus: everything that drives the cell from outside. Owns the paper's input representation
//! (`InputRaster`: one row per synapse kind and dendritic segment, 1-ms bins), the paper's
//! background input protocol (`PaperProtocol`, spec §6.1), drives for individual synapses
//! (Poisson, regular, burst, explicit, fire-now) and clamp descriptions, and a small seedable
//! PRNG. Depends only on `morphology` (to list dendritic segments); the engine consumes what this
//! module produces, never the other way round.

pub mod drives;
pub mod paper_protocol;
pub mod raster;
pub mod segments;

pub use drives::{ClampSite, CurrentClamp, DriveError, SpikeDrive};
pub use paper_protocol::{InputVariant, PaperInput, PaperProtocol, RealisedInput};
pub use raster::{InputRaster, SynKind, SynapseListOptions, SynapseOrder, SynapseSpec};
pub use segments::{DendriticSegment, DendriticSegments, Tree};

/// Errors from building rasters, segment lists and the paper's protocol.
#[derive(Debug, thiserror::Error)]
pub enum StimulusError {
    #[error("{source_name}: no basal, apical or custom dendrite segments to place synapses on")]
    NoDendrites { source_name: String },
    #[error("section {0} is not a dendritic section of this cell (synapses go on basal/apical segments)")]
    NotDendritic(String),
    #[error("location x = {x} on {section} is outside [0, 1]")]
    BadLocation { section: String, x: f64 },
    #[error("synapse on {section}({x}) says paper_seg_index {given}, but that location is segment {located}")]
    SegmentIndexMismatch { section: String, x: f64, given: usize, located: usize },
    #[error("row {row}: spike at {t_ms} ms is outside [0, {duration_ms}) ms")]
    SpikeOutOfRange { row: usize, t_ms: f64, duration_ms: u32 },
    #[error("{section}: spike at {t_ms} ms is not a whole ms (the raster has 1-ms bins)")]
    NonIntegerSpike { section: String, t_ms: f64 },
    #[error("{section} ({kind:?}): two spikes in the {t_ms} ms bin (at most one per synapse and bin)")]
    DuplicateBin { section: String, kind: SynKind, t_ms: f64 },
    #[error("row {row} does not exist (raster has {n_rows} rows)")]
    BadRow { row: usize, n_rows: usize },
    #[error("shape mismatch: {0}")]
    Mismatch(String),
    #[error("invalid input-protocol parameters: {0}")]
    InvalidParams(String),
}
