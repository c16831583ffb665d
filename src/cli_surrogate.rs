//! `neurotwin predict` and `neurotwin evaluate`: the surrogate (DNN twin) from the command line.
//! A module of the binary; the work is done by `neurotwin::surrogate`.

use anyhow::{bail, Context, Result};
use neurotwin::case::Case;
use neurotwin::metrics::{match_spikes, roc_auc, rmse};
use neurotwin::stimulus::{DendriticSegments, InputRaster, SynapseSpec};
use neurotwin::surrogate::evaluate::{evaluate_dataset, spike_labels, EvalOptions, Evaluation};
use neurotwin::surrogate::predict::dense_columns;
use neurotwin::surrogate::{self, CellInputs, Fit, LoadOptions, PredictOptions, Prediction, StreamingPredictor, SurrogateModel};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where `predict` looks for a morphology and models when none is given.
const DEFAULT_MORPHOLOGY: &str = "../shared/morphologies/cell1_neuron_geometry.json";
const DEFAULT_MODELS_DIR: &str = "models";

#[derive(clap::Args)]
pub struct PredictArgs {
    /// Golden-format case (l5pc-golden-v1 JSON) whose synapses are the input.
    #[arg(long)]
    case: PathBuf,
    /// Model (NAME.onnx next to NAME.json); default: the best fit for the morphology in models/.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Write predictions (and agreement with the case's results) as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// ONNX Runtime shared library (e.g. pip wheel's libonnxruntime.so.1.32.0); default:
    /// ORT_DYLIB_PATH if set, else tract (pure Rust).
    #[arg(long, value_name = "PATH")]
    onnxruntime: Option<PathBuf>,
    /// False-positive rate whose threshold (from the model's metadata) marks predicted spikes.
    #[arg(long, default_value_t = 0.0025)]
    fpr: f64,
    /// New ms per network run (default: the whole case in one run if the model allows).
    #[arg(long)]
    chunk_ms: Option<usize>,
    /// Time N predictions after one warm-up and print the median latency.
    #[arg(long, value_name = "N")]
    bench: Option<usize>,
}

#[derive(clap::Args)]
pub struct EvaluateArgs {
    #[arg(long)]
    model: PathBuf,
    /// Dataset folder written by `neurotwin dataset`.
    #[arg(long, visible_alias = "dataset")]
    data: PathBuf,
    #[arg(long, value_name = "PATH")]
    onnxruntime: Option<PathBuf>,
    /// Bins before this are not scored.
    #[arg(long, default_value_t = 500)]
    ignore_ms: usize,
    /// Skip the first N simulations (e.g. the training part).
    #[arg(long, default_value_t = 0)]
    first_sim: usize,
    #[arg(long)]
    max_sims: Option<usize>,
    #[arg(long)]
    chunk_ms: Option<usize>,
    /// Threads per inference.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Predict with the ONNX backend even when the model's native evaluation is available.
    #[arg(long)]
    onnx: bool,
    /// Write the metrics as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Select the backend, print it and any fallback warning.
fn backend(onnxruntime: Option<&Path>) -> Result<()> {
    let choice = surrogate::select_backend(onnxruntime)?;
    if let Some(w) = &choice.warning {
        eprintln!("warning: {w}");
    }
    println!("backend: {}", choice.backend);
    Ok(())
}

fn load_model(path: &Path, threads: usize) -> Result<(SurrogateModel, f64)> {
    let t0 = Instant::now();
    let model = SurrogateModel::load(path, LoadOptions { intra_threads: threads }).with_context(|| format!("loading model {}", path.display()))?;
    Ok((model, t0.elapsed().as_secs_f64() * 1e3))
}

#[derive(Serialize)]
struct Agreement {
    tolerance_ms: f64,
    reference_spikes: usize,
    hits: usize,
    misses: usize,
    false_alarms: usize,
    /// Against the reference clipped as the model's target (mV), at whole-ms samples.
    soma_rmse_mv: f64,
    /// Over all bins; None when the reference has no spikes.
    auc: Option<f64>,
}

#[derive(Serialize)]
struct PredictReport<'a> {
    case: &'a str,
    model: &'a str,
    backend: String,
    load_ms: f64,
    predict_ms: f64,
    fpr: f64,
    threshold: f64,
    predicted_spike_times_ms: Vec<f64>,
    agreement: Option<Agreement>,
    prediction: &'a Prediction,
}

