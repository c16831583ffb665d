//! Summary figures of a morphology and its discretisation (`neurotwin morph info`): per type
//! sections, compartments, length, area, and the tree figures of `l5pc-morphometrics.md`
//! (stems, tips, path and reach from the soma, branch order, the apical main path).

use super::{point_at, Cable, Morphology, SectionKind};
use serde::Serialize;

/// Per-type figures.
#[derive(Debug, Clone, Serialize)]
pub struct KindInfo {
    pub kind: String,
    pub sections: usize,
    pub compartments: usize,
    pub total_length_um: f64,
    pub total_area_um2: f64,
    /// Sections of this type whose parent is the soma or of another type.
    pub stems: usize,
    /// Sections of this type without children.
    pub tips: usize,
    /// Longest path from soma(0.5) to a point of this type (µm).
    pub max_path_um: f64,
    /// Largest straight-line distance from soma(0.5) to a point of this type (µm).
    pub max_reach_um: f64,
    /// Highest branch order within the type's trees (a stem is order 0; each branch point
    /// passed adds one).
    pub max_branch_order: usize,
}

/// The apical main path: from the apical stem, following the thickest child at each branch point.
#[derive(Debug, Clone, Serialize)]
pub struct MainPath {
    pub sections: usize,
    pub length_um: f64,
    /// Branches leaving the main path (obliques and tuft branches).
    pub side_branches: usize,
}

/// What `morph info` prints.
#[derive(Debug, Clone, Serialize)]
pub struct MorphInfo {
    pub source: String,
    pub sections: usize,
    pub compartments: usize,
    pub total_area_um2: f64,
    pub by_type: Vec<KindInfo>,
    pub apical_main_path: Option<MainPath>,
}

impl MorphInfo {
    pub fn new(morph: &Morphology, cable: &Cable) -> MorphInfo {
        let children = morph.children();
        let order = branch_orders(morph, &children);
        let centre = point_at(&morph.sections[0], 0.5);
        let by_type = morph
            .summary_by_kind()
            .into_iter()
            .map(|(kind, s)| {
                let of_kind: Vec<usize> = (0..morph.sections.len()).filter(|&i| morph.sections[i].kind == kind).collect();
                let max_reach_um = of_kind
                    .iter()
                    .flat_map(|&i| morph.sections[i].points.iter())
                    .map(|p| p.distance_um(&centre))
                    .fold(0.0, f64::max);
                KindInfo {
                    kind: kind.neuron_prefix(),
                    sections: s.sections,
                    compartments: of_kind.iter().map(|&i| cable.section_nseg[i]).sum(),
                    total_length_um: s.total_length_um,
                    total_area_um2: s.total_area_um2,
                    stems: of_kind.iter().filter(|&&i| is_stem(morph, i)).count(),
                    tips: of_kind.iter().filter(|&&i| children[i].is_empty()).count(),
                    max_path_um: of_kind.iter().map(|&i| end_path_um(morph, cable, i)).fold(0.0, f64::max),
                    max_reach_um,
                    max_branch_order: of_kind.iter().map(|&i| order[i]).max().unwrap_or(0),
                }
            })
            .collect();
        MorphInfo {
            source: morph.source.clone(),
            sections: morph.sections.len(),
            compartments: cable.n_compartments(),
            total_area_um2: cable.total_area_um2(),
            by_type,
            apical_main_path: apical_main_path(morph, &children),
        }
    }

    /// A plain-text table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{}\n{:<8} {:>8} {:>12} {:>12} {:>12} {:>6} {:>5} {:>10} {:>10} {:>6}\n",
            self.source, "type", "sections", "compartments", "length (µm)", "area (µm²)", "stems", "tips", "path (µm)", "reach (µm)", "order"
        );
        for k in &self.by_type {
            out += &format!(
                "{:<8} {:>8} {:>12} {:>12.3} {:>12.3} {:>6} {:>5} {:>10.1} {:>10.1} {:>6}\n",
                k.kind, k.sections, k.compartments, k.total_length_um, k.total_area_um2, k.stems, k.tips, k.max_path_um, k.max_reach_um, k.max_branch_order
            );
        }
        out += &format!("{:<8} {:>8} {:>12} {:>12} {:>12.3}\n", "total", self.sections, self.compartments, "", self.total_area_um2);
        if let Some(m) = &self.apical_main_path {
            out += &format!(
                "apical main path (thickest child): {} sections, {:.1} µm, {} side branches\n",
                m.sections, m.length_um, m.side_branches
            );
        }
        out += "(path, reach: longest path and straight-line distance from soma(0.5); order: maximum branch order)\n";
        out
    }
}

fn is_stem(morph: &Morphology, i: usize) -> bool {
    let s = &morph.sections[i];
    match s.parent {
        None => false,
        Some(p) => morph.sections[p].parent.is_none() || morph.sections[p].kind != s.kind,
    }
}

/// Path distance from soma(0.5) to the 1 end of section `i` (the root: to its farther end).
fn end_path_um(morph: &Morphology, cable: &Cable, i: usize) -> f64 {
    let length = cable.section_length_um[i];
    match morph.sections[i].parent {
        None => 0.5 * length,
        Some(_) => cable.section_dist0_um[i] + length,
    }
}

/// Branch order of every section: 0 for stems (and the root), +1 past each branch point.
fn branch_orders(morph: &Morphology, children: &[Vec<usize>]) -> Vec<usize> {
    let mut order = vec![0; morph.sections.len()];
    for (i, s) in morph.sections.iter().enumerate() {
        if let Some(p) = s.parent {
            if !is_stem(morph, i) {
                order[i] = order[p] + usize::from(children[p].len() > 1);
            }
        }
    }
    order
}

fn apical_main_path(morph: &Morphology, children: &[Vec<usize>]) -> Option<MainPath> {
    let start_diam = |i: usize| morph.sections[i].points.first().map_or(0.0, |p| p.diam_um);
    let mut cur = (0..morph.sections.len())
        .filter(|&i| morph.sections[i].kind == SectionKind::Apical && is_stem(morph, i))
        .max_by(|&a, &b| start_diam(a).total_cmp(&start_diam(b)))?;
    let mut path = MainPath { sections: 0, length_um: 0.0, side_branches: 0 };
    loop {
        path.sections += 1;
        path.length_um += morph.sections[cur].length_um();
        let kids: Vec<usize> = children[cur].iter().copied().filter(|&c| morph.sections[c].kind == SectionKind::Apical).collect();
        // thickest child by its second point: the first is a copy of the branch point
        let thick = |c: usize| morph.sections[c].points.get(1).map_or(0.0, |p| p.diam_um);
        let Some(next) = kids.iter().copied().max_by(|&a, &b| thick(a).total_cmp(&thick(b)).then(b.cmp(&a))) else {
            break;
        };
        path.side_branches += kids.len() - 1;
        cur = next;
    }
    Some(path)
}
