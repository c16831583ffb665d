//! `neurotwin attribute` (why did the twin predict a spike at T: occlusion scores of every input
//! row, optionally confirmed by deleting the top rows in the engine) and `neurotwin faithfulness`
//! (the deletion test over every somatic spike of a run). The work is done by
//! `neurotwin::attribution`.

use crate::cli_surrogate::case_raster;
use anyhow::{bail, Context, Result};
use neurotwin::attribution::faithfulness::{deletion_faithfulness, FaithfulnessOptions};
use neurotwin::attribution::whatif::Checkpoint;
use neurotwin::attribution::{attribute, delete_spikes, Attribution};
use neurotwin::biophysics::Cell;
use neurotwin::case::Case;
use neurotwin::stimulus::{DendriticSegments, InputRaster, PaperProtocol};
use neurotwin::surrogate::{self, CellInputs, Fit, LoadOptions, NativeTcn, SurrogateModel};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the commands look for a morphology and models when none is given (as `predict`).
const DEFAULT_MORPHOLOGY: &str = "../shared/morphologies/cell1_neuron_geometry.json";
const DEFAULT_MODELS_DIR: &str = "models";

#[derive(clap::Args)]
pub struct AttributeArgs {
    /// Model (NAME.onnx next to NAME.json); default: the best fit for the morphology in models/.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Golden-format case (l5pc-golden-v1 JSON) whose synapses are the input.
    #[arg(long)]
    case: PathBuf,
    /// The ms (the twin's 1-ms bin) whose spike probability is explained.
    #[arg(long)]
    t_ms: usize,
    /// Rows printed (all rows with spikes in the window go to --out).
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Write the attribution as JSON (`ranking`: rows by descending score).
    #[arg(long)]
    out: Option<PathBuf>,
    /// What-if in the engine: delete the spikes of the top N rows inside the window, re-run from
    /// a checkpoint at the window start and report the somatic spikes with and without them.
    #[arg(long, value_name = "N")]
    confirm_top: Option<usize>,
}

#[derive(clap::Args)]
pub struct FaithfulnessArgs {
    #[arg(long)]
    model: Option<PathBuf>,
    /// Golden-format case to use as the input; default: the paper's protocol (see --seed).
    #[arg(long)]
    case: Option<PathBuf>,
    /// Seed of the paper-protocol input when no case is given.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value_t = 6000)]
    duration_ms: u32,
    /// Rows deleted per trial.
    #[arg(long, default_value_t = 20)]
    k: usize,
    /// Random-deletion trials per spike.
    #[arg(long, default_value_t = 5)]
    random_trials: usize,
    #[arg(long)]
    out: Option<PathBuf>,
}

struct Setup {
    cell: Cell,
    segs: DendriticSegments,
    soma_node: usize,
    model: SurrogateModel,
}

impl Setup {
    fn tcn(&self) -> Result<&NativeTcn> {
        self.model.native().with_context(|| format!("model {}: attribution needs the native evaluation, which is off ({})", self.model.metadata().name, self.model.native_status()))
    }
}

fn setup(morphology: Option<&Path>, model: Option<&Path>) -> Result<Setup> {
    surrogate::select_tract()?;
    let morph_path = morphology.map_or_else(|| PathBuf::from(DEFAULT_MORPHOLOGY), Path::to_path_buf);
    if !morph_path.is_file() {
        bail!("morphology {} not found: pass --morphology FILE", morph_path.display());
    }
    let morph = neurotwin::morphology::load_hay2011(&morph_path).with_context(|| format!("loading morphology {}", morph_path.display()))?;
    let cell = neurotwin::biophysics::recipe::hay2011::build_cell(&morph, &neurotwin::Discretisation::default(), Default::default())
        .with_context(|| format!("building the Hay 2011 cell on {}", morph_path.display()))?;
    let segs = DendriticSegments::new(&cell.morphology, &cell.cable)?;
    let soma_node = cell.cable.segment_node(0, 0.5);
    let inputs = CellInputs::new(&cell.morphology, &cell.cable)?;
    let model_path = match model {
        Some(p) => p.to_path_buf(),
        None => surrogate::default_model(Path::new(DEFAULT_MODELS_DIR), &inputs)?.onnx_path,
    };
    let model = SurrogateModel::load(&model_path, LoadOptions::default()).with_context(|| format!("loading {}", model_path.display()))?;
    if model.metadata().fit(&inputs)? == Fit::RowsOnly {
        eprintln!("warning: {}", model.metadata().rows_only_warning(&inputs));
    }
    Ok(Setup { cell, segs, soma_node, model })
}

#[derive(Serialize)]
struct WhatIfReport {
    deleted_rows: Vec<usize>,
    checkpoint_ms: f64,
    until_ms: f64,
    engine_spikes_original_ms: Vec<f64>,
    engine_spikes_edited_ms: Vec<f64>,
    twin_probability_edited: f32,
}

#[derive(Serialize)]
struct AttributeReport<'a> {
    model: &'a str,
    case: &'a str,
    #[serde(flatten)]
    attribution: &'a Attribution,
    elapsed_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    what_if: Option<WhatIfReport>,
}

