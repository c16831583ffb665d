//! SWC reader and writer.
//!
//! SWC (Cannon et al. 1998; NeuroMorpho.Org) lists one sample per line:
//! `id type x y z radius parent`, lengths in µm, `parent` = -1 for a root, `#` starts a comment.
//! Type codes 1-4 are soma, axon, basal and apical dendrite; any other code is kept as
//! [`SectionKind::Custom`](crate::morphology::SectionKind) (array `dend_<code>`).
//!
//! Sections are built as NEURON's Import3d builds them (spec §1.2):
//! - every unbranched run of same-type samples is one section; sections are numbered per type
//!   depth-first in file order (children after their parent, first-listed child first) and listed
//!   soma, axon, dend, apic, custom;
//! - trees hanging on the soma (or on nothing) attach to soma(0.5) and start at their own first
//!   sample; other sections attach to their parent's 1 end, their first point a copy of the
//!   parent's last point with the section's own first diameter (unless the file already repeats
//!   that point as the section's first sample: then it is used as is, not doubled);
//! - the soma: see the notes on the soma below.
//!
//! Samples may be listed in any order. Recoveries (each documented where it happens):
//! - no soma samples but a single tree: its root sample becomes a one-point soma;
//! - trees not connected to the soma attach to soma(0.5), as Import3d does with Neurolucida trees;
//! - a one-sample tree on the soma runs from the soma sample it hangs on.
//!
//! Soma: the soma samples' longest path becomes the soma section's points (a chain of points is
//! used as is; the NeuroMorpho three-point soma gives a cylinder of length and diameter 2r whose
//! area is the sphere's; points off the longest path are dropped and their neurites attach at
//! soma(0.5)); a single soma point of radius r becomes a cylinder of length and diameter 2r along
//! y, centred on it (again the sphere's area).
//!
//! Errors (all [`MorphologyError::Parse`] naming the file and line): wrong column count,
//! non-numeric or non-finite fields, radius <= 0, duplicate ids, a parent id that is not in the
//! file, cycles, soma samples hanging on neurites, several trees and no soma, zero-length
//! sections, empty files.

pub(crate) mod read;
pub(crate) mod tree;
mod write;

pub use write::write_swc;


use crate::morphology::{Morphology, MorphologyError};

/// Parse SWC text. `source_name` (usually the file path) is used in messages and as the
/// morphology's source.
pub fn parse_swc(text: &str, source_name: &str) -> Result<Morphology, MorphologyError> {
    parse_swc_with_warnings(text, source_name).map(|(m, _)| m)
}

/// [`parse_swc`], with a warning for each recovery (no soma samples: the invented soma
/// described; several roots: their lines), each naming the file.
pub fn parse_swc_with_warnings(text: &str, source_name: &str) -> Result<(Morphology, Vec<String>), MorphologyError> {
    let file = read::lex(text, source_name)?;
    let (morph, warnings) = tree::build(&file, source_name)?;
    morph.validate()?;
    Ok((morph, warnings))
}
