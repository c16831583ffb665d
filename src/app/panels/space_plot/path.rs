//! The path of the space plot, from soma(0.5) out to a dendritic tip through the Cable's segment
//! nodes, with each node's path distance (µm) and the 3-D points to highlight it in the view; and
//! the default path, the main apical trunk out to the tuft.

use crate::app::demos::sites::apical_nexus;
use crate::morphology::{Cable, Morphology, SectionKind};

/// A path from the soma to the far end of a section.
#[derive(Debug, Clone, PartialEq)]
pub struct SpacePath {
    /// Segment nodes in order from soma(0.5) outwards.
    pub nodes: Vec<usize>,
    /// Path distance of each node from soma(0.5) (µm), increasing.
    pub dist_um: Vec<f64>,
    /// Sections along the path, soma first.
    pub sections: Vec<usize>,
    /// The 3-D points of those sections (µm), for the highlight in the 3-D view.
    pub points_um: Vec<[f32; 3]>,
    /// e.g. "soma[0] -> apic[36]".
    pub label: String,
}

/// The tip (section without children) farthest by path distance in the subtree of `si`.
pub fn farthest_tip_below(morph: &Morphology, cable: &Cable, si: usize) -> usize {
    let children = morph.children();
    let mut best = (si, f64::MIN);
    let mut stack = vec![si];
    while let Some(s) = stack.pop() {
        let kids = children.get(s).map_or(&[][..], |k| k.as_slice());
        if kids.is_empty() {
            let d = cable.section_dist0_um.get(s).copied().unwrap_or(0.0) + cable.section_length_um.get(s).copied().unwrap_or(0.0);
            if d > best.1 {
                best = (s, d);
            }
        }
        stack.extend_from_slice(kids);
    }
    best.0
}

/// The default path: the main apical trunk (to the nexus, the main bifurcation) and on to the
/// farthest tip of the tuft; `None` for a cell without an apical dendrite.
pub fn apical_trunk_tip(morph: &Morphology, cable: &Cable) -> Option<usize> {
    apical_nexus(morph).map(|nexus| farthest_tip_below(morph, cable, nexus))
}

impl SpacePath {
    /// The path from soma(0.5) to the 1-end of section `end` (every segment node on the way).
    pub fn to_section(morph: &Morphology, cable: &Cable, end: usize) -> Option<SpacePath> {
        let mut sections = vec![];
        let mut cur = Some(end);
        while let Some(s) = cur {
            sections.push(s);
            if sections.len() > morph.sections.len() {
                return None; // a cycle: not a tree
            }
            cur = morph.sections.get(s)?.parent;
        }
        sections.reverse();
        let mut nodes = vec![];
        for &s in &sections {
            let first = *cable.section_first_node.get(s)?;
            let nseg = *cable.section_nseg.get(s)?;
            if morph.sections[s].kind == SectionKind::Soma {
                // the trees hang on soma(0.5): the soma contributes its middle segment only
                nodes.push(cable.segment_node(s, 0.5));
            } else {
                nodes.extend(first..first + nseg);
            }
        }
        let dist_um: Vec<f64> = nodes.iter().map(|&n| cable.nodes[n].dist_um).collect();
        let points_um = sections
            .iter()
            .filter(|&&s| morph.sections[s].kind != SectionKind::Soma)
            .flat_map(|&s| morph.sections[s].points.iter().map(|p| [p.x_um as f32, p.y_um as f32, p.z_um as f32]))
            .collect();
        let label = format!("{} -> {}", morph.sections[sections[0]].name, morph.sections[end].name);
        Some(SpacePath { nodes, dist_um, sections, points_um, label })
    }

    /// `values` (one per Cable node) along the path as plot points [distance µm, value].
    pub fn profile(&self, values: &[f32]) -> Vec<[f64; 2]> {
        self.nodes.iter().zip(&self.dist_um).map(|(&n, &d)| [d, values.get(n).map_or(f64::NAN, |&v| f64::from(v))]).collect()
    }
}
