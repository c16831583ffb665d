//! The twin's network evaluated natively from its ONNX weights, exploiting what a generic ONNX
//! runtime cannot: the input is a ~1 % dense spike raster. The first causal convolution is done
//! per input spike (each spike of row r at ms s adds the k·c block `W[:, r, :]` to the outputs at
//! s … s + k − 1) instead of as a dense `rows × k × c` product per ms, which is > 90 % of a dense
//! evaluation's work. The hidden layers are dense GEMMs over new ms with k − 1 ms of carried
//! history. The same weights and arithmetic as the ONNX graph (up to float summation order):
//! [`super::SurrogateModel`] only uses this path after it has reproduced the model's parity
//! vector within 1e-4.
//!
//! Used for live streaming (cost per ms ∝ active inputs + hidden layers) and for the occlusion
//! attribution of the `attribution` module (`occlusion`).

pub mod graph;
pub mod occlusion;

use ndarray::{s, Array2, ArrayView2, Axis};
use std::path::Path;

pub use graph::GraphError;

/// Per-channel `a·x + b` (a BatchNormalization in inference mode).
#[derive(Debug, Clone)]
pub(crate) struct Affine {
    pub a: Vec<f32>,
    pub b: Vec<f32>,
}

/// A hidden causal convolution layer: Conv(k) → ReLU → BatchNorm.
#[derive(Debug, Clone)]
pub(crate) struct HiddenLayer {
    pub k: usize,
    pub c_in: usize,
    /// `[(k·c_in) × c_out]`: row `j·c_in + i` holds the weights of input channel i at
    /// t − (k − 1) + j, so that k consecutive input rows, laid end to end, times this matrix is
    /// the convolution (one GEMM per chunk instead of k small ones).
    pub weights: Array2<f32>,
    pub bias: Vec<f32>,
    pub act: Affine,
}

impl HiddenLayer {
    fn c_in(&self) -> usize {
        self.c_in
    }

    fn c_out(&self) -> usize {
        self.bias.len()
    }

    /// Valid causal convolution of `p` `[m × c_in]` (m ≥ k − 1): the `m − k + 1` outputs
    /// `[(m − k + 1) × c_out]` after ReLU and the affine norm.
    fn forward_valid(&self, p: ArrayView2<'_, f32>) -> Array2<f32> {
        let n = p.nrows() + 1 - self.k;
        let (k, c) = (self.k, self.c_in);
        // the k input rows of each output, end to end (`p` is copied to standard layout once)
        let p = p.as_standard_layout();
        let mut u = Array2::<f32>::zeros((n, k * c));
        if let Some(flat) = p.as_slice() {
            for (t, mut row) in u.rows_mut().into_iter().enumerate() {
                if let Some(dst) = row.as_slice_mut() {
                    dst.copy_from_slice(&flat[t * c..(t + k) * c]);
                }
            }
        }
        // bias first, then one GEMM
        let mut out = Array2::from_shape_fn((n, self.c_out()), |(_, o)| self.bias[o]);
        ndarray::linalg::general_mat_mul(1.0, &u, &self.weights, 1.0, &mut out);
        activate(&mut out, &self.act);
        out
    }
}

/// ReLU then the affine norm, in place on `[n × c]`.
fn activate(x: &mut Array2<f32>, act: &Affine) {
    for mut row in x.rows_mut() {
        for ((v, a), b) in row.iter_mut().zip(&act.a).zip(&act.b) {
            *v = a * v.max(0.0) + b;
        }
    }
}

pub(crate) fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// A factorised first layer: each input row projects onto `rank` channels, then a causal Conv
/// (with the first block's ReLU and norm) runs over them.
#[derive(Debug, Clone)]
pub(crate) struct LowRankFirst {
    pub rank: usize,
    /// `[row][rank]`.
    pub spatial: Vec<f32>,
    pub temporal: HiddenLayer,
}

