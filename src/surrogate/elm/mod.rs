//! The Expressive Leaky Memory (ELM) neuron of Spieler et al. (ICLR 2024) as a native recurrent
//! twin: the published Branch-ELM trained on the paper's NEURON data, and our own ELMs exported by
//! `training/` in the same format (a `torch.save` state dict plus the authors' `model_config.json`
//! keys). The equations follow the authors' paper and code; this implementation is our own.
//!
//! Input rows spike as +1 (excitatory half) or −1 (inhibitory half), the authors' NeuronIO
//! convention ([`InputConvention`]). Per 1-ms step t, from a zero state:
//! - synapse traces `s_t = κ_s · s_{t−1} + w_s · x_t[route]` (`w_s = relu(_proto_w_s)`,
//!   `κ_s = exp(−Δt/τ_s)`), summed per branch into the branch inputs;
//! - `δ = 1.7159 · tanh(⅔ · MLP([branches, κ_m · m_{t−1}]))` (linear layers with SiLU or ReLU);
//! - memory `m_t = κ_m · m_{t−1} + λ (1 − κ_m) · δ`, `τ_m = τ_min + (τ_max − τ_min)·σ(_proto_tau_m)`;
//! - outputs `y_t = W_y m_t + b_y`: spike logit and the soma target.
//!
//! The "neuronio" routing interlaces the excitatory and inhibitory rows of each segment
//! (`(i mod 2)·n/2 + ⌊i/2⌋`) and gives each branch a window of consecutive interlaced inputs
//! (stride ⌈n/branches⌉, `num_synapse_per_branch` wide, past-the-end synapses masked off).
//!
//! Because the traces are linear and every synapse of a branch shares one τ_s in the published
//! model, each step keeps one trace per branch and adds the weights of the rows that spiked
//! (inputs are ~1 % dense); a model whose τ_s differ within a branch keeps per-synapse traces.

pub mod torch_file;

use ndarray::Array2;
use rayon::prelude::*;
use std::path::Path;

/// `custom_tanh` of the authors: 1.7159 · tanh(⅔ x).
const TANH_GAIN: f32 = 1.7159;
const TANH_SLOPE: f32 = 2.0 / 3.0;

/// Why an ELM could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ElmError(pub String);

fn bad<T>(msg: impl Into<String>) -> Result<T, ElmError> {
    Err(ElmError(msg.into()))
}

/// The MLP's activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Relu,
    Silu,
}

/// How input rows reach synapses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routing {
    /// Synapse k reads input k (`num_synapse == num_input`).
    Identity,
    /// The paper-order routing: interlaced exc/inh rows, overlapping windows per branch.
    NeuronIo,
    /// Indices stored in the state dict (`random_routing`).
    Stored,
}

/// The values the input rows take when they spike. The ELM authors feed the NeuronIO rows
/// multiplied by the synapse type: +1 for the excitatory half, −1 for the inhibitory half (their
/// `create_neuronio_input_type`); since the synapse weights are rectified (≥ 0), this sign is how
/// inhibition pulls the branch inputs down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputConvention {
    /// Every row is 1 when it spikes.
    Binary,
    /// Rows `0..n/2` are +1, rows `n/2..n` are −1 when they spike.
    NeuronIoSigned,
}

impl InputConvention {
    /// From the metadata's `network.input_convention` ("neuronio_signed", the default, or "binary").
    pub fn parse(s: Option<&str>) -> Result<InputConvention, ElmError> {
        match s {
            None | Some("neuronio_signed") => Ok(InputConvention::NeuronIoSigned),
            Some("binary") => Ok(InputConvention::Binary),
            Some(other) => bad(format!("network.input_convention is {other:?}; expected \"neuronio_signed\" or \"binary\"")),
        }
    }

    fn sign(self, row: usize, n_rows: usize) -> f32 {
        match self {
            InputConvention::NeuronIoSigned if row >= n_rows / 2 => -1.0,
            _ => 1.0,
        }
    }
}

