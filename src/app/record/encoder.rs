//! The clip encoder's thread: screenshots of the window in, an animated GIF (and, where `ffmpeg`
//! is on the PATH, an MP4) out. Frames are downscaled by area averaging, each GIF frame holds only
//! the rectangle that changed since the one before (unchanged pixels transparent, so they
//! compress to almost nothing), with its own 256-colour palette (NeuQuant). A frame is shown for
//! the wall-clock time until the next capture, so the clip plays at the pace the window did
//! (a slowed-down demo plays slowly); a frame identical to the previous one only lengthens it.
//!
//! The GIF is written atomically (`crate::atomic`): the file appears whole when the clip ends,
//! or not at all. A summary (frames, duration, each frame's simulated time) goes beside it as JSON.

use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Instant;

/// An RGBA picture (8 bits per channel, rows top to bottom).
#[derive(Debug, Clone, PartialEq)]
pub struct Rgba {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl Rgba {
    /// Area-averaged copy at `scale` (0 < scale ≤ 1; at least 1×1).
    pub fn downscaled(&self, scale: f32) -> Rgba {
        if !(scale > 0.0 && scale < 1.0) || self.width == 0 || self.height == 0 {
            return self.clone();
        }
        let (w, h) = (self.width, self.height);
        let ow = ((w as f32 * scale).round() as usize).max(1);
        let oh = ((h as f32 * scale).round() as usize).max(1);
        let mut out = vec![0u8; ow * oh * 4];
        for oy in 0..oh {
            let (y0, y1) = (oy * h / oh, ((oy + 1) * h / oh).max(oy * h / oh + 1));
            for ox in 0..ow {
                let (x0, x1) = (ox * w / ow, ((ox + 1) * w / ow).max(ox * w / ow + 1));
                let mut sum = [0u32; 4];
                for y in y0..y1 {
                    for x in x0..x1 {
                        let i = 4 * (y * w + x);
                        for (s, p) in sum.iter_mut().zip(&self.pixels[i..i + 4]) {
                            *s += u32::from(*p);
                        }
                    }
                }
                let n = ((y1 - y0) * (x1 - x0)) as u32;
                let o = 4 * (oy * ow + ox);
                for (k, s) in sum.iter().enumerate() {
                    out[o + k] = ((s + n / 2) / n) as u8;
                }
            }
        }
        Rgba { width: ow, height: oh, pixels: out }
    }
}

/// One capture of the window.
pub struct CapturedFrame {
    pub image: Rgba,
    /// When it was captured (wall clock): sets how long the previous frame is shown.
    pub wall: Instant,
    /// Simulated time shown in it (ms).
    pub t_ms: f64,
}

/// What the UI sends the encoder.
pub enum ToEncoder {
    Frame(CapturedFrame),
    /// A screenshot of the window as egui delivers it (converted on the encoder's thread, so the
    /// UI thread only moves a pointer), captured at `wall` showing simulated time `t_ms`.
    Screen { image: std::sync::Arc<eframe::egui::ColorImage>, wall: Instant, t_ms: f64 },
    /// The clip ends at `at` (the last frame is shown until then); `stamp_px` is where the
    /// simulated-time stamp was drawn in the window ([left, top, right, bottom], pixels).
    Finish { at: Instant, stamp_px: Option<[f32; 4]> },
}

/// Clip settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipSettings {
    /// The GIF's path (the MP4 gets the same name with `.mp4`).
    pub gif_path: PathBuf,
    /// Downscale factor applied to the window (0 < scale ≤ 1).
    pub scale: f32,
    /// Nominal capture rate (frames per second); also the MP4's frame rate.
    pub fps: f64,
    /// NeuQuant speed, 1 (best, slowest) to 30 (fastest).
    pub quantizer_speed: i32,
    /// Also write an MP4 through `ffmpeg` when it is on the PATH.
    pub mp4: bool,
}

