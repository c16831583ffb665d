//! SWC reader/writer: soma styles, node order, custom types, error messages, round trips
//! (including the NEURON geometry of the Hay cell), and property tests.

use neurotwin::morphology::{load, parse_swc, write_swc, Morphology, MorphologyError, SectionKind};
use neurotwin::{Cable, Discretisation};
use std::path::{Path, PathBuf};

const PI: f64 = std::f64::consts::PI;

fn parse(text: &str) -> Morphology {
    match parse_swc(text, "test.swc") {
        Ok(m) => m,
        Err(e) => panic!("parse failed: {e}\n{text}"),
    }
}

fn names(m: &Morphology) -> Vec<&str> {
    m.sections.iter().map(|s| s.name.as_str()).collect()
}

fn parent_names(m: &Morphology) -> Vec<Option<&str>> {
    m.sections.iter().map(|s| s.parent.map(|p| m.sections[p].name.as_str())).collect()
}

fn assert_close(a: f64, b: f64, tol: f64, what: &str) {
    assert!((a - b).abs() <= tol, "{what}: {a} vs {b}");
}

/// Sections equal: names, kinds, parents, parent_x, and points within `tol_um`.
fn assert_same_sections(a: &Morphology, b: &Morphology, tol_um: f64) {
    assert_eq!(names(a), names(b), "section names");
    for (sa, sb) in a.sections.iter().zip(&b.sections) {
        assert_eq!(sa.kind, sb.kind, "{}", sa.name);
        assert_eq!(sa.parent, sb.parent, "{}", sa.name);
        assert_eq!(sa.parent_x, sb.parent_x, "{}", sa.name);
        assert_eq!(sa.points.len(), sb.points.len(), "{} point count", sa.name);
        for (pa, pb) in sa.points.iter().zip(&sb.points) {
            let d = (pa.x_um - pb.x_um).abs().max((pa.y_um - pb.y_um).abs()).max((pa.z_um - pb.z_um).abs()).max((pa.diam_um - pb.diam_um).abs());
            assert!(d <= tol_um, "{}: {pa:?} vs {pb:?}", sa.name);
        }
    }
}

fn shared_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(
        dir.join("spec/l5pc-geometry.json").is_file(),
        "the shared reference folder is missing: expected {} (the NEURON geometry of the Hay cell); \
         these tests need it and must not pass without it",
        dir.join("spec/l5pc-geometry.json").display()
    );
    dir
}

// ---------------------------------------------------------------- soma styles

#[test]
fn single_point_soma_is_a_cylinder_with_the_sphere_area() {
    let m = parse("1 1 0 0 0 10 -1\n2 3 10 0 0 1 1\n3 3 30 0 0 1 2\n");
    let soma = &m.sections[0];
    assert_eq!(soma.name, "soma[0]");
    assert_eq!(soma.points.len(), 2);
    assert_close(soma.length_um(), 20.0, 1e-12, "soma length");
    assert_close(soma.area_um2(), 4.0 * PI * 100.0, 1e-9, "soma area");
    assert_close(soma.points[0].y_um, -10.0, 0.0, "soma along y");
    assert_eq!(names(&m), ["soma[0]", "dend[0]"]);
    assert_eq!(m.sections[1].parent_x, 0.5);
    assert_close(m.sections[1].length_um(), 20.0, 1e-12, "dend length");
}

#[test]
fn three_point_soma_gives_the_sphere_area() {
    let text = "1 1 5 5 5 8 -1\n2 1 5 -3 5 8 1\n3 1 5 13 5 8 1\n4 2 5 -3 5 0.5 2\n5 2 5 -40 5 0.5 4\n";
    let m = parse(text);
    let soma = &m.sections[0];
    assert_eq!(soma.points.len(), 3);
    assert_close(soma.length_um(), 16.0, 1e-12, "soma length");
    assert_close(soma.area_um2(), 4.0 * PI * 64.0, 1e-9, "soma area");
    assert_eq!((soma.points[0].y_um, soma.points[2].y_um), (-3.0, 13.0));
    assert_eq!(names(&m), ["soma[0]", "axon[0]"]);
    // the axon hangs on a soma point: it attaches at soma(0.5) and starts at its own first sample
    assert_eq!(m.sections[1].parent_x, 0.5);
    assert_eq!(m.sections[1].points.len(), 2);
    assert_close(m.sections[1].length_um(), 37.0, 1e-12, "axon length");
}

