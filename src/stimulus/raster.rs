//! `InputRaster`: the paper's input representation (spec §6.1; Beniaguev et al. 2021): one row per
//! (synapse kind, dendritic segment), 1-ms bins, at most one spike per row and bin. Rows
//! 0..n are the excitatory synapses of segments 0..n in the paper's order, rows n..2n the
//! inhibitory ones in the same order (1278 rows for the Hay cell's 639 segments). Stored sparsely:
//! per row the sorted spike bins (ms). Also converts to and from the golden-file synapse list.

use super::segments::DendriticSegments;
use super::StimulusError;
use serde::{Deserialize, Serialize};

/// Synapse kind (`"exc"`, `"inh"` in the golden JSON): the engine's own enum.
pub use crate::biophysics::synapse::SynapseKind as SynKind;

/// One synapse with its presynaptic spike times, as in the golden JSON `synapses` list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynapseSpec {
    pub kind: SynKind,
    /// NEURON section name, e.g. `dend[5]`.
    pub sec: String,
    /// Location on the section (a segment centre for the paper's synapses).
    pub x: f64,
    /// Presynaptic spike times (ms).
    pub spikes_ms: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_seg_index: Option<usize>,
}

/// Order of the synapse list produced by [`InputRaster::to_synapses`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SynapseOrder {
    /// Raster row order: all excitatory, then all inhibitory.
    RowOrder,
    /// exc, inh of segment 0, then of segment 1, … (the order of the golden E files).
    InterleavedBySegment,
}

/// Options for [`InputRaster::to_synapses`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynapseListOptions {
    /// Emit a synapse for every row, or only for rows with at least one spike.
    pub include_silent: bool,
    pub order: SynapseOrder,
}

impl Default for SynapseListOptions {
    /// Like the golden files: every synapse, interleaved by segment.
    fn default() -> Self {
        SynapseListOptions { include_silent: true, order: SynapseOrder::InterleavedBySegment }
    }
}

/// Sparse binary raster of input spikes: `rows[r]` holds the sorted, distinct 1-ms bins with a
/// spike; a spike in bin k is delivered at t = k ms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRaster {
    n_segments: usize,
    duration_ms: u32,
    rows: Vec<Vec<u32>>,
}

impl InputRaster {
    /// An empty raster for `n_segments` dendritic segments (2·n_segments rows).
    pub fn new(n_segments: usize, duration_ms: u32) -> InputRaster {
        InputRaster { n_segments, duration_ms, rows: vec![Vec::new(); 2 * n_segments] }
    }

    /// Build from rows of spike bins; each row must be strictly increasing and inside
    /// [0, duration_ms).
    pub fn from_rows(n_segments: usize, duration_ms: u32, rows: Vec<Vec<u32>>) -> Result<InputRaster, StimulusError> {
        if rows.len() != 2 * n_segments {
            return Err(StimulusError::Mismatch(format!("{} rows for {} segments (need {})", rows.len(), n_segments, 2 * n_segments)));
        }
        for (r, row) in rows.iter().enumerate() {
            if row.windows(2).any(|w| w[0] >= w[1]) {
                return Err(StimulusError::Mismatch(format!("row {r}: spike bins not strictly increasing")));
            }
            if let Some(&last) = row.last() {
                if last >= duration_ms {
                    return Err(StimulusError::SpikeOutOfRange { row: r, t_ms: f64::from(last), duration_ms });
                }
            }
        }
        Ok(InputRaster { n_segments, duration_ms, rows })
    }

    pub fn n_segments(&self) -> usize {
        self.n_segments
    }

    pub fn n_rows(&self) -> usize {
        self.rows.len()
    }

    pub fn duration_ms(&self) -> u32 {
        self.duration_ms
    }

    /// Row index of (kind, paper segment index).
    pub fn row(&self, kind: SynKind, segment: usize) -> usize {
        match kind {
            SynKind::Exc => segment,
            SynKind::Inh => self.n_segments + segment,
        }
    }

    /// Inverse of [`InputRaster::row`].
    pub fn kind_and_segment(&self, row: usize) -> (SynKind, usize) {
        if row < self.n_segments {
            (SynKind::Exc, row)
        } else {
            (SynKind::Inh, row - self.n_segments)
        }
    }

