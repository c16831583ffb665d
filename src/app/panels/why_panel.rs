//! "Why did it spike?": a window that works on the time selected in the trace panel (click the
//! voltage plot; clicks near a somatic spike snap to it). It paints the 3-D cell with the inputs
//! that arrived in the twin's receptive field before that time (weighted by recency), with the
//! twin's occlusion attribution, or with a first-layer filter of the twin; lists the top inputs
//! (click one to mark it in 3-D); and runs what-ifs that delete inputs in both the engine (re-run
//! from a checkpoint) and the twin, drawn over ghosts of the original traces.

mod paint;
mod whatif;

pub use paint::{branch_rows, recent_inputs};

use super::traces::TracePanel;
use crate::app::live::model::SynapseKind;
use crate::app::live::placements::{Location, EXC_COLOR, INH_COLOR};
use crate::app::live::runner::{Command, Snapshot};
use crate::app::session::Session;
use crate::app::twin::thread::TwinSnapshot;
use crate::app::view::view3d::View3d;
use crate::app::twin::why::WhyRequest;
use crate::attribution::spike_bin;
use crate::stimulus::{DendriticSegments, SynKind};
use eframe::egui::{self, Color32, RichText};
use std::sync::Arc;

/// What the 3-D view paints while the window is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[derive(clap::ValueEnum)]
pub enum Paint {
    Voltage,
    RecentInputs,
    Attribution,
    Filter,
}

/// A what-if asked for in the window: input rows whose spikes are deleted in the span, and
/// spikes (row, bin) added.
type EditRequest = (Vec<u32>, Vec<(u32, usize)>);

/// The what-if re-runs continue this long after the selected time (ms).
const AFTER_MS: f64 = 30.0;
/// Outside [p, 1 − p] the sigmoid is too flat for probability drops: attribution is painted as
/// logit drops.
const SATURATION_P: f32 = 0.02;
/// Receptive field assumed when no twin runs (ms).
const DEFAULT_WINDOW_MS: usize = 100;

pub struct WhyPanel {
    pub open: bool,
    /// Walk by itself: pick the first somatic spike, explain it, delete its top inputs.
    pub auto: bool,
    /// What the walk paints at its end (default the attribution).
    pub auto_paint: Option<Paint>,
    auto_stage: u8,
    pub paint: Paint,
    /// Recency weighting of the spike-triggered view: exp(−Δt / τ).
    pub recency_tau_ms: f64,
    pub delete_top: usize,
    /// The deletion span (ms, inclusive); `None`: the twin's window before the selected time.
    pub span_ms: Option<(f64, f64)>,
    /// Burst added on the picked input: this many spikes, the last this long before t.
    pub add_spikes: usize,
    pub add_before_ms: usize,
    pub filter_channel: usize,
    pub filter_lag_ms: usize,
    pub filter_kind: SynapseKind,
    picked_rank: Option<usize>,
    overlay_key: Option<(Paint, u64, u64, usize, usize, bool)>,
    overlay_version: u64,
    segments: Option<(u64, Arc<DendriticSegments>)>,
}

impl Default for WhyPanel {
    fn default() -> Self {
        WhyPanel {
            open: false,
            auto: false,
            auto_paint: None,
            auto_stage: 0,
            paint: Paint::RecentInputs,
            recency_tau_ms: 20.0,
            delete_top: 20,
            span_ms: None,
            add_spikes: 3,
            add_before_ms: 5,
            filter_channel: 0,
            filter_lag_ms: 0,
            filter_kind: SynapseKind::Excitatory,
            picked_rank: None,
            overlay_key: None,
            overlay_version: 0,
            segments: None,
        }
    }
}

impl WhyPanel {
    /// Closed, or open and walking by itself (`auto`), ending on `paint`.
    pub fn new(auto: bool, paint: Option<Paint>) -> WhyPanel {
        WhyPanel { open: auto, auto, auto_paint: paint, ..WhyPanel::default() }
    }

