//! The lecture-hall features end to end, under Xvfb (feature `gui-smoke`, like `app_smoke.rs`):
//! `--record` writes a GIF of the window whose frames, delays and time stamp are checked by
//! decoding it; colour by calcium with the space plot open runs the BAC demo and draws.
#![cfg(feature = "gui-smoke")]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::xvfb::{find_in_path, KillOnDrop};

fn start_xvfb() -> (KillOnDrop, String) {
    common::xvfb::start_xvfb(500, 1500, 950)
}

/// Run the app in `dir` (the built-in cell opens there) with `args` until it quits by itself.
fn run_app(dir: &Path, display: &str, args: &[&str]) -> String {
    let app = Command::new(env!("CARGO_BIN_EXE_neurotwin"))
        .current_dir(dir)
        .env("DISPLAY", display)
        .args(args)
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
        assert!(start.elapsed() < Duration::from_secs(90), "the app did not quit within 90 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut out = String::new();
    for s in [app.0.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read>), app.0.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read>)].into_iter().flatten() {
        let mut s = s;
        let _ = s.read_to_string(&mut out);
    }
    assert!(status.success(), "the app failed ({status}):\n{out}");
    out
}

/// Decode a GIF, compositing each frame over the previous canvas: the canvases, the delays
/// (cs) and the size.
fn decode(path: &Path) -> (Vec<Vec<u8>>, Vec<u16>, usize, usize) {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut d = options.read_info(std::fs::File::open(path).expect("open gif")).expect("gif header");
    let (w, h) = (d.width() as usize, d.height() as usize);
    let mut canvas = vec![0u8; w * h * 4];
    let (mut canvases, mut delays) = (vec![], vec![]);
    while let Some(f) = d.read_next_frame().expect("gif frame") {
        for y in 0..f.height as usize {
            for x in 0..f.width as usize {
                let s = 4 * (y * f.width as usize + x);
                if f.buffer[s + 3] != 0 {
                    let t = 4 * ((y + f.top as usize) * w + x + f.left as usize);
                    canvas[t..t + 4].copy_from_slice(&f.buffer[s..s + 4]);
                }
            }
        }
        canvases.push(canvas.clone());
        delays.push(f.delay);
    }
    (canvases, delays, w, h)
}

#[test]
fn record_writes_a_gif_at_the_windows_pace_with_an_advancing_time_stamp() {
    let (_xvfb, display) = start_xvfb();
    let dir = tempfile::tempdir().expect("tmp");
    let gif_path = dir.path().join("clip.gif");
    let out = run_app(
        dir.path(),
        &display,
        &["--demo", "nmda", "--record", gif_path.to_str().expect("utf-8 path"), "--record-seconds", "3", "--record-after-s", "1", "--record-scale", "0.5"],
    );
    assert!(out.contains("clip written"), "{out}");
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("clip.json")).expect("summary")).expect("json");
    let frames = summary["frames"].as_u64().expect("frames") as usize;
    let duration_s = summary["duration_s"].as_f64().expect("duration");
    let t_ms: Vec<f64> = summary["t_ms"].as_array().expect("t_ms").iter().map(|v| v.as_f64().expect("number")).collect();
    // 3 s asked; software GL under load draws ~5-15 frames per second
    assert!((2.7..=3.6).contains(&duration_s), "duration {duration_s} s");
    assert!(frames >= 8, "{frames} frames in {duration_s} s");
    assert_eq!(t_ms.len(), frames);
    assert!(t_ms.windows(2).all(|w| w[1] > w[0]), "simulated time advances frame to frame: {t_ms:?}");
    // (the first frame may still be at t = 0 when the demo starts late on a loaded machine)
    assert!(t_ms[frames - 1] - t_ms[0] > 50.0, "the demo played during the clip: {t_ms:?}");
    let (canvases, delays, w, h) = decode(&gif_path);
    assert_eq!(canvases.len(), frames);
    assert_eq!((w, h), (summary["width"].as_u64().expect("w") as usize, summary["height"].as_u64().expect("h") as usize));
    assert!((w as i64 - 750).abs() <= 1 && (h as i64 - 475).abs() <= 1, "half the 1500×950 window: {w}×{h}");
    let total_cs: u64 = delays.iter().map(|&d| u64::from(d)).sum();
    assert!((total_cs as f64 / 100.0 - duration_s).abs() < 0.011, "delays sum to {total_cs} cs, duration {duration_s} s");
    // the time stamp: light text on a dark box where the summary says, and it changes
    let r: Vec<usize> = summary["stamp_rect_px"].as_array().expect("stamp rect").iter().map(|v| v.as_f64().expect("number").round() as usize).collect();
    let crop = |canvas: &Vec<u8>| -> Vec<u8> {
        (r[1]..r[3].min(h)).flat_map(|y| (r[0]..r[2].min(w)).flat_map(move |x| canvas[4 * (y * w + x)..4 * (y * w + x) + 3].to_vec())).collect()
    };
    let first = crop(&canvases[0]);
    let last = crop(&canvases[frames - 1]);
    // (half-size text is grey after the averaging: light means above 110 in every channel)
    let bright = first.chunks(3).filter(|p| p.iter().all(|&c| c > 110)).count();
    assert!(bright > 20, "the stamp's text is in the first frame ({bright} light pixels)");
    let differing = first.chunks(3).zip(last.chunks(3)).filter(|(a, b)| a != b).count();
    assert!(differing > 10, "the stamp changes between the first and the last frame ({differing} pixels)");
    // the MP4 beside it where ffmpeg is installed, else the reason in the summary
    match find_in_path("ffmpeg") {
        Some(_) => {
            let mp4 = dir.path().join("clip.mp4");
            assert_eq!(summary["mp4"].as_str().map(PathBuf::from), Some(mp4.clone()), "{summary}");
            assert!(std::fs::metadata(&mp4).expect("mp4").len() > 10_000, "a real MP4");
        }
        None => assert!(summary["mp4_note"].as_str().is_some_and(|n| n.contains("ffmpeg")), "{summary}"),
    }
}

#[test]
fn colour_by_calcium_with_the_space_plot_runs_the_bac_demo() {
    let (_xvfb, display) = start_xvfb();
    let dir = tempfile::tempdir().expect("tmp");
    let png = dir.path().join("bac.png");
    let out = run_app(
        dir.path(),
        &display,
        &["--demo", "bac", "--color-by", "calcium", "--space-plot", "--quit-after-screenshot", "--screenshot-after-s", "5", "--screenshot", png.to_str().expect("utf-8 path")],
    );
    let image = image::open(&png).unwrap_or_else(|e| panic!("{e}\n{out}")).to_rgba8();
    let sidecar: Value = serde_json::from_str(&std::fs::read_to_string(png.with_extension("json")).expect("sidecar")).expect("json");
    let v: Vec<u32> = sidecar["regions"]["view3d"].as_array().expect("view3d").iter().map(|x| x.as_f64().expect("number").round() as u32).collect();
    // the 3-D view (narrower with the space plot beside it) shows the cell in the colour map's
    // hues, not only the background
    let drawn = (v[1]..v[3].min(image.height()))
        .flat_map(|y| (v[0]..v[2].min(image.width())).map(move |x| (x, y)))
        .filter(|&(x, y)| image.get_pixel(x, y).0[..3].iter().zip([14u8, 16, 22]).any(|(a, b)| a.abs_diff(b) > 30))
        .count();
    assert!(drawn > 2000, "the cell is drawn ({drawn} pixels)\n{out}");
    assert!(v[2] - v[0] < 1000, "the space plot takes part of the window: the view is {} px wide", v[2] - v[0]);
}
