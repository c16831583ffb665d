//! The central 3-D view: camera interaction, hover and click picking, live colouring (voltage or
//! an engine state; the menu and per-node colours in `colors`) and the overlays (colour bar, µm
//! scale bar, hover read-out, the space plot's path). Drawing is in `gl_scene`, overlays in
//! `overlays`.

use super::camera::OrbitCamera;
use super::colormap::VoltageColors;
use super::state_colors::{ColorBy, StateScale};
use crate::biophysics::mechanisms::NodeQuantity;
use crate::app::live::runner::Command;
use std::collections::HashMap;
use super::geometry::{MeshData, NeuronGeometry};
use super::gl_scene::{paint_callback, FrameParams, MeshUpload};
use super::overlays;
pub use super::overlays::{Hover, NodeOverlay};
use super::picking::pick;
use crate::app::live::placements::{ClickMode, Location, Placements, Selection, EXC_COLOR, INH_COLOR};
use crate::app::live::runner::Runner;
use crate::morphology::{Cable, Morphology};
use crate::app::live::model::SynapseKind;
use eframe::egui::{self, Color32, Sense};
use std::sync::{Arc, Mutex};
use three_d::vec3;

mod colors;

/// Slack added to picking so thin dendrites can be clicked (pixels).
const PICK_SLACK_PX: f32 = 3.0;
const MARKER_RADIUS_UM: f32 = 2.5;
const MARKER_MIN_PX: f32 = 5.0;
pub const BACKGROUND: Color32 = Color32::from_rgb(14, 16, 22);

const NO_VALUE_RGB: [u8; 3] = [70, 72, 80];

/// The parts of an opened cell the view draws and edits (`Session::viewed` lends them).
pub struct ViewedCell<'a> {
    pub morph: &'a Morphology,
    pub cable: &'a Cable,
    pub geometry: &'a Arc<NeuronGeometry>,
    pub runner: &'a mut Runner,
    pub placements: &'a mut Placements,
}

pub struct View3d {
    pub camera: OrbitCamera,
    pub colors: VoltageColors,
    /// What compartments are coloured by (voltage, a state of the engine, section kind).
    pub color_by: ColorBy,
    /// Range of each state quantity on the colour map (defaults: `StateScale::default_for`).
    pub state_scales: HashMap<NodeQuantity, StateScale>,
    /// A path drawn over the cell (the space plot's), as points in µm, parent to child.
    pub path_um: Option<Arc<Vec<[f32; 3]>>>,
    /// The next click on the cell picks the end of the space plot's path (instead of what the
    /// click mode does); the pick lands in `picked_path_end`.
    pub pick_path_end: bool,
    pub picked_path_end: Option<Location>,
    /// (geometry id, quantity) last asked of the runner.
    sent_color_by: Option<(u64, Option<NodeQuantity>)>,
    /// The smallest and largest finite value of the state on show (smallest positive for log
    /// scales too), for "fit the range".
    state_extent: Option<(NodeQuantity, f32, f32, f32)>,
    /// Minimum on-screen radius of neurites (pixels), so thin dendrites stay visible.
    pub min_radius_px: f32,
    pub hover: Option<Hover>,
    /// Painted instead of the voltage while `Some`.
    pub overlay: Option<Arc<NodeOverlay>>,
    /// A highlighted point (e.g. the input chosen in the "Why?" list), drawn as a white marker.
    pub highlight_um: Option<[f32; 3]>,
    /// Show the one-line "what to try" hint under the tool strip.
    pub show_hint: bool,
    needs_fit: bool,
    geometry_id: u64,
    colors_key: Option<(u64, u64, VoltageColors, ColorBy, u64, [u32; 2])>,
    colors_version: u64,
    vertex_colors: Arc<Vec<[f32; 4]>>,
    markers_key: Option<(u64, Option<Selection>, Option<[u32; 3]>)>,
    markers: Arc<MeshData>,
    markers_colors: Arc<Vec<[f32; 4]>>,
    markers_version: u64,
    gl_error: Arc<Mutex<Option<String>>>,
}

