//! Unattended runs (CI smoke tests, documentation screenshots): screenshots of the window at
//! given wall-clock times after start, quitting after the last one, and a frames-per-second meter
//! that can also print to standard output.

use super::export::{write_screenshot, ScreenRegions};
use eframe::egui;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to do without a user.
#[derive(Debug, Clone, Default)]
pub struct Automation {
    /// (seconds after the window opened, PNG path), in time order.
    pub screenshots: Vec<(f64, PathBuf)>,
    /// Close the window once every screenshot is written.
    pub quit_after_screenshots: bool,
    /// Print "fps …" lines to standard output every two seconds.
    pub print_fps: bool,
    /// Record a clip: start this many seconds after the window opens, with these options
    /// (`--record FILE --record-seconds S`); the window closes once the clip is written.
    pub record: Option<(f64, crate::app::record::RecordOptions)>,
}

/// CPU use of this process's threads between two samples, from `/proc/self/task` (Linux; elsewhere
/// nothing): per thread name, the share of one core.
#[derive(Debug, Default)]
pub struct ThreadCpu {
    last: Option<(Instant, std::collections::BTreeMap<u64, (String, u64)>)>,
}

impl ThreadCpu {
    fn read() -> Option<std::collections::BTreeMap<u64, (String, u64)>> {
        let mut out = std::collections::BTreeMap::new();
        for e in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
            let Ok(tid) = e.file_name().to_string_lossy().parse::<u64>() else { continue };
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
            // "tid (comm) state …": the fields after the closing parenthesis, utime and stime
            // are the 12th and 13th of them
            let Some((head, rest)) = stat.rsplit_once(')') else { continue };
            let name = head.split_once('(').map_or("?", |(_, n)| n).to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0) + f.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
            out.insert(tid, (name, ticks));
        }
        Some(out)
    }

    /// "name 41% name 12% …" (busiest first, threads under 1 % left out) since the last call;
    /// `None` on the first call or where `/proc` is missing.
    pub fn sample(&mut self) -> Option<String> {
        let now = Instant::now();
        let cur = Self::read()?;
        let prev = self.last.replace((now, cur.clone()));
        let (then, before) = prev?;
        // SAFETY: sysconf only reads a configuration value
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        let wall = (now - then).as_secs_f64().max(1e-3);
        let mut by_name: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
        for (tid, (name, ticks)) in &cur {
            let was = before.get(tid).map_or(0, |(_, t)| *t);
            *by_name.entry(name.clone()).or_default() += ticks.saturating_sub(was) as f64 / hz / wall;
        }
        let mut v: Vec<(String, f64)> = by_name.into_iter().filter(|(_, c)| *c >= 0.01).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        Some(v.iter().map(|(n, c)| format!("{n} {:.0}%", 100.0 * c)).collect::<Vec<_>>().join(" "))
    }
}

/// Resident memory of this process (MB), from `/proc/self/statm` (Linux).
pub fn rss_mb() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a configuration value
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as f64;
    Some(pages * page / 1e6)
}

/// Frames per second over the last second.
#[derive(Debug, Default)]
pub struct FpsMeter {
    frames: VecDeque<Instant>,
    /// Exponential average of the time spent building the UI per frame (ms, CPU side only).
    pub ui_ms: f64,
    /// The longest gap between two frames since [`FpsMeter::take_max_gap_ms`] (ms).
    max_gap_ms: f64,
}

impl FpsMeter {
    /// The longest gap between frames since the last call (ms), and start again.
    pub fn take_max_gap_ms(&mut self) -> f64 {
        std::mem::take(&mut self.max_gap_ms)
    }

    pub fn tick(&mut self, now: Instant) {
        if let Some(&last) = self.frames.back() {
            self.max_gap_ms = self.max_gap_ms.max((now - last).as_secs_f64() * 1e3);
        }
        self.frames.push_back(now);
        while self.frames.front().is_some_and(|&t| now - t > Duration::from_secs(1)) {
            self.frames.pop_front();
        }
    }

    pub fn add_ui_time(&mut self, spent: Duration) {
        self.ui_ms += 0.1 * (spent.as_secs_f64() * 1000.0 - self.ui_ms);
    }

    pub fn fps(&self) -> f64 {
        match (self.frames.front(), self.frames.back()) {
            (Some(a), Some(b)) if self.frames.len() > 1 && b > a => (self.frames.len() - 1) as f64 / (*b - *a).as_secs_f64(),
            _ => 0.0,
        }
    }
}

