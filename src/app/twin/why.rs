//! "Why did it spike?" on the twin's thread: the input the twin received over the last seconds,
//! occlusion attribution at a chosen ms (`attribution::attribute` on the model's native
//! evaluation), and the twin's side of a what-if (its outputs with and without deleted inputs).
//! The engine's side of a what-if runs on the engine worker (`whatif_engine`).

use crate::attribution::{attribute, delete_spikes, Attribution};
use crate::stimulus::{DendriticSegments, InputRaster};
use crate::surrogate::predict::Prediction;
use crate::surrogate::tcn::active_rows;
use crate::surrogate::{ModelMetadata, NativeNet};
use std::collections::VecDeque;

/// Input kept for explanations (ms).
pub const HISTORY_MS: usize = 4000;

/// What the UI asks the twin.
#[derive(Debug, Clone, PartialEq)]
pub enum WhyRequest {
    /// Attribute the spike probability at this bin.
    Explain { t_bin: usize },
    /// The twin's outputs over `[show_from_bin, until_bin]` with and without the edit: the
    /// spikes of `rows` in `[from_bin, to_bin]` deleted, and spikes `(row, bin)` added.
    WhatIf { rows: Vec<usize>, from_bin: usize, to_bin: usize, show_from_bin: usize, until_bin: usize, add: Vec<(usize, usize)> },
}

/// The twin's side of a what-if.
#[derive(Debug, Clone, PartialEq)]
pub struct TwinWhatIf {
    pub first_bin: usize,
    pub original: Prediction,
    pub edited: Prediction,
    /// The bin the deletion ends at, and the probability there without and with the edit.
    pub t_bin: usize,
    pub p_original: f32,
    pub p_edited: f32,
}

/// The twin's input over the last [`HISTORY_MS`], bin by bin.
#[derive(Debug, Default)]
pub struct InputHistory {
    first_bin: usize,
    /// The twin's stream started at `first_bin` (nothing before it: zeros, as the network saw).
    from_stream_start: bool,
    cols: VecDeque<Vec<u32>>,
}

impl InputHistory {
    pub fn clear(&mut self) {
        self.cols.clear();
        self.from_stream_start = true;
    }

    /// Append the next bin's active rows.
    pub fn push(&mut self, bin: usize, rows: &[u32]) {
        if self.cols.is_empty() {
            self.first_bin = bin;
        }
        self.cols.push_back(rows.to_vec());
        while self.cols.len() > HISTORY_MS {
            self.cols.pop_front();
            self.first_bin += 1;
            self.from_stream_start = false;
        }
    }

    /// One past the last bin held.
    pub fn end_bin(&self) -> usize {
        self.first_bin + self.cols.len()
    }

    /// The raster of bins `[from, to)` (rows relative to `from`), or why not.
    fn raster(&self, n_segments: usize, from: usize, to: usize) -> Result<InputRaster, String> {
        if from < self.first_bin || to > self.end_bin() || from >= to {
            return Err(format!("the twin holds input for {}–{} ms only", self.first_bin, self.end_bin()));
        }
        let mut rows = vec![Vec::new(); 2 * n_segments];
        for (k, col) in self.cols.iter().skip(from - self.first_bin).take(to - from).enumerate() {
            for &r in col {
                if let Some(row) = rows.get_mut(r as usize) {
                    if row.last() != Some(&(k as u32)) {
                        row.push(k as u32);
                    }
                }
            }
        }
        InputRaster::from_rows(n_segments, (to - from) as u32, rows).map_err(|e| e.to_string())
    }

    /// The earliest bin a computation for `t_bin` may start from: the stream's start, or enough
    /// context before the window for every layer to be exact.
    fn base_for(&self, t_bin: usize, window_ms: usize) -> Result<usize, String> {
        let want = (t_bin + 1).saturating_sub(window_ms);
        if self.cols.is_empty() || t_bin < self.first_bin {
            return Err(format!("{t_bin} ms is too long ago: the twin keeps the last {HISTORY_MS} ms of input"));
        }
        if want >= self.first_bin {
            Ok(want)
        } else if self.from_stream_start {
            Ok(self.first_bin)
        } else {
            Err(format!("{t_bin} ms is too long ago: the twin keeps the last {HISTORY_MS} ms of input"))
        }
    }

    /// Attribution at `t_bin`, with bins (`t_ms`, window) absolute.
    pub fn explain(&self, tcn: &NativeNet, segs: &DendriticSegments, t_bin: usize) -> Result<Attribution, String> {
        if t_bin >= self.end_bin() {
            return Err(format!("the twin has not reached {t_bin} ms yet"));
        }
        let base = self.base_for(t_bin, tcn.context_ms())?;
        let raster = self.raster(segs.len(), base, t_bin + 1)?;
        let mut a = attribute(tcn, &raster, segs, t_bin - base).map_err(|e| e.to_string())?;
        a.t_ms += base;
        a.window_from_ms += base;
        Ok(a)
    }

    /// The twin's outputs with and without the deletion.
    pub fn what_if(&self, tcn: &NativeNet, meta: &ModelMetadata, n_segments: usize, req: &WhyRequest) -> Result<TwinWhatIf, String> {
        let WhyRequest::WhatIf { rows, from_bin, to_bin, show_from_bin, until_bin, add } = req else {
            return Err("not a what-if".into());
        };
        let until = (*until_bin).min(self.end_bin().saturating_sub(1));
        let base = self.base_for(*show_from_bin, tcn.context_ms())?;
        let raster = self.raster(n_segments, base, until + 1)?;
        let mut edited = delete_spikes(&raster, rows, from_bin.saturating_sub(base), to_bin.saturating_sub(base)).map_err(|e| e.to_string())?;
        for &(row, bin) in add {
            if bin < base || bin > until {
                return Err(format!("an added spike at {bin} ms is outside {base}–{until} ms"));
            }
            edited.add_spike(row, (bin - base) as u32).map_err(|e| e.to_string())?;
        }
        let n = until + 1 - base;
        let run = |r: &InputRaster| -> Result<Prediction, String> {
            let raw = tcn.run(&active_rows(r.rows(), 0, n))?;
            let skip = show_from_bin.saturating_sub(base);
            let p = Prediction::from_raw(raw.view(), meta, base);
            Ok(Prediction {
                start_ms: base + skip,
                spike_probability: p.spike_probability[skip.min(n)..].to_vec(),
                soma_v_mv: p.soma_v_mv[skip.min(n)..].to_vec(),
            })
        };
        let original = run(&raster)?;
        let edited_pred = run(&edited)?;
        let at = to_bin.saturating_sub(original.start_ms);
        Ok(TwinWhatIf {
            first_bin: original.start_ms,
            p_original: original.spike_probability.get(at).copied().unwrap_or(f32::NAN),
            p_edited: edited_pred.spike_probability.get(at).copied().unwrap_or(f32::NAN),
            original,
            edited: edited_pred,
            t_bin: *to_bin,
        })
    }
}