impl Default for View3d {
    fn default() -> Self {
        View3d {
            camera: OrbitCamera::default(),
            colors: VoltageColors::default(),
            color_by: ColorBy::Voltage,
            state_scales: HashMap::new(),
            path_um: None,
            pick_path_end: false,
            picked_path_end: None,
            sent_color_by: None,
            state_extent: None,
            min_radius_px: 1.5,
            hover: None,
            overlay: None,
            highlight_um: None,
            show_hint: true,
            needs_fit: true,
            geometry_id: 0,
            colors_key: None,
            colors_version: 0,
            vertex_colors: Arc::new(Vec::new()),
            markers_key: None,
            markers: Arc::new(MeshData::default()),
            markers_colors: Arc::new(Vec::new()),
            markers_version: 0,
            gl_error: Arc::new(Mutex::new(None)),
        }
    }
}

fn rgba(c: [u8; 3]) -> [f32; 4] {
    [f32::from(c[0]) / 255.0, f32::from(c[1]) / 255.0, f32::from(c[2]) / 255.0, 1.0]
}

fn rgba32(c: Color32) -> [f32; 4] {
    rgba([c.r(), c.g(), c.b()])
}

impl View3d {
    /// Fit the camera to the cell on the next frame.
    pub fn request_fit(&mut self) {
        self.needs_fit = true;
    }

    /// Back to the front view, fitted.
    pub fn reset_view(&mut self) {
        self.camera = OrbitCamera { fov_y_rad: self.camera.fov_y_rad, ..OrbitCamera::default() };
        self.needs_fit = true;
    }

    /// View settings for the control panel: colouring, range, minimum radius, camera buttons.
    pub fn settings_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("View");
        ui.horizontal(|ui| {
            if ui.button("Fit to cell").clicked() {
                self.request_fit();
            }
            if ui.button("Reset view").clicked() {
                self.reset_view();
            }
        });
        self.color_by_ui(ui);
        ui.add_enabled_ui(self.color_by != ColorBy::SectionKind, |ui| {
            ui.horizontal(|ui| {
                egui::ComboBox::from_label("colour map").selected_text(self.colors.map.name()).show_ui(ui, |ui| {
                    for m in super::colormap::ColorMap::ALL {
                        ui.selectable_value(&mut self.colors.map, m, m.name());
                    }
                });
            });
            match self.color_by {
                ColorBy::State(q) => {
                    let scale = self.state_scales.entry(q).or_insert_with(|| StateScale::default_for(q));
                    ui.horizontal(|ui| {
                        ui.label("range");
                        let speed = f64::from((scale.max - scale.min).abs().max(1e-6)) * 0.01;
                        ui.add(egui::DragValue::new(&mut scale.min).speed(speed));
                        ui.label("to");
                        ui.add(egui::DragValue::new(&mut scale.max).speed(speed));
                        ui.checkbox(&mut scale.log, "log");
                    });
                    if scale.log && !(scale.min > 0.0 && scale.max > scale.min) {
                        ui.colored_label(ui.visuals().warn_fg_color, "a log scale needs 0 < min < max");
                    }
                    ui.horizontal(|ui| {
                        let extent = self.state_extent.filter(|e| e.0 == q);
                        if ui.add_enabled(extent.is_some(), egui::Button::new("Fit to the present values")).clicked() {
                            if let Some((_, lo, hi, lo_positive)) = extent {
                                let lo = if scale.log { lo_positive } else { lo };
                                if hi > lo && lo.is_finite() {
                                    (scale.min, scale.max) = (lo, hi);
                                }
                            }
                        }
                        if ui.button("Default range").clicked() {
                            *scale = StateScale::default_for(q);
                        }
                    });
                }
                _ => {
                    ui.horizontal(|ui| {
                        ui.label("range");
                        ui.add(egui::DragValue::new(&mut self.colors.min_mv).range(-200.0..=self.colors.max_mv - 1.0).speed(0.5).suffix(" mV"));
                        ui.label("to");
                        ui.add(egui::DragValue::new(&mut self.colors.max_mv).range(self.colors.min_mv + 1.0..=200.0).speed(0.5).suffix(" mV"));
                    });
                }
            }
        });
        ui.add(egui::Slider::new(&mut self.min_radius_px, 0.0..=4.0).text("min. radius (px)"))
            .on_hover_text("Thin dendrites are drawn at least this wide, so they stay visible when zoomed out");
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, cell: ViewedCell<'_>) {
        let ViewedCell { morph, cable, geometry, runner, placements } = cell;
        let snapshot = runner.snapshot();
        let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        let aspect = rect.width() / rect.height().max(1.0);
        let geometry = geometry.clone();
        if self.geometry_id != geometry.id {
            self.geometry_id = geometry.id;
            self.needs_fit = true;
        }
        if self.needs_fit && rect.width() > 10.0 {
            self.camera.fit(geometry.bounds_min, geometry.bounds_max, aspect);
            self.needs_fit = false;
        }
        self.handle_camera_input(ui, &response, rect);