/// A TCN (causal Conv → ReLU → BatchNorm blocks, 1×1 spike and soma heads) ready to run.
#[derive(Debug, Clone)]
pub struct NativeTcn {
    pub(crate) n_rows: usize,
    /// First-layer kernel (ms) and width.
    pub(crate) k0: usize,
    pub(crate) c0: usize,
    /// `[row][j][c]`: tap j of row r applies to the input at t − (k0 − 1) + j (the equivalent
    /// dense kernel when the first layer is factorised).
    pub(crate) first_w: Vec<f32>,
    /// The factorised first layer, which streaming uses instead of `first_w` (far less memory
    /// traffic per input spike).
    pub(crate) low_rank: Option<LowRankFirst>,
    pub(crate) first_bias: Vec<f32>,
    pub(crate) first_act: Affine,
    pub(crate) hidden: Vec<HiddenLayer>,
    pub(crate) spike_w: Vec<f32>,
    pub(crate) spike_b: f32,
    pub(crate) soma_w: Vec<f32>,
    pub(crate) soma_b: f32,
    /// The graph applies a sigmoid to the spike head (its output 0 is a probability).
    pub(crate) spike_is_probability: bool,
}

/// The carried state of a streamed evaluation.
#[derive(Debug, Clone)]
pub struct TcnState {
    t_ms: usize,
    /// First-layer pre-activations of the next k0 ms, `[k0 × c0]`, slot `t mod k0`.
    pending: Vec<f32>,
    /// Per hidden layer, its last k − 1 input rows (zeros before t = 0: the graph's padding).
    history: Vec<Array2<f32>>,
    /// A factorised first layer's last k0 − 1 projected input rows.
    projected: Array2<f32>,
}

impl TcnState {
    /// ms fed so far.
    pub fn t_ms(&self) -> usize {
        self.t_ms
    }
}

/// Rows with a spike in each ms of a span: `active[i]` lists the rows of ms `from + i`.
pub type ActiveRows = Vec<Vec<u32>>;

/// The active rows of `[from_ms, to_ms)` of a raster whose rows are sorted spike times (ms).
pub fn active_rows(rows: &[Vec<u32>], from_ms: usize, to_ms: usize) -> ActiveRows {
    let mut out = vec![Vec::new(); to_ms.saturating_sub(from_ms)];
    for (r, row) in rows.iter().enumerate() {
        let lo = row.partition_point(|&t| (t as usize) < from_ms);
        for &t in row[lo..].iter().take_while(|&&t| (t as usize) < to_ms) {
            let col = &mut out[t as usize - from_ms];
            // a row spiking twice in one ms is one 1.0 in the dense raster
            if col.last() != Some(&(r as u32)) {
                col.push(r as u32);
            }
        }
    }
    out
}

/// The active rows of dense `[rows × ms]` columns (any value ≠ 0 counts as a spike; the
/// network's inputs are 0/1).
pub fn active_rows_of_dense(x: ArrayView2<'_, f32>) -> ActiveRows {
    // row by row (the array is row-major: contiguous reads), rows ascending within each ms
    let mut out = vec![Vec::new(); x.ncols()];
    for (r, row) in x.axis_iter(Axis(0)).enumerate() {
        for (t, &v) in row.iter().enumerate() {
            if v != 0.0 {
                out[t].push(r as u32);
            }
        }
    }
    out
}

impl NativeTcn {
    /// Read an exported TCN's weights from its ONNX file.
    pub fn load(onnx_path: &Path) -> Result<NativeTcn, GraphError> {
        graph::load(onnx_path)
    }

    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Receptive field T = Σ(k − 1) + 1 (ms).
    pub fn window_ms(&self) -> usize {
        self.k0 + self.hidden.iter().map(|l| l.k - 1).sum::<usize>()
    }

    /// Hidden layers (including the first).
    pub fn depth(&self) -> usize {
        1 + self.hidden.len()
    }

    /// First-layer width (channels).
    pub fn first_layer_channels(&self) -> usize {
        self.c0
    }

    /// First-layer kernel length (ms).
    pub fn first_layer_kernel_ms(&self) -> usize {
        self.k0
    }

