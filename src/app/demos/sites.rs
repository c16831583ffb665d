//! Where the demos put their inputs, chosen by geometry alone (region, path distance from the
//! soma, branching), so that every demo works on any loaded pyramidal cell: the built-in
//! synthetic cell and the Hay cell (`cell1.asc`) alike.

use crate::morphology::{Cable, Morphology, SectionKind};

/// A location as (section index, x).
pub type SectionX = (usize, f64);

/// Path distance (µm) of (section, x) from soma(0.5), as the Cable measures it.
pub fn dist_um(cable: &Cable, (si, x): SectionX) -> f64 {
    cable.section_dist0_um.get(si).copied().unwrap_or(0.0) + x * cable.section_length_um.get(si).copied().unwrap_or(0.0)
}

/// Total dendritic length (µm) of each section's subtree, the section itself included.
fn subtree_length_um(morph: &Morphology, children: &[Vec<usize>]) -> Vec<f64> {
    let mut total: Vec<f64> = morph.sections.iter().map(|s| s.length_um()).collect();
    // parents come before children (Morphology::validate), so one backward sweep sums subtrees
    for si in (0..morph.sections.len()).rev() {
        let sum: f64 = children[si].iter().map(|&c| total[c]).sum();
        total[si] += sum;
    }
    total
}

/// The terminal basal section whose end is farthest (path distance) from the soma.
pub fn distal_basal_tip(morph: &Morphology, cable: &Cable) -> Option<usize> {
    let children = morph.children();
    (0..morph.sections.len())
        .filter(|&si| morph.sections[si].kind == SectionKind::Basal && children[si].is_empty())
        .max_by(|&a, &b| dist_um(cable, (a, 1.0)).total_cmp(&dist_um(cable, (b, 1.0))))
}

/// The point at path distance `target_um` from the soma on the path from the soma to section
/// `si` (soma(0.5) when the target lies inside the soma).
pub fn on_path_at_distance(morph: &Morphology, cable: &Cable, si: usize, target_um: f64) -> SectionX {
    let mut current = Some(si);
    while let Some(s) = current {
        let section = &morph.sections[s];
        if section.kind == SectionKind::Soma {
            break;
        }
        let d0 = dist_um(cable, (s, 0.0));
        let length = cable.section_length_um.get(s).copied().unwrap_or(0.0);
        if target_um >= d0 && length > 0.0 {
            return (s, ((target_um - d0) / length).clamp(0.0, 1.0));
        }
        current = section.parent;
    }
    (0, 0.5)
}

/// The apical nexus: the section of the apical trunk that ends at the main bifurcation, found
/// by following the trunk (the child with the largest subtree) from the apical stem until a
/// branch point whose second-largest child carries at least a quarter of the largest child's
/// dendrite (oblique branches are much smaller than either half of the tuft). A trunk without
/// such a split ends at its last section.
pub fn apical_nexus(morph: &Morphology) -> Option<usize> {
    let children = morph.children();
    let subtree = subtree_length_um(morph, &children);
    let mut trunk = (0..morph.sections.len())
        .filter(|&si| {
            morph.sections[si].kind == SectionKind::Apical
                && morph.sections[si].parent.is_some_and(|p| morph.sections[p].kind == SectionKind::Soma)
        })
        .max_by(|&a, &b| subtree[a].total_cmp(&subtree[b]))?;
    loop {
        let mut kids: Vec<usize> = children[trunk].iter().copied().filter(|&c| morph.sections[c].kind == SectionKind::Apical).collect();
        kids.sort_by(|&a, &b| subtree[b].total_cmp(&subtree[a]));
        match kids.as_slice() {
            [] => return Some(trunk),
            [only] => trunk = *only,
            [largest, second, ..] => {
                if subtree[*second] >= 0.25 * subtree[*largest] {
                    return Some(trunk);
                }
                trunk = *largest;
            }
        }
    }
}

/// The daughters of the nexus (the two tuft branches, largest first).
pub fn tuft_daughters(morph: &Morphology, nexus: usize) -> Vec<usize> {
    let children = morph.children();
    let subtree = subtree_length_um(morph, &children);
    let mut kids = children[nexus].clone();
    kids.sort_by(|&a, &b| subtree[b].total_cmp(&subtree[a]));
    kids.truncate(2);
    kids
}

/// Basal sections that leave the soma (stems), longest subtree first.
pub fn basal_stems(morph: &Morphology) -> Vec<usize> {
    let children = morph.children();
    let subtree = subtree_length_um(morph, &children);
    let mut stems: Vec<usize> = (0..morph.sections.len())
        .filter(|&si| {
            morph.sections[si].kind == SectionKind::Basal && morph.sections[si].parent.is_some_and(|p| morph.sections[p].kind == SectionKind::Soma)
        })
        .collect();
    stems.sort_by(|&a, &b| subtree[b].total_cmp(&subtree[a]));
    stems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::session::MorphologySource;
    use crate::morphology::Discretisation;

    #[test]
    fn sites_on_the_built_in_cell_are_where_the_demos_need_them() {
        let morph = MorphologySource::EmbeddedSynthetic.load().expect("built-in cell");
        let cable = Cable::new(&morph, &Discretisation::default()).expect("cable");
        let tip = distal_basal_tip(&morph, &cable).expect("a basal tip");
        assert_eq!(morph.sections[tip].kind, SectionKind::Basal);
        let tip_um = dist_um(&cable, (tip, 1.0));
        assert!(tip_um > 150.0, "distal basal tip at {tip_um} µm");
        let mid = on_path_at_distance(&morph, &cable, tip, 0.5 * tip_um);
        assert!((dist_um(&cable, mid) - 0.5 * tip_um).abs() < 1.0, "midway point at {} µm", dist_um(&cable, mid));
        assert_eq!(on_path_at_distance(&morph, &cable, tip, 1e6), (tip, 1.0), "clamped to the end");

        let nexus = apical_nexus(&morph).expect("a nexus");
        assert_eq!(morph.sections[nexus].kind, SectionKind::Apical);
        let nexus_um = dist_um(&cable, (nexus, 1.0));
        assert!((400.0..1000.0).contains(&nexus_um), "nexus at {nexus_um} µm");
        assert_eq!(tuft_daughters(&morph, nexus).len(), 2);
        assert!(basal_stems(&morph).len() >= 4);
    }
}
