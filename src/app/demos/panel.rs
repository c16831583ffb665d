//! The demos: a list of one-click buttons (right panel) and, while one runs, its "what to watch"
//! text in a panel of its own with Replay and Close.

use super::Demo;
use eframe::egui::{self, RichText};

/// The demo that was started last, until its text is closed.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveDemo {
    pub demo: Demo,
    /// Pause when simulation time reaches this (ms).
    pub stop_ms: Option<f64>,
    /// The automatic pause has happened (the user may play on).
    pub stopped: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoAction {
    Start(Demo),
    Replay,
    Close,
    /// Colour the 3-D cell by this (the demo's suggestion).
    ColorBy(crate::app::view::state_colors::ColorBy),
}

/// One button per demo.
pub fn demo_list_ui(ui: &mut egui::Ui) -> Option<DemoAction> {
    let mut action = None;
    egui::CollapsingHeader::new(RichText::new("Demos").heading()).default_open(true).show(ui, |ui| {
        ui.label(RichText::new("One click: resets the simulation, places the inputs and plays.").small().weak());
        for demo in Demo::ALL {
            if ui.button(demo.title()).clicked() {
                action = Some(DemoAction::Start(demo));
            }
        }
    });
    action
}

/// The running demo's title and text; `twin_line` says how the twin is doing where it matters.
pub fn demo_text_ui(ui: &mut egui::Ui, active: &ActiveDemo, twin_line: Option<&str>) -> Option<DemoAction> {
    let mut action = None;
    ui.horizontal(|ui| {
        ui.label(RichText::new("Demo").small().weak());
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Close demo").on_hover_text("Hide this text; the set-up stays").clicked() {
                action = Some(DemoAction::Close);
            }
            if ui.button("Replay").on_hover_text("Back to t = 0 and play the demo again").clicked() {
                action = Some(DemoAction::Replay);
            }
        });
    });
    ui.heading(active.demo.title());
    ui.separator();
    egui::ScrollArea::vertical().show(ui, |ui| {
        for paragraph in active.demo.explanation().split("\n\n") {
            ui.label(paragraph);
            ui.add_space(6.0);
        }
        if let Some((color, label)) = active.demo.suggested_color() {
            if ui.button(label).on_hover_text("Back to voltage: View, colour by membrane potential").clicked() {
                action = Some(DemoAction::ColorBy(color));
            }
            ui.add_space(6.0);
        }
        if let Some(line) = twin_line {
            ui.label(RichText::new(line).italics());
        }
        if let (Some(stop), true) = (active.stop_ms, active.stopped) {
            ui.label(RichText::new(format!("The demo is over (paused at {stop:.0} ms).")).weak());
            if ui.add(egui::Button::new(RichText::new("Replay the demo").heading())).on_hover_text("Back to t = 0 and play the demo again").clicked() {
                action = Some(DemoAction::Replay);
            }
        } else if active.stop_ms.is_some() {
            ui.label(RichText::new(format!("Slow motion: the demo takes about {:.0} s, then pauses.", super::DEMO_WALL_S)).weak());
        }
    });
    action
}
