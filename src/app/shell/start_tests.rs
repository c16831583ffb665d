//! Tests of the first minute (issue 16): the app opens alive (or paused with `--paused`), the tool
//! strip and its keys set the click mode, a missing models folder is named as such.

use super::{AppOptions, NeuroTwinApp};
use crate::app::live::placements::{ClickMode, Placements};
use crate::app::live::runner::Snapshot;
use crate::app::session::MorphologySource;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use std::time::{Duration, Instant};

fn engine_app(alive: bool) -> NeuroTwinApp {
    NeuroTwinApp::new(AppOptions {
        morphology: Some(MorphologySource::EmbeddedSynthetic),
        model_factory: Some(crate::app::live::engine_model::factory()),
        alive,
        ..AppOptions::default()
    })
}

fn wait_for(app: &NeuroTwinApp, what: impl Fn(&Snapshot) -> bool) -> bool {
    let start = Instant::now();
    let runner = &app.session.as_ref().expect("session").runner;
    while start.elapsed() < Duration::from_secs(10) {
        if what(&runner.snapshot()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn opens_alive_playing_the_background_input() {
    let app = engine_app(true);
    assert!(app.controls.background_on, "the control panel shows the background input on");
    assert!(wait_for(&app, |s| s.playing && s.background_on && s.t_ms > 5.0 && !s.raster.is_empty()), "playing with input: {:?}", app.session.as_ref().map(|s| s.runner.snapshot().t_ms));
    assert!(app.view.show_hint, "the what-to-try hint is shown");
}

#[test]
fn paused_start_keeps_the_old_start() {
    let app = engine_app(false);
    assert!(!app.controls.background_on);
    assert!(wait_for(&app, |s| s.seq >= 1));
    std::thread::sleep(Duration::from_millis(200));
    let s = app.session.as_ref().expect("session").runner.snapshot();
    assert!(!s.playing && !s.background_on && s.t_ms == 0.0, "paused at t = 0 with no input");
}

#[test]
fn tool_strip_sets_the_click_mode_and_hides_the_hint() {
    struct State {
        placements: Placements,
        hint: bool,
    }
    let mut h = Harness::builder().with_size([900.0, 600.0]).build_ui_state(
        |ui, s: &mut State| {
            let rect = ui.max_rect();
            crate::app::view::tools::tool_strip_ui(ui, rect, &mut s.placements, &mut s.hint);
        },
        State { placements: Placements::default(), hint: true },
    );
    h.run_steps(2);
    assert!(h.query_by_label_contains("click a dendrite to add a synapse").is_some(), "the hint is shown");
    for mode in [ClickMode::Excitatory, ClickMode::Inhibitory, ClickMode::Record, ClickMode::Inspect] {
        h.get_by_label(mode.label()).click();
        h.run_steps(2);
        assert_eq!(h.state().placements.mode, mode);
        assert!(mode.tooltip().contains(&format!("[key {}]", mode.key().name())));
    }
    h.get_by_label("hide").click();
    h.run_steps(2);
    assert!(!h.state().hint);
    assert!(h.query_by_label_contains("click a dendrite to add a synapse").is_none());
}

#[test]
fn mode_keys_set_the_click_mode_in_the_whole_app() {
    let app = engine_app(false);
    let mut h = Harness::builder().with_size([1400.0, 900.0]).build_ui_state(|ui, app: &mut NeuroTwinApp| app.app_ui(ui), app);
    h.run_steps(2);
    for mode in [ClickMode::Excitatory, ClickMode::Inhibitory, ClickMode::Record, ClickMode::Inspect] {
        h.key_press(mode.key());
        h.run_steps(1);
        assert_eq!(h.state().session.as_ref().expect("session").placements.mode, mode, "key {}", mode.key().name());
    }
    // the strip over the 3-D view and the right panel show the same mode
    assert!(h.query_all_by_label("+ Exc").count() >= 2, "the tool strip and the panel");
}

#[test]
fn a_missing_models_folder_is_named_as_such() {
    let app = NeuroTwinApp::new(AppOptions {
        morphology: Some(MorphologySource::EmbeddedSynthetic),
        model_factory: Some(crate::app::live::engine_model::factory()),
        models_missing: Some("no models folder found (looked in: a/models, b/models)".into()),
        ..AppOptions::default()
    });
    let s = app.session.as_ref().expect("session");
    assert!(s.twin.is_none());
    assert_eq!(s.twin_error.as_deref(), Some("no models folder found (looked in: a/models, b/models)"));
}

#[test]
fn files_fields_are_readable_in_the_right_panel() {
    let mut panel = crate::app::panels::FilesPanel::default();
    // the right panel's default width
    let mut h = Harness::builder().with_size([380.0, 300.0]).build_ui(|ui| {
        let _ = panel.ui(ui);
    });
    h.run_steps(2);
    for label in ["scenario", "traces", "window"] {
        let field = h.get_by_label(label);
        let width = field.rect().width();
        assert!(width >= 250.0, "the {label} field is {width} px wide");
    }
}
