//! "Why did it spike?": a window that works on the time selected in the trace panel (click the
//! voltage plot; clicks near a somatic spike snap to it). It paints the 3-D cell with the inputs
//! that arrived in the twin's receptive field before that time (weighted by recency), with the
//! twin's occlusion attribution, or with a first-layer filter of the twin; lists the top inputs
//! (click one to mark it in 3-D); and runs what-ifs that delete inputs in both the engine (re-run
//! from a checkpoint) and the twin, drawn over ghosts of the original traces.

use super::traces::{TracePanel, BIOPHYSICAL_CYAN};
use super::twin_panel::DNN_MAGENTA;
use crate::app::model::SynapseKind;
use crate::app::placements::{Location, EXC_COLOR, INH_COLOR};
use crate::app::runner::{Command, Snapshot};
use crate::app::session::Session;
use crate::app::twin::TwinSnapshot;
use crate::app::view3d::{NodeOverlay, View3d};
use crate::app::whatif_engine::Edit;
use crate::app::why::WhyRequest;
use crate::attribution::{spike_bin, Attribution};
use crate::stimulus::{DendriticSegments, SynKind};
use eframe::egui::{self, Color32, RichText};
use egui_plot::{Legend, Line, Plot};
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

/// Input rows (exc and inh) of every segment on `section` and the sections beyond it.
pub fn branch_rows(morph: &crate::Morphology, segs: &DendriticSegments, section: usize) -> Vec<u32> {
    let in_branch = |mut s: usize| loop {
        if s == section {
            return true;
        }
        match morph.sections.get(s).and_then(|x| x.parent) {
            Some(p) => s = p,
            None => return false,
        }
    };
    let n = segs.len() as u32;
    let exc: Vec<u32> = segs.segments.iter().enumerate().filter(|(_, g)| in_branch(g.section)).map(|(i, _)| i as u32).collect();
    exc.iter().copied().chain(exc.iter().map(|r| r + n)).collect()
}

/// Per-node values (NaN where no dendritic segment) accumulated from (segment, value) pairs.
fn node_values(n_nodes: usize, segs: &DendriticSegments, items: impl Iterator<Item = (usize, f32)>) -> Vec<f32> {
    let mut v = vec![f32::NAN; n_nodes];
    for s in &segs.segments {
        if let Some(x) = v.get_mut(s.node) {
            *x = 0.0;
        }
    }
    for (seg, val) in items {
        if let Some(x) = segs.segments.get(seg).and_then(|s| v.get_mut(s.node)) {
            *x += val;
        }
    }
    v
}

fn max_abs(v: &[f32]) -> f32 {
    v.iter().filter(|x| x.is_finite()).fold(0.0f32, |m, x| m.max(x.abs()))
}