/// What was written.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClipSummary {
    pub gif: PathBuf,
    /// The MP4, when ffmpeg made one.
    pub mp4: Option<PathBuf>,
    /// Why there is no MP4 (ffmpeg not found, or its error).
    pub mp4_note: Option<String>,
    pub width: usize,
    pub height: usize,
    /// Frames in the GIF (identical captures merge into one longer frame).
    pub frames: usize,
    /// Captures received (before merging).
    pub captures: usize,
    /// Captures skipped because the window changed size during the clip.
    pub skipped_resized: usize,
    /// Length of the clip (s), the sum of the frame delays.
    pub duration_s: f64,
    /// Simulated time in each GIF frame (ms).
    pub t_ms: Vec<f64>,
    /// Where the time stamp is in the clip's frames ([left, top, right, bottom], pixels).
    pub stamp_rect_px: Option<[f32; 4]>,
    /// Mean encoding time per capture on the encoder thread (ms).
    pub encode_ms_mean: f64,
    pub gif_bytes: u64,
}

/// Errors of the encoder.
#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    #[error("no frame was captured")]
    Empty,
    #[error("writing {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// The pending GIF frame and when it began.
struct Pending {
    frame: gif::Frame<'static>,
    start: Instant,
    t_ms: f64,
}

/// Encode the frames arriving on `rx` until `Finish` (or the sender hangs up).
pub fn run(settings: &ClipSettings, rx: &Receiver<ToEncoder>) -> Result<ClipSummary, ClipError> {
    let path = settings.gif_path.clone();
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source: std::io::Error| ClipError::Io { path, source }
    };
    let mut summary = ClipSummary {
        gif: path.clone(),
        mp4: None,
        mp4_note: None,
        width: 0,
        height: 0,
        frames: 0,
        captures: 0,
        skipped_resized: 0,
        duration_s: 0.0,
        t_ms: vec![],
        stamp_rect_px: None,
        encode_ms_mean: 0.0,
        gif_bytes: 0,
    };
    let mut mp4 = None;
    let mut encode_s = 0.0;
    crate::atomic::write_with(&path, |w| {
        // the first capture sets the clip's size
        let first = loop {
            match next(rx) {
                Some(Ok(f)) => break f,
                Some(Err(_)) | None => return Err(std::io::Error::other(ClipError::Empty)),
            }
        };
        let first_image = first.image.downscaled(settings.scale);
        summary.width = first_image.width;
        summary.height = first_image.height;
        let (w16, h16) = (u16::try_from(first_image.width).unwrap_or(u16::MAX), u16::try_from(first_image.height).unwrap_or(u16::MAX));
        let mut encoder = gif::Encoder::new(w, w16, h16, &[]).map_err(std::io::Error::other)?;
        encoder.set_repeat(gif::Repeat::Infinite).map_err(std::io::Error::other)?;
        let clip_start = first.wall;
        if settings.mp4 {
            mp4 = Some(Mp4::start(&settings.gif_path.with_extension("mp4"), first_image.width, first_image.height, settings.fps));
        }
        let mut end = None;
        let mut previous: Option<Rgba> = None;
        let mut pending: Option<Pending> = None;
        let mut written_cs: u64 = 0;
        let mut captured = Some(CapturedFrame { image: first_image, wall: first.wall, t_ms: first.t_ms });
        let mut downscaled = true;
        while let Some(c) = captured.take() {
            let began = Instant::now();
            summary.captures += 1;
            let image = if downscaled { c.image } else { c.image.downscaled(settings.scale) };
            if image.width != summary.width || image.height != summary.height {
                summary.skipped_resized += 1;
            } else {
                if let Some(Ok(m)) = mp4.as_mut() {
                    m.frame(&image, c.wall);
                }
                let changed = match &previous {
                    Some(prev) => changed_rect(prev, &image),
                    None => Some((0, 0, image.width, image.height)),
                };
                // identical to the frame on show (`None`): it just stays longer
                if let Some((x0, y0, x1, y1)) = changed {
                    let mut sub = Vec::with_capacity((x1 - x0) * (y1 - y0) * 4);
                    for y in y0..y1 {
                        for x in x0..x1 {
                            let i = 4 * (y * image.width + x);
                            let px = &image.pixels[i..i + 4];
                            if previous.as_ref().is_some_and(|p| &p.pixels[i..i + 4] == px) {
                                sub.extend_from_slice(&[0, 0, 0, 0]);
                            } else {
                                sub.extend_from_slice(&[px[0], px[1], px[2], 255]);
                            }
                        }
                    }
                    let mut frame = gif::Frame::from_rgba_speed((x1 - x0) as u16, (y1 - y0) as u16, &mut sub, settings.quantizer_speed.clamp(1, 30));
                    frame.left = x0 as u16;
                    frame.top = y0 as u16;
                    frame.dispose = gif::DisposalMethod::Keep;
                    if let Some(p) = pending.take() {
                        emit(&mut encoder, p, c.wall, clip_start, &mut written_cs, &mut summary)?;
                    }
                    pending = Some(Pending { frame, start: c.wall, t_ms: c.t_ms });
                    previous = Some(image);
                }
            }
            encode_s += began.elapsed().as_secs_f64();
            downscaled = false;
            match next(rx) {
                Some(Ok(f)) => captured = Some(f),
                Some(Err(at)) => end = Some(at),
                None => {}
            }
        }
        let Some(p) = pending.take() else {
            return Err(std::io::Error::other(ClipError::Empty));
        };
        // the last frame is shown until the end (at least one nominal frame interval)
        let nominal = std::time::Duration::from_secs_f64(1.0 / settings.fps.max(0.1));
        let (end_at, stamp_px) = end.unwrap_or_else(|| (Instant::now(), None));
        summary.stamp_rect_px = stamp_px.map(|r| r.map(|v| v * settings.scale.clamp(0.0, 1.0)));
        let until = end_at.max(p.start + nominal);
        emit(&mut encoder, p, until, clip_start, &mut written_cs, &mut summary)?;
        if let Some(Ok(m)) = mp4.as_mut() {
            m.last_until(until);
        }
        summary.duration_s = written_cs as f64 / 100.0;
        // the trailer; its errors count (dropping the encoder would swallow them)
        encoder.into_inner().map_err(std::io::Error::other)?;
        Ok(())
    })
    .map_err(|e| {
        if e.get_ref().is_some_and(|inner| inner.is::<ClipError>()) {
            ClipError::Empty
        } else {
            io_err(&path)(e)
        }
    })?;
    summary.encode_ms_mean = if summary.captures > 0 { 1e3 * encode_s / summary.captures as f64 } else { 0.0 };
    summary.gif_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    match mp4 {
        Some(Ok(m)) => match m.finish() {
            Ok(p) => summary.mp4 = Some(p),
            Err(e) => summary.mp4_note = Some(e),
        },
        Some(Err(e)) => summary.mp4_note = Some(e),
        None => {}
    }
    let json = path.with_extension("json");
    let text = serde_json::to_string_pretty(&summary).map_err(std::io::Error::other).map_err(io_err(&json))? + "\n";
    crate::atomic::write(&json, text).map_err(io_err(&json))?;
    Ok(summary)
}

