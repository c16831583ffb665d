//! The deep-network twin in the control panel: which model runs (or off), the backend, how far
//! behind the simulation it is, and the running agreement with the cell over the visible window
//! and the whole run. When no model fits the morphology, how to train one.

use crate::app::twin::agreement::{agreement, Agreement, Series};
use crate::app::live::runner::Snapshot;
use crate::app::twin::thread::{ThresholdChoice, Twin, TwinSnapshot, TwinState};
use crate::app::twin::models::{is_published, TwinModels, TwinSession};
use eframe::egui::{self, Color32, RichText};

pub use super::palette::{DNN_MAGENTA, SECOND_TWIN_AMBER};

/// Text of the "off" entry in the model list.
pub const OFF_LABEL: &str = "off";


/// The panel; `window_ms` is the visible trace window.
pub fn twin_ui(ui: &mut egui::Ui, twin: Option<&mut TwinSession>, twin_error: Option<&str>, snap: &Snapshot, window_ms: f64) {
    ui.heading(RichText::new("Deep-network twin").color(DNN_MAGENTA));
    let Some(session) = twin else {
        ui.label(twin_error.unwrap_or("no model folder given (--models DIR)"));
        return;
    };
    session.poll_elm_download();
    if session.models.candidates.is_empty() {
        no_model_ui(ui, &session.models);
        elm_download_ui(ui, session);
        return;
    }
    model_combo(ui, "twin model", DNN_MAGENTA, &session.models, &mut session.twin);
    if let Some(note) = &session.synapse_note {
        ui.label(RichText::new(note).small().color(DNN_MAGENTA));
    }
    model_combo(ui, "compare with", SECOND_TWIN_AMBER, &session.models, &mut session.second);
    elm_download_ui(ui, session);
    let mut choice = session.threshold;
    egui::ComboBox::from_label("spike threshold").selected_text(choice.label()).width(140.0).show_ui(ui, |ui| {
        for c in ThresholdChoice::ALL {
            ui.selectable_value(&mut choice, c, c.label());
        }
    })
    .response
    .on_hover_text("Where a twin's spike probability marks a predicted spike. Count-matched: the threshold at which the twin predicted as many spikes as the cell fired on its validation simulations (an unbiased detector). FPR: the threshold giving that false-positive rate per 1-ms bin there (fewer false alarms, more misses).");
    if choice != session.threshold {
        session.set_threshold(choice);
    }
    let first = session.twin.snapshot();
    let second = session.second.snapshot();
    // the agreement first (what a viewer compares), then each twin's status and backend
    let running: Vec<(&TwinSnapshot, Color32)> =
        [(&*first, DNN_MAGENTA), (&*second, SECOND_TWIN_AMBER)].into_iter().filter(|(t, _)| matches!(t.state, TwinState::Running(_))).collect();
    if !running.is_empty() {
        ui.add_space(4.0);
        agreement_ui(ui, &running, window_ms);
    }
    for (t, colour) in [(&first, DNN_MAGENTA), (&second, SECOND_TWIN_AMBER)] {
        if t.state != TwinState::Off {
            ui.add_space(2.0);
            status_ui(ui, t, snap, colour);
        }
    }
}

/// "Get the published ELM twin" when it fits the open cell and is not installed, its progress
/// while it downloads, and the outcome.
fn elm_download_ui(ui: &mut egui::Ui, session: &mut TwinSession) {
    if let Some((label, fraction)) = session.elm_download.progress() {
        ui.add(egui::ProgressBar::new(fraction).desired_width(220.0).text(label));
    } else if session.models.could_get_published_elm() {
        let clicked = ui
            .button("Get the published ELM twin")
            .on_hover_text(format!(
                "Download the Branch-ELM neuron of Spieler et al. (ICLR 2024; MIT licence), trained by its authors on the paper's NEURON data, from the authors' repository at commit {}; every file's SHA-256 is checked, then it runs as the second twin. Saved in {}",
                &crate::peer::ELM_COMMIT[..8],
                session.models.dir.display()
            ))
            .clicked();
        if clicked {
            let ctx = ui.ctx().clone();
            session.elm_download.start(move || ctx.request_repaint());
        }
    }
    match &session.elm_message {
        Some(Ok(m)) => {
            ui.label(RichText::new(m.as_str()).small().weak());
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e.as_str());
        }
        None => {}
    }
}

