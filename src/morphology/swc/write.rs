//! Writing a `Morphology` as SWC so that `parse_swc` rebuilds the same sections.

use super::read::SECTION_BREAK_TAG;
use super::tree::same_place;
use crate::morphology::{Morphology, Point3, SectionKind};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Write `morph` as SWC text.
///
/// The soma's 3-D points become a chain of type-1 samples (a multi-point soma, which reloads
/// point for point) and every tree on the soma hangs on its middle sample. A child section's
/// first point, when it only repeats the parent's end point with the child's next diameter (the
/// Import3d convention the reader re-applies), is not written, so no zero-length link appears.
/// Sections that continue their parent unbranched and with the same type are listed in a
/// `# neurotwin section-breaks:` comment (other readers see one longer section).
///
/// Exact (points equal to the bit, same names and parents) for any morphology that follows
/// Import3d's conventions, which every morphology read by neurotwin does. A morphology that
/// breaks them (a tree attached to the soma elsewhere than 0.5, a child attached elsewhere than
/// its parent's 1 end or not starting at it) is written as the nearest SWC: the tree hangs on
/// the soma, the child on its parent's end.
pub fn write_swc(morph: &Morphology) -> String {
    let mut body = String::new();
    let mut breaks: Vec<usize> = Vec::new();
    let mut next_id = 1usize;
    // sample id of each section's last point
    let mut last_id: Vec<usize> = vec![0; morph.sections.len()];
    let mut soma_attach_id = 0usize;
    let children = morph.children();
    for si in preorder(morph, &children) {
        let section = &morph.sections[si];
        let points = &section.points;
        let (code, parent_id, skip_first) = match section.parent {
            // the root is the soma whatever its kind: the reader needs type-1 samples
            None => (1, None, false),
            Some(0) => (section.kind.swc_code(), Some(soma_attach_id), false),
            Some(p) => {
                let end = morph.sections[p].points.last().copied();
                let skip = match (end, points.first(), points.get(1)) {
                    (Some(end), Some(first), Some(second)) => {
                        same_place(first, &end) && first.diam_um == second.diam_um && !same_place(second, &end)
                    }
                    _ => false,
                };
                if children[p].len() == 1 && morph.sections[p].kind == section.kind {
                    breaks.push(next_id);
                }
                (section.kind.swc_code(), Some(last_id[p]), skip)
            }
        };
        let first_written = next_id;
        for (k, pt) in points.iter().enumerate().skip(usize::from(skip_first)) {
            let parent = if next_id == first_written { parent_id } else { Some(next_id - 1) };
            write_sample(&mut body, next_id, code, pt, parent);
            next_id += 1;
            if section.parent.is_none() && k == points.len() / 2 {
                soma_attach_id = next_id - 1;
            }
        }
        last_id[si] = next_id - 1;
    }
    let mut out = String::new();
    let source = morph.source.replace(['\n', '\r'], " ");
    let _ = writeln!(out, "# SWC written by neurotwin from {source}");
    let _ = writeln!(out, "# {} sections; id type x y z radius parent (µm)", morph.sections.len());
    for chunk in breaks.chunks(16) {
        let ids: Vec<String> = chunk.iter().map(|i| i.to_string()).collect();
        let _ = writeln!(out, "# {SECTION_BREAK_TAG} {}", ids.join(" "));
    }
    out + &body
}

fn write_sample(out: &mut String, id: usize, code: i32, p: &Point3, parent: Option<usize>) {
    // `{}` prints the shortest text that parses back to the same f64, so coordinates round-trip
    // exactly; diameter / 2 and radius * 2 are exact in binary floating point.
    let parent = parent.map_or(-1, |p| p as i64);
    let _ = writeln!(out, "{id} {code} {} {} {} {} {parent}", p.x_um, p.y_um, p.z_um, p.diam_um / 2.0);
}


/// Sections in the depth-first order the file must list them in for the reader to give every
/// section its name back: the reader numbers each type in depth-first file order, so sibling
/// subtrees that share a type must be listed in the order of their lowest index of that type.
/// (Siblings sharing no type may go in any order: neither shifts the other's numbers.)
fn preorder(morph: &Morphology, children: &[Vec<usize>]) -> Vec<usize> {
    let n = morph.sections.len();
    let mut rank: HashMap<SectionKind, usize> = HashMap::new();
    let index_in_kind: Vec<usize> = morph
        .sections
        .iter()
        .map(|s| {
            let r = rank.entry(s.kind).or_insert(0);
            *r += 1;
            name_index(&s.name).unwrap_or(*r - 1)
        })
        .collect();
    // lowest index of each kind within each section's subtree (children come after parents)
    let mut lowest: Vec<HashMap<SectionKind, usize>> = vec![HashMap::new(); n];
    for i in (0..n).rev() {
        let mut own = std::mem::take(&mut lowest[i]);
        let e = own.entry(morph.sections[i].kind).or_insert(usize::MAX);
        *e = (*e).min(index_in_kind[i]);
        if let Some(p) = morph.sections[i].parent {
            for (&k, &v) in &own {
                let e = lowest[p].entry(k).or_insert(usize::MAX);
                *e = (*e).min(v);
            }
        }
        lowest[i] = own;
    }
    let must_precede = |a: usize, b: usize| lowest[a].iter().any(|(k, &va)| lowest[b].get(k).is_some_and(|&vb| va < vb));
    let mut order = vec![0];
    let mut stack: Vec<usize> = Vec::new();
    let push_children = |stack: &mut Vec<usize>, of: usize| {
        let mut left: Vec<usize> = children[of].clone();
        let mut sorted = Vec::with_capacity(left.len());
        while !left.is_empty() {
            // the first sibling nobody else must precede; the first one left if names are
            // inconsistent with any depth-first order (then the reader renumbers)
            let pick = (0..left.len())
                .find(|&a| !left.iter().any(|&b| b != left[a] && must_precede(b, left[a])))
                .unwrap_or(0);
            sorted.push(left.remove(pick));
        }
        stack.extend(sorted.into_iter().rev());
    };
    push_children(&mut stack, 0);
    while let Some(i) = stack.pop() {
        order.push(i);
        push_children(&mut stack, i);
    }
    order
}

/// The number in a NEURON section name such as `dend[12]`.
fn name_index(name: &str) -> Option<usize> {
    name.strip_suffix(']')?.rsplit_once('[')?.1.parse().ok()
}
