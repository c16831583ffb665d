//! The published Branch-ELM of Spieler et al. (2024) run natively: installed from the copy in
//! `../shared/peer-models/elm-best` (never committed here), checked against its parity vector,
//! streamed, run on NEURON's own traces of the paper's input, refused when damaged, and
//! downloaded by `fetch elm` from a 127.0.0.1 server (good files, a corrupted one, a missing one).

use neurotwin::peer::{self, ElmFetchOptions, ELM_NAME};
use neurotwin::stimulus::InputRaster;
use neurotwin::surrogate::{LoadOptions, PredictOptions, StreamingPredictor, SurrogateModel};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const PEER: &str = "../shared/peer-models/elm-best";

fn installed() -> (tempfile::TempDir, PathBuf) {
    assert!(Path::new(PEER).is_dir(), "{PEER} is missing: the published ELM's files are needed beside the project (../shared)");
    let dir = tempfile::tempdir().expect("tempdir");
    peer::install_elm_from_dir(Path::new(PEER), dir.path()).expect("install");
    let path = peer::elm_model_path(dir.path());
    (dir, path)
}

#[test]
fn the_published_elm_loads_and_passes_its_parity_vector() {
    let (_dir, path) = installed();
    let m = SurrogateModel::load(&path, LoadOptions::default()).expect("loads");
    let p = m.parity().expect("checked at load");
    assert!(p.max_abs_diff < 1e-4, "parity {}", p.max_abs_diff);
    assert_eq!(p.n_ms, 300);
    assert!(m.is_recurrent());
    let elm = m.native().and_then(|n| n.as_elm()).expect("an ELM");
    assert_eq!(elm.config().parameter_count(), 54_002);
    assert!(elm.per_branch_traces(), "the published model shares τ_s within each branch");
    let tau = elm.memory_tau_ms();
    assert!(tau.iter().all(|&t| (1.0..=150.0).contains(&t)));
    // the metadata's JSON path loads the same model
    let by_json = SurrogateModel::load(&path.with_extension("json"), LoadOptions::default()).expect("loads by its metadata");
    assert_eq!(by_json.model_path(), path.as_path());
}

/// A raster from the synapses of a golden case (paper rows: exc segment k → row k, inh → 639 + k).
fn case_raster(name: &str) -> (InputRaster, Vec<f64>) {
    let text = std::fs::read_to_string(format!("../shared/reference/{name}.json")).expect("reference case");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mut rows = vec![Vec::new(); 1278];
    for s in v["synapses"].as_array().expect("synapses") {
        let seg = s["paper_seg_index"].as_u64().expect("index") as usize;
        let row = if s["kind"] == "inh" { 639 + seg } else { seg };
        for t in s["spikes_ms"].as_array().expect("spikes") {
            rows[row].push(t.as_f64().expect("ms") as u32);
        }
    }
    rows.iter_mut().for_each(|r| {
        r.sort_unstable();
        r.dedup();
    });
    let spikes = v["results"]["spike_times_ms"].as_array().expect("spikes").iter().map(|t| t.as_f64().expect("ms")).collect();
    (InputRaster::from_rows(639, 6000, rows).expect("raster"), spikes)
}

#[test]
fn streaming_equals_the_full_sequence_bit_for_bit() {
    let (_dir, path) = installed();
    let mut m = SurrogateModel::load(&path, LoadOptions::default()).expect("loads");
    let (raster, _) = case_raster("paper_input_nmda_seed1001");
    let full = m.predict_raster(&raster, &PredictOptions::default()).expect("full");
    let mut sp = StreamingPredictor::new(m);
    assert!(sp.is_native());
    let mut streamed = neurotwin::surrogate::Prediction::default();
    for from in (0..2000).step_by(10) {
        let rows: Vec<Vec<u32>> = raster.rows().iter().map(|r| r.iter().filter(|&&t| (from..from + 10).contains(&t)).map(|&t| t - from).collect()).collect();
        let chunk = InputRaster::from_rows(639, 10, rows).expect("chunk");
        streamed.extend(sp.push_raster(&chunk).expect("push"));
    }
    assert_eq!(streamed.spike_probability[..], full.spike_probability[..2000]);
    assert_eq!(streamed.soma_v_mv[..], full.soma_v_mv[..2000]);
}

