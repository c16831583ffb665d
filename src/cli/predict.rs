//! `neurotwin predict`: predict a golden case with the DNN twin and compare with the case's
//! results. The work is done by `neurotwin::surrogate`.

use super::{case_raster, load_model, print_backend, DEFAULT_MODELS_DIR, DEFAULT_MORPHOLOGY};
use anyhow::{Context, Result};
use neurotwin::golden::case::Case;
use neurotwin::metrics::{match_spikes, roc_auc, rmse};
use neurotwin::stimulus::InputRaster;
use neurotwin::surrogate::evaluate::spike_labels;
use neurotwin::surrogate::predict::dense_columns;
use neurotwin::surrogate::{self, Fit, PredictOptions, Prediction, StreamingPredictor, SurrogateModel};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

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
    #[arg(value_parser = super::finite_f64, long, default_value_t = 0.0025)]
    fpr: f64,
    /// New ms per network run (default: the whole case in one run if the model allows).
    #[arg(long)]
    chunk_ms: Option<usize>,
    /// Time N predictions (N ≥ 1) after one warm-up and print the median latency.
    #[arg(long, value_name = "N")]
    bench: Option<usize>,
    /// Write --out even when it is one of the inputs (refused by default: it would destroy it).
    #[arg(long)]
    force: bool,
}

#[derive(Serialize)]
struct Agreement {
    tolerance_ms: f64,
    reference_spikes: usize,
    hits: usize,
    misses: usize,
    false_alarms: usize,
    /// Against the reference clipped as the model's target (mV), at whole-ms samples; None when
    /// no reference sample falls on a predicted ms.
    soma_rmse_mv: Option<f64>,
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

pub fn predict(args: &PredictArgs, morphology: Option<&Path>) -> Result<()> {
    let meta = args.model.as_deref().map(surrogate::model::metadata_path);
    super::refuse_overwriting_inputs(
        args.out.as_deref(),
        &[("--case", Some(&args.case)), ("--model", args.model.as_deref()), ("the model's metadata", meta.as_deref()), ("--morphology", morphology)],
        args.force,
    )?;
    print_backend(args.onnxruntime.as_deref())?;
    let case = Case::load(&args.case)?;
    // before the model and the raster (every input row for every ms) are allocated
    neurotwin::limits::check_tstop(&format!("{}: sim.tstop (ms)", args.case.display()), case.sim.tstop)?;
    let morph_path = morphology.map_or_else(|| PathBuf::from(DEFAULT_MORPHOLOGY), Path::to_path_buf);
    let (segs, cell) = super::twin_cell(&morph_path)?;
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
    println!("predicted spikes (threshold p ≥ {threshold:.4} for FPR {}): {} at {} ms", args.fpr, spikes.len(), super::format_times_ms(&spikes));
    let agreement = case.results.as_ref().map(|r| agreement(r, &case, &pred, &spikes, model.metadata().target_transforms.soma.clip_max_mv));
    if let Some(a) = &agreement {
        println!(
            "vs the case's results (±{} ms): {} reference spikes, {} hits, {} misses, {} false alarms; soma RMSE {} (clipped at the model's target); AUC {}",
            a.tolerance_ms,
            a.reference_spikes,
            a.hits,
            a.misses,
            a.false_alarms,
            a.soma_rmse_mv.map_or("n/a (no reference sample falls on a predicted ms)".to_string(), |v| format!("{v:.3} mV")),
            a.auc.map_or("n/a (no reference spikes)".to_string(), |v| format!("{v:.4}"))
        );
    }
    if args.bench == Some(0) {
        println!("bench: --bench 0 times no runs, so there is no latency to report (give N ≥ 1)");
    } else if let Some(n) = args.bench {
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
    if args.bench.is_some_and(|n| n > 0) {
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
        neurotwin::atomic::write(out, serde_json::to_string(&report)?).with_context(|| format!("writing {}", out.display()))?;
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
    let Some(median) = ms.get(ms.len() / 2).copied() else {
        println!("bench: streaming not timed: the case is shorter than one {CHUNK_MS}-ms chunk");
        return Ok(sp.into_model());
    };
    println!("bench: streaming {CHUNK_MS}-ms chunks, median {median:.3} ms per chunk over {} chunks ({:.1}x real time)", ms.len(), CHUNK_MS as f64 / median);
    Ok(sp.into_model())
}

fn agreement(r: &neurotwin::golden::case::Results, case: &Case, pred: &Prediction, spikes: &[f64], clip_mv: f64) -> Agreement {
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
        soma_rmse_mv: (!v_ref.is_empty()).then(|| rmse(&v_ref, &v_pred)),
        auc: roc_auc(&labels, &scores).ok(),
    }
}

