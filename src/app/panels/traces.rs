//! The bottom trace panel: somatic voltage (cyan) with the recording sites (colour-matched to
//! their 3-D markers) above, and the input raster (excitatory / inhibitory rows) below, sharing
//! the time axis. With the deep-network twin running, its soma voltage (magenta) and spikes join
//! the voltage plot and its spike probability gets a small plot of its own.

use crate::app::live::model::SynapseKind;
use crate::app::live::placements::{Placements, EXC_COLOR, INH_COLOR};
use crate::app::live::runner::Snapshot;
use crate::app::twin::thread::{TwinSnapshot, TwinState};
use super::palette::{DNN_MAGENTA, SECOND_TWIN_AMBER};
pub use super::palette::{BIOPHYSICAL_CYAN, CELL_CYAN};
use eframe::egui::{self, Color32, Id};
use egui_plot::{Line, MarkerShape, Plot, PlotImage, PlotPoint, Points};


/// Height (mV) of the somatic spike markers: above the spike peaks.
const SPIKE_MARK_MV: f64 = 45.0;
/// Height (mV) of the twin's spike markers, just below the cell's, and of the second twin's.
const TWIN_SPIKE_MARK_MV: f64 = 36.0;
const SECOND_TWIN_SPIKE_MARK_MV: f64 = 27.0;


/// A running twin's name for legends.
fn twin_name(t: &TwinSnapshot) -> &str {
    match &t.state {
        TwinState::Running(n) => n,
        _ => "twin",
    }
}

/// Above this many spikes the raster is drawn as one image instead of one marker per spike:
/// the background protocol delivers ~10⁴ spikes per second, and as markers they cost more
/// frame time than the 3-D view on software OpenGL.
const RASTER_IMAGE_MIN_SPIKES: usize = 2000;
/// Raster image resolution (pixels across the time window, at most this many pixel rows).
const RASTER_IMAGE_SIZE: [usize; 2] = [800, 320];

pub struct TracePanel {
    /// Width of the visible time window (ms).
    pub window_ms: f64,
    /// Follow the newest samples (else the plots can be dragged and zoomed freely).
    pub follow: bool,
    raster_texture: Option<egui::TextureHandle>,
    /// The time clicked on the voltage plot (snapped to a somatic spike within
    /// [`SNAP_MS`]), for "Why did it spike?".
    pub selected_t_ms: Option<f64>,
    /// The receptive field shown before the selected time in the raster (ms).
    pub selection_window_ms: f64,
}

/// A click this close to a somatic spike selects the spike (ms).
pub const SNAP_MS: f64 = 3.0;

impl Default for TracePanel {
    fn default() -> Self {
        TracePanel { window_ms: 1000.0, follow: true, raster_texture: None, selected_t_ms: None, selection_window_ms: 100.0 }
    }
}

/// `t_ms`, or the cell's spike nearest to it when one is within [`SNAP_MS`].
pub fn snap_to_spike(t_ms: f64, spikes_ms: &[f64]) -> f64 {
    spikes_ms.iter().copied().filter(|s| (s - t_ms).abs() <= SNAP_MS).min_by(|a, b| (a - t_ms).abs().total_cmp(&(b - t_ms).abs())).unwrap_or(t_ms)
}

/// The raster as an image over [t_start, t_end] × rows: a pixel is coloured when a spike falls in it.
fn raster_image(snap: &Snapshot, t_start: f64, t_end: f64) -> egui::ColorImage {
    let rows = snap.raster_rows.max(1) as usize;
    let [w, max_h] = RASTER_IMAGE_SIZE;
    let h = rows.min(max_h);
    let mut image = egui::ColorImage::filled([w, h], Color32::TRANSPARENT);
    let span = (t_end - t_start).max(1e-9);
    for s in &snap.raster {
        let col = ((s.t_ms - t_start) / span * w as f64).floor();
        if !(0.0..w as f64).contains(&col) {
            continue;
        }
        let row_px = h - 1 - (s.row as usize * h / rows).min(h - 1);
        image.pixels[row_px * w + col as usize] = if s.kind == SynapseKind::Excitatory { EXC_COLOR } else { INH_COLOR };
    }
    image
}

