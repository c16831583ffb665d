//! Morphology: reading reconstructions (SWC, Neurolucida ASCII, NEURON geometry JSON), building
//! NEURON-style sections, the Hay et al. axon recipe, a procedural L5PC, and discretisation into
//! compartments (`Cable`). Depends on nothing else in the crate.

pub mod asc;
pub mod builtin;
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
/// Files over [`limits::MAX_MORPHOLOGY_FILE_BYTES`](crate::limits::MAX_MORPHOLOGY_FILE_BYTES)
/// are refused after reading that much (an endless `/dev/zero` included).
pub fn load(path: &Path) -> Result<Morphology, MorphologyError> {
    load_with_warnings(path).map(|(m, _)| m)
}

/// [`load`], with the warnings a caller should show: the reader's recoveries (an SWC without a
/// soma or with several roots) and a soft limit passed (an extent over
/// [`limits::WARN_EXTENT_UM`](crate::limits::WARN_EXTENT_UM)).
pub fn load_with_warnings(path: &Path) -> Result<(Morphology, Vec<String>), MorphologyError> {
    let name = path.display().to_string();
    let max_bytes = crate::limits::max_morphology_file_bytes()
        .map_err(|error| MorphologyError::Limit { source_name: name.clone(), error })?;
    let text = crate::input::read_text_limited(path, max_bytes, crate::limits::ENV_MAX_MORPHOLOGY_MB).map_err(|e| match e {
        crate::input::ReadError::Limit(error) => MorphologyError::Limit { source_name: name.clone(), error },
        other => MorphologyError::Io { path: name.clone(), message: other.to_string() },
    })?;
    let ext = path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase());
    let (morph, mut warnings) = match ext.as_deref() {
        Some("json") => (parse_neuron_json(&text, &name)?, Vec::new()),
        Some("swc") => swc::parse_swc_with_warnings(&text, &name)?,
        Some("asc") => (parse_asc(&text, &name)?, Vec::new()),
        _ => return Err(MorphologyError::UnknownFormat { source_name: name }),
    };
    warnings.extend(size_warnings(&morph));
    Ok((morph, warnings))
}

/// Warnings for a morphology past a soft limit (its extent, a soma of almost no area).
pub fn size_warnings(morph: &Morphology) -> Vec<String> {
    let mut warnings = Vec::new();
    let extent = morph.extent_um();
    if extent > crate::limits::WARN_EXTENT_UM {
        warnings.push(format!(
            "{}: the cell spans {extent:.0} µm, more than {} µm; are the coordinates in µm?",
            morph.source,
            crate::limits::WARN_EXTENT_UM
        ));
    }
    if let Some(soma) = morph.sections.first() {
        let area = soma.area_um2();
        if area < crate::limits::WARN_SOMA_AREA_UM2 {
            warnings.push(format!(
                "{}: the soma ({}) has a membrane area of {area:e} µm², less than {} µm²; a real soma has hundreds",
                morph.source,
                soma.name,
                crate::limits::WARN_SOMA_AREA_UM2
            ));
        }
    }
    warnings
}

/// Load a morphology as the Hay et al. 2011 template instantiates it: [`load`], then the traced
/// axon replaced by the two-cylinder stub ([`replace_axon_hay2011`], spec §1.3).
pub fn load_hay2011(path: &Path) -> Result<Morphology, MorphologyError> {
    load_hay2011_with_warnings(path).map(|(m, _)| m)
}

/// [`load_hay2011`] with the warnings of [`load_with_warnings`].
pub fn load_hay2011_with_warnings(path: &Path) -> Result<(Morphology, Vec<String>), MorphologyError> {
    let (mut morph, warnings) = load_with_warnings(path)?;
    replace_axon_hay2011(&mut morph);
    morph.validate()?;
    Ok((morph, warnings))
}
