//! Blocks → NEURON sections, as Import3d builds them (spec §1.2):
//! - the soma outline becomes `soma[0]` (see `soma_contour`);
//! - every unbranched stretch of a tree is one section; sections are numbered per type in file
//!   order, depth-first, a section's children right after it, first-listed child first;
//! - a tree's root section starts at the tree's first point and hangs on soma(0.5);
//! - a child section hangs on its parent's 1 end; its first point is a copy of the parent's last
//!   point's coordinates with the child's own first diameter;
//! - 3-D points are stored as float32, as NEURON does.
//!
//! The sections are returned in NEURON's array order: soma, axon[..], dend[..], apic[..].

use super::blocks::{Blocks, Branch, RawPoint};
use super::AscError;
use crate::morphology::soma_contour::outline_to_soma_points;
use crate::morphology::types::{Point3, Section, SectionKind};

fn f32_round(v: f64) -> f64 {
    (v as f32) as f64
}

fn to_point(p: &RawPoint) -> Point3 {
    Point3::new(f32_round(p.xyz_um[0]), f32_round(p.xyz_um[1]), f32_round(p.xyz_um[2]), f32_round(p.diam_um))
}

/// A section before the per-type arrays are put in order.
struct Pending {
    kind: SectionKind,
    /// Index within its type's array (the `i` of `dend[i]`).
    index: usize,
    /// Position of the parent in the pending list.
    parent: Option<usize>,
    parent_x: f64,
    points: Vec<Point3>,
}

#[derive(Default)]
struct Builder {
    pending: Vec<Pending>,
    /// Sections numbered so far per kind.
    counts: Vec<(SectionKind, usize)>,
}

impl Builder {
    fn next_index(&mut self, kind: SectionKind) -> usize {
        match self.counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                self.counts.push((kind, 1));
                0
            }
        }
    }

    /// Add `branch` (and, depth-first, its children) as sections of `kind` hanging on `parent`.
    fn add_branch(&mut self, kind: SectionKind, branch: &Branch, parent: usize, is_root: bool) -> Result<(), AscError> {
        let mut points: Vec<Point3> = Vec::with_capacity(branch.points.len() + 1);
        let parent_x = if is_root {
            0.5
        } else {
            // the child starts where its parent ends, with its own first diameter (spec §1.2)
            let first = branch.points.first().map(to_point);
            let end = self.pending[parent].points.last().copied();
            if let (Some(first), Some(end)) = (first, end) {
                points.push(Point3::new(end.x_um, end.y_um, end.z_um, first.diam_um));
            }
            1.0
        };
        points.extend(branch.points.iter().map(to_point));
        if points.len() < 2 {
            return Err(AscError::new(
                branch.line,
                "a tree's first stretch has a single point; expected at least 2 points before its first split",
            ));
        }
        let index = self.next_index(kind);
        let me = self.pending.len();
        self.pending.push(Pending { kind, index, parent: Some(parent), parent_x, points });
        for child in &branch.children {
            self.add_branch(kind, child, me, false)?;
        }
        Ok(())
    }
}

/// NEURON's soma section for the outline points. An outline with one point is read as a
/// spherical soma of that diameter and becomes a cylinder with length = diameter (the same
/// area, π·d²) along y, as NEURON does for single-point somata.
fn soma_points(outline: &[RawPoint], line: usize) -> Result<Vec<Point3>, AscError> {
    match outline {
        [] => Err(AscError::new(line, "CellBody without points; expected its outline (x y z d) points")),
        [p] => {
            if p.diam_um <= 0.0 {
                return Err(AscError::new(p.line, "single-point CellBody needs a positive diameter"));
            }
            let c = to_point(p);
            let half = 0.5 * c.diam_um;
            Ok([-half, 0.0, half].iter().map(|dy| Point3::new(c.x_um, f32_round(c.y_um + dy), c.z_um, c.diam_um)).collect())
        }
        _ => {
            let xyz: Vec<[f64; 3]> = outline.iter().map(|p| p.xyz_um).collect();
            outline_to_soma_points(&xyz).map_err(|e| AscError::new(line, format!("CellBody outline: {e}")))
        }
    }
}

/// Build the sections of the cell, in NEURON order.
pub(crate) fn build(blocks: &Blocks) -> Result<Vec<Section>, AscError> {
    let soma = match blocks.somas.as_slice() {
        [] => {
            return Err(match blocks.trees.first() {
                None => AscError::new(
                    1,
                    "no CellBody contour and no (Dendrite), (Apical) or (Axon) tree: the file holds no neuron",
                ),
                Some(t) => AscError::new(t.root.line, "tree found but no CellBody contour to attach it to"),
            })
        }
        [soma] => soma,
        [_, second, ..] => {
            return Err(AscError::new(
                second.line,
                "second CellBody outline; a stack of soma contours is not supported, expected one",
            ))
        }
    };
    let mut builder = Builder::default();
    builder.pending.push(Pending {
        kind: SectionKind::Soma,
        index: 0,
        parent: None,
        parent_x: 0.0,
        points: soma_points(&soma.points, soma.line)?,
    });
    for tree in &blocks.trees {
        builder.add_branch(tree.kind, &tree.root, 0, true)?;
    }

    // NEURON lists the arrays soma, axon, dend, apic; within an array, the depth-first order
    let mut order: Vec<usize> = (0..builder.pending.len()).collect();
    order.sort_by_key(|&i| (builder.pending[i].kind.array_order(), builder.pending[i].index));
    let mut new_index = vec![0usize; order.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    let mut pending: Vec<Option<Pending>> = builder.pending.into_iter().map(Some).collect();
    let mut sections = Vec::with_capacity(order.len());
    for &old in &order {
        let Some(p) = pending[old].take() else { continue };
        sections.push(Section {
            name: format!("{}[{}]", p.kind.neuron_prefix(), p.index),
            kind: p.kind,
            parent: p.parent.map(|q| new_index[q]),
            parent_x: p.parent_x,
            points: p.points,
        });
    }
    Ok(sections)
}