pub fn attribute_cmd(args: &AttributeArgs, morphology: Option<&Path>) -> Result<()> {
    let s = setup(morphology, args.model.as_deref())?;
    let tcn = s.tcn()?;
    let case = Case::load(&args.case)?;
    let raster = case_raster(&case, &s.segs)?;
    let t0 = Instant::now();
    let attr = attribute(tcn, &raster, &s.segs, args.t_ms)?;
    let elapsed_ms = t0.elapsed().as_secs_f64() * 1e3;
    println!(
        "model {}; case {}; t = {} ms: spike probability {:.4}; {} input rows with spikes in [{}, {}] ms scored in {elapsed_ms:.0} ms",
        s.model.metadata().name,
        case.name,
        attr.t_ms,
        attr.probability,
        attr.ranking.len(),
        attr.window_from_ms,
        attr.t_ms
    );
    println!("{:>5} {:>4} {:>4} {:>10} {:>6} {:>8} {:>6} {:>9}", "rank", "kind", "seg", "sec", "x", "dist_um", "spikes", "score");
    for (i, r) in attr.ranking.iter().take(args.top).enumerate() {
        let kind = serde_json::to_value(r.kind)?.as_str().unwrap_or("?").to_string();
        println!("{:>5} {:>4} {:>4} {:>10} {:>6.3} {:>8.1} {:>6} {:>+9.5}", i + 1, kind, r.segment, r.sec, r.x, r.distance_um, r.n_spikes, r.score);
    }
    let what_if = match args.confirm_top {
        Some(n) => Some(confirm(&s, tcn, &case, &raster, &attr, n)?),
        None => None,
    };
    if let Some(out) = &args.out {
        let report = AttributeReport { model: &s.model.metadata().name, case: &case.name, attribution: &attr, elapsed_ms, what_if };
        std::fs::write(out, serde_json::to_string_pretty(&report)?).with_context(|| format!("writing {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(())
}

fn confirm(s: &Setup, tcn: &NativeTcn, case: &Case, raster: &InputRaster, attr: &Attribution, n: usize) -> Result<WhatIfReport> {
    let ampa_only = case.model.variant_flags.ampa_only.unwrap_or(false);
    let rows = attr.top_rows(n);
    let edited = delete_spikes(raster, &rows, attr.window_from_ms, attr.t_ms)?;
    let cp = Checkpoint::new(&s.cell, &s.segs, s.soma_node, raster, attr.window_from_ms as u32, ampa_only, &[])?;
    let until_ms = (attr.t_ms as f64 + 20.0).min(f64::from(raster.duration_ms()));
    let in_window = |v: Vec<f64>| v.into_iter().filter(|&t| t >= cp.t_ms()).collect::<Vec<_>>();
    let original = in_window(cp.run(raster, until_ms)?.spike_times_ms);
    let edited_spikes = in_window(cp.run(&edited, until_ms)?.spike_times_ms);
    let p = tcn.probability_at(edited.rows(), attr.t_ms).map_err(anyhow::Error::msg)?;
    println!(
        "what-if, top {n} rows' spikes in the window deleted (engine re-run from {} ms to {until_ms} ms): engine spikes {original:.2?} -> {edited_spikes:.2?}; twin probability {:.4} -> {p:.4}",
        cp.t_ms(),
        attr.probability
    );
    Ok(WhatIfReport {
        deleted_rows: rows,
        checkpoint_ms: cp.t_ms(),
        until_ms,
        engine_spikes_original_ms: original,
        engine_spikes_edited_ms: edited_spikes,
        twin_probability_edited: p,
    })
}

pub fn faithfulness_cmd(args: &FaithfulnessArgs, morphology: Option<&Path>) -> Result<()> {
    let s = setup(morphology, args.model.as_deref())?;
    let tcn = s.tcn()?;
    let (raster, ampa_only, what) = match &args.case {
        Some(p) => {
            let case = Case::load(p)?;
            (case_raster(&case, &s.segs)?, case.model.variant_flags.ampa_only.unwrap_or(false), format!("case {}", case.name))
        }
        None => {
            let mut protocol = s.model.metadata().training_protocol().unwrap_or_else(PaperProtocol::nmda);
            protocol.duration_ms = args.duration_ms;
            let ampa = matches!(protocol.variant, neurotwin::stimulus::InputVariant::Ampa);
            (protocol.generate(&s.segs, args.seed)?.raster, ampa, format!("paper protocol, seed {}, {} ms", args.seed, args.duration_ms))
        }
    };
    let opts = FaithfulnessOptions { k: args.k, random_trials: args.random_trials, ampa_only, ..Default::default() };
    let t0 = Instant::now();
    let (f, original) = deletion_faithfulness(tcn, &s.cell, &s.segs, s.soma_node, &raster, &opts)?;
    println!("model {}; {what}: {} somatic spikes in the engine", s.model.metadata().name, original.spike_times_ms.len());
    for t in &f.trials {
        println!(
            "  spike {:8.2} ms: twin p {:.3} -> {:.3} without the top {}; engine spike {} by the top {}, {} of {} random deletions",
            t.spike_ms,
            t.twin_probability,
            t.twin_probability_top_deleted,
            f.k,
            if t.top_abolished { "abolished" } else { "kept" },
            f.k,
            t.random_abolished,
            t.random_trials
        );
    }
    println!(
        "deleting the top {} attributed inputs abolished {:.0} % of the spikes; deleting {} random active inputs {:.0} % ({:.0} s)",
        f.k,
        100.0 * f.top_rate(),
        f.k,
        100.0 * f.random_rate(),
        t0.elapsed().as_secs_f64()
    );
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_string_pretty(&f)?).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}
