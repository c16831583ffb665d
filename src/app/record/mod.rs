//! Recording a clip of the window for slides: the record button and `--record FILE
//! --record-seconds S`. The UI thread asks egui for a screenshot of the window at the nominal
//! rate (what the window shows: the 3-D cell with its colour bar, the traces, the panels, with
//! the simulated time stamped in the 3-D view's corner), and hands each one, untouched, to the
//! encoder thread (`encoder`) over a bounded channel; a full channel drops the capture (the
//! previous frame then simply shows longer), so neither the simulation thread nor the UI waits
//! for the encoder and memory stays bounded (at most [`QUEUE_FRAMES`] full-size frames).
//!
//! Uses only egui and `crate::atomic`; the shell owns a [`Recorder`] and calls [`stamp`].

pub mod encoder;
#[cfg(test)]
mod tests;

use self::encoder::{ClipSettings, ClipSummary, ToEncoder};
use eframe::egui;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Full-size captures waiting for the encoder at most (each ~5.7 MB at 1500×950).
pub const QUEUE_FRAMES: usize = 6;
/// A clip stops by itself after this long (s), whatever was asked: bounds file size and time.
pub const MAX_CLIP_S: f64 = 300.0;

/// How clips are recorded (the Files panel and the command line set it).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordOptions {
    pub settings: ClipSettings,
    /// Stop after this long (s); `None`: when the user stops it (or after [`MAX_CLIP_S`]).
    pub seconds: Option<f64>,
}

impl RecordOptions {
    /// The defaults: 10 frames per second, half size, MP4 too where ffmpeg is found.
    pub fn new(gif_path: PathBuf) -> RecordOptions {
        RecordOptions { settings: ClipSettings { gif_path, scale: 0.5, fps: 10.0, quantizer_speed: 10, mp4: true }, seconds: None }
    }
}

struct Active {
    options: RecordOptions,
    started: Instant,
    next_capture: Instant,
    tx: Option<SyncSender<ToEncoder>>,
    worker: JoinHandle<Result<ClipSummary, encoder::ClipError>>,
    requested: Arc<Mutex<usize>>,
    dropped: Arc<Mutex<usize>>,
}

/// The recording in progress, if any, and the outcome of the last one.
#[derive(Default)]
pub struct Recorder {
    active: Option<Active>,
    /// The clip being finished (the encoder writes its last frame and the files).
    finishing: Option<(JoinHandle<Result<ClipSummary, encoder::ClipError>>, usize)>,
    /// The last clip's outcome, for the status line (taken by the shell).
    pub message: Option<Result<String, String>>,
    /// The last clip written (for automation and tests).
    pub last_summary: Option<ClipSummary>,
    /// Where the shell drew the time stamp this frame ([left, top, right, bottom], pixels).
    pub stamp_px: Option<[f32; 4]>,
}

impl Recorder {
    pub fn is_recording(&self) -> bool {
        self.active.is_some()
    }

    /// Still writing the last clip.
    pub fn is_finishing(&self) -> bool {
        self.finishing.is_some()
    }

    /// Seconds recorded so far.
    pub fn elapsed_s(&self) -> Option<f64> {
        self.active.as_ref().map(|a| a.started.elapsed().as_secs_f64())
    }

    /// Start recording (ignored while one runs or is being written).
    pub fn start(&mut self, options: RecordOptions) {
        if self.active.is_some() || self.finishing.is_some() {
            self.message = Some(Err("a clip is already being recorded or written".into()));
            return;
        }
        let (tx, rx) = sync_channel(QUEUE_FRAMES);
        let settings = options.settings.clone();
        let spawned = std::thread::Builder::new().name("neurotwin-clip".into()).spawn(move || encoder::run(&settings, &rx));
        match spawned {
            Ok(worker) => {
                let now = Instant::now();
                self.message = Some(Ok(format!("recording {}", options.settings.gif_path.display())));
                self.active = Some(Active { options, started: now, next_capture: now, tx: Some(tx), worker, requested: Arc::default(), dropped: Arc::default() });
            }
            Err(e) => self.message = Some(Err(format!("cannot start the clip encoder: {e}"))),
        }
    }

