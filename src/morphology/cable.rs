//! Discretisation of a `Morphology` into the nodes NEURON would make (spec §1.4-1.6).
//!
//! Each section of length L with nseg segments contributes one node per segment centre,
//! x_j = (j + 0.5)/nseg, plus a zero-area node at its 1 end. A section's 0 end is its parent's
//! node at the attachment point (the root section's 0 end is dropped: it carries no current).
//! Areas are frustum areas and axial resistances exact integrals ∫ds/d(s)² over the
//! piecewise-linear diameter profile, cut at segment boundaries. Nodes are stored parent before
//! child, so a Hines solve is two linear sweeps.

use super::types::{frustum_area_um2, Morphology, MorphologyError, Section};
use serde::{Deserialize, Serialize};

/// How many segments each section gets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum NsegRule {
    /// The Hay et al. 2011 template's rule: nseg = 1 + 2·floor(L/40 µm).
    Hay2011,
    /// NEURON's d_lambda rule: the smallest odd nseg with segments no longer than `d_lambda`
    /// times the AC length constant at `freq_hz`, with membrane capacitance `cm_uf_per_cm2`.
    DLambda { d_lambda: f64, freq_hz: f64, cm_uf_per_cm2: f64 },
    /// The same nseg for every section.
    Fixed(usize),
}

/// Discretisation settings: the nseg rule and the axial resistivity (uniform, Ω·cm).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Discretisation {
    pub nseg_rule: NsegRule,
    pub ra_ohm_cm: f64,
}

impl Default for Discretisation {
    fn default() -> Self {
        Discretisation { nseg_rule: NsegRule::Hay2011, ra_ohm_cm: 100.0 }
    }
}

/// One node of the cable tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Section index in the morphology.
    pub section: usize,
    /// Segment index within the section; `None` for the zero-area 1-end node.
    pub segment: Option<usize>,
    /// Position along the section (segment centre, or 1.0 for the end node).
    pub x: f64,
    /// Membrane area (µm²); 0 for end nodes.
    pub area_um2: f64,
    /// Axial resistance to the parent node (MΩ), NEURON's `ri`.
    pub ri_mohm: f64,
    /// Parent node index (always smaller than this node's index); `None` for the root.
    pub parent: Option<usize>,
    /// Path distance from soma(0.5) (µm), as NEURON's `distance()` with that origin.
    pub dist_um: f64,
}

/// The discretised cell: nodes in parent-before-child order plus per-section lookups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cable {
    pub nodes: Vec<Node>,
    /// nseg of each section.
    pub section_nseg: Vec<usize>,
    /// Node index of segment 0 of each section (segments are consecutive).
    pub section_first_node: Vec<usize>,
    /// Node index of each section's zero-area 1-end node.
    pub section_end_node: Vec<usize>,
    /// Arc length of each section (µm).
    pub section_length_um: Vec<f64>,
    /// Path distance from soma(0.5) of each section's 0 end (µm).
    pub section_dist0_um: Vec<f64>,
    pub ra_ohm_cm: f64,
}

