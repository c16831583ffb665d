//! The dendritic segments that carry the paper's synapses, in the paper's order (spec §6.1,
//! reference README "Mapping from the paper's segment index"): every basal section (`dend[0..]`)
//! then every apical section (`apic[0..]`), then custom-type dendrites (`dend_<code>[..]`, which
//! the paper's cell does not have), each section's segments in increasing x. Soma and axon carry
//! no synapses.

use super::StimulusError;
use crate::morphology::{Cable, Morphology, SectionKind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Which tree a segment's input rates are drawn for (the protocol has one rate per tree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tree {
    Basal,
    /// Apical dendrites. Custom-type dendrites are driven with the basal rates (documented choice:
    /// the paper has no such sections; basal is the generic "other dendrite" tree).
    Apical,
}

/// One dendritic segment (compartment) with synapses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DendriticSegment {
    /// Section index in the `Morphology`.
    pub section: usize,
    /// NEURON section name, e.g. `apic[50]`.
    pub section_name: String,
    pub tree: Tree,
    /// Segment centre, (j + 0.5)/nseg.
    pub x: f64,
    /// Index of the segment's node in the `Cable`.
    pub node: usize,
    /// Segment length L/nseg (µm): the paper's `allSegmentsLength`, used to weight input rates.
    pub length_um: f64,
    /// Path distance of the node from soma(0.5) (µm, spec §1.6; the `Cable`'s distance).
    pub dist_um: f64,
}

/// All synapse-carrying segments of a cell in the paper's order; index = the paper's segment
/// index (`paper_seg_index`).
#[derive(Debug, Clone, PartialEq)]
pub struct DendriticSegments {
    pub segments: Vec<DendriticSegment>,
    /// Section name → (first paper index, nseg), for locating (sec, x) synapse positions.
    by_section: HashMap<String, (usize, usize)>,
}

impl DendriticSegments {
    /// Collect the dendritic segments of `morph` discretised as `cable`.
    pub fn new(morph: &Morphology, cable: &Cable) -> Result<DendriticSegments, StimulusError> {
        if cable.section_nseg.len() != morph.sections.len() {
            return Err(StimulusError::Mismatch(format!(
                "cable has {} sections, morphology {}",
                cable.section_nseg.len(),
                morph.sections.len()
            )));
        }
        let mut order: Vec<usize> = (0..morph.sections.len())
            .filter(|&i| matches!(morph.sections[i].kind, SectionKind::Basal | SectionKind::Apical | SectionKind::Custom(_)))
            .collect();
        // Import3d numbers section arrays type by type; a stable sort keeps NEURON's index order
        // within a type even for files whose sections are interleaved.
        order.sort_by_key(|&i| morph.sections[i].kind.array_order());
        let mut segments = Vec::new();
        let mut by_section = HashMap::new();
        for si in order {
            let section = &morph.sections[si];
            let nseg = cable.section_nseg[si];
            by_section.insert(section.name.clone(), (segments.len(), nseg));
            let tree = if section.kind == SectionKind::Apical { Tree::Apical } else { Tree::Basal };
            for j in 0..nseg {
                let node = cable.section_first_node[si] + j;
                segments.push(DendriticSegment {
                    section: si,
                    section_name: section.name.clone(),
                    tree,
                    x: cable.nodes[node].x,
                    node,
                    length_um: cable.section_length_um[si] / nseg as f64,
                    dist_um: cable.nodes[node].dist_um,
                });
            }
        }
        if segments.is_empty() {
            return Err(StimulusError::NoDendrites { source_name: morph.source.clone() });
        }
        Ok(DendriticSegments { segments, by_section })
    }

    pub fn len(&self) -> usize {
        self.segments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Number of segments on each tree (basal incl. custom, apical).
    pub fn count_by_tree(&self) -> (usize, usize) {
        let apical = self.segments.iter().filter(|s| s.tree == Tree::Apical).count();
        (self.segments.len() - apical, apical)
    }

    /// Paper segment index of location (section name, x): segment floor(x·nseg), clamped at x = 1
    /// (spec §8 item 21).
    pub fn locate(&self, section: &str, x: f64) -> Result<usize, StimulusError> {
        let &(first, nseg) =
            self.by_section.get(section).ok_or_else(|| StimulusError::NotDendritic(section.to_string()))?;
        if !(0.0..=1.0).contains(&x) {
            return Err(StimulusError::BadLocation { section: section.to_string(), x });
        }
        Ok(first + ((x * nseg as f64).floor() as usize).min(nseg - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::morphology::{Discretisation, Point3, Section};

    fn sec(name: &str, kind: SectionKind, parent: Option<usize>, len: f64) -> Section {
        let points = vec![Point3::new(0.0, 0.0, 0.0, 1.0), Point3::new(len, 0.0, 0.0, 1.0)];
        Section { name: name.into(), kind, parent, parent_x: if parent == Some(0) { 0.5 } else { 1.0 }, points }
    }

    #[test]
    fn paper_order_is_basal_apical_custom_whatever_the_file_order() {
        // file order interleaves kinds; nseg by the Hay rule: 100 µm → 5, 50 → 3, 10 → 1
        let morph = Morphology {
            sections: vec![
                sec("soma[0]", SectionKind::Soma, None, 20.0),
                sec("apic[0]", SectionKind::Apical, Some(0), 100.0),
                sec("dend_7[0]", SectionKind::Custom(7), Some(0), 10.0),
                sec("dend[0]", SectionKind::Basal, Some(0), 50.0),
                sec("axon[0]", SectionKind::Axon, Some(0), 30.0),
            ],
            source: "test".into(),
        };
        let cable = Cable::new(&morph, &Discretisation::default()).expect("cable");
        let segs = DendriticSegments::new(&morph, &cable).expect("segments");
        let names: Vec<&str> = segs.segments.iter().map(|s| s.section_name.as_str()).collect();
        assert_eq!(names, ["dend[0]", "dend[0]", "dend[0]", "apic[0]", "apic[0]", "apic[0]", "apic[0]", "apic[0]", "dend_7[0]"]);
        assert_eq!(segs.count_by_tree(), (4, 5), "custom dendrites take the basal rates");
        assert!(segs.segments.windows(2).filter(|w| w[0].section == w[1].section).all(|w| w[0].x < w[1].x));
        assert!((segs.segments[0].length_um - 50.0 / 3.0).abs() < 1e-12);
        assert_eq!(segs.locate("apic[0]", 1.0).expect("on apic"), 7);
        assert_eq!(segs.locate("apic[0]", 0.5).expect("on apic"), 5);
        assert!(segs.locate("axon[0]", 0.5).is_err());
    }
}
