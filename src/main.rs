//! The `neurotwin` command line. With no subcommand it opens the GUI.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use neurotwin::case::Case;
use neurotwin::simulate::{self, SimulateConfig};
use neurotwin::timing::timed;
use std::path::{Path, PathBuf};

mod cli_attribute;
mod cli_surrogate;
mod cli_twin_bench;

#[derive(Parser)]
#[command(name = "neurotwin", version, about = "A biological L5 pyramidal neuron and its deep-network twin")]
struct Cli {
    /// Morphology to show in the GUI (.swc, .asc or NEURON geometry .json).
    #[arg(long, global = true, value_name = "FILE")]
    morphology: Option<PathBuf>,
    /// MSAA samples for the 3-D view (default: 4 on a GPU, 0 on software OpenGL, i.e. with
    /// LIBGL_ALWAYS_SOFTWARE set or under Xvfb).
    #[arg(long)]
    msaa: Option<u16>,
    /// Scenario (JSON, saved from the app) to load at start.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Start playing at once.
    #[arg(long)]
    autoplay: bool,
    /// Take a screenshot this many seconds after the window opens (repeatable; pairs with
    /// --screenshot in order).
    #[arg(long, value_name = "SECONDS")]
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
    /// Folder of deep-network twins (NAME.onnx + NAME.json) offered in the GUI.
    #[arg(long, value_name = "DIR", default_value = "models")]
    models: PathBuf,
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
        command: MorphCommand,
    },
    /// Replay a golden case (l5pc-golden-v1 JSON) on the Hay 2011 cell and compare with its results.
    Replay {
        case: PathBuf,
        /// Morphology file (anything `morphology::load` reads, e.g. a NEURON geometry JSON).
        #[arg(long)]
        morphology: PathBuf,
        /// Write the case with neurotwin's results and timing here instead of printing a summary.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Simulate the Hay 2011 cell with clamps and synapses; writes PREFIX.csv, PREFIX.npy and
    /// PREFIX.spikes.txt (columns t_ms, soma_v_mv, then one per --record site).
    Simulate {
        #[arg(long)]
        morphology: PathBuf,
        #[arg(long, allow_hyphen_values = true)]
        tstop_ms: Option<f64>,
        /// Default 0.025 ms.
        #[arg(long, allow_hyphen_values = true)]
        dt_ms: Option<f64>,
        /// Default 34 °C (Hay protocols; the paper's dataset used 6.3).
        #[arg(long, allow_hyphen_values = true)]
        celsius: Option<f64>,
        /// Default −80 mV (Hay protocols; the paper's dataset used −76).
        #[arg(long, allow_hyphen_values = true)]
        v_init_mv: Option<f64>,
        /// Sampling interval of the traces (ms), a multiple of dt; default 0.1.
        #[arg(long, allow_hyphen_values = true)]
        record_dt_ms: Option<f64>,
        /// sec,x,delay_ms,dur_ms,amp_nA (repeatable).
        #[arg(long, allow_hyphen_values = true)]
        iclamp: Vec<String>,
        /// exc|inh,sec,x,t1;t2;... spike times in ms (repeatable).
        #[arg(long)]
        syn: Vec<String>,
        /// JSON with any of: tstop_ms, dt_ms, celsius, v_init_mv, record_dt_ms, variant_flags,
        /// iclamps, epsp_currents, synapses, record (options override scalars, append to lists).
        #[arg(long)]
        config: Option<PathBuf>,
        /// sec,x of an extra recording site (repeatable).
        #[arg(long)]
        record: Vec<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Simulate the paper's input protocol N times and write a training dataset (NumPy shards +
    /// manifest.json). Resumable: rerun the same command after an interruption.
    Dataset(DatasetArgs),
    /// Predict a golden case with the DNN twin (ONNX); the global --morphology locates synapses.
    Predict(cli_surrogate::PredictArgs),
    /// The paper's evaluation of a DNN twin on a dataset written by `neurotwin dataset`.
    Evaluate(cli_surrogate::EvaluateArgs),
    /// Why did the twin predict a spike at T? Occlusion scores of every input row of a case
    /// (the global --morphology locates synapses), optionally confirmed in the engine.
    Attribute(cli_attribute::AttributeArgs),
    /// Deletion faithfulness: over every somatic spike of a run, delete the top-k attributed
    /// inputs or k random active ones in the engine and count the abolished spikes.
    Faithfulness(cli_attribute::FaithfulnessArgs),
    /// DNN-twin benchmark: live streaming (native sparse evaluation) and batch prediction on
    /// one core, in multiples of real time, and the time of one occlusion attribution.
    BenchTwin(cli_twin_bench::TwinBenchArgs),
    /// Engine benchmark: replay a case single-threaded (after a warm-up) and print CPU seconds per
    /// simulated second, ratios to NEURON and Arbor, time shares per phase, and the throughput of
    /// independent simulations with 1 and 2 threads.
    Bench {
        /// Golden case to replay.
        #[arg(long, default_value = "../shared/reference/paper_input_nmda_seed1001.json")]
        case: PathBuf,
        /// Hay 2011 morphology (.asc).
        #[arg(long, default_value = "../shared/morphologies/cell1.asc")]
        morphology: PathBuf,
        /// Timed single-threaded runs (the best and the median are reported).
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Simulate only this much of the case (ms), e.g. for a profiler; default the whole case.
        #[arg(long)]
        tstop_ms: Option<f64>,
        /// Independent simulations per throughput measurement (0 skips it).
        #[arg(long, default_value_t = 4)]
        jobs: usize,
    },
}

#[derive(clap::Args)]
struct DatasetArgs {
    /// Morphology (.asc, .swc, NEURON .json); the traced axon is replaced by the Hay stub.
    #[arg(long)]
    morphology: PathBuf,
    /// Number of simulations in the whole dataset.
    #[arg(long)]
    count: usize,
    #[arg(long, default_value_t = 6000)]
    duration_ms: u32,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// nmda: AMPA+NMDA synapses and the NMDA model's rates; ampa: AMPA-only synapses and rates.
    #[arg(long, value_enum, default_value_t = Variant::Nmda)]
    variant: Variant,
    #[arg(long)]
    out: PathBuf,
    /// This job's part of the shards, I/N with 0 ≤ I < N (e.g. a Slurm array index).
    #[arg(long)]
    shard: Option<String>,
    /// Worker threads (one simulation per thread); default: all cores.
    #[arg(long)]
    threads: Option<usize>,
    /// Simulations per shard file set.
    #[arg(long, default_value_t = 32)]
    sims_per_shard: usize,
    /// Also store every dendritic segment's voltage at 1 ms (f16 or f32).
    #[arg(long, value_enum)]
    dendritic: Option<DendArg>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
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

#[derive(Subcommand)]
enum MorphCommand {
    /// Print sections, compartments, length and area per type.
    Info {
        file: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Keep the traced axon instead of the Hay et al. 2011 two-cylinder stub that the
        /// simulated model uses (spec §1.3).
        #[arg(long)]
        traced_axon: bool,
    },
    /// Convert a morphology (.swc, .asc, NEURON geometry .json) to another format.
    Convert {
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum)]
        to: OutputFormat,
        /// Output file (standard output if omitted).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Generate the procedural L5 pyramidal cell for a seed and write it as SWC.
    Synth {
        /// Generator seed (the shipped morphologies/l5pc-synthetic.swc uses the default).
        #[arg(long, default_value_t = neurotwin::morphology::synth::DEFAULT_SEED)]
        seed: u64,
        /// Output .swc file (standard output if omitted).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum OutputFormat {
    Swc,
}

fn main() {
    let cli = Cli::parse();
    if let Err(err) = run(cli) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => {
            use neurotwin::app::session::MorphologySource;
            if cli.screenshot_after_s.len() != cli.screenshot.len() {
                anyhow::bail!(
                    "give one --screenshot-after-s per --screenshot ({} times, {} paths)",
                    cli.screenshot_after_s.len(),
                    cli.screenshot.len()
                );
            }
            let mut screenshots: Vec<(f64, PathBuf)> = cli.screenshot_after_s.into_iter().zip(cli.screenshot).collect();
            screenshots.sort_by(|a, b| a.0.total_cmp(&b.0));
            let demo = cli.demo.as_deref().map(neurotwin::app::demos::Demo::from_cli_name).transpose().map_err(anyhow::Error::msg)?;
            let morphology = match cli.morphology {
                Some(path) => MorphologySource::File(path),
                None => MorphologySource::default_for(&std::env::current_dir().context("reading the working directory")?),
            };
            let options = neurotwin::app::AppOptions {
                morphology: Some(morphology),
                model_factory: model_factory(),
                scenario: cli.scenario,
                autoplay: cli.autoplay,
                automation: neurotwin::app::shell::automation::Automation {
                    screenshots,
                    quit_after_screenshots: cli.quit_after_screenshot,
                    print_fps: cli.print_fps,
                },
                models_dir: Some(cli.models),
                why_auto: cli.why,
                why_paint: cli.why_paint,
                demo,
            };
            let software_gl = std::env::var_os("LIBGL_ALWAYS_SOFTWARE").is_some() || xvfb_display();
            neurotwin::app::run(options, cli.msaa.unwrap_or(if software_gl { 0 } else { 4 }))
        }
        Some(Command::Morph { command }) => match command {
            MorphCommand::Info { file, json, traced_axon } => morph_info(&file, json, traced_axon),
            MorphCommand::Convert { file, to: OutputFormat::Swc, out } => {
                let morph = neurotwin::morphology::load(&file)?;
                write_output(&neurotwin::morphology::write_swc(&morph), out.as_deref())
            }
            MorphCommand::Synth { seed, out } => {
                let cell = neurotwin::morphology::synthesize_l5pc(seed)?;
                write_output(&neurotwin::morphology::write_swc(&cell.morphology), out.as_deref())
            }
        },
        Some(Command::Replay { case, morphology, out }) => replay(&case, &morphology, out.as_deref()),
        Some(Command::Simulate { morphology, tstop_ms, dt_ms, celsius, v_init_mv, record_dt_ms, iclamp, syn, config, record, out }) => {
            let mut cfg = match &config {
                Some(p) => SimulateConfig::load(p)?,
                None => SimulateConfig::default(),
            };
            cfg.tstop_ms = tstop_ms.or(cfg.tstop_ms);
            cfg.dt_ms = dt_ms.or(cfg.dt_ms);
            cfg.celsius = celsius.or(cfg.celsius);
            cfg.v_init_mv = v_init_mv.or(cfg.v_init_mv);
            cfg.record_dt_ms = record_dt_ms.or(cfg.record_dt_ms);
            for c in &iclamp {
                cfg.iclamps.push(simulate::parse_iclamp(c)?);
            }
            for s in &syn {
                cfg.synapses.push(simulate::parse_synapse(s)?);
            }
            for r in &record {
                cfg.record.push(simulate::parse_location(r)?);
            }
            simulate_run(&cfg, &morphology, &out)
        }
        Some(Command::Dataset(args)) => dataset(args),
        Some(Command::Predict(args)) => cli_surrogate::predict(&args, cli.morphology.as_deref()),
        Some(Command::Evaluate(args)) => cli_surrogate::evaluate(&args),
        Some(Command::Attribute(args)) => cli_attribute::attribute_cmd(&args, cli.morphology.as_deref()),
        Some(Command::Faithfulness(args)) => cli_attribute::faithfulness_cmd(&args, cli.morphology.as_deref()),
        Some(Command::BenchTwin(args)) => cli_twin_bench::run(&args),
        Some(Command::Bench { case, morphology, repeats, tstop_ms, jobs }) => bench(&case, &morphology, repeats, tstop_ms, jobs),
    }
}

fn bench(case_path: &Path, morph_path: &Path, repeats: usize, tstop_ms: Option<f64>, jobs: usize) -> Result<()> {
    for (what, path) in [("case", case_path), ("morphology", morph_path)] {
        if !path.is_file() {
            anyhow::bail!("{what} file {} not found (pass --{what} PATH)", path.display());
        }
    }
    let case = Case::load(case_path)?;
    let morph = load_morphology(morph_path)?;
    let bench = neurotwin::bench::BenchCase::new(case, &morph).with_context(|| format!("preparing {}", case_path.display()))?;
    let opts = neurotwin::bench::Options { repeats: repeats.max(1), tstop_ms, jobs };
    neurotwin::bench::report(&bench, &opts, &mut std::io::stdout().lock())
}

/// The simulation behind the GUI: the Hay 2011 engine, or in `dev-fake-model` builds a test
/// double (not physics).
fn model_factory() -> Option<neurotwin::app::live::model::ModelFactory> {
    #[cfg(feature = "dev-fake-model")]
    {
        Some(Box::new(|_morph, cable| Ok(Box::new(neurotwin::app::live::fake_model::FakeLeakyCable::new(cable)) as Box<_>)))
    }
    #[cfg(not(feature = "dev-fake-model"))]
    {
        Some(neurotwin::app::live::engine_model::factory())
    }
}

fn dataset(args: DatasetArgs) -> Result<()> {
    use neurotwin::dataset::{DendDtype, DatasetOptions, Partition};
    use neurotwin::stimulus::{DendriticSegments, InputVariant};
    let variant = match args.variant {
        Variant::Nmda => InputVariant::Nmda,
        Variant::Ampa => InputVariant::Ampa,
    };
    let morph = load_morphology(&args.morphology)?;
    let cell = neurotwin::biophysics::recipe::hay2011::build_cell(&morph, &neurotwin::Discretisation::default(), Default::default())
        .with_context(|| format!("building the Hay 2011 cell on {}", args.morphology.display()))?;
    let segs = DendriticSegments::new(&cell.morphology, &cell.cable)?;
    let soma_node = cell.cable.segment_node(0, 0.5);
    let mut opts = DatasetOptions::new(args.morphology.clone(), args.out.clone(), args.count, args.seed, variant, args.duration_ms);
    opts.threads = args.threads;
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
        neurotwin::paper_sim::simulate_raster(&cell, &segs, soma_node, raster, ampa_only, record_dendrites)
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

/// Whether the X display is an Xvfb (software rendering only): its X lock file names the
/// server's process, whose command line says Xvfb.
fn xvfb_display() -> bool {
    let Some(display) = std::env::var("DISPLAY").ok() else { return false };
    let number = display.trim_start_matches(':').split('.').next().unwrap_or("").to_string();
    let Ok(lock) = std::fs::read_to_string(format!("/tmp/.X{number}-lock")) else { return false };
    let Ok(pid) = lock.trim().parse::<u32>() else { return false };
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains("Xvfb"))
}

/// A morphology as the Hay et al. 2011 model instantiates it (traced axon replaced by the stub).
fn load_morphology(path: &Path) -> Result<neurotwin::Morphology> {
    neurotwin::morphology::load_hay2011(path).with_context(|| format!("loading morphology {}", path.display()))
}

fn replay(case_path: &Path, morph_path: &Path, out: Option<&Path>) -> Result<()> {
    let case = Case::load(case_path)?;
    let morph = load_morphology(morph_path)?;
    let (results, timing) = timed(|| neurotwin::replay::replay(&case, &morph));
    let results = results.with_context(|| format!("replaying {}", case_path.display()))?;
    if let Some(out) = out {
        let mut written = case.clone();
        written.results = Some(results);
        written.timing = Some(serde_json::to_value(timing)?);
        std::fs::write(out, serde_json::to_string(&written)?).with_context(|| format!("writing {}", out.display()))?;
        return Ok(());
    }
    println!("case {} ({} ms simulated)", case.name, case.sim.tstop);
    println!("spikes: {} at {:?} ms", results.spike_times_ms.len(), results.spike_times_ms);
    let per_s = if case.sim.tstop > 0.0 { timing.cpu_s / (case.sim.tstop * 1e-3) } else { 0.0 };
    println!("time: {:.3} s wall, {:.3} s CPU ({:.3} CPU s per simulated s)", timing.wall_s, timing.cpu_s, per_s);
    if let Some(reference) = &case.results {
        let c = neurotwin::replay::compare(&results, reference);
        println!(
            "vs reference: spike count {} ({} ours, {} reference), worst spike-time difference {:.4} ms",
            if c.spikes_ours == c.spikes_reference { "matches" } else { "DIFFERS" },
            c.spikes_ours,
            c.spikes_reference,
            c.worst_spike_dt_ms
        );
        println!("soma RMSE {:.4} mV", c.soma_rmse_mv);
        for (site, r) in case.recording.sites.iter().zip(&c.site_rmse_mv) {
            println!("  {}({}) {}: RMSE {:.4} mV", site.sec, site.x, site.label, r);
        }
    }
    Ok(())
}

fn simulate_run(cfg: &SimulateConfig, morph_path: &Path, out: &Path) -> Result<()> {
    let case = cfg.to_case()?;
    let morph = load_morphology(morph_path)?;
    let (results, timing) = timed(|| neurotwin::replay::replay(&case, &morph));
    let results = results.context("simulating")?;
    let files = simulate::write_outputs(out, &case, &results).with_context(|| format!("writing outputs with prefix {}", out.display()))?;
    println!("spikes: {} at {:?} ms", results.spike_times_ms.len(), results.spike_times_ms);
    println!("time: {:.3} s wall, {:.3} s CPU", timing.wall_s, timing.cpu_s);
    for f in files {
        println!("wrote {}", f.display());
    }
    Ok(())
}

fn morph_info(file: &std::path::Path, json: bool, traced_axon: bool) -> Result<()> {
    let morph = if traced_axon { neurotwin::morphology::load(file)? } else { neurotwin::morphology::load_hay2011(file)? };
    let cable = neurotwin::Cable::new(&morph, &neurotwin::Discretisation::default())
        .with_context(|| format!("discretising {}", file.display()))?;
    let report = neurotwin::morphology::info::MorphInfo::new(&morph, &cable);
    if json {
        write_output(&(serde_json::to_string_pretty(&report)? + "\n"), None)?;
    } else {
        write_output(&report.table(), None)?;
    }
    Ok(())
}

fn write_output(text: &str, out: Option<&std::path::Path>) -> Result<()> {
    match out {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display())),
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
