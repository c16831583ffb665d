//! The `neurotwin` command line: the top-level options (those of the GUI), one subcommand per
//! file, and the few helpers they share. A module of the binary: every subcommand is a thin
//! layer over the library (`neurotwin::golden`, `dataset`, `surrogate`, `attribution`, `app`),
//! parsing options, printing and writing files; the work is done there.

mod attribute;
mod bench;
mod bench_twin;
mod dataset;
mod evaluate;
mod faithfulness;
mod fetch;
mod gui;
mod morph;
mod predict;
mod replay;
mod simulate;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use neurotwin::golden::case::Case;
use neurotwin::stimulus::{DendriticSegments, InputRaster, SynapseSpec};
use neurotwin::surrogate::{self, LoadOptions, SurrogateModel};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A command-line number that must be finite (`--fpr inf`, `NaN` are refused by clap, naming
/// the option). Every option taking a float uses it.
pub fn finite_f64(text: &str) -> std::result::Result<f64, String> {
    let v: f64 = text.trim().parse().map_err(|e| format!("{text:?} is not a number: {e}"))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{text:?} is not a finite number"))
    }
}

/// [`finite_f64`] for an `f32` option.
pub fn finite_f32(text: &str) -> std::result::Result<f32, String> {
    let v = finite_f64(text)?;
    let f = v as f32;
    if f.is_finite() {
        Ok(f)
    } else {
        Err(format!("{text:?} is too large"))
    }
}

/// Refuse writing `out` when it is one of the command's inputs (same file after canonicalising,
/// or a hard link), unless `--force`.
pub fn refuse_overwriting_inputs(out: Option<&Path>, inputs: &[(&str, Option<&Path>)], force: bool) -> Result<()> {
    let Some(out) = out else { return Ok(()) };
    let inputs: Vec<(&str, &Path)> = inputs.iter().filter_map(|(w, p)| p.map(|p| (*w, p))).collect();
    neurotwin::input::check_output_not_input(out, &inputs, force)?;
    Ok(())
}

/// Where the twin's commands look for a morphology and models when none is given.
const DEFAULT_MORPHOLOGY: &str = "../shared/morphologies/cell1_neuron_geometry.json";
const DEFAULT_MODELS_DIR: &str = "models";