#[test]
fn multi_point_soma_uses_the_points_and_branching_soma_keeps_the_longest_path() {
    let chain = "1 1 0 0 0 2 -1\n2 1 0 5 0 6 1\n3 1 0 10 0 2 2\n4 4 0 10 0 1 3\n5 4 0 50 0 1 4\n";
    let m = parse(chain);
    assert_eq!(m.sections[0].points.len(), 3);
    assert_close(m.sections[0].length_um(), 10.0, 1e-12, "soma length");
    assert_eq!(m.sections[0].points[1].diam_um, 12.0);
    assert_eq!(names(&m), ["soma[0]", "apic[0]"]);

    // soma points branching at sample 2: 1-2-3 is 10 µm, 1-2-5 is 5 + 20; sample 3 is dropped
    // and the basal tree hanging on it attaches at soma(0.5) like the others.
    let branching = "1 1 0 0 0 2 -1\n2 1 0 5 0 6 1\n3 1 0 10 0 2 2\n5 1 20 5 0 2 2\n6 3 0 11 0 1 3\n7 3 0 30 0 1 6\n";
    let m = parse(branching);
    let soma = &m.sections[0];
    assert_eq!(soma.points.len(), 3);
    assert_close(soma.length_um(), 25.0, 1e-12, "soma length");
    assert_eq!((soma.points[0].x_um, soma.points[2].x_um), (0.0, 20.0));
    assert_eq!(m.sections[1].parent, Some(0));
    assert_eq!(m.sections[1].parent_x, 0.5);
}

#[test]
fn no_soma_single_tree_promotes_its_root() {
    let m = parse("1 3 0 0 0 2 -1\n2 3 0 10 0 1 1\n3 3 0 20 0 1 2\n");
    assert_eq!(names(&m), ["soma[0]", "dend[0]"]);
    assert_close(m.sections[0].area_um2(), 4.0 * PI * 4.0, 1e-9, "point soma area");
    // the tree on the promoted root starts at its own first sample
    assert_close(m.sections[1].length_um(), 10.0, 1e-12, "dend length");
}

// ---------------------------------------------------------------- structure and naming

/// A soma, a basal tree that bifurcates twice, an apical tree and an axon, listed out of order.
const TREE: &str = "\
# children before parents, ids not contiguous
20 3 0 -40 0 0.5 12
21 3 10 -45 0 0.4 20
12 3 0 -20 0 1 10
13 3 -10 -30 0 0.8 12
10 3 0 -10 0 1 1
30 4 0 30 0 3 1
31 4 0 60 0 2.5 30
32 4 5 90 0 1 31
33 4 -5 90 0 1 31
1 1 0 0 0 5 -1
40 2 0 -5 2 0.5 1
41 2 0 -30 2 0.5 40
";

#[test]
fn out_of_order_samples_build_import3d_sections() {
    let m = parse(TREE);
    assert_eq!(names(&m), ["soma[0]", "axon[0]", "dend[0]", "dend[1]", "dend[2]", "apic[0]", "apic[1]", "apic[2]"]);
    assert_eq!(
        parent_names(&m),
        [None, Some("soma[0]"), Some("soma[0]"), Some("dend[0]"), Some("dend[0]"), Some("soma[0]"), Some("apic[0]"), Some("apic[0]")]
    );
    // file order of children: sample 20 (listed first) starts dend[1], sample 13 dend[2]
    let d0 = &m.sections[2];
    assert_eq!((d0.parent_x, d0.points.len()), (0.5, 2));
    assert_close(d0.length_um(), 10.0, 1e-12, "dend[0]");
    let d1 = &m.sections[3];
    assert_eq!(d1.parent_x, 1.0);
    // first point: parent's end coordinates with the child's own first diameter
    assert_eq!((d1.points[0].y_um, d1.points[0].diam_um), (-20.0, 1.0));
    assert_eq!(d1.points.len(), 3);
    assert_close(d1.length_um(), 20.0 + (125.0f64).sqrt(), 1e-12, "dend[1]");
    assert_close(m.sections[4].length_um(), (200.0f64).sqrt(), 1e-12, "dend[2]");
    assert_close(m.sections[5].length_um(), 30.0, 1e-12, "apic[0]");
    assert_eq!(m.sections[6].points[0].diam_um, 2.0);
}

#[test]
fn custom_types_keep_their_code_and_follow_the_standard_arrays() {
    let text = "1 1 0 0 0 5 -1\n2 7 0 10 0 1 1\n3 7 0 20 0 1 2\n4 3 0 -10 0 1 1\n5 3 0 -20 0 1 4\n6 5 0 -30 0 1 5\n";
    let m = parse(text);
    assert_eq!(names(&m), ["soma[0]", "dend[0]", "dend_5[0]", "dend_7[0]"]);
    assert_eq!(m.sections[2].kind, SectionKind::Custom(5));
    // a type change starts a new section attached at the parent's end
    assert_eq!(parent_names(&m)[2], Some("dend[0]"));
    assert_eq!(m.sections[2].parent_x, 1.0);
    let back = parse(&write_swc(&m));
    assert_same_sections(&m, &back, 0.0);
}