/// Errors from discretisation.
#[derive(Debug, thiserror::Error)]
pub enum CableError {
    #[error(transparent)]
    Morphology(#[from] MorphologyError),
    #[error("invalid discretisation: {0}")]
    Settings(String),
    #[error("no section named {0}")]
    UnknownSection(String),
    #[error("location x = {x} on {section} is outside [0, 1]")]
    BadX { section: String, x: f64 },
}

/// Cumulative arc positions (µm) of a section's points, with NEURON's float32 coordinate
/// differences ([`Point3::neuron_distance_um`](super::types::Point3::neuron_distance_um)); with
/// plain double differences area and ri of cell1 differ from NEURON's by up to ~1e-8 relative.
fn arc_positions_um(section: &Section) -> Vec<f64> {
    let mut arc = Vec::with_capacity(section.points.len());
    let mut acc = 0.0;
    arc.push(0.0);
    for w in section.points.windows(2) {
        acc += w[0].neuron_distance_um(&w[1]);
        arc.push(acc);
    }
    arc
}

/// Integrate over the arc interval [s0, s1] of a piecewise-linear diameter profile:
/// returns (lateral area µm², Σ ℓ/(d1·d2) in 1/µm).
fn integrate_interval(arc: &[f64], diam: &[f64], s0: f64, s1: f64) -> (f64, f64) {
    let mut area = 0.0;
    let mut resist = 0.0;
    // Pieces ending at or before s0 and pieces starting at or after s1 contribute nothing, so
    // start at the first piece ending after s0 (binary search: `arc` is non-decreasing) and stop
    // at the first starting at or after s1. Same pieces, same order, same sums as a full scan,
    // but a section of n points with m segments costs O(n + m log n), not O(n·m).
    let first = arc.partition_point(|&a| a <= s0).saturating_sub(1);
    for k in first..arc.len().saturating_sub(1) {
        let (a0, a1) = (arc[k], arc[k + 1]);
        if a0 >= s1 {
            break;
        }
        let lo = a0.max(s0);
        let hi = a1.min(s1);
        let len = a1 - a0;
        // zero-length pieces (duplicated points) contribute nothing; guard 0/0
        if hi <= lo || len <= 0.0 {
            continue;
        }
        let d_at = |s: f64| diam[k] + (diam[k + 1] - diam[k]) * (s - a0) / len;
        let (d1, d2) = (d_at(lo), d_at(hi));
        let piece = hi - lo;
        area += frustum_area_um2(piece, d1, d2);
        resist += piece / (d1 * d2);
    }
    (area, resist)
}

/// NEURON's `lambda_f(freq)` for a section with 3-D points (µm).
fn lambda_f_um(section: &Section, freq_hz: f64, ra_ohm_cm: f64, cm_uf_per_cm2: f64) -> f64 {
    let arc = arc_positions_um(section);
    let mut lam = 0.0;
    for k in 1..section.points.len() {
        let d_sum = section.points[k - 1].diam_um + section.points[k].diam_um;
        lam += (arc[k] - arc[k - 1]) / d_sum.sqrt();
    }
    lam *= std::f64::consts::SQRT_2 * 1e-5 * (4.0 * std::f64::consts::PI * freq_hz * ra_ohm_cm * cm_uf_per_cm2).sqrt();
    let length = arc.last().copied().unwrap_or(0.0);
    if lam > 0.0 {
        length / lam
    } else {
        f64::INFINITY
    }
}

impl NsegRule {
    /// nseg for one section.
    pub fn nseg(&self, section: &Section, ra_ohm_cm: f64) -> usize {
        let length = section.length_um();
        match *self {
            NsegRule::Hay2011 => 1 + 2 * (length / 40.0).floor() as usize,
            NsegRule::Fixed(n) => n.max(1),
            NsegRule::DLambda { d_lambda, freq_hz, cm_uf_per_cm2 } => {
                let lf = lambda_f_um(section, freq_hz, ra_ohm_cm, cm_uf_per_cm2);
                let n = ((length / (d_lambda * lf) + 0.9) / 2.0).floor() as usize * 2 + 1;
                n.max(1)
            }
        }
    }