        // Picking: the ray under the pointer, widened to the on-screen minimum radius.
        let focal_px = self.camera.focal_px(rect.height());
        let pick_at = |pos: egui::Pos2| {
            let ndc_x = 2.0 * (pos.x - rect.left()) / rect.width() - 1.0;
            let ndc_y = 1.0 - 2.0 * (pos.y - rect.top()) / rect.height();
            let ray = self.camera.ray_through_ndc(ndc_x, ndc_y, aspect);
            let min_r = (self.min_radius_px + PICK_SLACK_PX) / focal_px;
            pick(&geometry.pieces, &ray, min_r)
                .and_then(|hit| Location::new(morph, cable, hit.section, f64::from(hit.x)))
        };
        self.hover = response.hover_pos().and_then(pick_at).map(|at| {
            let v_mv = snapshot.node_v_mv.get(at.node).copied();
            let state = snapshot.node_state.as_ref().filter(|s| matches!(self.color_by, ColorBy::State(q) if q == s.quantity)).and_then(|s| s.values.get(at.node).map(|&x| (s.quantity.label(), x)));
            Hover { at, v_mv, state }
        });
        if response.clicked() {
            if let Some(at) = response.interact_pointer_pos().and_then(pick_at) {
                if self.pick_path_end {
                    self.pick_path_end = false;
                    self.picked_path_end = Some(at);
                } else {
                    placements.click(runner, at);
                }
            } else if placements.mode == ClickMode::Inspect {
                placements.selected = None;
            }
        }