#[derive(Parser)]
#[command(name = "neurotwin", version, about = "A biological L5 pyramidal neuron and its deep-network twin")]
pub struct Cli {
    /// Morphology (.swc, .asc or NEURON geometry .json): the cell of the GUI and of every
    /// subcommand; accepted before or after the subcommand.
    #[arg(long, global = true, value_name = "FILE")]
    morphology: Option<PathBuf>,
    /// MSAA samples for the 3-D view (default: 4 on a GPU, 0 on software OpenGL, i.e. with
    /// LIBGL_ALWAYS_SOFTWARE set or under Xvfb).
    #[arg(long)]
    msaa: Option<u16>,
    /// Scenario (JSON, saved from the app) to load at start.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Start playing at once (without --scenario or --demo the app already opens playing the
    /// paper's background input; with --scenario this plays the scenario as loaded).
    #[arg(long, conflicts_with = "paused")]
    autoplay: bool,
    /// Open paused at t = 0 with no input (the old start), instead of playing the paper's
    /// background input with the twin beside the cell.
    #[arg(long)]
    paused: bool,
    /// Take a screenshot this many seconds after the window opens (repeatable; pairs with
    /// --screenshot in order).
    #[arg(value_parser = finite_f64, long, value_name = "SECONDS")]
    screenshot_after_s: Vec<f64>,
    /// PNG path of each screenshot (repeatable); a JSON sidecar names the picture's regions.
    #[arg(long, value_name = "PNG")]
    screenshot: Vec<PathBuf>,
    /// Close the window after the last screenshot.
    #[arg(long)]
    quit_after_screenshot: bool,
    /// Open "Why did it spike?" and walk through it by itself: select the first somatic spike,
    /// explain it with the twin, delete the top inputs in the engine and the twin.
    #[arg(long)]
    why: bool,
    /// With --why: what to paint on the cell at the end (voltage, recent-inputs, attribution, filter).
    #[arg(long, value_enum, requires = "why")]
    why_paint: Option<neurotwin::app::panels::why_panel::Paint>,
    /// Start a teaching demo: epsp, nmda, bac, veto, background or ampa.
    #[arg(long, value_name = "NAME")]
    demo: Option<String>,
    /// Folder of deep-network twins (NAME.onnx + NAME.json) offered in the GUI (default: `models/`
    /// in the working directory, else beside or above the executable, else in the source tree).
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
    /// Run a model even when its output differs from its parity vector by more than the
    /// tolerance (refused by default: a damaged model file still parses and answers nonsense).
    #[arg(long, global = true)]
    allow_parity_mismatch: bool,
    /// Spike sounds on: a click per somatic spike of the cell, a higher one per twin spike (a
    /// build with `--features audio`; otherwise it says so and stays silent).
    #[arg(long)]
    sound: bool,
    /// Open "Voltage along a path" (the space plot and the dendrogram) at start.
    #[arg(long)]
    space_plot: bool,
    /// Colour the cell by: voltage (default), calcium, nmda, ampa, ih, ica, kind, or
    /// gate:CHANNEL:m|h (e.g. gate:Ca_HVA:m).
    #[arg(long, value_name = "STATE")]
    color_by: Option<String>,
    /// Record a clip of the window to this GIF (an MP4 beside it where ffmpeg is on the PATH),
    /// then close the window; a JSON summary (frames, duration, simulated times) goes beside it.
    #[arg(long, value_name = "GIF", requires = "record_seconds")]
    record: Option<PathBuf>,
    /// Length of the --record clip (s of wall-clock time).
    #[arg(value_parser = finite_f64, long, value_name = "SECONDS", requires = "record")]
    record_seconds: Option<f64>,
    /// Start the --record clip this many seconds after the window opens (default 1).
    #[arg(value_parser = finite_f64, long, value_name = "SECONDS", default_value_t = 1.0, requires = "record")]
    record_after_s: f64,
    /// Size of the --record clip relative to the window (0.1 to 1; default 0.5).
    #[arg(value_parser = finite_f32, long, value_name = "FACTOR", default_value_t = 0.5, requires = "record")]
    record_scale: f32,
    /// Frames per second of the --record clip (default 10).
    #[arg(value_parser = finite_f64, long, value_name = "FPS", default_value_t = 10.0, requires = "record")]
    record_fps: f64,
    /// Print the frame rate to standard output every two seconds.
    #[arg(long)]
    print_fps: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Morphology tools: info, convert, synth.
    Morph {
        #[command(subcommand)]
        command: morph::MorphCommand,
    },
    /// Replay a golden case (l5pc-golden-v1 JSON) on the Hay 2011 cell and compare with its results.
    Replay(replay::ReplayArgs),
    /// Simulate the Hay 2011 cell with clamps and synapses; writes PREFIX.csv, PREFIX.npy and
    /// PREFIX.spikes.txt (columns t_ms, soma_v_mv, then one per --record site).
    Simulate(simulate::SimulateArgs),
    /// Simulate the paper's input protocol N times and write a training dataset (NumPy shards +
    /// manifest.json). Resumable: rerun the same command after an interruption.
    Dataset(dataset::DatasetArgs),
    /// Predict a golden case with the DNN twin (ONNX); the global --morphology locates synapses.
    Predict(predict::PredictArgs),
    /// The paper's evaluation of a DNN twin on a dataset written by `neurotwin dataset`.
    Evaluate(evaluate::EvaluateArgs),
    /// Why did the twin predict a spike at T? Occlusion scores of every input row of a case
    /// (the global --morphology locates synapses), optionally confirmed in the engine.
    Attribute(attribute::AttributeArgs),
    /// Deletion faithfulness: over every somatic spike of a run, delete the top-k attributed
    /// inputs or k random active ones in the engine and count the abolished spikes.
    Faithfulness(faithfulness::FaithfulnessArgs),
    /// DNN-twin benchmark: live streaming (native sparse evaluation) and batch prediction on
    /// one core, in multiples of real time, and the time of one occlusion attribution.
    BenchTwin(bench_twin::TwinBenchArgs),
    /// Download a reference file neurotwin does not ship: `fetch hay` gets the Hay et al. 2011
    /// cell (cell1.asc), checks its SHA-256 and writes it to morphologies/.
    Fetch {
        #[command(subcommand)]
        command: fetch::FetchCommand,
    },
    /// Engine benchmark: replay a case single-threaded (after a warm-up) and print CPU seconds per
    /// simulated second, ratios to NEURON and Arbor, time shares per phase, and the throughput of
    /// independent simulations with 1 and 2 threads.
    Bench(bench::BenchArgs),
}

