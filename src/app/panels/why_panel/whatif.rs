//! The "What if…" part of the "Why?" window: edits of the input in a span (delete the top
//! attributed inputs, the picked input, its branch, all inhibition or excitation; add a burst),
//! sent to the engine (re-run from a checkpoint) and the twin, and their traces over ghosts of
//! the originals.

use super::{branch_rows, EditRequest, WhyPanel, AFTER_MS};
use crate::app::panels::traces::BIOPHYSICAL_CYAN;
use crate::app::panels::twin_panel::DNN_MAGENTA;
use crate::app::live::runner::{Command, Snapshot};
use crate::app::session::Session;
use crate::app::twin::thread::TwinSnapshot;
use crate::app::live::whatif_engine::Edit;
use crate::app::twin::why::WhyRequest;
use crate::attribution::{spike_bin, Attribution};
use crate::stimulus::DendriticSegments;
use eframe::egui::{self, Color32, RichText};
use egui_plot::{Line, Plot};

impl WhyPanel {
    /// Send one edit to the engine and the twin. `span_ms`: the deletion span (default the window
    /// before t); `add`: spikes (row, bin) to add.
    pub(super) fn request_what_if(&mut self, session: &mut Session, rows: Vec<u32>, t_ms: f64, window_ms: usize, add: Vec<(u32, usize)>) {
        let t_bin = spike_bin(t_ms);
        let (from_bin, to_bin) = self.span(t_bin, window_ms);
        let show_from_bin = add.iter().map(|a| a.1).chain([from_bin]).min().unwrap_or(from_bin);
        let edit = Edit { rows: rows.clone(), from_ms: from_bin as f64, to_ms: to_bin as f64 + 0.999, add: add.iter().map(|&(r, b)| (r, b as f64)).collect() };
        session.runner.send(Command::WhatIf { edit, to_ms: t_ms + AFTER_MS });
        if let Some(t) = session.twin.as_ref() {
            let rows = rows.into_iter().map(|r| r as usize).collect();
            let add = add.into_iter().map(|(r, b)| (r as usize, b)).collect();
            t.twin.ask(WhyRequest::WhatIf { rows, from_bin, to_bin, show_from_bin, until_bin: t_bin + AFTER_MS as usize, add });
        }
    }

