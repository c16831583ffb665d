//! Placed synapses and recording sites: the click mode, a list with section / x / distance, and
//! for the selected synapse its drive, "fire now" and remove.

use crate::app::live::drives::{default_poisson, drive_label, silent, Drive, FOREVER_MS};
use crate::app::live::model::SynapseKind;
use crate::app::live::placements::{ClickMode, Placements, Selection, EXC_COLOR, INH_COLOR};
use crate::app::live::runner::{Command, Runner};
use crate::limits::{MAX_BURST_SPIKES, MAX_DRIVE_RATE_HZ, MAX_DRIVE_TIME_MS};
use eframe::egui::{self, RichText, SliderClamping};

#[derive(Default)]
pub struct SynapsePanel {
    /// Text of the spike-list editor for the selected synapse.
    spike_list_text: String,
    /// The synapse whose spike list the text holds.
    text_for: Option<crate::app::live::runner::SynKey>,
}

impl SynapsePanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, placements: &mut Placements, runner: &mut Runner) {
        ui.heading("Click on the cell to");
        ui.horizontal(|ui| {
            for mode in ClickMode::ALL {
                ui.selectable_value(&mut placements.mode, mode, mode.label()).on_hover_text(mode.tooltip());
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
                    drive_label(&s.drive)
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
                if self.text_for != Some(key) {
                    self.text_for = Some(key);
                    self.spike_list_text = match &drive {
                        Drive::Explicit { times_ms } => format_times(times_ms),
                        _ => String::new(),
                    };
                }
                let t_now_ms = runner.snapshot().t_ms;
                if drive_editor_ui(ui, &mut drive, &mut self.spike_list_text, t_now_ms, key.0) {
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

/// Edit a drive in place; true when it changed. `t_now_ms` is the simulation time (for "now"
/// buttons), `seed` seeds a new Poisson drive.
pub fn drive_editor_ui(ui: &mut egui::Ui, drive: &mut Drive, spike_list_text: &mut String, t_now_ms: f64, seed: u64) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        let start = t_now_ms.ceil();
        let choices = [
            silent(),
            default_poisson(10.0, seed),
            Drive::Regular { rate_hz: 10.0, start_ms: start, stop_ms: FOREVER_MS },
            Drive::Burst { n_spikes: 5, freq_hz: 100.0, start_ms: start + 10.0 },
            Drive::Explicit { times_ms: vec![start + 50.0, start + 100.0, start + 150.0] },
        ];
        egui::ComboBox::from_label("drive").selected_text(drive_label(drive)).show_ui(ui, |ui| {
            for c in choices {
                let same = drive_label(&c) == drive_label(drive);
                if ui.selectable_label(same, drive_label(&c)).clicked() && !same {
                    if let Drive::Explicit { times_ms } = &c {
                        *spike_list_text = format_times(times_ms);
                    }
                    *drive = c;
                    changed = true;
                }
            }
        });
    });
    match drive {
        Drive::Poisson { rate_hz, .. } | Drive::Regular { rate_hz, .. } => {
            changed |= ui.add(egui::Slider::new(rate_hz, 0.1..=MAX_DRIVE_RATE_HZ).text("Hz").logarithmic(true).clamping(SliderClamping::Edits)).changed();
        }
        Drive::Burst { n_spikes, freq_hz, start_ms } => {
            changed |= ui.add(egui::Slider::new(n_spikes, 1..=MAX_BURST_SPIKES).text("spikes").logarithmic(true).clamping(SliderClamping::Edits)).changed();
            changed |= ui.add(egui::Slider::new(freq_hz, 5.0..=MAX_DRIVE_RATE_HZ).text("Hz within the burst").logarithmic(true).clamping(SliderClamping::Edits)).changed();
            ui.horizontal(|ui| {
                ui.label("starts at");
                changed |= ui.add(egui::DragValue::new(start_ms).range(0.0..=MAX_DRIVE_TIME_MS).speed(1.0).suffix(" ms")).changed();
                if ui.button("Burst now").on_hover_text("Start the burst at the current time").clicked() {
                    *start_ms = t_now_ms.ceil();
                    changed = true;
                }
            });
        }
        Drive::Explicit { times_ms } if !times_ms.is_empty() || drive_text_is_list(spike_list_text) => {
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
        Drive::Explicit { .. } | Drive::FireNow { .. } => {}
    }
    changed
}

/// A spike list being edited down to nothing stays a spike list while its text is not empty.
fn drive_text_is_list(text: &str) -> bool {
    !text.trim().is_empty()
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
    // the limits of a spike list (count, latest time)
    Drive::Explicit { times_ms: out.clone() }.validate().map_err(|e| e.to_string())?;
    Ok(out)
}
