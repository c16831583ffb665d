//! The eframe `App`: window layout (3-D view in the centre, controls on the right, traces at the
//! bottom, a status line), opening morphologies and showing every error.

use super::model::ModelFactory;
use super::panels::{ControlPanel, SynapsePanel, TracePanel};
use super::session::Session;
use super::view3d::View3d;
use eframe::egui::{self, RichText};
use std::path::PathBuf;

/// What the app starts with.
#[derive(Default)]
pub struct AppOptions {
    /// Morphology to open at start (`--morphology`), else the first of the fallbacks that exists.
    pub morphology: Option<PathBuf>,
    pub fallbacks: Vec<PathBuf>,
    /// Builds the simulation for an opened morphology; `None` shows the morphology only.
    pub model_factory: Option<ModelFactory>,
}

pub struct NeuroTwinApp {
    pub session: Option<Session>,
    /// Why no morphology is shown, or the last failed open.
    pub load_error: Option<String>,
    pub view: View3d,
    pub controls: ControlPanel,
    pub synapses: SynapsePanel,
    pub traces: TracePanel,
    factory: Option<ModelFactory>,
    path_text: String,
    next_geometry_id: u64,
}

impl NeuroTwinApp {
    pub fn new(options: AppOptions) -> NeuroTwinApp {
        let mut app = NeuroTwinApp {
            session: None,
            load_error: None,
            view: View3d::default(),
            controls: ControlPanel::default(),
            synapses: SynapsePanel::default(),
            traces: TracePanel::default(),
            factory: options.model_factory,
            path_text: String::new(),
            next_geometry_id: 0,
        };
        let start = options.morphology.clone().or_else(|| options.fallbacks.iter().find(|p| p.exists()).cloned());
        match start {
            Some(path) => app.open(path),
            None => {
                let tried: Vec<String> = options.fallbacks.iter().map(|p| p.display().to_string()).collect();
                app.load_error = Some(format!(
                    "No morphology loaded: start with --morphology FILE or type a path above (looked for: {})",
                    if tried.is_empty() { "nothing".into() } else { tried.join(", ") }
                ));
            }
        }
        app
    }

    /// Open a morphology, replacing the current session (its runner stops) only on success.
    pub fn open(&mut self, path: PathBuf) {
        self.path_text = path.display().to_string();
        self.next_geometry_id += 1;
        match Session::open(&path, self.factory.as_ref(), self.next_geometry_id) {
            Ok(session) => {
                self.session = Some(session);
                self.load_error = None;
                self.controls = ControlPanel::default();
                self.view.request_fit();
            }
            Err(e) => self.load_error = Some(format!("{e:#}")),
        }
    }

    /// The whole window; separate from `eframe::App::ui` so tests can drive it headless.
    pub fn app_ui(&mut self, ui: &mut egui::Ui) {
        // Panels remember their first size; before the window has its real size (first frame on
        // some platforms) that would pin them tiny, so wait for it.
        if ui.available_height() < 200.0 {
            ui.ctx().request_repaint();
            return;
        }
        egui::Panel::top("top_bar").show(ui, |ui| self.top_bar_ui(ui));
        egui::Panel::bottom("status_line").show(ui, |ui| self.status_ui(ui));
        let Some(session) = self.session.as_mut() else {
            egui::CentralPanel::default().show(ui, |ui| {
                ui.centered_and_justified(|ui| {
                    ui.label(RichText::new("No morphology loaded").size(22.0).weak());
                });
            });
            return;
        };
        let snap = session.runner.snapshot();
        egui::Panel::right("controls").default_size(380.0).size_range(280.0..=700.0).resizable(true).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                // Without a model the simulation controls would do nothing: show them greyed out.
                ui.add_enabled_ui(session.runner.has_model(), |ui| self.controls.ui(ui, &mut session.runner));
                ui.separator();
                self.synapses.ui(ui, &mut session.placements, &mut session.runner);
                ui.separator();
                self.view.settings_ui(ui);
            });
        });
        egui::Panel::bottom("traces").default_size(300.0).size_range(120.0..=800.0).resizable(true).show(ui, |ui| {
            self.traces.ui(ui, &snap, &session.placements);
        });
        egui::CentralPanel::default().frame(egui::Frame::NONE).show(ui, |ui| {
            self.view.ui(ui, session);
        });
        if snap.playing {
            ui.ctx().request_repaint();
        } else {
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(100));
        }
    }

    fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("neurotwin").strong().size(16.0));
            ui.label(RichText::new("L5 pyramidal neuron · Hay et al. 2011").weak());
            ui.separator();
            ui.label("morphology");
            let edit = ui.add(egui::TextEdit::singleline(&mut self.path_text).desired_width(360.0).hint_text("path to .json / .swc / .asc"));
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Open").clicked() || enter {
                let path = PathBuf::from(self.path_text.trim());
                self.open(path);
            }
            if let Some(s) = &self.session {
                ui.label(
                    RichText::new(format!("{} sections · {} compartments", s.morph.sections.len(), s.cable.n_compartments())).weak(),
                );
            }
        });
    }

    fn status_ui(&mut self, ui: &mut egui::Ui) {
        let error_color = ui.visuals().error_fg_color;
        let warn_color = ui.visuals().warn_fg_color;
        ui.horizontal(|ui| {
            if let Some(e) = &self.load_error {
                ui.colored_label(error_color, format!("Error: {e}"));
                return;
            }
            let Some(s) = &mut self.session else { return };
            let snap = s.runner.snapshot();
            if let Some(reason) = &snap.no_model {
                ui.colored_label(warn_color, reason.as_str());
            } else if let Some(e) = snap.error.as_ref().or(s.runner.send_error.as_ref()) {
                ui.colored_label(error_color, format!("Error: {e}"));
                if s.runner.send_error.is_some() && ui.small_button("dismiss").clicked() {
                    s.runner.send_error = None;
                }
            } else {
                ui.label(RichText::new(format!("t = {:.1} ms", snap.t_ms)).monospace());
            }
            if let Some(h) = &self.view.hover {
                ui.separator();
                let v = h.v_mv.map(|v| format!("{v:.1} mV")).unwrap_or_else(|| "–".into());
                ui.label(RichText::new(format!("{}({:.3})  {:.0} µm  {v}", h.at.section_name, h.at.x, h.at.dist_um)).monospace());
            }
        });
    }
}

impl eframe::App for NeuroTwinApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.app_ui(ui);
    }
}
