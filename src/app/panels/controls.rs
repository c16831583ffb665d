//! Simulation controls: play/pause/step/reset, speed, NMDA, the background protocol and the
//! somatic current clamp. Every control sends a command to the runner.

use crate::app::live::drives::{BackgroundMode, BackgroundSettings};
use crate::app::live::runner::{ClampSettings, Command, Runner, Snapshot, Speed};
use crate::limits::{MAX_BACKGROUND_PER_100MS, MAX_CLAMP_AMP_NA, MAX_CLAMP_TIME_MS};
use eframe::egui::{self, RichText};

/// Speeds offered on the slider, as log10 of the real-time factor (0.01× slow motion, used by the
/// short demos, to 10×; `limits::MIN_REAL_TIME_FACTOR`, `MAX_REAL_TIME_FACTOR`).
pub const SPEED_LOG_MIN: f64 = -2.0;
pub const SPEED_LOG_MAX: f64 = 1.0;

pub struct ControlPanel {
    /// log10 of the requested real-time factor; above SPEED_LOG_MAX means as fast as possible.
    pub speed_log10: f64,
    pub max_speed: bool,
    pub nmda: bool,
    pub background_on: bool,
    pub background: BackgroundSettings,
    pub clamp: ClampSettings,
    pub clamp_on: bool,
    pub pulse_amp_na: f64,
    pub pulse_dur_ms: f64,
    pub step_ms: f64,
}

impl Default for ControlPanel {
    fn default() -> Self {
        ControlPanel {
            speed_log10: 0.0,
            max_speed: false,
            nmda: true,
            background_on: false,
            background: BackgroundSettings::default(),
            clamp: ClampSettings { amp_na: 0.8, delay_ms: 100.0, dur_ms: 200.0 },
            clamp_on: false,
            pulse_amp_na: 1.0,
            pulse_dur_ms: 5.0,
            step_ms: 1.0,
        }
    }
}