/// The architecture, from `model_config.json` (the authors' keys) plus the constructor defaults
/// that file leaves out.
#[derive(Debug, Clone, PartialEq)]
pub struct ElmConfig {
    pub num_input: usize,
    pub num_output: usize,
    pub num_memory: usize,
    pub num_branch: usize,
    pub num_synapse_per_branch: usize,
    pub mlp_num_layers: usize,
    pub mlp_hidden_size: usize,
    pub activation: Activation,
    pub memory_tau_min_ms: f64,
    pub memory_tau_max_ms: f64,
    pub lambda_value: f64,
    pub delta_t_ms: f64,
    pub routing: Routing,
}

impl ElmConfig {
    /// Parse the JSON text of a `model_config.json`.
    pub fn parse(text: &str) -> Result<ElmConfig, ElmError> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| ElmError(format!("not JSON: {e}")))?;
        let obj = v.as_object().ok_or_else(|| ElmError("not a JSON object".into()))?;
        let uint = |k: &str, default: Option<usize>| -> Result<usize, ElmError> {
            match obj.get(k) {
                None | Some(serde_json::Value::Null) => default.ok_or_else(|| ElmError(format!("field {k} is missing"))),
                Some(x) => x.as_u64().filter(|&n| n >= 1 && n <= 1 << 20).map(|n| n as usize).ok_or_else(|| ElmError(format!("field {k} is {x}; expected a positive integer"))),
            }
        };
        let num = |k: &str, default: Option<f64>| -> Result<f64, ElmError> {
            match obj.get(k) {
                None | Some(serde_json::Value::Null) => default.ok_or_else(|| ElmError(format!("field {k} is missing"))),
                Some(x) => x.as_f64().filter(|f| f.is_finite()).ok_or_else(|| ElmError(format!("field {k} is {x}; expected a finite number"))),
            }
        };
        let num_input = uint("num_input", None)?;
        let num_memory = uint("num_memory", None)?;
        let num_branch = uint("num_branch", Some(num_input))?;
        let activation = match obj.get("mlp_activation").and_then(|a| a.as_str()).unwrap_or("relu") {
            "relu" => Activation::Relu,
            "silu" => Activation::Silu,
            other => return bad(format!("field mlp_activation is {other:?}; expected \"relu\" or \"silu\"")),
        };
        let routing = match obj.get("input_to_synapse_routing") {
            None | Some(serde_json::Value::Null) => Routing::Identity,
            Some(serde_json::Value::String(s)) if s == "neuronio_routing" => Routing::NeuronIo,
            Some(serde_json::Value::String(s)) if s == "random_routing" => Routing::Stored,
            Some(x) => return bad(format!("field input_to_synapse_routing is {x}; expected null, \"neuronio_routing\" or \"random_routing\"")),
        };
        let c = ElmConfig {
            num_input,
            num_output: uint("num_output", None)?,
            num_memory,
            num_branch,
            num_synapse_per_branch: uint("num_synapse_per_branch", Some(1))?,
            mlp_num_layers: uint("mlp_num_layers", Some(1))?,
            mlp_hidden_size: uint("mlp_hidden_size", Some(2 * num_memory))?,
            activation,
            memory_tau_min_ms: num("memory_tau_min", Some(1.0))?,
            memory_tau_max_ms: num("memory_tau_max", Some(1000.0))?,
            lambda_value: num("lambda_value", Some(5.0))?,
            delta_t_ms: num("delta_t", Some(1.0))?,
            routing,
        };
        if c.num_output != 2 {
            return bad(format!("field num_output is {}; a neurotwin twin has 2 outputs (spike logit, soma)", c.num_output));
        }
        if !(c.memory_tau_min_ms > 0.0 && c.memory_tau_max_ms > c.memory_tau_min_ms) {
            return bad(format!("memory_tau_min {} and memory_tau_max {} must satisfy 0 < min < max", c.memory_tau_min_ms, c.memory_tau_max_ms));
        }
        if !(c.delta_t_ms > 0.0) {
            return bad(format!("field delta_t is {}; it must be positive", c.delta_t_ms));
        }
        if c.routing == Routing::Identity && c.num_synapses() != c.num_input {
            return bad(format!("without routing the {} synapses ({} branches × {}) must equal the {} inputs", c.num_synapses(), c.num_branch, c.num_synapse_per_branch, c.num_input));
        }
        if c.routing == Routing::NeuronIo && c.num_input.div_ceil(c.num_branch) > c.num_synapse_per_branch {
            return bad(format!("neuronio routing needs ⌈{}/{}⌉ ≤ num_synapse_per_branch ({})", c.num_input, c.num_branch, c.num_synapse_per_branch));
        }
        if c.num_synapses() > 1 << 22 || c.mlp_hidden_size * (c.num_branch + c.num_memory) > 1 << 26 {
            return bad("the configuration is larger than any ELM neurotwin runs");
        }
        Ok(c)
    }

    pub fn num_synapses(&self) -> usize {
        self.num_branch * self.num_synapse_per_branch
    }

    /// Trainable parameters (the authors' count: MLP, synapse weights, output layer).
    pub fn parameter_count(&self) -> usize {
        let mut n = 0;
        let mut fan_in = self.num_branch + self.num_memory;
        for _ in 0..self.mlp_num_layers {
            n += fan_in * self.mlp_hidden_size + self.mlp_hidden_size;
            fan_in = self.mlp_hidden_size;
        }
        n + fan_in * self.num_memory + self.num_memory + self.num_synapses() + self.num_memory * self.num_output + self.num_output
    }
}

