//! neurotwin's own evaluation of a twin, whatever its architecture: the sparse TCN (verified
//! against the ONNX graph at load) or the recurrent ELM (which has no ONNX form). Streaming,
//! batch evaluation and occlusion attribution go through this one type.

use super::elm::{ElmNetwork, ElmState};
use super::tcn::occlusion::{Occlusion, RowOcclusion};
use super::tcn::{sigmoid, NativeTcn, TcnState};
use ndarray::Array2;

/// Warm-up (ms) of an ELM re-run from a zero state before the span that matters (4 × the
/// published model's slowest memory time constant, 150 ms).
pub const ELM_WARMUP_MS: usize = 600;

/// A natively evaluated twin.
#[derive(Debug, Clone)]
pub enum NativeNet {
    Tcn(NativeTcn),
    /// A recurrent ELM; `window_ms` is the span whose inputs occlusion removes (the metadata's
    /// `window_ms`).
    Elm { net: ElmNetwork, window_ms: usize },
}

/// The carried state of a streamed evaluation.
#[derive(Debug, Clone)]
pub enum NativeState {
    Tcn(TcnState),
    Elm(ElmState),
}

impl NativeState {
    /// ms fed so far.
    pub fn t_ms(&self) -> usize {
        match self {
            NativeState::Tcn(s) => s.t_ms(),
            NativeState::Elm(s) => s.t_ms(),
        }
    }
}

impl NativeNet {
    pub fn n_rows(&self) -> usize {
        match self {
            NativeNet::Tcn(t) => t.n_rows(),
            NativeNet::Elm { net, .. } => net.n_rows(),
        }
    }

    /// The TCN's receptive field, or the ELM's occlusion window (ms).
    pub fn window_ms(&self) -> usize {
        match self {
            NativeNet::Tcn(t) => t.window_ms(),
            NativeNet::Elm { window_ms, .. } => *window_ms,
        }
    }

    /// How many ms before an output a re-run must start for that output to be right: the TCN's
    /// receptive field; for the ELM its occlusion window plus [`ELM_WARMUP_MS`] of warm-up from a
    /// zero memory (its slowest memory unit decays by e⁻⁴ over it).
    pub fn context_ms(&self) -> usize {
        match self {
            NativeNet::Tcn(t) => t.window_ms(),
            NativeNet::Elm { window_ms, .. } => window_ms + ELM_WARMUP_MS,
        }
    }

    /// True for a recurrent twin (its output depends on all earlier input, through its memory).
    pub fn is_recurrent(&self) -> bool {
        matches!(self, NativeNet::Elm { .. })
    }

    /// The TCN, for what only a TCN has (its first-layer filters).
    pub fn as_tcn(&self) -> Option<&NativeTcn> {
        match self {
            NativeNet::Tcn(t) => Some(t),
            NativeNet::Elm { .. } => None,
        }
    }

    pub fn as_elm(&self) -> Option<&ElmNetwork> {
        match self {
            NativeNet::Tcn(_) => None,
            NativeNet::Elm { net, .. } => Some(net),
        }
    }

    /// In words, for status lines.
    pub fn describe(&self) -> String {
        match self {
            NativeNet::Tcn(t) => format!("native sparse TCN ({} layers, {}-ms window)", t.depth(), t.window_ms()),
            NativeNet::Elm { net, .. } => {
                let c = net.config();
                format!("native recurrent ELM ({} branches, {} memory units, {} parameters)", c.num_branch, c.num_memory, c.parameter_count())
            }
        }
    }

    pub fn new_state(&self) -> NativeState {
        match self {
            NativeNet::Tcn(t) => NativeState::Tcn(t.new_state()),
            NativeNet::Elm { net, .. } => NativeState::Elm(net.new_state()),
        }
    }

    /// Feed the next ms (`active[i]`: rows with a spike in ms i); raw outputs `[2 × n]`.
    pub fn push(&self, state: &mut NativeState, active: &[Vec<u32>]) -> Result<Array2<f32>, String> {
        match (self, state) {
            (NativeNet::Tcn(t), NativeState::Tcn(s)) => t.push(s, active),
            (NativeNet::Elm { net, .. }, NativeState::Elm(s)) => net.push(s, active),
            _ => Err("the streaming state belongs to another model".into()),
        }
    }

    /// The whole sequence from t = 0; raw outputs `[2 × n]`.
    pub fn run(&self, active: &[Vec<u32>]) -> Result<Array2<f32>, String> {
        match self {
            NativeNet::Tcn(t) => t.run(active),
            NativeNet::Elm { net, .. } => net.run(active),
        }
    }

    /// The spike probability at `t_ms` for the raster `rows` (sorted spike ms per row).
    pub fn probability_at(&self, rows: &[Vec<u32>], t_ms: usize) -> Result<f32, String> {
        match self {
            NativeNet::Tcn(t) => t.probability_at(rows, t_ms),
            NativeNet::Elm { net, .. } => net.logit_at(rows, t_ms).map(sigmoid),
        }
    }

    /// Occlude, one at a time, every row with spikes in the window ending at `t_ms` (or only
    /// `only_rows`): the probability at `t_ms` without that row's spikes in the window.
    pub fn occlude_rows(&self, rows: &[Vec<u32>], t_ms: usize, only_rows: Option<&[usize]>) -> Result<Occlusion, String> {
        match self {
            NativeNet::Tcn(t) => t.occlude_rows(rows, t_ms, only_rows),
            NativeNet::Elm { net, window_ms } => {
                let (window_from_ms, logit, per_row) = net.occlude_rows(rows, t_ms, *window_ms, only_rows)?;
                Ok(Occlusion {
                    t_ms,
                    window_from_ms,
                    probability: sigmoid(logit),
                    logit,
                    rows: per_row
                        .into_iter()
                        .map(|(row, n_spikes, l)| RowOcclusion { row, n_spikes, probability_without: sigmoid(l), logit_without: l })
                        .collect(),
                })
            }
        }
    }
}
