//! The engine worker's side of the twin: collect the input raster as the engine receives it (the
//! background protocol's rows and the user's synapses mapped to their segment's row), one 1-ms
//! column at a time, together with the cell's soma voltage and spikes, and forward the finished
//! columns to the twin thread over a bounded channel without ever waiting: if the twin falls
//! behind, the columns queue here and go as one merged batch later; past `MAX_PENDING_MS` the
//! oldest are dropped (the twin sees the gap and reports it).

use super::model::SynapseKind;
use crate::stimulus::DendriticSegments;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;

/// One ms of input (bin k holds input spikes at t ∈ [k, k + 1) ms), as the twin needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct MsColumn {
    pub bin: usize,
    /// Active rows (paper order: exc rows of every dendritic segment, then inh rows).
    pub rows: Vec<u32>,
    /// The cell's soma voltage at t = bin ms (the dataset's `soma_v_1ms[bin]`).
    pub cell_v_mv: f32,
    /// The cell's somatic spikes (ms) detected during the bin.
    pub cell_spikes_ms: Vec<f64>,
    /// The cell received somatic current (clamp, "inject pulse now") during the bin or less than
    /// [`BLIND_AFTER_MS`] before it: input the twin never sees, so its output there is no
    /// prediction of the cell.
    pub blind: bool,
}

/// How long after a current injection ends the cell's response (spikes, burst, after-
/// hyperpolarisation) is still counted as the injection's, not the twin's to predict (ms).
pub const BLIND_AFTER_MS: f64 = 50.0;

/// What goes from the engine worker to the twin thread.
#[derive(Debug, Clone, PartialEq)]
pub enum TwinMsg {
    Columns(Vec<MsColumn>),
    /// The simulation went back to t = 0.
    Reset,
}

/// The connection the engine worker gets: the channel and the segments that define the rows.
#[derive(Debug, Clone)]
pub struct TwinLink {
    pub tx: SyncSender<TwinMsg>,
    pub segments: Arc<DendriticSegments>,
}

impl PartialEq for TwinLink {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.segments, &other.segments)
    }
}

/// Columns kept here at most while the twin thread is behind (ms of input).
pub const MAX_PENDING_MS: usize = 20_000;

pub(super) struct TwinFeed {
    tx: SyncSender<TwinMsg>,
    /// Cable node → dendritic segment index, to map user synapses to rows.
    segment_of_node: HashMap<usize, usize>,
    n_segments: usize,
    /// Input rows of bins not finished yet.
    building: BTreeMap<usize, Vec<u32>>,
    next_bin: usize,
    v_at_bin_start_mv: f32,
    spikes: Vec<f64>,
    pending: VecDeque<MsColumn>,
    reset_pending: bool,
    /// The bin being built is blind (see [`MsColumn::blind`]).
    bin_blind: bool,
    /// Bins are blind until this time (ms): the last injection's end plus [`BLIND_AFTER_MS`].
    blind_until_ms: f64,
    /// User inputs on nodes without a dendritic segment (soma, axon): the twin cannot see them.
    pub unmapped_inputs: u64,
}

impl TwinFeed {
    /// Start feeding at simulation time `t_ms` (the first whole ms from there).
    pub(super) fn new(link: TwinLink, t_ms: f64, soma_v_mv: f64) -> TwinFeed {
        let segment_of_node = link.segments.segments.iter().enumerate().map(|(i, s)| (s.node, i)).collect();
        TwinFeed {
            tx: link.tx,
            segment_of_node,
            n_segments: link.segments.len(),
            building: BTreeMap::new(),
            next_bin: (t_ms - 1e-9).ceil().max(0.0) as usize,
            v_at_bin_start_mv: soma_v_mv as f32,
            spikes: Vec::new(),
            pending: VecDeque::new(),
            reset_pending: false,
            bin_blind: false,
            blind_until_ms: f64::NEG_INFINITY,
            unmapped_inputs: 0,
        }
    }

    /// A background-protocol spike on raster row `row` at `t_ms`.
    pub(super) fn add_row(&mut self, t_ms: f64, row: u32) {
        let bin = t_ms.max(0.0).floor() as usize;
        if bin >= self.next_bin {
            self.building.entry(bin).or_default().push(row);
        }
    }

    /// A user synapse's spike: on its segment's exc or inh row.
    pub(super) fn add_synapse_input(&mut self, t_ms: f64, node: usize, kind: SynapseKind) {
        match self.segment_of_node.get(&node) {
            Some(&seg) => {
                let row = if kind == SynapseKind::Excitatory { seg } else { self.n_segments + seg };
                self.add_row(t_ms, row as u32);
            }
            None => self.unmapped_inputs += 1,
        }
    }

    pub(super) fn cell_spike(&mut self, t_ms: f64) {
        self.spikes.push(t_ms);
    }