    /// Spike bins (ms) of one row, sorted.
    pub fn spikes(&self, row: usize) -> &[u32] {
        self.rows.get(row).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn rows(&self) -> &[Vec<u32>] {
        &self.rows
    }

    /// Add a spike in bin `t_ms` of `row`. Returns false if the bin already had one.
    pub fn add_spike(&mut self, row: usize, t_ms: u32) -> Result<bool, StimulusError> {
        if t_ms >= self.duration_ms {
            return Err(StimulusError::SpikeOutOfRange { row, t_ms: f64::from(t_ms), duration_ms: self.duration_ms });
        }
        let n_rows = self.rows.len();
        let r = self.rows.get_mut(row).ok_or(StimulusError::BadRow { row, n_rows })?;
        match r.binary_search(&t_ms) {
            Ok(_) => Ok(false),
            Err(pos) => {
                r.insert(pos, t_ms);
                Ok(true)
            }
        }
    }

    /// Remove every spike in the 0-ms bin and return how many there were (spec §6.4 quirk 1: in
    /// the original mod files a t = 0 event silences the synapse for the whole run).
    pub fn drop_t0_spikes(&mut self) -> usize {
        let mut dropped = 0;
        for row in &mut self.rows {
            if row.first() == Some(&0) {
                row.remove(0);
                dropped += 1;
            }
        }
        dropped
    }

    /// Total number of spikes.
    pub fn n_spikes(&self) -> usize {
        self.rows.iter().map(Vec::len).sum()
    }

    /// Number of spikes of one kind.
    pub fn n_spikes_of(&self, kind: SynKind) -> usize {
        let (lo, hi) = match kind {
            SynKind::Exc => (0, self.n_segments),
            SynKind::Inh => (self.n_segments, 2 * self.n_segments),
        };
        self.rows[lo..hi].iter().map(Vec::len).sum()
    }

    /// Fraction of (row, ms) cells with a spike (the paper quotes ≈ 1.1 %).
    pub fn density(&self) -> f64 {
        let cells = self.rows.len() as f64 * f64::from(self.duration_ms);
        if cells > 0.0 {
            self.n_spikes() as f64 / cells
        } else {
            0.0
        }
    }

    /// Mean number of active inputs (exc + inh) per 1-ms bin (the paper quotes ≈ 14).
    pub fn mean_active_per_ms(&self) -> f64 {
        if self.duration_ms > 0 {
            self.n_spikes() as f64 / f64::from(self.duration_ms)
        } else {
            0.0
        }
    }

    /// All spikes as (row, ms) pairs, row-major (rows ascending, then time).
    pub fn iter_spikes(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.rows.iter().enumerate().flat_map(|(r, row)| row.iter().map(move |&t| (r, t)))
    }

    /// One synapse per row (or per row with spikes), located at its segment centre.
    pub fn to_synapses(&self, segs: &DendriticSegments, opts: &SynapseListOptions) -> Result<Vec<SynapseSpec>, StimulusError> {
        if segs.len() != self.n_segments {
            return Err(StimulusError::Mismatch(format!("raster has {} segments, cell {}", self.n_segments, segs.len())));
        }
        let rows: Vec<usize> = match opts.order {
            SynapseOrder::RowOrder => (0..self.rows.len()).collect(),
            SynapseOrder::InterleavedBySegment => {
                (0..self.n_segments).flat_map(|s| [s, self.n_segments + s]).collect()
            }
        };
        let mut out = Vec::new();
        for r in rows {
            let spikes = &self.rows[r];
            if spikes.is_empty() && !opts.include_silent {
                continue;
            }
            let (kind, s) = self.kind_and_segment(r);
            let seg = &segs.segments[s];
            out.push(SynapseSpec {
                kind,
                sec: seg.section_name.clone(),
                x: seg.x,
                spikes_ms: spikes.iter().map(|&t| f64::from(t)).collect(),
                paper_seg_index: Some(s),
            });
        }
        Ok(out)
    }

    /// Build a raster from a synapse list (any order; several synapses on one segment are merged).
    /// Spike times must be whole ms in [0, duration_ms), at most one per row and bin; a given
    /// `paper_seg_index` must agree with the location.
    pub fn from_synapses(segs: &DendriticSegments, synapses: &[SynapseSpec], duration_ms: u32) -> Result<InputRaster, StimulusError> {
        let mut raster = InputRaster::new(segs.len(), duration_ms);
        for syn in synapses {
            let s = segs.locate(&syn.sec, syn.x)?;
            if let Some(given) = syn.paper_seg_index {
                if given != s {
                    return Err(StimulusError::SegmentIndexMismatch { section: syn.sec.clone(), x: syn.x, given, located: s });
                }
            }
            let row = raster.row(syn.kind, s);
            for &t in &syn.spikes_ms {
                if !(t.is_finite() && t >= 0.0 && t < f64::from(duration_ms)) {
                    return Err(StimulusError::SpikeOutOfRange { row, t_ms: t, duration_ms });
                }
                if t.fract() != 0.0 {
                    return Err(StimulusError::NonIntegerSpike { section: syn.sec.clone(), t_ms: t });
                }
                if !raster.add_spike(row, t as u32)? {
                    return Err(StimulusError::DuplicateBin { section: syn.sec.clone(), kind: syn.kind, t_ms: t });
                }
            }
        }
        Ok(raster)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_counts() {
        let mut r = InputRaster::new(3, 10);
        assert_eq!(r.n_rows(), 6);
        assert_eq!(r.row(SynKind::Inh, 1), 4);
        assert_eq!(r.kind_and_segment(4), (SynKind::Inh, 1));
        assert!(r.add_spike(4, 7).expect("in range"));
        assert!(r.add_spike(4, 0).expect("in range"));
        assert!(!r.add_spike(4, 7).expect("in range"));
        assert!(r.add_spike(0, 0).expect("in range"));
        assert!(r.add_spike(10, 1).is_err());
        assert!(r.add_spike(0, 10).is_err());
        assert_eq!(r.spikes(4), &[0, 7]);
        assert_eq!(r.n_spikes(), 3);
        assert_eq!(r.n_spikes_of(SynKind::Exc), 1);
        assert!((r.density() - 3.0 / 60.0).abs() < 1e-15);
        assert_eq!(r.drop_t0_spikes(), 2);
        assert_eq!(r.iter_spikes().collect::<Vec<_>>(), vec![(4, 7)]);
    }

    #[test]
    fn from_rows_rejects_unsorted_and_out_of_range() {
        assert!(InputRaster::from_rows(1, 10, vec![vec![3, 2], vec![]]).is_err());
        assert!(InputRaster::from_rows(1, 10, vec![vec![3, 3], vec![]]).is_err());
        assert!(InputRaster::from_rows(1, 10, vec![vec![], vec![10]]).is_err());
        assert!(InputRaster::from_rows(1, 10, vec![vec![]]).is_err());
        assert!(InputRaster::from_rows(1, 10, vec![vec![1, 9], vec![]]).is_ok());
    }
}
