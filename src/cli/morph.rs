//! `neurotwin morph`: morphology tools (info, convert, synth). The work is done by
//! `neurotwin::morphology`.

use super::write_output;
use anyhow::{Context, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum MorphCommand {
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
pub enum OutputFormat {
    Swc,
}

pub fn run(command: MorphCommand) -> Result<()> {
    match command {
        MorphCommand::Info { file, json, traced_axon } => morph_info(&file, json, traced_axon),
        MorphCommand::Convert { file, to: OutputFormat::Swc, out } => {
            let (morph, warnings) = neurotwin::morphology::load_with_warnings(&file)?;
            super::print_warnings(&warnings);
            write_output(&neurotwin::morphology::write_swc(&morph), out.as_deref())
        }
        MorphCommand::Synth { seed, out } => {
            let cell = neurotwin::morphology::synthesize_l5pc(seed)?;
            write_output(&neurotwin::morphology::write_swc(&cell.morphology), out.as_deref())
        }
    }
}

fn morph_info(file: &Path, json: bool, traced_axon: bool) -> Result<()> {
    let (morph, warnings) = if traced_axon {
        neurotwin::morphology::load_with_warnings(file)?
    } else {
        neurotwin::morphology::load_hay2011_with_warnings(file)?
    };
    super::print_warnings(&warnings);
    super::warn_compartments(&morph);
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
