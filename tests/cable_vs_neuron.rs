//! Discretisation and mechanism placement against NEURON's own numbers for the Hay cell
//! (`cell1_neuron_geometry.json`: per-segment area, ri, distance and every ḡ as NEURON
//! computed them; `l5pc-segments.csv`).

mod common;

use common::{rel_diff, shared};
use neurotwin::biophysics::recipe::hay2011::{self, Hay2011Variant};
use neurotwin::biophysics::Channel;
use neurotwin::morphology::{self, Cable, Discretisation};
use serde_json::Value;

fn neuron_geometry() -> Value {
    let text = std::fs::read_to_string(shared("morphologies/cell1_neuron_geometry.json")).expect("read geometry json");
    serde_json::from_str(&text).expect("parse geometry json")
}

#[test]
fn hay_cell_geometry_matches_neuron_segment_by_segment() {
    let morph = morphology::load(&shared("morphologies/cell1_neuron_geometry.json")).expect("load");
    let cable = Cable::new(&morph, &Discretisation::default()).expect("cable");
    assert_eq!(morph.sections.len(), 196);
    assert_eq!(cable.n_compartments(), 642);
    let geo = neuron_geometry();
    let (mut worst_area, mut worst_ri) = (0.0f64, 0.0f64);
    for sec in geo["sections"].as_array().expect("sections") {
        let name = sec["name"].as_str().expect("name");
        let si = morph.section_index(name).unwrap_or_else(|| panic!("section {name} missing"));
        assert_eq!(cable.section_nseg[si] as u64, sec["nseg"].as_u64().expect("nseg"), "{name} nseg");
        for seg in sec["segments"].as_array().expect("segments") {
            let x = seg["x"].as_f64().expect("x");
            let node = &cable.nodes[cable.segment_node(si, x)];
            let area = seg["area"].as_f64().expect("area");
            let ri = seg["ri"].as_f64().expect("ri");
            worst_area = worst_area.max(rel_diff(node.area_um2, area));
            worst_ri = worst_ri.max(rel_diff(node.ri_mohm, ri));
            let dist = seg["dist_from_soma_center"].as_f64().expect("dist");
            assert!((node.dist_um - dist).abs() < 1e-6 * dist.max(1.0), "{name}({x}) distance {} vs {dist}", node.dist_um);
        }
    }
    // arc lengths follow NEURON's float32 coordinate differences (Point3::neuron_distance_um)
    assert!(worst_area < 1e-12, "worst area relative error {worst_area:e}");
    assert!(worst_ri < 1e-12, "worst ri relative error {worst_ri:e}");
}

#[test]
fn apic0_end_node_resistance_matches_spec_check_value() {
    let morph = morphology::load(&shared("morphologies/cell1_neuron_geometry.json")).expect("load");
    let cable = Cable::new(&morph, &Discretisation::default()).expect("cable");
    let si = morph.section_index("apic[0]").expect("apic[0]");
    let end = &cable.nodes[cable.section_end_node[si]];
    assert!(rel_diff(end.ri_mohm, 0.71607118) < 1e-7, "apic[0] 1-end ri {}", end.ri_mohm);
    assert_eq!(end.area_um2, 0.0);
}

#[test]
fn hay2011_mechanism_placement_matches_neuron() {
    let morph = morphology::load(&shared("morphologies/cell1_neuron_geometry.json")).expect("load");
    let cell = hay2011::build_cell(&morph, &Discretisation::default(), Hay2011Variant::default()).expect("cell");
    let geo = neuron_geometry();
    let names: [(Channel, &str, &str); 11] = [
        (Channel::Ih, "Ih", "gIhbar"),
        (Channel::NaTs2T, "NaTs2_t", "gNaTs2_tbar"),
        (Channel::NaTaT, "NaTa_t", "gNaTa_tbar"),
        (Channel::NapEt2, "Nap_Et2", "gNap_Et2bar"),
        (Channel::KTst, "K_Tst", "gK_Tstbar"),
        (Channel::KPst, "K_Pst", "gK_Pstbar"),
        (Channel::SKv31, "SKv3_1", "gSKv3_1bar"),
        (Channel::SkE2, "SK_E2", "gSK_E2bar"),
        (Channel::Im, "Im", "gImbar"),
        (Channel::CaHva, "Ca_HVA", "gCa_HVAbar"),
        (Channel::CaLvast, "Ca_LVAst", "gCa_LVAstbar"),
    ];
    let mut hot_zone = 0;
    for sec in geo["sections"].as_array().expect("sections") {
        let name = sec["name"].as_str().expect("name");
        let si = cell.morphology.section_index(name).expect("section");
        for seg in sec["segments"].as_array().expect("segments") {
            let x = seg["x"].as_f64().expect("x");
            let ni = cell.cable.segment_node(si, x);
            let m = &cell.membrane[ni];
            let mechs = &seg["mechs"];
            assert_eq!(m.cm_uf_per_cm2, seg["cm"].as_f64().expect("cm"), "{name}({x}) cm");
            assert_eq!(m.g_pas_s_per_cm2, mechs["pas"]["g"].as_f64().expect("g_pas"), "{name}({x}) g_pas");
            for (ch, mech, field) in names {
                match (m.gbar(ch), mechs.get(mech)) {
                    (None, None) => {}
                    (Some(g), Some(v)) => {
                        let expect = v[field].as_f64().expect("gbar");
                        // NEURON's recipe passes gradient values through a 10-decimal string (spec §3.3)
                        assert!((g - expect).abs() <= 1e-10 + 3e-7 * expect.abs(), "{name}({x}) {mech}: {g} vs {expect}");
                    }
                    (ours, theirs) => panic!("{name}({x}) {mech}: ours {ours:?}, NEURON has it: {}", theirs.is_some()),
                }
            }
            match (&m.ca_dynamics, mechs.get("CaDynamics_E2")) {
                (None, None) => {}
                (Some(c), Some(v)) => {
                    assert_eq!(c.gamma, v["gamma"].as_f64().expect("gamma"));
                    assert_eq!(c.decay_ms, v["decay"].as_f64().expect("decay"));
                }
                _ => panic!("{name}({x}): CaDynamics_E2 presence differs"),
            }
            if name.starts_with("apic") && m.gbar(Channel::CaLvast).unwrap_or(0.0) > 0.1 {
                hot_zone += 1;
            }
        }
    }
    assert_eq!(hot_zone, 29, "hot-zone segments (spec §3.3)");
}

