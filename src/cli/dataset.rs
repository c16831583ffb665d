//! `neurotwin dataset`: simulate the paper's input protocol N times on the Hay 2011 cell and write
//! a training dataset (NumPy shards + manifest.json), resumably. The work is done by
//! `neurotwin::dataset` (the runner) with `neurotwin::dataset::paper_sim` as the simulation.

use super::load_morphology;
use anyhow::{Context, Result};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct DatasetArgs {
    /// Number of simulations in the whole dataset (at most 1,000,000; see the README's Limits).
    #[arg(long, required_unless_present = "merge_parts")]
    count: Option<usize>,
    /// Simulated time of each simulation (ms).
    #[arg(long, default_value_t = 6000)]
    duration_ms: u32,
    /// Base seed: simulation k uses a seed derived from it and k.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// nmda: AMPA+NMDA synapses and the NMDA model's rates; ampa: AMPA-only synapses and rates.
    #[arg(long, value_enum, default_value_t = Variant::Nmda)]
    variant: Variant,
    /// Output folder (shards and manifest.json).
    #[arg(long)]
    out: PathBuf,
    /// This job's part of the shards, I/N with 0 ≤ I < N (e.g. a Slurm array index).
    #[arg(long)]
    shard: Option<String>,
    /// Worker threads (one simulation per thread); default: all cores; more than the machine's
    /// cores are capped at its cores (with a warning).
    #[arg(long)]
    threads: Option<usize>,
    /// Simulations per shard file set (at most 256; a shard is held in memory).
    #[arg(long, default_value_t = 32)]
    sims_per_shard: usize,
    /// Also store every dendritic segment's voltage at 1 ms (f16 or f32).
    #[arg(long, value_enum)]
    dendritic: Option<DendArg>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Simulate nothing: merge the manifest.part-I-of-N.json files that `--shard I/N` jobs wrote in
    /// --out into the manifest.json a one-machine run writes (byte for byte), then move the parts
    /// into --out/parts/. Every part must be finished.
    #[arg(long, conflicts_with_all = ["count", "shard", "threads", "dendritic"])]
    merge_parts: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Variant {
    Nmda,
    Ampa,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DendArg {
    F16,
    F32,
}

/// `morphology` is the global --morphology (required; the traced axon is replaced by the Hay stub).
pub fn run(args: DatasetArgs, morphology: Option<&std::path::Path>) -> Result<()> {
    if args.merge_parts {
        let report = neurotwin::dataset::merge_parts(&args.out)?;
        eprintln!(
            "{} parts merged ({} shards): {}; the parts moved to {}",
            report.parts,
            report.shards,
            report.manifest_path.display(),
            report.parts_dir.display()
        );
        return Ok(());
    }
    let Some(count) = args.count else {
        anyhow::bail!("--count is required (the number of simulations)");
    };
    let morphology = super::require_morphology(morphology)?;
    use neurotwin::dataset::{DendDtype, DatasetOptions, Partition};
    use neurotwin::stimulus::{DendriticSegments, InputVariant};
    let variant = match args.variant {
        Variant::Nmda => InputVariant::Nmda,
        Variant::Ampa => InputVariant::Ampa,
    };
    neurotwin::limits::check_dataset(count, args.sims_per_shard)?;
    neurotwin::limits::check_tstop("--duration-ms", f64::from(args.duration_ms))?;
    let threads = args.threads.map(|t| {
        let (n, message) = neurotwin::limits::cap_threads(t);
        if let Some(m) = message {
            eprintln!("warning: {m}");
        }
        n
    });
    let morph = load_morphology(&morphology)?;
    let cell = neurotwin::biophysics::recipe::hay2011::build_cell(&morph, &neurotwin::Discretisation::default(), Default::default())
        .with_context(|| format!("building the Hay 2011 cell on {}", morphology.display()))?;
    let segs = DendriticSegments::new(&cell.morphology, &cell.cable)?;
    let soma_node = cell.cable.segment_node(0, 0.5);
    let mut opts = DatasetOptions::new(morphology.clone(), args.out.clone(), count, args.seed, variant, args.duration_ms);
    opts.threads = threads;
    opts.sims_per_shard = args.sims_per_shard;
    opts.progress = !args.quiet;
    opts.dendritic = args.dendritic.map(|d| match d {
        DendArg::F16 => DendDtype::F16,
        DendArg::F32 => DendDtype::F32,
    });
    if let Some(p) = &args.shard {
        opts.partition = Partition::parse(p)?;
    }
    let ampa_only = matches!(variant, InputVariant::Ampa);
    let record_dendrites = opts.dendritic.is_some();
    let started = std::time::Instant::now();
    let report = neurotwin::dataset::run_dataset_for_cell(&opts, &cell.morphology, &cell.cable, |raster, _seed| {
        neurotwin::dataset::paper_sim::simulate_raster(&cell, &segs, soma_node, raster, ampa_only, record_dendrites)
    })?;
    let wall_s = started.elapsed().as_secs_f64();
    eprintln!(
        "{} simulations run ({} shards written, {} kept) in {:.1} s wall ({:.2} simulations per minute); manifest: {}",
        report.sims_run,
        report.shards_written.len(),
        report.shards_kept.len(),
        wall_s,
        if wall_s > 0.0 { report.sims_run as f64 * 60.0 / wall_s } else { 0.0 },
        report.manifest_path.display()
    );
    Ok(())
}