    fn segments(&mut self, session: &Session) -> Option<Arc<DendriticSegments>> {
        let id = session.geometry.id;
        if self.segments.as_ref().is_none_or(|(g, _)| *g != id) {
            self.segments = DendriticSegments::new(&session.morph, &session.cable).ok().map(|s| (id, Arc::new(s)));
        }
        self.segments.as_ref().map(|(_, s)| s.clone())
    }

    pub fn ui(&mut self, ctx: &egui::Context, session: &mut Session, traces: &mut TracePanel, view: &mut View3d) {
        if !self.open {
            view.overlay = None;
            view.highlight_um = None;
            return;
        }
        let snap = session.runner.snapshot();
        let twin: Option<Arc<TwinSnapshot>> = session.twin.as_ref().map(|t| t.twin.snapshot());
        let native = twin.as_ref().and_then(|t| t.native.clone());
        let window_ms = native.as_ref().map_or(DEFAULT_WINDOW_MS, |n| n.window_ms());
        traces.selection_window_ms = window_ms as f64;
        let Some(segs) = self.segments(session) else {
            view.overlay = None;
            return;
        };
        if self.auto {
            self.auto_step(session, &snap, twin.as_deref(), traces, window_ms);
        }
        let mut open = self.open;
        egui::Window::new("Why did it spike?").open(&mut open).default_width(380.0).default_pos([8.0, 40.0]).show(ctx, |ui| {
            self.selection_ui(ui, &snap, traces, window_ms);
            let Some(t_ms) = traces.selected_t_ms else {
                ui.label(RichText::new("Click the voltage trace (near a spike to pick it) or use the buttons above.").weak());
                return;
            };
            ui.separator();
            ui.horizontal(|ui| {
                ui.label("paint the cell with");
                ui.selectable_value(&mut self.paint, Paint::Voltage, "voltage");
                ui.selectable_value(&mut self.paint, Paint::RecentInputs, "recent inputs");
                ui.selectable_value(&mut self.paint, Paint::Attribution, "attribution");
                ui.selectable_value(&mut self.paint, Paint::Filter, "filter");
            });
            if self.paint == Paint::RecentInputs {
                ui.horizontal(|ui| {
                    ui.label("recency τ");
                    ui.add(egui::DragValue::new(&mut self.recency_tau_ms).range(1.0..=200.0).suffix(" ms"));
                    ui.label(RichText::new(format!("inputs in the {window_ms} ms before t; red exc, blue inh")).small().weak());
                });
            }
            ui.separator();
            self.attribution_ui(ui, session, twin.as_deref(), &segs, t_ms, view);
            ui.separator();
            self.what_if_ui(ui, session, twin.as_deref(), &snap, &segs, t_ms, window_ms);
            if let Some(n) = native.as_ref().and_then(|n| n.as_tcn()) {
                ui.separator();
                ui.label(RichText::new("First-layer filters of the twin").strong());
                ui.horizontal(|ui| {
                    ui.add(egui::Slider::new(&mut self.filter_channel, 0..=n.first_layer_channels() - 1).text("channel"));
                    ui.selectable_value(&mut self.filter_kind, SynapseKind::Excitatory, "exc");
                    ui.selectable_value(&mut self.filter_kind, SynapseKind::Inhibitory, "inh");
                });
                ui.add(egui::Slider::new(&mut self.filter_lag_ms, 0..=n.first_layer_kernel_ms() - 1).text("lag (ms before the output)"));
                if ui.small_button("paint this filter").clicked() {
                    self.paint = Paint::Filter;
                }
            }
        });
        self.open = open;
        self.update_overlay(session, &snap, twin.as_deref(), &segs, traces.selected_t_ms, window_ms, view);
    }