/// The paper-order routing: for synapse k = b·P + j, the input row and whether it is real.
pub fn neuronio_routing(num_input: usize, num_branch: usize, per_branch: usize) -> Vec<(usize, bool)> {
    let half = num_input / 2;
    let interlock = |i: usize| (i % 2) * half + i / 2;
    let stride = num_input.div_ceil(num_branch);
    (0..num_branch)
        .flat_map(|b| (0..per_branch).map(move |j| b * stride + j))
        .map(|p| (interlock(p.min(num_input - 1)), p < num_input))
        .collect()
}

/// One linear layer, stored transposed: `wt` is `[in × out]` row-major, so each input adds its
/// column to all outputs at once (a contiguous multiply-add over the outputs, which vectorises
/// cleanly; a dot product per output needs a horizontal sum per output instead).
#[derive(Debug, Clone)]
struct Linear {
    n_out: usize,
    wt: Vec<f32>,
    b: Vec<f32>,
}

impl Linear {
    /// From PyTorch's `[out × in]` weight.
    fn new(n_in: usize, w: &[f32], b: Vec<f32>) -> Linear {
        let n_out = b.len();
        let mut wt = vec![0.0; n_in * n_out];
        for o in 0..n_out {
            for i in 0..n_in {
                wt[i * n_out + o] = w[o * n_in + i];
            }
        }
        Linear { n_out, wt, b }
    }
}

/// Multiply-add: plain (`a·b + c`, two roundings) or fused (one rounding; the FMA instruction
/// where the CPU has it, see [`ElmNetwork::step`]).
trait MulAdd {
    fn madd(a: f32, b: f32, c: f32) -> f32;
}