    /// The deletion span `[from, to]` (bins): the user's, or the window before t.
    fn span(&self, t_bin: usize, window_ms: usize) -> (usize, usize) {
        match self.span_ms {
            Some((a, b)) if a <= b => (a.max(0.0) as usize, b.max(0.0) as usize),
            _ => ((t_bin + 1).saturating_sub(window_ms), t_bin),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn what_if_ui(&mut self, ui: &mut egui::Ui, session: &mut Session, twin: Option<&TwinSnapshot>, snap: &Snapshot, segs: &DendriticSegments, t_ms: f64, window_ms: usize) {
        ui.label(RichText::new("What if… (engine re-run from a checkpoint, and the twin)").strong());
        let t_bin = spike_bin(t_ms);
        let explain: Option<Attribution> = twin.and_then(|t| t.explain.as_ref()).and_then(|r| r.as_ref().as_ref().ok().cloned()).filter(|a| a.t_ms == t_bin);
        let picked = explain.as_ref().zip(self.picked_rank).and_then(|(a, i)| a.ranking.get(i).cloned());
        let (from_bin, to_bin) = self.span(t_bin, window_ms);
        ui.horizontal(|ui| {
            ui.label("delete in");
            let mut custom = self.span_ms.is_some();
            let (mut a, mut b) = self.span_ms.unwrap_or((from_bin as f64, to_bin as f64));
            ui.add(egui::DragValue::new(&mut a).speed(1.0).suffix(" ms"));
            ui.label("to");
            ui.add(egui::DragValue::new(&mut b).speed(1.0).suffix(" ms"));
            if (a, b) != (from_bin as f64, to_bin as f64) {
                custom = true;
            }
            if custom {
                self.span_ms = Some((a.floor(), b.floor()));
                if ui.small_button("the window").clicked() {
                    self.span_ms = None;
                }
            }
        });
        let n_seg = segs.len() as u32;
        let mut request: Option<EditRequest> = None;
        ui.horizontal_wrapped(|ui| {
            ui.add(egui::DragValue::new(&mut self.delete_top).range(1..=500));
            if ui.add_enabled(explain.is_some(), egui::Button::new("top inputs")).on_disabled_hover_text("explain this time first").clicked() {
                request = explain.as_ref().map(|a| (a.top_rows(self.delete_top).iter().map(|&r| r as u32).collect(), Vec::new()));
            }
            let picked_hint = "pick an input in the list first";
            if ui.add_enabled(picked.is_some(), egui::Button::new("the picked input")).on_disabled_hover_text(picked_hint).clicked() {
                request = picked.as_ref().map(|p| (vec![p.row as u32], Vec::new()));
            }
            if ui.add_enabled(picked.is_some(), egui::Button::new("its branch")).on_disabled_hover_text(picked_hint).on_hover_text("every input on the picked input's section and the sections beyond it").clicked() {
                if let Some(p) = &picked {
                    let rows = branch_rows(&session.morph, segs, segs.segments[p.segment].section);
                    request = Some((rows, Vec::new()));
                }
            }
            if ui.button("all inhibition").clicked() {
                request = Some(((n_seg..2 * n_seg).collect(), Vec::new()));
            }
            if ui.button("all excitation").clicked() {
                request = Some(((0..n_seg).collect(), Vec::new()));
            }
            if ui.button("nothing (re-run)").clicked() {
                request = Some((Vec::new(), Vec::new()));
            }
        });
        ui.horizontal(|ui| {
            ui.label("add");
            ui.add(egui::DragValue::new(&mut self.add_spikes).range(1..=20));
            ui.label("spikes, 1 ms apart, ending");
            ui.add(egui::DragValue::new(&mut self.add_before_ms).range(0..=window_ms.saturating_sub(20)).suffix(" ms before t"));
            if ui.add_enabled(picked.is_some(), egui::Button::new("on the picked input")).on_disabled_hover_text("pick an input in the list first").clicked() {
                if let Some(p) = &picked {
                    let end = t_bin.saturating_sub(self.add_before_ms);
                    let add = (0..self.add_spikes).filter_map(|k| end.checked_sub(k)).map(|b| (p.row as u32, b)).collect();
                    request = Some((Vec::new(), add));
                }
            }
        });
        if let Some((rows, add)) = request {
            self.request_what_if(session, rows, t_ms, window_ms, add);
        }
        let engine = snap.whatif.clone();
        let twin_w = twin.and_then(|t| t.what_if.clone());
        if engine.is_none() && twin_w.is_none() {
            return;
        }
        if let Some(e) = engine.as_deref() {
            match e {
                Ok(w) => {
                    let near = |s: &[f64]| s.iter().any(|x| (x - t_ms).abs() <= 5.0);
                    let verdict = match (near(&w.original_spikes_ms), near(&w.edited_spikes_ms)) {
                        (true, true) => "the spike survives",
                        (true, false) => "the spike is abolished",
                        (false, true) => "a spike appears",
                        (false, false) => "no spike either way",
                    };
                    ui.label(RichText::new(format!("engine: {verdict} ({} input spikes deleted, {} added; re-run from {:.0} ms)", w.deleted_spikes, w.added_spikes, w.checkpoint_ms)).color(BIOPHYSICAL_CYAN));
                }
                Err(e) => {
                    ui.colored_label(Color32::from_rgb(255, 170, 60), format!("engine: {e}"));
                }
            }
        }
        if let Some(w) = twin_w.as_deref() {
            match w {
                Ok(w) => {
                    ui.label(RichText::new(format!("twin: p(spike) at {} ms {:.3} -> {:.3}", w.t_bin, w.p_original, w.p_edited)).color(DNN_MAGENTA));
                }
                Err(e) => {
                    ui.colored_label(Color32::from_rgb(255, 170, 60), format!("twin: {e}"));
                }
            }
        }
        // the legend as a line of text, so it covers none of the traces
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("cell: faint = original, bright = edited").color(BIOPHYSICAL_CYAN).small());
            ui.label(RichText::new("twin: faint = original, bright = edited").color(DNN_MAGENTA).small());
            ui.label(RichText::new("white line: t").small());
        });
        Plot::new("whatif_plot")
            .height(170.0)
            .y_axis_label("V (mV)")
            .x_axis_label("t (ms)")
            .y_axis_min_width(56.0)
            .y_axis_formatter(|m, _| format!("{:.0}", m.value))
            .include_y(-80.0)
            .include_y(0.0)
            .show(ui, |p| {
            if let Some(Ok(w)) = engine.as_deref() {
                p.line(Line::new("cell (original)", w.original.clone()).color(BIOPHYSICAL_CYAN.gamma_multiply(0.35)).width(3.0));
                p.line(Line::new("cell (edited)", w.edited.clone()).color(BIOPHYSICAL_CYAN).width(1.3));
            }
            if let Some(Ok(w)) = twin_w.as_deref() {
                let pts = |v: &[f32]| v.iter().enumerate().map(|(k, &y)| [(w.first_bin + k) as f64, f64::from(y)]).collect::<Vec<_>>();
                p.line(Line::new("twin (original)", pts(&w.original.soma_v_mv)).color(DNN_MAGENTA.gamma_multiply(0.35)).width(3.0));
                p.line(Line::new("twin (edited)", pts(&w.edited.soma_v_mv)).color(DNN_MAGENTA).width(1.3));
            }
            p.vline(egui_plot::VLine::new("t", t_ms).color(Color32::WHITE).width(0.8));
        });
    }
}
