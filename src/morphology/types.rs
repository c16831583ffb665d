//! Core morphology types: sections made of 3-D points, as NEURON's Import3d would build them.

use crate::limits;
use serde::{Deserialize, Serialize};

/// What part of the neuron a section belongs to. SWC type codes 1-4 map to the named kinds;
/// any other code is kept as `Custom(code)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SectionKind {
    Soma,
    Axon,
    /// Basal dendrite (NEURON's `dend[]`).
    Basal,
    /// Apical dendrite (NEURON's `apic[]`).
    Apical,
    /// Any other SWC type code, kept so that conversion round-trips.
    Custom(i32),
}

impl SectionKind {
    /// The NEURON section-array name used by Import3d (`soma`, `axon`, `dend`, `apic`); custom
    /// types become `dend_<code>` as Import3d does.
    pub fn neuron_prefix(self) -> String {
        match self {
            SectionKind::Soma => "soma".into(),
            SectionKind::Axon => "axon".into(),
            SectionKind::Basal => "dend".into(),
            SectionKind::Apical => "apic".into(),
            SectionKind::Custom(code) => format!("dend_{code}"),
        }
    }

    /// SWC type code (1 soma, 2 axon, 3 basal, 4 apical, custom codes unchanged).
    pub fn swc_code(self) -> i32 {
        match self {
            SectionKind::Soma => 1,
            SectionKind::Axon => 2,
            SectionKind::Basal => 3,
            SectionKind::Apical => 4,
            SectionKind::Custom(code) => code,
        }
    }

    /// Inverse of [`SectionKind::swc_code`].
    pub fn from_swc_code(code: i32) -> Self {
        match code {
            1 => SectionKind::Soma,
            2 => SectionKind::Axon,
            3 => SectionKind::Basal,
            4 => SectionKind::Apical,
            other => SectionKind::Custom(other),
        }
    }

    /// Order in which NEURON's Import3d numbers section arrays is per type; this is the order in
    /// which we list section arrays in a `Morphology` (soma, axon, dend, apic, custom).
    pub fn array_order(self) -> i64 {
        match self {
            SectionKind::Soma => 0,
            SectionKind::Axon => 1,
            SectionKind::Basal => 2,
            SectionKind::Apical => 3,
            SectionKind::Custom(code) => 4 + i64::from(code),
        }
    }
}

/// One 3-D sample of a neurite: position and diameter, all in µm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point3 {
    pub x_um: f64,
    pub y_um: f64,
    pub z_um: f64,
    pub diam_um: f64,
}

impl Point3 {
    pub fn new(x_um: f64, y_um: f64, z_um: f64, diam_um: f64) -> Self {
        Point3 { x_um, y_um, z_um, diam_um }
    }

    /// Euclidean distance to another point (µm).
    pub fn distance_um(&self, other: &Point3) -> f64 {
        let dx = self.x_um - other.x_um;
        let dy = self.y_um - other.y_um;
        let dz = self.z_um - other.z_um;
        (dx * dx + dy * dy + dz * dz).sqrt()
    }

    /// Distance to another point as NEURON computes 3-D arc length (µm): NEURON keeps points in
    /// float32 and subtracts them in float32, then squares and sums in double. So each coordinate
    /// difference is rounded to float32 here. For float32-valued points (everything read from a
    /// file) this is bit-for-bit NEURON's arc step; against the plain double difference it
    /// changes L, area and ri by up to ~2e-8 relative on cell1.asc (spec §1.2: NEURON stores
    /// 3-D points in single precision).
    pub fn neuron_distance_um(&self, other: &Point3) -> f64 {
        let d = |a: f64, b: f64| ((a - b) as f32) as f64;
        let (dx, dy, dz) = (d(self.x_um, other.x_um), d(self.y_um, other.y_um), d(self.z_um, other.z_um));
        (dx * dx + dy * dy + dz * dz).sqrt()
    }
}

/// An unbranched stretch of neurite: NEURON's `Section`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// NEURON name, e.g. `soma[0]`, `dend[12]`, `apic[50]`.
    pub name: String,
    pub kind: SectionKind,
    /// Index of the parent section in `Morphology::sections`; `None` only for the root (soma).
    pub parent: Option<usize>,
    /// Where on the parent this section's 0 end attaches (0..=1): 1.0 for ordinary children,
    /// 0.5 for trees hanging on the soma centre.
    pub parent_x: f64,
    /// The 3-D points from the 0 end to the 1 end (at least two).
    pub points: Vec<Point3>,
}

impl Section {
    /// Arc length of the section (µm): the sum of distances between consecutive points, each
    /// computed as NEURON does ([`Point3::neuron_distance_um`]).
    pub fn length_um(&self) -> f64 {
        self.points.windows(2).map(|w| w[0].neuron_distance_um(&w[1])).sum()
    }

    /// Lateral membrane area of the whole section (µm²), summing frustum areas.
    pub fn area_um2(&self) -> f64 {
        self.points
            .windows(2)
            .map(|w| frustum_area_um2(w[0].neuron_distance_um(&w[1]), w[0].diam_um, w[1].diam_um))
            .sum()
    }
}

/// Lateral area of a truncated cone of length `len_um` and end diameters `d1_um`, `d2_um` (µm²).
pub fn frustum_area_um2(len_um: f64, d1_um: f64, d2_um: f64) -> f64 {
    let dr = 0.5 * (d1_um - d2_um);
    std::f64::consts::PI * 0.5 * (d1_um + d2_um) * (len_um * len_um + dr * dr).sqrt()
}

/// A neuron's morphology as NEURON sections, parents always before children
/// (`sections[i].parent < Some(i)`), `sections[0]` the soma.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Morphology {
    pub sections: Vec<Section>,
    /// Where it came from (file path or generator description), for messages and metadata.
    pub source: String,
}

