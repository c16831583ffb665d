//! Writing what the app shows to files: the traces in the window (CSV and NumPy `.npy`, columns
//! t_ms, soma_v_mv, one per recording site; somatic spike times as text) and PNG screenshots
//! of the window, each with a JSON sidecar naming the regions of the picture.

use crate::app::live::placements::Placements;
use crate::app::live::runner::Snapshot;
use anyhow::{Context as _, Result};
use eframe::egui::{self, ColorImage};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The trace table: a header and rows of equal length (sites that started later are NaN before
/// their first sample).
pub fn trace_table(snap: &Snapshot, placements: &Placements) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut header = vec!["t_ms".to_string(), "soma_v_mv".to_string()];
    let n = snap.soma_v_mv.len();
    let mut columns: Vec<Vec<f64>> = vec![snap.soma_v_mv.iter().map(|p| p[0]).collect(), snap.soma_v_mv.iter().map(|p| p[1]).collect()];
    for (key, trace) in &snap.sites {
        let name = placements
            .sites
            .iter()
            .find(|s| s.key == *key)
            .map_or_else(|| format!("site{}", key.0), |s| format!("{}({:.4})", s.at.section_name, s.at.x));
        header.push(format!("{name}_v_mv"));
        // every site is sampled at the same moments as the soma, so its samples are the soma's
        // last ones
        let offset = n.saturating_sub(trace.len());
        let mut col = vec![f64::NAN; n];
        for (i, p) in trace.iter().enumerate().take(n - offset) {
            col[offset + i] = p[1];
        }
        columns.push(col);
    }
    let rows = (0..n).map(|i| columns.iter().map(|c| c[i]).collect()).collect();
    (header, rows)
}

/// Write PREFIX.csv, PREFIX.npy and PREFIX.spikes.txt; returns the files written.
pub fn write_traces(prefix: &Path, snap: &Snapshot, placements: &Placements) -> Result<Vec<PathBuf>> {
    let (header, rows) = trace_table(snap, placements);
    if rows.is_empty() {
        anyhow::bail!("no trace samples yet: play or step the simulation first");
    }
    let with_ext = |ext: &str| PathBuf::from(format!("{}.{ext}", prefix.display()));
    let csv = with_ext("csv");
    let mut text = header.join(",") + "\n";
    for row in &rows {
        text += &row.iter().map(|v| format!("{v}")).collect::<Vec<_>>().join(",");
        text.push('\n');
    }
    std::fs::write(&csv, text).with_context(|| format!("writing {}", csv.display()))?;
    let npy = with_ext("npy");
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    crate::dataset::npy::write_npy(&npy, &[rows.len(), header.len()], &flat)?;
    let spikes = with_ext("spikes.txt");
    let text: String = snap.soma_spikes_ms.iter().map(|t| format!("{t}\n")).collect();
    std::fs::write(&spikes, text).with_context(|| format!("writing {}", spikes.display()))?;
    Ok(vec![csv, npy, spikes])
}

/// Regions of a screenshot in pixels, [left, top, right, bottom].
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ScreenRegions {
    pub view3d: [f32; 4],
    pub traces: [f32; 4],
}

impl ScreenRegions {
    pub fn from_rects(view3d: egui::Rect, traces: egui::Rect, pixels_per_point: f32) -> ScreenRegions {
        let px = |r: egui::Rect| [r.left(), r.top(), r.right(), r.bottom()].map(|v| v * pixels_per_point);
        ScreenRegions { view3d: px(view3d), traces: px(traces) }
    }
}

#[derive(Serialize)]
struct Sidecar<'a> {
    width: usize,
    height: usize,
    t_ms: f64,
    regions: &'a ScreenRegions,
}

/// Write `image` as PNG to `path` and the regions to `path` with extension `.json`.
pub fn write_screenshot(path: &Path, image: &ColorImage, regions: &ScreenRegions, t_ms: f64) -> Result<()> {
    let [w, h] = image.size;
    let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_srgba_unmultiplied()).collect();
    let rgba = image::RgbaImage::from_raw(w as u32, h as u32, bytes).context("screenshot has the wrong number of pixels")?;
    rgba.save_with_format(path, image::ImageFormat::Png).with_context(|| format!("writing {}", path.display()))?;
    let sidecar = Sidecar { width: w, height: h, t_ms, regions };
    let json = path.with_extension("json");
    std::fs::write(&json, serde_json::to_string_pretty(&sidecar)? + "\n").with_context(|| format!("writing {}", json.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::live::runner::SiteKey;

    #[test]
    fn traces_are_aligned_and_written_in_both_formats() {
        let snap = Snapshot {
            soma_v_mv: vec![[0.0, -70.0], [0.1, -69.0], [0.2, -68.0]],
            sites: vec![(SiteKey(4), vec![[0.1, -60.0], [0.2, -61.0]])],
            soma_spikes_ms: vec![0.15],
            ..Snapshot::default()
        };
        let (header, rows) = trace_table(&snap, &Placements::default());
        assert_eq!(header, ["t_ms", "soma_v_mv", "site4_v_mv"]);
        assert!(rows[0][2].is_nan());
        assert_eq!(rows[2], vec![0.2, -68.0, -61.0]);
        let dir = tempfile::tempdir().expect("tmp");
        let files = write_traces(&dir.path().join("run"), &snap, &Placements::default()).expect("write");
        assert_eq!(files.len(), 3);
        let npy = crate::dataset::npy::read_npy(&files[1]).expect("read npy");
        assert_eq!(npy.shape, vec![3, 3]);
        let csv = std::fs::read_to_string(&files[0]).expect("csv");
        assert!(csv.starts_with("t_ms,soma_v_mv,site4_v_mv\n0,-70,NaN\n"), "{csv}");
        assert!(write_traces(&dir.path().join("empty"), &Snapshot::default(), &Placements::default()).is_err());
    }

    #[test]
    fn screenshot_png_round_trips() {
        let image = ColorImage::new([4, 3], vec![egui::Color32::from_rgb(0, 220, 255); 12]);
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("shot.png");
        write_screenshot(&path, &image, &ScreenRegions::default(), 1.0).expect("write");
        let back = image::open(&path).expect("decode").to_rgba8();
        assert_eq!(back.dimensions(), (4, 3));
        assert_eq!(back.get_pixel(1, 1).0, [0, 220, 255, 255]);
        assert!(path.with_extension("json").exists());
    }
}
