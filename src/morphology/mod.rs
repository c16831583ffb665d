//! Morphology: reading reconstructions (SWC, Neurolucida ASCII, NEURON geometry JSON), building
//! NEURON-style sections, the Hay et al. axon recipe, a procedural L5PC, and discretisation into
//! compartments (`Cable`). Depends on nothing else in the crate.

pub mod asc;
pub mod cable;
pub mod hay_axon;
pub mod info;
pub mod neuron_json;
pub mod soma_contour;
pub mod swc;
pub mod synth;
pub mod types;

pub use asc::parse_asc;
pub use cable::{Cable, Discretisation, Node, NsegRule};
pub use hay_axon::replace_axon_hay2011;
pub use neuron_json::{parse_neuron_json, point_at};
pub use swc::{parse_swc, write_swc};
pub use synth::{synthesize_l5pc, SynthCell};
pub use types::{frustum_area_um2, KindSummary, Morphology, MorphologyError, Point3, Section, SectionKind};

use std::path::Path;

/// Load a morphology file, choosing the reader by extension (`.swc`, `.asc`, `.json`).
pub fn load(path: &Path) -> Result<Morphology, MorphologyError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| MorphologyError::Io { path: name.clone(), message: e.to_string() })?;
    let ext = path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("json") => parse_neuron_json(&text, &name),
        Some("swc") => parse_swc(&text, &name),
        Some("asc") => parse_asc(&text, &name),
        _ => Err(MorphologyError::UnknownFormat { source_name: name }),
    }
}

/// Load a morphology as the Hay et al. 2011 template instantiates it: [`load`], then the traced
/// axon replaced by the two-cylinder stub ([`replace_axon_hay2011`], spec §1.3).
pub fn load_hay2011(path: &Path) -> Result<Morphology, MorphologyError> {
    let mut morph = load(path)?;
    replace_axon_hay2011(&mut morph);
    morph.validate()?;
    Ok(morph)
}
