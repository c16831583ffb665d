//! Each demo produces its phenomenon on the built-in cell: the demo's scenario is applied to a
//! session running the real engine (Hay 2011, the paper's settings) and stepped through the
//! runner's worker, exactly as the app does, and the published traces are measured.

use super::{Demo, DemoSetup};
use crate::app::live::engine_model;
use crate::app::panels::ControlPanel;
use crate::app::live::runner::{Command, Snapshot};
use crate::app::session::{MorphologySource, Session};
use crate::morphology::Morphology;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The Hay cell of the paper, relative to the repository root.
pub(crate) const HAY_CELL: &str = "../shared/morphologies/cell1.asc";

pub(crate) fn built_in_cell() -> Morphology {
    MorphologySource::EmbeddedSynthetic.load().expect("built-in cell")
}

/// A demo's run: the snapshot after `t_stop_ms`, and the recording sites' traces in the
/// scenario's order.
pub(crate) struct Run {
    pub snap: Arc<Snapshot>,
    pub sites: Vec<Vec<[f64; 2]>>,
    pub controls: ControlPanel,
}

/// Apply `setup` to a fresh session on `morph` running the engine, reset, step `t_stop_ms`.
pub(crate) fn run(morph: Morphology, setup: &DemoSetup, t_stop_ms: f64) -> Run {
    let factory = engine_model::factory();
    let mut s = Session::from_morphology(morph, Some(&factory), 1).expect("session");
    let mut controls = ControlPanel::default();
    setup.scenario.apply(&s.morph, &s.cable, &mut controls, &mut s.placements, &mut s.runner).expect("the demo applies");
    s.runner.send(Command::Reset);
    s.runner.send(Command::StepMs(t_stop_ms));
    let start = Instant::now();
    let snap = loop {
        let snap = s.runner.snapshot();
        if snap.t_ms >= t_stop_ms - 1e-6 && !snap.playing {
            break snap;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "timed out at t = {} ms, error {:?}", snap.t_ms, snap.error);
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(snap.error.is_none(), "{:?}", snap.error);
    let sites = s
        .placements
        .sites
        .iter()
        .map(|site| snap.sites.iter().find(|(k, _)| *k == site.key).map(|(_, t)| t.clone()).expect("site trace"))
        .collect();
    Run { snap, sites, controls }
}

/// Value of a trace at the sample nearest `t_ms`.
fn at(trace: &[[f64; 2]], t_ms: f64) -> f64 {
    trace.iter().min_by(|a, b| (a[0] - t_ms).abs().total_cmp(&(b[0] - t_ms).abs())).map_or(f64::NAN, |p| p[1])
}

/// (peak above the value at `from_ms`, time of the peak) over [from_ms, to_ms].
fn peak(trace: &[[f64; 2]], from_ms: f64, to_ms: f64) -> (f64, f64) {
    let base = at(trace, from_ms);
    trace
        .iter()
        .filter(|p| p[0] >= from_ms && p[0] <= to_ms)
        .map(|p| (p[1] - base, p[0]))
        .fold((f64::MIN, f64::NAN), |best, x| if x.0 > best.0 { x } else { best })
}

/// Longest stretch (ms) the trace stays above `threshold_mv`.
fn longest_above(trace: &[[f64; 2]], threshold_mv: f64) -> f64 {
    let (mut best, mut start) = (0.0f64, None);
    for p in trace {
        match (p[1] > threshold_mv, start) {
            (true, None) => start = Some(p[0]),
            (false, Some(t0)) => {
                best = best.max(p[0] - t0);
                start = None;
            }
            _ => {}
        }
    }
    if let (Some(t0), Some(last)) = (start, trace.last()) {
        best = best.max(last[0] - t0);
    }
    best
}

fn spikes_in(snap: &Snapshot, from_ms: f64, to_ms: f64) -> usize {
    snap.soma_spikes_ms.iter().filter(|&&t| t >= from_ms && t < to_ms).count()
}

fn cable(morph: &Morphology) -> crate::Cable {
    crate::Cable::new(morph, &crate::Discretisation::default()).expect("cable")
}

/// The control of a demo: the same set-up without its synapses.
fn without_synapses(setup: &DemoSetup) -> DemoSetup {
    let mut control = setup.clone();
    control.scenario.synapses.clear();
    control
}

#[test]
fn cli_names_round_trip_and_unknown_names_say_which_exist() {
    for d in Demo::ALL {
        assert_eq!(Demo::from_cli_name(d.cli_name()), Ok(d));
        assert!(!d.title().is_empty() && d.explanation().len() > 100, "{d:?} needs a text");
    }
    let err = Demo::from_cli_name("nope").expect_err("unknown");
    assert!(err.contains("nmda") && err.contains("veto"), "{err}");
}

#[test]
fn epsp_demo_shrinks_and_slows_toward_the_soma() {
    let morph = built_in_cell();
    let setup = Demo::EpspAttenuation.setup(&morph, &cable(&morph)).expect("setup");
    assert_eq!(setup.scenario.synapses.len(), 1, "one synapse");
    assert_eq!(setup.scenario.recording_sites.len(), 3, "synapse, midway, soma");
    let with = run(morph.clone(), &setup, 200.0);
    let control = run(morph, &without_synapses(&setup), 200.0);
    let t0 = super::EPSP_INPUT_MS;
    // the cell relaxes from v_init towards rest: measure the EPSP against the undriven run
    let epsp: Vec<(f64, f64)> = (0..3)
        .map(|i| {
            let d: Vec<[f64; 2]> = with.sites[i].iter().zip(&control.sites[i]).map(|(a, b)| [a[0], a[1] - b[1]]).collect();
            let (amp_mv, t_ms) = peak(&d, t0, t0 + 100.0);
            (amp_mv, t_ms - t0)
        })
        .collect();
    eprintln!("EPSP (mV, ms after input) at synapse, midway, soma: {epsp:?}");
    let [(syn_mv, syn_ms), (mid_mv, mid_ms), (soma_mv, soma_ms)] = [epsp[0], epsp[1], epsp[2]];
    assert!(syn_mv > 10.0, "a local EPSP of {syn_mv} mV");
    assert!(mid_mv < 0.5 * syn_mv && soma_mv < 0.5 * mid_mv && soma_mv > 0.02, "{epsp:?}");
    assert!(syn_ms < mid_ms && mid_ms < soma_ms, "the peak comes later toward the soma: {epsp:?}");
}

#[test]
fn nmda_demo_fires_a_local_plateau_that_needs_nmda() {
    let morph = built_in_cell();
    let setup = Demo::NmdaSpike.setup(&morph, &cable(&morph)).expect("setup");
    assert_eq!(setup.scenario.synapses.len(), super::NMDA_CLUSTER_SIZE);
    let r = run(morph.clone(), &setup, 200.0);
    let branch = &r.sites[0];
    let plateau_ms = longest_above(branch, -30.0);
    let peak_mv = branch.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
    let mut ampa = setup.clone();
    ampa.scenario.nmda = false;
    let ampa_ms = longest_above(&run(morph, &ampa, 200.0).sites[0], -30.0);
    eprintln!("NMDA demo: branch above -30 mV for {plateau_ms:.1} ms (peak {peak_mv:.1} mV); AMPA only: {ampa_ms:.1} ms");
    assert!(plateau_ms >= 25.0, "plateau {plateau_ms} ms");
    assert!(ampa_ms < 10.0, "without NMDA the same input gives no plateau: {ampa_ms} ms");
    assert!(r.snap.soma_spikes_ms.is_empty(), "a local event: {:?}", r.snap.soma_spikes_ms);
}

/// Somatic spikes and the nexus plateau (ms above −30 mV) of the pairing episode.
fn bac_episode(r: &Run) -> (usize, f64) {
    let t0 = super::BAC_PULSE_MS - 10.0;
    let nexus: Vec<[f64; 2]> = r.sites[0].iter().filter(|p| p[0] >= t0).copied().collect();
    (spikes_in(&r.snap, t0, t0 + 100.0), longest_above(&nexus, -30.0))
}

fn check_bac(morph: Morphology, pulse_alone_spikes: usize) {
    let setup = Demo::BacFiring.setup(&morph, &cable(&morph)).expect("setup");
    let paired = run(morph.clone(), &setup, 450.0);
    let alone = run(morph, &without_synapses(&setup), 450.0);
    let (paired_spikes, paired_ms) = bac_episode(&paired);
    let (alone_spikes, alone_ms) = bac_episode(&alone);
    eprintln!(
        "BAC: paired {paired_spikes} spikes {:?}, nexus plateau {paired_ms:.1} ms; pulse alone {alone_spikes} spikes, plateau {alone_ms:.1} ms",
        paired.snap.soma_spikes_ms
    );
    assert_eq!(spikes_in(&paired.snap, 0.0, super::BAC_PULSE_MS), 0, "the distal input alone stays subthreshold");
    assert!(paired_spikes >= 2, "a burst: {:?}", paired.snap.soma_spikes_ms);
    assert!(paired_ms >= 15.0, "a dendritic Ca plateau: {paired_ms} ms");
    assert_eq!(alone_spikes, pulse_alone_spikes, "pulse alone: {:?}", alone.snap.soma_spikes_ms);
    assert!(alone_ms < 2.0, "no plateau with the pulse alone: {alone_ms} ms");
}

#[test]
fn bac_demo_on_the_built_in_cell_turns_one_spike_into_a_burst() {
    // the calibrated cell has the Hay cell's regime: the pulse alone fires one AP (at 1.35 nA, see `bac_parameters`)
    check_bac(built_in_cell(), 1);
}

#[test]
fn bac_demo_on_the_hay_cell_turns_one_spike_into_a_burst() {
    let path = PathBuf::from(HAY_CELL);
    assert!(path.is_file(), "the Hay cell is needed for this test and was not found at {} (relative to the repository root)", path.display());
    check_bac(MorphologySource::File(path).load().expect("the Hay cell"), 1);
}

fn check_veto(morph: Morphology) {
    let setup = Demo::InhibitoryVeto.setup(&morph, &cable(&morph)).expect("setup");
    let r = run(morph, &setup, 450.0);
    let [with_inh, without] = super::VETO_EXC_MS;
    eprintln!("veto: spikes {:?}", r.snap.soma_spikes_ms);
    assert_eq!(spikes_in(&r.snap, with_inh - 10.0, without - 10.0), 0, "inhibition vetoes the first volley");
    assert!(spikes_in(&r.snap, without, without + 50.0) >= 1, "the same volley without inhibition fires the cell");
}

#[test]
fn veto_demo_inhibition_abolishes_the_spike() {
    check_veto(built_in_cell());
}

#[test]
fn veto_demo_on_the_hay_cell_inhibition_abolishes_the_spike() {
    let path = PathBuf::from(HAY_CELL);
    assert!(path.is_file(), "the Hay cell is needed for this test and was not found at {} (relative to the repository root)", path.display());
    check_veto(MorphologySource::File(path).load().expect("the Hay cell"));
}

#[test]
fn background_demos_set_up_the_protocol_the_twin_and_the_nmda_switch() {
    let morph = built_in_cell();
    let c = cable(&morph);
    for (demo, nmda) in [(Demo::BackgroundTwin, true), (Demo::AmpaOnly, false)] {
        let setup = demo.setup(&morph, &c).expect("setup");
        assert!(setup.twin && setup.stop_ms.is_none());
        assert!(setup.scenario.synapses.is_empty());
        assert_eq!(setup.scenario.nmda, nmda);
        let r = run(morph.clone(), &setup, 100.0);
        assert!(r.snap.background_on && r.controls.background_on);
        assert_eq!(r.controls.nmda, nmda);
        assert!(r.snap.raster.len() > 100, "the protocol drives the cell: {} input spikes", r.snap.raster.len());
    }
}

#[test]
fn short_demos_play_in_slow_motion_for_at_least_ten_seconds() {
    let morph = built_in_cell();
    let c = cable(&morph);
    for demo in [Demo::EpspAttenuation, Demo::NmdaSpike, Demo::BacFiring, Demo::InhibitoryVeto] {
        let setup = demo.setup(&morph, &c).expect("setup");
        let stop_ms = setup.stop_ms.expect("a short demo pauses at its end");
        let wall_s = stop_ms / setup.scenario.real_time_factor / 1000.0;
        assert!(wall_s >= 10.0, "{demo:?} takes {wall_s:.1} s on screen");
        // the speed control can show that speed (the scenario does not clamp it away)
        assert!(setup.scenario.real_time_factor.log10() >= crate::app::panels::controls::SPEED_LOG_MIN, "{demo:?}");
    }
}

