//! Why did it spike? Attribution of the twin's spike probability at one ms to the cell's input
//! rows, what-if re-runs of the engine from a saved state, and the deletion-faithfulness test of
//! attributions against the engine.
//!
//! - [`attribute`]: occlusion by the twin (`surrogate::tcn::occlusion`): each input row (kind,
//!   segment) with spikes in the receptive field is scored by how much the spike probability at
//!   the chosen ms drops when that row's spikes in the window are removed. Positive scores
//!   support the spike, negative ones oppose it (typically inhibition). Where the sigmoid
//!   saturates (p ≈ 1), probability drops vanish and the drop of the spike logit orders the rows.
//! - [`whatif`]: a checkpoint of the engine at the window start, from which the original and any
//!   edited raster are re-simulated (the unedited re-run reproduces the original exactly).
//! - [`faithfulness`]: over the somatic spikes of a run, delete the top-k attributed inputs or k
//!   random active ones and count how often the engine's spike disappears.
//!
//! Depends on `surrogate` (the native TCN), `stimulus` (rasters, segments), `biophysics` and
//! `paper_sim` (the engine at the paper's settings); never on the GUI.

pub mod faithfulness;
pub mod whatif;

use crate::stimulus::{DendriticSegments, InputRaster, SynKind};
use crate::surrogate::NativeNet;
use serde::Serialize;

/// Errors of attribution and what-if runs.
#[derive(Debug, thiserror::Error)]
pub enum AttributionError {
    #[error("attribution: {0}")]
    Model(String),
    #[error("the raster has {raster} rows but the model takes {model}")]
    Rows { raster: usize, model: usize },
    #[error("t = {t_ms} ms is outside the raster's {duration_ms} ms")]
    Time { t_ms: usize, duration_ms: u32 },
    #[error("the raster has {raster} segments but the cell has {cell}")]
    Segments { raster: usize, cell: usize },
    #[error(transparent)]
    Simulation(#[from] crate::biophysics::simulation::SimError),
    #[error(transparent)]
    Stimulus(#[from] crate::stimulus::StimulusError),
}

/// The score of one input row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputScore {
    /// Row of the twin's input (exc rows first, then inh).
    pub row: usize,
    /// `"exc"` or `"inh"`.
    pub kind: SynKind,
    /// The paper's segment index.
    pub segment: usize,
    /// Section name, e.g. `dend[3]`.
    pub sec: String,
    /// Segment centre along the section (0–1).
    pub x: f64,
    /// Path distance of the segment from the soma (µm).
    pub distance_um: f64,
    /// Spikes of the row inside the window.
    pub n_spikes: usize,
    /// Spike probability at the chosen ms without this row's spikes in the window.
    pub probability_without: f32,
    /// Drop of the spike probability when the row's spikes are removed
    /// (`probability − probability_without`): > 0 the row supports a spike.
    pub score: f32,
    /// Drop of the spike logit: orders rows whose probability drop is lost to a saturated
    /// sigmoid (p ≈ 1 or ≈ 0), and breaks ties of `score`.
    pub logit_drop: f32,
}

/// Attribution of the twin's spike probability at `t_ms`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribution {
    pub t_ms: usize,
    /// First ms of the receptive field `[window_from_ms, t_ms]`.
    pub window_from_ms: usize,
    pub window_ms: usize,
    /// The twin's spike probability at `t_ms` with every input.
    pub probability: f32,
    /// Every row with spikes in the window, by descending score.
    pub ranking: Vec<InputScore>,
}

impl Attribution {
    /// The `k` best rows.
    pub fn top_rows(&self, k: usize) -> Vec<usize> {
        self.ranking.iter().take(k).map(|s| s.row).collect()
    }
}

/// Score every input row with spikes in the twin's window ending at `t_ms`, by occlusion.
pub fn attribute(tcn: &NativeNet, raster: &InputRaster, segs: &DendriticSegments, t_ms: usize) -> Result<Attribution, AttributionError> {
    if raster.n_rows() != tcn.n_rows() {
        return Err(AttributionError::Rows { raster: raster.n_rows(), model: tcn.n_rows() });
    }
    if raster.n_segments() != segs.len() {
        return Err(AttributionError::Segments { raster: raster.n_segments(), cell: segs.len() });
    }
    if t_ms >= raster.duration_ms() as usize {
        return Err(AttributionError::Time { t_ms, duration_ms: raster.duration_ms() });
    }
    let occ = tcn.occlude_rows(raster.rows(), t_ms, None).map_err(AttributionError::Model)?;
    let mut ranking: Vec<InputScore> = occ
        .rows
        .iter()
        .map(|o| {
            let (kind, segment) = raster.kind_and_segment(o.row);
            let seg = &segs.segments[segment];
            InputScore {
                row: o.row,
                kind,
                segment,
                sec: seg.section_name.clone(),
                x: seg.x,
                distance_um: seg.dist_um,
                n_spikes: o.n_spikes,
                probability_without: o.probability_without,
                score: occ.probability - o.probability_without,
                logit_drop: occ.logit - o.logit_without,
            }
        })
        .collect();
    // descending score; ties (a saturated sigmoid gives many) by the logit drop, then by row
    ranking.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.logit_drop.total_cmp(&a.logit_drop)).then(a.row.cmp(&b.row)));
    Ok(Attribution { t_ms, window_from_ms: occ.window_from_ms, window_ms: tcn.window_ms(), probability: occ.probability, ranking })
}

/// The twin's 1-ms bin of a somatic spike at `t_ms` (the paper's binning: bin k holds spikes at
/// t ∈ [k + 0.5, k + 1.5) ms).
pub fn spike_bin(t_ms: f64) -> usize {
    (t_ms - 0.5).floor().max(0.0) as usize
}

/// `raster` without the spikes of `rows` in `[from_ms, to_ms]` (inclusive).
pub fn delete_spikes(raster: &InputRaster, rows: &[usize], from_ms: usize, to_ms: usize) -> Result<InputRaster, AttributionError> {
    let mut out: Vec<Vec<u32>> = raster.rows().to_vec();
    for &r in rows {
        if let Some(row) = out.get_mut(r) {
            row.retain(|&t| (t as usize) < from_ms || (t as usize) > to_ms);
        }
    }
    Ok(InputRaster::from_rows(raster.n_segments(), raster.duration_ms(), out)?)
}
