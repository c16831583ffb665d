//! From SWC samples to NEURON sections, following Import3d's conventions (spec §1.2): the
//! structural checks (ids, parents, cycles, soma), the soma stretch, unbranched sections,
//! per-type depth-first numbering in file order, and the copied first point of child sections.

use super::read::{Sample, SwcFile};
use crate::morphology::{point_at, Morphology, MorphologyError, Point3, Section, SectionKind};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// A section before naming and ordering.
struct Proto {
    kind: SectionKind,
    /// Parent proto, or `None` for trees on the soma.
    parent: Option<usize>,
    points: Vec<Point3>,
}

/// Build the morphology; also returns a warning for each recovery (invented soma, detached trees).
pub(crate) fn build(file: &SwcFile, source_name: &str) -> Result<(Morphology, Vec<String>), MorphologyError> {
    let mut warnings = Vec::new();
    let samples = &file.samples;
    let err = |line: usize, message: String| MorphologyError::Parse { source_name: source_name.to_string(), line, message };
    if samples.is_empty() {
        return Err(err(
            file.n_lines.max(1),
            "no SWC samples: expected lines of 'id type x y z radius parent'".into(),
        ));
    }
    let mut index: HashMap<i64, usize> = HashMap::with_capacity(samples.len());
    for (i, s) in samples.iter().enumerate() {
        if let Some(&first) = index.get(&s.id) {
            return Err(err(s.line, format!("duplicate sample id {} (first defined on line {})", s.id, samples[first].line)));
        }
        index.insert(s.id, i);
    }
    let mut parent: Vec<Option<usize>> = Vec::with_capacity(samples.len());
    for s in samples {
        parent.push(match s.parent {
            None => None,
            Some(p) => Some(*index.get(&p).ok_or_else(|| {
                err(s.line, format!("parent id {p} of sample {} is not defined anywhere in the file", s.id))
            })?),
        });
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); samples.len()];
    for (i, p) in parent.iter().enumerate() {
        if let Some(p) = p {
            children[*p].push(i);
        }
    }
    check_acyclic(samples, &parent, &children, source_name)?;
    let mut is_break = vec![false; samples.len()];
    for &(id, line) in &file.section_breaks {
        let i = index
            .get(&id)
            .ok_or_else(|| err(line, format!("section-break comment names sample {id}, which is not in the file")))?;
        is_break[*i] = true;
    }

    let mut is_soma: Vec<bool> = samples.iter().map(|s| s.code == 1).collect();
    for (i, s) in samples.iter().enumerate() {
        if let Some(p) = parent[i] {
            if is_soma[i] && !is_soma[p] {
                return Err(err(s.line, format!(
                    "soma sample {} (type 1) hangs on sample {} of type {}; soma samples may only hang on soma samples",
                    s.id, samples[p].id, samples[p].code
                )));
            }
        }
    }
    if !is_soma.contains(&true) {
        // Documented recovery: a single tree without soma samples gets its root as a point soma.
        let roots: Vec<usize> = (0..samples.len()).filter(|&i| parent[i].is_none()).collect();
        if roots.len() > 1 {
            let lines: Vec<String> = roots.iter().take(5).map(|&r| samples[r].line.to_string()).collect();
            return Err(err(samples[roots[1]].line, format!(
                "no soma (type 1) samples and {} separate trees (roots on lines {}); cannot tell how they connect",
                roots.len(),
                lines.join(", ")
            )));
        }
        if let Some(&root) = roots.first() {
            is_soma[root] = true;
            let r = &samples[root];
            warnings.push(format!(
                "{source_name}:{}: no soma samples (type 1); the root sample {} (type {}) at ({}, {}, {}) µm becomes a \
                 one-point soma: a cylinder of length and diameter {} µm (2 × its radius)",
                r.line, r.id, r.code, r.x_um, r.y_um, r.z_um, 2.0 * r.radius_um
            ));
        }
    } else {
        // Documented recovery: trees not connected to the soma attach to soma(0.5).
        let detached: Vec<usize> = (0..samples.len()).filter(|&i| parent[i].is_none() && !is_soma[i]).collect();
        if !detached.is_empty() {
            let lines: Vec<String> = detached.iter().take(10).map(|&r| samples[r].line.to_string()).collect();
            warnings.push(format!(
                "{source_name}: {} tree(s) not connected to the soma (parent -1 on line(s) {}{}) are attached to soma(0.5)",
                detached.len(),
                lines.join(", "),
                if detached.len() > 10 { ", …" } else { "" }
            ));
        }
    }
    let soma = soma_section(samples, &parent, &children, &is_soma, source_name)?;

    // Trees: every non-soma sample hanging on the soma or on nothing, in file order.
    let roots: Vec<usize> = (0..samples.len())
        .filter(|&i| !is_soma[i] && parent[i].is_none_or(|p| is_soma[p]))
        .collect();
    let mut protos: Vec<Proto> = Vec::new();
    let mut stack: Vec<(usize, Option<usize>)> = roots.iter().rev().map(|&r| (r, None)).collect();
    while let Some((start, parent_proto)) = stack.pop() {
        let mut own = vec![start];
        let mut cur = start;
        // an unbranched run of same-type samples is one section (Import3d also splits at type changes)
        while let [only] = children[cur][..] {
            if samples[only].code != samples[cur].code || is_break[only] {
                break;
            }
            own.push(only);
            cur = only;
        }
        let own_points: Vec<Point3> = own.iter().map(|&i| sample_point(&samples[i])).collect();
        let first = own_points[0];
        let points = match parent_proto {
            Some(pp) => {
                let end = protos[pp].points.last().copied().unwrap_or(first);
                if own.len() >= 2 && same_place(&first, &end) {
                    // the file already repeats the branch point: use it rather than doubling it
                    own_points
                } else {
                    std::iter::once(Point3 { diam_um: first.diam_um, ..end }).chain(own_points).collect()
                }
            }
            None if own.len() == 1 => {
                // one-sample tree on the soma: run it from the soma sample it hangs on (or the
                // soma centre) so that the section has two points
                let from = match parent[start] {
                    Some(p) => sample_point(&samples[p]),
                    None => point_at(&soma, 0.5),
                };
                vec![Point3 { diam_um: first.diam_um, ..from }, first]
            }
            None => own_points,
        };
        let proto = Proto { kind: SectionKind::from_swc_code(samples[start].code), parent: parent_proto, points };
        let length: f64 = proto.points.windows(2).map(|w| w[0].distance_um(&w[1])).sum();
        if length <= 0.0 {
            return Err(err(samples[start].line, format!(
                "the section starting at sample {} has zero length (all its points coincide)",
                samples[start].id
            )));
        }
        let me = protos.len();
        protos.push(proto);
        for &c in children[cur].iter().rev() {
            stack.push((c, Some(me)));
        }
    }
    Ok((order_and_name(protos, soma, source_name), warnings))
}

