//! `neurotwin bench-twin`: how fast the DNN twin runs on one core, live (streamed in small chunks,
//! as the app feeds it) and in batch, on 6 s of the paper's input protocol for the model's cell;
//! and how long one occlusion attribution takes. Prints multiples of real time (by wall clock and
//! by the process's CPU time, which a busy machine does not inflate) against the live-streaming
//! target: ≥ 20× for a TCN, ≥ 100× for a recurrent ELM.

use anyhow::Result;
use neurotwin::stimulus::{InputRaster, PaperProtocol};
use neurotwin::surrogate::predict::dense_columns;
use neurotwin::surrogate::tcn::active_rows;
use neurotwin::surrogate::{self, PredictOptions, StreamingPredictor};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct TwinBenchArgs {
    /// Model (.onnx with its .json); default: the model in `--models` that fits the morphology.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Folder of models.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Native ONNX Runtime library for the ONNX-backend comparison (else tract).
    #[arg(long)]
    pub onnxruntime: Option<PathBuf>,
    /// Seed of the paper-protocol input.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated ms of input (the paper's traces are 6000 ms).
    #[arg(long, default_value_t = 6000)]
    pub duration_ms: u32,
}

const LIVE_TARGET_X: f64 = 20.0;
const LIVE_TARGET_RECURRENT_X: f64 = 100.0;

fn x_real_time(sim_ms: usize, wall_s: f64) -> f64 {
    sim_ms as f64 / (wall_s * 1e3)
}

/// Stream `raster` through `sp` in `chunk_ms` pieces (dense columns, or rasters when not
/// `columns`); returns (wall, CPU) seconds of the pushes alone (the chunks are cut beforehand, as
/// the app's engine thread does).
fn stream(sp: &mut StreamingPredictor, raster: &InputRaster, chunk_ms: usize, columns: bool) -> Result<(f64, f64)> {
    sp.reset();
    let total = raster.duration_ms() as usize;
    let rows = raster.rows();
    enum Chunk {
        Columns(ndarray::Array2<f32>),
        Raster(InputRaster),
    }
    let mut chunks = Vec::new();
    for t in (0..total).step_by(chunk_ms) {
        let to = (t + chunk_ms).min(total);
        chunks.push(if columns {
            Chunk::Columns(dense_columns(raster, t, to))
        } else {
            let chunk_rows = rows.iter().map(|r| r.iter().filter(|&&s| (s as usize) >= t && (s as usize) < to).map(|&s| s - t as u32).collect()).collect();
            Chunk::Raster(InputRaster::from_rows(raster.n_segments(), (to - t) as u32, chunk_rows)?)
        });
    }
    let cpu0 = neurotwin::golden::timing::process_cpu_seconds();
    let t0 = Instant::now();
    for c in &chunks {
        match c {
            Chunk::Columns(x) => sp.push_columns(x.view())?,
            Chunk::Raster(r) => sp.push_raster(r)?,
        };
    }
    Ok((t0.elapsed().as_secs_f64(), neurotwin::golden::timing::process_cpu_seconds() - cpu0))
}

/// `morphology` is the global --morphology (the cell the model was trained on); default the
/// shipped synthetic cell, morphologies/l5pc-synthetic.swc.
pub fn run(args: &TwinBenchArgs, morphology: Option<&std::path::Path>) -> Result<()> {
    let morph_path = morphology.map_or_else(|| std::path::PathBuf::from("morphologies/l5pc-synthetic.swc"), std::path::Path::to_path_buf);
    let choice = match &args.onnxruntime {
        Some(lib) => surrogate::select_backend(Some(lib))?,
        None => surrogate::select_tract()?,
    };
    if let Some(w) = &choice.warning {
        eprintln!("warning: {w}");
    }
    let (segs, cell) = super::twin_cell(&morph_path)?;
    let model_path = match &args.model {
        Some(p) => p.clone(),
        None => surrogate::default_model(Path::new(&args.models), &cell)?.onnx_path,
    };
    let (model, _) = super::load_model(&model_path, 1)?;
    let mut protocol = model.metadata().training_protocol().unwrap_or_else(PaperProtocol::nmda);
    protocol.duration_ms = args.duration_ms;
    let raster = protocol.generate(&segs, args.seed)?.raster;
    let total = raster.duration_ms() as usize;
    println!(
        "model {} ({} rows, window {} ms) on {}; {} ms of the paper's input (seed {}), {:.1} active inputs per ms; one thread",
        model.metadata().name,
        model.n_rows(),
        model.window_ms(),
        model.backend(),
        total,
        args.seed,
        raster.mean_active_per_ms()
    );
    println!("native evaluation: {}", model.native_status());
    let tcn = model.native().cloned();
    let recurrent = model.is_recurrent();
    if let Some(elm) = tcn.as_ref().and_then(|n| n.as_elm()) {
        println!("code path: {} ({})", elm.code_path(), if elm.per_branch_traces() { "one trace per branch" } else { "one trace per synapse" });
    }
    let target = if recurrent { LIVE_TARGET_RECURRENT_X } else { LIVE_TARGET_X };
    let mut sp = StreamingPredictor::new(model);
    if sp.is_native() {
        println!("live streaming (native), target ≥ {target:.0}x real time (wall clock; CPU time in brackets):");
        for chunk in [1usize, 10, 33, 100] {
            let (s, cpu) = stream(&mut sp, &raster, chunk, chunk != 33)?;
            let x = x_real_time(total, s);
            let xc = x_real_time(total, cpu);
            println!("  {chunk:>4}-ms chunks: {:>8.1} ms for {total} ms = {x:>7.1}x real time ({:.2}x the target) [CPU {:.1} ms = {xc:.1}x]", s * 1e3, x / target, cpu * 1e3);
        }
    }
    let mut model = sp.into_model();
    // the ONNX backend, for comparison: full sequence (batch) and 100-ms streaming with context
    let t0 = Instant::now();
    model.predict_raster(&raster, &PredictOptions::default())?;
    let full_s = t0.elapsed().as_secs_f64();
    println!("batch, full sequence on {}: {:.1} ms = {:.1}x real time", model.backend(), full_s * 1e3, x_real_time(total, full_s));
    if !recurrent {
        let onnx_ms = total.min(1000);
        let t0 = Instant::now();
        for t in (0..onnx_ms).step_by(100) {
            let from = t.saturating_sub(model.window_ms() - 1);
            model.run_raw(dense_columns(&raster, from, t + 100).view())?;
        }
        let s = t0.elapsed().as_secs_f64();
        println!("streaming on {} (100-ms chunks + window − 1 ms of context, first {onnx_ms} ms): {:.1}x real time", model.backend(), x_real_time(onnx_ms, s));
    }
    if let Some(tcn) = tcn {
        let rows = raster.rows();
        let t_ms = total / 2;
        let t0 = Instant::now();
        let occ = tcn.occlude_rows(rows, t_ms, None).map_err(anyhow::Error::msg)?;
        let s = t0.elapsed().as_secs_f64();
        let active = active_rows(rows, occ.window_from_ms, t_ms + 1).iter().map(Vec::len).sum::<usize>();
        println!(
            "occlusion attribution at t = {t_ms} ms: {} rows with {active} spikes in the {}-ms window, {:.1} ms on {} rayon threads",
            occ.rows.len(),
            tcn.window_ms(),
            s * 1e3,
            rayon::current_num_threads()
        );
    }
    Ok(())
}
