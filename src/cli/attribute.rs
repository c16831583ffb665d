//! `neurotwin attribute`: why did the twin predict a spike at T? Occlusion scores of every input
//! row, optionally confirmed by deleting the top rows in the engine. Also the set-up (cell, twin)
//! that `faithfulness` shares. The work is done by `neurotwin::attribution`.

use super::{case_raster, DEFAULT_MODELS_DIR, DEFAULT_MORPHOLOGY};
use anyhow::{bail, Context, Result};
use neurotwin::attribution::whatif::Checkpoint;
use neurotwin::attribution::{attribute, delete_spikes, Attribution};
use neurotwin::biophysics::Cell;
use neurotwin::golden::case::Case;
use neurotwin::stimulus::{DendriticSegments, InputRaster};
use neurotwin::surrogate::{self, CellInputs, Fit, NativeNet, SurrogateModel};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct AttributeArgs {
    /// Model (NAME.onnx next to NAME.json); default: the best fit for the morphology in models/.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Golden-format case (l5pc-golden-v1 JSON) whose synapses are the input.
    #[arg(long)]
    case: PathBuf,
    /// The time (ms, fractions allowed) whose spike probability is explained; the twin works in
    /// 1-ms bins, so the bin explained is its floor (e.g. 542.5 → bin 542).
    #[arg(value_parser = super::finite_f64, long, allow_hyphen_values = true)]
    t_ms: f64,
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
    /// Write --out even when it is one of the inputs (refused by default: it would destroy it).
    #[arg(long)]
    force: bool,
}

/// The Hay 2011 cell and the twin that `attribute` and `faithfulness` work on.
pub struct Setup {
    pub cell: Cell,
    pub segs: DendriticSegments,
    pub soma_node: usize,
    pub model: SurrogateModel,
}

impl Setup {
    pub fn tcn(&self) -> Result<&NativeNet> {
        self.model.native().with_context(|| format!("model {}: attribution needs the native evaluation, which is off ({})", self.model.metadata().name, self.model.native_status()))
    }
}

pub fn setup(morphology: Option<&Path>, model: Option<&Path>) -> Result<Setup> {
    surrogate::select_tract()?;
    let morph_path = morphology.map_or_else(|| PathBuf::from(DEFAULT_MORPHOLOGY), Path::to_path_buf);
    if !morph_path.is_file() {
        bail!("morphology {} not found: pass --morphology FILE", morph_path.display());
    }
    let morph = super::load_morphology(&morph_path)?;
    let cell = neurotwin::biophysics::recipe::hay2011::build_cell(&morph, &neurotwin::Discretisation::default(), Default::default())
        .with_context(|| format!("building the Hay 2011 cell on {}", morph_path.display()))?;
    let segs = DendriticSegments::new(&cell.morphology, &cell.cable)?;
    let soma_node = cell.cable.segment_node(0, 0.5);
    let inputs = CellInputs::new(&cell.morphology, &cell.cable)?;
    let model_path = match model {
        Some(p) => p.to_path_buf(),
        None => surrogate::default_model(Path::new(DEFAULT_MODELS_DIR), &inputs)?.onnx_path,
    };
    let (model, _) = super::load_model(&model_path, 1)?;
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

pub fn run(args: &AttributeArgs, morphology: Option<&Path>) -> Result<()> {
    let meta = args.model.as_deref().map(surrogate::model::metadata_path);
    super::refuse_overwriting_inputs(
        args.out.as_deref(),
        &[("--case", Some(&args.case)), ("--model", args.model.as_deref()), ("the model's metadata", meta.as_deref()), ("--morphology", morphology)],
        args.force,
    )?;
    let s = setup(morphology, args.model.as_deref())?;
    let tcn = s.tcn()?;
    let case = Case::load(&args.case)?;
    let raster = case_raster(&case, &s.segs)?;
    if !(args.t_ms.is_finite() && args.t_ms >= 0.0 && args.t_ms < f64::from(raster.duration_ms())) {
        bail!("--t-ms {} is outside the case's [0, {}) ms", args.t_ms, raster.duration_ms());
    }
    let bin_ms = args.t_ms.floor() as usize;
    if bin_ms as f64 != args.t_ms {
        println!("--t-ms {}: the twin works in 1-ms bins; explaining bin {bin_ms} ms (the floor)", args.t_ms);
    }
    let t0 = Instant::now();
    let attr = attribute(tcn, &raster, &s.segs, bin_ms)?;
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
        neurotwin::atomic::write(out, serde_json::to_string_pretty(&report)?).with_context(|| format!("writing {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(())
}

fn confirm(s: &Setup, tcn: &NativeNet, case: &Case, raster: &InputRaster, attr: &Attribution, n: usize) -> Result<WhatIfReport> {
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