/// Follow parent links from every root; whatever is not reached lies on (or hangs from) a cycle.
fn check_acyclic(samples: &[Sample], parent: &[Option<usize>], children: &[Vec<usize>], source_name: &str) -> Result<(), MorphologyError> {
    let mut reached = vec![false; samples.len()];
    let mut stack: Vec<usize> = (0..samples.len()).filter(|&i| parent[i].is_none()).collect();
    while let Some(i) = stack.pop() {
        reached[i] = true;
        stack.extend(children[i].iter().copied());
    }
    match reached.iter().position(|r| !r) {
        None => Ok(()),
        Some(i) => Err(MorphologyError::Parse {
            source_name: source_name.to_string(),
            line: samples[i].line,
            message: format!(
                "sample {} is on a cycle of parent links (following its parents never reaches a root, parent -1)",
                samples[i].id
            ),
        }),
    }
}

fn sample_point(s: &Sample) -> Point3 {
    Point3::new(s.x_um, s.y_um, s.z_um, 2.0 * s.radius_um)
}

/// Exactly the same coordinates (a repeated point in the file; diameters may differ).
pub(crate) fn same_place(a: &Point3, b: &Point3) -> bool {
    a.x_um == b.x_um && a.y_um == b.y_um && a.z_um == b.z_um
}

