//! The built-in synthetic cell (`morphologies/l5pc-synthetic.swc`) against the Hay cell
//! (`../shared/morphologies/cell1.asc`), both under the Hay 2011 recipe and the Hay protocols
//! (34 °C, v_init −80 mV, dt 0.025 ms): resting potential, the f–I curve of 2-s somatic steps,
//! BAC firing and the attenuation of an EPSP along the apical trunk. The tolerances are the
//! calibration targets of `morphologies/README.md`; the firing rate under the paper's protocol
//! is measured with `neurotwin dataset` (see that README), too slow for a test.
//!
//! `NEUROTWIN_CALIBRATION_CELL=FILE` compares another candidate cell instead of the shipped one
//! (used while calibrating the generator). Run with `--nocapture` to see the table.

mod common;

use neurotwin::app::demos::sites::{apical_nexus, dist_um, on_path_at_distance};
use neurotwin::golden::case::{Case, EpspEntry, IClampEntry, Location, Results, Site};
use neurotwin::golden::replay::replay_many;
use neurotwin::morphology::{load_hay2011, Cable, Discretisation, Morphology};
use std::path::PathBuf;

const FI_AMPS_NA: [f64; 10] = [0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0];
const STEP_DELAY_MS: f64 = 300.0;
const STEP_DUR_MS: f64 = 2000.0;
/// EPSP probe distances along the apical trunk (µm from the soma).
const EPSP_DIST_UM: [f64; 3] = [200.0, 400.0, 600.0];

fn hay_cell() -> Morphology {
    load_hay2011(&common::shared("morphologies/cell1.asc")).expect("the Hay cell")
}

fn built_in_cell() -> (Morphology, String) {
    let path = std::env::var("NEUROTWIN_CALIBRATION_CELL")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("morphologies/l5pc-synthetic.swc"));
    (load_hay2011(&path).expect("the built-in cell"), path.display().to_string())
}

/// A case with no stimulus: the Hay protocols' settings taken from a NEURON reference case.
fn blank_case(name: &str, tstop_ms: f64, record_dt_ms: f64) -> Case {
    let text = std::fs::read_to_string(common::shared("reference/bac_soma_only.json")).expect("reference case");
    let mut case: Case = serde_json::from_str(&text).expect("case JSON");
    case.name = name.into();
    case.sim.tstop = tstop_ms;
    case.sim.dt = Some(0.025);
    case.stimuli.iclamps.clear();
    case.stimuli.epsp_currents.clear();
    case.synapses.clear();
    case.recording.sites.clear();
    case.recording.soma_dt_ms = record_dt_ms;
    case.recording.sites_dt_ms = record_dt_ms;
    case.results = None;
    case.timing = None;
    case
}

fn soma_step(amp_na: f64, delay_ms: f64, dur_ms: f64) -> IClampEntry {
    IClampEntry { sec: "soma[0]".into(), x: 0.5, delay_ms, dur_ms, amp_na }
}

fn epsc(loc: &Location, onset_ms: f64, imax_na: f64) -> EpspEntry {
    EpspEntry { sec: loc.sec.clone(), x: loc.x, onset_ms, tau0_ms: 0.5, tau1_ms: 5.0, imax_na, shape: None }
}

fn site(loc: &Location) -> Site {
    Site { sec: loc.sec.clone(), x: loc.x, dist_from_soma_um: None, label: format!("{}({})", loc.sec, loc.x) }
}

/// The point on the apical trunk (the path to the nexus) at `dist` µm from the soma.
fn trunk_at(morph: &Morphology, cable: &Cable, dist: f64) -> (Location, f64) {
    let nexus = apical_nexus(morph).expect("an apical nexus");
    let (si, x) = on_path_at_distance(morph, cable, nexus, dist);
    (Location { sec: morph.sections[si].name.clone(), x }, dist_um(cable, (si, x)))
}