/// The spike-triggered view: every input spike in `[t − window, t]` adds exp(−(t − t_s)/τ) to its
/// node, positive for excitation and negative for inhibition.
pub fn recent_inputs(snap: &Snapshot, n_nodes: usize, t_ms: f64, window_ms: f64, tau_ms: f64) -> Vec<f32> {
    let mut v = vec![f32::NAN; n_nodes];
    for s in snap.raster.iter().filter(|s| s.t_ms <= t_ms && s.t_ms > t_ms - window_ms) {
        let w = (-(t_ms - s.t_ms) / tau_ms.max(1e-3)).exp() as f32;
        if let Some(x) = v.get_mut(s.node as usize) {
            let signed = if s.kind == SynapseKind::Excitatory { w } else { -w };
            *x = if x.is_nan() { signed } else { *x + signed };
        }
    }
    v
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
            if let Some(n) = &native {
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

    /// Send one edit to the engine and the twin. `span_ms`: the deletion span (default the window
    /// before t); `add`: spikes (row, bin) to add.
    fn request_what_if(&mut self, session: &mut Session, rows: Vec<u32>, t_ms: f64, window_ms: usize, add: Vec<(u32, usize)>) {
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

    #[allow(clippy::too_many_arguments)]
    fn what_if_ui(&mut self, ui: &mut egui::Ui, session: &mut Session, twin: Option<&TwinSnapshot>, snap: &Snapshot, segs: &DendriticSegments, t_ms: f64, window_ms: usize) {
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
        Plot::new("whatif_plot").height(150.0).legend(Legend::default()).y_axis_label("V (mV)").include_y(-80.0).include_y(0.0).show(ui, |p| {
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

    #[allow(clippy::too_many_arguments)]
    fn update_overlay(&mut self, session: &Session, snap: &Snapshot, twin: Option<&TwinSnapshot>, segs: &DendriticSegments, t_ms: Option<f64>, window_ms: usize, view: &mut View3d) {
        let Some(t_ms) = t_ms.filter(|_| self.paint != Paint::Voltage) else {
            view.overlay = None;
            self.overlay_key = None;
            return;
        };
        let n_nodes = session.cable.nodes.len();
        let explain_id = twin.and_then(|t| t.explain.as_ref()).map_or(0, |e| Arc::as_ptr(e) as u64);
        let inputs_id = if self.paint == Paint::RecentInputs { snap.seq ^ t_ms.to_bits() ^ self.recency_tau_ms.to_bits() } else { t_ms.to_bits() };
        let key = (self.paint, inputs_id, explain_id, self.filter_channel, self.filter_lag_ms, self.filter_kind == SynapseKind::Excitatory);
        if self.overlay_key == Some(key) && view.overlay.is_some() {
            return;
        }
        self.overlay_key = Some(key);
        self.overlay_version += 1;
        let n_seg = segs.len();
        let overlay = match self.paint {
            Paint::Voltage => None,
            Paint::RecentInputs => {
                let values = recent_inputs(snap, n_nodes, t_ms, window_ms as f64, self.recency_tau_ms);
                let scale = max_abs(&values).max(1e-6);
                Some((values, scale, format!("inputs before t (τ {:.0} ms)", self.recency_tau_ms), "inh", "exc"))
            }
            Paint::Attribution => match twin.and_then(|t| t.explain.clone()).as_deref() {
                Some(Ok(a)) => {
                    // probability drops vanish where the sigmoid saturates: then paint the logit drops
                    let saturated = !(SATURATION_P..=1.0 - SATURATION_P).contains(&a.probability);
                    let values = node_values(n_nodes, segs, a.ranking.iter().map(|r| (r.segment, if saturated { r.logit_drop } else { r.score })));
                    let scale = max_abs(&values).max(1e-6);
                    let label = if saturated { format!("Δ logit (p = {:.3})", a.probability) } else { "Δ p(spike)".to_string() };
                    Some((values, scale, label, "opposes", "supports"))
                }
                _ => None,
            },
            Paint::Filter => twin.and_then(|t| t.native.clone()).map(|n| {
                let offset = if self.filter_kind == SynapseKind::Excitatory { 0 } else { n_seg };
                let ch = self.filter_channel.min(n.first_layer_channels() - 1);
                let lag = self.filter_lag_ms.min(n.first_layer_kernel_ms() - 1);
                let w = |seg: usize, lag: usize| n.first_layer_weight(ch, offset + seg, lag).unwrap_or(0.0);
                let values = node_values(n_nodes, segs, (0..n_seg).map(|s| (s, w(s, lag))));
                // one scale over all lags, so the slider shows the kernel's time course
                let scale = (0..n_seg).flat_map(|s| (0..n.first_layer_kernel_ms()).map(move |l| (s, l))).fold(0.0f32, |m, (s, l)| m.max(w(s, l).abs())).max(1e-9);
                let kind = if offset == 0 { "exc" } else { "inh" };
                (values, scale, format!("filter {ch}, {kind} rows, lag {lag} ms"), "-", "+")
            }),
        };
        view.overlay = overlay.map(|(values, scale, label, neg, pos)| {
            Arc::new(NodeOverlay { version: self.overlay_version, values, scale, label, neg_label: neg.to_string(), pos_label: pos.to_string() })
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::runner::RasterSpike;

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
