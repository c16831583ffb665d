//! `run_dataset`: generate the paper's inputs for N simulations, run a simulate closure on each
//! (rayon, one simulation per thread), and write resumable shards plus a manifest. Simulation k
//! uses seed `derive_seed(base_seed, k)` for its input; the same options give byte-identical
//! output, whatever the thread count or interruptions.

use super::manifest::{
    array_descriptions, morphology_fingerprint, DatasetDefinition, DendDtype, Manifest, Partition, SegmentTable, ShardEntry,
    ShardStatus, FORMAT, FORMAT_VERSION,
};
use super::shard::{verify_shard, write_shard, ShardData};
use super::DatasetError;
use crate::morphology::{self, Cable, Discretisation, Morphology};
use crate::rng::derive_seed;
use crate::stimulus::{DendriticSegments, InputRaster, InputVariant, PaperProtocol};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::path::PathBuf;

/// What a simulator returns for one input raster.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOutput {
    /// Soma voltage (mV) at t = 0, 1, …, duration − 1 ms.
    pub soma_v_1ms: Vec<f32>,
    /// Somatic output spike times (ms), ascending.
    pub spike_times_ms: Vec<f64>,
    /// Optional dendritic voltages (mV), [n_segments × duration_ms] segment-major, same 1-ms grid.
    pub dend_v_1ms: Option<Vec<f32>>,
}

/// Options of `neurotwin dataset`.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetOptions {
    /// Morphology file (`--morphology`); discretised with the Hay 2011 nseg rule.
    pub morphology: PathBuf,
    pub out_dir: PathBuf,
    /// Number of simulations in the whole dataset (`--count`).
    pub count: usize,
    pub base_seed: u64,
    /// Input protocol; its `duration_ms` is the simulation length (`--duration-ms`, `--variant`).
    pub protocol: PaperProtocol,
    pub sims_per_shard: usize,
    /// This process's part of the shards (`--shard I/N`).
    pub partition: Partition,
    /// Worker threads (`--threads`); `None` = rayon's default (all cores).
    pub threads: Option<usize>,
    /// Store dendritic voltages in this dtype (the simulator must then return them).
    pub dendritic: Option<DendDtype>,
    /// Show a progress bar with ETA on stderr.
    pub progress: bool,
}

impl DatasetOptions {
    pub fn new(morphology: PathBuf, out_dir: PathBuf, count: usize, base_seed: u64, variant: InputVariant, duration_ms: u32) -> Self {
        DatasetOptions {
            morphology,
            out_dir,
            count,
            base_seed,
            protocol: PaperProtocol { duration_ms, ..PaperProtocol::for_variant(variant) },
            sims_per_shard: 32,
            partition: Partition::WHOLE,
            threads: None,
            dendritic: None,
            progress: true,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetReport {
    pub manifest_path: PathBuf,
    /// Shards simulated and written by this run.
    pub shards_written: Vec<usize>,
    /// Shards found finished and verified (resume).
    pub shards_kept: Vec<usize>,
    pub sims_run: usize,
}

/// Load the morphology named in `opts` and run the dataset (see `run_dataset_for_cell`).
pub fn run_dataset<F, E>(opts: &DatasetOptions, simulate: F) -> Result<DatasetReport, DatasetError>
where
    F: Fn(&InputRaster, u64) -> Result<SimOutput, E> + Sync,
    E: std::fmt::Display,
{
    let morph = morphology::load(&opts.morphology)?;
    let cable = Cable::new(&morph, &Discretisation::default())?;
    run_dataset_for_cell(opts, &morph, &cable, simulate)
}

fn check_output(out: &SimOutput, sim: usize, duration: usize, dend_len: Option<usize>) -> Result<(), DatasetError> {
    let bad = |message: String| Err(DatasetError::BadOutput { sim, message });
    if out.soma_v_1ms.len() != duration {
        return bad(format!("{} soma samples, expected {duration} (one per ms)", out.soma_v_1ms.len()));
    }
    if out.spike_times_ms.iter().any(|t| !t.is_finite()) || out.spike_times_ms.windows(2).any(|w| w[0] > w[1]) {
        return bad("output spike times must be finite and ascending".into());
    }
    match (dend_len, &out.dend_v_1ms) {
        (Some(n), Some(v)) if v.len() != n => bad(format!("{} dendritic samples, expected {n} (segments × ms)", v.len())),
        (Some(_), None) => bad("dendritic voltages were requested but not returned".into()),
        _ => Ok(()),
    }
}

/// Run (or resume) the dataset for an already-built cell. Only shards owned by
/// `opts.partition` are simulated; finished shards whose files match the manifest are kept.
pub fn run_dataset_for_cell<F, E>(opts: &DatasetOptions, morph: &Morphology, cable: &Cable, simulate: F) -> Result<DatasetReport, DatasetError>
where
    F: Fn(&InputRaster, u64) -> Result<SimOutput, E> + Sync,
    E: std::fmt::Display,
{
    if opts.count == 0 || opts.sims_per_shard == 0 || opts.threads == Some(0) {
        return Err(DatasetError::Options("count, sims per shard and threads must be ≥ 1".into()));
    }
    if opts.partition.of == 0 || opts.partition.index >= opts.partition.of {
        return Err(DatasetError::Options(format!("partition {}/{} is invalid", opts.partition.index, opts.partition.of)));
    }
    opts.protocol.validate()?;
    let segs = DendriticSegments::new(morph, cable)?;
    let duration = opts.protocol.duration_ms as usize;
    let definition = DatasetDefinition {
        morphology_fingerprint: morphology_fingerprint(morph, cable),
        n_segments: segs.len(),
        protocol: opts.protocol.clone(),
        base_seed: opts.base_seed,
        count: opts.count,
        sims_per_shard: opts.sims_per_shard,
        // Part of the definition a resumed run must match, so kept word for word: `derive_seed`
        // (same function, same stream) is now `neurotwin::rng::derive_seed`.
        seed_rule: "simulation k: seed = derive_seed(base_seed, k) (neurotwin::stimulus::rng, SplitMix64); \
                    input = PaperProtocol::generate(seed) with xoshiro256**"
            .into(),
        dendritic_dtype: opts.dendritic,
        segments: SegmentTable::new(&segs),
    };
    let dir = &opts.out_dir;
    std::fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, e))?;
    // held until this run returns: a second writer of this partition is refused
    let _lock = super::lock::DirLock::acquire(dir, &opts.partition.manifest_name())?;
    let mut previous: Option<Manifest> = None;
    for path in Manifest::find_all(dir)? {
        let m = Manifest::load(&path)?;
        if m.definition != definition {
            return Err(DatasetError::DefinitionMismatch {
                path: path.display().to_string(),
                detail: "other morphology, protocol, seed, count, shard size or dendritic dtype".into(),
            });
        }
        if m.partition == opts.partition {
            previous = Some(m);
        }
    }

    let n_shards = opts.count.div_ceil(opts.sims_per_shard);
    let mut shards = Vec::with_capacity(n_shards);
    let mut kept = Vec::new();
    for j in 0..n_shards {
        let first = j * opts.sims_per_shard;
        let n = opts.sims_per_shard.min(opts.count - first);
        let mut entry = ShardEntry {
            index: j,
            dir: format!("shard_{j:05}"),
            first_sim: first,
            n_sims: n,
            seeds: (first..first + n).map(|k| derive_seed(opts.base_seed, k as u64)).collect(),
            status: if opts.partition.owns(j) { ShardStatus::Pending } else { ShardStatus::OtherPartition },
            files: Vec::new(),
        };
        let old = previous.as_ref().and_then(|m| m.shards.get(j)).filter(|s| s.status == ShardStatus::Done);
        if let Some(old) = old.filter(|_| entry.status == ShardStatus::Pending) {
            if verify_shard(&dir.join(&entry.dir), &old.files) {
                entry.status = ShardStatus::Done;
                entry.files = old.files.clone();
                kept.push(j);
            }
        }
        shards.push(entry);
    }
    let mut manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        neurotwin_version: env!("CARGO_PKG_VERSION").into(),
        morphology_source: morph.source.clone(),
        definition,
        partition: opts.partition,
        arrays: array_descriptions(),
        shards,
    };
    let manifest_path = manifest.save(dir)?;

