//! The twin in the app, on the test fixture (a 20-row model; `tiny10.swc` has 10 dendritic
//! segments): streamed outputs equal a full-sequence prediction, and the twin panel lists,
//! switches and explains.

use crate::app::live::drives::BackgroundSettings;
use crate::app::live::runner::Command;
use crate::app::session::{MorphologySource, Session};
use crate::app::shell::{AppOptions, NeuroTwinApp};
use super::thread::{TwinSnapshot, TwinState};
use crate::stimulus::InputRaster;
use crate::surrogate::{LoadOptions, PredictOptions, SurrogateModel};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FIXTURE_DIR: &str = "tests/data/surrogate";

fn tiny10_session() -> Session {
    let morph = MorphologySource::File(PathBuf::from(FIXTURE_DIR).join("tiny10.swc")).load().expect("tiny10");
    let factory = crate::app::live::engine_model::factory();
    let mut s = Session::from_morphology(morph, Some(&factory), 1).expect("session");
    s.start_twin(Path::new(FIXTURE_DIR));
    assert!(s.twin_error.is_none(), "{:?}", s.twin_error);
    s
}

fn wait_twin(s: &Session, what: impl Fn(&TwinSnapshot) -> bool) -> Arc<TwinSnapshot> {
    let start = Instant::now();
    loop {
        let t = s.twin.as_ref().expect("twin").twin.snapshot();
        if what(&t) {
            return t;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "timed out; twin state {:?}, until {} ms", t.state, t.predicted_until_ms);
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn streamed_twin_equals_full_sequence_prediction_on_the_engines_input() {
    let mut s = tiny10_session();
    wait_twin(&s, |t| matches!(t.state, TwinState::Running(_)));
    s.runner.send(Command::SetBackground(Some(BackgroundSettings::default())));
    let total_ms = 700usize;
    s.runner.send(Command::StepMs(total_ms as f64));
    let t = wait_twin(&s, |t| t.predicted_until_ms >= total_ms);
    let snap = s.runner.snapshot();
    assert!(snap.raster.len() > 50, "the background protocol drove the cell: {} spikes", snap.raster.len());
    // the same raster, rebuilt from what the engine received
    let mut rows = vec![Vec::new(); 20];
    for sp in &snap.raster {
        rows[sp.row as usize].push(sp.t_ms.floor() as u32);
    }
    rows.iter_mut().for_each(|r| r.dedup());
    let raster = InputRaster::from_rows(10, total_ms as u32, rows).expect("raster");
    let mut model = SurrogateModel::load(&Path::new(FIXTURE_DIR).join("fixture.onnx"), LoadOptions::default()).expect("fixture");
    let full = model.predict_raster(&raster, &PredictOptions::default()).expect("full prediction");
    let w = &t.window;
    assert_eq!(w.first_bin, 0);
    assert!(w.len() >= total_ms);
    let mut max_p = 0f32;
    let mut max_v = 0f32;
    for k in 0..total_ms {
        max_p = max_p.max((w.probability[k] - full.spike_probability[k]).abs());
        max_v = max_v.max((w.twin_v_mv[k] - full.soma_v_mv[k]).abs());
    }
    assert!(max_p < 1e-5 && max_v < 1e-5, "streamed vs full: |Δp| {max_p}, |ΔV| {max_v} mV");
    // the cell's voltage came along, and the agreement has numbers
    assert!(w.cell_v_mv[..total_ms].iter().all(|v| v.is_finite()));
    assert!(t.whole_run.rmse_mv.is_some_and(f64::is_finite));
    // reset clears it
    s.runner.send(Command::Reset);
    wait_twin(&s, |t| t.window.is_empty() && t.predicted_until_ms == 0);
}

#[test]
fn twin_panel_lists_the_fixture_switches_it_and_says_when_none_fits() {
    let mut app = NeuroTwinApp::new(AppOptions::default());
    app.session = Some(tiny10_session());
    app.load_error = None;
    let mut h = Harness::builder().with_size([1400.0, 1400.0]).build_ui_state(|ui, app: &mut NeuroTwinApp| app.app_ui(ui), app);
    h.run_steps(3);
    let label = "fixture (other morphology, same rows)";
    let twin = |h: &Harness<'_, NeuroTwinApp>| h.state().session.as_ref().and_then(|s| s.twin.as_ref()).map(|t| t.twin.selected.clone());
    assert!(twin(&h).flatten().is_some_and(|p| p.ends_with("fixture.onnx")), "the fixture runs by default");
    h.get_by_label("twin model").click();
    h.run_steps(2);
    h.get_by_label("off").click();
    h.run_steps(2);
    assert_eq!(twin(&h), Some(None), "switched off");
    h.get_by_label("twin model").click();
    h.run_steps(2);
    h.get_by_label(label).click();
    h.run_steps(2);
    assert!(twin(&h).flatten().is_some_and(|p| p.ends_with("fixture.onnx")), "switched back on");

    // the built-in cell has far more than 20 rows: no model fits
    let mut app = NeuroTwinApp::new(AppOptions {
        morphology: Some(MorphologySource::EmbeddedSynthetic),
        model_factory: Some(crate::app::live::engine_model::factory()),
        models_dir: Some(PathBuf::from(FIXTURE_DIR)),
        ..AppOptions::default()
    });
    assert!(app.session.is_some());
    let mut h = Harness::builder().with_size([1400.0, 1400.0]).build_ui(|ui| app.app_ui(ui));
    h.run_steps(3);
    assert!(h.query_by_label_contains("fits this morphology (").is_some(), "the no-model message");
    assert!(h.query_by_label_contains("python -m training train").is_some(), "how to train one");
}

#[test]
fn the_app_fingerprints_the_built_in_cell_as_the_dataset_does() {
    use crate::morphology::{load_hay2011, Cable, Discretisation};
    let builtin = MorphologySource::EmbeddedSynthetic.load().expect("built-in");
    let file = load_hay2011(Path::new("morphologies/l5pc-synthetic.swc")).expect("file");
    let fp = |m: &crate::Morphology| crate::dataset::morphology_fingerprint(m, &Cable::new(m, &Discretisation::default()).expect("cable"));
    assert_eq!(fp(&builtin), fp(&file));
}

#[test]
fn a_second_twin_runs_beside_the_first_on_the_same_input_and_the_threshold_switch_recounts() {
    use super::thread::ThresholdChoice;
    let mut s = tiny10_session();
    let fixture = PathBuf::from(FIXTURE_DIR).join("fixture.onnx");
    {
        let t = s.twin.as_mut().expect("twin");
        assert!(t.second.selected.is_none(), "no published model in the fixture folder: the second twin starts off");
        t.second.select(Some(fixture.clone()));
    }
    let second = |s: &Session| s.twin.as_ref().expect("twin").second.snapshot();
    wait_twin(&s, |t| matches!(t.state, TwinState::Running(_)));
    s.runner.send(Command::SetBackground(Some(BackgroundSettings::default())));
    s.runner.send(Command::StepMs(600.0));
    let first = wait_twin(&s, |t| t.predicted_until_ms >= 600);
    let start = Instant::now();
    while second(&s).predicted_until_ms < 600 {
        assert!(start.elapsed() < Duration::from_secs(60), "the second twin never caught up: {:?}", second(&s).state);
        std::thread::sleep(Duration::from_millis(10));
    }
    // the same model on the same input from the same ms: the same outputs
    let b = second(&s);
    assert_eq!(b.window.first_bin, first.window.first_bin);
    assert_eq!(&b.window.probability[..600], &first.window.probability[..600]);
    // the fixture states no count-matched threshold: the default falls back to FPR 0.25 % and says so
    assert!(first.threshold_label.contains("no count-matched"), "{}", first.threshold_label);
    let p_025 = *first.threshold.as_ref().expect("threshold");
    s.twin.as_mut().expect("twin").set_threshold(ThresholdChoice::Fpr(0.01));
    let t = wait_twin(&s, |t| t.threshold_label == "FPR 1 %");
    let p_1 = *t.threshold.as_ref().expect("threshold");
    assert!(p_1 < p_025, "the 1 % threshold is the lower one: {p_1} vs {p_025}");
    // recounted over the whole run with the lower threshold: at least as many predicted spikes
    assert!(t.whole_run.twin_spikes >= first.whole_run.twin_spikes);
    let start = Instant::now();
    while second(&s).threshold_label != "FPR 1 %" {
        assert!(start.elapsed() < Duration::from_secs(30), "the second twin kept {}", second(&s).threshold_label);
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_default_pair_is_our_twin_first_and_a_published_one_second() {
    use super::models::default_pair;
    use crate::surrogate::{Candidate, Fit, ModelMetadata};
    let meta = |name: &str, published: bool| {
        let network = if published { r#", "network": {"kind": "elm", "config_file": "x.json", "source": "someone, 2024"}"# } else { "" };
        let text = format!(
            r#"{{"format": "neurotwin-dnn", "format_version": 1, "name": "{name}", "morphology_fingerprint": "sha256:ab",
               "input_rows": {{"n_rows": 20, "n_segments": 10}}, "window_ms": 10,
               "target_transforms": {{"soma": {{"clip_max_mV": -55.0, "offset_mV": -67.7, "scale_mV": 1.0}}}}{network}}}"#
        );
        ModelMetadata::parse(&text, name).expect("metadata")
    };
    let c = |name: &str, published: bool, fit: Fit| Candidate { onnx_path: PathBuf::from(format!("{name}.x")), metadata: meta(name, published), fit };
    // sorted best first by name: the published one would come first, ours is picked
    let cands = vec![c("elm-published", true, Fit::Exact), c("ours", false, Fit::Exact)];
    assert_eq!(default_pair(&cands, true), (Some(PathBuf::from("ours.x")), Some(PathBuf::from("elm-published.x"))));
    // only a published model: it runs as the first twin, nothing second
    assert_eq!(default_pair(&cands[..1], true), (Some(PathBuf::from("elm-published.x")), None));
    // a published model for another morphology (rows only) is not offered as the second twin
    let cands = vec![c("ours", false, Fit::Exact), c("elm-published", true, Fit::RowsOnly)];
    assert_eq!(default_pair(&cands, true), (Some(PathBuf::from("ours.x")), None));
    assert_eq!(default_pair(&[], true), (None, None));
}

/// Candidates for the synapse-mode tests: our NMDA and AMPA models and the published (NMDA) ELM,
/// sorted by name as `models_for` sorts them (so the AMPA model comes before the NMDA one).
fn variant_candidates(with_ampa: bool) -> Vec<crate::surrogate::Candidate> {
    use crate::surrogate::{Candidate, Fit, ModelMetadata};
    let c = |name: &str, variant: &str, published: bool| {
        let network = if published { r#", "network": {"kind": "elm", "config_file": "x.json", "source": "someone, 2024"}"# } else { "" };
        let text = format!(
            r#"{{"format": "neurotwin-dnn", "format_version": 1, "name": "{name}", "morphology_fingerprint": "sha256:ab",
               "input_rows": {{"n_rows": 20, "n_segments": 10}}, "window_ms": 10,
               "dataset_protocol": {protocol},
               "target_transforms": {{"soma": {{"clip_max_mV": -55.0, "offset_mV": -67.7, "scale_mV": 1.0}}}}{network}}}"#,
            protocol = serde_json::to_string(&crate::stimulus::PaperProtocol::for_variant(if variant == "ampa" {
                crate::stimulus::InputVariant::Ampa
            } else {
                crate::stimulus::InputVariant::Nmda
            }))
            .expect("protocol")
        );
        Candidate { onnx_path: PathBuf::from(format!("{name}.x")), metadata: ModelMetadata::parse(&text, name).expect("metadata"), fit: Fit::Exact }
    };
    let mut v = vec![c("elm-published", "nmda", true)];
    if with_ampa {
        v.push(c("l5pc-hay-ampa", "ampa", false));
    }
    v.push(c("l5pc-hay-nmda", "nmda", false));
    v
}

#[test]
fn the_default_twin_is_the_one_trained_on_the_synapse_mode() {
    use super::models::default_pair;
    use crate::stimulus::InputVariant;
    let cands = variant_candidates(true);
    assert_eq!(cands[1].variant(), InputVariant::Ampa);
    assert_eq!(cands[2].variant(), InputVariant::Nmda);
    // NMDA on (the default): our NMDA twin, although the AMPA one sorts first
    assert_eq!(default_pair(&cands, true), (Some(PathBuf::from("l5pc-hay-nmda.x")), Some(PathBuf::from("elm-published.x"))));
    // NMDA off: the AMPA twin; the published ELM (NMDA only) is still the one to compare with
    assert_eq!(default_pair(&cands, false), (Some(PathBuf::from("l5pc-hay-ampa.x")), Some(PathBuf::from("elm-published.x"))));
    // without an AMPA model, NMDA off keeps our NMDA twin
    assert_eq!(default_pair(&variant_candidates(false), false).0, Some(PathBuf::from("l5pc-hay-nmda.x")));
}

#[test]
fn switching_nmda_off_and_on_moves_the_twin_between_the_ampa_and_nmda_models() {
    let mut s = tiny10_session();
    let t = s.twin.as_mut().expect("twin session");
    t.models.candidates = variant_candidates(true);
    t.twin.select(Some(PathBuf::from("l5pc-hay-nmda.x")));
    // no change of mode: nothing happens
    t.follow_nmda(true);
    assert_eq!(t.twin.selected.as_deref(), Some(Path::new("l5pc-hay-nmda.x")));
    assert!(t.synapse_note.is_none());
    t.follow_nmda(false);
    assert_eq!(t.twin.selected.as_deref(), Some(Path::new("l5pc-hay-ampa.x")));
    let note = t.synapse_note.clone().expect("note");
    assert!(note.contains("NMDA off") && note.contains("l5pc-hay-ampa") && note.contains("was l5pc-hay-nmda"), "{note}");
    // a model picked by hand stays while the mode does not change
    t.twin.select(Some(PathBuf::from("elm-published.x")));
    t.follow_nmda(false);
    assert_eq!(t.twin.selected.as_deref(), Some(Path::new("elm-published.x")));
    // NMDA back on: the published ELM was trained with NMDA, so it stays too
    t.follow_nmda(true);
    assert_eq!(t.twin.selected.as_deref(), Some(Path::new("elm-published.x")));
    assert!(t.synapse_note.is_none());
    // the next change of mode acts again: off → our AMPA twin, on → our NMDA twin
    t.follow_nmda(false);
    assert_eq!(t.twin.selected.as_deref(), Some(Path::new("l5pc-hay-ampa.x")));
    t.follow_nmda(true);
    assert_eq!(t.twin.selected.as_deref(), Some(Path::new("l5pc-hay-nmda.x")));
    assert!(t.synapse_note.as_deref().is_some_and(|n| n.contains("NMDA on")), "{:?}", t.synapse_note);
    // without an AMPA model the NMDA twin stays, and the panel says what its predictions are for
    t.models.candidates = variant_candidates(false);
    t.follow_nmda(false);
    assert_eq!(t.twin.selected.as_deref(), Some(Path::new("l5pc-hay-nmda.x")));
    let note = t.synapse_note.clone().expect("note");
    assert!(note.contains("no twin of this cell was trained on this protocol"), "{note}");
}

/// Serve the published ELM's three files (from `../shared/peer-models/elm-best`) on 127.0.0.1 for
/// `connections` requests; returns the base URL.
fn serve_published_elm(connections: usize) -> String {
    use std::io::{Read, Write};
    let peer = Path::new("../shared/peer-models/elm-best");
    let files: Vec<(String, Vec<u8>)> = [("LICENSE", "LICENSE"), ("models/best_elm_neuron/model_config.json", "model_config.json"), ("models/best_elm_neuron/neuronio_best_model_state.pt", "neuronio_best_model_state.pt")]
        .iter()
        .map(|(remote, local)| (format!("/repo/{remote}"), std::fs::read(peer.join(local)).expect("../shared/peer-models/elm-best")))
        .collect();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut s) = stream else { continue };
            let mut req = Vec::new();
            let mut b = [0u8; 1];
            while !req.ends_with(b"\r\n\r\n") && req.len() < 65536 {
                match s.read(&mut b) {
                    Ok(1) => req.push(b[0]),
                    _ => break,
                }
            }
            let path = String::from_utf8_lossy(&req).split_whitespace().nth(1).unwrap_or("").to_string();
            let _ = match files.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => s
                    .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes())
                    .and_then(|_| s.write_all(body)),
                None => s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            };
        }
    });
    format!("http://127.0.0.1:{port}/repo")
}