    /// One step of the automatic walk-through (`--why`).
    fn auto_step(&mut self, session: &mut Session, snap: &Snapshot, twin: Option<&TwinSnapshot>, traces: &mut TracePanel, window_ms: usize) {
        match self.auto_stage {
            0 => {
                // the first spike that has 30 ms of simulation after it (and a full window before)
                if let Some(&t) = snap.soma_spikes_ms.iter().find(|&&t| t + AFTER_MS < snap.t_ms && t > window_ms as f64) {
                    traces.selected_t_ms = Some(t);
                    self.auto_stage = 1;
                }
            }
            1 => {
                let Some(t) = traces.selected_t_ms else { return };
                if let (Some(tw), Some(s)) = (twin, session.twin.as_ref()) {
                    if tw.native.is_some() && tw.predicted_until_ms > spike_bin(t) + AFTER_MS as usize {
                        s.twin.ask(WhyRequest::Explain { t_bin: spike_bin(t) });
                        self.paint = Paint::Attribution;
                        self.auto_stage = 2;
                    }
                }
            }
            2 => {
                let Some(t) = traces.selected_t_ms else { return };
                let t_bin = spike_bin(t);
                if let Some(Ok(a)) = twin.and_then(|tw| tw.explain.clone()).as_deref() {
                    if a.t_ms == t_bin {
                        let rows: Vec<u32> = a.top_rows(self.delete_top).iter().map(|&r| r as u32).collect();
                        self.request_what_if(session, rows, t, window_ms, Vec::new());
                        // hold still so the selected spike stays in the traces
                        session.runner.send(Command::Pause);
                        if let Some(p) = self.auto_paint {
                            self.paint = p;
                        }
                        self.auto_stage = 3;
                    }
                }
            }
            _ => {}
        }
    }

    fn selection_ui(&mut self, ui: &mut egui::Ui, snap: &Snapshot, traces: &mut TracePanel, window_ms: usize) {
        ui.horizontal(|ui| {
            ui.label("time");
            match traces.selected_t_ms.as_mut() {
                Some(t) => {
                    ui.add(egui::DragValue::new(t).speed(0.5).suffix(" ms"));
                }
                None => {
                    ui.label(RichText::new("none").weak());
                }
            }
            if ui.button("last cell spike").clicked() {
                traces.selected_t_ms = snap.soma_spikes_ms.last().copied();
            }
            if ui.button("now").clicked() {
                traces.selected_t_ms = Some(snap.t_ms);
            }
            if ui.button("clear").clicked() {
                traces.selected_t_ms = None;
            }
        });
        if let Some(t) = traces.selected_t_ms {
            let spike = snap.soma_spikes_ms.iter().any(|s| (s - t).abs() < 1e-9);
            ui.label(RichText::new(format!("{}window {:.0}–{:.0} ms (the twin's receptive field, {window_ms} ms)", if spike { "somatic spike · " } else { "" }, t - window_ms as f64, t)).small().weak());
        }
    }

    fn attribution_ui(&mut self, ui: &mut egui::Ui, session: &mut Session, twin: Option<&TwinSnapshot>, segs: &DendriticSegments, t_ms: f64, view: &mut View3d) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Attribution by the twin").strong());
            let enabled = twin.is_some_and(|t| t.native.is_some());
            if ui.add_enabled(enabled, egui::Button::new("explain")).on_disabled_hover_text("needs a running twin").clicked() {
                if let Some(t) = session.twin.as_ref() {
                    t.twin.ask(WhyRequest::Explain { t_bin: spike_bin(t_ms) });
                    self.paint = Paint::Attribution;
                    self.picked_rank = None;
                }
            }
        });
        let Some(result) = twin.and_then(|t| t.explain.clone()) else {
            ui.label(RichText::new("Occlusion: each input's score is how much the twin's spike probability at t drops without its spikes in the window.").small().weak());
            return;
        };
        match result.as_ref() {
            Err(e) => {
                ui.colored_label(Color32::from_rgb(255, 170, 60), e);
            }
            Ok(a) => {
                ui.label(format!("t = {} ms: twin p(spike) = {:.3}; {} inputs active in {}–{} ms", a.t_ms, a.probability, a.ranking.len(), a.window_from_ms, a.t_ms));
                let threshold = twin.and_then(|t| t.threshold.as_ref().ok().copied());
                let blind = twin.is_some_and(|t| t.window.blind_spike(t_ms));
                if let Some(note) = missed_spike_note(f64::from(a.probability), threshold, blind) {
                    ui.colored_label(Color32::from_rgb(255, 170, 60), note);
                }
                egui::Grid::new("why_top").striped(true).num_columns(6).show(ui, |ui| {
                    for h in ["#", "kind", "where", "from soma", "spikes", "Δp (Δlogit)"] {
                        ui.label(RichText::new(h).small().strong());
                    }
                    ui.end_row();
                    for (i, r) in a.ranking.iter().take(12).enumerate() {
                        let picked = self.picked_rank == Some(i);
                        if ui.selectable_label(picked, format!("{}", i + 1)).clicked() {
                            self.picked_rank = Some(i);
                            let seg = &segs.segments[r.segment];
                            view.highlight_um = Location::new(&session.morph, &session.cable, seg.section, seg.x).map(|l| l.position_um);
                        }
                        let (txt, col) = if r.kind == SynKind::Exc { ("exc", EXC_COLOR) } else { ("inh", INH_COLOR) };
                        ui.label(RichText::new(txt).color(col));
                        ui.label(format!("{}({:.2})", r.sec, r.x));
                        ui.label(format!("{:.0} µm", r.distance_um));
                        ui.label(format!("{}", r.n_spikes));
                        ui.label(format!("{:+.4} ({:+.2})", r.score, r.logit_drop));
                        ui.end_row();
                    }
                });
            }
        }
    }
}

