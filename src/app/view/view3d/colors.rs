//! What the view colours the cell by: the colour-by menu, each state's scale, and the colour of
//! every Cable node (for the 3-D cell and the space plot's dendrogram).

use super::{View3d, NO_VALUE_RGB};
use crate::app::view::state_colors::{ColorBy, StateScale};
use crate::biophysics::mechanisms::NodeQuantity;
use eframe::egui;

impl View3d {
    /// The range of state quantity `q` on the colour map.
    pub fn state_scale(&self, q: NodeQuantity) -> StateScale {
        self.state_scales.get(&q).copied().unwrap_or_else(|| StateScale::default_for(q))
    }

    /// The colour-by menu: membrane potential, each state quantity, a channel's gate, section kind.
    pub(super) fn color_by_ui(&mut self, ui: &mut egui::Ui) {
        let name = |c: ColorBy| match c {
            ColorBy::Voltage => "membrane potential (mV)".to_string(),
            ColorBy::State(q) => q.label(),
            ColorBy::SectionKind => "section kind".to_string(),
        };
        egui::ComboBox::from_label("colour by").selected_text(name(self.color_by)).width(190.0).show_ui(ui, |ui| {
            let mut choices = vec![ColorBy::Voltage];
            choices.extend(crate::app::view::state_colors::STATES.iter().map(|&q| ColorBy::State(q)));
            let gate = match self.color_by {
                ColorBy::State(q @ NodeQuantity::Gate { .. }) => q,
                _ => crate::app::view::state_colors::DEFAULT_GATE,
            };
            choices.push(ColorBy::State(gate));
            choices.push(ColorBy::SectionKind);
            for c in choices {
                let label = if matches!(c, ColorBy::State(NodeQuantity::Gate { .. })) { "a channel's gate".to_string() } else { name(c) };
                ui.selectable_value(&mut self.color_by, c, label);
            }
        });
        if let ColorBy::State(NodeQuantity::Gate { .. }) = self.color_by {
            let mut chosen = self.color_by;
            egui::ComboBox::from_label("gate").selected_text(name(chosen)).show_ui(ui, |ui| {
                for q in crate::app::view::state_colors::gate_choices() {
                    ui.selectable_value(&mut chosen, ColorBy::State(q), q.label());
                }
            });
            self.color_by = chosen;
        }
    }

    /// The colour of every Cable node as the view paints it (for the 3-D cell and the
    /// dendrogram): the overlay, the voltage, the chosen state, or `None` for section kinds.
    pub fn node_colors(&self, snapshot: &crate::app::live::runner::Snapshot) -> Option<Vec<[u8; 3]>> {
        if let Some(o) = &self.overlay {
            let scale = if o.scale > 0.0 && o.scale.is_finite() { o.scale } else { 1.0 };
            return Some(o.values.iter().map(|v| if v.is_finite() { crate::app::view::colormap::diverging_rgb(v / scale) } else { NO_VALUE_RGB }).collect());
        }
        match self.color_by {
            ColorBy::Voltage if !snapshot.node_v_mv.is_empty() => Some(snapshot.node_v_mv.iter().map(|&v| self.colors.rgb(v)).collect()),
            ColorBy::State(q) => {
                let state = snapshot.node_state.as_ref().filter(|s| s.quantity == q && !s.values.is_empty())?;
                let scale = self.state_scale(q);
                Some(state.values.iter().map(|&x| {
                    let f = scale.fraction(x);
                    if f.is_nan() { NO_VALUE_RGB } else { self.colors.map.rgb(f) }
                }).collect())
            }
            _ => None,
        }
    }
}