#[test]
fn on_neurons_own_traces_of_the_papers_input_it_ranks_the_spikes() {
    let (_dir, path) = installed();
    let mut m = SurrogateModel::load(&path, LoadOptions::default()).expect("loads");
    for (case, min_auc) in [("paper_input_nmda_seed1001", 0.97), ("paper_input_nmda_seed1003", 0.97)] {
        let (raster, spikes) = case_raster(case);
        let p = m.predict_raster(&raster, &PredictOptions::default()).expect("predict");
        let labels = neurotwin::surrogate::evaluate::spike_labels(&spikes, 6000);
        let scores: Vec<f64> = p.spike_probability.iter().map(|&x| f64::from(x)).collect();
        let auc = neurotwin::metrics::roc_auc(&labels[500..], &scores[500..]).expect("auc");
        println!("{case}: AUC {auc:.4} over {} spikes", spikes.len());
        assert!(auc >= min_auc, "{case}: AUC {auc}");
        // the soma prediction follows the subthreshold voltage (resting near −75 mV, not a constant)
        let v = &p.soma_v_mv[500..];
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
        assert!((-80.0..-60.0).contains(&mean), "{case}: mean predicted soma {mean} mV");
    }
}

#[test]
fn a_damaged_or_mismatched_file_is_refused_with_its_name() {
    let (dir, path) = installed();
    // flip one weight of the output layer (its storage is the last one written): parity fails
    let mut bytes = std::fs::read(&path).expect("read");
    let at = bytes.len() - 200;
    bytes[at] ^= 0x40;
    std::fs::write(&path, &bytes).expect("write");
    let e = SurrogateModel::load(&path, LoadOptions::default()).expect_err("damaged");
    let msg = e.to_string();
    assert!(msg.contains("parity") || msg.contains("elm-neuronio-best.pt"), "{msg}");
    // truncated: a clear error naming the file
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
    let e = SurrogateModel::load(&path, LoadOptions::default()).expect_err("truncated").to_string();
    assert!(e.contains("elm-neuronio-best.pt"), "{e}");
    // a config that does not match the weights names the tensor
    peer::install_elm_from_dir(Path::new(PEER), dir.path()).expect("reinstall");
    let cfg = dir.path().join(format!("{ELM_NAME}.model_config.json"));
    let text = std::fs::read_to_string(&cfg).expect("config").replace("\"num_memory\": 100", "\"num_memory\": 99");
    std::fs::write(&cfg, text).expect("write");
    let e = SurrogateModel::load(&path, LoadOptions::default()).expect_err("mismatch").to_string();
    assert!(e.contains("_proto_tau_m") || e.contains("shape"), "{e}");
}

/// Serve `files` (URL path → body) for `connections` requests; unknown paths get 404.
fn serve(files: Vec<(String, Vec<u8>)>, connections: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let mut req = Vec::new();
            let mut b = [0u8; 1];
            while !req.ends_with(b"\r\n\r\n") && req.len() < 65536 {
                match s.read(&mut b) {
                    Ok(1) => req.push(b[0]),
                    _ => break,
                }
            }
            let line = String::from_utf8_lossy(&req).lines().next().unwrap_or("").to_string();
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let _ = match files.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => s
                    .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes())
                    .and_then(|_| s.write_all(body)),
                None => s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            };
        }
    });
    format!("http://127.0.0.1:{port}/repo")
}

fn published_files() -> Vec<(String, Vec<u8>)> {
    [("LICENSE", "LICENSE"), ("models/best_elm_neuron/model_config.json", "model_config.json"), ("models/best_elm_neuron/neuronio_best_model_state.pt", "neuronio_best_model_state.pt")]
        .iter()
        .map(|(remote, local)| (format!("/repo/{remote}"), std::fs::read(Path::new(PEER).join(local)).expect("peer file")))
        .collect()
}

