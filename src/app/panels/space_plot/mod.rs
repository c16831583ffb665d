//! "Voltage along a path" (the space plot): V against path distance from the soma along one
//! path, live, with the peak of each point since the path was chosen (the back-propagating AP's
//! attenuation, an EPSP's decay towards the soma and the Ca plateau of the hot zone show as the
//! shape of that envelope), the chosen state quantity along the same path when the view colours
//! by one, and a dendrogram of the whole tree coloured like the 3-D view. The path (default: the
//! main apical trunk to the farthest tip of the tuft; or soma to the tip beyond a clicked point)
//! is highlighted in the 3-D view.
//!
//! Uses the session (morphology, cable, snapshot) and the view (colours, path highlight, picking).

pub mod dendrogram;
pub mod path;
#[cfg(test)]
mod tests;

use self::dendrogram::DendrogramLayout;
use self::path::{apical_trunk_tip, farthest_tip_below, SpacePath};
use crate::app::live::runner::Snapshot;
use crate::app::session::Session;
use crate::app::view::state_colors::ColorBy;
use crate::app::view::view3d::View3d;
use eframe::egui::{self, Color32, Pos2, RichText, Sense, Stroke, Vec2};
use egui_plot::{Line, Plot};
use std::sync::Arc;

const NOW_COLOR: Color32 = Color32::from_rgb(0, 220, 255);
const PEAK_COLOR: Color32 = Color32::from_rgb(255, 170, 60);

#[derive(Default)]
pub struct SpacePlotPanel {
    pub open: bool,
    /// The path and the geometry it belongs to.
    path: Option<(u64, SpacePath)>,
    /// Ask the runner to start the peaks again (the path changed, or "Clear peaks").
    reset_peaks: bool,
    pub show_dendrogram: bool,
    layout: Option<(u64, DendrogramLayout)>,
    /// A path asked for (to the far end of this section), applied on the next update.
    requested_tip: Option<usize>,
}

impl SpacePlotPanel {
    pub fn new() -> SpacePlotPanel {
        SpacePlotPanel { show_dendrogram: true, ..SpacePlotPanel::default() }
    }

    /// Show the path to the far end of section `tip` (a demo's branch) once the panel is open.
    pub fn request_path_to(&mut self, tip: Option<usize>) {
        self.requested_tip = tip;
    }

    /// The path on show, if any.
    pub fn path(&self) -> Option<&SpacePath> {
        self.path.as_ref().map(|(_, p)| p)
    }

    fn set_path(&mut self, id: u64, path: Option<SpacePath>, view: &mut View3d) {
        view.path_um = path.as_ref().map(|p| Arc::new(p.points_um.clone()));
        self.reset_peaks = true;
        self.path = path.map(|p| (id, p));
    }

    /// Follow the session: the default path for a new cell, a demo's or a picked path; the
    /// runner keeps the peaks (restarted for a new path).
    pub fn update(&mut self, session: &mut Session, view: &mut View3d) {
        let id = session.geometry.id;
        if !self.open {
            if self.path.is_some() {
                self.set_path(id, None, view);
            }
            return;
        }
        if self.path.as_ref().is_none_or(|(pid, _)| *pid != id) {
            let path = apical_trunk_tip(&session.morph, &session.cable).and_then(|tip| SpacePath::to_section(&session.morph, &session.cable, tip));
            self.set_path(id, path, view);
        }
        if let Some(tip) = self.requested_tip.take() {
            let path = SpacePath::to_section(&session.morph, &session.cable, tip);
            self.set_path(id, path, view);
        }
        if let Some(at) = view.picked_path_end.take() {
            let tip = farthest_tip_below(&session.morph, &session.cable, at.section);
            let path = SpacePath::to_section(&session.morph, &session.cable, tip);
            self.set_path(id, path, view);
        }
        if std::mem::take(&mut self.reset_peaks) {
            session.runner.send(crate::app::live::runner::Command::ResetPeaks);
        }
    }