    /// nseg for one section as a float, without the integer conversion (which saturates), so
    /// that the compartment count can be checked before anything is allocated.
    fn nseg_f64(&self, section: &Section, ra_ohm_cm: f64) -> f64 {
        let length = section.length_um();
        match *self {
            NsegRule::Hay2011 => 1.0 + 2.0 * (length / 40.0).floor(),
            NsegRule::Fixed(n) => n.max(1) as f64,
            NsegRule::DLambda { d_lambda, freq_hz, cm_uf_per_cm2 } => {
                let lf = lambda_f_um(section, freq_hz, ra_ohm_cm, cm_uf_per_cm2);
                (((length / (d_lambda * lf) + 0.9) / 2.0).floor() * 2.0 + 1.0).max(1.0)
            }
        }
    }
}

/// The number of compartments `settings` would make of `morph`, as a float (never overflows;
/// NaN or infinite for degenerate geometry).
pub fn compartment_count(morph: &Morphology, settings: &Discretisation) -> f64 {
    morph.sections.iter().map(|s| settings.nseg_rule.nseg_f64(s, settings.ra_ohm_cm)).sum()
}

/// Refuse a discretisation of more than [`MAX_COMPARTMENTS`](crate::limits::MAX_COMPARTMENTS)
/// (or the environment's) compartments, before allocating it.
pub fn check_compartments(morph: &Morphology, settings: &Discretisation) -> Result<f64, CableError> {
    let n = compartment_count(morph, settings);
    let max = crate::limits::limit_usize(crate::limits::ENV_MAX_COMPARTMENTS, crate::limits::MAX_COMPARTMENTS)
        .map_err(|error| MorphologyError::Limit { source_name: morph.source.clone(), error })?;
    if !(n <= max as f64) {
        let error = crate::limits::LimitError::exceeded(
            "the number of compartments",
            format!("{n:.0}"),
            max,
            Some(crate::limits::ENV_MAX_COMPARTMENTS),
        );
        return Err(MorphologyError::Limit { source_name: morph.source.clone(), error }.into());
    }
    Ok(n)
}

impl Cable {
    /// Discretise `morph` with `settings`.
    pub fn new(morph: &Morphology, settings: &Discretisation) -> Result<Cable, CableError> {
        morph.validate()?;
        if !(settings.ra_ohm_cm.is_finite() && settings.ra_ohm_cm > 0.0) {
            return Err(CableError::Settings(format!("Ra must be positive, got {} Ω·cm", settings.ra_ohm_cm)));
        }
        if let NsegRule::DLambda { d_lambda, freq_hz, cm_uf_per_cm2 } = settings.nseg_rule {
            if !(d_lambda > 0.0 && freq_hz > 0.0 && cm_uf_per_cm2 > 0.0) {
                return Err(CableError::Settings("d_lambda, frequency and cm must be positive".into()));
            }
        }
        check_compartments(morph, settings)?;
        // 1e-2 · 4·Ra/π converts Σ ℓ/(d1·d2) (1/µm) with Ra in Ω·cm to MΩ (spec §1.5)
        let ri_factor = 1e-2 * 4.0 * settings.ra_ohm_cm / std::f64::consts::PI;
        let n_sec = morph.sections.len();
        let mut cable = Cable {
            nodes: Vec::new(),
            section_nseg: vec![0; n_sec],
            section_first_node: vec![0; n_sec],
            section_end_node: vec![0; n_sec],
            section_length_um: vec![0.0; n_sec],
            section_dist0_um: vec![0.0; n_sec],
            ra_ohm_cm: settings.ra_ohm_cm,
        };
        for (si, section) in morph.sections.iter().enumerate() {
            let nseg = settings.nseg_rule.nseg(section, settings.ra_ohm_cm);
            let arc = arc_positions_um(section);
            let diam: Vec<f64> = section.points.iter().map(|p| p.diam_um).collect();
            let length = arc.last().copied().unwrap_or(0.0);
            let seg_len = length / nseg as f64;
            let (attach_node, dist0) = match section.parent {
                None => (None, 0.0),
                Some(p) => {
                    let node = cable.node_at_attachment(p, section.parent_x);
                    let dist0 = cable.path_distance_um(morph, p, section.parent_x);
                    (Some(node), dist0)
                }
            };
            cable.section_nseg[si] = nseg;
            cable.section_length_um[si] = length;
            cable.section_dist0_um[si] = dist0;
            cable.section_first_node[si] = cable.nodes.len();
            for j in 0..nseg {
                let (area, _) = integrate_interval(&arc, &diam, j as f64 * seg_len, (j + 1) as f64 * seg_len);
                let lo = if j == 0 { 0.0 } else { (j as f64 - 0.5) * seg_len };
                let (_, r) = integrate_interval(&arc, &diam, lo, (j as f64 + 0.5) * seg_len);
                let x = (j as f64 + 0.5) / nseg as f64;
                let parent = if j == 0 { attach_node } else { Some(cable.nodes.len() - 1) };
                cable.nodes.push(Node {
                    section: si,
                    segment: Some(j),
                    x,
                    area_um2: area,
                    ri_mohm: ri_factor * r,
                    parent,
                    dist_um: cable.distance_on_section(morph, si, dist0, x, length),
                });
            }
            let (_, r_end) = integrate_interval(&arc, &diam, (nseg as f64 - 0.5) * seg_len, length);
            cable.section_end_node[si] = cable.nodes.len();
            cable.nodes.push(Node {
                section: si,
                segment: None,
                x: 1.0,
                area_um2: 0.0,
                ri_mohm: ri_factor * r_end,
                parent: Some(cable.nodes.len() - 1),
                dist_um: cable.distance_on_section(morph, si, dist0, 1.0, length),
            });
        }
        Ok(cable)
    }