/// The next capture (`Ok`), the end of the clip (`Err`: when, and where the stamp was), or
/// `None` when the UI hung up.
fn next(rx: &Receiver<ToEncoder>) -> Option<Result<CapturedFrame, (Instant, Option<[f32; 4]>)>> {
    match rx.recv().ok()? {
        ToEncoder::Frame(f) => Some(Ok(f)),
        ToEncoder::Screen { image, wall, t_ms } => {
            let [width, height] = image.size;
            let pixels = image.pixels.iter().flat_map(|c| c.to_srgba_unmultiplied()).collect();
            Some(Ok(CapturedFrame { image: Rgba { width, height, pixels }, wall, t_ms }))
        }
        ToEncoder::Finish { at, stamp_px } => Some(Err((at, stamp_px))),
    }
}

/// Write the pending frame, shown until `until`: one frame is written when the next arrives
/// (its delay is known then). Delays count from the clip's start in whole centiseconds, so
/// rounding never accumulates.
fn emit<W: Write>(encoder: &mut gif::Encoder<W>, p: Pending, until: Instant, clip_start: Instant, written_cs: &mut u64, summary: &mut ClipSummary) -> std::io::Result<()> {
    let end_cs = ((until - clip_start).as_secs_f64() * 100.0).round() as u64;
    let delay = end_cs.saturating_sub(*written_cs).clamp(2, u64::from(u16::MAX));
    *written_cs += delay;
    let mut frame = p.frame;
    frame.delay = delay as u16;
    encoder.write_frame(&frame).map_err(std::io::Error::other)?;
    summary.frames += 1;
    summary.t_ms.push(p.t_ms);
    Ok(())
}

