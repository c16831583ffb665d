//! The eframe `App` ([`NeuroTwinApp`]): window layout (3-D view in the centre, controls on the
//! right, traces at the bottom, a status line), opening morphologies and scenarios, file actions,
//! and showing every error. Keyboard shortcuts and the help overlay are in `shortcuts`, starting
//! the teaching demos in `teaching`, unattended runs (screenshots, frame rate) in `automation`,
//! writing traces and screenshots in `export`, recording clips and spike sounds in `lecture`.
//!
//! The top of the app: it may use every other app module; none uses it (except tests).

pub mod automation;
pub mod export;
pub mod hay_download;
mod lecture;
mod shortcuts;
mod stderr_echo;
mod teaching;
#[cfg(test)]
mod start_tests;
#[cfg(test)]
mod tests;

use self::automation::{Automation, AutomationState};
use self::export::{write_traces, ScreenRegions};
use crate::app::demos::Demo;
use crate::app::live::model::ModelFactory;
use crate::app::demos::panel::{demo_list_ui, demo_text_ui, ActiveDemo};
use crate::app::panels::{ControlPanel, FileAction, FilesPanel, SpacePlotPanel, SynapsePanel, TracePanel, WhyPanel};
use crate::app::live::runner::Command;
use crate::app::scenario::Scenario;
use crate::app::session::{MorphologySource, Session};
use crate::app::view::view3d::View3d;
use eframe::egui::{self, RichText};
use std::path::{Path, PathBuf};

/// What the app starts with.
#[derive(Default)]
pub struct AppOptions {
    /// Morphology to open at start (`None`: none, the window says how to open one).
    pub morphology: Option<MorphologySource>,
    /// Builds the simulation for an opened morphology; `None` shows the morphology only.
    pub model_factory: Option<ModelFactory>,
    /// Scenario to load once the morphology is open.
    pub scenario: Option<PathBuf>,
    /// Start playing at once.
    pub autoplay: bool,
    /// Open alive: switch the paper's background input on and play (the twin runs when a model
    /// fits). Applied after any scenario; `false` keeps the paused start with no input.
    pub alive: bool,
    pub automation: Automation,
    /// Folder of deep-network twins (`models/`); `None`: no twin.
    pub models_dir: Option<PathBuf>,
    /// Why there is no models folder (e.g. "no models folder found (looked in: …)"), shown in the
    /// twin panel when `models_dir` is `None`.
    pub models_missing: Option<String>,
    /// Open "Why did it spike?" and walk it by itself: select the first somatic spike, explain
    /// it with the twin, delete the top inputs (for screenshots and demos).
    pub why_auto: bool,
    /// What the walk-through paints at its end (default the attribution).
    pub why_paint: Option<crate::app::panels::why_panel::Paint>,
    /// Demo to start once the morphology is open (after any scenario).
    pub demo: Option<Demo>,
    /// Open "Voltage along a path" (the space plot) at start.
    pub space_plot: bool,
    /// What the 3-D view colours the cell by at start (default: membrane potential).
    pub color_by: Option<crate::app::view::state_colors::ColorBy>,
    /// Spike sounds on at start.
    pub sound: bool,
}