/// The input raster of a golden-format case's synapses (1-ms bins, the case's tstop).
pub fn case_raster(case: &Case, segs: &DendriticSegments) -> Result<InputRaster> {
    let duration_ms = case.sim.tstop.ceil() as u32;
    let synapses: Vec<SynapseSpec> = case
        .synapses
        .iter()
        .map(|s| SynapseSpec { kind: s.kind, sec: s.sec.clone(), x: s.x, spikes_ms: s.spikes_ms.clone(), paper_seg_index: s.paper_seg_index })
        .collect();
    InputRaster::from_synapses(segs, &synapses, duration_ms).with_context(|| format!("converting the synapses of case {} to an input raster", case.name))
}

pub fn predict(args: &PredictArgs, morphology: Option<&Path>) -> Result<()> {
    backend(args.onnxruntime.as_deref())?;
    let case = Case::load(&args.case)?;
    let morph_path = morphology.map_or_else(|| PathBuf::from(DEFAULT_MORPHOLOGY), Path::to_path_buf);
    if !morph_path.is_file() {
        bail!("morphology {} not found: pass --morphology FILE", morph_path.display());
    }
    let morph = neurotwin::morphology::load_hay2011(&morph_path).with_context(|| format!("loading morphology {}", morph_path.display()))?;
    let cable = neurotwin::Cable::new(&morph, &neurotwin::Discretisation::default())?;
    let segs = DendriticSegments::new(&morph, &cable)?;
    let cell = CellInputs::new(&morph, &cable)?;
    let model_path = match &args.model {
        Some(p) => p.clone(),
        None => surrogate::default_model(Path::new(DEFAULT_MODELS_DIR), &cell)?.onnx_path,
    };
    let (mut model, load_ms) = load_model(&model_path, 1)?;
    if model.metadata().fit(&cell)? == Fit::RowsOnly {
        eprintln!("warning: {}", model.metadata().rows_only_warning(&cell));
    }
    let duration_ms = case.sim.tstop.ceil() as u32;
    let raster = case_raster(&case, &segs)?;
    let opts = PredictOptions { chunk_ms: args.chunk_ms };
    let t0 = Instant::now();
    let pred = model.predict_raster(&raster, &opts)?;
    let predict_ms = t0.elapsed().as_secs_f64() * 1e3;
    let threshold = surrogate::threshold_for_fpr(model.metadata(), args.fpr).unwrap_or_else(|e| {
        eprintln!("warning: {e}; using probability 0.5");
        0.5
    });
    let spikes = pred.spike_times_ms(threshold);
    println!("model: {} ({} rows, window {} ms), loaded in {load_ms:.1} ms", model.metadata().name, model.n_rows(), model.window_ms());
    println!("streaming: {}", model.native_status());
    println!(
        "case {}: {duration_ms} ms, {} input spikes; predicted in {predict_ms:.1} ms ({:.0} simulated ms per s)",
        case.name,
        raster.n_spikes(),
        f64::from(duration_ms) / (predict_ms * 1e-3)
    );
    println!("predicted spikes (threshold p ≥ {threshold:.4} for FPR {}): {} at {spikes:?} ms", args.fpr, spikes.len());
    let agreement = case.results.as_ref().map(|r| agreement(r, &case, &pred, &spikes, model.metadata().target_transforms.soma.clip_max_mv));
    if let Some(a) = &agreement {
        println!(
            "vs the case's results (±{} ms): {} reference spikes, {} hits, {} misses, {} false alarms; soma RMSE {:.3} mV (clipped at the model's target); AUC {}",
            a.tolerance_ms,
            a.reference_spikes,
            a.hits,
            a.misses,
            a.false_alarms,
            a.soma_rmse_mv,
            a.auc.map_or("n/a (no reference spikes)".to_string(), |v| format!("{v:.4}"))
        );
    }
    if let Some(n) = args.bench {
        let mut ms = Vec::new();
        for i in 0..=n {
            let t = Instant::now();
            model.predict_raster(&raster, &opts)?;
            if i > 0 {
                ms.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        ms.sort_by(f64::total_cmp);
        let median = ms.get(ms.len() / 2).copied().unwrap_or(f64::NAN);
        println!(
            "bench: {} ms prediction, median {median:.2} ms over {n} runs (min {:.2}, max {:.2}) on {}",
            duration_ms,
            ms.first().copied().unwrap_or(f64::NAN),
            ms.last().copied().unwrap_or(f64::NAN),
            model.backend()
        );
    }
    if args.bench.is_some() {
        model = bench_streaming(model, &raster)?;
    }
    if let Some(out) = &args.out {
        let report = PredictReport {
            case: &case.name,
            model: &model.metadata().name,
            backend: model.backend().to_string(),
            load_ms,
            predict_ms,
            fpr: args.fpr,
            threshold,
            predicted_spike_times_ms: spikes,
            agreement,
            prediction: &pred,
        };
        std::fs::write(out, serde_json::to_string(&report)?).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}

/// Live use: latency per 10-ms chunk fed to a [`StreamingPredictor`] over the first second.
fn bench_streaming(model: SurrogateModel, raster: &InputRaster) -> Result<SurrogateModel> {
    const CHUNK_MS: usize = 10;
    let total = (raster.duration_ms() as usize).min(1000);
    let mut sp = StreamingPredictor::new(model);
    let mut ms = Vec::new();
    for t in (0..total).step_by(CHUNK_MS) {
        let cols = dense_columns(raster, t, (t + CHUNK_MS).min(total));
        let t0 = Instant::now();
        sp.push_columns(cols.view())?;
        ms.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    let median = ms.get(ms.len() / 2).copied().unwrap_or(f64::NAN);
    println!("bench: streaming {CHUNK_MS}-ms chunks, median {median:.3} ms per chunk over {} chunks ({:.1}x real time)", ms.len(), CHUNK_MS as f64 / median);
    Ok(sp.into_model())
}

fn agreement(r: &neurotwin::case::Results, case: &Case, pred: &Prediction, spikes: &[f64], clip_mv: f64) -> Agreement {
    const TOLERANCE_MS: f64 = 5.0;
    let m = match_spikes(&r.spike_times_ms, spikes, TOLERANCE_MS);
    // reference samples that fall on whole ms
    let dt = case.recording.soma_dt_ms;
    let (mut v_ref, mut v_pred) = (Vec::new(), Vec::new());
    for (i, &v) in r.soma_v.iter().enumerate() {
        let t = i as f64 * dt;
        let k = t.round();
        if (t - k).abs() < 1e-6 && (k as usize) < pred.len_ms() {
            v_ref.push(v.min(clip_mv));
            v_pred.push(f64::from(pred.soma_v_mv[k as usize]));
        }
    }
    let labels = spike_labels(&r.spike_times_ms, pred.len_ms());
    let scores: Vec<f64> = pred.spike_probability.iter().map(|&p| f64::from(p)).collect();
    Agreement {
        tolerance_ms: TOLERANCE_MS,
        reference_spikes: r.spike_times_ms.len(),
        hits: m.hits,
        misses: m.misses,
        false_alarms: m.false_alarms,
        soma_rmse_mv: rmse(&v_ref, &v_pred),
        auc: roc_auc(&labels, &scores).ok(),
    }
}

pub fn evaluate(args: &EvaluateArgs) -> Result<()> {
    backend(args.onnxruntime.as_deref())?;
    let (mut model, load_ms) = load_model(&args.model, args.threads)?;
    println!("model: {} ({} rows, window {} ms), loaded in {load_ms:.1} ms", model.metadata().name, model.n_rows(), model.window_ms());
    let ds = neurotwin::dataset::Dataset::open(&args.data).with_context(|| format!("opening dataset {}", args.data.display()))?;
    let opts = EvalOptions {
        ignore_first_ms: args.ignore_ms,
        first_sim: args.first_sim,
        max_sims: args.max_sims,
        predict: PredictOptions { chunk_ms: args.chunk_ms },
        native: !args.onnx,
        ..EvalOptions::default()
    };
    let ev = evaluate_dataset(&mut model, &ds, &opts)?;
    if let Some(w) = &ev.warning {
        eprintln!("warning: {w}");
    }
    print_evaluation(&ev);
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_string_pretty(&ev)?).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}

fn print_evaluation(ev: &Evaluation) {
    for (label, m) in [("all simulations", &ev.all), (&*format!("≤ {} output spikes per 6 s", ev.max_spikes_per_6s), &ev.low_rate)] {
        let spikes = match m.auc {
            Some(auc) => {
                let pts: Vec<String> = m.at_fpr.iter().map(|p| format!("TPR {:.3} at FPR {:.2} %", p.tpr, 100.0 * p.target_fpr)).collect();
                format!("AUC {auc:.4}, {}", pts.join(", "))
            }
            None => "AUC n/a (no spike bins)".into(),
        };
        let soma = m.soma.map_or("soma n/a".into(), |s| {
            format!(
                "soma RMSE {:.3} mV (rescaled {:.3}), explained variance {:.4} (rescaled {:.4})",
                s.rmse_mv, s.rmse_rescaled_mv, s.explained_variance, s.explained_variance_rescaled
            )
        });
        println!("{label}: {} sims, {} bins after {} ms, {} spike bins; {spikes}; {soma}", m.n_sims, m.n_bins, ev.ignore_first_ms, m.n_spike_bins);
    }
    println!("prediction: {:.2} s wall, {:.0} simulated ms per s ({})", ev.predict_wall_s, ev.ms_per_s, ev.backend);
}
