//! The app's side of the lecture-hall features (issue #19): the record button and a planned
//! `--record` clip (the recorder itself is `app::record`), and spike sounds (`app::audio`).

use super::NeuroTwinApp;
use eframe::egui::{self, RichText};
use std::path::PathBuf;

impl NeuroTwinApp {
    /// Start or stop a clip of the window (the path is the Files panel's "clip" field).
    pub(super) fn record_button_ui(&mut self, ui: &mut egui::Ui) {
        if let Some(s) = self.recorder.elapsed_s() {
            let stop = ui.button(RichText::new(format!("Stop recording ({s:.0} s)")).color(egui::Color32::from_rgb(240, 80, 80)));
            if stop.clicked() {
                self.recorder.stop();
            }
        } else if self.recorder.is_finishing() {
            ui.add_enabled(false, egui::Button::new("writing the clip…"));
        } else {
            let tip = "Record what the window shows as an animated GIF (and an MP4 where ffmpeg is installed), at the pace it plays, with the simulated time stamped in the 3-D view; the file is the Files panel's \"clip\"";
            if ui.button(RichText::new("Record").color(egui::Color32::from_rgb(240, 90, 90))).on_hover_text(tip).clicked() {
                let path = PathBuf::from(self.files.clip_path.trim());
                self.recorder.start(crate::app::record::RecordOptions::new(path));
            }
        }
    }

    /// Switch spike sounds on or off; the first time on opens the output, or says once why
    /// there is none (and stays silent).
    pub fn set_sound(&mut self, on: bool) {
        if on && self.audio_out.is_none() {
            self.audio_out = Some(match crate::app::audio::open_default_output() {
                Ok(out) => out,
                Err(why) => {
                    eprintln!("{why}");
                    self.message = Some(Err(why));
                    Box::new(crate::app::audio::Silent)
                }
            });
        }
        let (cell, twin) = self.spikes_on_show();
        self.sounds.set_enabled(on, &cell, &twin);
    }

    /// Somatic spikes of the cell and the twin's predicted spikes in the trace window (ms).
    fn spikes_on_show(&self) -> (Vec<f64>, Vec<f64>) {
        let Some(s) = &self.session else { return (vec![], vec![]) };
        let twin = s.twin.as_ref().map(|t| t.twin.snapshot().twin_spikes_ms.clone()).unwrap_or_default();
        (s.runner.snapshot().soma_spikes_ms.clone(), twin)
    }

    /// Play the clicks of spikes that appeared since the last frame.
    pub(super) fn sound_frame(&mut self) {
        if !self.sounds.enabled() {
            return;
        }
        let t_ms = self.session.as_ref().map_or(0.0, |s| s.runner.snapshot().t_ms);
        let (cell, twin) = self.spikes_on_show();
        if let Some(out) = self.audio_out.as_mut() {
            self.sounds.update(t_ms, &cell, &twin, out.as_mut());
        }
    }

    /// Start a planned clip when due, drive the recorder, report its outcome, and close the
    /// window after a planned clip is written.
    pub(super) fn record_frame(&mut self, ctx: &egui::Context, t_ms: f64) {
        if let Some(options) = self.automation.due_record() {
            self.recorder.start(options);
        }
        self.recorder.frame(ctx, t_ms);
        if let Some(m) = self.recorder.message.take() {
            if let Err(e) = &m {
                eprintln!("error: {e}");
            }
            self.message = Some(m);
        }
        let planned = self.automation.plans_record();
        let busy = self.recorder.is_recording() || self.recorder.is_finishing();
        self.automation.hold_quit = busy || (planned && !self.automation.record_started);
        if planned && self.automation.record_started && !busy {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }
}