        let wanted = match self.color_by {
            ColorBy::State(q) => Some(q),
            _ => None,
        };
        if self.sent_color_by != Some((geometry.id, wanted)) && runner.has_model() {
            self.sent_color_by = Some((geometry.id, wanted));
            runner.send(Command::ColorBy(wanted));
        }
        self.state_extent = snapshot.node_state.as_ref().map(|s| {
            let finite = s.values.iter().copied().filter(|v| v.is_finite());
            let (lo, hi) = finite.clone().fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(v), b.max(v)));
            let lo_positive = finite.filter(|&v| v > 0.0).fold(f32::MAX, f32::min);
            (s.quantity, lo, hi, lo_positive)
        });
        let node_rgb = self.node_colors(&snapshot);
        self.update_colors(&geometry, node_rgb, snapshot.seq);
        self.update_markers(placements);
        let bg = BACKGROUND;
        let params = FrameParams {
            neuron: MeshUpload {
                id: geometry.id,
                mesh: geometry.mesh.clone(),
                colors_version: self.colors_version,
                colors: self.vertex_colors.clone(),
                min_radius_px: self.min_radius_px,
            },
            markers: MeshUpload {
                id: self.markers_version,
                mesh: self.markers.clone(),
                colors_version: self.markers_version,
                colors: self.markers_colors.clone(),
                min_radius_px: MARKER_MIN_PX,
            },
            view_from_world: self.camera.view_from_world(),
            clip_from_view: self.camera.clip_from_view(aspect),
            focal_px,
            background_rgb: [f32::from(bg.r()) / 255.0, f32::from(bg.g()) / 255.0, f32::from(bg.b()) / 255.0],
        };
        ui.painter().add(paint_callback(rect, params, self.gl_error.clone()));

        // Overlays on top of the 3-D picture.
        let painter = ui.painter_at(rect);
        if let Some(path) = &self.path_um {
            let clip_from_world = self.camera.clip_from_view(aspect) * self.camera.view_from_world();
            overlays::path_line(&painter, rect, clip_from_world, path);
        }
        if let Some(o) = &self.overlay {
            overlays::diverging_bar(&painter, rect, o);
        } else if !runner.has_model() || self.color_by == ColorBy::SectionKind {
            overlays::kind_legend(&painter, rect);
        } else if let ColorBy::State(q) = self.color_by {
            let missing = snapshot.node_state.as_ref().is_some_and(|s| s.quantity == q && s.values.is_empty());
            overlays::state_bar(&painter, rect, &q.label(), &self.state_scale(q), self.colors.map, missing);
        } else {
            overlays::color_bar(&painter, rect, &self.colors);
        }
        overlays::scale_bar(&painter, rect, focal_px / self.camera.distance_um);
        if let Some(h) = &self.hover {
            overlays::hover_readout(&painter, rect, response.hover_pos(), h, placements.mode.click_does());
        }
        if let Some(e) = &snapshot.error {
            overlays::error_banner(&painter, rect, &format!("Simulation: {e}"));
        }
        if let Ok(err) = self.gl_error.lock() {
            if let Some(e) = err.as_ref() {
                overlays::error_banner(&painter, rect, &format!("3-D view unavailable: {e}"));
            }
        }
        super::tools::tool_strip_ui(ui, rect, placements, &mut self.show_hint);
        if self.hover.is_some() {
            let cursor = if placements.mode == ClickMode::Inspect { egui::CursorIcon::PointingHand } else { egui::CursorIcon::Crosshair };
            ui.ctx().set_cursor_icon(cursor);
        }
    }

    fn handle_camera_input(&mut self, ui: &egui::Ui, response: &egui::Response, rect: egui::Rect) {
        let shift = ui.input(|i| i.modifiers.shift);
        let delta = response.drag_delta();
        if response.dragged_by(egui::PointerButton::Secondary)
            || response.dragged_by(egui::PointerButton::Middle)
            || (shift && response.dragged_by(egui::PointerButton::Primary))
        {
            self.camera.pan(delta.x, delta.y, rect.height());
        } else if response.dragged_by(egui::PointerButton::Primary) {
            self.camera.orbit(delta.x, delta.y);
        }
        if response.hovered() {
            let scroll = ui.input(|i| i.smooth_scroll_delta.y);
            if scroll != 0.0 {
                self.camera.zoom(scroll);
            }
        }
        if response.double_clicked() {
            self.needs_fit = true;
        }
    }

    /// Recompute per-vertex colours only when the snapshot or the colour settings changed.
    fn update_colors(&mut self, geometry: &NeuronGeometry, node_rgb: Option<Vec<[u8; 3]>>, seq: u64) {
        let overlay_version = self.overlay.as_ref().map_or(0, |o| o.version + 1);
        let scale = match self.color_by {
            ColorBy::State(q) => {
                let s = self.state_scale(q);
                [s.min.to_bits(), s.max.to_bits() ^ u32::from(s.log)]
            }
            _ => [0, 0],
        };
        let key = (geometry.id, if node_rgb.is_some() { seq } else { 0 }, self.colors, self.color_by, overlay_version, scale);
        if self.colors_key == Some(key) {
            return;
        }
        self.colors_key = Some(key);
        self.colors_version += 1;
        let colors = if let Some(node_rgb) = node_rgb {
            geometry.vertex_node.iter().map(|&n| rgba(node_rgb.get(n as usize).copied().unwrap_or(NO_VALUE_RGB))).collect()
        } else if matches!(self.color_by, ColorBy::State(_)) {
            // no values yet (before the first step, or while the state is on its way)
            geometry.vertex_node.iter().map(|_| rgba(NO_VALUE_RGB)).collect()
        } else {
            geometry.vertex_kind_rgb.iter().map(|&c| rgba(c)).collect()
        };
        self.vertex_colors = Arc::new(colors);
    }

    fn update_markers(&mut self, p: &Placements) {
        let key = (p.version, p.selected, self.highlight_um.map(|h| h.map(f32::to_bits)));
        if self.markers_key == Some(key) {
            return;
        }
        self.markers_key = Some(key);
        self.markers_version += 1;
        let mut mesh = MeshData::default();
        let mut colors = Vec::new();
        let mut add = |pos: [f32; 3], color: Color32, selected: bool| {
            let r = if selected { 2.0 * MARKER_RADIUS_UM } else { MARKER_RADIUS_UM };
            mesh.push_sphere(vec3(pos[0], pos[1], pos[2]), r);
            let c = if selected { rgba32(color.lerp_to_gamma(Color32::WHITE, 0.5)) } else { rgba32(color) };
            colors.extend(std::iter::repeat_n(c, MeshData::sphere_vertex_count()));
        };
        for s in &p.synapses {
            let color = if s.kind == SynapseKind::Excitatory { EXC_COLOR } else { INH_COLOR };
            add(s.at.position_um, color, p.selected == Some(Selection::Synapse(s.key)));
        }
        for s in &p.sites {
            add(s.at.position_um, s.color, p.selected == Some(Selection::Site(s.key)));
        }
        if let Some(h) = self.highlight_um {
            add(h, Color32::WHITE, true);
        }
        self.markers = Arc::new(mesh);
        self.markers_colors = Arc::new(colors);
    }
}