#[test]
fn an_axon_on_an_apical_branch_still_lists_parents_first() {
    let text = "1 1 0 0 0 5 -1\n2 4 0 10 0 1 1\n3 4 0 20 0 1 2\n4 2 0 30 0 1 3\n5 2 0 40 0 1 4\n";
    let m = parse(text);
    assert_eq!(names(&m), ["soma[0]", "apic[0]", "axon[0]"]);
    m.validate().unwrap();
}

#[test]
fn repeated_branch_points_in_the_file_are_not_doubled() {
    let text = "1 1 0 0 0 5 -1\n2 3 0 -10 0 1 1\n3 3 0 -20 0 1 2\n4 3 0 -20 0 0.5 3\n5 3 5 -30 0 0.5 4\n6 3 -5 -30 0 0.5 3\n";
    let m = parse(text);
    assert_eq!(names(&m), ["soma[0]", "dend[0]", "dend[1]", "dend[2]"]);
    assert_eq!(m.sections[2].points.len(), 2);
    assert_eq!(m.sections[2].points[0].diam_um, 1.0);
    assert_eq!(m.sections[3].points.len(), 2);
    let back = parse(&write_swc(&m));
    assert_same_sections(&m, &back, 0.0);
}

#[test]
fn load_dispatches_swc_by_extension() {
    let dir = std::env::temp_dir().join(format!("neurotwin-swc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tree.SWC");
    std::fs::write(&path, TREE).unwrap();
    let m = load(&path).unwrap();
    assert_eq!(m.sections.len(), 8);
    assert!(m.source.ends_with("tree.SWC"));
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------- errors

/// Parse `text`, expect an error on `line` whose message contains `needle`.
fn assert_error(text: &str, line: usize, needle: &str) {
    match parse_swc(text, "bad.swc") {
        Ok(_) => panic!("expected an error containing '{needle}' for:\n{text}"),
        Err(e) => {
            let shown = e.to_string();
            match e {
                MorphologyError::Parse { source_name, line: l, message } => {
                    assert_eq!(source_name, "bad.swc");
                    assert_eq!(l, line, "line of: {shown}");
                    assert!(message.contains(needle), "'{needle}' not in: {shown}");
                    assert!(shown.starts_with(&format!("bad.swc:{line}: ")), "{shown}");
                }
                other => panic!("expected a parse error, got {other:?}"),
            }
        }
    }
}

const SOMA: &str = "1 1 0 0 0 5 -1\n";

#[test]
fn bad_input_names_the_line_and_the_problem() {
    assert_error("", 1, "no SWC samples");
    assert_error("# only a comment\n\n", 2, "no SWC samples");
    assert_error(&format!("{SOMA}2 3 0 0 1 -1\n"), 2, "expected 7 columns");
    assert_error(&format!("{SOMA}2 3 0 0 1 1 1 9\n"), 2, "found 8");
    assert_error(&format!("{SOMA}2 3 0 abc 1 1 1\n"), 2, "column 4 (y) must be a number, found 'abc'");
    assert_error(&format!("{SOMA}2 3 0 NaN 1 1 1\n"), 2, "column 4 (y) must be finite");
    assert_error(&format!("{SOMA}2 3 0 inf 1 1 1\n"), 2, "must be finite");
    assert_error(&format!("{SOMA}x 3 0 0 1 1 1\n"), 2, "column 1 (id) must be an integer");
    assert_error(&format!("{SOMA}2 dend 0 0 1 1 1\n"), 2, "column 2 (type) must be an integer");
    assert_error(&format!("{SOMA}2 -3 0 0 1 1 1\n"), 2, "type code must be a non-negative integer");
    assert_error(&format!("{SOMA}2 3 0 0 1 0 1\n"), 2, "radius must be > 0");
    assert_error(&format!("{SOMA}2 3 0 0 1 -0.5 1\n"), 2, "radius must be > 0");
    assert_error(&format!("{SOMA}2 3 0 0 1 NaN 1\n"), 2, "column 6 (radius) must be finite");
    assert_error(&format!("{SOMA}2 3 0 0 1 1 -7\n"), 2, "parent must be a sample id or -1");
    assert_error(&format!("{SOMA}2 3 0 0 1 1 2\n"), 2, "its own parent");
    assert_error(&format!("{SOMA}2 3 0 0 1 1 1\n2 3 0 0 2 1 1\n"), 3, "duplicate sample id 2 (first defined on line 2)");
    assert_error(&format!("{SOMA}2 3 0 0 1 1 1\n3 3 0 0 2 1 9\n"), 3, "parent id 9 of sample 3 is not defined");
    assert_error(&format!("{SOMA}2 3 0 0 1 1 3\n3 3 0 0 2 1 2\n"), 2, "cycle");
    assert_error("1 3 0 0 0 1 -1\n2 3 0 5 0 1 1\n3 3 9 9 9 1 -1\n4 3 9 19 9 1 3\n", 3, "no soma (type 1) samples and 2 separate trees");
    assert_error(&format!("{SOMA}2 3 0 -5 0 1 1\n3 1 0 -9 0 1 2\n"), 3, "soma sample 3 (type 1) hangs on sample 2 of type 3");
    assert_error(&format!("{SOMA}2 3 0 -5 0 1 1\n3 3 0 -5 0 1 2\n4 3 0 -5 0 1 3\n"), 2, "zero length");
    assert_error("1 1 0 0 0 5 -1\n2 1 0 0 0 5 1\n3 3 0 0 0 1 1\n", 3, "zero length");
    assert_error(&format!("# neurotwin section-breaks: 7\n{SOMA}"), 1, "names sample 7, which is not in the file");
}

// ---------------------------------------------------------------- round trips

#[test]
fn written_swc_reloads_identically() {
    for text in [TREE, "1 1 5 5 5 8 -1\n2 1 5 -3 5 8 1\n3 1 5 13 5 8 1\n4 2 5 -3 5 0.5 2\n5 2 5 -40 5 0.5 4\n", "1 1 0 0 0 10 -1\n2 3 10 0 0 1 1\n"] {
        let m = parse(text);
        let written = write_swc(&m);
        let back = parse(&written);
        assert_same_sections(&m, &back, 0.0);
        // and writing is stable
        assert_eq!(write_swc(&back).lines().skip(1).collect::<Vec<_>>(), written.lines().skip(1).collect::<Vec<_>>());
    }
}

#[test]
fn the_hay_cell_geometry_round_trips_through_swc() {
    let json_path = shared_dir().join("spec/l5pc-geometry.json");
    let original = load(&json_path).unwrap();
    assert_eq!(original.sections.len(), 196);
    let text = write_swc(&original);
    // axon[1] continues axon[0] unbranched: only the section-break comment keeps them apart
    assert!(text.contains("# neurotwin section-breaks:"), "{}", &text[..300]);
    let back = parse_swc(&text, "hay.swc").unwrap();
    assert_eq!(back.sections.len(), 196);
    assert_same_sections(&original, &back, 1e-6);
    let mut max_err_um: f64 = 0.0;
    for (a, b) in original.sections.iter().zip(&back.sections) {
        for (p, q) in a.points.iter().zip(&b.points) {
            max_err_um = max_err_um.max((p.x_um - q.x_um).abs()).max((p.y_um - q.y_um).abs()).max((p.z_um - q.z_um).abs()).max((p.diam_um - q.diam_um).abs());
        }
    }
    assert_eq!(max_err_um, 0.0, "points should survive bit for bit");

    let settings = Discretisation::default();
    let c1 = Cable::new(&original, &settings).unwrap();
    let c2 = Cable::new(&back, &settings).unwrap();
    assert_eq!(c1.n_compartments(), 642);
    assert_eq!(c2.n_compartments(), 642);
    assert_eq!(c1.section_nseg, c2.section_nseg);
    for (n1, n2) in c1.nodes.iter().zip(&c2.nodes) {
        assert_eq!((n1.section, n1.segment, n1.parent), (n2.section, n2.segment, n2.parent));
        let scale = n1.area_um2.abs().max(1e-300);
        assert!((n1.area_um2 - n2.area_um2).abs() <= 1e-9 * scale, "area {} vs {}", n1.area_um2, n2.area_um2);
        assert!((n1.ri_mohm - n2.ri_mohm).abs() <= 1e-9 * n1.ri_mohm.abs().max(1e-300), "ri");
    }
}

#[test]
fn the_float32_exact_hay_geometry_round_trips_too() {
    let original = load(&shared_dir().join("morphologies/cell1_neuron_geometry.json")).unwrap();
    let back = parse_swc(&write_swc(&original), "hay32.swc").unwrap();
    assert_same_sections(&original, &back, 0.0);
}

/// Regression (found by the property test): with type changes inside trees, the writer must
/// list sections in a depth-first order that gives every section its per-type number back.
#[test]
fn mixed_type_trees_keep_their_names_through_a_round_trip() {
    let text = "1 1 0 0 0 5 -1\n2 6 10 0 0 1 1\n3 2 20 0 0 1 2\n4 6 30 5 0 1 2\n5 2 0 -10 0 1 1\n6 2 0 -20 0 1 5\n";
    let m = parse(text);
    assert_eq!(names(&m), ["soma[0]", "axon[1]", "dend_6[0]", "axon[0]", "dend_6[1]"]);
    assert_eq!(parent_names(&m)[3], Some("dend_6[0]"));
    let back = parse(&write_swc(&m));
    assert_same_sections(&m, &back, 0.0);
}
