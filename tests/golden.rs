//! Golden tests: replay every dt = 0.025 reference case of `../shared/reference` and compare with
//! NEURON 9.0.2 (same spike count, spike times and voltage RMSE within the README tolerances).

mod common;

use neurotwin::golden::case::Case;
use neurotwin::golden::replay::{compare, replay};

fn morphology() -> neurotwin::Morphology {
    neurotwin::morphology::load_hay2011(&common::shared("morphologies/cell1.asc")).expect("load Hay morphology")
}

/// Replay `name` and assert agreement; prints the metrics.
fn check_case(name: &str, spike_tol_ms: f64, rmse_tol_mv: f64) {
    let case = Case::load(&common::shared(&format!("reference/{name}.json"))).expect("load case");
    let reference = case.results.clone().expect("case has results");
    let start = std::time::Instant::now();
    let ours = replay(&case, &morphology()).expect("replay");
    let c = compare(&ours, &reference);
    println!(
        "{name}: spikes {}/{} (ours/NEURON), worst spike Δt {:.4} ms, soma RMSE {:.4} mV, worst site RMSE {:.4} mV, first soma divergence {:?}, {:.2} s",
        c.spikes_ours,
        c.spikes_reference,
        c.worst_spike_dt_ms,
        c.soma_rmse_mv,
        c.worst_site_rmse_mv(),
        c.first_soma_divergence,
        start.elapsed().as_secs_f64()
    );
    assert_eq!(ours.soma_v.len(), reference.soma_v.len(), "{name}: soma sample count");
    for (a, b) in ours.sites_v.iter().zip(&reference.sites_v) {
        assert_eq!(a.len(), b.len(), "{name}: site sample count");
    }
    assert_eq!(c.spikes_ours, c.spikes_reference, "{name}: spike count; ours {:?} NEURON {:?}", ours.spike_times_ms, reference.spike_times_ms);
    assert!(c.worst_spike_dt_ms <= spike_tol_ms, "{name}: worst spike-time difference {} ms", c.worst_spike_dt_ms);
    assert!(c.soma_rmse_mv <= rmse_tol_mv, "{name}: soma RMSE {} mV", c.soma_rmse_mv);
    for (k, r) in c.site_rmse_mv.iter().enumerate() {
        assert!(*r <= rmse_tol_mv, "{name}: site {k} ({}) RMSE {r} mV", case.recording.sites[k].label);
    }
}

macro_rules! golden_ad {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(#[test]
        fn $test() {
            check_case($name, 0.05, 0.1);
        })*
    };
}

golden_ad! {
    passive_no_ih => "passive_noIh",
    passive_with_ih => "passive_withIh",
    rest => "rest",
    step_current_0p8na => "step_current_0p8nA",
    step_current_1p9na => "step_current_1p9nA",
    bac_both => "bac_both",
    bac_dend_only => "bac_dend_only",
    bac_soma_only => "bac_soma_only",
    single_syn_1spike => "single_syn_1spike",
    single_syn_burst => "single_syn_burst",
    syn_cluster_burst => "syn_cluster_burst",
    single_syn_inh => "single_syn_inh",
}

#[test]
fn paper_input_nmda_seed1001() {
    check_case("paper_input_nmda_seed1001", 0.2, 0.5);
}

#[test]
fn paper_input_nmda_seed1003() {
    check_case("paper_input_nmda_seed1003", 0.2, 0.5);
}