/// Per-type summary figures, as printed by `neurotwin morph info`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KindSummary {
    pub sections: usize,
    pub total_length_um: f64,
    pub total_area_um2: f64,
}

impl Morphology {
    /// Index of the section with the NEURON name `name` (e.g. `apic[50]`).
    pub fn section_index(&self, name: &str) -> Option<usize> {
        self.sections.iter().position(|s| s.name == name)
    }

    /// Children of each section, in section order.
    pub fn children(&self) -> Vec<Vec<usize>> {
        let mut children = vec![Vec::new(); self.sections.len()];
        for (i, s) in self.sections.iter().enumerate() {
            if let Some(p) = s.parent {
                if p < children.len() {
                    children[p].push(i);
                }
            }
        }
        children
    }

    /// Sections, length and area per kind, in array order (soma, axon, dend, apic, custom).
    pub fn summary_by_kind(&self) -> Vec<(SectionKind, KindSummary)> {
        let mut out: Vec<(SectionKind, KindSummary)> = Vec::new();
        for s in &self.sections {
            let entry = match out.iter_mut().find(|(k, _)| *k == s.kind) {
                Some(e) => e,
                None => {
                    out.push((s.kind, KindSummary::default()));
                    let last = out.len() - 1;
                    &mut out[last]
                }
            };
            entry.1.sections += 1;
            entry.1.total_length_um += s.length_um();
            entry.1.total_area_um2 += s.area_um2();
        }
        out.sort_by_key(|(k, _)| k.array_order());
        out
    }

    fn limit(&self, error: limits::LimitError) -> MorphologyError {
        MorphologyError::Limit { source_name: self.source.clone(), error }
    }

    /// Largest extent along x, y or z over all points (µm); 0 for no points.
    pub fn extent_um(&self) -> f64 {
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for p in self.sections.iter().flat_map(|s| &s.points) {
            for (k, c) in [p.x_um, p.y_um, p.z_um].into_iter().enumerate() {
                lo[k] = lo[k].min(c);
                hi[k] = hi[k].max(c);
            }
        }
        (0..3).map(|k| hi[k] - lo[k]).filter(|e| e.is_finite()).fold(0.0, f64::max)
    }

    /// Check the structural invariants every consumer relies on: a soma first, parents before
    /// children, at least two finite points per section with positive diameters, parent_x in [0, 1],
    /// and the size limits of [`crate::limits`] (points per section, coordinates, diameters).
    pub fn validate(&self) -> Result<(), MorphologyError> {
        let bad = |section: &str, reason: String| MorphologyError::Invalid {
            source_name: self.source.clone(),
            section: section.to_string(),
            reason,
        };
        if self.sections.is_empty() {
            return Err(MorphologyError::Empty { source_name: self.source.clone() });
        }
        for (i, s) in self.sections.iter().enumerate() {
            match s.parent {
                None if i != 0 => return Err(bad(&s.name, "only the first section may lack a parent".into())),
                Some(p) if p >= i => {
                    return Err(bad(&s.name, format!("parent index {p} does not come before the section ({i})")))
                }
                _ => {}
            }
            if !(0.0..=1.0).contains(&s.parent_x) {
                return Err(bad(&s.name, format!("parent_x {} outside [0, 1]", s.parent_x)));
            }
            if s.points.len() > limits::MAX_POINTS_PER_SECTION {
                return Err(self.limit(limits::LimitError::exceeded(
                    format!("the number of 3-D points of section {}", s.name),
                    s.points.len(),
                    limits::MAX_POINTS_PER_SECTION,
                    None,
                )));
            }
            if s.points.len() < 2 {
                return Err(bad(&s.name, format!("{} 3-D points; a section needs at least 2", s.points.len())));
            }
            for (k, p) in s.points.iter().enumerate() {
                if !(p.x_um.is_finite() && p.y_um.is_finite() && p.z_um.is_finite() && p.diam_um.is_finite()) {
                    return Err(bad(&s.name, format!("point {k} has a non-finite coordinate or diameter")));
                }
                if p.diam_um <= 0.0 {
                    return Err(bad(&s.name, format!("point {k} has diameter {} µm (must be > 0)", p.diam_um)));
                }
                let largest = p.x_um.abs().max(p.y_um.abs()).max(p.z_um.abs());
                if largest > limits::MAX_COORDINATE_UM {
                    return Err(self.limit(limits::LimitError::exceeded(
                        format!("a coordinate of point {k} of section {} (µm)", s.name),
                        format!("{largest:e}"),
                        limits::MAX_COORDINATE_UM,
                        None,
                    )));
                }
                if p.diam_um > limits::MAX_DIAMETER_UM {
                    return Err(self.limit(limits::LimitError::exceeded(
                        format!("the diameter of point {k} of section {} (µm)", s.name),
                        format!("{:e}", p.diam_um),
                        limits::MAX_DIAMETER_UM,
                        None,
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Errors from reading or checking a morphology. Every variant names the file (`source_name`).
#[derive(Debug, thiserror::Error)]
pub enum MorphologyError {
    #[error("{path}: cannot read file: {message}")]
    Io { path: String, message: String },
    #[error("{source_name}:{line}: {message}")]
    Parse { source_name: String, line: usize, message: String },
    #[error("{source_name}: the file holds no neuron (no soma and no neurite points)")]
    Empty { source_name: String },
    #[error("{source_name}: section {section}: {reason}")]
    Invalid { source_name: String, section: String, reason: String },
    #[error("{source_name}: {error}")]
    Limit { source_name: String, error: crate::limits::LimitError },
    #[error("{source_name}: unsupported morphology format (expected .swc, .asc or .json)")]
    UnknownFormat { source_name: String },
}