/// What to say when the twin's attribution cannot explain the selected time: the twin did not
/// predict a spike there (p below its threshold), or the cell received current the twin does not
/// see (`blind`). `None` when the twin predicted the spike.
pub fn missed_spike_note(p: f64, threshold: Option<f64>, blind: bool) -> Option<String> {
    let missed = threshold.is_some_and(|th| p < th);
    match (blind, missed) {
        (true, _) => Some(format!(
            "The cell received somatic current here (clamp or pulse), which the twin never sees: the twin gave p = {p:.3}, and its attribution explains nothing of this spike; use the engine's what-if below."
        )),
        (false, true) => Some(format!(
            "The twin gave p = {p:.3} here (its threshold is {:.3}): it did not predict this spike, so its attribution explains nothing; use the engine's what-if below.",
            threshold.unwrap_or(f64::NAN)
        )),
        (false, false) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::live::runner::RasterSpike;

    #[test]
    fn a_missed_spike_says_so() {
        let note = missed_spike_note(0.0, Some(0.006), false).expect("a note");
        assert!(note.contains("the twin gave p = 0.000 here") || note.contains("The twin gave p = 0.000 here"), "{note}");
        assert!(note.contains("attribution explains nothing") && note.contains("engine's what-if"), "{note}");
        assert!(missed_spike_note(0.4, Some(0.006), false).is_none(), "a predicted spike needs no note");
        assert!(missed_spike_note(0.4, Some(0.006), true).expect("blind").contains("somatic current"));
    }

    #[test]
    fn recent_inputs_weigh_by_recency_and_sign_by_kind() {
        let spike = |t_ms: f64, node: u32, kind: SynapseKind| RasterSpike { t_ms, row: 0, kind, node };
        let snap = Snapshot {
            raster: vec![
                spike(99.0, 1, SynapseKind::Excitatory),
                spike(80.0, 1, SynapseKind::Excitatory),
                spike(95.0, 2, SynapseKind::Inhibitory),
                spike(10.0, 3, SynapseKind::Excitatory), // before the window
                spike(101.0, 3, SynapseKind::Excitatory), // after t
            ],
            ..Snapshot::default()
        };
        let v = recent_inputs(&snap, 5, 100.0, 50.0, 20.0);
        let e = |dt: f64| (-dt / 20.0f64).exp() as f32;
        assert!((v[1] - (e(1.0) + e(20.0))).abs() < 1e-6);
        assert!((v[2] + e(5.0)).abs() < 1e-6, "inhibition is negative");
        assert!(v[0].is_nan() && v[3].is_nan() && v[4].is_nan(), "no input, no value");
    }
}