impl Cli {
    /// Whether a subcommand was given (without one the GUI opens).
    pub fn has_subcommand(&self) -> bool {
        self.command.is_some()
    }
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    ALLOW_PARITY_MISMATCH.store(cli.allow_parity_mismatch, std::sync::atomic::Ordering::Relaxed);
    match cli.command {
        None => gui::run(cli),
        Some(Command::Morph { command }) => morph::run(command),
        Some(Command::Replay(args)) => replay::run(&args, cli.morphology.as_deref()),
        Some(Command::Simulate(args)) => simulate::run(args, cli.morphology.as_deref()),
        Some(Command::Dataset(args)) => dataset::run(args, cli.morphology.as_deref()),
        Some(Command::Predict(args)) => predict::predict(&args, cli.morphology.as_deref()),
        Some(Command::Evaluate(args)) => evaluate::evaluate(&args),
        Some(Command::Attribute(args)) => attribute::run(&args, cli.morphology.as_deref()),
        Some(Command::Faithfulness(args)) => faithfulness::run(&args, cli.morphology.as_deref()),
        Some(Command::BenchTwin(args)) => bench_twin::run(&args, cli.morphology.as_deref()),
        Some(Command::Bench(args)) => bench::run(&args, cli.morphology.as_deref()),
        Some(Command::Fetch { command }) => fetch::run(&command),
    }
}

/// The global --morphology, for subcommands that need one.
fn require_morphology(morphology: Option<&Path>) -> Result<PathBuf> {
    morphology.map(Path::to_path_buf).ok_or_else(|| anyhow::anyhow!("this subcommand needs --morphology FILE (.swc, .asc or NEURON geometry .json)"))
}

/// A morphology as the Hay et al. 2011 model instantiates it (traced axon replaced by the stub).
/// Warnings (reader recoveries, soft limits) go to standard error.
/// What a twin needs of a cell: its dendritic segments (the input rows) and the fingerprint and
/// row count a model must fit (`predict`, `bench-twin`).
fn twin_cell(morph_path: &Path) -> Result<(DendriticSegments, surrogate::CellInputs)> {
    if !morph_path.is_file() {
        anyhow::bail!("morphology {} not found: pass --morphology FILE", morph_path.display());
    }
    let morph = load_morphology(morph_path)?;
    let cable = neurotwin::Cable::new(&morph, &neurotwin::Discretisation::default())?;
    Ok((DendriticSegments::new(&morph, &cable)?, surrogate::CellInputs::new(&morph, &cable)?))
}

fn load_morphology(path: &Path) -> Result<neurotwin::Morphology> {
    let (morph, warnings) =
        neurotwin::morphology::load_hay2011_with_warnings(path).with_context(|| format!("loading morphology {}", path.display()))?;
    print_warnings(&warnings);
    warn_compartments(&morph);
    Ok(morph)
}

