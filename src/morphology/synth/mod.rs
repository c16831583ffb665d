//! A procedural layer-5 thick-tufted pyramidal neuron, deterministic for a seed: the app's
//! default cell (shipped as `morphologies/l5pc-synthetic.swc`), ours to redistribute.
//!
//! Calibrated against the Hay cell's morphometrics (`l5pc-morphometrics.md`): a ~20 µm soma;
//! 6-9 basal stems (0.85-1.7 µm) branching to ~45 tips within ~300 µm path, 4-6 mm in all; an
//! apical trunk (a ~10.5 µm flare at the soma, ~3 µm from 100 µm on) with 12-16 obliques in its
//! proximal part and a nexus 620-760 µm above the soma where 2-3 tuft branches rise to
//! 1-1.3 mm; a short axon stub. Coordinates: soma at the origin, +y towards the pia. Under the
//! Hay nseg rule the cell has 500-800 compartments.
//!
//! Diameters are calibrated against the Hay cell's behaviour under the Hay 2011 recipe, not only
//! its shape: resting potential, f–I curve, BAC firing, EPSP attenuation along the trunk and the
//! firing rate under the paper's input (`tests/builtin_cell_calibration.rs`,
//! `morphologies/README.md`).
//!
//! The cell is built as SWC samples and turned into sections by the SWC reader, so that
//! `parse_swc(write_swc(cell))` gives the same sections. Draws that miss the calibration
//! window (total basal length, apical reach, compartments) are redrawn from the next sub-seed,
//! up to a fixed number of attempts.

mod grow;

use super::swc::read::SwcFile;
use super::swc::tree;
use super::{Cable, Discretisation, Morphology, MorphologyError, SectionKind};
use grow::{add, direction, grow_tree, normalize, scale, turn, walk, walk_profile, Builder, TreeStyle, Walk, V3};

use crate::rng::{splitmix, Draw, SplitMix};
use rand_core::Rng as _;
use std::f64::consts::PI;

/// The seed of the shipped default cell `morphologies/l5pc-synthetic.swc`.
pub const DEFAULT_SEED: u64 = 4;

/// Redraws before giving up on the calibration window and returning the last draw.
const MAX_ATTEMPTS: u64 = 64;

/// A generated cell and what the generator knows about its plan.
#[derive(Debug, Clone)]
pub struct SynthCell {
    pub morphology: Morphology,
    pub seed: u64,
    /// Which draw (0-based) passed the calibration window.
    pub attempt: u64,
    /// Number of oblique branches leaving the apical trunk below the nexus.
    pub obliques: usize,
}

/// Generate the synthetic L5 pyramidal cell for `seed`.
pub fn synthesize_l5pc(seed: u64) -> Result<SynthCell, MorphologyError> {
    let source = format!("neurotwin synthetic L5PC (seed {seed})");
    let mut last = None;
    for attempt in 0..MAX_ATTEMPTS {
        // each attempt gets its own stream: the seed xor an odd multiple of the attempt, mixed
        // once more through SplitMix64
        let mut rng = splitmix(seed ^ attempt.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let (file, obliques) = plan(splitmix(rng.next_u64()));
        let (morphology, _) = tree::build(&file, &source)?;
        morphology.validate()?;
        let cell = SynthCell { morphology, seed, attempt, obliques };
        if calibrated(&cell.morphology) {
            return Ok(cell);
        }
        last = Some(cell);
    }
    last.ok_or(MorphologyError::Empty { source_name: source })
}

/// The calibration window every shipped draw satisfies (a bit inside the documented ranges).
fn calibrated(m: &Morphology) -> bool {
    let basal_um: f64 = m.sections.iter().filter(|s| s.kind == SectionKind::Basal).map(|s| s.length_um()).sum();
    let apical_um: f64 = m.sections.iter().filter(|s| s.kind == SectionKind::Apical).map(|s| s.length_um()).sum();
    let reach_um = m
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Apical)
        .flat_map(|s| s.points.iter())
        .map(|p| (p.x_um * p.x_um + p.y_um * p.y_um + p.z_um * p.z_um).sqrt())
        .fold(0.0, f64::max);
    let compartments = Cable::new(m, &Discretisation::default()).map(|c| c.n_compartments()).unwrap_or(0);
    (4400.0..=5600.0).contains(&basal_um)
        && (5500.0..=8500.0).contains(&apical_um)
        && reach_um >= 1050.0
        && (560..=740).contains(&compartments)
}

