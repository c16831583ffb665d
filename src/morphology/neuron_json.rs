//! Reader for NEURON geometry dumps (`l5pc-geometry.json`, `cell1_neuron_geometry.json`):
//! sections in NEURON order with parent, parent_x and post-import 3-D points. Sections without
//! 3-D points (NEURON "stylized" cylinders) become two-point cylinders of length `L` and
//! diameter `diam_if_no_pt3d` (1 µm if absent), laid out along −y from their parent's attachment
//! point so that they can be drawn; area and resistance are identical to NEURON's cylinder.

use super::types::{Morphology, MorphologyError, Point3, Section, SectionKind};
use serde::Deserialize;

#[derive(Deserialize)]
struct RawFile {
    sections: Vec<RawSection>,
}

#[derive(Deserialize)]
struct RawSection {
    name: String,
    parent: Option<String>,
    parent_x: Option<f64>,
    #[serde(rename = "L")]
    length_um: f64,
    #[serde(default)]
    diam_if_no_pt3d: Option<f64>,
    pt3d: Vec<[f64; 4]>,
}

fn kind_from_name(name: &str) -> SectionKind {
    let prefix = name.split('[').next().unwrap_or(name);
    match prefix {
        "soma" => SectionKind::Soma,
        "axon" => SectionKind::Axon,
        "dend" => SectionKind::Basal,
        "apic" => SectionKind::Apical,
        other => other
            .strip_prefix("dend_")
            .and_then(|c| c.parse::<i32>().ok())
            .map(SectionKind::Custom)
            .unwrap_or(SectionKind::Basal),
    }
}

/// Parse a NEURON geometry dump from its text. `source_name` is used in error messages.
pub fn parse_neuron_json(text: &str, source_name: &str) -> Result<Morphology, MorphologyError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw: RawFile = serde_json::from_str(text).map_err(|e| MorphologyError::Parse {
        source_name: source_name.to_string(),
        line: e.line(),
        message: format!("not a NEURON geometry JSON: {e}"),
    })?;
    let mut sections: Vec<Section> = Vec::with_capacity(raw.sections.len());
    // index of each name listed so far (the first section of that name, as a search would find)
    let mut index_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, rs) in raw.sections.iter().enumerate() {
        let invalid = |reason: String| MorphologyError::Invalid {
            source_name: source_name.to_string(),
            section: rs.name.clone(),
            reason,
        };
        let parent = match &rs.parent {
            None => None,
            Some(pname) => Some(
                index_of
                    .get(pname.as_str())
                    .copied()
                    .ok_or_else(|| invalid(format!("parent {pname} is not listed before it")))?,
            ),
        };
        let parent_x = rs.parent_x.unwrap_or(0.0);
        let points: Vec<Point3> = if rs.pt3d.is_empty() {
            let diam_um = rs.diam_if_no_pt3d.unwrap_or(1.0);
            let start = match parent {
                Some(p) => point_at(&sections[p], parent_x),
                None => Point3::new(0.0, 0.0, 0.0, diam_um),
            };
            vec![
                Point3::new(start.x_um, start.y_um, start.z_um, diam_um),
                Point3::new(start.x_um, start.y_um - rs.length_um, start.z_um, diam_um),
            ]
        } else {
            rs.pt3d.iter().map(|p| Point3::new(p[0], p[1], p[2], p[3])).collect()
        };
        if i == 0 && parent.is_some() {
            return Err(invalid("the first section must be the root".into()));
        }
        index_of.entry(rs.name.as_str()).or_insert(sections.len());
        sections.push(Section { name: rs.name.clone(), kind: kind_from_name(&rs.name), parent, parent_x, points });
    }
    let morph = Morphology { sections, source: source_name.to_string() };
    morph.validate()?;
    Ok(morph)
}

/// The 3-D position at fraction `x` of the arc length of a section (diameter interpolated too).
pub fn point_at(section: &Section, x: f64) -> Point3 {
    let total = section.length_um();
    let target = x.clamp(0.0, 1.0) * total;
    let mut acc = 0.0;
    for w in section.points.windows(2) {
        let len = w[0].distance_um(&w[1]);
        if acc + len >= target && len > 0.0 {
            let f = (target - acc) / len;
            return Point3::new(
                w[0].x_um + f * (w[1].x_um - w[0].x_um),
                w[0].y_um + f * (w[1].y_um - w[0].y_um),
                w[0].z_um + f * (w[1].z_um - w[0].z_um),
                w[0].diam_um + f * (w[1].diam_um - w[0].diam_um),
            );
        }
        acc += len;
    }
    section.points.last().copied().unwrap_or(Point3::new(0.0, 0.0, 0.0, 1.0))
}