impl ControlPanel {
    pub fn speed(&self) -> Speed {
        if self.max_speed {
            Speed::Max
        } else {
            Speed::RealTimeFactor(10f64.powf(self.speed_log10))
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, runner: &mut Runner) {
        let snap = runner.snapshot();
        self.transport_ui(ui, runner, &snap);
        ui.separator();
        self.inputs_ui(ui, runner);
        ui.separator();
        self.clamp_ui(ui, runner);
    }

    fn transport_ui(&mut self, ui: &mut egui::Ui, runner: &mut Runner, snap: &Snapshot) {
        ui.heading("Simulation");
        if !snap.model_label.is_empty() {
            ui.label(RichText::new(&snap.model_label).small().weak());
        }
        ui.horizontal(|ui| {
            if snap.playing {
                if ui.button("Pause").clicked() {
                    runner.send(Command::Pause);
                }
            } else if ui.button("Play").clicked() {
                runner.send(Command::SetSpeed(self.speed()));
                runner.send(Command::Play);
            }
            if ui.button("Step").on_hover_text("Advance by the step length and pause").clicked() {
                runner.send(Command::StepMs(self.step_ms));
            }
            if ui.button("Reset").on_hover_text("Back to t = 0; synapses and sites stay").clicked() {
                runner.send(Command::Reset);
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label("step length");
            ui.add(egui::DragValue::new(&mut self.step_ms).range(0.025..=1000.0).speed(0.1).suffix(" ms")).labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            let slider = egui::Slider::new(&mut self.speed_log10, SPEED_LOG_MIN..=SPEED_LOG_MAX)
                .custom_formatter(|v, _| format!("{:.2}×", 10f64.powf(v)))
                .custom_parser(|s| s.trim_end_matches('×').trim().parse::<f64>().ok().filter(|v| *v > 0.0).map(f64::log10))
                .text("speed");
            let changed = ui.add_enabled(!self.max_speed, slider).changed();
            let max_changed = ui.toggle_value(&mut self.max_speed, "max").changed();
            if changed || max_changed {
                runner.send(Command::SetSpeed(self.speed()));
            }
        });
        let rtf = if snap.playing { format!("{:.2}× real time", snap.achieved_real_time_factor) } else { "paused".into() };
        ui.label(RichText::new(format!("t = {:.1} ms   achieved: {rtf}", snap.t_ms)).monospace());
    }

    fn inputs_ui(&mut self, ui: &mut egui::Ui, runner: &mut Runner) {
        ui.heading("Inputs");
        if ui.checkbox(&mut self.nmda, "NMDA component of excitatory synapses").changed() {
            runner.send(Command::SetNmda(self.nmda));
        }
        let mut changed = ui
            .checkbox(&mut self.background_on, "Background protocol (paper, spec §6.1)")
            .on_hover_text("One excitatory and one inhibitory synapse on every basal and apical segment, driven by the paper's input generator")
            .changed();
        ui.add_enabled_ui(self.background_on, |ui| {
            let b = &mut self.background;
            ui.horizontal(|ui| {
                changed |= ui
                    .radio_value(&mut b.mode, BackgroundMode::Paper, "paper's random rates")
                    .on_hover_text("Tree rates redrawn every 25–450 ms and smoothed, as in the training data (NMDA or AMPA parameters, following the NMDA switch)")
                    .changed();
                changed |= ui.radio_value(&mut b.mode, BackgroundMode::Fixed, "fixed rates").changed();
            });
            ui.add_enabled_ui(b.mode == BackgroundMode::Fixed, |ui| {
                egui::Grid::new("background_rates").num_columns(3).show(ui, |ui| {
                    ui.label("spikes / 100 ms");
                    ui.label("exc");
                    ui.label("inh");
                    ui.end_row();
                    for (name, exc, inh) in [
                        ("basal", &mut b.basal_exc_per_100ms, &mut b.basal_inh_per_100ms),
                        ("apical", &mut b.apical_exc_per_100ms, &mut b.apical_inh_per_100ms),
                    ] {
                        let row = ui.label(name);
                        changed |= ui.add(egui::DragValue::new(exc).range(0.0..=MAX_BACKGROUND_PER_100MS).speed(5.0)).labelled_by(row.id).changed();
                        changed |= ui.add(egui::DragValue::new(inh).range(0.0..=MAX_BACKGROUND_PER_100MS).speed(5.0)).labelled_by(row.id).changed();
                        ui.end_row();
                    }
                });
            });
        });
        if changed {
            runner.send(Command::SetBackground(self.background_on.then(|| self.background.clone())));
        }
    }

    fn clamp_ui(&mut self, ui: &mut egui::Ui, runner: &mut Runner) {
        ui.heading("Somatic current clamp");
        let mut changed = false;
        egui::Grid::new("clamp").num_columns(2).show(ui, |ui| {
            ui.label("amplitude");
            changed |= ui.add(egui::DragValue::new(&mut self.clamp.amp_na).range(-MAX_CLAMP_AMP_NA..=MAX_CLAMP_AMP_NA).speed(0.01).suffix(" nA")).changed();
            ui.end_row();
            ui.label("start");
            changed |= ui.add(egui::DragValue::new(&mut self.clamp.delay_ms).range(0.0..=MAX_CLAMP_TIME_MS).speed(1.0).suffix(" ms")).changed();
            ui.end_row();
            ui.label("duration");
            changed |= ui.add(egui::DragValue::new(&mut self.clamp.dur_ms).range(0.0..=MAX_CLAMP_TIME_MS).speed(1.0).suffix(" ms")).changed();
            ui.end_row();
        });
        changed |= ui.checkbox(&mut self.clamp_on, "clamp on (absolute times)").changed();
        if changed {
            runner.send(Command::SetClamp(self.clamp_on.then_some(self.clamp)));
        }
        ui.horizontal(|ui| {
            if ui.button("Inject pulse now").on_hover_text("A pulse starting now (replaces the clamp)").clicked() {
                self.clamp_on = false;
                runner.send(Command::InjectPulse { amp_na: self.pulse_amp_na, dur_ms: self.pulse_dur_ms });
            }
            ui.add(egui::DragValue::new(&mut self.pulse_amp_na).range(-MAX_CLAMP_AMP_NA..=MAX_CLAMP_AMP_NA).speed(0.01).suffix(" nA"));
            ui.add(egui::DragValue::new(&mut self.pulse_dur_ms).range(0.1..=1000.0).speed(0.5).suffix(" ms"));
        });
    }
}