pub struct NeuroTwinApp {
    pub session: Option<Session>,
    /// Why no morphology is shown, or the last failed open.
    pub load_error: Option<String>,
    pub view: View3d,
    pub controls: ControlPanel,
    pub synapses: SynapsePanel,
    pub traces: TracePanel,
    pub files: FilesPanel,
    pub why: WhyPanel,
    /// "Get the Hay cell" beside Open (a background download, then the cell opens).
    pub hay: hay_download::HayDownload,
    /// "Voltage along a path" (space plot and dendrogram).
    pub space: SpacePlotPanel,
    pub show_help: bool,
    /// Outcome of the last file action: Ok(message) or Err(error), for the status line.
    pub message: Option<Result<String, String>>,
    pub automation: AutomationState,
    /// Clips of the window (record button, `--record`).
    pub recorder: crate::app::record::Recorder,
    /// Spike sounds: which spikes click (always compiled), and the output (opened when first
    /// switched on; silent where there is none).
    pub sounds: crate::app::audio::SpikeSounds,
    audio_out: Option<Box<dyn crate::app::audio::ClickOutput>>,
    /// The demo whose text is shown.
    pub demo: Option<ActiveDemo>,
    factory: Option<ModelFactory>,
    models_dir: Option<PathBuf>,
    models_missing: Option<String>,
    path_text: String,
    next_geometry_id: u64,
    regions: ScreenRegions,
    /// Every error the status line shows also goes to stderr.
    stderr_echo: stderr_echo::ErrorEcho,
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
            files: FilesPanel::default(),
            why: WhyPanel::new(options.why_auto, options.why_paint),
            hay: hay_download::HayDownload::default(),
            space: SpacePlotPanel::new(),
            show_help: false,
            message: None,
            automation: AutomationState::new(options.automation),
            recorder: crate::app::record::Recorder::default(),
            sounds: crate::app::audio::SpikeSounds::default(),
            audio_out: None,
            demo: None,
            factory: options.model_factory,
            models_dir: options.models_dir,
            models_missing: options.models_missing,
            path_text: String::new(),
            stderr_echo: stderr_echo::ErrorEcho::default(),
            next_geometry_id: 0,
            regions: ScreenRegions::default(),
        };
        match options.morphology {
            Some(source) => app.open(source),
            None => app.load_error = Some("No morphology loaded: start with --morphology FILE, type a path above, or press Get the Hay cell".into()),
        }
        if let Some(path) = &options.scenario {
            app.load_scenario(path);
        }
        if options.alive {
            app.start_alive();
        }
        if options.autoplay {
            if let Some(s) = app.session.as_mut() {
                s.runner.send(Command::SetSpeed(app.controls.speed()));
                s.runner.send(Command::Play);
            }
        }
        if let Some(demo) = options.demo {
            app.start_demo(demo);
        }
        app.space.open = options.space_plot;
        if options.sound {
            app.set_sound(true);
        }
        if let Some(c) = options.color_by {
            app.view.color_by = c;
        }
        app
    }

    /// The live start: the paper's background input on (as its checkbox in the control panel
    /// does) and playing at the chosen speed. Without a simulation it does nothing.
    pub fn start_alive(&mut self) {
        let Some(s) = self.session.as_mut() else { return };
        if !s.runner.has_model() {
            return;
        }
        self.controls.background_on = true;
        s.runner.send(Command::SetBackground(Some(self.controls.background.clone())));
        s.runner.send(Command::SetSpeed(self.controls.speed()));
        s.runner.send(Command::Play);
    }

    /// Open a morphology, replacing the current session (its runner stops) only on success.
    pub fn open(&mut self, source: MorphologySource) {
        self.path_text = source.display();
        self.next_geometry_id += 1;
        match Session::open(&source, self.factory.as_ref(), self.next_geometry_id) {
            Ok(mut session) => {
                match (&self.models_dir, &self.models_missing) {
                    (Some(dir), _) => session.start_twin(dir),
                    (None, Some(why)) => session.twin_error = Some(why.clone()),
                    (None, None) => {}
                }
                self.session = Some(session);
                self.load_error = None;
                self.controls = ControlPanel::default();
                self.view.request_fit();
            }
            Err(e) => self.load_error = Some(format!("{e:#}")),
        }
    }

    pub fn load_scenario(&mut self, path: &Path) {
        let Some(s) = self.session.as_mut() else {
            self.message = Some(Err("open a morphology before loading a scenario".into()));
            return;
        };
        let result = Scenario::load(path).and_then(|sc| sc.apply(&s.morph, &s.cable, &mut self.controls, &mut s.placements, &mut s.runner));
        self.message = Some(match result {
            Ok(()) => Ok(format!("scenario loaded: {}", path.display())),
            Err(e) => Err(format!("{e:#}")),
        });
    }

    /// A finished Hay cell download: open the cell, or show the error.
    fn hay_download_frame(&mut self) {
        match self.hay.poll() {
            Some(hay_download::DownloadEvent::Open { path, message }) => {
                self.open(MorphologySource::File(path));
                if self.load_error.is_none() {
                    self.message = Some(Ok(message));
                }
            }
            Some(hay_download::DownloadEvent::Failed(e)) => {
                if self.session.is_some() {
                    self.message = Some(Err(e));
                } else {
                    self.load_error = Some(e);
                }
            }
            None => {}
        }
    }

    fn file_action(&mut self, ctx: &egui::Context, action: FileAction) {
        let Some(s) = self.session.as_mut() else { return };
        match action {
            FileAction::LoadScenario(path) => self.load_scenario(&path),
            FileAction::SaveScenario(path) => {
                let sc = Scenario::capture(&self.controls, &s.placements, &s.source.display());
                self.message = Some(sc.save(&path).map(|()| format!("scenario saved: {}", path.display())).map_err(|e| format!("{e:#}")));
            }
            FileAction::ExportTraces(prefix) => {
                let snap = s.runner.snapshot();
                self.message = Some(match write_traces(&prefix, &snap, &s.placements) {
                    Ok(files) => Ok(format!("wrote {}", files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "))),
                    Err(e) => Err(format!("export: {e:#}")),
                });
            }
            FileAction::Screenshot(path) => {
                let t_ms = s.runner.snapshot().t_ms;
                self.automation.screenshot_now(ctx, path, self.regions, t_ms);
            }
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
        let ctx = ui.ctx().clone();
        self.hay_download_frame();
        self.shortcuts(&ctx);
        egui::Panel::top("top_bar").show(ui, |ui| self.top_bar_ui(ui));
        egui::Panel::bottom("status_line").show(ui, |ui| self.status_ui(ui));
        self.help_ui(&ctx);
        let t_ms = self.session.as_ref().map_or(0.0, |s| s.runner.snapshot().t_ms);
        self.record_frame(&ctx, t_ms);
        self.sound_frame();
        self.automation.frame(&ctx, self.regions, t_ms);
        if let Some(m) = self.automation.message.take() {
            self.message = Some(m);
        }
        let Some(session) = self.session.as_mut() else {
            egui::CentralPanel::default().show(ui, |ui| {
                ui.centered_and_justified(|ui| {
                    ui.label(RichText::new("No morphology loaded").size(22.0).weak());
                });
            });
            return;
        };
        let snap = session.runner.snapshot();
        let mut action = None;
        let mut demo_action = None;
        egui::Panel::right("controls").default_size(380.0).size_range(280.0..=700.0).resizable(true).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                ui.add_enabled_ui(session.runner.has_model(), |ui| demo_action = demo_list_ui(ui));
                ui.separator();
                // Without a model the simulation controls would do nothing: show them greyed out.
                ui.add_enabled_ui(session.runner.has_model(), |ui| self.controls.ui(ui, &mut session.runner));
                if let Some(t) = session.twin.as_mut() {
                    // NMDA switched (here, by a demo or a scenario): the twin trained on that protocol
                    t.follow_nmda(self.controls.nmda);
                }
                ui.separator();
                crate::app::panels::twin_panel::twin_ui(ui, session.twin.as_mut(), session.twin_error.as_deref(), &snap, self.traces.window_ms);
                ui.separator();
                self.synapses.ui(ui, &mut session.placements, &mut session.runner);
                ui.separator();
                self.view.settings_ui(ui);
                ui.separator();
                action = self.files.ui(ui);
            });
        });
        let traces = egui::Panel::bottom("traces").default_size(300.0).size_range(120.0..=800.0).resizable(true).show(ui, |ui| {
            let twin = session.twin.as_ref().map(|t| t.twin.snapshot()).filter(|t| matches!(t.state, crate::app::twin::thread::TwinState::Running(_)));
            let second = session.twin.as_ref().map(|t| t.second.snapshot());
            self.traces.ui(ui, &snap, twin.as_deref(), second.as_deref(), &session.placements);
        });
        if let Some(active) = &self.demo {
            let twin_line = self.demo_twin_line();
            egui::Panel::left("demo_text").default_size(320.0).size_range(220.0..=600.0).resizable(true).show(ui, |ui| {
                if let Some(a) = demo_text_ui(ui, active, twin_line.as_deref()) {
                    demo_action = Some(a);
                }
            });
        }
        let Some(session) = self.session.as_mut() else { return };
        self.why.ui(&ctx, session, &mut self.traces, &mut self.view);
        self.space.ui(ui, session, &mut self.view, &snap);
        let view = egui::CentralPanel::default().frame(egui::Frame::NONE).show(ui, |ui| {
            self.view.ui(ui, session.viewed());
        });
        self.regions = ScreenRegions::from_rects(view.response.rect, traces.response.rect, ctx.pixels_per_point());
        if self.recorder.is_recording() {
            let r = crate::app::record::stamp(&ctx, view.response.rect, snap.t_ms);
            let ppp = ctx.pixels_per_point();
            self.recorder.stamp_px = Some([r.left() * ppp, r.top() * ppp, r.right() * ppp, r.bottom() * ppp]);
        }
        if let Some(action) = action {
            self.file_action(&ctx, action);
        }
        if let Some(a) = demo_action {
            self.demo_action(a);
        }
        self.demo_frame(&snap);
        if snap.playing {
            ctx.request_repaint();
        } else {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }

    fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            // the right-hand buttons are laid out first so that they always keep their place; the
            // left part gets what is left (the path field shrinks and the cell summary goes into
            // the field's tooltip when the window is narrow) instead of running under them
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("Help (H)").clicked() {
                    self.show_help = !self.show_help;
                }
                if ui.selectable_label(self.why.open, "Why did it spike? (W)").clicked() {
                    self.why.open = !self.why.open;
                }
                if ui.selectable_label(self.space.open, "Space plot (P)").on_hover_text("Voltage along a path: soma -> apical trunk -> tuft, or to a tip you pick; and a dendrogram").clicked() {
                    self.space.open = !self.space.open;
                }
                let sound_tip = "Spike sounds: a click per somatic spike of the cell, a higher one per spike the twin predicts (needs a build with --features audio and a sound device)";
                if ui.selectable_label(self.sounds.enabled(), "Sound").on_hover_text(sound_tip).clicked() {
                    self.set_sound(!self.sounds.enabled());
                }
                self.record_button_ui(ui);
                ui.separator();
                ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| self.top_bar_left_ui(ui));
            });
        });
    }

    /// The left part of the top bar: title, morphology field, Open, the Hay-cell download, summary.
    fn top_bar_left_ui(&mut self, ui: &mut egui::Ui) {
        /// Width (px) the title, labels and buttons around the path field take at the default font.
        const AROUND_FIELD_PX: f32 = 560.0;
        const SUMMARY_PX: f32 = 190.0;
        ui.label(RichText::new("neurotwin").strong().size(16.0));
        ui.label(RichText::new("L5 pyramidal neuron · Hay et al. 2011").weak());
        ui.separator();
        ui.label("morphology");
        let summary = self.session.as_ref().map(|s| format!("{} sections · {} compartments", s.morph.sections.len(), s.cable.n_compartments()));
        let room = ui.available_width() - AROUND_FIELD_PX;
        let show_summary = room - SUMMARY_PX >= 200.0;
        let field_px = if show_summary { room - SUMMARY_PX } else { room }.clamp(120.0, 320.0);
        let mut edit = ui.add(egui::TextEdit::singleline(&mut self.path_text).desired_width(field_px).hint_text("path to .asc / .swc / .json"));
        if let (Some(text), false) = (&summary, show_summary) {
            edit = edit.on_hover_text(text.as_str());
        }
        let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Open").clicked() || enter {
            let text = self.path_text.trim();
            let source = if text == crate::app::session::EMBEDDED_SYNTHETIC_NAME {
                MorphologySource::EmbeddedSynthetic
            } else {
                MorphologySource::File(PathBuf::from(text))
            };
            self.open(source);
        }
        if self.hay.ui(ui) {
            self.hay.start(ui.ctx());
        }
        if let (Some(text), true) = (summary, show_summary) {
            ui.label(RichText::new(text).weak());
        }
    }

    /// The errors the status line shows (load, engine, sending, file actions), to stderr.
    fn echo_errors(&mut self) {
        let mut shown: Vec<String> = self.load_error.iter().cloned().collect();
        if let Some(s) = &self.session {
            shown.extend(s.runner.snapshot().error.clone());
            shown.extend(s.runner.send_error.clone());
        }
        if let Some(Err(e)) = &self.message {
            shown.push(e.clone());
        }
        self.stderr_echo.show(shown);
    }

    fn status_ui(&mut self, ui: &mut egui::Ui) {
        self.echo_errors();
        let error_color = ui.visuals().error_fg_color;
        let warn_color = ui.visuals().warn_fg_color;
        let fps = self.automation.fps.fps();
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("{fps:4.1} fps")).monospace().weak());
            ui.separator();
            if let Some(e) = &self.load_error {
                ui.colored_label(error_color, format!("Error: {e}"));
                if self.session.is_some() && ui.small_button("dismiss").clicked() {
                    self.load_error = None;
                }
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
                let rtf = if snap.playing { format!("  {:.2}× real time", snap.achieved_real_time_factor) } else { "  paused".into() };
                ui.label(RichText::new(format!("t = {:.1} ms{rtf}  spikes: {}", snap.t_ms, snap.soma_spikes_ms.len())).monospace());
            }
            if let Some(m) = &self.message {
                ui.separator();
                match m {
                    Ok(text) => ui.label(text.as_str()),
                    Err(e) => ui.colored_label(error_color, format!("Error: {e}")),
                };
                if ui.small_button("dismiss").clicked() {
                    self.message = None;
                }
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
        let start = std::time::Instant::now();
        self.app_ui(ui);
        self.automation.fps.add_ui_time(start.elapsed());
    }
}