/// The model list of one twin (`twin`), in its colour; "off" switches it off.
fn model_combo(ui: &mut egui::Ui, caption: &str, colour: Color32, models: &TwinModels, twin: &mut Twin) {
    // the button shows the model's name only (the list and the warning below say how it fits):
    // the full label pushed the caption into a column of letters
    let selected_text = twin
        .selected
        .as_ref()
        .and_then(|p| models.candidates.iter().find(|c| &c.onnx_path == p))
        .map_or_else(|| OFF_LABEL.to_string(), |c| c.metadata.name.clone());
    let mut choice = twin.selected.clone();
    egui::ComboBox::from_label(RichText::new(caption).color(colour)).selected_text(RichText::new(selected_text).color(colour)).width(200.0).show_ui(ui, |ui| {
        for c in &models.candidates {
            let label = if is_published(c) { format!("{} (published)", TwinModels::label(c)) } else { TwinModels::label(c) };
            ui.selectable_value(&mut choice, Some(c.onnx_path.clone()), label);
        }
        ui.selectable_value(&mut choice, None, OFF_LABEL);
    });
    if choice != twin.selected {
        twin.select(choice);
    }
    if let (Some(c), Ok(cell)) = (models.candidates.iter().find(|c| Some(&c.onnx_path) == twin.selected.as_ref()), &models.cell) {
        if c.fit == crate::surrogate::Fit::RowsOnly {
            ui.colored_label(ui.visuals().warn_fg_color, c.metadata.rows_only_warning(cell));
        }
        if let Some(src) = c.metadata.network.as_ref().and_then(|n| n.source.as_ref()) {
            // the short form here, the whole source and citation on hover
            let short = src.split(';').next().unwrap_or(src);
            ui.label(RichText::new(format!("published twin: {}", short_name_of_source(short))).small().weak()).on_hover_text(src.as_str());
        }
    }
}

fn no_model_ui(ui: &mut egui::Ui, models: &TwinModels) {
    let warn = ui.visuals().warn_fg_color;
    if !models.dir.is_dir() {
        ui.colored_label(warn, format!("No models folder at {} (give one with --models DIR).", models.dir.display()));
        return;
    }
    let what = match &models.cell {
        Ok(cell) => format!("No model in {} fits this morphology ({} input rows, fingerprint {}).", models.dir.display(), cell.n_rows, short(&cell.fingerprint)),
        Err(_) => format!("No model in {} fits this morphology.", models.dir.display()),
    };
    ui.colored_label(warn, what);
    if let Some(p) = &models.problem {
        ui.label(RichText::new(p).small().weak());
    }
    ui.label("Train one for it:");
    for cmd in [
        "neurotwin dataset --morphology FILE --count 512 --out data/cell",
        "python -m training train --data data/cell --out runs/cell",
        "python -m training export --run runs/cell --out models/cell-nmda",
    ] {
        ui.label(RichText::new(cmd).monospace().small());
    }
}

fn short(fingerprint: &str) -> String {
    let hex = fingerprint.strip_prefix("sha256:").unwrap_or(fingerprint);
    format!("{}…", hex.chars().take(8).collect::<String>())
}

fn status_ui(ui: &mut egui::Ui, t: &TwinSnapshot, snap: &Snapshot, colour: Color32) {
    let (error, warn) = (ui.visuals().error_fg_color, ui.visuals().warn_fg_color);
    match &t.state {
        TwinState::Off => {
            ui.label(RichText::new("switched off").weak());
            return;
        }
        TwinState::Loading(name) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("loading {name}…"));
            });
        }
        TwinState::Failed(e) => {
            ui.colored_label(error, format!("Error: {e}"));
        }
        TwinState::Running(name) => {
            let lag_ms = (snap.t_ms - t.predicted_until_ms as f64).max(0.0);
            let run = t.last_run.map_or_else(String::new, |r| format!(" · last run {} ms in {:.0} ms wall", r.new_ms, r.wall_ms));
            ui.label(RichText::new(format!("{name}: {lag_ms:.0} ms behind the cell{run}")).monospace().small().color(colour));
            if t.gap_ms > 0 {
                ui.colored_label(warn, format!("{} ms of input dropped (the twin fell too far behind)", t.gap_ms));
            }
        }
    }
    if let Some(b) = &t.backend {
        ui.label(RichText::new(format!("backend: {b}")).small().weak());
    }
    if let Some(w) = &t.backend_warning {
        ui.colored_label(warn, w.as_str());
    }
    match &t.threshold {
        Ok(th) => ui.label(RichText::new(format!("spike threshold p ≥ {th:.3}: {}", t.threshold_label)).small().weak()),
        Err(e) => ui.colored_label(warn, format!("no predicted spikes: {e}")),
    };
}