    let todo: Vec<usize> = manifest.shards.iter().filter(|s| s.status == ShardStatus::Pending).map(|s| s.index).collect();
    let total_sims: usize = todo.iter().map(|&j| manifest.shards[j].n_sims).sum();
    let bar = if opts.progress { ProgressBar::new(total_sims as u64) } else { ProgressBar::hidden() };
    if let Ok(style) = ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {pos}/{len} simulations, {per_sec}, ETA {eta}") {
        bar.set_style(style);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .build()
        .map_err(|e| DatasetError::Options(format!("cannot start worker threads: {e}")))?;
    let dend_len = opts.dendritic.map(|_| segs.len() * duration);
    let mut written = Vec::new();
    for j in todo {
        let entry = &manifest.shards[j];
        let sims: Vec<(usize, u64)> = (entry.first_sim..).zip(entry.seeds.iter().copied()).collect();
        let results: Vec<(InputRaster, SimOutput)> = pool.install(|| {
            sims.par_iter()
                .map(|&(k, seed)| {
                    let raster = opts.protocol.generate(&segs, seed)?.raster;
                    let out = simulate(&raster, seed)
                        .map_err(|e| DatasetError::Simulation { sim: k, seed, message: e.to_string() })?;
                    check_output(&out, k, duration, dend_len)?;
                    bar.inc(1);
                    Ok((raster, out))
                })
                .collect::<Result<Vec<_>, DatasetError>>()
        })?;
        let mut data = ShardData {
            seeds: entry.seeds.clone(),
            rasters: Vec::with_capacity(results.len()),
            soma_v: Vec::with_capacity(results.len()),
            out_spike_times_ms: Vec::with_capacity(results.len()),
            dend_v: opts.dendritic.map(|_| Vec::with_capacity(results.len())),
        };
        for (raster, out) in results {
            data.rasters.push(raster);
            data.soma_v.push(out.soma_v_1ms);
            data.out_spike_times_ms.push(out.spike_times_ms);
            if let (Some(d), Some(v)) = (data.dend_v.as_mut(), out.dend_v_1ms) {
                d.push(v);
            }
        }
        let files = write_shard(&dir.join(&entry.dir), &data, duration, opts.dendritic)?;
        manifest.shards[j].status = ShardStatus::Done;
        manifest.shards[j].files = files;
        // record progress after every shard so an interruption loses at most the shard in flight
        manifest.save(dir)?;
        written.push(j);
    }
    bar.finish_and_clear();
    Ok(DatasetReport { manifest_path, shards_written: written, shards_kept: kept, sims_run: total_sims })
}
