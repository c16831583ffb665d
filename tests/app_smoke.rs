//! End-to-end smoke test of the GUI: the built binary runs a scenario under Xvfb, takes two
//! screenshots a few seconds apart and quits; the pictures must show the cell (3-D view not
//! blank), voltage colours that change over time, and the cyan somatic trace in the plot.
//!
//! Needs `Xvfb` and Mesa's GL (Debian: `apt-get install xvfb libgl1-mesa-dri`): a system package,
//! so it runs with `--features gui-smoke` (the README's second test command, which CI runs with
//! the packages installed). Without Xvfb the test FAILS, it never skips.
#![cfg(feature = "gui-smoke")]

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::xvfb::KillOnDrop;

fn start_xvfb() -> (KillOnDrop, String) {
    common::xvfb::start_xvfb(100, 1600, 1000)
}

struct Shot {
    image: image::RgbaImage,
    view3d: [u32; 4],
    traces: [u32; 4],
}

fn load_shot(png: &Path) -> Shot {
    let image = image::open(png).unwrap_or_else(|e| panic!("decoding {}: {e}", png.display())).to_rgba8();
    let sidecar: Value = serde_json::from_str(&std::fs::read_to_string(png.with_extension("json")).expect("sidecar")).expect("sidecar json");
    let region = |name: &str| -> [u32; 4] {
        let r = &sidecar["regions"][name];
        std::array::from_fn(|i| r[i].as_f64().unwrap_or_else(|| panic!("region {name}")).round() as u32)
    };
    Shot { view3d: region("view3d"), traces: region("traces"), image }
}

fn pixels_in(img: &image::RgbaImage, r: [u32; 4]) -> impl Iterator<Item = (u32, u32, [u8; 4])> + '_ {
    let (x1, y1) = (r[2].min(img.width()), r[3].min(img.height()));
    (r[1]..y1).flat_map(move |y| (r[0]..x1).map(move |x| (x, y, img.get_pixel(x, y).0)))
}

fn channel_diff(a: [u8; 4], b: [u8; 4]) -> u8 {
    (0..3).map(|i| a[i].abs_diff(b[i])).max().unwrap_or(0)
}

#[test]
fn app_plays_a_scenario_and_screenshots_show_cell_colours_and_trace() {
    let (_xvfb, display) = start_xvfb();
    let dir = tempfile::tempdir().expect("tmp");
    let (a, b) = (dir.path().join("a.png"), dir.path().join("b.png"));
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/smoke.json");
    let app = Command::new(env!("CARGO_BIN_EXE_neurotwin"))
        .current_dir(dir.path()) // no morphologies/cell1.asc here: the built-in cell opens
        .env("DISPLAY", &display)
        .arg("--scenario")
        .arg(&scenario)
        // the shipped twin of the built-in cell (models/ of the repository)
        .arg("--models")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"))
        .args(["--autoplay", "--print-fps", "--quit-after-screenshot", "--screenshot-after-s", "4", "--screenshot"])
        .arg(&a)
        .args(["--screenshot-after-s", "10", "--screenshot"])
        .arg(&b)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the app");
    let mut app = KillOnDrop(app);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = app.0.try_wait().expect("waiting for the app") {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(50), "the app did not quit within 50 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut out = String::new();
    if let Some(mut s) = app.0.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut s, &mut out);
    }
    if let Some(mut s) = app.0.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut s, &mut out);
    }
    assert!(status.success(), "the app failed ({status}):\n{out}");
    assert!(a.exists() && b.exists(), "screenshots missing:\n{out}");
    let (sa, sb) = (load_shot(&a), load_shot(&b));
    assert_eq!(sa.image.dimensions(), sb.image.dimensions());

    // 3-D view not blank: many pixels away from the background colour
    let background = [14, 16, 22, 255];
    let area = f64::from((sa.view3d[2] - sa.view3d[0]) * (sa.view3d[3] - sa.view3d[1]));
    let drawn = pixels_in(&sa.image, sa.view3d).filter(|p| channel_diff(p.2, background) > 30).count();
    assert!(drawn as f64 > 0.005 * area, "3-D view looks blank: {drawn} drawn pixels of {area}");

    // voltage colours change over time (the camera does not move between the two shots)
    let changed = pixels_in(&sa.image, sa.view3d)
        .filter(|&(x, y, pa)| channel_diff(pa, background) > 30 && channel_diff(pa, sb.image.get_pixel(x, y).0) > 6)
        .count();
    assert!(changed > 50, "the cell's colours did not change between the screenshots ({changed} pixels)");

    // the cyan somatic trace (0, 220, 255) in the plot region
    let cyan = [0, 220, 255, 255];
    let cyan_px = pixels_in(&sb.image, sb.traces).filter(|p| channel_diff(p.2, cyan) < 40).count();
    // the DNN twin's magenta trace (255, 60, 220) on the same axes; where the two agree the twin
    // is drawn over the cell, so each colour alone may cover only part of the trace
    let magenta = [255, 60, 220, 255];
    let magenta_px = pixels_in(&sb.image, sb.traces).filter(|p| channel_diff(p.2, magenta) < 40).count();
    assert!(cyan_px > 100, "no cyan trace in the plot region ({cyan_px} pixels; magenta {magenta_px})");
    assert!(magenta_px > 100, "no magenta twin trace in the plot region ({magenta_px} pixels; cyan {cyan_px})");
    assert!(cyan_px + magenta_px > 400, "traces too short: cyan {cyan_px}, magenta {magenta_px} pixels");
    println!("drawn {drawn}, changed {changed}, cyan {cyan_px}, magenta {magenta_px}\n{out}");
}
