//! The clip encoder on synthetic frames: frame count, delays at the wall-clock pace, merged
//! identical frames, pixels after decoding, the summary beside the GIF.

use super::encoder::{changed_rect, run, CapturedFrame, ClipError, ClipSettings, Rgba, ToEncoder};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

/// A 80×60 picture: dark background, a bar whose length is `k` (as a moving trace would be), a
/// blue square that moves one step per frame.
fn picture(k: usize) -> Rgba {
    let (w, h) = (80, 60);
    let mut pixels = vec![0u8; w * h * 4];
    for y in 0..h {
        for x in 0..w {
            let i = 4 * (y * w + x);
            let c: [u8; 4] = if y >= 50 && x < 4 * k { [0, 220, 255, 255] } else if (10..20).contains(&y) && (5 * k..5 * k + 10).contains(&x) { [40, 60, 250, 255] } else { [14, 16, 22, 255] };
            pixels[i..i + 4].copy_from_slice(&c);
        }
    }
    Rgba { width: w, height: h, pixels }
}

fn settings(dir: &std::path::Path) -> ClipSettings {
    ClipSettings { gif_path: dir.join("clip.gif"), scale: 1.0, fps: 10.0, quantizer_speed: 10, mp4: false }
}

/// Decode a GIF, compositing each frame over the last (disposal "keep"): the canvas after each
/// frame and each frame's delay (cs).
fn decode(path: &std::path::Path) -> (Vec<Vec<u8>>, Vec<u16>, usize, usize) {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut d = options.read_info(std::fs::File::open(path).expect("open")).expect("gif header");
    let (w, h) = (d.width() as usize, d.height() as usize);
    let mut canvas = vec![0u8; w * h * 4];
    let (mut canvases, mut delays) = (vec![], vec![]);
    while let Some(f) = d.read_next_frame().expect("frame") {
        for y in 0..f.height as usize {
            for x in 0..f.width as usize {
                let s = 4 * (y * f.width as usize + x);
                if f.buffer[s + 3] == 0 {
                    continue;
                }
                let t = 4 * ((y + f.top as usize) * w + x + f.left as usize);
                canvas[t..t + 4].copy_from_slice(&f.buffer[s..s + 4]);
            }
        }
        canvases.push(canvas.clone());
        delays.push(f.delay);
    }
    (canvases, delays, w, h)
}

#[test]
fn frames_play_at_the_captured_pace_and_decode_to_the_pictures() {
    let dir = tempfile::tempdir().expect("tmp");
    let (tx, rx) = sync_channel(64);
    let t0 = Instant::now();
    // 12 captures 100 ms apart; the 6th repeats the 5th (a paused window): it only lengthens it
    let ks = [1, 2, 3, 4, 5, 5, 6, 7, 8, 9, 10, 11];
    for (i, &k) in ks.iter().enumerate() {
        let wall = t0 + Duration::from_millis(100 * i as u64);
        tx.send(ToEncoder::Frame(CapturedFrame { image: picture(k), wall, t_ms: 10.0 * i as f64 })).expect("send");
    }
    tx.send(ToEncoder::Finish { at: t0 + Duration::from_millis(1200), stamp_px: Some([10.0, 10.0, 30.0, 20.0]) }).expect("send");
    let summary = run(&settings(dir.path()), &rx).expect("encode");
    assert_eq!(summary.captures, 12);
    assert_eq!(summary.frames, 11, "two identical captures make one frame");
    assert!((summary.duration_s - 1.2).abs() < 1e-9, "{}", summary.duration_s);
    assert_eq!(summary.t_ms, vec![0.0, 10.0, 20.0, 30.0, 40.0, 60.0, 70.0, 80.0, 90.0, 100.0, 110.0]);
    assert_eq!(summary.stamp_rect_px, Some([10.0, 10.0, 30.0, 20.0]));
    let (canvases, delays, w, h) = decode(&summary.gif);
    assert_eq!((w, h), (80, 60));
    assert_eq!(canvases.len(), 11);
    assert_eq!(delays, vec![10, 10, 10, 10, 20, 10, 10, 10, 10, 10, 10]);
    // every canvas is the picture captured for it (few colours: the palette holds them exactly,
    // up to NeuQuant's rounding)
    let shown = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    for (canvas, &k) in canvases.iter().zip(&shown) {
        let want = picture(k);
        let worst = canvas.iter().zip(&want.pixels).map(|(a, b)| a.abs_diff(*b)).max().unwrap_or(0);
        assert!(worst <= 8, "frame for k = {k}: worst channel difference {worst}");
    }
    // the summary beside it
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("clip.json")).expect("json")).expect("parse");
    assert_eq!(json["frames"], 11);
    assert_eq!(json["gif_bytes"].as_u64(), Some(std::fs::metadata(&summary.gif).expect("gif").len()));
}