struct Figures {
    rest_mv: f64,
    fi_hz: Vec<f64>,
    /// Somatic spikes in the BAC window: pulse alone, EPSC alone, both.
    bac_spikes: [usize; 3],
    /// Longest stretch (ms) the BAC site spends above −30 mV: pulse alone, both.
    bac_plateau_ms: [f64; 2],
    bac_site: (Location, f64),
    /// Soma / dendrite peak depolarisation ratio of a small EPSC at each of EPSP_DIST_UM.
    epsp_ratio: Vec<f64>,
}

fn longest_above(v: &[f64], dt_ms: f64, threshold_mv: f64) -> f64 {
    let (mut best, mut run) = (0usize, 0usize);
    for &x in v {
        run = if x > threshold_mv { run + 1 } else { 0 };
        best = best.max(run);
    }
    best as f64 * dt_ms
}

fn peak_depolarisation(v: &[f64], from: usize) -> f64 {
    let base = v[from];
    v[from..].iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x)) - base
}

fn measure(morph: &Morphology) -> Figures {
    let cable = Cable::new(morph, &Discretisation::default()).expect("cable");
    let mut cases = Vec::new();
    // 0: rest
    cases.push(blank_case("rest", 1000.0, 1.0));
    // 1..=10: f–I
    for &a in &FI_AMPS_NA {
        let mut c = blank_case("fi", STEP_DELAY_MS + STEP_DUR_MS, 1.0);
        c.stimuli.iclamps.push(soma_step(a, STEP_DELAY_MS, STEP_DUR_MS));
        cases.push(c);
    }
    // 11..=13: BAC (Hay et al. 2011: 1.9 nA for 5 ms at 295 ms; EPSC 0.5 nA at 300 ms ~620 µm up the trunk)
    let bac_site = trunk_at(morph, &cable, 620.0);
    for (pulse, dend) in [(true, false), (false, true), (true, true)] {
        let mut c = blank_case("bac", 600.0, 0.1);
        if pulse {
            c.stimuli.iclamps.push(soma_step(1.9, 295.0, 5.0));
        }
        if dend {
            c.stimuli.epsp_currents.push(epsc(&bac_site.0, 300.0, 0.5));
        }
        c.recording.sites.push(site(&bac_site.0));
        cases.push(c);
    }
    // 14..: EPSP attenuation, 0.05 nA EPSC at each distance
    for &d in &EPSP_DIST_UM {
        let (loc, _) = trunk_at(morph, &cable, d);
        let mut c = blank_case("epsp", 700.0, 0.1);
        c.stimuli.epsp_currents.push(epsc(&loc, 600.0, 0.05));
        c.recording.sites.push(site(&loc));
        cases.push(c);
    }
    let results: Vec<Results> = replay_many(&cases, morph).into_iter().map(|r| r.expect("simulation")).collect();
    let rest_mv = *results[0].soma_v.last().expect("samples");
    let fi_hz = results[1..=10]
        .iter()
        .map(|r| r.spike_times_ms.iter().filter(|&&t| (STEP_DELAY_MS..STEP_DELAY_MS + STEP_DUR_MS).contains(&t)).count() as f64 / (STEP_DUR_MS / 1000.0))
        .collect();
    let bac_window = |r: &Results| r.spike_times_ms.iter().filter(|&&t| (290.0..400.0).contains(&t)).count();
    let plateau = |r: &Results| longest_above(&r.sites_v[0][2900..], 0.1, -30.0);
    let bac_spikes = [bac_window(&results[11]), bac_window(&results[12]), bac_window(&results[13])];
    let bac_plateau_ms = [plateau(&results[11]), plateau(&results[13])];
    let from = 5990; // 599 ms at 0.1 ms
    let epsp_ratio = results[14..]
        .iter()
        .map(|r| peak_depolarisation(&r.soma_v, from) / peak_depolarisation(&r.sites_v[0], from))
        .collect();
    Figures { rest_mv, fi_hz, bac_spikes, bac_plateau_ms, bac_site, epsp_ratio }
}

