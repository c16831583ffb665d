//! "Why did it spike?" in the app, with the real engine and the shipped twin of the built-in
//! cell: the engine's what-if re-run from a checkpoint reproduces the live trace exactly and
//! edits change it only after the edit; the twin's attribution and what-if equal the library's
//! on the same input; the window paints the cell.

use crate::app::live::drives::BackgroundSettings;
use crate::app::live::runner::{Command, Snapshot};
use crate::app::session::{MorphologySource, Session};
use crate::app::shell::{AppOptions, NeuroTwinApp};
use super::thread::{TwinSnapshot, TwinState};
use crate::app::live::whatif_engine::Edit;
use super::why::WhyRequest;
use crate::attribution::attribute;
use crate::stimulus::{DendriticSegments, InputRaster};
use egui_kittest::Harness;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn wait<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(x) = f() {
            return x;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn synthetic_session(with_twin: bool) -> Session {
    let morph = MorphologySource::EmbeddedSynthetic.load().expect("built-in cell");
    let factory = crate::app::live::engine_model::factory();
    let mut s = Session::from_morphology(morph, Some(&factory), 1).expect("session");
    if with_twin {
        s.start_twin(Path::new("models"));
        assert!(s.twin_error.is_none(), "{:?}", s.twin_error);
    }
    s
}

fn twin_snap(s: &Session) -> Arc<TwinSnapshot> {
    s.twin.as_ref().expect("twin").twin.snapshot()
}

fn run_background(s: &mut Session, ms: f64) -> Arc<Snapshot> {
    s.runner.send(Command::SetBackground(Some(BackgroundSettings::default())));
    s.runner.send(Command::StepMs(ms));
    wait("the engine", || Some(s.runner.snapshot()).filter(|x| x.t_ms >= ms - 1e-9))
}

#[test]
fn engine_what_if_without_edits_reproduces_the_live_trace_and_edits_act_after_their_start() {
    let mut s = synthetic_session(false);
    let live = run_background(&mut s, 400.0);
    assert!(live.raster.len() > 1000);
    let all_exc: Vec<u32> = (0..live.raster_rows / 2).collect();
    s.runner.send(Command::WhatIf { edit: Edit { rows: all_exc, from_ms: 250.0, to_ms: 349.999, add: Vec::new() }, to_ms: 380.0 });
    let w = wait("the what-if", || s.runner.snapshot().whatif.clone());
    let w = w.as_ref().as_ref().expect("what-if ran");
    assert!(w.checkpoint_ms <= 250.0 && w.checkpoint_ms > 150.0, "checkpoint at {} ms", w.checkpoint_ms);
    // the unedited re-run is the live trace, sample for sample, bit for bit
    let mut compared = 0;
    for p in &w.original {
        if let Some(q) = live.soma_v_mv.iter().find(|q| q[0] == p[0]) {
            assert_eq!(q[1].to_bits(), p[1].to_bits(), "soma at {} ms: live {} vs re-run {}", p[0], q[1], p[1]);
            compared += 1;
        }
    }
    assert!(compared > 1000, "only {compared} samples compared");
    assert!(w.deleted_spikes > 100, "{} spikes deleted", w.deleted_spikes);
    // the edit changes nothing before 250 ms and a lot after
    for (a, b) in w.original.iter().zip(&w.edited) {
        if a[0] <= 250.0 {
            assert_eq!(a[1].to_bits(), b[1].to_bits(), "changed before the edit at {} ms", a[0]);
        }
    }
    let late = w.original.iter().zip(&w.edited).filter(|(a, _)| a[0] > 300.0).map(|(a, b)| (a[1] - b[1]).abs()).fold(0.0, f64::max);
    assert!(late > 2.0, "removing all excitation for 100 ms moved the soma by only {late} mV");
    // adding a burst of 10 spikes on each of 20 basal rows at 300–309 ms depolarises the soma after 300 ms only
    let add: Vec<(u32, f64)> = (0..20u32).flat_map(|r| (0..10).map(move |k| (r, 300.0 + f64::from(k)))).collect();
    s.runner.send(Command::WhatIf { edit: Edit { rows: Vec::new(), from_ms: 300.0, to_ms: 300.0, add }, to_ms: 360.0 });
    let w = wait("the added burst", || s.runner.snapshot().whatif.clone().filter(|w| w.as_ref().as_ref().is_ok_and(|w| w.added_spikes == 200)));
    let w = w.as_ref().as_ref().expect("what-if ran");
    for (a, b) in w.original.iter().zip(&w.edited).filter(|(a, _)| a[0] <= 300.0) {
        assert_eq!(a[1].to_bits(), b[1].to_bits(), "changed before the burst at {} ms", a[0]);
    }
    let gain = w.original.iter().zip(&w.edited).filter(|(a, _)| a[0] > 300.0).map(|(a, b)| b[1] - a[1]).fold(f64::MIN, f64::max);
    assert!(gain > 1.0, "the added burst depolarised the soma by only {gain} mV");
    // a span older than the kept checkpoints is a clear error, not a panic
    s.runner.send(Command::Reset);
    s.runner.send(Command::WhatIf { edit: Edit { rows: vec![1], from_ms: 50.0, to_ms: 60.0, add: Vec::new() }, to_ms: 70.0 });
    let e = wait("the error", || s.runner.snapshot().whatif.clone().filter(|r| r.is_err()));
    assert!(e.as_ref().as_ref().unwrap_err().contains("checkpoint"));
}

#[test]
fn twin_attribution_and_what_if_equal_the_library_on_the_same_input() {
    let mut s = synthetic_session(true);
    wait("the twin", || Some(()).filter(|_| matches!(twin_snap(&s).state, TwinState::Running(_))));
    assert!(twin_snap(&s).native.is_some(), "the shipped twin runs natively");
    let total = 600usize;
    let snap = run_background(&mut s, total as f64);
    wait("the twin to catch up", || Some(()).filter(|_| twin_snap(&s).predicted_until_ms >= total));
    let t_bin = 480usize;
    s.twin.as_ref().expect("twin").twin.ask(WhyRequest::Explain { t_bin });
    let a = wait("the attribution", || twin_snap(&s).explain.clone());
    let a = a.as_ref().as_ref().expect("attribution");
    // the library on the raster the engine received (background rows are the twin's rows)
    let segs = DendriticSegments::new(&s.morph, &s.cable).expect("segments");
    let mut rows = vec![Vec::new(); 2 * segs.len()];
    for sp in &snap.raster {
        rows[sp.row as usize].push(sp.t_ms.floor() as u32);
    }
    rows.iter_mut().for_each(|r| r.dedup());
    let raster = InputRaster::from_rows(segs.len(), total as u32, rows).expect("raster");
    let tcn = twin_snap(&s).native.clone().expect("native");
    let lib = attribute(&tcn, &raster, &segs, t_bin).expect("library attribution");
    assert_eq!(a.t_ms, t_bin);
    assert_eq!(a.window_from_ms, lib.window_from_ms);
    assert!((a.probability - lib.probability).abs() < 1e-6);
    assert_eq!(a.ranking.len(), lib.ranking.len());
    assert!(a.ranking.len() > 300, "{} active rows", a.ranking.len());
    for (x, y) in a.ranking.iter().zip(&lib.ranking).take(100) {
        assert_eq!(x.row, y.row);
        assert!((x.logit_drop - y.logit_drop).abs() < 1e-5);
    }
    // deleting the top row in the twin's what-if gives its occlusion probability
    let top = a.ranking[0].clone();
    let from_bin = a.window_from_ms;
    s.twin.as_ref().expect("twin").twin.ask(WhyRequest::WhatIf { rows: vec![top.row], from_bin, to_bin: t_bin, show_from_bin: from_bin, until_bin: t_bin + 30, add: Vec::new() });
    let w = wait("the twin what-if", || twin_snap(&s).what_if.clone());
    let w = w.as_ref().as_ref().expect("twin what-if");
    assert!((w.p_original - a.probability).abs() < 1e-5, "{} vs {}", w.p_original, a.probability);
    assert!((w.p_edited - top.probability_without).abs() < 1e-5, "{} vs {}", w.p_edited, top.probability_without);
    // before the edited span the twin's outputs are the same
    assert_eq!(w.original.soma_v_mv.first(), w.edited.soma_v_mv.first());
}

#[test]
fn a_branch_is_the_section_and_everything_beyond_it() {
    let s = synthetic_session(false);
    let segs = DendriticSegments::new(&s.morph, &s.cable).expect("segments");
    // the first apical section: its branch is the whole apical tree
    let apic0 = s.morph.sections.iter().position(|x| x.name == "apic[0]").expect("apic[0]");
    let rows = crate::app::panels::why_panel::branch_rows(&s.morph, &segs, apic0);
    let n_apical = segs.segments.iter().filter(|g| g.tree == crate::stimulus::Tree::Apical).count();
    assert_eq!(rows.len(), 2 * n_apical);
    // a terminal section's branch is its own segments
    let leaf = (0..s.morph.sections.len()).rev().find(|&i| s.morph.sections.iter().all(|x| x.parent != Some(i))).expect("a leaf");
    let own = segs.segments.iter().filter(|g| g.section == leaf).count();
    assert_eq!(crate::app::panels::why_panel::branch_rows(&s.morph, &segs, leaf).len(), 2 * own);
}

#[test]
fn why_window_paints_recent_inputs_then_attribution_on_the_cell() {
    let options = AppOptions { morphology: Some(MorphologySource::EmbeddedSynthetic), model_factory: Some(crate::app::live::engine_model::factory()), models_dir: Some("models".into()), ..AppOptions::default() };
    let mut h = Harness::builder().with_size([1500.0, 950.0]).build_ui_state(|ui, app: &mut NeuroTwinApp| app.app_ui(ui), NeuroTwinApp::new(options));
    h.run_steps(3);
    {
        let s = h.state_mut().session.as_mut().expect("session");
        wait("the twin", || Some(()).filter(|_| s.twin.as_ref().is_some_and(|t| t.twin.snapshot().native.is_some())));
        run_background(s, 300.0);
        wait("the twin to catch up", || Some(()).filter(|_| s.twin.as_ref().is_some_and(|t| t.twin.snapshot().predicted_until_ms >= 300)));
    }
    h.state_mut().why.open = true;
    h.state_mut().traces.selected_t_ms = Some(250.0);
    h.run_steps(3);
    let o = h.state().view.overlay.clone().expect("recent inputs painted");
    let painted = o.values.iter().filter(|v| v.is_finite() && **v != 0.0).count();
    assert!(painted > 100, "{painted} nodes painted");
    assert!(o.values.iter().any(|v| *v > 0.0) && o.values.iter().any(|v| *v < 0.0), "exc and inh told apart");
    // explain: the attribution replaces the recency map
    h.state().session.as_ref().and_then(|s| s.twin.as_ref()).expect("twin").twin.ask(WhyRequest::Explain { t_bin: 249 });
    h.state_mut().why.paint = crate::app::panels::why_panel::Paint::Attribution;
    wait("the attribution", || h.state().session.as_ref().and_then(|s| s.twin.as_ref()).and_then(|t| t.twin.snapshot().explain.clone()));
    h.run_steps(3);
    let o2 = h.state().view.overlay.clone().expect("attribution painted");
    assert_ne!(o2.version, o.version);
    assert!(o2.label.contains('Δ'), "{}", o2.label);
    // closing the window returns to the voltage colouring
    h.state_mut().why.open = false;
    h.run_steps(2);
    assert!(h.state().view.overlay.is_none());
}