struct Plain;
impl MulAdd for Plain {
    #[inline(always)]
    fn madd(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

struct Fused;
impl MulAdd for Fused {
    #[inline(always)]
    fn madd(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

impl Linear {
    #[inline(always)]
    fn apply<A: MulAdd>(&self, x: &[f32], out: &mut [f32]) {
        out.copy_from_slice(&self.b);
        for (&xi, col) in x.iter().zip(self.wt.chunks_exact(self.n_out)) {
            for (o, &w) in out.iter_mut().zip(col) {
                *o = A::madd(w, xi, *o);
            }
        }
    }
}

/// e^x in f32 without a library call (so loops of it vectorise): x = n·ln 2 + r with |r| ≤ ln 2 / 2,
/// e^r by its degree-6 Taylor polynomial (relative error < 3e-7 on that range), times 2^n built
/// in the exponent bits. Inputs are clamped to [−87, 88] (no infinities, no denormals).
#[inline(always)]
fn exp_f32<A: MulAdd>(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E).round();
    // ln 2 in two parts, so r keeps its precision
    let r = A::madd(n, -0.693_145_75, x);
    let r = A::madd(n, -1.428_606_8e-6, r);
    let mut p = 1.0 / 720.0;
    p = A::madd(p, r, 1.0 / 120.0);
    p = A::madd(p, r, 1.0 / 24.0);
    p = A::madd(p, r, 1.0 / 6.0);
    p = A::madd(p, r, 0.5);
    p = A::madd(p, r, 1.0);
    p = A::madd(p, r, 1.0);
    let scale = f32::from_bits((((n as i32) + 127) as u32) << 23);
    p * scale
}

/// tanh through e^(2x): 1 − 2 / (e^(2x) + 1) (absolute error ~1e-7).
#[inline(always)]
fn tanh_f32<A: MulAdd>(x: f32) -> f32 {
    1.0 - 2.0 / (exp_f32::<A>(2.0 * x) + 1.0)
}

#[inline(always)]
fn activate<A: MulAdd>(act: Activation, v: &mut [f32]) {
    match act {
        Activation::Relu => v.iter_mut().for_each(|x| *x = x.max(0.0)),
        Activation::Silu => v.iter_mut().for_each(|x| *x /= 1.0 + exp_f32::<A>(-*x)),
    }
}

/// Synapse traces: one per branch when all of a branch's synapses share τ_s (`per_branch`), else
/// one per synapse (synapse k belongs to branch k / P). `fanout[row]`: (trace, signed w_s) of
/// every real synapse reading the row; `kappa[trace]`: its decay per step.
#[derive(Debug, Clone)]
struct Traces {
    per_branch: bool,
    fanout: Vec<Vec<(u32, f32)>>,
    kappa: Vec<f32>,
}

/// A loaded ELM, ready to run.
#[derive(Debug, Clone)]
pub struct ElmNetwork {
    config: ElmConfig,
    convention: InputConvention,
    /// Run the AVX2+FMA code (the CPU has both).
    fma: bool,
    traces: Traces,
    /// κ_m per memory unit.
    kappa_m: Vec<f32>,
    /// λ (1 − κ_m) per memory unit.
    gain_m: Vec<f32>,
    /// τ_m (ms) per memory unit, for display.
    tau_m_ms: Vec<f32>,
    mlp: Vec<Linear>,
    out: Linear,
}

/// The carried state of a streamed run.
#[derive(Debug, Clone)]
pub struct ElmState {
    t_ms: usize,
    /// Branch inputs (per-branch traces), or per-synapse traces.
    traces: Vec<f32>,
    memory: Vec<f32>,
    /// Scratch: MLP input, hidden activations (two buffers), MLP output.
    z: Vec<f32>,
    h: [Vec<f32>; 2],
    d: Vec<f32>,
}

impl ElmState {
    /// ms fed so far.
    pub fn t_ms(&self) -> usize {
        self.t_ms
    }

    /// The memory units' present values.
    pub fn memory(&self) -> &[f32] {
        &self.memory
    }
}

/// Tensor names of the state dict and the shape each must have.
fn expected_tensors(c: &ElmConfig) -> Vec<(String, Vec<usize>)> {
    let ns = c.num_synapses();
    let mut v = vec![
        ("_proto_w_s".to_string(), vec![ns]),
        ("tau_s".to_string(), vec![ns]),
        ("_proto_tau_m".to_string(), vec![c.num_memory]),
    ];
    let mut fan_in = c.num_branch + c.num_memory;
    for l in 0..c.mlp_num_layers {
        v.push((format!("mlp.network.{}.weight", 2 * l), vec![c.mlp_hidden_size, fan_in]));
        v.push((format!("mlp.network.{}.bias", 2 * l), vec![c.mlp_hidden_size]));
        fan_in = c.mlp_hidden_size;
    }
    v.push((format!("mlp.network.{}.weight", 2 * c.mlp_num_layers), vec![c.num_memory, fan_in]));
    v.push((format!("mlp.network.{}.bias", 2 * c.mlp_num_layers), vec![c.num_memory]));
    v.push(("w_y.weight".to_string(), vec![c.num_output, c.num_memory]));
    v.push(("w_y.bias".to_string(), vec![c.num_output]));
    v
}

impl ElmNetwork {
    /// Load `state_path` (a `torch.save` state dict) with its `model_config.json`.
    pub fn load(state_path: &Path, config_path: &Path, convention: InputConvention) -> Result<ElmNetwork, ElmError> {
        let text = crate::input::read_text_limited(config_path, 1 << 20, crate::limits::ENV_MAX_JSON_MB)
            .map_err(|e| ElmError(format!("{}: {e}", config_path.display())))?;
        let config = ElmConfig::parse(&text).map_err(|e| ElmError(format!("{}: {e}", config_path.display())))?;
        let bytes = crate::input::read_bytes_limited(state_path, torch_file::MAX_FILE_BYTES, None).map_err(|e| ElmError(format!("{}: {e}", state_path.display())))?;
        let sd = torch_file::read_state_dict(&bytes).map_err(|e| ElmError(format!("{}: {e}", state_path.display())))?;
        ElmNetwork::from_state_dict(config, sd, convention).map_err(|e| ElmError(format!("{}: {e}", state_path.display())))
    }

    /// Build from a parsed config and state dict, checking every name and shape.
    pub fn from_state_dict(config: ElmConfig, sd: Vec<(String, torch_file::Tensor)>, convention: InputConvention) -> Result<ElmNetwork, ElmError> {
        let expected = expected_tensors(&config);
        let optional = ["input_to_synapse_indices", "valid_indices_mask"];
        for (name, _) in &sd {
            if !expected.iter().any(|(n, _)| n == name) && !optional.contains(&name.as_str()) {
                return bad(format!("unexpected tensor {name:?} for this model_config (mlp_num_layers {}; expected {})", config.mlp_num_layers, expected.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")));
            }
        }
        let get = |name: &str| sd.iter().find(|(n, _)| n == name).map(|(_, t)| t);
        let mut tensors = std::collections::HashMap::new();
        for (name, shape) in &expected {
            let t = get(name).ok_or_else(|| ElmError(format!("tensor {name:?} is missing")))?;
            if &t.shape != shape {
                return bad(format!("tensor {name:?} has shape {:?}; the model_config needs {shape:?}", t.shape));
            }
            if let Some(i) = t.values.iter().position(|v| !v.is_finite()) {
                return bad(format!("tensor {name:?} holds a non-finite value at flat index {i}"));
            }
            tensors.insert(name.clone(), t.to_f32());
        }
        let ns = config.num_synapses();
        // routing: computed from the config, checked against the stored indices when present
        let routing: Vec<(usize, bool)> = match config.routing {
            Routing::Identity => (0..ns).map(|k| (k, true)).collect(),
            Routing::NeuronIo => neuronio_routing(config.num_input, config.num_branch, config.num_synapse_per_branch),
            Routing::Stored => {
                let idx = get("input_to_synapse_indices").ok_or_else(|| ElmError("random routing needs the tensor \"input_to_synapse_indices\"".into()))?;
                if idx.shape != [ns] {
                    return bad(format!("input_to_synapse_indices has shape {:?}, expected [{ns}]", idx.shape));
                }
                let mask = get("valid_indices_mask").map(|m| m.values.clone()).unwrap_or_else(|| vec![1.0; ns]);
                idx.values.iter().zip(mask).map(|(&i, m)| (i as usize, m != 0.0)).collect()
            }
        };
        if let Some(idx) = get("input_to_synapse_indices") {
            if idx.shape != [ns] {
                return bad(format!("input_to_synapse_indices has shape {:?}, expected [{ns}]", idx.shape));
            }
            if let Some(k) = idx.values.iter().zip(&routing).position(|(&i, &(r, _))| i != r as f64) {
                return bad(format!("input_to_synapse_indices[{k}] is {}, but the {:?} routing gives {}: the file was made for another input order", idx.values[k], config.routing, routing[k].0));
            }
        }
        if let Some(mask) = get("valid_indices_mask") {
            if mask.shape != [ns] {
                return bad(format!("valid_indices_mask has shape {:?}, expected [{ns}]", mask.shape));
            }
            if let Some(k) = mask.values.iter().zip(&routing).position(|(&m, &(_, v))| (m != 0.0) != v) {
                return bad(format!("valid_indices_mask[{k}] disagrees with the {:?} routing", config.routing));
            }
        }
        if let Some(&(r, _)) = routing.iter().find(|(r, _)| *r >= config.num_input) {
            return bad(format!("a synapse reads input {r}, but there are {} inputs", config.num_input));
        }
        let w_s: Vec<f32> = tensors["_proto_w_s"].iter().map(|&w| w.max(0.0)).collect();
        let dt = config.delta_t_ms as f32;
        let kappa_s: Vec<f32> = tensors["tau_s"].iter().map(|&tau| (-dt / tau.max(1e-6)).exp()).collect();
        let (lo, hi) = (config.memory_tau_min_ms as f32, config.memory_tau_max_ms as f32);
        let tau_m_ms: Vec<f32> = tensors["_proto_tau_m"].iter().map(|&p| (hi - lo) * (1.0 / (1.0 + (-p).exp())) + lo).collect();
        let kappa_m: Vec<f32> = tau_m_ms.iter().map(|&tau| (-dt / tau.max(1e-6)).exp()).collect();
        let gain_m: Vec<f32> = kappa_m.iter().map(|&k| config.lambda_value as f32 * (1.0 - k)).collect();
        let p = config.num_synapse_per_branch;
        let shared_tau = kappa_s.chunks_exact(p).all(|c| c.iter().all(|&k| k == c[0]));
        let mut fanout: Vec<Vec<(u32, f32)>> = vec![Vec::new(); config.num_input];
        for (k, &(row, valid)) in routing.iter().enumerate() {
            if valid && w_s[k] != 0.0 {
                let target = if shared_tau { k / p } else { k };
                fanout[row].push((target as u32, w_s[k] * convention.sign(row, config.num_input)));
            }
        }
        let kappa = if shared_tau { kappa_s.chunks_exact(p).map(|c| c[0]).collect() } else { kappa_s };
        let traces = Traces { per_branch: shared_tau, fanout, kappa };
        let lin = |l: usize, n_in: usize| Linear::new(n_in, &tensors[&format!("mlp.network.{}.weight", 2 * l)], tensors[&format!("mlp.network.{}.bias", 2 * l)].clone());
        let mut mlp = Vec::new();
        let mut fan_in = config.num_branch + config.num_memory;
        for l in 0..config.mlp_num_layers {
            mlp.push(lin(l, fan_in));
            fan_in = config.mlp_hidden_size;
        }
        mlp.push(lin(config.mlp_num_layers, fan_in));
        let out = Linear::new(config.num_memory, &tensors["w_y.weight"], tensors["w_y.bias"].clone());
        Ok(ElmNetwork { config, convention, fma: cpu_has_avx2_fma(), traces, kappa_m, gain_m, tau_m_ms, mlp, out })
    }

    pub fn config(&self) -> &ElmConfig {
        &self.config
    }

    pub fn input_convention(&self) -> InputConvention {
        self.convention
    }

    pub fn n_rows(&self) -> usize {
        self.config.num_input
    }

    /// The memory time constants (ms).
    pub fn memory_tau_ms(&self) -> &[f32] {
        &self.tau_m_ms
    }

    /// Which compiled path runs the steps, in words.
    pub fn code_path(&self) -> &'static str {
        if self.fma {
            "AVX2+FMA"
        } else {
            "portable"
        }
    }

    /// True when each branch keeps one trace (all its synapses share τ_s).
    pub fn per_branch_traces(&self) -> bool {
        self.traces.per_branch
    }

    /// A zero state at t = 0.
    pub fn new_state(&self) -> ElmState {
        let n_traces = self.traces.kappa.len();
        let hidden = self.config.mlp_hidden_size;
        ElmState {
            t_ms: 0,
            traces: vec![0.0; n_traces],
            memory: vec![0.0; self.config.num_memory],
            z: vec![0.0; self.config.num_branch + self.config.num_memory],
            h: [vec![0.0; hidden], vec![0.0; hidden]],
            d: vec![0.0; self.config.num_memory],
        }
    }

    /// Advance one ms with the rows that spiked in it; returns the raw outputs (logit, soma target).
    /// Runs the code compiled for AVX2 and FMA where the CPU has them (fused multiply-adds), else
    /// the portable code; each process always takes the same path, so streaming and full runs
    /// give the same numbers bit for bit.
    pub fn step(&self, st: &mut ElmState, active: &[u32]) -> Result<[f32; 2], String> {
        #[cfg(target_arch = "x86_64")]
        if self.fma {
            // SAFETY: `fma` is set only when the CPU reports AVX2 and FMA (`cpu_has_avx2_fma`).
            return unsafe { self.step_fma(st, active) };
        }
        self.step_impl::<Plain>(st, active)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn step_fma(&self, st: &mut ElmState, active: &[u32]) -> Result<[f32; 2], String> {
        self.step_impl::<Fused>(st, active)
    }

    #[inline(always)]
    fn step_impl<A: MulAdd>(&self, st: &mut ElmState, active: &[u32]) -> Result<[f32; 2], String> {
        let nb = self.config.num_branch;
        let Traces { per_branch, fanout, kappa } = &self.traces;
        for (s, k) in st.traces.iter_mut().zip(kappa) {
            *s *= k;
        }
        for &r in active {
            let fo = fanout.get(r as usize).ok_or_else(|| format!("input row {r} out of range (the model has {} rows)", fanout.len()))?;
            for &(j, w) in fo {
                st.traces[j as usize] += w;
            }
        }
        if *per_branch {
            st.z[..nb].copy_from_slice(&st.traces);
        } else {
            let p = self.config.num_synapse_per_branch;
            for (b, z) in st.z[..nb].iter_mut().enumerate() {
                *z = st.traces[b * p..(b + 1) * p].iter().sum();
            }
        }
        for ((z, m), k) in st.z[nb..].iter_mut().zip(&st.memory).zip(&self.kappa_m) {
            *z = k * m;
        }
        let act = self.config.activation;
        let n_hidden = self.mlp.len() - 1;
        let [h0, h1] = &mut st.h;
        for (l, layer) in self.mlp[..n_hidden].iter().enumerate() {
            if l == 0 {
                layer.apply::<A>(&st.z, h0);
                activate::<A>(act, h0);
            } else if l % 2 == 1 {
                layer.apply::<A>(h0, h1);
                activate::<A>(act, h1);
            } else {
                layer.apply::<A>(h1, h0);
                activate::<A>(act, h0);
            }
        }
        let last_in: &[f32] = match n_hidden {
            0 => &st.z,
            n if n % 2 == 1 => h0,
            _ => h1,
        };
        self.mlp[n_hidden].apply::<A>(last_in, &mut st.d);
        for (((m, &d), &k), &g) in st.memory.iter_mut().zip(&st.d).zip(&self.kappa_m).zip(&self.gain_m) {
            *m = A::madd(k, *m, g * (TANH_GAIN * tanh_f32::<A>(TANH_SLOPE * d)));
        }
        let mut y = [0.0f32; 2];
        self.out.apply::<A>(&st.memory, &mut y);
        st.t_ms += 1;
        if !(y[0].is_finite() && y[1].is_finite()) {
            return Err(format!("the model's output became non-finite at ms {}", st.t_ms - 1));
        }
        Ok(y)
    }

    /// Feed the next ms (`active[i]` lists the rows with a spike in ms i); raw outputs `[2 × n]`.
    pub fn push(&self, st: &mut ElmState, active: &[Vec<u32>]) -> Result<Array2<f32>, String> {
        let mut out = Array2::<f32>::zeros((2, active.len()));
        for (i, a) in active.iter().enumerate() {
            let y = self.step(st, a)?;
            out[[0, i]] = y[0];
            out[[1, i]] = y[1];
        }
        Ok(out)
    }

    /// The whole sequence from a zero state.
    pub fn run(&self, active: &[Vec<u32>]) -> Result<Array2<f32>, String> {
        self.push(&mut self.new_state(), active)
    }

    /// The spike logit at `t_ms` for the raster `rows` (sorted spike ms per row), from t = 0.
    pub fn logit_at(&self, rows: &[Vec<u32>], t_ms: usize) -> Result<f32, String> {
        self.check_rows(rows)?;
        let mut st = self.new_state();
        let active = super::tcn::active_rows(rows, 0, t_ms + 1);
        let mut last = 0.0;
        for a in &active {
            last = self.step(&mut st, a)?[0];
        }
        Ok(last)
    }

    fn check_rows(&self, rows: &[Vec<u32>]) -> Result<(), String> {
        if rows.len() != self.n_rows() {
            return Err(format!("the raster has {} rows, the model {}", rows.len(), self.n_rows()));
        }
        Ok(())
    }

    /// Occlusion on the recurrent twin: the logit at `t_ms` with every input, and without each
    /// row's spikes inside `[t_ms − window_ms + 1, t_ms]` (or only `only_rows`). The run up to the
    /// window's start is shared; each occluded row re-runs the window from that state (rows in
    /// parallel). Returns (window start, logit, per row: (row, spikes removed, logit without)).
    pub fn occlude_rows(&self, rows: &[Vec<u32>], t_ms: usize, window_ms: usize, only_rows: Option<&[usize]>) -> Result<(usize, f32, Vec<(usize, usize, f32)>), String> {
        self.check_rows(rows)?;
        let from = (t_ms + 1).saturating_sub(window_ms.max(1));
        let mut st = self.new_state();
        for a in &super::tcn::active_rows(rows, 0, from) {
            self.step(&mut st, a)?;
        }
        let window = super::tcn::active_rows(rows, from, t_ms + 1);
        let run_from = |skip: Option<u32>| -> Result<f32, String> {
            let mut s = st.clone();
            let mut last = 0.0;
            let mut buf: Vec<u32> = Vec::new();
            for a in &window {
                let a: &[u32] = match skip {
                    Some(r) if a.contains(&r) => {
                        buf.clear();
                        buf.extend(a.iter().copied().filter(|&x| x != r));
                        &buf
                    }
                    _ => a,
                };
                last = self.step(&mut s, a)?[0];
            }
            Ok(last)
        };
        let logit = run_from(None)?;
        let candidates: Vec<usize> = match only_rows {
            Some(list) => {
                if let Some(&r) = list.iter().find(|&&r| r >= self.n_rows()) {
                    return Err(format!("row {r} out of range (the model has {} rows)", self.n_rows()));
                }
                list.to_vec()
            }
            None => (0..self.n_rows()).collect(),
        };
        let active: Vec<(usize, usize)> = candidates
            .into_iter()
            .map(|r| {
                let row = &rows[r];
                let a = row.partition_point(|&t| (t as usize) < from);
                let b = row.partition_point(|&t| (t as usize) <= t_ms);
                (r, b - a)
            })
            .filter(|&(_, n)| n > 0)
            .collect();
        let per_row = active
            .par_iter()
            .map(|&(r, n)| run_from(Some(r as u32)).map(|l| (r, n, l)))
            .collect::<Result<Vec<_>, String>>()?;
        Ok((from, logit, per_row))
    }
}

fn cpu_has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests;
