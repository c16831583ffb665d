//! The Neurolucida reader against NEURON: cell1.asc read by our reader plus the Hay et al.
//! axon recipe must give the sections NEURON's Import3d + L5PCtemplate_2 gave
//! (`../shared/spec/l5pc-geometry.json`, `../shared/morphologies/cell1_neuron_geometry.json`)
//! and, once discretised, the segment areas and axial resistances of `l5pc-segments.csv`.

use neurotwin::morphology::{load_hay2011, parse_asc, Cable, Discretisation, Morphology, MorphologyError, SectionKind};
use serde_json::Value;
use std::path::PathBuf;

/// `../shared`, next to the crate. Missing is a failure, never a silent pass.
fn shared() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(
        dir.join("morphologies/cell1.asc").is_file(),
        "reference folder {} is missing (needs morphologies/cell1.asc and spec/): these tests compare \
         against NEURON's output and cannot run without it",
        dir.display()
    );
    dir
}

fn read_json(rel: &str) -> Value {
    let path = shared().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn cell1() -> Morphology {
    let path = shared().join("morphologies/cell1.asc");
    load_hay2011(&path).unwrap_or_else(|e| panic!("loading cell1.asc failed: {e}"))
}

fn is_dendrite(kind: SectionKind) -> bool {
    matches!(kind, SectionKind::Basal | SectionKind::Apical)
}

/// The four numbers [x, y, z, diam] of a JSON point.
fn coords(point: &Value) -> Vec<f64> {
    point.as_array().expect("point").iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect()
}

fn rel_err(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

#[test]
fn cell1_sections_match_neuron_import3d() {
    let morph = cell1();
    let spec = read_json("spec/l5pc-geometry.json");
    let full = read_json("morphologies/cell1_neuron_geometry.json");
    let spec_secs = spec["sections"].as_array().expect("sections array");
    let full_secs = full["sections"].as_array().expect("sections array");
    assert_eq!(morph.sections.len(), 196);
    assert_eq!(spec_secs.len(), 196);

    let (mut worst_l_spec, mut worst_l_full, mut worst_pt_spec, mut worst_pt_full) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (i, ((ours, s), f)) in morph.sections.iter().zip(spec_secs).zip(full_secs).enumerate() {
        assert_eq!(ours.name, s["name"].as_str().unwrap_or(""), "section {i} name");
        let parent_name = ours.parent.map(|p| morph.sections[p].name.as_str());
        assert_eq!(parent_name, s["parent"].as_str(), "{} parent", ours.name);
        if ours.parent.is_some() {
            assert_eq!(Some(ours.parent_x), s["parent_x"].as_f64(), "{} parent_x", ours.name);
        }
        if !is_dendrite(ours.kind) {
            continue;
        }
        let length = ours.length_um();
        let l_spec = s["L"].as_f64().unwrap_or(f64::NAN);
        let l_full = f["L"].as_f64().unwrap_or(f64::NAN);
        worst_l_spec = worst_l_spec.max(rel_err(length, l_spec));
        worst_l_full = worst_l_full.max(rel_err(length, l_full));
        for (pts, worst, as_f32) in [(&s["pt3d"], &mut worst_pt_spec, false), (&f["pt3d"], &mut worst_pt_full, true)] {
            let pts = pts.as_array().expect("pt3d array");
            assert_eq!(ours.points.len(), pts.len(), "{} point count", ours.name);
            for (p, q) in ours.points.iter().zip(pts) {
                for (a, b) in [p.x_um, p.y_um, p.z_um, p.diam_um].iter().zip(coords(q)) {
                    // the full-precision file holds float32 values printed in decimal; serde_json's
                    // default (fast) parser may land one double ulp away, so compare as float32
                    let b = if as_f32 { f64::from(b as f32) } else { b };
                    *worst = worst.max((a - b).abs());
                }
            }
        }
    }
    eprintln!(
        "dend/apic: worst L rel err {worst_l_spec:.2e} (l5pc-geometry.json), {worst_l_full:.2e} (full precision); \
         worst point err {worst_pt_spec:.2e} µm (l5pc-geometry.json), {worst_pt_full:.2e} µm (full precision)"
    );
    assert!(worst_l_spec <= 1e-6, "L vs l5pc-geometry.json: {worst_l_spec:e}");
    // NEURON-exact arc steps (float32 coordinate differences) make this ~1e-16; plain double
    // differences would give up to 1.6e-8 (dend[52])
    assert!(worst_l_full <= 1e-12, "L vs cell1_neuron_geometry.json: {worst_l_full:e}");
    assert!(worst_pt_spec <= 1e-4, "points vs l5pc-geometry.json: {worst_pt_spec:e} µm");
    // both are float32 values of the same decimal text, so they must be identical
    assert_eq!(worst_pt_full, 0.0, "points vs cell1_neuron_geometry.json (float32)");

    // soma: our contour conversion against Import3d's (spec §1.2)
    let soma = &morph.sections[0];
    let (area, length) = (soma.area_um2(), soma.length_um());
    let full_soma = full_secs[0]["pt3d"].as_array().expect("soma pt3d");
    let mut worst_soma_pt = 0.0f64;
    for (p, q) in soma.points.iter().zip(full_soma) {
        for (a, b) in [p.x_um, p.y_um, p.z_um, p.diam_um].iter().zip(coords(q)) {
            worst_soma_pt = worst_soma_pt.max((a - b).abs());
        }
    }
    eprintln!(
        "soma: area {area:.6} µm² (NEURON 1131.389059, rel err {:.2e}), L {length:.6} µm (NEURON 23.169408, rel err {:.2e}), \
         {} points, worst point err {worst_soma_pt:.2e} µm",
        rel_err(area, 1131.389059),
        rel_err(length, 23.169408),
        soma.points.len()
    );
    assert_eq!(soma.points.len(), full_soma.len());
    assert!(rel_err(area, 1131.389059) < 0.01);
    assert!(rel_err(length, 23.169408) < 0.01);
    // our conversion follows Import3d's method; it reproduces its points to float32 rounding
    assert!(worst_soma_pt < 1e-4, "soma points differ from Import3d's by {worst_soma_pt:e} µm");
}

/// One row of `l5pc-segments.csv`: section, x, area (µm²), ri (MΩ).
fn segments_csv() -> Vec<(String, f64, f64, f64)> {
    let path = shared().join("spec/l5pc-segments.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let num = |k: usize| f[k].parse::<f64>().unwrap_or_else(|e| panic!("bad number in {l:?}: {e}"));
            (f[0].to_string(), num(1), num(3), num(4))
        })
        .collect()
}

#[test]
fn cell1_segments_match_neuron() {
    let morph = cell1();
    let cable = Cable::new(&morph, &Discretisation::default()).expect("discretise");
    assert_eq!(cable.section_nseg.len(), 196);
    assert_eq!(cable.n_compartments(), 642);

    // against the CSV (area 6 decimals, ri 8 decimals): |a-b| <= 5e-7 + 1e-9·|b|
    let rows = segments_csv();
    assert_eq!(rows.len(), 642);
    let (mut worst_area_csv, mut worst_ri_csv, mut checked) = (0.0f64, 0.0f64, 0);
    let mut bad_csv = Vec::new();
    for (name, x, area, ri) in &rows {
        let si = morph.section_index(name).unwrap_or_else(|| panic!("no section {name}"));
        if !is_dendrite(morph.sections[si].kind) {
            continue;
        }
        let node = &cable.nodes[cable.segment_node(si, *x)];
        assert!((node.x - x).abs() < 1e-6, "{name}({x}) maps to x = {}", node.x);
        let (da, dr) = ((node.area_um2 - area).abs(), (node.ri_mohm - ri).abs());
        if da > 5e-7 + 1e-9 * area.abs() || dr > 5e-7 + 1e-9 * ri.abs() {
            bad_csv.push(format!("{name}({x}): area {} vs {area}, ri {} vs {ri}", node.area_um2, node.ri_mohm));
        }
        worst_area_csv = worst_area_csv.max(da);
        worst_ri_csv = worst_ri_csv.max(dr);
        checked += 1;
    }
    assert_eq!(checked, 639);

    // against NEURON's full-precision area() and ri()
    let full = read_json("morphologies/cell1_neuron_geometry.json");
    let (mut worst_area, mut worst_ri) = (0.0f64, 0.0f64);
    for sec in full["sections"].as_array().expect("sections") {
        let name = sec["name"].as_str().unwrap_or("");
        let si = morph.section_index(name).unwrap_or_else(|| panic!("no section {name}"));
        if !is_dendrite(morph.sections[si].kind) {
            continue;
        }
        for seg in sec["segments"].as_array().expect("segments") {
            let x = seg["x"].as_f64().unwrap_or(f64::NAN);
            let node = &cable.nodes[cable.segment_node(si, x)];
            worst_area = worst_area.max(rel_err(node.area_um2, seg["area"].as_f64().unwrap_or(f64::NAN)));
            worst_ri = worst_ri.max(rel_err(node.ri_mohm, seg["ri"].as_f64().unwrap_or(f64::NAN)));
        }
    }
    // soma segment (our contour conversion, not Import3d's exact points)
    let soma_node = &cable.nodes[cable.segment_node(0, 0.5)];
    eprintln!(
        "639 dend/apic segments: worst |Δarea| {worst_area_csv:.2e} µm², |Δri| {worst_ri_csv:.2e} MΩ vs CSV; \
         worst rel err area {worst_area:.2e}, ri {worst_ri:.2e} vs full precision; soma area {:.6} µm², ri {:.8} MΩ \
         (NEURON 1131.389059, 0.13930805)",
        soma_node.area_um2, soma_node.ri_mohm
    );
    assert!(bad_csv.is_empty(), "{} segments differ from the CSV beyond its rounding:\n{}", bad_csv.len(), bad_csv.join("\n"));
    // reached: ~4e-15; the brief asks 1e-9, we hold the tighter bound so that a regression to
    // double-precision arc steps (~1e-8) is caught
    assert!(worst_area <= 1e-12, "area vs full precision: {worst_area:e}");
    assert!(worst_ri <= 1e-12, "ri vs full precision: {worst_ri:e}");
    assert!(rel_err(soma_node.area_um2, 1131.389059) < 0.01);
}

#[test]
fn asc_load_dispatch_and_errors_name_the_file() {
    // load() picks the reader by extension; a parse error carries the file and line
    let morph = neurotwin::morphology::load(&shared().join("morphologies/cell1.asc")).expect("load cell1.asc");
    // as traced: one soma, the traced axon (one section), 84 basal, 109 apical
    let count = |k: SectionKind| morph.sections.iter().filter(|s| s.kind == k).count();
    assert_eq!((count(SectionKind::Soma), count(SectionKind::Axon)), (1, 1));
    assert_eq!((count(SectionKind::Basal), count(SectionKind::Apical)), (84, 109));
    let err = parse_asc("(\"CellBody\"\n (0 0 0 1)\n (1 0", "broken.asc").unwrap_err();
    match &err {
        MorphologyError::Parse { source_name, line, message } => {
            assert_eq!(source_name, "broken.asc");
            assert_eq!(*line, 3);
            assert!(message.contains("opened at line 3"), "{message}");
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    assert!(err.to_string().starts_with("broken.asc:3:"), "{err}");
}