/// The note's colour: the warning yellow of the status line.
const BEHIND_COLOR: Color32 = Color32::from_rgb(255, 200, 60);

/// A twin this far behind the cell (ms of simulation time) is called behind.
pub const TWIN_BEHIND_MS: f64 = 500.0;

/// "behind real time …" when the engine plays below 95 % of the speed asked for, or a running
/// twin is more than [`TWIN_BEHIND_MS`] behind the cell; `None` when everything keeps up (or
/// the simulation is paused).
pub fn behind_note(snap: &Snapshot, twins: &[(&TwinSnapshot, Color32, f64)]) -> Option<String> {
    if !snap.playing {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(asked) = snap.requested_real_time_factor {
        if snap.achieved_real_time_factor > 0.0 && snap.achieved_real_time_factor < 0.95 * asked {
            parts.push(format!("cell at {:.2}× of {:.2}×", snap.achieved_real_time_factor, asked));
        }
    }
    for (t, _, _) in twins {
        let lag_ms = snap.t_ms - t.predicted_until_ms as f64;
        if matches!(t.state, TwinState::Running(_)) && lag_ms > TWIN_BEHIND_MS {
            parts.push(format!("{} {:.1} s behind", twin_name(t), lag_ms / 1000.0));
        }
    }
    (!parts.is_empty()).then(|| format!("behind real time: {}", parts.join(", ")))
}

impl TracePanel {
    /// `twin` is drawn in magenta, `second` (a second twin compared with it) in amber.
    pub fn ui(&mut self, ui: &mut egui::Ui, snap: &Snapshot, twin: Option<&TwinSnapshot>, second: Option<&TwinSnapshot>, placements: &Placements) {
        let second = second.filter(|t| matches!(t.state, TwinState::Running(_)));
        let twins: Vec<(&TwinSnapshot, Color32, f64)> = twin
            .map(|t| (t, DNN_MAGENTA, TWIN_SPIKE_MARK_MV))
            .into_iter()
            .chain(second.map(|t| (t, SECOND_TWIN_AMBER, SECOND_TWIN_SPIKE_MARK_MV)))
            .collect();
        let blind_spans = twin.map(|t| t.window.blind_spans_ms()).unwrap_or_default();
        // the legend: one line above the plots, so nothing covers the data
        ui.horizontal_wrapped(|ui| {
            ui.strong("Traces");
            if let Some(note) = behind_note(snap, &twins) {
                ui.label(egui::RichText::new(note).strong().color(BEHIND_COLOR));
            }
            ui.checkbox(&mut self.follow, "follow");
            ui.label("window");
            ui.add(egui::DragValue::new(&mut self.window_ms).range(10.0..=1000.0).speed(5.0).suffix(" ms"));
            ui.separator();
            ui.label(egui::RichText::new(format!("cell soma, spikes ({})", snap.soma_spikes_ms.len())).color(BIOPHYSICAL_CYAN));
            for (t, colour, _) in &twins {
                ui.label(egui::RichText::new(format!("{} soma, spikes ({})", twin_name(t), t.twin_spikes_ms.len())).color(*colour));
            }
            for site in &placements.sites {
                ui.label(egui::RichText::new(format!("{}({:.2})", site.at.section_name, site.at.x)).color(site.color));
            }
            ui.label(egui::RichText::new("exc input").color(EXC_COLOR));
            ui.label(egui::RichText::new("inh input").color(INH_COLOR));
            if !blind_spans.is_empty() {
                ui.label(egui::RichText::new(format!("shaded: {BLIND_LABEL}")).color(BLIND_TEXT))
                    .on_hover_text("The cell received somatic current (clamp or pulse) here, which the twin never sees: the magenta trace is no prediction there, and the agreement leaves these ms out.");
            }
        });
        let t_end = snap.t_ms.max(self.window_ms.min(1000.0));
        let t_start = t_end - self.window_ms;
        let link = Id::unique("trace_time_axis");
        // Claim the whole panel, or it would shrink to its content frame by frame.
        ui.set_min_height(ui.available_height());
        let height = ui.available_height() - 2.0 * ui.spacing().item_spacing.y;
        let p_height = if twins.is_empty() { 0.0 } else { (height * 0.24).max(P_PLOT_MIN_HEIGHT) };
        let v_height = (height * if twins.is_empty() { 0.62 } else { 0.46 }).max(80.0);
        let raster_height = (height - v_height - p_height).max(50.0);

        let mut v_plot = Plot::new("voltage_plot")
            .height(v_height)
            .y_axis_label("V (mV)")
            .y_axis_min_width(Y_AXIS_WIDTH)
            .y_grid_spacer(egui_plot::uniform_grid_spacer(|g| {
                let step = nice_step(0.25 * (g.bounds.1 - g.bounds.0));
                [0.5 * step, step, 2.0 * step]
            }))
            .y_axis_formatter(|m, _| format!("{:.0}", m.value))
            .show_axes([false, true])
            .link_axis(link, [true, false])
            .link_cursor(link, [true, false])
            .show_x(true)
            .include_y(-90.0)
            .include_y(50.0);
        if self.follow {
            v_plot = v_plot.default_x_bounds(t_start, t_end).auto_bounds([false, true]).allow_drag(false).allow_zoom(false).allow_scroll(false);
        }
        let follow = self.follow;
        let selected = self.selected_t_ms;
        let sel_window = self.selection_window_ms;
        let v_resp = v_plot.show(ui, |p| {
            if follow {
                p.set_plot_bounds_x(t_start..=t_end);
            }
            blind_spans_ui(p, &blind_spans);
            if let Some(t) = selected {
                p.vline(egui_plot::VLine::new("selected", t).color(Color32::WHITE).width(1.0));
            }
            for (t, colour, mark_mv) in &twins {
                let w = &t.window;
                let v: Vec<[f64; 2]> = w.twin_v_mv.iter().enumerate().map(|(k, &v)| [(w.first_bin + k) as f64, f64::from(v)]).collect();
                p.line(Line::new(format!("{} soma", twin_name(t)), v).color(*colour).width(1.5));
                if !t.twin_spikes_ms.is_empty() {
                    let marks: Vec<[f64; 2]> = t.twin_spikes_ms.iter().map(|&t| [t, *mark_mv]).collect();
                    let name = format!("{} spikes ({})", twin_name(t), t.twin_spikes_ms.len());
                    p.points(Points::new(name, marks).shape(MarkerShape::Down).filled(true).radius(5.0).color(*colour));
                }
            }
            // the cell on top of the twins: it is the reference
            p.line(Line::new("cell soma", snap.soma_v_mv.clone()).color(BIOPHYSICAL_CYAN).width(1.5));
            if !snap.soma_spikes_ms.is_empty() {
                let marks: Vec<[f64; 2]> = snap.soma_spikes_ms.iter().map(|&t| [t, SPIKE_MARK_MV]).collect();
                let name = format!("cell spikes ({})", snap.soma_spikes_ms.len());
                p.points(Points::new(name, marks).shape(MarkerShape::Down).filled(true).radius(5.0).color(BIOPHYSICAL_CYAN));
            }
            for (key, trace) in &snap.sites {
                if let Some(site) = placements.sites.iter().find(|s| s.key == *key) {
                    let name = format!("{}({:.2})", site.at.section_name, site.at.x);
                    p.line(Line::new(name, trace.clone()).color(site.color).width(1.2));
                }
            }
            p.pointer_coordinate()
        });
        if v_resp.response.clicked() {
            if let Some(c) = v_resp.inner {
                self.selected_t_ms = Some(snap_to_spike(c.x, &snap.soma_spikes_ms));
            }
        }

        if !twins.is_empty() {
            self.probability_ui(ui, &twins, p_height, link, t_start, t_end, &blind_spans);
        }

        let mut r_plot = Plot::new("raster_plot")
            .height(raster_height)
            .x_axis_label("t (ms)")
            .y_axis_label("input row")
            .y_axis_min_width(Y_AXIS_WIDTH)
            .link_axis(link, [true, false])
            .link_cursor(link, [true, false])
            .include_y(0.0)
            .include_y(f64::from(snap.raster_rows.max(1)));
        if self.follow {
            r_plot = r_plot.default_x_bounds(t_start, t_end).auto_bounds([false, true]).allow_drag(false).allow_zoom(false).allow_scroll(false);
        }
        let as_image = snap.raster.len() >= RASTER_IMAGE_MIN_SPIKES;
        let (exc, inh) = if as_image {
            let image = raster_image(snap, t_start, t_end);
            match &mut self.raster_texture {
                Some(t) => t.set(image, egui::TextureOptions::NEAREST),
                None => self.raster_texture = Some(ui.ctx().load_texture("raster", image, egui::TextureOptions::NEAREST)),
            }
            (Vec::new(), Vec::new())
        } else {
            let (exc, inh): (Vec<_>, Vec<_>) = snap.raster.iter().partition(|s| s.kind == SynapseKind::Excitatory);
            let pts = |v: Vec<&crate::app::live::runner::RasterSpike>| v.iter().map(|s| [s.t_ms, f64::from(s.row)]).collect::<Vec<_>>();
            (pts(exc), pts(inh))
        };
        let texture = self.raster_texture.as_ref().filter(|_| as_image).map(|t| t.id());
        let rows = f64::from(snap.raster_rows.max(1));
        r_plot.show(ui, |p| {
            if follow {
                p.set_plot_bounds_x(t_start..=t_end);
            }
            if let Some(t) = selected {
                // the receptive field before the selected time
                let shade = Color32::from_rgba_unmultiplied(255, 255, 255, 28);
                let poly = vec![[t - sel_window, 0.0], [t, 0.0], [t, rows], [t - sel_window, rows]];
                p.polygon(egui_plot::Polygon::new("window", poly).fill_color(shade).stroke(egui::Stroke::new(1.0, Color32::from_gray(200))));
            }
            match texture {
                Some(id) => p.image(PlotImage::new("input", id, PlotPoint::new(0.5 * (t_start + t_end), 0.5 * rows), [(t_end - t_start) as f32, rows as f32])),
                None => {
                    p.points(Points::new("exc", exc).color(EXC_COLOR).radius(0.8));
                    p.points(Points::new("inh", inh).color(INH_COLOR).radius(0.8));
                }
            }
        });
    }
}

impl TracePanel {
    /// The twin's spike probability per ms on a log scale (10⁻⁴ … 1, so the low threshold of the
    /// paper's operating point is readable), with the threshold line labelled.
    #[allow(clippy::too_many_arguments)]
    fn probability_ui(&self, ui: &mut egui::Ui, twins: &[(&TwinSnapshot, Color32, f64)], height: f32, link: Id, t_start: f64, t_end: f64, blind_spans: &[[f64; 2]]) {
        let mut plot = Plot::new("twin_probability_plot")
            .height(height)
            .y_axis_label("p(spike)")
            .y_axis_min_width(Y_AXIS_WIDTH)
            .y_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 2.0, 4.0]))
            .y_axis_formatter(|m, _| p_label(m.value))
            .show_axes([false, true])
            .link_axis(link, [true, false])
            .link_cursor(link, [true, false])
            .include_y(P_LOG_FLOOR)
            .include_y(0.0);
        if self.follow {
            plot = plot.default_x_bounds(t_start, t_end).auto_bounds([false, false]).allow_drag(false).allow_zoom(false).allow_scroll(false);
        }
        let follow = self.follow;
        plot.show(ui, |p| {
            if follow {
                p.set_plot_bounds_x(t_start..=t_end);
            }
            blind_spans_ui(p, blind_spans);
            for (i, (t, colour, _)) in twins.iter().enumerate() {
                let w = &t.window;
                let pts: Vec<[f64; 2]> = w.probability.iter().enumerate().map(|(k, &p)| [(w.first_bin + k) as f64, p_log(f64::from(p))]).collect();
                p.line(Line::new(format!("{} spike probability", twin_name(t)), pts).color(*colour).width(1.2));
                if let Ok(th) = t.threshold {
                    let y = p_log(th);
                    let color = colour.gamma_multiply(0.7);
                    p.line(Line::new(format!("threshold {i}"), vec![[t_start, y], [t_end, y]]).color(color).style(egui_plot::LineStyle::dashed_loose()));
                    let label = format!("threshold p = {th:.3} ({})", t.threshold_label.split(" (").next().unwrap_or(""));
                    let anchor = if i == 0 { egui::Align2::RIGHT_BOTTOM } else { egui::Align2::LEFT_BOTTOM };
                    let x = if i == 0 { t_end } else { t_start };
                    p.text(egui_plot::Text::new(format!("threshold label {i}"), PlotPoint::new(x, y), egui::RichText::new(label)).anchor(anchor).color(color));
                }
            }
        });
    }
}