const SOMA_POINTS: usize = 7;

/// Lay out one cell as SWC samples; returns them and the number of obliques.
fn plan(rng: SplitMix) -> (SwcFile, usize) {
    let mut b = Builder { samples: Vec::new(), rng };
    // Soma: 7 points along y over ~20 µm, widest (15-18 µm) in the middle.
    let soma_len_um = b.rng.uniform_range(18.0, 22.0);
    let soma_max_diam_um = b.rng.uniform_range(15.0, 18.0);
    let mut parent = None;
    let mut soma_ids = Vec::new();
    for k in 0..SOMA_POINTS {
        let t = k as f64 / (SOMA_POINTS - 1) as f64;
        let y = (t - 0.5) * soma_len_um;
        let d = soma_max_diam_um * (1.0 - 0.8 * (2.0 * t - 1.0).powi(2)).sqrt();
        let id = b.add_sample(1, [0.0, y, 0.0], d, parent);
        soma_ids.push(id);
        parent = Some(id);
    }
    let centre_id = soma_ids[SOMA_POINTS / 2];
    let soma_radius_um = 0.5 * soma_max_diam_um;

    basal_dendrites(&mut b, centre_id, soma_radius_um);
    let obliques = apical_dendrite(&mut b, centre_id, soma_len_um);

    // Axon stub, down from the soma's base (the Hay recipe replaces axons anyway).
    let axon_walk = Walk { step_um: 6.0, wiggle: 0.05, pull: 0.3, up_pull: 0.0 };
    let start = [0.0, -0.5 * soma_len_um, 0.0];
    let len = b.rng.uniform_range(40.0, 60.0);
    let first = b.add_sample(2, start, 1.4, Some(centre_id));
    walk(&mut b, &axon_walk, 2, first, start, [0.0, -1.0, 0.0], [0.0, -1.0, 0.0], len, 1.4, 0.9);
    let n_lines = b.samples.len();
    (SwcFile { samples: b.samples, section_breaks: Vec::new(), n_lines }, obliques)
}

/// 6-9 basal stems spread around the soma, mostly sideways and down.
fn basal_dendrites(b: &mut Builder, soma_id: i64, soma_radius_um: f64) {
    let stems = b.rng.int_modulo(6, 9);
    let offset = b.rng.uniform_range(0.0, 2.0 * PI);
    for k in 0..stems {
        let azimuth = offset + 2.0 * PI * (k as f64 + b.rng.uniform_range(-0.3, 0.3)) / stems as f64;
        let elevation = b.rng.uniform_range(-1.0, 0.25);
        let dir = direction(azimuth, elevation);
        let start = scale(dir, soma_radius_um * b.rng.uniform_range(0.6, 0.8));
        let style = TreeStyle {
            code: 3,
            walk: Walk { step_um: 6.0, wiggle: 0.12, pull: 0.08, up_pull: -0.01 },
            max_path_um: b.rng.uniform_range(180.0, 290.0),
            branch_len_um: 30.0,
            max_order: 6,
            p_terminal: (0.0, 0.22),
            branch_angle: (0.3, 0.6),
            taper: 0.85,
            daughter_ratio: 0.8,
            min_diam_um: 0.3,
        };
        let diam = b.rng.uniform_range(0.85, 1.7);
        // the stem's first point, on the soma surface, carries the stem diameter
        let first = b.add_sample(3, start, diam, Some(soma_id));
        grow_tree(b, &style, first, start, dir, diam);
    }
}