/// The smallest rectangle [x0, x1) × [y0, y1) holding every pixel that differs; `None` if none.
pub fn changed_rect(a: &Rgba, b: &Rgba) -> Option<(usize, usize, usize, usize)> {
    let w = a.width;
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..a.height.min(b.height) {
        let row = 4 * y * w..4 * (y + 1) * w;
        let (ra, rb) = (&a.pixels[row.clone()], &b.pixels[row]);
        if ra == rb {
            continue;
        }
        let first = ra.chunks_exact(4).zip(rb.chunks_exact(4)).position(|(p, q)| p != q).unwrap_or(0);
        let last = w - 1 - ra.chunks_exact(4).rev().zip(rb.chunks_exact(4).rev()).position(|(p, q)| p != q).unwrap_or(0);
        x0 = x0.min(first);
        x1 = x1.max(last + 1);
        y0 = y0.min(y);
        y1 = y + 1;
    }
    (x0 != usize::MAX).then_some((x0, y0, x1, y1))
}

/// The MP4 side: raw frames piped into `ffmpeg`, each repeated to fill its wall-clock time at
/// the nominal frame rate; the output goes to a temporary name and is renamed when ffmpeg ends
/// cleanly.
struct Mp4 {
    child: Child,
    stdin: Option<ChildStdin>,
    target: PathBuf,
    temporary: PathBuf,
    fps: f64,
    clip_start: Option<Instant>,
    frames_out: u64,
    last: Option<Rgba>,
    error: Option<String>,
}

/// `ffmpeg` on the PATH, if any.
pub fn find_ffmpeg() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("ffmpeg")).find(|p| p.is_file())
}

impl Mp4 {
    fn start(target: &Path, width: usize, height: usize, fps: f64) -> Result<Mp4, String> {
        let ffmpeg = find_ffmpeg().ok_or_else(|| "no MP4: ffmpeg is not on the PATH".to_string())?;
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "clip.mp4".into());
        let temporary = target.with_file_name(format!(".{name}.part"));
        let child = Command::new(ffmpeg)
            .args(["-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgba", "-s", &format!("{width}x{height}"), "-r", &format!("{fps}"), "-i", "-"])
            .args(["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4"])
            .arg(&temporary)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("no MP4: starting ffmpeg: {e}"))?;
        let mut m = Mp4 { child, stdin: None, target: target.to_path_buf(), temporary, fps, clip_start: None, frames_out: 0, last: None, error: None };
        m.stdin = m.child.stdin.take();
        Ok(m)
    }

    /// Repeat the previous frame up to `until`, then hold `image` as the new one.
    fn frame(&mut self, image: &Rgba, wall: Instant) {
        self.last_until(wall);
        self.last = Some(image.clone());
    }

    fn last_until(&mut self, until: Instant) {
        let start = *self.clip_start.get_or_insert(until);
        let due = ((until - start).as_secs_f64() * self.fps).round() as u64;
        let Some(last) = &self.last else { return };
        while self.frames_out < due.max(1) && self.error.is_none() {
            if let Some(stdin) = self.stdin.as_mut() {
                if let Err(e) = stdin.write_all(&last.pixels) {
                    self.error = Some(format!("ffmpeg stopped reading: {e}"));
                }
            }
            self.frames_out += 1;
        }
    }

    fn finish(mut self) -> Result<PathBuf, String> {
        drop(self.stdin.take());
        let out = self.child.wait_with_output().map_err(|e| format!("ffmpeg: {e}"))?;
        let result = match (&self.error, out.status.success()) {
            (None, true) => std::fs::rename(&self.temporary, &self.target).map(|()| self.target.clone()).map_err(|e| format!("renaming the MP4: {e}")),
            (err, _) => Err(format!("ffmpeg failed ({}): {}{}", out.status, String::from_utf8_lossy(&out.stderr).trim(), err.as_deref().unwrap_or(""))),
        };
        if result.is_err() {
            let _ = std::fs::remove_file(&self.temporary);
        }
        result
    }
}
