//! Headless UI tests with egui_kittest: clicks and state queries through the AccessKit tree, no
//! renderer (the 3-D paint callback is simply not run) and no display.

use crate::app::live::fake_model::FakeLeakyCable;
use crate::app::view::geometry::tests::toy_cell;
use crate::app::live::model::SynapseKind;
use crate::app::panels::{ControlPanel, SynapsePanel, TracePanel};
use crate::app::live::placements::{ClickMode, Location, Placements};
use crate::app::live::runner::{Runner, RunnerSetup, Snapshot};
use crate::app::session::{MorphologySource, Session};
use super::{AppOptions, NeuroTwinApp};
use egui_kittest::kittest::Queryable;
use eframe::egui;
use egui_kittest::Harness;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn fake_runner() -> Runner {
    let setup = RunnerSetup { soma_node: 0, window_ms: 100.0, ..RunnerSetup::default() };
    let runner = Runner::spawn(Box::new(FakeLeakyCable::chain(4)), setup).expect("spawn runner");
    first_snapshot(&runner);
    runner
}

/// The panels lay themselves out from the worker's snapshots, which arrive asynchronously: wait
/// for the worker's first one so that no layout change lands between finding a widget and
/// clicking it.
fn first_snapshot(runner: &Runner) {
    wait_for(runner, |s| s.seq >= 1);
}

