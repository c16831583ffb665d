//! What-if re-runs of the live engine (input spikes deleted or added): the worker keeps copies of the model every
//! [`CHECKPOINT_EVERY_MS`] (the last [`KEEP_MS`]) and a log of every presynaptic spike it queued
//! (with the twin's input row it belongs to). A re-run starts from the latest checkpoint whose
//! queued spikes all precede the edited span, queues the logged spikes again (minus the deleted
//! ones) and steps the copy exactly as the worker steps the model, sampling the soma at the same
//! steps, so a re-run without edits reproduces the live trace bit for bit.
//!
//! Not replayed: commands given after the checkpoint (clamp, NMDA switch, synapses removed).

use super::model::{LiveModel, SynId};
use std::collections::VecDeque;

/// A checkpoint is taken every this many ms of simulated time.
pub const CHECKPOINT_EVERY_MS: f64 = 50.0;
/// Checkpoints and spikes are kept this long (ms) behind the present.
pub const KEEP_MS: f64 = 3000.0;

struct Checkpoint {
    t_ms: f64,
    /// Spikes before this were already queued in the copy.
    generated_until_ms: f64,
    last_soma_v_mv: f64,
    model: Box<dyn LiveModel>,
}

#[derive(Debug, Clone, Copy)]
struct Queued {
    t_ms: f64,
    syn: SynId,
    /// The twin's input row of the synapse (`None`: not on a dendritic segment).
    row: Option<u32>,
}

/// The result of one engine what-if.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineWhatIf {
    pub checkpoint_ms: f64,
    pub to_ms: f64,
    /// Soma samples `[t_ms, v_mv]` without and with the edit.
    pub original: Vec<[f64; 2]>,
    pub edited: Vec<[f64; 2]>,
    pub original_spikes_ms: Vec<f64>,
    pub edited_spikes_ms: Vec<f64>,
    /// Presynaptic spikes the edit removed and added.
    pub deleted_spikes: usize,
    pub added_spikes: usize,
}

/// A what-if edit of the input: delete the spikes of `rows` with t in `[from_ms, to_ms]`, and add
/// spikes `(row, t_ms)` (at or after `from_ms`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Edit {
    pub rows: Vec<u32>,
    pub from_ms: f64,
    pub to_ms: f64,
    pub add: Vec<(u32, f64)>,
}

impl Edit {
    fn deletes(&self, q: &Queued) -> bool {
        q.t_ms >= self.from_ms && q.t_ms <= self.to_ms && q.row.is_some_and(|r| self.rows.contains(&r))
    }

    /// The earliest time the edit touches (ms).
    fn start_ms(&self) -> f64 {
        self.add.iter().map(|a| a.1).fold(self.from_ms, f64::min)
    }
}

/// Soma samples `[t_ms, v_mv]`, spike times (ms), and spikes deleted, of one re-run.
type Rerun = (Vec<[f64; 2]>, Vec<f64>, usize);

#[derive(Default)]
pub(super) struct History {
    checkpoints: VecDeque<Checkpoint>,
    log: VecDeque<Queued>,
    next_checkpoint_ms: f64,
}

impl History {
    pub(super) fn clear(&mut self) {
        self.checkpoints.clear();
        self.log.clear();
        self.next_checkpoint_ms = 0.0;
    }

    /// A spike was queued in the live model.
    pub(super) fn queued(&mut self, t_ms: f64, syn: SynId, row: Option<u32>) {
        self.log.push_back(Queued { t_ms, syn, row });
    }

    /// After a chunk: keep a copy of the model when one is due.
    pub(super) fn after_chunk(&mut self, model: &dyn LiveModel, generated_until_ms: f64, last_soma_v_mv: f64) {
        let t = model.t_ms();
        if t + 1e-9 < self.next_checkpoint_ms {
            return;
        }
        if let Some(copy) = model.boxed_clone() {
            self.checkpoints.push_back(Checkpoint { t_ms: t, generated_until_ms, last_soma_v_mv, model: copy });
        }
        self.next_checkpoint_ms = t + CHECKPOINT_EVERY_MS;
        while self.checkpoints.len() > 1 && self.checkpoints.get(1).is_some_and(|c| c.t_ms < t - KEEP_MS) {
            self.checkpoints.pop_front();
        }
        let oldest = self.checkpoints.front().map_or(t, |c| c.generated_until_ms);
        while self.log.front().is_some_and(|q| q.t_ms < oldest) {
            self.log.pop_front();
        }
    }

    /// The synapse that receives row `row`'s spikes (the latest one logged).
    fn synapse_of_row(&self, row: u32) -> Option<SynId> {
        self.log.iter().rev().find(|q| q.row == Some(row)).map(|q| q.syn)
    }

    /// Re-run from the latest checkpoint before the edit to `to_ms`, without and with the edit.
    /// `sample_every_steps` and `spike_threshold_mv` as the worker's.
    pub(super) fn rerun(&self, edit: &Edit, to_ms: f64, sample_every_steps: usize, spike_threshold_mv: f64) -> Result<EngineWhatIf, String> {
        let start = edit.start_ms();
        let cp = self
            .checkpoints
            .iter()
            .rev()
            .find(|c| c.generated_until_ms <= start)
            .ok_or_else(|| format!("no checkpoint before {start:.0} ms (the last {KEEP_MS:.0} ms are kept)"))?;
        let added: Vec<(SynId, f64)> = edit
            .add
            .iter()
            .map(|&(row, t)| {
                self.synapse_of_row(row).map(|s| (s, t)).ok_or_else(|| format!("input row {row} has no synapse in the engine (switch the background protocol on, or place a synapse there)"))
            })
            .collect::<Result<_, _>>()?;
        let run = |with_edit: bool| -> Result<Rerun, String> {
            let mut m = cp.model.boxed_clone().ok_or("the model cannot be copied")?;
            let mut deleted = 0;
            for q in self.log.iter().filter(|q| q.t_ms >= cp.generated_until_ms) {
                if with_edit && edit.deletes(q) {
                    deleted += 1;
                    continue;
                }
                m.deliver_spike(q.syn, q.t_ms).map_err(|e| e.to_string())?;
            }
            if with_edit {
                for &(syn, t) in &added {
                    m.deliver_spike(syn, t).map_err(|e| e.to_string())?;
                }
            }
            let mut trace = vec![[m.t_ms(), m.soma_v_mv()]];
            let mut spikes = Vec::new();
            let mut last = cp.last_soma_v_mv;
            let mut k = 0usize;
            // whole 1-ms chunks, as the worker advances
            let steps_per_ms = (1.0 / m.dt_ms()).round().max(1.0) as usize;
            while m.t_ms() < to_ms - 1e-9 {
                for j in 1..=steps_per_ms {
                    m.step(1).map_err(|e| e.to_string())?;
                    let v = m.soma_v_mv();
                    if last < spike_threshold_mv && v >= spike_threshold_mv {
                        spikes.push(m.t_ms());
                    }
                    last = v;
                    if j % sample_every_steps == 0 || j == steps_per_ms {
                        trace.push([m.t_ms(), v]);
                    }
                }
                k += 1;
                if k > 100_000 {
                    return Err("what-if span too long".into());
                }
            }
            Ok((trace, spikes, deleted))
        };
        let (original, original_spikes_ms, _) = run(false)?;
        let (edited, edited_spikes_ms, deleted_spikes) = run(true)?;
        Ok(EngineWhatIf { checkpoint_ms: cp.t_ms, to_ms, original, edited, original_spikes_ms, edited_spikes_ms, deleted_spikes, added_spikes: added.len() })
    }
}
