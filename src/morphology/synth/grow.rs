//! Growing neurites as SWC samples: a persistent random walk for each section (correlated random
//! turns pulled towards a preferred direction) and binary branching with tapering diameters.

use crate::rng::{Draw, SplitMix};
use crate::morphology::swc::read::Sample;

pub(crate) type V3 = [f64; 3];

pub(crate) fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

pub(crate) fn scale(a: V3, s: f64) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: V3, b: V3) -> V3 {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

pub(crate) fn normalize(a: V3) -> V3 {
    let n = dot(a, a).sqrt();
    if n > 0.0 {
        scale(a, 1.0 / n)
    } else {
        [0.0, 1.0, 0.0]
    }
}

/// Direction from azimuth (around y, radians) and elevation (above the xz plane, radians).
pub(crate) fn direction(azimuth: f64, elevation: f64) -> V3 {
    [elevation.cos() * azimuth.cos(), elevation.sin(), elevation.cos() * azimuth.sin()]
}

/// `dir` turned by `angle` (radians) about a random axis perpendicular to it.
pub(crate) fn turn(rng: &mut SplitMix, dir: V3, angle: f64) -> V3 {
    let helper = if dir[0].abs() < 0.9 { [1.0, 0.0, 0.0] } else { [0.0, 0.0, 1.0] };
    let u = normalize(cross(dir, helper));
    let v = cross(dir, u);
    let phi = rng.uniform_range(0.0, 2.0 * std::f64::consts::PI);
    let axis = add(scale(u, phi.cos()), scale(v, phi.sin()));
    normalize(add(scale(dir, angle.cos()), scale(axis, angle.sin())))
}

/// Round to 1 nm (positions) so that the written SWC is short and reloads exactly.
fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Collects samples; ids are 1-based positions.
pub(crate) struct Builder {
    pub samples: Vec<Sample>,
    pub rng: SplitMix,
}

impl Builder {
    pub fn add_sample(&mut self, code: i32, pos: V3, diam_um: f64, parent: Option<i64>) -> i64 {
        let id = self.samples.len() as i64 + 1;
        self.samples.push(Sample {
            line: id as usize,
            id,
            code,
            x_um: round3(pos[0]),
            y_um: round3(pos[1]),
            z_um: round3(pos[2]),
            // diameter to 1 nm as well; radius = diameter / 2 is exact
            radius_um: round3(diam_um.max(0.001)) / 2.0,
            parent,
        });
        id
    }
}

/// How a walk turns: per step it adds `wiggle` (random, per axis) and pulls by `pull` towards
/// its preferred direction and by `up_pull` towards +y (the pia).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Walk {
    pub step_um: f64,
    pub wiggle: f64,
    pub pull: f64,
    pub up_pull: f64,
}

/// Where a walk ended.
pub(crate) struct End {
    pub id: i64,
    pub pos: V3,
    pub dir: V3,
}

/// Walk `length_um` from `pos` (not itself added: it is the parent's point) and add a sample
/// every step, the diameter going linearly from `d0_um` to `d1_um`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn walk(b: &mut Builder, walk: &Walk, code: i32, parent: i64, pos: V3, dir: V3, pref: V3, length_um: f64, d0_um: f64, d1_um: f64) -> End {
    walk_profile(b, walk, code, parent, pos, dir, pref, length_um, |f| d0_um + (d1_um - d0_um) * f)
}

/// As [`walk`], with the diameter (µm) of each sample given by `diam_um(f)`, `f` the fraction of
/// `length_um` walked so far (0 < f ≤ 1). Draws exactly the same random numbers as [`walk`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn walk_profile(
    b: &mut Builder,
    walk: &Walk,
    code: i32,
    parent: i64,
    pos: V3,
    dir: V3,
    pref: V3,
    length_um: f64,
    diam_um: impl Fn(f64) -> f64,
) -> End {
    let n = (length_um / walk.step_um).ceil().max(1.0) as usize;
    let step = length_um / n as f64;
    let (mut pos, mut dir, mut id) = (pos, dir, parent);
    for k in 1..=n {
        let noise = [b.rng.normal(), b.rng.normal(), b.rng.normal()];
        let to_pref = add(pref, scale(dir, -1.0));
        dir = normalize(add(add(dir, scale(noise, walk.wiggle)), add(scale(to_pref, walk.pull), [0.0, walk.up_pull, 0.0])));
        pos = add(pos, scale(dir, step));
        let f = k as f64 / n as f64;
        id = b.add_sample(code, pos, diam_um(f), Some(id));
    }
    End { id, pos, dir }
}

/// A branching tree's growth rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TreeStyle {
    pub code: i32,
    pub walk: Walk,
    /// Tips end at path lengths (from the tree's start) drawn in [0.6, 1] of this (µm).
    pub max_path_um: f64,
    /// Mean length of sections that branch again (µm).
    pub branch_len_um: f64,
    pub max_order: usize,
    /// Probability that a section of branch order n is a terminal one: `.0 + n · .1`.
    pub p_terminal: (f64, f64),
    /// Half-angle between daughter directions (radians), drawn in this range.
    pub branch_angle: (f64, f64),
    /// Fraction of its start diameter a section keeps at its end.
    pub taper: f64,
    /// Daughter start diameter as a fraction of the parent's end diameter.
    pub daughter_ratio: f64,
    pub min_diam_um: f64,
}

struct Task {
    parent: i64,
    pos: V3,
    dir: V3,
    diam_um: f64,
    path_um: f64,
    order: usize,
}

/// Grow a binary tree from `pos` (the parent's point, id `parent`) in direction `dir`. Sections
/// are generated depth first, first daughter first, so the file lists them in NEURON's order.
pub(crate) fn grow_tree(b: &mut Builder, style: &TreeStyle, parent: i64, pos: V3, dir: V3, diam_um: f64) {
    let mut stack = vec![Task { parent, pos, dir, diam_um, path_um: 0.0, order: 0 }];
    while let Some(t) = stack.pop() {
        let tip_path = style.max_path_um * b.rng.uniform_range(0.6, 1.0);
        let terminal = t.order >= style.max_order
            || t.path_um > 0.7 * style.max_path_um
            || b.rng.uniform() < style.p_terminal.0 + style.p_terminal.1 * t.order as f64;
        let length = if terminal {
            (tip_path - t.path_um).max(b.rng.uniform_range(15.0, 40.0))
        } else {
            (8.0 + b.rng.exponential(style.branch_len_um - 8.0)).min(3.0 * style.branch_len_um)
        };
        let d_end = (t.diam_um * style.taper).max(style.min_diam_um);
        let end = walk(b, &style.walk, style.code, t.parent, t.pos, t.dir, t.dir, length, t.diam_um, d_end);
        if terminal {
            continue;
        }
        let half = b.rng.uniform_range(style.branch_angle.0, style.branch_angle.1);
        let first = turn(&mut b.rng, end.dir, half);
        // the second daughter leaves on the other side of the parent direction
        let second = normalize(add(scale(end.dir, 2.0 * dot(first, end.dir)), scale(first, -1.0)));
        for d in [second, first] {
            let diam_um = (d_end * style.daughter_ratio * b.rng.uniform_range(0.9, 1.1)).max(style.min_diam_um);
            stack.push(Task { parent: end.id, pos: end.pos, dir: d, diam_um, path_um: t.path_um + length, order: t.order + 1 });
        }
    }
}