/// Progress of an [`Automation`].
pub struct AutomationState {
    plan: Automation,
    started: Instant,
    next: usize,
    in_flight: Arc<Mutex<Option<Result<PathBuf, String>>>>,
    waiting: bool,
    last_print: Instant,
    pub fps: FpsMeter,
    /// Per-thread CPU for the `--print-fps` lines.
    thread_cpu: ThreadCpu,
    /// Messages for the status line (screenshot written / failed).
    pub message: Option<Result<String, String>>,
    /// Keep the window open even when the last screenshot is done (a clip is still being made).
    pub hold_quit: bool,
    /// The planned clip has been started.
    pub record_started: bool,
}

impl AutomationState {
    pub fn new(plan: Automation) -> AutomationState {
        let now = Instant::now();
        AutomationState { plan, started: now, next: 0, in_flight: Arc::new(Mutex::new(None)), waiting: false, last_print: now, fps: FpsMeter::default(), thread_cpu: ThreadCpu::default(), message: None, hold_quit: false, record_started: false }
    }

    /// Seconds since the window opened.
    pub fn elapsed_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// The planned clip, once it is due and not yet started (marks it started).
    pub fn due_record(&mut self) -> Option<crate::app::record::RecordOptions> {
        let (at_s, options) = self.plan.record.as_ref()?;
        if self.record_started || self.elapsed_s() < *at_s {
            return None;
        }
        self.record_started = true;
        Some(options.clone())
    }

    /// Whether a clip is planned (the window closes when it is written).
    pub fn plans_record(&self) -> bool {
        self.plan.record.is_some()
    }

    /// A user-requested screenshot, written on the next frame.
    pub fn screenshot_now(&mut self, ctx: &egui::Context, path: PathBuf, regions: ScreenRegions, t_ms: f64) {
        if self.waiting {
            self.message = Some(Err("a screenshot is already being taken".into()));
            return;
        }
        self.request(ctx, path, regions, t_ms);
    }

    fn request(&mut self, ctx: &egui::Context, path: PathBuf, regions: ScreenRegions, t_ms: f64) {
        let sink = self.in_flight.clone();
        self.waiting = true;
        ctx.request_screenshot(move |image| {
            let result = write_screenshot(&path, &image, &regions, t_ms).map(|()| path).map_err(|e| format!("{e:#}"));
            if let Ok(mut slot) = sink.lock() {
                *slot = Some(result);
            }
        });
        ctx.request_repaint();
    }

    /// Call once per frame.
    pub fn frame(&mut self, ctx: &egui::Context, regions: ScreenRegions, t_ms: f64) {
        let now = Instant::now();
        self.fps.tick(now);
        if self.plan.print_fps && now - self.last_print >= Duration::from_secs(2) {
            self.last_print = now;
            let threads = self.thread_cpu.sample().map(|t| format!(" cpu {t}")).unwrap_or_default();
            let wall_s = (now - self.started).as_secs_f64();
            let max_frame_ms = self.fps.take_max_gap_ms();
            println!(
                "fps {:.1} ui_ms {:.1} t_ms {:.1} wall_s {wall_s:.1} max_frame_ms {:.0} rss_mb {}{threads}",
                self.fps.fps(),
                self.fps.ui_ms,
                t_ms,
                max_frame_ms,
                rss_mb().map_or("?".into(), |m| format!("{m:.1}"))
            );
        }
        if self.waiting {
            let done = self.in_flight.lock().ok().and_then(|mut slot| slot.take());
            match done {
                Some(result) => {
                    self.waiting = false;
                    match result {
                        Ok(path) => {
                            println!("screenshot {} at t = {t_ms:.1} ms", path.display());
                            self.message = Some(Ok(format!("screenshot written: {}", path.display())));
                        }
                        Err(e) => {
                            eprintln!("error: screenshot: {e}");
                            self.message = Some(Err(format!("screenshot failed: {e}")));
                        }
                    }
                }
                None => {
                    ctx.request_repaint();
                    return;
                }
            }
        }
        let elapsed_s = (now - self.started).as_secs_f64();
        if let Some((at_s, path)) = self.plan.screenshots.get(self.next).cloned() {
            if elapsed_s >= at_s {
                self.next += 1;
                self.request(ctx, path, regions, t_ms);
            } else {
                ctx.request_repaint_after(Duration::from_secs_f64((at_s - elapsed_s).max(0.01)));
            }
        } else if self.plan.quit_after_screenshots && !self.plan.screenshots.is_empty() && !self.hold_quit {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fps_counts_frames_over_the_last_second() {
        let mut m = FpsMeter::default();
        let t0 = Instant::now();
        for i in 0..31 {
            m.tick(t0 + Duration::from_millis(i * 20));
        }
        assert!((m.fps() - 50.0).abs() < 0.5, "{}", m.fps());
    }
}