/// Width of every plot's y axis (ticks and label), so the time axes line up.
const Y_AXIS_WIDTH: f32 = 72.0;
/// The p(spike) plot is never shorter than this (points).
pub const P_PLOT_MIN_HEIGHT: f32 = 64.0;
/// log10 of the smallest probability drawn (lower ones sit on the floor).
const P_LOG_FLOOR: f64 = -4.0;
/// Label of the stretches where the cell received current the twin does not see.
pub const BLIND_LABEL: &str = "twin blind to current injection";
const BLIND_FILL: Color32 = Color32::from_rgba_premultiplied(70, 60, 30, 70);
const BLIND_TEXT: Color32 = Color32::from_rgb(235, 200, 120);

/// log10 of a probability, floored at [`P_LOG_FLOOR`].
fn p_log(p: f64) -> f64 {
    if p > 0.0 { p.log10().max(P_LOG_FLOOR) } else { P_LOG_FLOOR }
}

/// Tick label of the log-scale p axis: 0.0001 … 1.
fn p_label(log10_p: f64) -> String {
    if (log10_p - log10_p.round()).abs() > 1e-6 || log10_p > 0.0 {
        return String::new();
    }
    let digits = (-log10_p.round()).max(0.0) as usize;
    format!("{:.*}", digits, 10f64.powf(log10_p.round()))
}

