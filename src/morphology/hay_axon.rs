//! The Hay et al. 2011 axon recipe (spec §1.3): the traced axon is deleted and replaced by two
//! 30 µm × 1 µm cylinders, `axon[0]` on soma(0.5) and `axon[1]` on `axon[0](1)`.
//!
//! NEURON gives the replacement cylinders no 3-D points; we give each two points so that they
//! can be drawn, starting at the soma centre and running along −y. Length and diameter, hence
//! area and axial resistance, are exactly those of NEURON's cylinders. (The same layout as the
//! NEURON geometry JSON reader uses for point-less sections.)

use super::neuron_json::point_at;
use super::types::{Morphology, Point3, Section, SectionKind};

/// Length of each replacement axon cylinder (µm).
pub const HAY2011_AXON_LENGTH_UM: f64 = 30.0;
/// Diameter of each replacement axon cylinder (µm).
pub const HAY2011_AXON_DIAM_UM: f64 = 1.0;

/// Replace the axon of `morph` by the Hay et al. 2011 stub: every axon section and anything
/// hanging on one is removed; `axon[0]` (attached at 0.5 of the root section, the soma) and
/// `axon[1]` (attached at `axon[0](1)`) are inserted after the soma sections, so that the
/// section order stays NEURON's (soma, axon, dend, apic). Does nothing to an empty morphology.
pub fn replace_axon_hay2011(morph: &mut Morphology) {
    let Some(root) = morph.sections.first() else { return };
    let start = point_at(root, 0.5);
    let old = std::mem::take(&mut morph.sections);

    // parents come before children, so one forward pass finds every descendant of an axon
    let mut removed = vec![false; old.len()];
    for (i, s) in old.iter().enumerate() {
        removed[i] = s.kind == SectionKind::Axon || s.parent.is_some_and(|p| p < i && removed[p]);
    }
    let insert_at =
        old.iter().enumerate().filter(|(i, s)| !removed[*i] && s.kind == SectionKind::Soma).count().max(1);

    // new index of every kept old section
    let mut new_index = vec![None; old.len()];
    let mut next = 0;
    for (i, is_removed) in removed.iter().enumerate() {
        if *is_removed {
            continue;
        }
        if next == insert_at {
            next += 2;
        }
        new_index[i] = Some(next);
        next += 1;
    }

    let (x, y, z) = (start.x_um, start.y_um, start.z_um);
    let d = HAY2011_AXON_DIAM_UM;
    let l = HAY2011_AXON_LENGTH_UM;
    let cylinder = |name: &str, parent: usize, parent_x: f64, y0: f64| Section {
        name: name.to_string(),
        kind: SectionKind::Axon,
        parent: Some(parent),
        parent_x,
        points: vec![Point3::new(x, y0, z, d), Point3::new(x, y0 - l, z, d)],
    };
    let mut sections = Vec::with_capacity(next.max(insert_at + 2));
    for (i, mut s) in old.into_iter().enumerate() {
        if removed[i] {
            continue;
        }
        if sections.len() == insert_at {
            sections.push(cylinder("axon[0]", 0, 0.5, y));
            sections.push(cylinder("axon[1]", insert_at, 1.0, y - l));
        }
        s.parent = s.parent.and_then(|p| new_index[p]);
        sections.push(s);
    }
    if sections.len() == insert_at {
        sections.push(cylinder("axon[0]", 0, 0.5, y));
        sections.push(cylinder("axon[1]", insert_at, 1.0, y - l));
    }
    morph.sections = sections;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(name: &str, kind: SectionKind, parent: Option<usize>, y0: f64) -> Section {
        Section {
            name: name.into(),
            kind,
            parent,
            parent_x: if parent == Some(0) { 0.5 } else { 1.0 },
            points: vec![Point3::new(0.0, y0, 0.0, 2.0), Point3::new(0.0, y0 + 10.0, 0.0, 2.0)],
        }
    }

    #[test]
    fn replaces_axon_tree_and_fixes_parents() {
        let mut m = Morphology {
            sections: vec![
                section("soma[0]", SectionKind::Soma, None, -5.0),
                section("axon[0]", SectionKind::Axon, Some(0), -5.0),
                section("axon[1]", SectionKind::Axon, Some(1), -5.0),
                section("axon[2]", SectionKind::Axon, Some(1), -5.0),
                section("dend[0]", SectionKind::Basal, Some(0), 0.0),
                section("dend[1]", SectionKind::Basal, Some(4), 10.0),
                section("apic[0]", SectionKind::Apical, Some(0), 0.0),
            ],
            source: "test".into(),
        };
        replace_axon_hay2011(&mut m);
        let names: Vec<&str> = m.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["soma[0]", "axon[0]", "axon[1]", "dend[0]", "dend[1]", "apic[0]"]);
        let parents: Vec<Option<usize>> = m.sections.iter().map(|s| s.parent).collect();
        assert_eq!(parents, [None, Some(0), Some(1), Some(0), Some(3), Some(0)]);
        assert_eq!(m.sections[2].parent_x, 1.0);
        assert_eq!(m.sections[1].points[0], Point3::new(0.0, 0.0, 0.0, 1.0));
        assert_eq!(m.sections[2].points[1].y_um, -60.0);
        assert!((m.sections[1].length_um() - 30.0).abs() < 1e-12);
        m.validate().unwrap();
    }

    #[test]
    fn adds_axon_to_a_cell_without_one() {
        let mut m = Morphology { sections: vec![section("soma[0]", SectionKind::Soma, None, -5.0)], source: "t".into() };
        replace_axon_hay2011(&mut m);
        assert_eq!(m.sections.len(), 3);
        assert_eq!(m.sections[2].parent, Some(1));
        m.validate().unwrap();
    }
}
