//! Summary figures of a morphology and its discretisation (`neurotwin morph info`).

use super::{Cable, Morphology};
use serde::Serialize;

/// Per-type figures.
#[derive(Debug, Clone, Serialize)]
pub struct KindInfo {
    pub kind: String,
    pub sections: usize,
    pub compartments: usize,
    pub total_length_um: f64,
    pub total_area_um2: f64,
}

/// What `morph info` prints.
#[derive(Debug, Clone, Serialize)]
pub struct MorphInfo {
    pub source: String,
    pub sections: usize,
    pub compartments: usize,
    pub total_area_um2: f64,
    pub by_type: Vec<KindInfo>,
}

impl MorphInfo {
    pub fn new(morph: &Morphology, cable: &Cable) -> MorphInfo {
        let by_type = morph
            .summary_by_kind()
            .into_iter()
            .map(|(kind, s)| {
                let compartments = morph
                    .sections
                    .iter()
                    .enumerate()
                    .filter(|(_, sec)| sec.kind == kind)
                    .map(|(i, _)| cable.section_nseg[i])
                    .sum();
                KindInfo {
                    kind: kind.neuron_prefix(),
                    sections: s.sections,
                    compartments,
                    total_length_um: s.total_length_um,
                    total_area_um2: s.total_area_um2,
                }
            })
            .collect();
        MorphInfo {
            source: morph.source.clone(),
            sections: morph.sections.len(),
            compartments: cable.n_compartments(),
            total_area_um2: cable.total_area_um2(),
            by_type,
        }
    }

    /// A plain-text table.
    pub fn table(&self) -> String {
        let mut out = format!("{}\n{:<8} {:>9} {:>13} {:>16} {:>16}\n", self.source, "type", "sections", "compartments", "length (µm)", "area (µm²)");
        for k in &self.by_type {
            out += &format!(
                "{:<8} {:>9} {:>13} {:>16.3} {:>16.3}\n",
                k.kind, k.sections, k.compartments, k.total_length_um, k.total_area_um2
            );
        }
        out += &format!("{:<8} {:>9} {:>13} {:>16} {:>16.3}\n", "total", self.sections, self.compartments, "", self.total_area_um2);
        out
    }
}
