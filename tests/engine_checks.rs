//! Spec §9 no-input rest table (celsius 6.3, v_init −76) and input validation of the replay path.

mod common;

use neurotwin::biophysics::recipe::hay2011::{build_cell, Hay2011Variant};
use neurotwin::biophysics::{IClamp, Recorder, SimError, SimSettings, Simulation, Stimulus};
use neurotwin::golden::case::Case;
use neurotwin::golden::replay::{replay, ReplayError};
use neurotwin::Discretisation;

fn morphology() -> neurotwin::Morphology {
    neurotwin::morphology::load_hay2011(&common::shared("morphologies/cell1.asc")).expect("load Hay morphology")
}

#[test]
fn rest_table_spec_s9() {
    let morph = morphology();
    let cell = build_cell(&morph, &Discretisation::default(), Hay2011Variant::default()).unwrap();
    let settings = SimSettings { dt_ms: 0.025, celsius: 6.3, v_init_mv: -76.0, ..SimSettings::default() };
    let mut sim = Simulation::new(&cell, settings, &Stimulus::default()).unwrap();
    let soma = cell.cable.locate(&morph, "soma[0]", 0.5).unwrap();
    let nexus = cell.cable.locate(&morph, "apic[50]", 0.9).unwrap();
    // (t ms, soma v, nexus v, soma cai)
    let table = [
        (0.0, -76.0000, -76.0000, 5.000000e-05),
        (1.0, -76.3689, -75.7424, 5.016941e-05),
        (50.0, -81.0875, -75.6573, 5.780355e-05),
        (100.0, -81.2362, -75.9449, 6.438909e-05),
        (200.0, -81.0086, -75.8007, 7.463734e-05),
        (500.0, -81.0614, -75.8196, 9.083781e-05),
        (999.9, -81.1143, -75.8340, 9.832180e-05),
    ];
    let mut rec = Recorder::default();
    for (t, v_soma, v_nexus, cai) in table {
        sim.run_until(t, &mut rec).unwrap();
        let (vs, vn, c) = (sim.node_voltages_mv()[soma], sim.node_voltages_mv()[nexus], sim.cai_mm()[soma]);
        println!("t {t:7.1}: soma {vs:.4} ({v_soma}), nexus {vn:.4} ({v_nexus}), cai {c:.6e} ({cai:e})");
        assert!((vs - v_soma).abs() < 1.5e-4, "soma v at {t} ms: {vs} vs {v_soma}");
        assert!((vn - v_nexus).abs() < 1.5e-4, "nexus v at {t} ms: {vn} vs {v_nexus}");
        assert!(common::rel_diff(c, cai) < 2e-6, "soma cai at {t} ms: {c} vs {cai}");
    }
}

fn golden(name: &str) -> Case {
    Case::load(&common::shared(&format!("reference/{name}.json"))).unwrap()
}

fn invalid(case: &Case) -> String {
    match replay(case, &morphology()) {
        Err(e @ ReplayError::Invalid(_)) => e.to_string(),
        Err(e) => panic!("expected an invalid-case error, got {e}"),
        Ok(_) => panic!("expected an error"),
    }
}

#[test]
fn bad_cases_are_rejected_before_simulating() {
    let base = golden("single_syn_inh");
    let mut c = base.clone();
    c.recording.sites[0].sec = "apic[999]".into();
    assert!(invalid(&c).contains("apic[999]"));
    let mut c = base.clone();
    c.synapses[0].x = 1.5;
    assert!(invalid(&c).contains("1.5"));
    let mut c = base.clone();
    c.stimuli.iclamps[0].dur_ms = -1.0;
    assert!(invalid(&c).contains("negative"));
    let mut c = base.clone();
    c.stimuli.iclamps[0].amp_na = f64::NAN;
    assert!(invalid(&c).contains("NaN"));
    let mut c = base.clone();
    c.sim.dt = Some(-0.025);
    assert!(invalid(&c).contains("dt"));
    let mut c = base.clone();
    c.sim.v_init = f64::INFINITY;
    assert!(invalid(&c).contains("v_init"));
    let mut c = base.clone();
    c.synapses[0].spikes_ms.push(-3.0);
    assert!(invalid(&c).contains("-3"));
    let mut c = base;
    c.recording.sites_dt_ms = 0.03;
    assert!(matches!(replay(&c, &morphology()), Err(ReplayError::Sim(SimError::Settings(_)))));
}

#[test]
fn blow_up_is_reported_with_location() {
    let morph = morphology();
    let cell = build_cell(&morph, &Discretisation::default(), Hay2011Variant::default()).unwrap();
    let soma = cell.cable.locate(&morph, "soma[0]", 0.5).unwrap();
    let stim = Stimulus { iclamps: vec![IClamp { node: soma, delay_ms: 0.0, dur_ms: 1.0, amp_na: 1e308 }], ..Stimulus::default() };
    let mut sim = Simulation::new(&cell, SimSettings::default(), &stim).unwrap();
    let err = sim.run_until(1.0, &mut Recorder::default()).unwrap_err();
    let text = err.to_string();
    println!("{text}");
    assert!(matches!(err, SimError::NonFinite { .. }));
    assert!(text.contains("t = "), "{text}");
}