/// The apical trunk with obliques, then the tuft from the nexus. Returns the oblique count.
fn apical_dendrite(b: &mut Builder, soma_id: i64, soma_len_um: f64) -> usize {
    let nexus_um = b.rng.uniform_range(620.0, 760.0);
    let obliques = b.rng.int_modulo(12, 16);
    // oblique branch points along the proximal 60 % of the trunk, denser near the soma
    let mut at_um: Vec<f64> = (0..obliques).map(|_| 20.0 + 0.6 * nexus_um * b.rng.uniform().powf(1.3)).collect();
    at_um.sort_by(f64::total_cmp);
    for k in 1..at_um.len() {
        at_um[k] = at_um[k].max(at_um[k - 1] + 12.0);
    }
    // The trunk's diameter (µm) at path s (µm) from the soma, as in the Hay cell: a flare of
    // ~10.5 µm where it leaves the soma, ~4.4 µm by 20 µm, ~3.1 µm by 100 µm, then 2.5-3.2 µm
    // up to the nexus. This proximal load sets the f–I curve (a trunk twice as thick made the
    // cell fire ~3× less to somatic steps and the paper's input).
    let trunk_d0_um = b.rng.uniform_range(4.6, 5.4);
    let trunk_d1_um = b.rng.uniform_range(2.5, 3.2);
    let (taper_um, flare_um, flare_decay_um) = (60.0, 5.5, 6.0);
    let diam_at = move |s: f64| trunk_d1_um + (trunk_d0_um - trunk_d1_um) * (-s / taper_um).exp() + flare_um * (-s / flare_decay_um).exp();
    let trunk_walk = Walk { step_um: 8.0, wiggle: 0.06, pull: 0.25, up_pull: 0.0 };
    let up: V3 = [0.0, 1.0, 0.0];
    let mut pos = [0.0, 0.5 * soma_len_um, 0.0];
    let mut dir = up;
    let mut id = b.add_sample(4, pos, diam_at(0.0), Some(soma_id));
    let mut done_um = 0.0;
    let oblique_style = TreeStyle {
        code: 4,
        walk: Walk { step_um: 6.0, wiggle: 0.1, pull: 0.1, up_pull: 0.02 },
        max_path_um: 0.0, // drawn per oblique below
        branch_len_um: 40.0,
        max_order: 4,
        p_terminal: (0.35, 0.3),
        branch_angle: (0.3, 0.55),
        taper: 0.85,
        daughter_ratio: 0.8,
        min_diam_um: 0.3,
    };
    for &s in at_um.iter().chain(std::iter::once(&nexus_um)) {
        let from_um = done_um;
        let end = walk_profile(b, &trunk_walk, 4, id, pos, dir, up, s - done_um, |f| diam_at(from_um + f * (s - from_um)));
        (id, pos, dir, done_um) = (end.id, end.pos, end.dir, s);
        if s < nexus_um {
            let azimuth = b.rng.uniform_range(0.0, 2.0 * PI);
            let odir = direction(azimuth, b.rng.uniform_range(0.1, 0.8));
            let style = TreeStyle { max_path_um: b.rng.uniform_range(100.0, 250.0), ..oblique_style };
            let diam = b.rng.uniform_range(0.6, 1.2);
            grow_tree(b, &style, id, pos, odir, diam);
        }
    }
    // Tuft: 2-3 branches from the nexus, rising and spreading towards the pia.
    let tuft_branches = if b.rng.uniform() < 0.3 { 3 } else { 2 };
    let spread = b.rng.uniform_range(0.35, 0.6);
    for k in 0..tuft_branches {
        let azimuth = b.rng.uniform_range(0.0, 2.0 * PI) + PI * k as f64;
        let tdir = normalize(add(up, scale(direction(azimuth, 0.0), spread.tan())));
        let style = TreeStyle {
            code: 4,
            walk: Walk { step_um: 7.0, wiggle: 0.09, pull: 0.06, up_pull: 0.04 },
            max_path_um: b.rng.uniform_range(420.0, 560.0),
            branch_len_um: 60.0,
            max_order: 5,
            p_terminal: (0.0, 0.25),
            branch_angle: (0.25, 0.5),
            taper: 0.9,
            daughter_ratio: 0.85,
            min_diam_um: 0.35,
        };
        let d = turn(&mut b.rng, tdir, 0.05);
        grow_tree(b, &style, id, pos, d, trunk_d1_um * 0.9);
    }
    obliques
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_cell() {
        let a = synthesize_l5pc(3).unwrap();
        let b = synthesize_l5pc(3).unwrap();
        assert_eq!(a.morphology, b.morphology);
        assert_ne!(a.morphology, synthesize_l5pc(4).unwrap().morphology);
    }
}
