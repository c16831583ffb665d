//! The tool strip over the 3-D view (Inspect, + Exc, + Inh, Record: what a click on the cell
//! does, the same mode as the "Click on the cell to" buttons of the right panel, each with its
//! key) and the one-line "what to try" hint under it.

use crate::app::live::placements::{ClickMode, Placements, EXC_COLOR, INH_COLOR};
use eframe::egui::{self, Color32, RichText};

/// The first-minute hint (dismissed with its hide button, or gone once something is placed).
pub const START_HINT: &str = "Try: + Exc (E), then click a dendrite to add a synapse · W: \"Why did it spike?\" · the Demos on the right · H: help";

const STRIP_FILL: Color32 = Color32::from_rgba_premultiplied(10, 12, 16, 215);

/// Draw the strip in the top-left corner of `rect` and, while `show_hint`, the hint under it.
/// Clicking a tool sets `placements.mode`; its hide button clears `show_hint`.
pub fn tool_strip_ui(ui: &mut egui::Ui, rect: egui::Rect, placements: &mut Placements, show_hint: &mut bool) {
    let area = egui::Rect::from_min_max(rect.min + egui::vec2(10.0, 10.0), rect.max - egui::vec2(80.0, 10.0));
    let mut child = ui.new_child(egui::UiBuilder::new().max_rect(area).layout(egui::Layout::top_down(egui::Align::Min)));
    egui::Frame::new().fill(STRIP_FILL).corner_radius(6.0).inner_margin(egui::Margin::same(4)).show(&mut child, |ui| {
        ui.horizontal(|ui| {
            ui.label(RichText::new("click:").weak());
            for mode in ClickMode::ALL {
                let text = match mode {
                    ClickMode::Excitatory => RichText::new(mode.label()).color(EXC_COLOR),
                    ClickMode::Inhibitory => RichText::new(mode.label()).color(INH_COLOR),
                    _ => RichText::new(mode.label()),
                };
                let button = ui.selectable_label(placements.mode == mode, text.strong()).on_hover_text(mode.tooltip());
                if button.clicked() {
                    placements.mode = mode;
                }
            }
        });
    });
    if *show_hint && !placements.synapses.is_empty() {
        *show_hint = false;
    }
    if *show_hint {
        child.add_space(4.0);
        egui::Frame::new().fill(STRIP_FILL).corner_radius(6.0).inner_margin(egui::Margin::symmetric(8, 4)).show(&mut child, |ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new(START_HINT).color(Color32::from_gray(230)));
                if ui.small_button("hide").on_hover_text("hide this hint").clicked() {
                    *show_hint = false;
                }
            });
        });
    }
}