#[test]
fn built_in_cell_matches_the_hay_cell_at_rest_under_steps_bac_and_epsps() {
    let hay = measure(&hay_cell());
    let (built_in, path) = built_in_cell();
    let syn = measure(&built_in);
    eprintln!("built-in cell: {path}");
    eprintln!("| | built-in | Hay |\n|---|---|---|");
    eprintln!("| resting potential (mV) | {:.2} | {:.2} |", syn.rest_mv, hay.rest_mv);
    for (k, a) in FI_AMPS_NA.iter().enumerate() {
        eprintln!("| f at {a:.1} nA (Hz) | {:.1} | {:.1} |", syn.fi_hz[k], hay.fi_hz[k]);
    }
    for (name, f) in [("built-in", &syn), ("Hay", &hay)] {
        eprintln!(
            "BAC {name}: site {}({:.3}) at {:.0} µm; spikes pulse / EPSC / both = {:?}; site above −30 mV: pulse {:.1} ms, both {:.1} ms",
            f.bac_site.0.sec, f.bac_site.0.x, f.bac_site.1, f.bac_spikes, f.bac_plateau_ms[0], f.bac_plateau_ms[1]
        );
    }
    for (k, d) in EPSP_DIST_UM.iter().enumerate() {
        eprintln!("| EPSP soma/dendrite peak ratio at {d:.0} µm | {:.3} | {:.3} |", syn.epsp_ratio[k], hay.epsp_ratio[k]);
    }

    // the built-in cell rests ~1.1 mV above the Hay cell (more apical membrane with Ih beyond
    // the nexus); the documented calibration target is ±1.5 mV
    assert!((syn.rest_mv - hay.rest_mv).abs() <= 1.5, "resting potential {:.2} vs Hay {:.2} mV", syn.rest_mv, hay.rest_mv);
    for (k, a) in FI_AMPS_NA.iter().enumerate() {
        let (s, h) = (syn.fi_hz[k], hay.fi_hz[k]);
        assert!((s - h).abs() <= 0.2 * h, "f–I at {a} nA: built-in {s} Hz, Hay {h} Hz (±20 %)");
    }
    // BAC: in this biophysics variant (5b) NEURON's reference gives a burst with a Ca spike for the
    // pulse alone, nothing for the EPSC alone, a burst for both (reference README); both cells
    // must show NEURON's pattern, with nexus plateaus of similar length
    let reference_count = |name: &str| {
        let text = std::fs::read_to_string(common::shared(&format!("reference/{name}.json"))).expect("reference case");
        let case: Case = serde_json::from_str(&text).expect("case JSON");
        case.results.expect("results").spike_times_ms.len()
    };
    let neuron = [reference_count("bac_soma_only"), reference_count("bac_dend_only"), reference_count("bac_both")];
    assert_eq!(hay.bac_spikes, neuron, "the Hay cell reproduces NEURON's BAC spike counts");
    // the built-in cell: the same pattern (a burst for the pulse, nothing for the EPSC alone, a
    // burst for both); its bursts may hold one spike fewer than the Hay cell's (2 vs 3, documented)
    assert_eq!(syn.bac_spikes[1], neuron[1], "the EPSC alone: built-in {:?}, NEURON {neuron:?}", syn.bac_spikes);
    for k in [0, 2] {
        let (s, n) = (syn.bac_spikes[k], neuron[k]);
        assert!(s >= 2 && s.abs_diff(n) <= 1, "BAC burst: built-in {:?}, NEURON {neuron:?}", syn.bac_spikes);
    }
    for k in 0..2 {
        let (s, h) = (syn.bac_plateau_ms[k], hay.bac_plateau_ms[k]);
        assert!(h >= 10.0, "the Hay cell's nexus plateau {h} ms");
        assert!((s - h).abs() <= 0.3 * h, "BAC plateau at the trunk site: built-in {s:.1} ms, Hay {h:.1} ms (±30 %)");
    }
    for (k, d) in EPSP_DIST_UM.iter().enumerate() {
        let (s, h) = (syn.epsp_ratio[k], hay.epsp_ratio[k]);
        assert!((s - h).abs() <= 0.25 * h, "EPSP attenuation at {d} µm: built-in {s:.3}, Hay {h:.3} (±25 %)");
    }
}
