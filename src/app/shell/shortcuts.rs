//! Keyboard shortcuts and the help overlay that lists them (with the mouse controls).

use crate::app::live::placements::Selection;
use crate::app::live::runner::Command;
use super::NeuroTwinApp;
use eframe::egui::{self, Key, RichText};

/// (keys, what they do), as shown in the help overlay.
pub const SHORTCUTS: [(&str, &str); 12] = [
    ("Space", "play / pause"),
    ("I", "click mode Inspect: a click on the cell selects a synapse or site"),
    ("E", "click mode + Exc: a click on a dendrite adds an excitatory synapse"),
    ("N", "click mode + Inh: a click on a dendrite adds an inhibitory synapse"),
    ("C", "click mode Record: a click adds a recording site"),
    ("R", "reset to t = 0 (synapses and sites stay)"),
    ("F", "fit the view to the cell"),
    ("W", "\"Why did it spike?\": inputs before a selected time, attribution, what-if, filters"),
    ("P", "\"Voltage along a path\": the space plot and the dendrogram"),
    ("Delete", "remove the selected synapse or recording site"),
    ("H or ?", "show / hide this help"),
    ("Esc", "close this help"),
];

pub const MOUSE: [(&str, &str); 5] = [
    ("drag", "orbit"),
    ("right-drag or shift-drag", "pan"),
    ("scroll", "zoom"),
    ("double-click", "fit the view"),
    ("click", "inspect, or place what the tool strip (top left of the view) says"),
];

impl NeuroTwinApp {
    /// Apply shortcuts pressed this frame, unless a text field has the keyboard.
    pub(super) fn shortcuts(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        let pressed = |key: Key| ctx.input(|i| i.key_pressed(key));
        if pressed(Key::H) || pressed(Key::Questionmark) {
            self.show_help = !self.show_help;
        }
        if pressed(Key::Escape) {
            self.show_help = false;
        }
        if pressed(Key::F) {
            self.view.request_fit();
        }
        if pressed(Key::W) {
            self.why.open = !self.why.open;
        }
        if pressed(Key::P) {
            self.space.open = !self.space.open;
        }
        let Some(session) = self.session.as_mut() else { return };
        for mode in crate::app::live::placements::ClickMode::ALL {
            if pressed(mode.key()) {
                session.placements.mode = mode;
            }
        }
        if pressed(Key::Space) {
            if session.runner.snapshot().playing {
                session.runner.send(Command::Pause);
            } else {
                session.runner.send(Command::SetSpeed(self.controls.speed()));
                session.runner.send(Command::Play);
            }
        }
        if pressed(Key::R) {
            session.runner.send(Command::Reset);
        }
        if pressed(Key::Delete) || pressed(Key::Backspace) {
            if let Some(which @ (Selection::Synapse(_) | Selection::Site(_))) = session.placements.selected {
                session.placements.remove(&mut session.runner, which);
            }
        }
    }

    pub(super) fn help_ui(&mut self, ctx: &egui::Context) {
        let mut open = self.show_help;
        egui::Window::new("Help").open(&mut open).collapsible(false).resizable(false).anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0]).show(
            ctx,
            |ui| {
                ui.label(RichText::new("Keyboard").strong());
                egui::Grid::new("help_keys").num_columns(2).striped(true).show(ui, |ui| {
                    for (k, what) in SHORTCUTS {
                        ui.label(RichText::new(k).monospace());
                        ui.label(what);
                        ui.end_row();
                    }
                });
                ui.add_space(6.0);
                ui.label(RichText::new("Mouse in the 3-D view").strong());
                egui::Grid::new("help_mouse").num_columns(2).striped(true).show(ui, |ui| {
                    for (k, what) in MOUSE {
                        ui.label(RichText::new(k).monospace());
                        ui.label(what);
                        ui.end_row();
                    }
                });
                ui.add_space(6.0);
                ui.label(RichText::new("Colours: cyan = biophysical model, magenta = DNN twin; orange = excitatory, blue = inhibitory input.").weak());
            },
        );
        self.show_help = open && self.show_help;
    }
}