/// 1, 2, 2.5 or 5 times a power of ten, at least `raw` (grid steps).
fn nice_step(raw: f64) -> f64 {
    if !(raw > 0.0 && raw.is_finite()) {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * p).find(|s| *s >= raw * 0.999).unwrap_or(10.0 * p)
}

/// Shade the blind stretches, the first one labelled.
fn blind_spans_ui(p: &mut egui_plot::PlotUi<'_>, spans: &[[f64; 2]]) {
    for (i, s) in spans.iter().enumerate() {
        let name = if i == 0 { BLIND_LABEL.to_string() } else { format!("{BLIND_LABEL} {i}") };
        p.span(egui_plot::Span::new(name, s[0]..=s[1]).fill(BLIND_FILL).border_width(0.0).label_align(egui::Align2::LEFT_TOP));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behind_note_only_when_the_cell_lags_the_speed_asked_for() {
        let snap = |achieved: f64, asked: Option<f64>, playing: bool| Snapshot {
            playing,
            achieved_real_time_factor: achieved,
            requested_real_time_factor: asked,
            t_ms: 5000.0,
            ..Default::default()
        };
        let note = behind_note(&snap(0.71, Some(1.0), true), &[]).expect("0.71 of 1.00 is behind");
        assert!(note.contains("0.71× of 1.00×"), "{note}");
        assert_eq!(behind_note(&snap(0.99, Some(1.0), true), &[]), None);
        assert_eq!(behind_note(&snap(0.5, Some(1.0), false), &[]), None, "paused: nothing to say");
        assert_eq!(behind_note(&snap(3.0, None, true), &[]), None, "maximum speed has no target");
        assert!(behind_note(&snap(0.04, Some(0.1), true), &[]).is_some());
    }

    #[test]
    fn log_p_axis_and_steps() {
        assert_eq!(p_label(-3.0), "0.001");
        assert_eq!(p_label(0.0), "1");
        assert_eq!(p_label(-2.5), "");
        assert_eq!(p_log(0.0), P_LOG_FLOOR);
        assert!((p_log(0.01) + 2.0).abs() < 1e-12);
        assert_eq!(nice_step(35.0), 50.0);
        assert_eq!(nice_step(20.0), 20.0);
    }
}
