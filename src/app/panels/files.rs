//! Files: save and load a scenario (JSON), export the traces (CSV + .npy), save a PNG screenshot,
//! the path of recorded clips.
//! The panel only collects paths; the app performs the action and reports the outcome.

use eframe::egui;
use std::path::PathBuf;

/// What the user asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum FileAction {
    SaveScenario(PathBuf),
    LoadScenario(PathBuf),
    ExportTraces(PathBuf),
    Screenshot(PathBuf),
}

pub struct FilesPanel {
    pub scenario_path: String,
    pub export_prefix: String,
    pub screenshot_path: String,
    /// Where "● Record" writes its clip (GIF; the MP4 beside it).
    pub clip_path: String,
}

impl Default for FilesPanel {
    fn default() -> Self {
        FilesPanel {
            scenario_path: "scenario.json".into(),
            export_prefix: "traces".into(),
            screenshot_path: "neurotwin.png".into(),
            clip_path: "neurotwin-clip.gif".into(),
        }
    }
}

impl FilesPanel {
    /// One field per line at the panel's full width (so paths stay readable), its buttons under it.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<FileAction> {
        ui.heading("Files");
        let mut action = None;
        let field = |ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str| {
            ui.horizontal(|ui| {
                let l = ui.label(label);
                ui.add(egui::TextEdit::singleline(text).desired_width(ui.available_width()).hint_text(hint)).labelled_by(l.id);
            });
        };
        field(ui, "scenario", &mut self.scenario_path, "scenario.json");
        ui.horizontal(|ui| {
            if ui.button("Save scenario").clicked() {
                action = Some(FileAction::SaveScenario(PathBuf::from(self.scenario_path.trim())));
            }
            if ui.button("Load scenario").clicked() {
                action = Some(FileAction::LoadScenario(PathBuf::from(self.scenario_path.trim())));
            }
        });
        field(ui, "traces", &mut self.export_prefix, "file prefix");
        if ui.button("Export traces").on_hover_text("PREFIX.csv, PREFIX.npy (t_ms, soma, sites) and PREFIX.spikes.txt").clicked() {
            action = Some(FileAction::ExportTraces(PathBuf::from(self.export_prefix.trim())));
        }
        field(ui, "window", &mut self.screenshot_path, "shot.png");
        if ui.button("Screenshot").on_hover_text("PNG of the whole window").clicked() {
            action = Some(FileAction::Screenshot(PathBuf::from(self.screenshot_path.trim())));
        }
        field(ui, "clip", &mut self.clip_path, "clip.gif");
        ui.label(egui::RichText::new("Record (top right) writes it: GIF, and MP4 where ffmpeg is installed").weak());
        action
    }
}