/// The last `window_ms` of the twin's window series.
fn visible(t: &TwinSnapshot, window_ms: f64) -> Series {
    let w = &t.window;
    let keep = (window_ms.max(0.0) as usize).min(w.len());
    let from = w.len() - keep;
    Series {
        first_bin: w.first_bin + from,
        cell_v_mv: w.cell_v_mv[from..].to_vec(),
        twin_v_mv: w.twin_v_mv[from..].to_vec(),
        probability: w.probability[from..].to_vec(),
        blind: w.blind.get(from..).map_or_else(Vec::new, <[bool]>::to_vec),
    }
}

/// How one column of the agreement table shows a number.
type Cell = fn(&Agreement) -> String;

/// The agreement table: one row per running twin, for the visible window and the whole run.
fn agreement_ui(ui: &mut egui::Ui, twins: &[(&TwinSnapshot, Color32)], window_ms: f64) {
    ui.strong("Agreement with the cell (±5 ms)");
    let per_twin: Vec<(String, Color32, Agreement, &Agreement)> = twins
        .iter()
        .map(|(t, colour)| {
            let name = match &t.state {
                TwinState::Running(n) => n.clone(),
                _ => String::new(),
            };
            (name, *colour, agreement(&visible(t, window_ms), &t.cell_spikes_ms, &t.twin_spikes_ms), &t.whole_run)
        })
        .collect();
    if let Some((_, _, w, r)) = per_twin.first() {
        if let Some(note) = blind_note(w, r) {
            ui.colored_label(ui.visuals().warn_fg_color, note);
        }
    }
    let cols: [(&str, Cell); 6] = [
        ("spikes", |a| a.twin_spikes.to_string()),
        ("hits", |a| a.hits.to_string()),
        ("misses", |a| a.misses.to_string()),
        ("false al.", |a| a.false_alarms.to_string()),
        ("RMSE mV", |a| a.rmse_mv.map_or("–".into(), |r| format!("{r:.2}"))),
        ("AUC", |a| a.auc.map_or("–".into(), |r| format!("{r:.3}"))),
    ];
    // the whole run first: it is what the twins are compared by; the window shows the moment
    for (title, whole) in [("whole run".to_string(), true), (format!("last {window_ms:.0} ms"), false)] {
        ui.label(RichText::new(title).small());
        egui::Grid::new(("twin_agreement", whole)).num_columns(7).striped(true).show(ui, |ui| {
            ui.label("");
            for (name, _) in cols {
                ui.label(RichText::new(name).small());
            }
            ui.end_row();
            if let Some((_, _, w, r)) = per_twin.first() {
                ui.label(RichText::new("cell").color(super::palette::CELL_CYAN));
                let a = if whole { *r } else { w };
                ui.label(RichText::new(a.cell_spikes.to_string()).monospace());
                ui.end_row();
            }
            for (name, colour, w, r) in &per_twin {
                let a = if whole { *r } else { w };
                ui.label(RichText::new(short_name(name)).color(*colour)).on_hover_text(name.as_str());
                for (_, f) in cols {
                    ui.label(RichText::new(f(a)).monospace());
                }
                ui.end_row();
            }
        });
    }
    if let Some((_, _, _, r)) = per_twin.first() {
        ui.label(RichText::new(format!("whole run: {:.1} s compared; AUC needs ≥ 5 cell spikes", r.n_ms as f64 / 1000.0)).small().weak());
    }
}

/// The first clause of a published model's source, cut at 90 characters.
fn short_name_of_source(s: &str) -> String {
    if s.chars().count() <= 90 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(89).collect::<String>())
    }
}

/// A model name short enough for the table's first column.
fn short_name(name: &str) -> String {
    if name.chars().count() <= 18 {
        name.to_string()
    } else {
        format!("{}…", name.chars().take(17).collect::<String>())
    }
}

/// What the agreement leaves out, when it leaves something out: the ms where the cell received
/// current the twin does not see.
pub fn blind_note(window: &Agreement, whole_run: &Agreement) -> Option<String> {
    (window.blind_ms > 0 || whole_run.blind_ms > 0).then(|| {
        format!(
            "Not counted: {} ms here, {} ms in the whole run, where the cell received somatic current (clamp or pulse, and {:.0} ms after it). The twin is blind to current injection: it sees only synaptic input.",
            window.blind_ms,
            whole_run.blind_ms,
            crate::app::live::twin_feed::BLIND_AFTER_MS
        )
    })
}
