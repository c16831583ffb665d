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
    /// Read the shards without checking their sizes and SHA-256 against the manifest (the
    /// report says so).
    #[arg(long)]
    no_verify: bool,
    /// Write --out even when it is one of the inputs (the model, its metadata, a manifest).
    #[arg(long)]
    force: bool,
}

pub fn evaluate(args: &EvaluateArgs) -> Result<()> {
    if let Some(out) = &args.out {
        let manifests = neurotwin::dataset::Manifest::find_all(&args.data).unwrap_or_default();
        let meta = neurotwin::surrogate::model::metadata_path(&args.model);
        let mut inputs: Vec<(&str, &std::path::Path)> = vec![("--model", &args.model), ("the model's metadata", &meta)];
        inputs.extend(manifests.iter().map(|m| ("a dataset manifest", m.as_path())));
        neurotwin::input::check_output_not_input(out, &inputs, args.force)?;
    }
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
        verify: !args.no_verify,
        ..EvalOptions::default()
    };
    if args.no_verify {
        eprintln!("warning: --no-verify given: the shards are read without checking their sizes and SHA-256 against the manifest");
    } else {
        println!("shards are checked against the manifest's sizes and SHA-256 before they are read");
    }
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
    print!("{}", format_evaluation(ev));
}

/// `v` to `decimals` places, or "n/a (why)" when it is not a finite number: no NaN or inf is
/// ever printed.
fn num(v: f64, decimals: usize, why: &str) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        format!("n/a ({why})")
    }
}

/// The console report of an evaluation; every undefined figure says why it is undefined.
fn format_evaluation(ev: &Evaluation) -> String {
    const CONSTANT: &str = "the recorded soma voltage is constant, so its variance is 0";
    let mut out = String::new();
    for (label, m) in [("all simulations", &ev.all), (&*format!("≤ {} output spikes per 6 s", ev.max_spikes_per_6s), &ev.low_rate)] {
        let spikes = match m.auc.filter(|a| a.is_finite()) {
            Some(auc) => {
                let pts: Vec<String> = m
                    .at_fpr
                    .iter()
                    .map(|p| format!("TPR {} at FPR {} %", num(p.tpr, 3, "no spike bins"), num(100.0 * p.target_fpr, 2, "no target")))
                    .collect();
                format!("AUC {auc:.4}, {}", pts.join(", "))
            }
            None if m.n_spike_bins == 0 => "AUC n/a (no spike bins: the ROC needs both classes)".into(),
            None => "AUC n/a (only spike bins: the ROC needs both classes)".into(),
        };
        let soma = m.soma.map_or("soma n/a (no soma voltage in these simulations)".into(), |s| {
            format!(
                "soma RMSE {} mV (rescaled {}), explained variance {} (rescaled {})",
                num(s.rmse_mv, 3, "no samples"),
                num(s.rmse_rescaled_mv, 3, "no samples"),
                num(s.explained_variance, 4, CONSTANT),
                num(s.explained_variance_rescaled, 4, CONSTANT)
            )
        });
        out += &format!("{label}: {} sims, {} bins after {} ms, {} spike bins; {spikes}; {soma}\n", m.n_sims, m.n_bins, ev.ignore_first_ms, m.n_spike_bins);
    }
    for c in &ev.at_model_thresholds {
        let ratio = if c.target_fpr > 0.0 && c.fpr.is_finite() {
            format!("{:.2}× the target", c.fpr / c.target_fpr)
        } else {
            "the target is 0, so no ratio".into()
        };
        out += &format!(
            "model threshold for FPR {} % (p ≥ {}): TPR {}, FPR {} % here ({ratio})\n",
            num(100.0 * c.target_fpr, 2, "not set"),
            num(c.probability, 4, "not set"),
            num(c.tpr, 3, "no spike bins"),
            num(100.0 * c.fpr, 3, "no non-spike bins"),
        );
    }
    if let Some(c) = &ev.count_matched {
        out += &format!(
            "count-matched threshold p ≥ {:.4}: {} predicted spikes for the cell's {} (TPR {:.3}, FPR {:.3} % per bin)\n",
            c.probability,
            c.predicted_spikes,
            c.true_spikes,
            c.tpr,
            100.0 * c.fpr
        );
    }
    for p in &ev.all.at_fpr {
        out += &format!("threshold for FPR {} % on this data: p ≥ {}\n", num(100.0 * p.target_fpr, 2, "no target"), num(p.threshold, 4, "nothing predicted"));
    }
    out += &format!(
        "prediction: {} s wall, {} simulated ms per s ({})\n",
        num(ev.predict_wall_s, 2, "not timed"),
        num(ev.ms_per_s, 0, "too fast to time: no measurable wall-clock time"),
        ev.backend
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurotwin::metrics::SomaMetrics;
    use neurotwin::surrogate::evaluate::{OperatingPointJson, SubsetMetrics, ThresholdCheck};

    fn subset(auc: Option<f64>, n_spike_bins: usize, soma: Option<SomaMetrics>) -> SubsetMetrics {
        SubsetMetrics {
            n_sims: 2,
            n_bins: 1000,
            n_spike_bins,
            auc,
            at_fpr: vec![OperatingPointJson { target_fpr: 0.001, tpr: f64::NAN, fpr: 0.0, threshold: 0.5 }],
            soma,
        }
    }

    #[test]
    fn undefined_metrics_say_why_and_no_nan_is_printed() {
        // a constant soma trace (explained variance undefined), no spike bins (AUC undefined), a
        // zero target FPR and an untimeable prediction
        let constant = SomaMetrics::new(&[-70.0; 4], &[-69.0, -71.0, -70.0, -70.0]);
        assert!(constant.explained_variance.is_nan(), "the library's value is NaN: the report must not show it");
        let ev = Evaluation {
            model: "m".into(),
            backend: "tract".into(),
            ignore_first_ms: 500,
            all: subset(None, 0, Some(constant)),
            at_model_thresholds: vec![ThresholdCheck { target_fpr: 0.0, probability: 0.3, tpr: 0.5, fpr: 0.001 }],
            low_rate: subset(Some(f64::NAN), 1000, None),
            count_matched: None,
            max_spikes_per_6s: 3,
            predict_wall_s: 0.0,
            ms_per_s: f64::NAN,
            warning: None,
            shards_verified: true,
        };
        let text = format_evaluation(&ev);
        for bad in ["NaN", "nan", "inf"] {
            assert!(!text.contains(bad), "{bad} printed:\n{text}");
        }
        assert!(text.contains("AUC n/a (no spike bins"), "{text}");
        assert!(text.contains("AUC n/a (only spike bins"), "{text}");
        assert!(text.contains("explained variance n/a (the recorded soma voltage is constant"), "{text}");
        assert!(text.contains("soma RMSE 0.707 mV"), "{text}");
        assert!(text.contains("the target is 0, so no ratio"), "{text}");
        assert!(text.contains("n/a (too fast to time"), "{text}");
        // a defined evaluation prints its figures
        let mut ok = ev.clone();
        ok.all = subset(Some(0.95), 10, Some(SomaMetrics::new(&[0.0, 2.0, 4.0, 6.0], &[1.0, 1.0, 5.0, 5.0])));
        ok.all.at_fpr[0].tpr = 0.25;
        ok.ms_per_s = 1234.0;
        let text = format_evaluation(&ok);
        assert!(text.contains("AUC 0.9500, TPR 0.250 at FPR 0.10 %") && text.contains("explained variance 0.8000"), "{text}");
        assert!(text.contains("1234 simulated ms per s"), "{text}");
    }
}
