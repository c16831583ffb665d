//! Read the weights of an exported TCN from its ONNX file: the graph must be the chain the
//! training package exports (`training/export.py`): `input` → [Conv (causal: pads = [k − 1, 0],
//! stride 1, dilation 1, group 1) → Relu → BatchNormalization] × depth → two 1×1 Conv heads
//! (spike, soma) → optional Sigmoid on the spike head → Concat(spike, soma, …) along channels.
//! The first block's Conv may be preceded by a 1×1 projection Conv without bias (the training
//! package's factorised first layer: rows → rank channels → causal Conv).
//! Anything else is reported as unsupported, and callers keep using the ONNX backend.

use super::{Affine, HiddenLayer, LowRankFirst, NativeTcn};
use ndarray::Array2;
use prost::Message;
use std::collections::HashMap;
use std::path::Path;
use tract_onnx::pb::{GraphProto, ModelProto, NodeProto, TensorProto};

/// ONNX's FLOAT data type id.
const ONNX_FLOAT: i32 = 1;

/// Why a graph cannot run natively.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct GraphError {
    pub path: String,
    pub message: String,
}

struct Tensor {
    dims: Vec<usize>,
    data: Vec<f32>,
}

struct Graph<'a> {
    nodes: &'a [NodeProto],
    init: HashMap<&'a str, &'a TensorProto>,
}

impl<'a> Graph<'a> {
    fn consumers(&self, value: &str) -> Vec<&'a NodeProto> {
        self.nodes.iter().filter(|n| n.input.iter().any(|i| i == value)).collect()
    }

    fn producer(&self, value: &str) -> Option<&'a NodeProto> {
        self.nodes.iter().find(|n| n.output.iter().any(|o| o == value))
    }

    fn tensor(&self, name: &str) -> Result<Tensor, String> {
        let t = self.init.get(name).ok_or_else(|| format!("initializer {name} missing (weights must be constants)"))?;
        if t.data_type != ONNX_FLOAT {
            return Err(format!("initializer {name} has data type {}, expected float32", t.data_type));
        }
        let dims: Vec<usize> = t.dims.iter().map(|&d| usize::try_from(d).map_err(|_| format!("initializer {name} has dimension {d}"))).collect::<Result<_, _>>()?;
        let n: usize = dims.iter().product();
        let data: Vec<f32> = if !t.raw_data.is_empty() {
            if t.raw_data.len() != 4 * n {
                return Err(format!("initializer {name}: {} raw bytes for {n} floats", t.raw_data.len()));
            }
            t.raw_data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
        } else if t.float_data.len() == n {
            t.float_data.clone()
        } else {
            return Err(format!("initializer {name}: {} values for shape {dims:?} (external data is not supported)", t.float_data.len()));
        };
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(format!("initializer {name} holds a non-finite value at flat index {i}"));
        }
        Ok(Tensor { dims, data })
    }
}

fn ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    node.attribute.iter().find(|a| a.name == name).map(|a| if a.ints.is_empty() { vec![a.i] } else { a.ints.clone() })
}

fn float_attr(node: &NodeProto, name: &str) -> Option<f32> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.f)
}

fn single_consumer<'a>(g: &Graph<'a>, value: &str, op: &str) -> Result<&'a NodeProto, String> {
    match g.consumers(value).as_slice() {
        [n] if n.op_type == op => Ok(n),
        [n] => Err(format!("{value} feeds {} where {op} was expected", n.op_type)),
        ns => Err(format!("{value} feeds {} nodes where one {op} was expected", ns.len())),
    }
}

/// A Conv node's weight [c_out, c_in, k] and bias [c_out], after checking it is causal.
/// The Conv a 1×1 Conv feeds directly, when it does (the factorised first layer).
fn projection_target<'a>(g: &Graph<'a>, node: &NodeProto) -> Option<&'a NodeProto> {
    let k1 = ints(node, "kernel_shape").is_some_and(|k| k == [1]);
    match g.consumers(&node.output[0]).as_slice() {
        [next] if k1 && next.op_type == "Conv" => Some(next),
        _ => None,
    }
}

/// The weights `[rank, rows, 1]` of the 1×1 projection Conv; it must have no (or a zero) bias.
fn projection_weights(g: &Graph<'_>, node: &NodeProto) -> Result<Tensor, String> {
    let w = g.tensor(node.input.get(1).ok_or("projection Conv without weights")?)?;
    if w.dims.len() != 3 || w.dims[2] != 1 {
        return Err(format!("projection Conv {} has weight shape {:?}, expected [rank, rows, 1]", node.name, w.dims));
    }
    if let Some(b) = node.input.get(2).filter(|b| !b.is_empty()) {
        if g.tensor(b)?.data.iter().any(|&x| x != 0.0) {
            return Err(format!("projection Conv {} has a bias (not supported: it would not commute with the causal padding)", node.name));
        }
    }
    let one = |attr: &str| ints(node, attr).is_none_or(|v| v.iter().all(|&x| x == 1));
    let no_pads = ints(node, "pads").is_none_or(|v| v.iter().all(|&x| x == 0));
    if !one("strides") || !one("dilations") || !one("group") || !no_pads {
        return Err(format!("projection Conv {} uses strides, dilations, groups or pads", node.name));
    }
    Ok(w)
}

