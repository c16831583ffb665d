use super::torch_file::{DType, Tensor};
use super::*;

fn published_config() -> ElmConfig {
    ElmConfig::parse(
        r#"{"input_to_synapse_routing": "neuronio_routing", "learn_memory_tau": false, "memory_tau_max": 150.0,
            "memory_tau_min": 1.0, "mlp_activation": "silu", "num_branch": 45, "num_input": 1278,
            "num_memory": 100, "num_output": 2, "num_synapse_per_branch": 100}"#,
    )
    .expect("published config parses")
}

#[test]
fn published_config_has_the_authors_parameter_count_and_defaults() {
    let c = published_config();
    assert_eq!(c.parameter_count(), 54_002);
    assert_eq!(c.mlp_hidden_size, 200);
    assert_eq!(c.mlp_num_layers, 1);
    assert_eq!(c.lambda_value, 5.0);
    assert_eq!(c.routing, Routing::NeuronIo);
}

#[test]
fn neuronio_routing_interlaces_and_windows() {
    let r = neuronio_routing(1278, 45, 100);
    assert_eq!(r.len(), 4500);
    // interlaced: exc row of segment 0, inh row of segment 0, exc row of segment 1, ...
    assert_eq!(&r[..4], &[(0, true), (639, true), (1, true), (640, true)]);
    // stride ⌈1278/45⌉ = 29: branch 1 starts at interlaced input 29 = inh row of segment 14
    assert_eq!(r[100], (639 + 14, true));
    // the last branch starts at 44·29 = 1276: two real inputs, then masked copies of the last
    assert_eq!(r[4400], (638, true));
    assert_eq!(r[4401], (1277, true));
    assert_eq!(r[4402], (1277, false));
    assert!(r.iter().all(|&(i, _)| i < 1278));
    // every input row reaches at least one real synapse
    let mut seen = vec![false; 1278];
    r.iter().filter(|(_, v)| *v).for_each(|&(i, _)| seen[i] = true);
    assert!(seen.iter().all(|&s| s));
}

