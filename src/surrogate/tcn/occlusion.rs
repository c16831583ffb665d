//! Occlusion on the native TCN: the twin's spike probability at one ms, and how it changes when
//! one input row's spikes inside the receptive field are removed. Only the first layer's
//! pre-activations change (linearly, by the removed spikes' kernel taps), so each occlusion costs
//! the hidden layers over Σ(k − 1) + 1 ms, not a full network run; rows run in parallel.

use super::{sigmoid, NativeTcn};
use rayon::prelude::*;

/// One occluded input row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowOcclusion {
    pub row: usize,
    /// Spikes of the row inside the window (removed).
    pub n_spikes: usize,
    /// The spike probability at `t_ms` without them.
    pub probability_without: f32,
    /// The spike logit at `t_ms` without them (discriminates where the probability saturates).
    pub logit_without: f32,
}

/// Result of [`NativeTcn::occlude_rows`].
#[derive(Debug, Clone, PartialEq)]
pub struct Occlusion {
    pub t_ms: usize,
    /// The window `[t_ms − window + 1, t_ms]` whose spikes count (ms, inclusive).
    pub window_from_ms: usize,
    /// The spike probability at `t_ms` with every input.
    pub probability: f32,
    /// The spike logit at `t_ms` with every input.
    pub logit: f32,
    /// Every row with at least one spike in the window, in row order.
    pub rows: Vec<RowOcclusion>,
}

/// The spikes of a sorted row inside `[lo, hi]` (ms).
fn spikes_in(row: &[u32], lo: usize, hi: usize) -> &[u32] {
    let a = row.partition_point(|&t| (t as usize) < lo);
    let b = row.partition_point(|&t| (t as usize) <= hi);
    &row[a..b]
}

impl NativeTcn {
    /// First-layer pre-activations (bias included) of ms `from … t` from every spike of `rows`.
    fn first_layer_span(&self, rows: &[Vec<u32>], from: usize, t: usize) -> Vec<f32> {
        let n = t + 1 - from;
        let mut z: Vec<f32> = (0..n).flat_map(|_| self.first_bias.iter().copied()).collect();
        let lo = (from + 1).saturating_sub(self.k0);
        for (r, row) in rows.iter().enumerate() {
            for &s in spikes_in(row, lo, t) {
                self.add_spike(&mut z, from, n, r, s as usize, 1.0);
            }
        }
        z
    }

    fn logit_from_span(&self, z: Vec<f32>, from: usize, n: usize) -> Result<f32, String> {
        let h = ndarray::Array2::from_shape_vec((n, self.c0), z).map_err(|e| e.to_string())?;
        let out = self.upper(h, from == 0);
        let last = out.nrows().checked_sub(1).ok_or("empty hidden output")?;
        Ok(self.spike_logits(out.slice(ndarray::s![last.., ..]))[0])
    }

    /// The spike probability at `t_ms` for the raster `rows` (sorted spike ms per row).
    pub fn probability_at(&self, rows: &[Vec<u32>], t_ms: usize) -> Result<f32, String> {
        if rows.len() != self.n_rows {
            return Err(format!("the raster has {} rows, the model {}", rows.len(), self.n_rows));
        }
        let from = t_ms.saturating_sub(self.upper_span_ms());
        let z = self.first_layer_span(rows, from, t_ms);
        self.logit_from_span(z, from, t_ms + 1 - from).map(sigmoid)
    }

    /// Occlude, one at a time, every row with spikes in the window ending at `t_ms` (or only
    /// `only_rows` when given): the probability at `t_ms` without that row's spikes in the window.
    pub fn occlude_rows(&self, rows: &[Vec<u32>], t_ms: usize, only_rows: Option<&[usize]>) -> Result<Occlusion, String> {
        if rows.len() != self.n_rows {
            return Err(format!("the raster has {} rows, the model {}", rows.len(), self.n_rows));
        }
        let window_from_ms = (t_ms + 1).saturating_sub(self.window_ms());
        let from = t_ms.saturating_sub(self.upper_span_ms());
        let n = t_ms + 1 - from;
        let base = self.first_layer_span(rows, from, t_ms);
        let logit = self.logit_from_span(base.clone(), from, n)?;
        let candidates: Vec<usize> = match only_rows {
            Some(list) => {
                if let Some(&r) = list.iter().find(|&&r| r >= self.n_rows) {
                    return Err(format!("row {r} out of range (the model has {} rows)", self.n_rows));
                }
                list.to_vec()
            }
            None => (0..self.n_rows).collect(),
        };
        let active: Vec<(usize, &[u32])> =
            candidates.into_iter().map(|r| (r, spikes_in(&rows[r], window_from_ms, t_ms))).filter(|(_, s)| !s.is_empty()).collect();
        let rows_out = active
            .par_iter()
            .map(|&(r, spikes)| {
                let mut z = base.clone();
                for &s in spikes {
                    self.add_spike(&mut z, from, n, r, s as usize, -1.0);
                }
                self.logit_from_span(z, from, n).map(|l| RowOcclusion { row: r, n_spikes: spikes.len(), probability_without: sigmoid(l), logit_without: l })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Occlusion { t_ms, window_from_ms, probability: sigmoid(logit), logit, rows: rows_out })
    }
}
