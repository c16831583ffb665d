//! `neurotwin evaluate`: the paper's evaluation of a DNN twin on a dataset written by
//! `neurotwin dataset`. The work is done by `neurotwin::surrogate::evaluate`.

use super::{load_model, print_backend};
use anyhow::{Context, Result};
use neurotwin::surrogate::evaluate::{evaluate_dataset, EvalOptions, Evaluation};
use neurotwin::surrogate::PredictOptions;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// Model to evaluate (NAME.onnx next to NAME.json).
    #[arg(long)]
    model: PathBuf,
    /// Dataset folder written by `neurotwin dataset`.
    #[arg(long, visible_alias = "dataset")]
    data: PathBuf,
    /// ONNX Runtime shared library; default: ORT_DYLIB_PATH if set, else tract (pure Rust).
    #[arg(long, value_name = "PATH")]
    onnxruntime: Option<PathBuf>,
    /// Bins before this are not scored.
    #[arg(long, default_value_t = 500)]
    ignore_ms: usize,
    /// Skip the first N simulations (e.g. the training part).
    #[arg(long, default_value_t = 0)]
    first_sim: usize,
    /// Evaluate at most this many simulations (after --first-sim); default all.
    #[arg(long)]
    max_sims: Option<usize>,
    /// New ms per network run (default: each whole simulation in one run if the model allows).
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

pub fn evaluate(args: &EvaluateArgs) -> Result<()> {
    print_backend(args.onnxruntime.as_deref())?;
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
        neurotwin::atomic::write(out, serde_json::to_string_pretty(&ev)?).with_context(|| format!("writing {}", out.display()))?;
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
    for c in &ev.at_model_thresholds {
        println!(
            "model threshold for FPR {:.2} % (p ≥ {:.4}): TPR {:.3}, FPR {:.3} % here ({:.2}× the target)",
            100.0 * c.target_fpr,
            c.probability,
            c.tpr,
            100.0 * c.fpr,
            c.fpr / c.target_fpr
        );
    }
    println!("prediction: {:.2} s wall, {:.0} simulated ms per s ({})", ev.predict_wall_s, ev.ms_per_s, ev.backend);
}
