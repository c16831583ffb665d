//! The procedural L5 pyramidal cell: deterministic, calibrated, round-trips through SWC, and the
//! shipped `morphologies/l5pc-synthetic.swc` is the generator's output for the default seed.

use neurotwin::morphology::info::MorphInfo;
use neurotwin::morphology::synth::DEFAULT_SEED;
use neurotwin::morphology::{parse_swc, synthesize_l5pc, write_swc};
use neurotwin::{Cable, Discretisation};
use std::path::Path;

#[test]
fn same_seed_same_swc_text() {
    for seed in [0, 4, 12345] {
        let a = write_swc(&synthesize_l5pc(seed).unwrap().morphology);
        let b = write_swc(&synthesize_l5pc(seed).unwrap().morphology);
        assert_eq!(a, b, "seed {seed}");
    }
    assert_ne!(write_swc(&synthesize_l5pc(1).unwrap().morphology), write_swc(&synthesize_l5pc(2).unwrap().morphology));
}

#[test]
fn calibration_holds_for_many_seeds() {
    for seed in 0..12u64 {
        let cell = synthesize_l5pc(seed).unwrap();
        let m = &cell.morphology;
        let cable = Cable::new(m, &Discretisation::default()).unwrap();
        let info = MorphInfo::new(m, &cable);
        let kind = |k: &str| info.by_type.iter().find(|t| t.kind == k).unwrap_or_else(|| panic!("seed {seed}: no {k}"));
        let (dend, apic, soma) = (kind("dend"), kind("apic"), kind("soma"));
        let ctx = format!("seed {seed}:\n{}", info.table());
        assert!((6..=9).contains(&dend.stems), "basal stems; {ctx}");
        assert!((4000.0..=6000.0).contains(&dend.total_length_um), "basal length; {ctx}");
        assert_eq!(apic.stems, 1, "{ctx}");
        assert!(apic.max_reach_um >= 1000.0, "apical reach; {ctx}");
        assert!((10..=20).contains(&cell.obliques), "obliques {}; {ctx}", cell.obliques);
        // the obliques (and the tuft's branches) leave the main path: the figure is general
        let main = info.apical_main_path.as_ref().unwrap();
        assert!(main.side_branches >= cell.obliques && main.side_branches <= cell.obliques + 12, "{ctx}");
        assert!((500..=800).contains(&cable.n_compartments()), "compartments; {ctx}");
        assert!((15.0..=25.0).contains(&soma.total_length_um), "soma ~20 µm; {ctx}");
        // tapering: a flared trunk (the Hay cell's starts at 10.8 µm and is ~3 µm by 100 µm), basal
        // stems in the Hay cell's 0.88-2.04 µm, thin tips
        let trunk = &m.sections.iter().find(|s| s.name == "apic[0]").unwrap().points;
        let trunk_d = trunk[0].diam_um;
        assert!((9.0..=12.0).contains(&trunk_d), "trunk diameter {trunk_d}; {ctx}");
        assert!(trunk.last().unwrap().diam_um < 0.6 * trunk_d, "the flare narrows within the first section; {ctx}");
        for s in m.sections.iter().filter(|s| s.parent == Some(0) && s.name.starts_with("dend")) {
            assert!((0.8..=2.1).contains(&s.points[0].diam_um), "{} starts at {}", s.name, s.points[0].diam_um);
        }
        let tip_diams: Vec<f64> = m.sections.iter().filter(|s| s.kind != neurotwin::morphology::SectionKind::Soma).map(|s| s.points.last().unwrap().diam_um).collect();
        assert!(tip_diams.iter().all(|&d| d >= 0.29), "{ctx}");
    }
}

#[test]
fn synthetic_cells_round_trip_through_swc() {
    for seed in [1, 4, 9] {
        let m = synthesize_l5pc(seed).unwrap().morphology;
        let back = parse_swc(&write_swc(&m), "synth.swc").unwrap();
        assert_eq!(m.sections, back.sections, "seed {seed}");
    }
}

#[test]
fn shipped_cell_is_the_generator_output_for_the_default_seed() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("morphologies/l5pc-synthetic.swc");
    let shipped = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let generated = write_swc(&synthesize_l5pc(DEFAULT_SEED).unwrap().morphology);
    assert!(
        shipped == generated,
        "morphologies/l5pc-synthetic.swc differs from the generator (seed {DEFAULT_SEED}); regenerate it with \
         `cargo run -- morph synth --seed {DEFAULT_SEED} --out morphologies/l5pc-synthetic.swc` if the change is intended"
    );
}