    /// The first-layer weight of `channel` for input `row` at lag `lag_ms` (0: the input of the
    /// same ms; k0 − 1: the oldest input the layer sees). `None` out of range.
    pub fn first_layer_weight(&self, channel: usize, row: usize, lag_ms: usize) -> Option<f32> {
        (channel < self.c0 && row < self.n_rows && lag_ms < self.k0).then(|| self.first_w[(row * self.k0 + (self.k0 - 1 - lag_ms)) * self.c0 + channel])
    }

    /// True when output channel 0 of the ONNX graph is a probability (a Sigmoid in the graph).
    pub fn spike_output_is_probability(&self) -> bool {
        self.spike_is_probability
    }

    /// A fresh state at t = 0.
    pub fn new_state(&self) -> TcnState {
        TcnState {
            t_ms: 0,
            pending: vec![0.0; self.k0 * self.c0],
            history: self.hidden.iter().map(|l| Array2::zeros((l.k - 1, l.c_in()))).collect(),
            projected: Array2::zeros((self.k0 - 1, self.low_rank.as_ref().map_or(0, |l| l.rank))),
        }
    }

    fn check_rows(&self, active: &[Vec<u32>]) -> Result<(), String> {
        match active.iter().flatten().find(|&&r| r as usize >= self.n_rows) {
            Some(r) => Err(format!("input row {r} out of range (the model has {} rows)", self.n_rows)),
            None => Ok(()),
        }
    }

    /// Add the first-layer contribution of one spike of `row` at ms `s` to the pre-activations
    /// `z` `[n × c0]` of ms `z_from … z_from + n − 1`, scaled by `sign`.
    pub(crate) fn add_spike(&self, z: &mut [f32], z_from: usize, n: usize, row: usize, s: usize, sign: f32) {
        let (k, c) = (self.k0, self.c0);
        let w = &self.first_w[row * k * c..(row + 1) * k * c];
        // the output at t = s + d uses tap j = k − 1 − d
        let d_lo = z_from.saturating_sub(s);
        let d_hi = (z_from + n).saturating_sub(s).min(k);
        for d in d_lo..d_hi {
            let t = s + d - z_from;
            let (dst, src) = (&mut z[t * c..(t + 1) * c], &w[(k - 1 - d) * c..(k - d) * c]);
            for (o, wv) in dst.iter_mut().zip(src) {
                *o += sign * wv;
            }
        }
    }

    /// Feed the next ms (`active[i]`: rows spiking in ms `state.t_ms() + i`); returns the raw
    /// outputs `[2 × n]` with the ONNX graph's meaning (channel 0 probability or logit as the
    /// graph has it, channel 1 soma in target units).
    pub fn push(&self, state: &mut TcnState, active: &[Vec<u32>]) -> Result<Array2<f32>, String> {
        self.check_rows(active)?;
        let n = active.len();
        let mut h = match &self.low_rank {
            Some(lr) => self.push_low_rank(lr, state, active)?,
            None => self.push_dense(state, active),
        };
        for (layer, hist) in self.hidden.iter().zip(state.history.iter_mut()) {
            let p = ndarray::concatenate(Axis(0), &[hist.view(), h.view()]).map_err(|e| e.to_string())?;
            let keep = layer.k - 1;
            *hist = p.slice(s![p.nrows() - keep.., ..]).to_owned();
            h = layer.forward_valid(p.view());
        }
        state.t_ms += n;
        Ok(self.heads(h.view()))
    }

    /// The dense first layer over the next ms, spike by spike into the pending sums. Returns the
    /// first block's output `[n × c0]` (after ReLU and norm).
    fn push_dense(&self, state: &mut TcnState, active: &[Vec<u32>]) -> Array2<f32> {
        let (k, c) = (self.k0, self.c0);
        let mut h = Array2::<f32>::zeros((active.len(), c));
        for (i, rows) in active.iter().enumerate() {
            let t = state.t_ms + i;
            for &r in rows {
                let w = &self.first_w[r as usize * k * c..(r as usize + 1) * k * c];
                for d in 0..k {
                    let slot = (t + d) % k;
                    for (o, wv) in state.pending[slot * c..(slot + 1) * c].iter_mut().zip(&w[(k - 1 - d) * c..(k - d) * c]) {
                        *o += wv;
                    }
                }
            }
            let slot = t % k;
            let z = &mut state.pending[slot * c..(slot + 1) * c];
            if let Some(dst) = h.row_mut(i).into_slice() {
                for ((o, zv), b) in dst.iter_mut().zip(z.iter()).zip(&self.first_bias) {
                    *o = zv + b;
                }
            }
            z.fill(0.0);
        }
        activate(&mut h, &self.first_act);
        h
    }