#[test]
fn quirk1_silences_synapse_with_t0_event() {
    let mut c = golden("single_syn_1spike");
    let reference = replay(&c, &morphology()).unwrap();
    c.synapses[0].spikes_ms.insert(0, 0.0);
    let silenced = replay(&c, &morphology()).unwrap();
    let mut rest = c.clone();
    rest.synapses.clear();
    let no_syn = replay(&rest, &morphology()).unwrap();
    assert_eq!(silenced.soma_v, no_syn.soma_v);
    assert_ne!(silenced.soma_v, reference.soma_v);
}

/// The rate tables change the answers only at round-off-like levels: the same case with exact
/// rates (every exp each step) and with tables, compared step by step.
#[test]
fn rate_tables_agree_with_exact_rates() {
    use neurotwin::golden::replay::{cell_for, recorder_for, settings, stimulus};
    for (name, tstop) in [("step_current_1p9nA", 400.0), ("paper_input_nmda_seed1001", 600.0)] {
        let case = golden(name);
        let morph = morphology();
        let (s, cell) = (settings(&case).unwrap(), cell_for(&case, &morph).unwrap());
        let stim = stimulus(&case, &cell).unwrap();
        let mut runs = vec![];
        for exact in [true, false] {
            let mut rec = recorder_for(&case, &cell, s.dt_ms).unwrap();
            let mut sim = Simulation::new(&cell, s, &stim).unwrap();
            sim.mechanisms.set_exact_rates(exact);
            sim.run_until(tstop, &mut rec).unwrap();
            runs.push(rec);
        }
        let worst_v = runs[0].probes.iter().zip(&runs[1].probes).flat_map(|(a, b)| a.samples_mv.iter().zip(&b.samples_mv).map(|(x, y)| (x - y).abs())).fold(0.0, f64::max);
        let (sa, sb) = (runs[0].spike_times_ms(), runs[1].spike_times_ms());
        assert_eq!(sa.len(), sb.len(), "{name}: spike count");
        let worst_t = sa.iter().zip(sb).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        println!("{name}: tables vs exact rates over {tstop} ms: worst |Δv| {worst_v:.2e} mV, worst spike Δt {worst_t:.2e} ms, {} spikes", sa.len());
        assert!(worst_v < 0.05 && worst_t < 1e-3, "{name}: worst |Δv| {worst_v} mV, spike Δt {worst_t} ms");
    }
}

/// Every code path of the kernel this CPU has (portable, AVX2+FMA, AVX-512) gives NEURON's
/// answers within the golden tolerances, not only the fastest one the other tests use.
#[test]
fn every_instruction_set_matches_neuron() {
    use neurotwin::biophysics::InstructionSet;
    use neurotwin::golden::replay::{cell_for, compare, recorder_for, results_of, settings, stimulus};
    let morph = morphology();
    for name in ["step_current_1p9nA", "bac_both", "syn_cluster_burst"] {
        let case = golden(name);
        let reference = case.results.clone().unwrap();
        let (s, cell) = (settings(&case).unwrap(), cell_for(&case, &morph).unwrap());
        let stim = stimulus(&case, &cell).unwrap();
        for isa in InstructionSet::available() {
            let mut rec = recorder_for(&case, &cell, s.dt_ms).unwrap();
            let mut sim = Simulation::new(&cell, s, &stim).unwrap();
            assert_eq!(sim.mechanisms.set_instruction_set(isa), isa);
            sim.run_until(case.sim.tstop, &mut rec).unwrap();
            let c = compare(&results_of(&rec), &reference);
            println!("{name} on {isa:?}: spikes {}/{}, worst spike Δt {:.4} ms, soma RMSE {:.4} mV, worst site RMSE {:.4} mV", c.spikes_ours, c.spikes_reference, c.worst_spike_dt_ms, c.soma_rmse_mv, c.worst_site_rmse_mv());
            assert_eq!(c.spikes_ours, c.spikes_reference, "{name} on {isa:?}: spike count");
            assert!(c.worst_spike_dt_ms <= 0.05 && c.soma_rmse_mv <= 0.1 && c.worst_site_rmse_mv() <= 0.1, "{name} on {isa:?}");
        }
    }
}

/// A kernel pass given rows shorter than the cell (a caller's error) fills the right-hand side
/// with NaN instead of reading or writing out of bounds; the simulation then reports it.
#[test]
fn a_kernel_pass_with_rows_too_short_gives_nan() {
    use neurotwin::biophysics::mechanisms::Rows;
    let cell = build_cell(&morphology(), &Discretisation::default(), Hay2011Variant::default()).expect("cell");
    let settings = SimSettings { dt_ms: 0.025, celsius: 6.3, v_init_mv: -76.0, ..SimSettings::default() };
    let mut sim = Simulation::new(&cell, settings, &Stimulus::default()).expect("simulation");
    let n = sim.node_voltages_mv().len();
    let v = vec![-70.0; n / 2];
    let mut system = vec![[0.0; 2]; n];
    sim.mechanisms.update(0.025, true, Rows { v_mv: &v, syn_decay: [0.5; 6], nmda_scale: 1.0, any_synapse: false, system: &mut system });
    assert!(system.iter().flatten().all(|x| x.is_nan()), "every entry NaN");
    assert!(sim.step().is_ok(), "the simulation's own rows are untouched");
}