    fn distance_on_section(&self, morph: &Morphology, si: usize, dist0: f64, x: f64, length: f64) -> f64 {
        if morph.sections[si].parent.is_none() {
            // on the root (soma) the origin is its centre
            (x - 0.5).abs() * length
        } else {
            dist0 + x * length
        }
    }

    /// Path distance from soma(0.5) of location x on an already-discretised section (µm).
    fn path_distance_um(&self, morph: &Morphology, si: usize, x: f64) -> f64 {
        let length = self.section_length_um[si];
        self.distance_on_section(morph, si, self.section_dist0_um[si], x, length)
    }

    /// The node a child attaching at `x` of section `si` hangs on: the 1-end node at x = 1, the
    /// segment containing x for 0 < x < 1, and the section's own 0-end attachment at x = 0
    /// (the root's segment 0 for the root).
    fn node_at_attachment(&self, si: usize, x: f64) -> usize {
        if x >= 1.0 {
            return self.section_end_node[si];
        }
        if x <= 0.0 {
            let first = self.section_first_node[si];
            return self.nodes[first].parent.unwrap_or(first);
        }
        self.segment_node(si, x)
    }

    /// The node of the segment containing location x of section `si`: segment floor(x·nseg),
    /// clamped to the last segment at x = 1 (spec §8 item 21).
    pub fn segment_node(&self, si: usize, x: f64) -> usize {
        let nseg = self.section_nseg[si];
        let j = ((x * nseg as f64).floor() as usize).min(nseg - 1);
        self.section_first_node[si] + j
    }

    /// Segment node for a NEURON-style location (`"apic[50]"`, x), with errors for unknown
    /// sections and x outside [0, 1].
    pub fn locate(&self, morph: &Morphology, section: &str, x: f64) -> Result<usize, CableError> {
        let si = morph.section_index(section).ok_or_else(|| CableError::UnknownSection(section.to_string()))?;
        if !(0.0..=1.0).contains(&x) || !x.is_finite() {
            return Err(CableError::BadX { section: section.to_string(), x });
        }
        Ok(self.segment_node(si, x))
    }

    /// Number of membrane (segment) nodes, i.e. compartments.
    pub fn n_compartments(&self) -> usize {
        self.nodes.iter().filter(|n| n.segment.is_some()).count()
    }

    /// Indices of segment (compartment) nodes, in node order.
    pub fn compartment_nodes(&self) -> impl Iterator<Item = usize> + '_ {
        self.nodes.iter().enumerate().filter(|(_, n)| n.segment.is_some()).map(|(i, _)| i)
    }

    /// Total membrane area (µm²).
    pub fn total_area_um2(&self) -> f64 {
        self.nodes.iter().map(|n| n.area_um2).sum()
    }
}