    /// A panel beside the 3-D view (when open); call before the view's central panel.
    pub fn ui(&mut self, ui: &mut egui::Ui, session: &mut Session, view: &mut View3d, snap: &Snapshot) {
        self.update(session, view);
        if !self.open {
            return;
        }
        egui::Panel::right("space_plot").default_size(400.0).size_range(300.0..=800.0).resizable(true).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| self.panel_ui(ui, session, view, snap));
        });
        if !self.open {
            self.set_path(session.geometry.id, None, view);
        }
    }

    fn panel_ui(&mut self, ui: &mut egui::Ui, session: &Session, view: &mut View3d, snap: &Snapshot) {
        ui.horizontal(|ui| {
            ui.heading("Voltage along a path");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.small_button("Close").clicked() {
                    self.open = false;
                }
            });
        });
        let label = self.path().map_or("no apical dendrite: pick a tip".to_string(), |p| format!("path {}", p.label));
        ui.label(RichText::new(label).strong());
        ui.horizontal(|ui| {
            if ui.button("Apical trunk").on_hover_text("Soma -> main apical trunk -> farthest tip of the tuft").clicked() {
                let path = apical_trunk_tip(&session.morph, &session.cable).and_then(|tip| SpacePath::to_section(&session.morph, &session.cable, tip));
                self.set_path(session.geometry.id, path, view);
            }
            let picking = view.pick_path_end;
            if ui.selectable_label(picking, "Pick a tip…").on_hover_text("Then click a dendrite in the 3-D view: the path runs from the soma through it to its farthest tip").clicked() {
                view.pick_path_end = !picking;
            }
            if ui.button("Clear peaks").clicked() {
                self.reset_peaks = true;
            }
        });
        if view.pick_path_end {
            ui.colored_label(ui.visuals().warn_fg_color, "click a dendrite in the 3-D view");
        }
        let Some((_, path)) = &self.path else { return };
        let now = path.profile(&snap.node_v_mv);
        // every step counts (the worker keeps the peaks), not only the frames the window draws
        let peaks: Vec<[f64; 2]> = path.profile(&snap.node_peak_v_mv).into_iter().filter(|p| p[1].is_finite()).collect();
        ui.horizontal(|ui| {
            ui.colored_label(NOW_COLOR, format!("— V at t = {:.1} ms", snap.t_ms));
            ui.colored_label(PEAK_COLOR, "— peak since the path was chosen or reset");
        });
        Plot::new("space_plot")
            .height(180.0)
            .x_axis_label("path distance from soma (µm)")
            .y_axis_label("V (mV)")
            .include_y(-90.0)
            .include_y(30.0)
            .include_x(0.0)
            .allow_drag(false)
            .allow_zoom(false)
            .allow_scroll(false)
            .show(ui, |p| {
                p.line(Line::new("peak", peaks).color(PEAK_COLOR).width(1.2).style(egui_plot::LineStyle::dashed_dense()));
                p.line(Line::new("V now", now).color(NOW_COLOR).width(2.0));
            });
        if let ColorBy::State(q) = view.color_by {
            if let Some(state) = snap.node_state.as_ref().filter(|s| s.quantity == q && !s.values.is_empty()) {
                let values = path.profile(&state.values);
                let scale = view.state_scale(q);
                let to_plot: Vec<[f64; 2]> = if scale.log { values.iter().map(|&[d, v]| [d, v.max(1e-12).log10()]).collect() } else { values };
                let label = if scale.log { format!("log10 {}", q.label()) } else { q.label() };
                Plot::new("space_plot_state")
                    .height(110.0)
                    .y_axis_label(label.clone())
                    .include_x(0.0)
                    .allow_drag(false)
                    .allow_zoom(false)
                    .allow_scroll(false)
                    .show(ui, |p| p.line(Line::new(label, to_plot).color(Color32::from_rgb(250, 230, 90)).width(1.6)));
            }
        }
        ui.checkbox(&mut self.show_dendrogram, "dendrogram (coloured like the 3-D view; the path in white)");
        if self.show_dendrogram {
            self.dendrogram_ui(ui, session, view, snap);
        }
    }

    fn dendrogram_ui(&mut self, ui: &mut egui::Ui, session: &Session, view: &View3d, snap: &Snapshot) {
        let id = session.geometry.id;
        if self.layout.as_ref().is_none_or(|(lid, _)| *lid != id) {
            self.layout = Some((id, DendrogramLayout::new(&session.morph, &session.cable)));
        }
        let Some((_, layout)) = &self.layout else { return };
        let height = ui.available_height().clamp(160.0, 320.0);
        let (rect, _) = ui.allocate_exact_size(Vec2::new(ui.available_width(), height), Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, crate::app::view::view3d::BACKGROUND);
        let inner = rect.shrink(8.0);
        let total = layout.max_up_um + layout.max_down_um;
        let y_soma = inner.top() + (layout.max_up_um / total) as f32 * inner.height();
        let px_per_um = inner.height() / total as f32;
        let colors = view.node_colors(snap);
        let (morph, cable) = (&session.morph, &session.cable);
        let on_path: Vec<bool> = {
            let mut v = vec![false; morph.sections.len()];
            if let Some(p) = self.path() {
                p.sections.iter().for_each(|&s| v[s] = true);
            }
            v
        };
        let pos = |si: usize, dist: f64| Pos2::new(inner.left() + layout.x[si] * inner.width(), y_soma - layout.direction[si] * dist as f32 * px_per_um);
        for (si, s) in morph.sections.iter().enumerate() {
            if layout.direction[si] == 0.0 {
                continue;
            }
            let d0 = cable.section_dist0_um[si];
            let len = cable.section_length_um[si];
            // the connector from the parent's line to this one, at the branch point
            if let Some(p) = s.parent.filter(|&p| layout.direction[p] == layout.direction[si]) {
                painter.line_segment([pos(p, d0), pos(si, d0)], Stroke::new(1.0, Color32::from_gray(110)));
            } else {
                painter.line_segment([Pos2::new(inner.center().x, y_soma), pos(si, d0)], Stroke::new(1.0, Color32::from_gray(110)));
            }
            let nseg = cable.section_nseg[si];
            let first = cable.section_first_node[si];
            for k in 0..nseg {
                let a = pos(si, d0 + len * k as f64 / nseg as f64);
                let b = pos(si, d0 + len * (k + 1) as f64 / nseg as f64);
                let rgb = match &colors {
                    Some(c) => c.get(first + k).copied().unwrap_or([70, 72, 80]),
                    None => crate::app::view::geometry::kind_rgb(s.kind),
                };
                if on_path[si] {
                    painter.line_segment([a, b], Stroke::new(5.0, Color32::WHITE));
                }
                painter.line_segment([a, b], Stroke::new(2.0, Color32::from_rgb(rgb[0], rgb[1], rgb[2])));
            }
        }
        painter.circle_filled(Pos2::new(inner.center().x, y_soma), 4.0, Color32::from_gray(200));
        let font = egui::FontId::proportional(11.0);
        painter.text(inner.left_top(), egui::Align2::LEFT_TOP, format!("apical (up) to {:.0} µm", layout.max_up_um), font.clone(), Color32::from_gray(180));
        painter.text(inner.left_bottom(), egui::Align2::LEFT_BOTTOM, format!("basal and axon (down) to {:.0} µm", layout.max_down_um), font, Color32::from_gray(180));
    }
}