    /// Call after every engine step (to `t_ms`): finishes the bins that time has passed.
    /// `injecting`: somatic current flowed during the step.
    pub(super) fn after_step(&mut self, t_ms: f64, soma_v_mv: f64, injecting: bool) {
        if injecting {
            self.blind_until_ms = t_ms + BLIND_AFTER_MS;
        }
        self.bin_blind |= injecting || t_ms < self.blind_until_ms;
        while t_ms + 1e-6 >= (self.next_bin + 1) as f64 {
            let mut rows = self.building.remove(&self.next_bin).unwrap_or_default();
            rows.sort_unstable();
            rows.dedup();
            self.pending.push_back(MsColumn {
                bin: self.next_bin,
                rows,
                cell_v_mv: self.v_at_bin_start_mv,
                cell_spikes_ms: std::mem::take(&mut self.spikes),
                blind: std::mem::replace(&mut self.bin_blind, t_ms < self.blind_until_ms),
            });
            self.v_at_bin_start_mv = soma_v_mv as f32;
            self.next_bin += 1;
        }
        while self.pending.len() > MAX_PENDING_MS {
            self.pending.pop_front();
        }
    }

    /// The simulation went back to t = 0.
    pub(super) fn reset(&mut self, soma_v_mv: f64) {
        self.building.clear();
        self.pending.clear();
        self.spikes.clear();
        self.next_bin = 0;
        self.bin_blind = false;
        self.blind_until_ms = f64::NEG_INFINITY;
        self.v_at_bin_start_mv = soma_v_mv as f32;
        self.reset_pending = true;
        self.flush();
    }

    /// Send what is ready, without waiting; whatever does not fit stays for the next call.
    pub(super) fn flush(&mut self) {
        if self.reset_pending {
            match self.tx.try_send(TwinMsg::Reset) {
                Ok(()) => self.reset_pending = false,
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => return,
            }
        }
        if self.pending.is_empty() {
            return;
        }
        let batch: Vec<MsColumn> = self.pending.drain(..).collect();
        match self.tx.try_send(TwinMsg::Columns(batch)) {
            Ok(()) => {}
            Err(TrySendError::Full(TwinMsg::Columns(back))) => self.pending = back.into(),
            // the twin thread is gone (model switched off for good or the session closing)
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::sync_channel;

    #[test]
    fn columns_bin_inputs_and_merge_when_the_channel_is_full() {
        let (tx, rx) = sync_channel(1);
        let morph = crate::morphology::load_hay2011(std::path::Path::new("tests/data/surrogate/tiny10.swc")).expect("tiny10");
        let cable = crate::Cable::new(&morph, &crate::Discretisation::default()).expect("cable");
        let soma_node = cable.segment_node(0, 0.5);
        let segments = Arc::new(DendriticSegments::new(&morph, &cable).expect("segments"));
        let mut feed = TwinFeed::new(TwinLink { tx, segments }, 0.0, -75.0);
        feed.add_row(0.0, 3);
        feed.add_row(0.5, 1);
        feed.add_row(1.2, 2);
        feed.add_synapse_input(1.5, soma_node, SynapseKind::Excitatory);
        for k in 1..=10 {
            feed.after_step(0.1 * f64::from(k), -70.0, false);
        }
        feed.flush();
        feed.after_step(2.0, -60.0, false);
        feed.flush(); // channel full: stays pending
        let Ok(TwinMsg::Columns(first)) = rx.try_recv() else { panic!("first batch") };
        assert_eq!(first, vec![MsColumn { bin: 0, rows: vec![1, 3], cell_v_mv: -75.0, cell_spikes_ms: vec![], blind: false }]);
        feed.after_step(3.0, -60.0, false);
        feed.flush();
        let Ok(TwinMsg::Columns(merged)) = rx.try_recv() else { panic!("merged batch") };
        assert_eq!(merged.iter().map(|c| c.bin).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(merged[0].rows, vec![2]);
        assert_eq!(feed.unmapped_inputs, 1);
        feed.reset(-75.0);
        assert_eq!(rx.try_recv(), Ok(TwinMsg::Reset));
    }

    #[test]
    fn bins_with_current_injection_and_the_time_after_are_blind() {
        let (tx, rx) = sync_channel(8);
        let morph = crate::morphology::load_hay2011(std::path::Path::new("tests/data/surrogate/tiny10.swc")).expect("tiny10");
        let cable = crate::Cable::new(&morph, &crate::Discretisation::default()).expect("cable");
        let segments = Arc::new(DendriticSegments::new(&morph, &cable).expect("segments"));
        let mut feed = TwinFeed::new(TwinLink { tx, segments }, 0.0, -75.0);
        // a pulse from 10 to 12 ms, steps of 0.5 ms up to 100 ms
        for k in 1..=200 {
            let t = 0.5 * f64::from(k);
            feed.after_step(t, -70.0, t > 10.0 && t <= 12.0);
        }
        feed.flush();
        let Ok(TwinMsg::Columns(cols)) = rx.try_recv() else { panic!("columns") };
        let blind: Vec<usize> = cols.iter().filter(|c| c.blind).map(|c| c.bin).collect();
        let expected: Vec<usize> = (10..62).collect();
        assert_eq!(blind, expected, "the pulse's bins and the {BLIND_AFTER_MS} ms after it");
    }
}