#[test]
fn downscaling_averages_areas_and_a_clip_without_frames_writes_nothing() {
    let img = Rgba { width: 4, height: 2, pixels: [[0u8, 0, 0, 255], [100, 100, 100, 255], [200, 0, 0, 255], [200, 0, 0, 255]].repeat(2).concat() };
    let half = img.downscaled(0.5);
    assert_eq!((half.width, half.height), (2, 1));
    assert_eq!(&half.pixels[..], &[50, 50, 50, 255, 200, 0, 0, 255]);
    assert_eq!(img.downscaled(1.0), img);
    assert_eq!(changed_rect(&picture(3), &picture(3)), None);
    let (x0, y0, x1, y1) = changed_rect(&picture(3), &picture(4)).expect("changed");
    assert!(x0 <= 12 && x1 >= 25 && y0 == 10 && y1 == 60, "{x0} {y0} {x1} {y1}");
    let dir = tempfile::tempdir().expect("tmp");
    let (tx, rx) = sync_channel(4);
    tx.send(ToEncoder::Finish { at: Instant::now(), stamp_px: None }).expect("send");
    assert!(matches!(run(&settings(dir.path()), &rx), Err(ClipError::Empty)));
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0, "no file, not even a temporary one");
}

#[test]
fn frames_of_another_size_are_skipped_and_a_late_end_holds_the_last_frame() {
    let dir = tempfile::tempdir().expect("tmp");
    let (tx, rx) = sync_channel(8);
    let t0 = Instant::now();
    tx.send(ToEncoder::Frame(CapturedFrame { image: picture(1), wall: t0, t_ms: 0.0 })).expect("send");
    tx.send(ToEncoder::Frame(CapturedFrame { image: picture(2).downscaled(0.5), wall: t0 + Duration::from_millis(100), t_ms: 1.0 })).expect("send");
    tx.send(ToEncoder::Frame(CapturedFrame { image: picture(3), wall: t0 + Duration::from_millis(200), t_ms: 2.0 })).expect("send");
    drop(tx); // the UI went away without a Finish: the clip still ends cleanly
    let s = run(&settings(dir.path()), &rx).expect("encode");
    assert_eq!((s.captures, s.skipped_resized, s.frames), (3, 1, 2));
    assert_eq!(s.t_ms, vec![0.0, 2.0]);
    assert!(s.duration_s >= 0.3 - 1e-9, "the last frame shows at least one interval: {}", s.duration_s);
}

/// With `ffmpeg` on the PATH the clip also comes as an MP4 whose frames fill the clip's
/// wall-clock time at the nominal rate; without it, the summary says why there is none.
#[test]
fn mp4_through_ffmpeg_or_a_note_saying_why_not() {
    let dir = tempfile::tempdir().expect("tmp");
    let (tx, rx) = sync_channel(64);
    let t0 = Instant::now();
    for i in 0..12u64 {
        tx.send(ToEncoder::Frame(CapturedFrame { image: picture(i as usize + 1), wall: t0 + Duration::from_millis(100 * i), t_ms: i as f64 })).expect("send");
    }
    tx.send(ToEncoder::Finish { at: t0 + Duration::from_millis(1200), stamp_px: None }).expect("send");
    let s = run(&ClipSettings { mp4: true, ..settings(dir.path()) }, &rx).expect("encode");
    match super::encoder::find_ffmpeg() {
        Some(ffmpeg) => {
            let mp4 = s.mp4.clone().unwrap_or_else(|| panic!("ffmpeg is at {} but no MP4: {:?}", ffmpeg.display(), s.mp4_note));
            assert_eq!(mp4, dir.path().join("clip.mp4"));
            let probe = ffmpeg.with_file_name("ffprobe");
            let out = std::process::Command::new(&probe)
                .args(["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames,width,height", "-of", "csv=p=0"])
                .arg(&mp4)
                .output()
                .unwrap_or_else(|e| panic!("running {}: {e}", probe.display()));
            let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            // 1.2 s at 10 frames per second, the 80×60 frames as they are (already even)
            assert_eq!(text, "80,60,12", "ffprobe: {text}");
            let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").filter_map(|e| e.ok()).map(|e| e.file_name()).filter(|n| n.to_string_lossy().ends_with(".part")).collect();
            assert!(leftovers.is_empty(), "no temporary file left: {leftovers:?}");
        }
        None => {
            assert!(s.mp4.is_none());
            assert!(s.mp4_note.as_deref().is_some_and(|n| n.contains("ffmpeg is not on the PATH")), "{:?}", s.mp4_note);
        }
    }
}
