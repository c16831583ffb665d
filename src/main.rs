//! The `neurotwin` command line. With no subcommand it opens the GUI.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "neurotwin", version, about = "A biological L5 pyramidal neuron and its deep-network twin")]
struct Cli {
    /// Morphology to show in the GUI (.swc, .asc or NEURON geometry .json).
    #[arg(long, global = true, value_name = "FILE")]
    morphology: Option<PathBuf>,
    /// MSAA samples for the 3-D view (0 is fastest on software OpenGL).
    #[arg(long, default_value_t = 4)]
    msaa: u16,
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
            let options = neurotwin::app::AppOptions {
                morphology: cli.morphology,
                fallbacks: vec![PathBuf::from("../shared/morphologies/cell1_neuron_geometry.json")],
                model_factory: model_factory(),
            };
            neurotwin::app::run(options, cli.msaa)
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
    }
}

/// The simulation behind the GUI. Until the engine adapter lands there is none (the GUI shows the
/// morphology only), except in `dev-fake-model` builds, which use a test double.
fn model_factory() -> Option<neurotwin::app::model::ModelFactory> {
    #[cfg(feature = "dev-fake-model")]
    {
        Some(Box::new(|_morph, cable| Ok(Box::new(neurotwin::app::fake_model::FakeLeakyCable::new(cable)) as Box<_>)))
    }
    #[cfg(not(feature = "dev-fake-model"))]
    {
        None
    }
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