fn wait_for(runner: &Runner, what: impl Fn(&Snapshot) -> bool) -> Arc<Snapshot> {
    let start = Instant::now();
    loop {
        let s = runner.snapshot();
        if what(&s) {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "timed out waiting for the runner (last snapshot: t = {} ms, playing {}, error {:?})", s.t_ms, s.playing, s.error);
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
    let seq0 = h.state().runner.snapshot().seq;
    h.get_by_label("Inject pulse now").click();
    h.run_steps(2);
    // the worker publishes asynchronously and the panel's layout follows its snapshots: let the
    // snapshot that follows the pulse arrive and the layout settle before clicking the next button
    wait_for(&h.state().runner, |s| s.seq > seq0 + 1);
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
    let mut h = Harness::new_ui(|ui| panel.ui(ui, &snap, None, None, &placements));
    h.run_steps(2);
    h.get_by_label("follow");
}

#[test]
fn app_without_a_morphology_says_so() {
    let mut app = NeuroTwinApp::new(AppOptions::default());
    assert!(app.session.is_none());
    let mut h = Harness::builder().with_size([1200.0, 800.0]).build_ui(|ui| app.app_ui(ui));
    h.run_steps(2);
    h.get_by_label("No morphology loaded");
    assert!(h.query_by_label_contains("--morphology FILE").is_some());
}

#[test]
fn app_with_a_bad_file_shows_the_error() {
    let options = AppOptions { morphology: Some(MorphologySource::File("/nonexistent/x.json".into())), ..AppOptions::default() };
    let mut app = NeuroTwinApp::new(options);
    let err = app.load_error.clone().unwrap_or_default();
    assert!(err.contains("/nonexistent/x.json"), "{err}");
    let mut h = Harness::builder().with_size([1200.0, 800.0]).build_ui(|ui| app.app_ui(ui));
    h.run_steps(2);
    assert!(h.query_by_label_contains("Error: opening /nonexistent/x.json").is_some(), "the error must be visible");
}

#[test]
fn whole_app_lays_out_with_a_session() {
    let (morph, _) = toy_cell();
    let mut app = NeuroTwinApp::new(AppOptions::default());
    let factory: crate::app::live::model::ModelFactory = Box::new(|_, cable| Ok(Box::new(FakeLeakyCable::new(cable)) as Box<_>));
    app.session = Some(Session::from_morphology(morph, Some(&factory), 1).expect("session"));
    app.load_error = None;
    let mut h = Harness::builder().with_size([1400.0, 900.0]).build_ui(|ui| app.app_ui(ui));
    h.run_steps(3);
    h.get_by_label("Play");
    h.get_by_label("Fit to cell");
    h.get_by_label("colour by");
    assert!(h.query_by_label_contains("2 sections").is_some());
}

// ---- with the real engine (Hay 2011 on the built-in synthetic cell) ----

fn engine_session() -> Session {
    let morph = MorphologySource::EmbeddedSynthetic.load().expect("built-in cell");
    let factory = crate::app::live::engine_model::factory();
    let session = Session::from_morphology(morph, Some(&factory), 1).expect("session");
    first_snapshot(&session.runner);
    session
}

#[test]
fn real_engine_controls_step_nmda_and_background() {
    let session = engine_session();
    assert!(session.runner.has_model());
    let state = ControlsState { panel: ControlPanel::default(), runner: session.runner };
    let mut h = Harness::new_ui_state(|ui, s: &mut ControlsState| s.panel.ui(ui, &mut s.runner), state);
    h.run_steps(2);
    assert!(h.query_by_label_contains("Hay 2011 biophys5b, 6.3 °C").is_some(), "model label");
    h.get_by_label("Step").click();
    h.run_steps(2);
    let s = wait_for(&h.state().runner, |s| s.t_ms >= 1.0 - 1e-9);
    let rest = s.soma_v_mv.last().map(|p| p[1]).unwrap_or(f64::NAN);
    assert!((-80.0..-65.0).contains(&rest), "soma {rest} mV");

    h.get_by_label("NMDA component of excitatory synapses").click();
    h.run_steps(1);
    assert!(!h.state().panel.nmda);
    h.get_by_label("Background protocol (paper, spec §6.1)").click();
    h.run_steps(1);
    assert!(h.state().panel.background_on);
    h.get_by_label("Step").click();
    h.run_steps(1);
    let s = wait_for(&h.state().runner, |s| s.background_on && s.t_ms >= 2.0 - 1e-9);
    assert!(s.raster_rows > 1000, "one exc and one inh row per dendritic segment: {}", s.raster_rows);
    h.state_mut().panel.step_ms = 30.0;
    h.get_by_label("Step").click();
    h.run_steps(1);
    let s = wait_for(&h.state().runner, |s| s.t_ms >= 32.0 - 1e-9);
    assert!(!s.raster.is_empty(), "the background protocol must deliver spikes");
    assert!(s.error.is_none(), "{:?}", s.error);
}

#[test]
fn real_engine_synapse_panel_place_fire_and_remove() {
    let session = engine_session();
    let (morph, cable) = (session.morph.clone(), session.cable.clone());
    let state = SynState { panel: SynapsePanel::default(), placements: Placements::default(), runner: session.runner };
    let mut h = Harness::new_ui_state(|ui, s: &mut SynState| s.panel.ui(ui, &mut s.placements, &mut s.runner), state);
    h.run_steps(1);
    h.get_by_label("+ Exc").click();
    h.run_steps(1);
    let si = morph.section_index("dend[10]").expect("dend[10]");
    let at = Location::new(&morph, &cable, si, 0.5).expect("location");
    let node = at.node;
    {
        let s = h.state_mut();
        s.placements.click(&mut s.runner, at);
        // silent, so only "Fire now" drives it
        let key = s.placements.synapses[0].key;
        s.placements.set_drive(&mut s.runner, key, crate::app::live::drives::silent());
        s.runner.send(crate::app::live::runner::Command::AddSite { key: crate::app::live::runner::SiteKey(99), node });
    }
    h.run_steps(1);
    assert!(h.query_by_label_contains("exc dend[10](0.50)").is_some());
    h.get_by_label("Fire now").click();
    h.run_steps(1);
    h.state_mut().runner.send(crate::app::live::runner::Command::StepMs(10.0));
    let s = wait_for(&h.state().runner, |s| s.t_ms >= 10.0 - 1e-9);
    assert_eq!(s.raster.len(), 1, "one fired spike");
    let site = &s.sites.iter().find(|(k, _)| k.0 == 99).expect("site").1;
    // the same cell without the spike (v_init is not quite the rest: compare, don't look at t = 0)
    let mut control = crate::app::live::engine_model::HayEngineModel::new(&morph, &cable).expect("control");
    let mut epsp_mv: f64 = 0.0;
    for p in site.iter().skip(1) {
        while crate::app::live::model::LiveModel::t_ms(&control) < p[0] - 1e-9 {
            crate::app::live::model::LiveModel::step(&mut control, 1).expect("step");
        }
        epsp_mv = epsp_mv.max(p[1] - crate::app::live::model::LiveModel::node_voltages_mv(&control)[node]);
    }
    assert!(epsp_mv > 0.5, "the EPSP must show at its dendrite: {epsp_mv} mV");
    h.get_by_label("Remove").click();
    h.run_steps(1);
    assert!(h.state().placements.synapses.is_empty());
}

#[test]
fn scenario_round_trip_with_the_real_engine() {
    let mut a = engine_session();
    let mut controls = ControlPanel { nmda: false, clamp_on: true, background_on: true, ..ControlPanel::default() };
    let si = a.morph.section_index("apic[5]").expect("apic[5]");
    let at = Location::new(&a.morph, &a.cable, si, 0.25).expect("location");
    a.placements.add_synapse(&mut a.runner, at.clone(), SynapseKind::Inhibitory);
    a.placements.add_site(&mut a.runner, at);
    let sc = crate::app::scenario::Scenario::capture(&controls, &a.placements, "test");
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("s.json");
    sc.save(&path).expect("save");

    let mut b = engine_session();
    controls = ControlPanel::default();
    let loaded = crate::app::scenario::Scenario::load(&path).expect("load");
    assert_eq!(loaded, sc);
    loaded.apply(&b.morph, &b.cable, &mut controls, &mut b.placements, &mut b.runner).expect("apply");
    assert!(!controls.nmda && controls.clamp_on && controls.background_on);
    assert_eq!(b.placements.synapses.len(), 1);
    assert_eq!(b.placements.synapses[0].at.section_name, "apic[5]");
    assert_eq!(b.placements.sites.len(), 1);
    wait_for(&b.runner, |s| s.background_on);

    let mut bad = sc.clone();
    bad.synapses[0].section = "dend[9999]".into();
    let err = bad.apply(&b.morph, &b.cable, &mut controls, &mut b.placements, &mut b.runner).expect_err("unknown section");
    assert!(format!("{err:#}").contains("dend[9999]"));
    assert_eq!(b.placements.synapses.len(), 1, "a bad scenario changes nothing");
}

#[test]
fn keyboard_shortcuts_play_help_and_delete() {
    let mut app = NeuroTwinApp::new(AppOptions { morphology: Some(MorphologySource::EmbeddedSynthetic), model_factory: Some(crate::app::live::engine_model::factory()), ..AppOptions::default() });
    {
        let s = app.session.as_mut().expect("session");
        let at = Location::new(&s.morph, &s.cable, 5, 0.5).expect("location");
        s.placements.add_synapse(&mut s.runner, at, SynapseKind::Excitatory);
    }
    let mut h = Harness::builder().with_size([1400.0, 900.0]).build_ui_state(|ui, app: &mut NeuroTwinApp| app.app_ui(ui), app);
    h.run_steps(2);
    h.key_press(egui::Key::H);
    h.run_steps(2);
    assert!(h.state().show_help);
    h.get_by_label("play / pause");
    h.key_press(egui::Key::Escape);
    h.run_steps(1);
    assert!(!h.state().show_help);
    h.key_press(egui::Key::Delete);
    h.run_steps(1);
    assert!(h.state().session.as_ref().expect("session").placements.synapses.is_empty());
    h.key_press(egui::Key::Space);
    h.run_steps(1);
    wait_for(&h.state().session.as_ref().expect("session").runner, |s| s.playing);
    h.key_press(egui::Key::Space);
    h.run_steps(1);
    wait_for(&h.state().session.as_ref().expect("session").runner, |s| !s.playing);
}

#[test]
fn a_demo_button_sets_up_plays_pauses_at_its_end_and_closes() {
    let app = NeuroTwinApp::new(AppOptions { morphology: Some(MorphologySource::EmbeddedSynthetic), model_factory: Some(crate::app::live::engine_model::factory()), ..AppOptions::default() });
    first_snapshot(&app.session.as_ref().expect("session").runner);
    let mut h = Harness::builder().with_size([1400.0, 900.0]).build_ui_state(|ui, app: &mut NeuroTwinApp| app.app_ui(ui), app);
    h.run_steps(2);
    h.get_by_label(crate::app::demos::Demo::NmdaSpike.title()).click();
    h.run_steps(2);
    {
        let app = h.state();
        assert_eq!(app.demo.as_ref().map(|d| d.demo), Some(crate::app::demos::Demo::NmdaSpike));
        let s = app.session.as_ref().expect("session");
        assert_eq!(s.placements.synapses.len(), crate::app::demos::NMDA_CLUSTER_SIZE);
        assert_eq!(s.placements.sites.len(), 1);
        assert_eq!(app.traces.window_ms, 300.0);
    }
    assert!(h.query_by_label_contains("Mg2+ block").is_some(), "the demo's text is shown");
    // the demo plays (0.1× real time) and pauses by itself at 300 ms: go there at full speed
    h.state_mut().session.as_mut().expect("session").runner.send(crate::app::live::runner::Command::SetSpeed(crate::app::live::runner::Speed::Max));
    let start = Instant::now();
    loop {
        h.run_steps(1);
        let snap = h.state().session.as_ref().expect("session").runner.snapshot();
        if !snap.playing && snap.t_ms >= 300.0 {
            assert!((snap.t_ms - 300.0).abs() < 1e-6, "paused exactly at the end of the demo: {} ms", snap.t_ms);
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "the demo did not pause (t = {} ms)", snap.t_ms);
        std::thread::sleep(Duration::from_millis(10));
    }
    // the spike-triggered view ("Why did it spike?") on the demo's input: the cluster, all excitatory
    h.state_mut().traces.selected_t_ms = Some(60.0);
    h.state_mut().why.open = true;
    h.state_mut().why.paint = crate::app::panels::why_panel::Paint::RecentInputs;
    h.run_steps(3);
    let o = h.state().view.overlay.clone().expect("the 3-D view paints the inputs");
    assert!(o.values.iter().any(|v| *v > 0.0), "excitatory inputs painted");
    assert!(!o.values.iter().any(|v| *v < 0.0), "no inhibition in the NMDA demo");
    h.state_mut().why.open = false;
    h.run_steps(2);
    assert!(h.state().view.overlay.is_none(), "back to the voltage colours");
    h.get_by_label("Close demo").click();
    h.run_steps(2);
    assert!(h.state().demo.is_none());
}
