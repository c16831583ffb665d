//! The deep-network twin in the control panel: which model runs (or off), the backend, how far
//! behind the simulation it is, and the running agreement with the cell over the visible window
//! and the whole run. When no model fits the morphology, how to train one.

use crate::app::twin::agreement::{agreement, Agreement, Series};
use crate::app::live::runner::Snapshot;
use crate::app::twin::thread::{TwinSnapshot, TwinState, SPIKE_FPR};
use crate::app::twin::models::{TwinModels, TwinSession};
use eframe::egui::{self, Color32, RichText};

/// The twin's colour, everywhere (the biophysical cell is cyan).
pub const DNN_MAGENTA: Color32 = Color32::from_rgb(255, 60, 220);

/// Text of the "off" entry in the model list.
pub const OFF_LABEL: &str = "off";

/// The panel; `window_ms` is the visible trace window.
pub fn twin_ui(ui: &mut egui::Ui, twin: Option<&mut TwinSession>, twin_error: Option<&str>, snap: &Snapshot, window_ms: f64) {
    ui.heading(RichText::new("Deep-network twin").color(DNN_MAGENTA));
    let Some(session) = twin else {
        ui.label(twin_error.unwrap_or("no model folder given (--models DIR)"));
        return;
    };
    let models = &session.models;
    if models.candidates.is_empty() {
        no_model_ui(ui, models);
        return;
    }
    // the button shows the model's name only (the list and the warning below say how it fits):
    // the full label pushed the "twin model" caption into a column of letters
    let selected_text = session
        .twin
        .selected
        .as_ref()
        .and_then(|p| models.candidates.iter().find(|c| &c.onnx_path == p))
        .map_or_else(|| OFF_LABEL.to_string(), |c| c.metadata.name.clone());
    let mut choice = session.twin.selected.clone();
    egui::ComboBox::from_label("twin model").selected_text(selected_text).width(200.0).show_ui(ui, |ui| {
        for c in &models.candidates {
            ui.selectable_value(&mut choice, Some(c.onnx_path.clone()), TwinModels::label(c));
        }
        ui.selectable_value(&mut choice, None, OFF_LABEL);
    });
    if choice != session.twin.selected {
        session.twin.select(choice);
    }
    if let (Some(c), Ok(cell)) = (models.candidates.iter().find(|c| Some(&c.onnx_path) == session.twin.selected.as_ref()), &models.cell) {
        if c.fit == crate::surrogate::Fit::RowsOnly {
            ui.colored_label(ui.visuals().warn_fg_color, c.metadata.rows_only_warning(cell));
        }
    }
    let t = session.twin.snapshot();
    status_ui(ui, &t, snap);
    if matches!(t.state, TwinState::Running(_)) {
        ui.add_space(4.0);
        agreement_ui(ui, &t, window_ms);
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

fn status_ui(ui: &mut egui::Ui, t: &TwinSnapshot, snap: &Snapshot) {
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
            ui.label(RichText::new(format!("{name}: {lag_ms:.0} ms behind the cell{run}")).monospace().small());
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
        Ok(th) => ui.label(RichText::new(format!("spike threshold p ≥ {th:.3} (FPR {} %)", SPIKE_FPR * 100.0)).small().weak()),
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

/// How one row of the agreement table shows a number.
type Cell = fn(&Agreement) -> String;

fn agreement_ui(ui: &mut egui::Ui, t: &TwinSnapshot, window_ms: f64) {
    let window = agreement(&visible(t, window_ms), &t.cell_spikes_ms, &t.twin_spikes_ms);
    ui.strong("Agreement (±5 ms)");
    if let Some(note) = blind_note(&window, &t.whole_run) {
        ui.colored_label(ui.visuals().warn_fg_color, note);
    }
    egui::Grid::new("twin_agreement").num_columns(3).striped(true).show(ui, |ui| {
        ui.label("");
        ui.label(format!("last {window_ms:.0} ms"));
        ui.label("whole run");
        ui.end_row();
        let rows: [(&str, Cell); 6] = [
            ("spikes cell / twin", |a| format!("{} / {}", a.cell_spikes, a.twin_spikes)),
            ("hits", |a| a.hits.to_string()),
            ("misses", |a| a.misses.to_string()),
            ("false alarms", |a| a.false_alarms.to_string()),
            ("soma RMSE", |a| a.rmse_mv.map_or("–".into(), |r| format!("{r:.2} mV"))),
            ("ROC AUC", |a| a.auc.map_or("– (< 5 spikes)".into(), |r| format!("{r:.3}"))),
        ];
        for (name, f) in rows {
            ui.label(name);
            ui.label(RichText::new(f(&window)).monospace());
            ui.label(RichText::new(f(&t.whole_run)).monospace());
            ui.end_row();
        }
    });
    ui.label(RichText::new(format!("whole run: {:.1} s compared", t.whole_run.n_ms as f64 / 1000.0)).small().weak());
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