#[test]
fn fetch_elm_downloads_verifies_and_the_command_loads_it() {
    let base = serve(published_files(), 3);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_neurotwin"))
        .args(["fetch", "elm", "--quiet", "--base-url", &base, "--dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("parity vector matched"), "{stdout}");
    for suffix in [".pt", ".model_config.json", ".LICENSE", ".json", ".parity.output.npy"] {
        assert!(dir.path().join(format!("{ELM_NAME}{suffix}")).is_file(), "{suffix} missing");
    }
    // a second run downloads nothing (no server left to answer) and says so
    let mut o = ElmFetchOptions::new(dir.path().to_path_buf());
    o.base_url = "http://127.0.0.1:9/none".into();
    o.connect_timeout = Duration::from_secs(2);
    let again = peer::fetch_elm(&o, &mut |_, _| {}).expect("already there");
    assert!(again.iter().all(|f| matches!(f, neurotwin::fetch::Fetched::AlreadyPresent { .. })));
}

#[test]
fn a_corrupted_or_missing_file_leaves_nothing_behind() {
    let mut files = published_files();
    let last = files.len() - 1;
    files[last].1[1000] ^= 1;
    let base = serve(files, 3);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut o = ElmFetchOptions::new(dir.path().to_path_buf());
    o.base_url = base;
    o.read_timeout = Duration::from_secs(5);
    let e = peer::fetch_elm(&o, &mut |_, _| {}).expect_err("checksum");
    assert!(e.to_string().contains("checksum mismatch") && e.to_string().contains("neuronio_best_model_state.pt"), "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0, "nothing may be written");
    let base = serve(published_files().into_iter().take(2).collect(), 3);
    o.base_url = base;
    let e = peer::fetch_elm(&o, &mut |_, _| {}).expect_err("404");
    assert!(e.to_string().contains("404"), "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0, "nothing may be written");
}

/// The Rust forward pass against the independent NumPy one (`training/elm_reference.py`, float64,
/// sharing no code with the Rust or PyTorch implementations) on 800 ms of NEURON's own input.
#[cfg(feature = "python-suites")]
#[test]
fn matches_the_independent_numpy_forward_on_neurons_input() {
    use neurotwin::dataset::npy::{read_npy, write_npy, NpyData};
    let (dir, path) = installed();
    let mut m = SurrogateModel::load(&path, LoadOptions::default()).expect("loads");
    let (raster, _) = case_raster("paper_input_nmda_seed1003");
    let x = neurotwin::surrogate::predict::dense_columns(&raster, 0, 800);
    let input = dir.path().join("in.npy");
    let output = dir.path().join("out.npy");
    write_npy(&input, &[1, 1278, 800], x.as_slice().expect("contiguous")).expect("write input");
    let run = Command::new("python3")
        .args(["training/elm_reference.py", "--state"])
        .arg(&path)
        .arg("--config")
        .arg(dir.path().join(format!("{ELM_NAME}.model_config.json")))
        .arg("--input")
        .arg(&input)
        .arg("--out")
        .arg(&output)
        .output()
        .expect("python3 runs (pip install -r training/requirements.txt)");
    assert!(run.status.success(), "elm_reference.py failed: {}", String::from_utf8_lossy(&run.stderr));
    let a = read_npy(&output).expect("reference output");
    assert_eq!(a.shape, vec![1, 2, 800]);
    let NpyData::F32(want) = a.data else { panic!("float32 expected") };
    let got = m.run_raw(x.view()).expect("rust forward");
    let worst = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0f32, f32::max);
    println!("Rust vs NumPy reference over 800 ms of NEURON's input: max |diff| {worst:.2e}");
    assert!(worst < 1e-4, "Rust and the NumPy reference differ by {worst}");
    // and the outputs are not trivial: the logit spans several units
    let (lo, hi) = got.row(0).iter().fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    assert!(hi - lo > 3.0, "logit range {lo}..{hi}");
}

#[test]
fn why_did_it_spike_works_with_the_recurrent_twin() {
    let (dir, path) = installed();
    let out = dir.path().join("attr.json");
    // NEURON's first spike of seed 1001 is at 554.899 ms
    let run = Command::new(env!("CARGO_BIN_EXE_neurotwin"))
        .args(["--morphology", "../shared/morphologies/cell1.asc", "attribute", "--case", "../shared/reference/paper_input_nmda_seed1001.json", "--t-ms", "554.9", "--top", "5", "--model"])
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("json");
    let ranking = v["ranking"].as_array().expect("ranking");
    assert!(ranking.len() > 100, "rows with spikes in the 150-ms window: {}", ranking.len());
    // the twin predicts this spike, and its best-supported inputs are excitatory, its most opposing inhibitory
    assert!(v["probability"].as_f64().expect("p") > 0.05, "{}", v["probability"]);
    assert_eq!(ranking[0]["kind"], "exc", "{}", ranking[0]);
    assert!(ranking[0]["score"].as_f64().expect("score") > 0.0);
    let last = &ranking[ranking.len() - 1];
    assert_eq!(last["kind"], "inh", "{last}");
    assert!(last["score"].as_f64().expect("score") < 0.0);
}

/// Our own export path: an ELM of another shape (two ReLU layers, a τ_s per synapse) saved by
/// this machine's torch, read by neurotwin and compared with the NumPy reference.
#[cfg(feature = "python-suites")]
#[test]
fn an_elm_saved_by_torch_here_loads_and_matches_the_reference() {
    use neurotwin::dataset::npy::{read_npy, write_npy, NpyData};
    let dir = tempfile::tempdir().expect("tempdir");
    let script = r#"
import json, sys, torch
sys.path.insert(0, '.')
from training.branch_elm import BranchELM
cfg = {"num_input": 40, "num_branch": 6, "num_synapse_per_branch": 8, "num_memory": 12, "num_output": 2,
       "mlp_activation": "relu", "mlp_num_layers": 2, "mlp_hidden_size": 20, "memory_tau_min": 1.0,
       "memory_tau_max": 150.0, "learn_memory_tau": False, "input_to_synapse_routing": "neuronio_routing"}
torch.manual_seed(3)
m = BranchELM(cfg)
with torch.no_grad():
    m.tau_s.copy_(torch.linspace(2.0, 9.0, m.tau_s.numel()))
    for p in m.parameters():
        if p.requires_grad:
            p.add_(0.3 * torch.randn_like(p))
d = sys.argv[1]
torch.save(m.state_dict(), d + '/own.pt')
json.dump(cfg, open(d + '/own.model_config.json', 'w'))
"#;
    let run = Command::new("python3").arg("-c").arg(script).arg(dir.path()).output().expect("python3 runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let meta = r#"{"format": "neurotwin-dnn", "format_version": 1, "name": "own", "model_file": "own.pt",
        "network": {"kind": "elm", "config_file": "own.model_config.json", "input_convention": "neuronio_signed"},
        "morphology_fingerprint": "sha256:00", "input_rows": {"n_rows": 40, "n_segments": 20}, "window_ms": 150,
        "output": {"channels": [{"index": 0, "kind": "logit"}, {"index": 1, "kind": "soma_target"}]},
        "target_transforms": {"soma": {"clip_max_mV": -55.0, "offset_mV": -67.7, "scale_mV": 10.0}}}"#;
    std::fs::write(dir.path().join("own.json"), meta).expect("metadata");
    let mut m = SurrogateModel::load(&dir.path().join("own.pt"), LoadOptions::default()).expect("loads our own export");
    let elm = m.native().and_then(|n| n.as_elm()).expect("an ELM");
    assert!(!elm.per_branch_traces(), "τ_s differs within branches: per-synapse traces");
    let x = neurotwin::surrogate::model::pseudo_random_input(40, 400).mapv(|v| v) + &ndarray::Array2::from_shape_fn((40, 400), |(r, t)| if (r * 7 + t * 3) % 53 == 0 { 1.0 } else { 0.0 });
    let x = x.mapv(|v: f32| v.min(1.0));
    write_npy(&dir.path().join("in.npy"), &[1, 40, 400], x.as_slice().expect("contiguous")).expect("write");
    let run = Command::new("python3")
        .arg("training/elm_reference.py")
        .arg("--state")
        .arg(dir.path().join("own.pt"))
        .arg("--config")
        .arg(dir.path().join("own.model_config.json"))
        .arg("--input")
        .arg(dir.path().join("in.npy"))
        .arg("--out")
        .arg(dir.path().join("out.npy"))
        .output()
        .expect("python3 runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let NpyData::F32(want) = read_npy(&dir.path().join("out.npy")).expect("reference").data else { panic!("float32 expected") };
    let got = m.run_raw(x.view()).expect("runs");
    let worst = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0f32, f32::max);
    println!("our own 2-layer ReLU ELM, torch-saved here: max |Rust − NumPy| {worst:.2e}");
    assert!(worst < 1e-4, "differs by {worst}");
}
