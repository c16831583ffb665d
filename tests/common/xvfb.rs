//! A private X server for the GUI tests (feature `gui-smoke`): Xvfb on a free display number,
//! killed when the guard drops, pass or fail. Without Xvfb the caller's test FAILS (it never skips).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Kills the child (Xvfb or the app) when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn find_in_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Start Xvfb with one `width_px` × `height_px` × 24 screen; returns its guard and the DISPLAY
/// value. Tests of one file run in parallel in one process and test files run one after another,
/// so the display number mixes the process id, a per-process counter and `base` (each file its own).
pub fn start_xvfb(base: u32, width_px: u32, height_px: u32) -> (KillOnDrop, String) {
    let xvfb = find_in_path("Xvfb").unwrap_or_else(|| panic!("Xvfb is not installed: the GUI tests need it (Debian/Ubuntu: apt-get install -y xvfb)"));
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let test_offset = NEXT.fetch_add(1, Ordering::Relaxed) * 37;
    let screen = format!("{width_px}x{height_px}x24");
    for attempt in 0..20u32 {
        let n = base + (std::process::id() + test_offset + attempt * 11) % 400;
        if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() || Path::new(&format!("/tmp/.X{n}-lock")).exists() {
            continue;
        }
        let child = Command::new(&xvfb)
            .args([format!(":{n}").as_str(), "-screen", "0", screen.as_str(), "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting Xvfb");
        let mut guard = KillOnDrop(child);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                return (guard, format!(":{n}"));
            }
            if let Ok(Some(_)) = guard.0.try_wait() {
                break; // died (display taken?): try another number
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("Xvfb did not start on any display number");
}
