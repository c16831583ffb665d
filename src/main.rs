//! The `neurotwin` command line. With no subcommand it will open the GUI.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "neurotwin", version, about = "A biological L5 pyramidal neuron and its deep-network twin")]
struct Cli {
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
            use clap::CommandFactory;
            Cli::command().print_help()?;
            Ok(())
        }
        Some(Command::Morph { command }) => match command {
            MorphCommand::Info { file, json } => morph_info(&file, json),
        },
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