fn conv_weights(g: &Graph<'_>, node: &NodeProto) -> Result<(Tensor, Vec<f32>), String> {
    let [_, w, rest @ ..] = node.input.as_slice() else {
        return Err(format!("Conv {} has no weight input", node.name));
    };
    let w = g.tensor(w)?;
    let &[c_out, _, k] = w.dims.as_slice() else {
        return Err(format!("Conv {} weight has shape {:?}, expected [out, in, k]", node.name, w.dims));
    };
    let bias = match rest.first() {
        Some(b) if !b.is_empty() => g.tensor(b)?.data,
        _ => vec![0.0; c_out],
    };
    if bias.len() != c_out {
        return Err(format!("Conv {} bias has {} values for {c_out} outputs", node.name, bias.len()));
    }
    let one = |attr: &str| ints(node, attr).is_none_or(|v| v.iter().all(|&x| x == 1));
    if !one("strides") || !one("dilations") || !one("group") {
        return Err(format!("Conv {} uses strides, dilations or groups", node.name));
    }
    let pads = ints(node, "pads").unwrap_or_else(|| vec![0, 0]);
    let causal = pads.as_slice() == [k as i64 - 1, 0];
    if !causal {
        return Err(format!("Conv {} has pads {pads:?}; a causal kernel of {k} needs [{}, 0]", node.name, k - 1));
    }
    Ok((w, bias))
}

/// BatchNormalization as `a·x + b` per channel.
fn batch_norm(g: &Graph<'_>, node: &NodeProto, channels: usize) -> Result<Affine, String> {
    let [_, scale, bias, mean, var] = node.input.as_slice() else {
        return Err(format!("BatchNormalization {} needs 5 inputs", node.name));
    };
    let eps = float_attr(node, "epsilon").unwrap_or(1e-5);
    let (scale, bias, mean, var) = (g.tensor(scale)?.data, g.tensor(bias)?.data, g.tensor(mean)?.data, g.tensor(var)?.data);
    if [scale.len(), bias.len(), mean.len(), var.len()].iter().any(|&n| n != channels) {
        return Err(format!("BatchNormalization {} parameters do not have {channels} channels", node.name));
    }
    let a: Vec<f32> = scale.iter().zip(&var).map(|(s, v)| s / (v + eps).sqrt()).collect();
    let b = bias.iter().zip(&mean).zip(&a).map(|((b, m), a)| b - m * a).collect();
    Ok(Affine { a, b })
}

/// Load a TCN from an ONNX file.
pub fn load(path: &Path) -> Result<NativeTcn, GraphError> {
    let err = |message: String| GraphError { path: path.display().to_string(), message };
    let bytes = crate::input::read_bytes_limited(path, crate::limits::MAX_MODEL_FILE_BYTES, None).map_err(|e| err(e.to_string()))?;
    let model = ModelProto::decode(bytes.as_slice()).map_err(|e| err(format!("not an ONNX model: {e}")))?;
    let graph = model.graph.as_ref().ok_or_else(|| err("no graph".into()))?;
    from_graph(graph).map_err(err)
}

