//! Headless UI tests with egui_kittest: clicks and state queries through the AccessKit tree, no
//! renderer (the 3-D paint callback is simply not run) and no display.

use super::fake_model::FakeLeakyCable;
use super::geometry::tests::toy_cell;
use super::model::SynapseKind;
use super::panels::{ControlPanel, SynapsePanel, TracePanel};
use super::placements::{ClickMode, Location, Placements};
use super::runner::{Runner, RunnerSetup, Snapshot};
use super::session::Session;
use super::shell::{AppOptions, NeuroTwinApp};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn fake_runner() -> Runner {
    let setup = RunnerSetup { soma_node: 0, window_ms: 100.0, seed: 3, ..RunnerSetup::default() };
    Runner::spawn(Box::new(FakeLeakyCable::chain(4)), setup).expect("spawn runner")
}

fn wait_for(runner: &Runner, what: impl Fn(&Snapshot) -> bool) -> Arc<Snapshot> {
    let start = Instant::now();
    loop {
        let s = runner.snapshot();
        if what(&s) {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "timed out waiting for the runner");
        std::thread::sleep(Duration::from_millis(5));
    }
}

struct ControlsState {
    panel: ControlPanel,
    runner: Runner,
}

#[test]
fn play_and_pause_buttons_drive_the_runner() {
    let state = ControlsState { panel: ControlPanel::default(), runner: fake_runner() };
    let mut h = Harness::new_ui_state(|ui, s: &mut ControlsState| s.panel.ui(ui, &mut s.runner), state);
    h.run_steps(2);
    h.get_by_label("Play").click();
    h.run_steps(2);
    wait_for(&h.state().runner, |s| s.playing && s.t_ms > 5.0);
    h.run_steps(2);
    h.get_by_label("Pause").click();
    h.run_steps(2);
    wait_for(&h.state().runner, |s| !s.playing);
    h.get_by_label("Step").click();
    h.run_steps(2);
    h.get_by_label("Reset").click();
    h.run_steps(2);
    wait_for(&h.state().runner, |s| s.t_ms == 0.0);
    assert!(h.state().runner.send_error.is_none());
}

#[test]
fn inject_pulse_depolarises_the_soma() {
    let state = ControlsState { panel: ControlPanel::default(), runner: fake_runner() };
    let mut h = Harness::new_ui_state(|ui, s: &mut ControlsState| s.panel.ui(ui, &mut s.runner), state);
    h.run_steps(2);
    h.get_by_label("Inject pulse now").click();
    h.run_steps(2);
    h.get_by_label("Step").click();
    h.run_steps(2);
    let s = wait_for(&h.state().runner, |s| s.t_ms >= 1.0 - 1e-9);
    let peak = s.soma_v_mv.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
    assert!(peak > -70.0, "soma peak {peak} mV");
}

struct SynState {
    panel: SynapsePanel,
    placements: Placements,
    runner: Runner,
}

#[test]
fn mode_toggle_place_select_and_remove_a_synapse() {
    let (morph, cable) = toy_cell();
    let state = SynState { panel: SynapsePanel::default(), placements: Placements::default(), runner: fake_runner() };
    let mut h = Harness::new_ui_state(|ui, s: &mut SynState| s.panel.ui(ui, &mut s.placements, &mut s.runner), state);
    h.run_steps(1);
    h.get_by_label("+ Inh").click();
    h.run_steps(1);
    assert_eq!(h.state().placements.mode, ClickMode::Inhibitory);

    // A click on the cell (what the 3-D view does after picking).
    let at = Location::new(&morph, &cable, 1, 0.5).expect("location");
    {
        let s = h.state_mut();
        s.placements.click(&mut s.runner, at.clone());
    }
    h.run_steps(1);
    assert_eq!(h.state().placements.synapses.len(), 1);
    assert_eq!(h.state().placements.synapses[0].kind, SynapseKind::Inhibitory);
    assert!(h.query_by_label_contains("dend[0](0.50)").is_some());
    h.get_by_label("Fire now").click();
    h.run_steps(1);
    h.get_by_label("Remove").click();
    h.run_steps(1);
    assert!(h.state().placements.synapses.is_empty());

    // Record mode adds a site with a colour.
    h.get_by_label("Record").click();
    h.run_steps(1);
    {
        let s = h.state_mut();
        s.placements.click(&mut s.runner, at);
    }
    h.run_steps(1);
    assert_eq!(h.state().placements.sites.len(), 1);
    assert!(h.query_by_label_contains("rec dend[0]").is_some());
}

#[test]
fn trace_panel_draws_a_snapshot() {
    let snap = Snapshot {
        t_ms: 50.0,
        soma_v_mv: (0..500).map(|i| [f64::from(i) * 0.1, -75.0]).collect(),
        ..Snapshot::default()
    };
    let mut panel = TracePanel::default();
    let placements = Placements::default();
    let mut h = Harness::new_ui(|ui| panel.ui(ui, &snap, &placements));
    h.run_steps(2);
    h.get_by_label("follow");
}

#[test]
fn app_without_a_morphology_says_so() {
    let options = AppOptions { morphology: None, fallbacks: vec!["/nonexistent/cell.json".into()], model_factory: None };
    let mut app = NeuroTwinApp::new(options);
    assert!(app.session.is_none());
    let mut h = Harness::builder().with_size([1200.0, 800.0]).build_ui(|ui| app.app_ui(ui));
    h.run_steps(2);
    h.get_by_label("No morphology loaded");
    assert!(h.query_by_label_contains("/nonexistent/cell.json").is_some());
}

#[test]
fn app_with_a_bad_file_shows_the_error() {
    let options = AppOptions { morphology: Some("/nonexistent/x.json".into()), ..AppOptions::default() };
    let app = NeuroTwinApp::new(options);
    let err = app.load_error.as_deref().unwrap_or_default();
    assert!(err.contains("/nonexistent/x.json"), "{err}");
}

#[test]
fn whole_app_lays_out_with_a_session() {
    let (morph, _) = toy_cell();
    let mut app = NeuroTwinApp::new(AppOptions::default());
    let factory: super::model::ModelFactory = Box::new(|_, cable| Ok(Box::new(FakeLeakyCable::new(cable)) as Box<_>));
    app.session = Some(Session::from_morphology(morph, Some(&factory), 1).expect("session"));
    app.load_error = None;
    let mut h = Harness::builder().with_size([1400.0, 900.0]).build_ui(|ui| app.app_ui(ui));
    h.run_steps(3);
    h.get_by_label("Play");
    h.get_by_label("Fit to cell");
    h.get_by_label("Colour by membrane potential");
    assert!(h.query_by_label_contains("2 sections").is_some());
}