#[test]
fn config_errors_name_the_field() {
    let cases = [
        (r#"{"num_output": 2, "num_memory": 4}"#, "num_input"),
        (r#"{"num_input": 4, "num_output": 3, "num_memory": 4}"#, "num_output"),
        (r#"{"num_input": 4, "num_output": 2, "num_memory": 0}"#, "num_memory"),
        (r#"{"num_input": 4, "num_output": 2, "num_memory": 4, "mlp_activation": "gelu"}"#, "mlp_activation"),
        (r#"{"num_input": 4, "num_output": 2, "num_memory": 4, "memory_tau_min": 5, "memory_tau_max": 2}"#, "memory_tau"),
        (r#"{"num_input": 4, "num_output": 2, "num_memory": 4, "num_branch": 2}"#, "synapses"),
        (r#"{"num_input": 4, "num_output": 2, "num_memory": 4, "input_to_synapse_routing": "mine"}"#, "input_to_synapse_routing"),
        (r#"[1, 2]"#, "object"),
    ];
    for (text, needle) in cases {
        let e = ElmConfig::parse(text).expect_err(text);
        assert!(e.0.contains(needle), "{text}: {e}");
    }
}

/// A small deterministic pseudo-random generator for weights.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64) * 2.0 - 1.0
    }
    fn vec(&mut self, n: usize, scale: f64) -> Vec<f64> {
        (0..n).map(|_| self.next() * scale).collect()
    }
}

fn tensor(shape: Vec<usize>, values: Vec<f64>) -> Tensor {
    Tensor { dtype: DType::F32, shape, values: values.into_iter().map(|v| f64::from(v as f32)).collect() }
}

/// A random state dict for `c`; `tau_s` per synapse from `tau_s`.
fn random_state_dict(c: &ElmConfig, seed: u64, tau_s: impl Fn(usize) -> f64) -> Vec<(String, Tensor)> {
    let mut g = Lcg(seed);
    expected_tensors(c)
        .into_iter()
        .map(|(name, shape)| {
            let n: usize = shape.iter().product();
            let values = match name.as_str() {
                "tau_s" => (0..n).map(&tau_s).collect(),
                "_proto_w_s" => g.vec(n, 1.0).into_iter().map(|v| v + 0.3).collect(),
                "_proto_tau_m" => g.vec(n, 3.0),
                _ => g.vec(n, 0.4),
            };
            (name, tensor(shape, values))
        })
        .collect()
}

fn small_config(routing: &str, layers: usize) -> ElmConfig {
    ElmConfig::parse(&format!(
        r#"{{"num_input": 12, "num_output": 2, "num_memory": 7, "num_branch": 5, "num_synapse_per_branch": 4,
            "mlp_activation": "silu", "memory_tau_min": 1.0, "memory_tau_max": 150.0, "mlp_num_layers": {layers},
            "mlp_hidden_size": 9, "input_to_synapse_routing": {routing}}}"#
    ))
    .expect("small config")
}

/// The equations written out directly, in f64, per synapse: the independent check of `step`.
fn reference_run(c: &ElmConfig, sd: &[(String, Tensor)], active: &[Vec<u32>]) -> Vec<[f64; 2]> {
    let get = |n: &str| sd.iter().find(|(k, _)| k == n).map(|(_, t)| t.values.clone()).expect(n);
    let routing = neuronio_routing(c.num_input, c.num_branch, c.num_synapse_per_branch);
    let ns = c.num_synapses();
    let w_s: Vec<f64> = get("_proto_w_s").iter().map(|w| w.max(0.0)).collect();
    let k_s: Vec<f64> = get("tau_s").iter().map(|t| (-1.0 / t).exp()).collect();
    let tau_m: Vec<f64> = get("_proto_tau_m").iter().map(|p| 1.0 + 149.0 / (1.0 + (-p).exp())).collect();
    let k_m: Vec<f64> = tau_m.iter().map(|t| (-1.0 / t).exp()).collect();
    let mut s = vec![0.0; ns];
    let mut m = vec![0.0; c.num_memory];
    let mut out = Vec::new();
    let linear = |l: usize, x: &[f64]| -> Vec<f64> {
        let w = get(&format!("mlp.network.{}.weight", 2 * l));
        let b = get(&format!("mlp.network.{}.bias", 2 * l));
        (0..b.len()).map(|o| b[o] + (0..x.len()).map(|i| w[o * x.len() + i] * x[i]).sum::<f64>()).collect()
    };
    for a in active {
        let mut x = vec![0.0; c.num_input];
        a.iter().for_each(|&r| x[r as usize] = if (r as usize) < c.num_input / 2 { 1.0 } else { -1.0 });
        for k in 0..ns {
            let (row, valid) = routing[k];
            s[k] = k_s[k] * s[k] + w_s[k] * x[row] * if valid { 1.0 } else { 0.0 };
        }
        let mut z: Vec<f64> = (0..c.num_branch).map(|b| s[b * c.num_synapse_per_branch..(b + 1) * c.num_synapse_per_branch].iter().sum()).collect();
        z.extend(m.iter().zip(&k_m).map(|(m, k)| k * m));
        let mut h = z;
        for l in 0..c.mlp_num_layers {
            h = linear(l, &h).into_iter().map(|v| v / (1.0 + (-v).exp())).collect();
        }
        let d = linear(c.mlp_num_layers, &h);
        for i in 0..m.len() {
            m[i] = k_m[i] * m[i] + 5.0 * (1.0 - k_m[i]) * 1.7159 * (d[i] * 2.0 / 3.0).tanh();
        }
        let wy = get("w_y.weight");
        let by = get("w_y.bias");
        out.push([0, 1].map(|o| by[o] + (0..m.len()).map(|i| wy[o * m.len() + i] * m[i]).sum::<f64>()));
    }
    out
}

fn random_active(n_rows: usize, ms: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut g = Lcg(seed);
    (0..ms).map(|_| (0..n_rows as u32).filter(|_| g.next() > 0.6).collect()).collect()
}

#[test]
fn step_matches_the_equations_written_out() {
    for layers in [1, 2, 3] {
        for shared in [true, false] {
            let c = small_config("\"neuronio_routing\"", layers);
            let sd = random_state_dict(&c, 7 + layers as u64, |k| if shared { 5.0 } else { 2.0 + (k % 5) as f64 });
            let net = ElmNetwork::from_state_dict(c.clone(), sd.clone(), InputConvention::NeuronIoSigned).expect("loads");
            assert_eq!(net.per_branch_traces(), shared);
            let active = random_active(12, 200, 3);
            let got = net.run(&active).expect("runs");
            let want = reference_run(&c, &sd, &active);
            let worst = want.iter().enumerate().map(|(t, w)| (0..2).map(|o| (f64::from(got[[o, t]]) - w[o]).abs()).fold(0.0, f64::max)).fold(0.0, f64::max);
            assert!(worst < 2e-4, "layers {layers}, shared τ_s {shared}: worst |Δ| {worst}");
            // the run is not trivially constant
            let spread = want.iter().map(|w| w[0]).fold(f64::NEG_INFINITY, f64::max) - want.iter().map(|w| w[0]).fold(f64::INFINITY, f64::min);
            assert!(spread > 0.05, "outputs barely move: {spread}");
        }
    }
}

#[test]
fn streaming_in_chunks_equals_one_run() {
    let c = small_config("\"neuronio_routing\"", 1);
    let net = ElmNetwork::from_state_dict(c.clone(), random_state_dict(&c, 11, |_| 5.0), InputConvention::NeuronIoSigned).expect("loads");
    let active = random_active(12, 300, 5);
    let full = net.run(&active).expect("runs");
    let mut st = net.new_state();
    let mut got = Vec::new();
    for chunk in active.chunks(7) {
        let y = net.push(&mut st, chunk).expect("push");
        got.extend((0..y.ncols()).map(|t| (y[[0, t]], y[[1, t]])));
    }
    assert_eq!(st.t_ms(), 300);
    for (t, (a, b)) in got.iter().enumerate() {
        assert_eq!((*a, *b), (full[[0, t]], full[[1, t]]), "ms {t}");
    }
}

#[test]
fn occlusion_equals_a_rerun_without_the_row() {
    let c = small_config("\"neuronio_routing\"", 1);
    let net = ElmNetwork::from_state_dict(c.clone(), random_state_dict(&c, 13, |_| 5.0), InputConvention::NeuronIoSigned).expect("loads");
    let active = random_active(12, 120, 9);
    let mut rows: Vec<Vec<u32>> = vec![Vec::new(); 12];
    for (t, a) in active.iter().enumerate() {
        a.iter().for_each(|&r| rows[r as usize].push(t as u32));
    }
    rows[4].clear(); // a silent row is not listed
    let (from, logit, per_row) = net.occlude_rows(&rows, 100, 30, None).expect("occlusion");
    assert_eq!(from, 71);
    assert!((logit - net.logit_at(&rows, 100).expect("logit")).abs() < 1e-6);
    assert!(per_row.iter().all(|&(r, _, _)| r != 4));
    for &(r, n, without) in &per_row {
        let mut edited = rows.clone();
        let before = edited[r].len();
        edited[r].retain(|&t| !(71..=100).contains(&t));
        assert_eq!(before - edited[r].len(), n);
        let direct = net.logit_at(&edited, 100).expect("logit");
        assert!((direct - without).abs() < 1e-5, "row {r}: {direct} vs {without}");
    }
}

#[test]
fn state_dict_errors_name_the_tensor() {
    let c = small_config("\"neuronio_routing\"", 1);
    let base = random_state_dict(&c, 1, |_| 5.0);
    let mut missing = base.clone();
    missing.retain(|(n, _)| n != "w_y.bias");
    let e = ElmNetwork::from_state_dict(c.clone(), missing, InputConvention::NeuronIoSigned).expect_err("missing");
    assert!(e.0.contains("\"w_y.bias\" is missing"), "{e}");
    let mut shaped = base.clone();
    shaped[0].1 = tensor(vec![3], vec![0.0; 3]);
    let e = ElmNetwork::from_state_dict(c.clone(), shaped, InputConvention::NeuronIoSigned).expect_err("shape");
    assert!(e.0.contains("_proto_w_s") && e.0.contains("shape"), "{e}");
    let mut extra = base.clone();
    extra.push(("mlp.network.4.weight".into(), tensor(vec![1], vec![0.0])));
    let e = ElmNetwork::from_state_dict(c.clone(), extra, InputConvention::NeuronIoSigned).expect_err("extra");
    assert!(e.0.contains("unexpected tensor \"mlp.network.4.weight\""), "{e}");
    let mut nan = base.clone();
    nan[3].1.values[2] = f64::NAN;
    let e = ElmNetwork::from_state_dict(c.clone(), nan, InputConvention::NeuronIoSigned).expect_err("nan");
    assert!(e.0.contains("non-finite"), "{e}");
    let mut routed = base;
    let ns = c.num_synapses();
    let mut idx: Vec<f64> = neuronio_routing(12, 5, 4).iter().map(|&(r, _)| r as f64).collect();
    idx.swap(0, 1);
    routed.push(("input_to_synapse_indices".into(), Tensor { dtype: DType::I64, shape: vec![ns], values: idx }));
    let e = ElmNetwork::from_state_dict(c, routed, InputConvention::NeuronIoSigned).expect_err("routing");
    assert!(e.0.contains("input_to_synapse_indices[0]"), "{e}");
}

#[test]
fn fast_exp_and_tanh_are_accurate_on_both_paths() {
    let mut worst_exp: f64 = 0.0;
    let mut worst_tanh: f64 = 0.0;
    for i in -20000..=20000 {
        let x = i as f32 * 0.004; // −80 … 80
        for (e, t) in [(super::exp_f32::<super::Plain>(x), super::tanh_f32::<super::Plain>(x / 8.0)), (super::exp_f32::<super::Fused>(x), super::tanh_f32::<super::Fused>(x / 8.0))] {
            let want = f64::from(x).exp();
            worst_exp = worst_exp.max(((f64::from(e) - want) / want).abs());
            worst_tanh = worst_tanh.max((f64::from(t) - (f64::from(x) / 8.0).tanh()).abs());
        }
    }
    assert!(worst_exp < 1e-6, "exp relative error {worst_exp}");
    assert!(worst_tanh < 1e-6, "tanh absolute error {worst_tanh}");
    assert!(super::exp_f32::<super::Plain>(-200.0) >= 0.0 && super::exp_f32::<super::Plain>(200.0).is_finite());
}
