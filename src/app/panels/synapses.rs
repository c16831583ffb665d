//! Placed synapses and recording sites: the click mode, a list with section / x / distance, and
//! for the selected synapse its drive, "fire now" and remove.

use crate::app::drives::Drive;
use crate::app::model::SynapseKind;
use crate::app::placements::{ClickMode, Placements, Selection, EXC_COLOR, INH_COLOR};
use crate::app::runner::{Command, Runner};
use eframe::egui::{self, RichText};

#[derive(Default)]
pub struct SynapsePanel {
    /// Text of the spike-list editor for the selected synapse.
    spike_list_text: String,
}

impl SynapsePanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, placements: &mut Placements, runner: &mut Runner) {
        ui.heading("Click on the cell to");
        ui.horizontal(|ui| {
            for mode in ClickMode::ALL {
                ui.selectable_value(&mut placements.mode, mode, mode.label());
            }
        });
        ui.label(RichText::new("drag: orbit · right/shift-drag: pan · scroll: zoom · double-click: fit").small().weak());
        ui.separator();
        ui.heading(format!("Synapses ({})", placements.synapses.len()));
        if placements.synapses.is_empty() {
            ui.label(RichText::new("none placed: choose + Exc or + Inh and click a dendrite").weak());
        }
        let mut clicked = None;
        egui::ScrollArea::vertical().id_salt("synapse_list").max_height(160.0).show(ui, |ui| {
            for s in &placements.synapses {
                let color = if s.kind == SynapseKind::Excitatory { EXC_COLOR } else { INH_COLOR };
                let text = RichText::new(format!(
                    "{} {}({:.2})  {:.0} µm  {}",
                    s.kind.label(),
                    s.at.section_name,
                    s.at.x,
                    s.at.dist_um,
                    s.drive.label()
                ))
                .color(color);
                let selected = placements.selected == Some(Selection::Synapse(s.key));
                if ui.selectable_label(selected, text).clicked() {
                    clicked = Some(Selection::Synapse(s.key));
                }
            }
        });
        ui.heading(format!("Recording sites ({})", placements.sites.len()));
        for s in &placements.sites {
            let text = RichText::new(format!("rec {}({:.2})  {:.0} µm", s.at.section_name, s.at.x, s.at.dist_um)).color(s.color);
            let selected = placements.selected == Some(Selection::Site(s.key));
            if ui.selectable_label(selected, text).clicked() {
                clicked = Some(Selection::Site(s.key));
            }
        }
        if clicked.is_some() {
            placements.selected = clicked;
            placements.version += 1;
        }
        ui.separator();
        self.selected_ui(ui, placements, runner);
    }

    fn selected_ui(&mut self, ui: &mut egui::Ui, placements: &mut Placements, runner: &mut Runner) {
        match placements.selected {
            Some(Selection::Synapse(key)) => {
                let Some(s) = placements.synapses.iter().find(|s| s.key == key) else { return };
                ui.label(RichText::new(format!("Selected: {} synapse at {}({:.3})", s.kind.label(), s.at.section_name, s.at.x)).strong());
                let mut drive = s.drive.clone();
                if drive_editor_ui(ui, &mut drive, &mut self.spike_list_text) {
                    placements.set_drive(runner, key, drive);
                }
                ui.horizontal(|ui| {
                    if ui.button("Fire now").clicked() {
                        runner.send(Command::FireNow(key));
                    }
                    if ui.button("Remove").clicked() {
                        placements.remove(runner, Selection::Synapse(key));
                    }
                });
            }
            Some(Selection::Site(key)) => {
                let Some(s) = placements.sites.iter().find(|s| s.key == key) else { return };
                ui.label(RichText::new(format!("Selected: recording at {}({:.3})", s.at.section_name, s.at.x)).strong());
                if ui.button("Remove").clicked() {
                    placements.remove(runner, Selection::Site(key));
                }
            }
            None => {
                ui.label(RichText::new("Select a synapse (list or Inspect-click) to edit its drive").weak());
            }
        }
    }
}

/// Edit a drive in place; true when it changed.
pub fn drive_editor_ui(ui: &mut egui::Ui, drive: &mut Drive, spike_list_text: &mut String) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        ui.label("drive");
        let choices = [
            Drive::Silent,
            Drive::Poisson { rate_hz: 10.0 },
            Drive::Regular { rate_hz: 10.0 },
            Drive::Burst { n_spikes: 3, isi_ms: 5.0, period_ms: 200.0 },
            Drive::SpikeList { times_ms: vec![50.0, 100.0, 150.0] },
        ];
        egui::ComboBox::from_id_salt("drive_kind").selected_text(drive.label()).show_ui(ui, |ui| {
            for c in choices {
                let same = std::mem::discriminant(&c) == std::mem::discriminant(drive);
                if ui.selectable_label(same, c.label()).clicked() && !same {
                    if let Drive::SpikeList { times_ms } = &c {
                        *spike_list_text = format_times(times_ms);
                    }
                    *drive = c;
                    changed = true;
                }
            }
        });
    });
    match drive {
        Drive::Silent => {}
        Drive::Poisson { rate_hz } | Drive::Regular { rate_hz } => {
            changed |= ui.add(egui::Slider::new(rate_hz, 0.0..=200.0).text("Hz").logarithmic(true)).changed();
        }
        Drive::Burst { n_spikes, isi_ms, period_ms } => {
            changed |= ui.add(egui::Slider::new(n_spikes, 1..=20).text("spikes")).changed();
            changed |= ui.add(egui::Slider::new(isi_ms, 0.5..=50.0).text("ms apart")).changed();
            changed |= ui.add(egui::Slider::new(period_ms, 10.0..=2000.0).text("ms period").logarithmic(true)).changed();
        }
        Drive::SpikeList { times_ms } => {
            if spike_list_text.is_empty() {
                *spike_list_text = format_times(times_ms);
            }
            ui.label("spike times (ms, absolute), comma separated");
            if ui.text_edit_singleline(spike_list_text).changed() {
                match parse_times(spike_list_text) {
                    Ok(t) => {
                        *times_ms = t;
                        changed = true;
                    }
                    Err(e) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                }
            }
        }
    }
    changed
}

fn format_times(times_ms: &[f64]) -> String {
    times_ms.iter().map(|t| format!("{t}")).collect::<Vec<_>>().join(", ")
}

/// Parse "10, 20.5, 30" into sorted times; errors name the bad entry.
pub fn parse_times(text: &str) -> Result<Vec<f64>, String> {
    let mut out = Vec::new();
    for part in text.split([',', ' ', ';']).filter(|p| !p.trim().is_empty()) {
        let t: f64 = part.trim().parse().map_err(|_| format!("not a time: {part:?}"))?;
        if !t.is_finite() || t < 0.0 {
            return Err(format!("times must be ≥ 0 ms: {part:?}"));
        }
        out.push(t);
    }
    out.sort_by(f64::total_cmp);
    Ok(out)
}