#[test]
fn get_the_published_elm_on_the_hay_cell_downloads_it_and_runs_it() {
    let models = tempfile::tempdir().expect("tempdir");
    let morph = MorphologySource::File(PathBuf::from("../shared/morphologies/cell1.asc")).load().expect("the Hay cell in ../shared");
    let factory = crate::app::live::engine_model::factory();
    let mut s = Session::from_morphology(morph, Some(&factory), 1).expect("session");
    s.start_twin(models.path());
    let t = s.twin.as_mut().expect("twin");
    assert!(t.models.candidates.is_empty(), "an empty models folder");
    assert!(t.models.could_get_published_elm(), "the Hay cell is the ELM's cell: the button is offered");
    t.elm_download.options.base_url = serve_published_elm(3);
    t.elm_download.start(|| {});
    let start = Instant::now();
    while t.elm_message.is_none() {
        t.poll_elm_download();
        assert!(start.elapsed() < Duration::from_secs(60), "the download never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(matches!(&t.elm_message, Some(Ok(m)) if m.contains("verified")), "{:?}", t.elm_message);
    assert!(!t.models.could_get_published_elm(), "installed: no button any more");
    assert_eq!(t.models.candidates.len(), 1);
    // no model of our own fits this folder: the ELM runs as the twin
    assert!(t.twin.selected.as_ref().is_some_and(|p| p.ends_with("elm-neuronio-best.pt")), "{:?}", t.twin.selected);
    wait_twin(&s, |t| matches!(&t.state, TwinState::Running(n) if n == "elm-neuronio-best"));
    // the built-in cell is not the ELM's: no button there
    let builtin = MorphologySource::EmbeddedSynthetic.load().expect("built-in");
    let mut b = Session::from_morphology(builtin, Some(&factory), 1).expect("session");
    b.start_twin(models.path());
    assert!(!b.twin.as_ref().expect("twin").models.could_get_published_elm());
}