    /// The factorised first layer over the next ms: project each ms's active rows, then the causal
    /// Conv over the projections with k0 − 1 ms of carried history. Returns the first block's
    /// output `[n × c0]` (after ReLU and norm).
    fn push_low_rank(&self, lr: &LowRankFirst, state: &mut TcnState, active: &[Vec<u32>]) -> Result<Array2<f32>, String> {
        let m = lr.rank;
        let mut proj = Array2::<f32>::zeros((active.len(), m));
        for (mut row, rows) in proj.rows_mut().into_iter().zip(active) {
            if let Some(dst) = row.as_slice_mut() {
                for &r in rows {
                    for (o, w) in dst.iter_mut().zip(&lr.spatial[r as usize * m..(r as usize + 1) * m]) {
                        *o += w;
                    }
                }
            }
        }
        let p = ndarray::concatenate(Axis(0), &[state.projected.view(), proj.view()]).map_err(|e| e.to_string())?;
        state.projected = p.slice(s![p.nrows() - (self.k0 - 1).., ..]).to_owned();
        Ok(lr.temporal.forward_valid(p.view()))
    }

    /// Evaluate a whole sequence from t = 0.
    pub fn run(&self, active: &[Vec<u32>]) -> Result<Array2<f32>, String> {
        let mut state = self.new_state();
        self.push(&mut state, active)
    }

    /// Spike logit of each row of the last hidden layer's output `[n × width]`.
    pub(crate) fn spike_logits(&self, h: ArrayView2<'_, f32>) -> Vec<f32> {
        h.rows().into_iter().map(|r| r.iter().zip(&self.spike_w).map(|(a, b)| a * b).sum::<f32>() + self.spike_b).collect()
    }

    fn heads(&self, h: ArrayView2<'_, f32>) -> Array2<f32> {
        let n = h.nrows();
        let mut out = Array2::<f32>::zeros((2, n));
        for (i, z) in self.spike_logits(h).into_iter().enumerate() {
            out[[0, i]] = if self.spike_is_probability { sigmoid(z) } else { z };
        }
        for (i, r) in h.rows().into_iter().enumerate() {
            out[[1, i]] = r.iter().zip(&self.soma_w).map(|(a, b)| a * b).sum::<f32>() + self.soma_b;
        }
        out
    }

    /// The hidden layers after the first, over first-layer pre-activations `z` `[n × c0]`
    /// (bias included) of ms `from … from + n − 1`: when `from` is 0 the layers pad with zeros
    /// like the graph and all n outputs are returned, otherwise the valid outputs (the last
    /// n − Σ(k − 1)). Returns the last hidden layer `[· × width]`.
    pub(crate) fn upper(&self, mut h: Array2<f32>, from_zero: bool) -> Array2<f32> {
        activate(&mut h, &self.first_act);
        for layer in &self.hidden {
            if from_zero {
                let pad = Array2::<f32>::zeros((layer.k - 1, layer.c_in()));
                let p = ndarray::concatenate(Axis(0), &[pad.view(), h.view()]);
                match p {
                    Ok(p) => h = layer.forward_valid(p.view()),
                    Err(_) => return Array2::zeros((0, layer.c_out())),
                }
            } else {
                h = layer.forward_valid(h.view());
            }
        }
        h
    }

    pub(crate) fn upper_span_ms(&self) -> usize {
        self.hidden.iter().map(|l| l.k - 1).sum()
    }
}

#[cfg(test)]
mod tests;