#[test]
fn segments_csv_area_ri_distance_and_gradients() {
    let morph = morphology::load(&shared("morphologies/cell1_neuron_geometry.json")).expect("load");
    let cell = hay2011::build_cell(&morph, &Discretisation::default(), Hay2011Variant::default()).expect("cell");
    let text = std::fs::read_to_string(shared("spec/l5pc-segments.csv")).expect("csv");
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let si = cell.morphology.section_index(f[0]).expect("section");
        let x: f64 = f[1].parse().expect("x");
        let ni = cell.cable.segment_node(si, x);
        let node = &cell.cable.nodes[ni];
        let num = |i: usize| -> f64 { f[i].parse().expect("number") };
        // the CSV prints area with 6 decimals and ri with 8: within that rounding plus 1e-9 relative
        assert!((node.area_um2 - num(3)).abs() <= 5e-7 + 1e-9 * num(3), "{} area {} vs {}", f[0], node.area_um2, num(3));
        assert!((node.ri_mohm - num(4)).abs() <= 5e-9 + 1e-9 * num(4), "{} ri {} vs {}", f[0], node.ri_mohm, num(4));
        assert!((node.dist_um - num(5)).abs() <= 1e-3, "{} dist {} vs {}", f[0], node.dist_um, num(5));
        let gih = cell.membrane[ni].gbar(Channel::Ih).expect("Ih everywhere");
        assert!(rel_diff(gih, num(6)) < 1e-5, "{} gIh {gih} vs {}", f[0], num(6));
        let gca = cell.membrane[ni].gbar(Channel::CaLvast).unwrap_or(0.0);
        assert!((gca - num(7)).abs() <= 1e-9 + 1e-5 * num(7), "{} gCaLVA {gca} vs {}", f[0], num(7));
        rows += 1;
    }
    assert_eq!(rows, 642);
}

#[test]
fn rounded_geometry_file_gives_the_same_cell_within_its_rounding() {
    // l5pc-geometry.json rounds points to ~7 significant digits (spec §1.2): short segments move
    // by up to ~1e-5 relative; total area must still agree closely
    let rounded = Cable::new(&morphology::load(&shared("spec/l5pc-geometry.json")).expect("load"), &Discretisation::default()).expect("cable");
    let exact = Cable::new(&morphology::load(&shared("morphologies/cell1_neuron_geometry.json")).expect("load"), &Discretisation::default()).expect("cable");
    assert_eq!(rounded.nodes.len(), exact.nodes.len());
    assert!(rel_diff(rounded.total_area_um2(), 31192.169804) < 1e-7, "total area {}", rounded.total_area_um2());
    for (a, b) in rounded.nodes.iter().zip(&exact.nodes) {
        assert!(rel_diff(a.area_um2, b.area_um2) < 1e-4 || b.area_um2 == 0.0);
        assert!(rel_diff(a.ri_mohm, b.ri_mohm) < 1e-4);
    }
}

#[test]
fn passive_variant_zeroes_voltage_gated_channels_only() {
    let morph = morphology::load(&shared("spec/l5pc-geometry.json")).expect("load");
    let variant = Hay2011Variant { passive: true, keep_ih: true };
    let cell = hay2011::build_cell(&morph, &Discretisation::default(), variant).expect("cell");
    for m in cell.membrane.iter().filter(|m| m.cm_uf_per_cm2 > 0.0) {
        assert!(m.gbar(Channel::Ih).unwrap_or(0.0) > 0.0);
        assert_eq!(m.gbar(Channel::NaTs2T).unwrap_or(0.0), 0.0);
        assert!(m.g_pas_s_per_cm2 > 0.0);
    }
}
