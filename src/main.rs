//! The `neurotwin` command line. With no subcommand it opens the GUI.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "neurotwin", version, about = "A biological L5 pyramidal neuron and its deep-network twin")]
struct Cli {
    /// Morphology to show in the GUI (.json NEURON geometry; .swc/.asc once their readers land).
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
    },
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
            MorphCommand::Info { file, json } => morph_info(&file, json),
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

fn morph_info(file: &std::path::Path, json: bool) -> Result<()> {
    let morph = neurotwin::morphology::load(file)?;
    let cable = neurotwin::Cable::new(&morph, &neurotwin::Discretisation::default())
        .with_context(|| format!("discretising {}", file.display()))?;
    let report = neurotwin::morphology::info::MorphInfo::new(&morph, &cable);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}