fn print_warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

/// A warning above the soft compartment limit (the hard one is refused by `Cable::new`).
fn warn_compartments(morph: &neurotwin::Morphology) {
    let n = neurotwin::morphology::cable::compartment_count(morph, &neurotwin::Discretisation::default());
    if n > neurotwin::limits::WARN_COMPARTMENTS as f64 {
        eprintln!(
            "warning: {}: {n:.0} compartments, more than {}; simulations will be slow",
            morph.source,
            neurotwin::limits::WARN_COMPARTMENTS
        );
    }
}

/// Write `text` to `out` atomically (see `neurotwin::atomic`), or to standard output.
fn write_output(text: &str, out: Option<&std::path::Path>) -> Result<()> {
    match out {
        Some(path) => neurotwin::atomic::write(path, text).with_context(|| format!("writing {}", path.display())),
        None => {
            use std::io::Write;
            match std::io::stdout().write_all(text.as_bytes()) {
                // `neurotwin morph synth | head` closing the pipe early is not an error
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("writing to standard output"),
            }
        }
    }
}

/// Spike times for the console, to 0.001 ms: `[12.345, 56.789]`.
pub fn format_times_ms(times_ms: &[f64]) -> String {
    let items: Vec<String> = times_ms.iter().map(|t| format!("{t:.3}")).collect();
    format!("[{}]", items.join(", "))
}

/// Select the backend, print it and any fallback warning.
pub fn print_backend(onnxruntime: Option<&Path>) -> Result<()> {
    let choice = surrogate::select_backend(onnxruntime)?;
    if let Some(w) = &choice.warning {
        eprintln!("warning: {w}");
    }
    println!("backend: {}", choice.backend);
    Ok(())
}

/// `--allow-parity-mismatch`, set once by [`run`] before any model is loaded.
static ALLOW_PARITY_MISMATCH: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Load a model with `threads` intra-op threads, capped at the machine's cores (with a warning).
pub fn load_model(path: &Path, threads: usize) -> Result<(SurrogateModel, f64)> {
    let (threads, message) = neurotwin::limits::cap_threads(threads);
    if let Some(m) = message {
        eprintln!("warning: {m}");
    }
    let t0 = Instant::now();
    let allow_parity_mismatch = ALLOW_PARITY_MISMATCH.load(std::sync::atomic::Ordering::Relaxed);
    let model = SurrogateModel::load(path, LoadOptions { intra_threads: threads, allow_parity_mismatch })
        .with_context(|| format!("loading model {}", path.display()))?;
    if let Some(check) = model.parity() {
        let tolerance = model.metadata().parity_tolerance();
        if !(f64::from(check.max_abs_diff) <= tolerance) {
            eprintln!(
                "warning: model {} differs from its parity vector by {:e} (tolerance {tolerance:e}); run anyway (--allow-parity-mismatch)",
                path.display(),
                check.max_abs_diff
            );
        }
    }
    Ok((model, t0.elapsed().as_secs_f64() * 1e3))
}

/// The input raster of a golden-format case's synapses (1-ms bins, the case's tstop).
/// The case's tstop is checked against the limits first (the raster holds every row for every ms).
pub fn case_raster(case: &Case, segs: &DendriticSegments) -> Result<InputRaster> {
    neurotwin::limits::check_tstop(&format!("case {}: sim.tstop (ms)", case.name), case.sim.tstop)?;
    let duration_ms = case.sim.tstop.ceil() as u32;
    let synapses: Vec<SynapseSpec> = case
        .synapses
        .iter()
        .map(|s| SynapseSpec { kind: s.kind, sec: s.sec.clone(), x: s.x, spikes_ms: s.spikes_ms.clone(), paper_seg_index: s.paper_seg_index })
        .collect();
    InputRaster::from_synapses(segs, &synapses, duration_ms).with_context(|| format!("converting the synapses of case {} to an input raster", case.name))
}