    /// Stop recording; the encoder finishes the files in the background.
    pub fn stop(&mut self) {
        if let Some(mut a) = self.active.take() {
            if let Some(tx) = a.tx.take() {
                let finish = ToEncoder::Finish { at: Instant::now(), stamp_px: self.stamp_px };
                // the end marker must arrive; with the queue full it waits for room on a thread of
                // its own, not on the UI's
                if let Err(TrySendError::Full(finish)) = tx.try_send(finish) {
                    let _ = std::thread::Builder::new().name("neurotwin-clip-end".into()).spawn(move || tx.send(finish));
                }
            }
            let dropped = a.dropped.lock().map(|d| *d).unwrap_or(0);
            self.finishing = Some((a.worker, dropped));
        }
    }

    /// Call once per frame with the simulated time on show: asks for a capture when one is due,
    /// stops at the end, reports a finished clip.
    pub fn frame(&mut self, ctx: &egui::Context, t_ms: f64) {
        if let Some(a) = &mut self.active {
            let now = Instant::now();
            let limit = a.options.seconds.unwrap_or(MAX_CLIP_S).min(MAX_CLIP_S);
            // the encoder ends early only on an error (e.g. the file cannot be created): report it
            if (now - a.started).as_secs_f64() >= limit || a.worker.is_finished() {
                self.stop();
            } else {
                if now >= a.next_capture {
                    let interval = Duration::from_secs_f64(1.0 / a.options.settings.fps.clamp(0.5, 60.0));
                    // the next capture one interval after this one was due (not after now), so the
                    // rate holds when frames come late; never more than one behind
                    a.next_capture = (a.next_capture + interval).max(now);
                    if let Some(tx) = a.tx.clone() {
                        let dropped = a.dropped.clone();
                        if let Ok(mut n) = a.requested.lock() {
                            *n += 1;
                        }
                        ctx.request_screenshot(move |image| {
                            if let Err(TrySendError::Full(_)) = tx.try_send(ToEncoder::Screen { image, wall: now, t_ms }) {
                                if let Ok(mut d) = dropped.lock() {
                                    *d += 1;
                                }
                            }
                        });
                    }
                }
                let wait = a.next_capture.saturating_duration_since(Instant::now());
                ctx.request_repaint_after(wait);
            }
        }
        if let Some((worker, dropped)) = self.finishing.take() {
            if !worker.is_finished() {
                self.finishing = Some((worker, dropped));
                ctx.request_repaint_after(Duration::from_millis(50));
                return;
            }
            self.message = Some(match worker.join() {
                Ok(Ok(s)) => {
                    let mp4 = match (&s.mp4, &s.mp4_note) {
                        (Some(p), _) => format!(", {}", p.display()),
                        (None, Some(note)) => format!(" ({note})"),
                        (None, None) => String::new(),
                    };
                    let text = format!(
                        "clip written: {} ({} frames, {:.1} s, {:.1} MB, {} captures dropped){mp4}",
                        s.gif.display(),
                        s.frames,
                        s.duration_s,
                        s.gif_bytes as f64 / 1e6,
                        dropped
                    );
                    println!("{text}");
                    self.last_summary = Some(s);
                    Ok(text)
                }
                Ok(Err(e)) => Err(format!("clip: {e}")),
                Err(_) => Err("clip: the encoder thread panicked".into()),
            });
        }
    }
}

/// The simulated-time stamp drawn in the bottom-right corner of the 3-D view while recording
/// (so it is part of every captured frame); returns where it is (points).
pub fn stamp(ctx: &egui::Context, view3d: egui::Rect, t_ms: f64) -> egui::Rect {
    let painter = ctx.layer_painter(egui::LayerId::new(egui::Order::Foreground, egui::Id::unique("clip_stamp")));
    let text = format!("t = {t_ms:.1} ms");
    let font = egui::FontId::monospace(16.0);
    let galley = painter.layout_no_wrap(text, font, egui::Color32::WHITE);
    let pos = egui::pos2(view3d.right() - galley.size().x - 16.0, view3d.bottom() - galley.size().y - 14.0);
    let bg = egui::Rect::from_min_size(pos, galley.size()).expand(5.0);
    painter.rect_filled(bg, 4.0, egui::Color32::from_rgba_unmultiplied(0, 0, 0, 190));
    painter.circle_filled(egui::pos2(bg.left() - 10.0, bg.center().y), 5.0, egui::Color32::from_rgb(230, 40, 40));
    painter.galley(pos, galley, egui::Color32::WHITE);
    bg
}