/// The soma section. Soma samples form one or more trees; the longest path through any of them
/// (by arc length; the first in file order on ties) becomes the soma's 3-D points, oriented so
/// that it starts at the end listed first. This covers a chain of contour-like points, the
/// NeuroMorpho three-point soma (centre with two children at ±r: a cylinder of length and
/// diameter 2r, area 4πr²) and branching somas (points off the longest path are dropped; the
/// neurites hanging on them attach at soma(0.5) like all others). A soma of one point (or of
/// coincident points) of radius r becomes a cylinder of length 2r and diameter 2r along y,
/// centred on it, whose lateral area equals the sphere's.
fn soma_section(samples: &[Sample], parent: &[Option<usize>], children: &[Vec<usize>], is_soma: &[bool], source_name: &str) -> Result<Section, MorphologyError> {
    let neighbours = |i: usize| -> Vec<usize> {
        parent[i].into_iter().chain(children[i].iter().copied()).filter(|&j| is_soma[j]).collect()
    };
    let mut best: Option<(f64, Vec<usize>)> = None;
    for root in (0..samples.len()).filter(|&i| is_soma[i] && parent[i].is_none_or(|p| !is_soma[p])) {
        let (a, _) = farthest(root, samples, &neighbours);
        let (b, pred) = farthest(a, samples, &neighbours);
        let mut path = vec![b];
        while let Some(&Some(p)) = pred.get(path[path.len() - 1]) {
            path.push(p);
        }
        if path[0] > path[path.len() - 1] {
            path.reverse();
        }
        let len: f64 = path.windows(2).map(|w| sample_point(&samples[w[0]]).distance_um(&sample_point(&samples[w[1]]))).sum();
        if best.as_ref().is_none_or(|(l, _)| len > *l) {
            best = Some((len, path));
        }
    }
    let (len, path) = best.ok_or_else(|| MorphologyError::Empty { source_name: source_name.to_string() })?;
    let points = if len > 0.0 {
        path.iter().map(|&i| sample_point(&samples[i])).collect()
    } else {
        let s = &samples[path[0]];
        let d = 2.0 * s.radius_um;
        vec![Point3::new(s.x_um, s.y_um - s.radius_um, s.z_um, d), Point3::new(s.x_um, s.y_um + s.radius_um, s.z_um, d)]
    };
    Ok(Section { name: "soma[0]".into(), kind: SectionKind::Soma, parent: None, parent_x: 0.0, points })
}

/// The soma sample farthest (arc length) from `from` within its soma tree, first in file order on
/// ties, with each reached sample's predecessor on the way from `from`.
fn farthest(from: usize, samples: &[Sample], neighbours: &dyn Fn(usize) -> Vec<usize>) -> (usize, Vec<Option<usize>>) {
    let mut dist: Vec<f64> = vec![f64::NAN; samples.len()];
    let mut pred: Vec<Option<usize>> = vec![None; samples.len()];
    dist[from] = 0.0;
    let mut stack = vec![from];
    let mut best = from;
    while let Some(i) = stack.pop() {
        if dist[i] > dist[best] || (dist[i] == dist[best] && i < best) {
            best = i;
        }
        for j in neighbours(i) {
            if dist[j].is_nan() {
                dist[j] = dist[i] + sample_point(&samples[i]).distance_um(&sample_point(&samples[j]));
                pred[j] = Some(i);
                stack.push(j);
            }
        }
    }
    (best, pred)
}

/// Name sections per type in depth-first file order and list them soma, axon, dend, apic,
/// custom (spec §1.2). A tree that changes type can make a section's parent belong to a later
/// array (an axon on an apical branch); the list is then a priority topological order so that
/// parents still come first.
fn order_and_name(protos: Vec<Proto>, soma: Section, source_name: &str) -> Morphology {
    let mut counters: HashMap<SectionKind, usize> = HashMap::new();
    let type_index: Vec<usize> = protos
        .iter()
        .map(|p| {
            let c = counters.entry(p.kind).or_insert(0);
            *c += 1;
            *c - 1
        })
        .collect();
    let mut kids: Vec<Vec<usize>> = vec![Vec::new(); protos.len()];
    let mut heap = BinaryHeap::new();
    for (i, p) in protos.iter().enumerate() {
        match p.parent {
            Some(pp) => kids[pp].push(i),
            None => heap.push(Reverse((p.kind.array_order(), type_index[i], i))),
        }
    }
    let mut section_of: Vec<usize> = vec![0; protos.len()];
    let mut order: Vec<usize> = Vec::with_capacity(protos.len());
    while let Some(Reverse((_, _, i))) = heap.pop() {
        section_of[i] = order.len() + 1;
        order.push(i);
        for &k in &kids[i] {
            heap.push(Reverse((protos[k].kind.array_order(), type_index[k], k)));
        }
    }
    let mut sections = vec![soma];
    let mut protos: Vec<Option<Proto>> = protos.into_iter().map(Some).collect();
    for i in order {
        if let Some(p) = protos[i].take() {
            let (parent, parent_x) = match p.parent {
                Some(pp) => (section_of[pp], 1.0),
                None => (0, 0.5),
            };
            let name = format!("{}[{}]", p.kind.neuron_prefix(), type_index[i]);
            sections.push(Section { name, kind: p.kind, parent: Some(parent), parent_x, points: p.points });
        }
    }
    Morphology { sections, source: source_name.to_string() }
}