fn from_graph(graph: &GraphProto) -> Result<NativeTcn, String> {
    let init = graph.initializer.iter().map(|t| (t.name.as_str(), t)).collect::<HashMap<_, _>>();
    let g = Graph { nodes: &graph.node, init };
    let inputs: Vec<&str> = graph.input.iter().map(|v| v.name.as_str()).filter(|n| !g.init.contains_key(n)).collect();
    let [input] = inputs.as_slice() else {
        return Err(format!("{} graph inputs, expected 1", inputs.len()));
    };
    let mut value = (*input).to_string();
    let mut blocks: Vec<(Tensor, Vec<f32>, Affine)> = Vec::new();
    // a factorised first layer: a 1×1 Conv (rows → rank, no bias) straight into the causal Conv
    let mut spatial: Option<Tensor> = None;
    loop {
        let consumers = g.consumers(&value);
        let [mut conv] = consumers.as_slice() else { break };
        if conv.op_type != "Conv" {
            return Err(format!("{value} feeds {}, expected Conv", conv.op_type));
        }
        if blocks.is_empty() && spatial.is_none() {
            if let Some(next) = projection_target(&g, conv) {
                spatial = Some(projection_weights(&g, conv)?);
                conv = next;
            }
        }
        let (w, bias) = conv_weights(&g, conv)?;
        let relu = single_consumer(&g, &conv.output[0], "Relu")?;
        let bn = single_consumer(&g, &relu.output[0], "BatchNormalization")?;
        let act = batch_norm(&g, bn, w.dims[0])?;
        blocks.push((w, bias, act));
        value = bn.output[0].clone();
    }
    if blocks.is_empty() {
        return Err("no Conv → Relu → BatchNormalization block after the input".into());
    }
    let out = graph.output.first().ok_or("no graph output")?;
    let concat = g.producer(&out.name).filter(|n| n.op_type == "Concat").ok_or("the output is not a Concat of the heads")?;
    if ints(concat, "axis") != Some(vec![1]) {
        return Err("the heads are not concatenated along channels (axis 1)".into());
    }
    let [spike_v, soma_v, ..] = concat.input.as_slice() else {
        return Err("the output Concat has fewer than 2 inputs".into());
    };
    let mut spike_node = g.producer(spike_v).ok_or("spike head missing")?;
    let spike_is_probability = spike_node.op_type == "Sigmoid";
    if spike_is_probability {
        spike_node = g.producer(&spike_node.input[0]).ok_or("spike head missing before Sigmoid")?;
    }
    let soma_node = g.producer(soma_v).ok_or("soma head missing")?;
    let width = blocks.last().map_or(0, |b| b.0.dims[0]);
    let head = |node: &NodeProto| -> Result<(Vec<f32>, f32), String> {
        if node.op_type != "Conv" || node.input.first() != Some(&value) {
            return Err(format!("head {} is not a Conv on the last block", node.name));
        }
        let (w, b) = conv_weights(&g, node)?;
        if w.dims != [1, width, 1] {
            return Err(format!("head {} has weight shape {:?}, expected [1, {width}, 1]", node.name, w.dims));
        }
        Ok((w.data, b[0]))
    };
    let (spike_w, spike_b) = head(spike_node)?;
    let (soma_w, soma_b) = head(soma_node)?;

    let mut blocks = blocks.into_iter();
    let (w0, bias0, act0) = blocks.next().ok_or("no first layer")?;
    let &[c0, w0_in, k0] = w0.dims.as_slice() else {
        return Err("first layer weight is not 3-D".into());
    };
    // [row][j][c]: one spike adds a contiguous k·c block
    let (n_rows, first_w, low_rank) = match spatial {
        None => {
            let mut first_w = vec![0.0f32; w0_in * k0 * c0];
            for c in 0..c0 {
                for r in 0..w0_in {
                    for j in 0..k0 {
                        first_w[(r * k0 + j) * c0 + c] = w0.data[(c * w0_in + r) * k0 + j];
                    }
                }
            }
            (w0_in, first_w, None)
        }
        Some(sp) => {
            let (m, rows) = (sp.dims[0], sp.dims[1]);
            if w0_in != m {
                return Err(format!("the projection gives {m} channels but the causal Conv takes {w0_in}"));
            }
            // the equivalent dense kernel, for occlusion and the filter view: W[r][j][c] = Σ_m T[c, m, j]·S[m, r]
            let mut first_w = vec![0.0f32; rows * k0 * c0];
            for r in 0..rows {
                for j in 0..k0 {
                    for c in 0..c0 {
                        first_w[(r * k0 + j) * c0 + c] = (0..m).map(|q| w0.data[(c * m + q) * k0 + j] * sp.data[q * rows + r]).sum();
                    }
                }
            }
            let spatial_rows = (0..rows).flat_map(|r| (0..m).map(move |q| (r, q))).map(|(r, q)| sp.data[q * rows + r]).collect();
            let weights = Array2::from_shape_fn((k0 * m, c0), |(ji, o)| w0.data[(o * m + ji % m) * k0 + ji / m]);
            let temporal = HiddenLayer { k: k0, c_in: m, weights, bias: bias0.clone(), act: act0.clone() };
            (rows, first_w, Some(LowRankFirst { rank: m, spatial: spatial_rows, temporal }))
        }
    };
    let mut hidden = Vec::new();
    let mut c_in = c0;
    for (w, bias, act) in blocks {
        let &[c_out, ci, k] = w.dims.as_slice() else {
            return Err("hidden weight is not 3-D".into());
        };
        if ci != c_in {
            return Err(format!("a hidden Conv takes {ci} channels but the previous layer gives {c_in}"));
        }
        // row j·c_in + i: the weight of input channel i at tap j
        let weights = Array2::from_shape_fn((k * c_in, c_out), |(ji, o)| w.data[(o * c_in + ji % c_in) * k + ji / c_in]);
        hidden.push(HiddenLayer { k, c_in, weights, bias, act });
        c_in = c_out;
    }
    Ok(NativeTcn {
        n_rows,
        k0,
        c0,
        first_w,
        low_rank,
        first_bias: bias0,
        first_act: act0,
        hidden,
        spike_w,
        spike_b,
        soma_w,
        soma_b,
        spike_is_probability,
    })
}
