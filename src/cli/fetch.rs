//! `neurotwin fetch hay`: download the Hay et al. 2011 cell (`cell1.asc`, which neurotwin may not
//! redistribute) from the paper's public repository, check its SHA-256 and write it atomically
//! to the project's `morphologies/` folder. The work is done by `neurotwin::fetch`.

use anyhow::{Context, Result};
use neurotwin::fetch::{self, FetchOptions, Fetched};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Subcommand)]
pub enum FetchCommand {
    /// The Hay et al. 2011 L5 pyramidal cell (cell1.asc, ModelDB 139653), checked against its
    /// known SHA-256 before anything is written.
    Hay(HayArgs),
    /// The published Branch-ELM twin of Spieler et al. (ICLR 2024), trained by its authors on the
    /// paper's NEURON data (MIT licence): weights, config and licence from the authors' repository
    /// at a pinned commit, each checked against its SHA-256, then our metadata beside them in
    /// models/. Runs in the app and every subcommand like any twin.
    Elm(ElmArgs),
}

#[derive(clap::Args)]
pub struct ElmArgs {
    /// Base URL of the authors' files (a mirror of the repository at the pinned commit; every
    /// SHA-256 is still checked).
    #[arg(long, default_value = neurotwin::peer::ELM_BASE_URL)]
    base_url: String,
    /// Install from a folder holding the authors' files under their own names
    /// (neuronio_best_model_state.pt, model_config.json, LICENSE) instead of downloading.
    #[arg(long, value_name = "DIR")]
    from: Option<PathBuf>,
    /// Models folder to write into (default: the project's models/).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Seconds allowed to open each connection.
    #[arg(value_parser = super::finite_f64, long, default_value_t = fetch::DEFAULT_CONNECT_TIMEOUT_S, value_name = "S")]
    connect_timeout_s: f64,
    /// Seconds allowed for each answer to start and for each later read.
    #[arg(value_parser = super::finite_f64, long, default_value_t = fetch::DEFAULT_READ_TIMEOUT_S, value_name = "S")]
    read_timeout_s: f64,
    /// Replace files that exist and are not the expected ones.
    #[arg(long)]
    force: bool,
    /// No progress output.
    #[arg(long)]
    quiet: bool,
}

#[derive(clap::Args)]
pub struct HayArgs {
    /// Where to download from (a mirror of the same file; its SHA-256 is still checked).
    #[arg(long, default_value = fetch::HAY_CELL_URL)]
    url: String,
    /// Destination file (default: cell1.asc in the project's morphologies/ folder).
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Seconds allowed to open the connection.
    #[arg(value_parser = super::finite_f64, long, default_value_t = fetch::DEFAULT_CONNECT_TIMEOUT_S, value_name = "S")]
    connect_timeout_s: f64,
    /// Seconds allowed for the answer to start and for each later read (a stalled server fails after this).
    #[arg(value_parser = super::finite_f64, long, default_value_t = fetch::DEFAULT_READ_TIMEOUT_S, value_name = "S")]
    read_timeout_s: f64,
    /// Seconds allowed for the whole download (a server trickling bytes fails after this).
    #[arg(value_parser = super::finite_f64, long, default_value_t = fetch::DEFAULT_DEADLINE_S, value_name = "S")]
    deadline_s: f64,
    /// Replace a destination file that exists and is not the expected file.
    #[arg(long)]
    force: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn run(command: &FetchCommand) -> Result<()> {
    match command {
        FetchCommand::Hay(args) => hay(args),
        FetchCommand::Elm(args) => elm(args),
    }
}

fn elm(args: &ElmArgs) -> Result<()> {
    use neurotwin::peer;
    let dir = args.dir.clone().unwrap_or_else(peer::default_models_dir);
    if let Some(src) = &args.from {
        peer::install_elm_from_dir(src, &dir).with_context(|| format!("installing the published ELM from {} into {}", src.display(), dir.display()))?;
        println!("installed {} into {} (SHA-256 of every file verified)", peer::ELM_NAME, dir.display());
    } else {
        let mut opts = peer::ElmFetchOptions::new(dir.clone());
        opts.base_url = args.base_url.clone();
        opts.connect_timeout = seconds("--connect-timeout-s", args.connect_timeout_s)?;
        opts.read_timeout = seconds("--read-timeout-s", args.read_timeout_s)?;
        opts.overwrite = args.force;
        let quiet = args.quiet;
        let mut last = String::new();
        let done = peer::fetch_elm(&opts, &mut |file, p| {
            if !quiet && file != last {
                eprintln!("downloading {file}{}", p.total_bytes.map_or(String::new(), |t| format!(" ({t} bytes)")));
                last = file.to_string();
            }
        })
        .with_context(|| format!("fetching the published ELM into {}", dir.display()))?;
        for f in &done {
            match f {
                Fetched::Written { path, bytes } => println!("wrote {} ({bytes} bytes, verified)", path.display()),
                Fetched::AlreadyPresent { path } => println!("{} is already there (verified)", path.display()),
            }
        }
    }
    // the files must load and pass their parity check before the command says it worked
    let path = peer::elm_model_path(&dir);
    let model = neurotwin::surrogate::SurrogateModel::load(&path, neurotwin::surrogate::LoadOptions::default())
        .with_context(|| format!("loading {} after installing it", path.display()))?;
    let parity = model.parity().map_or("no parity vector".to_string(), |p| format!("parity vector matched within {:.1e} over {} ms", p.max_abs_diff, p.n_ms));
    println!("{}: {}; {}", model.metadata().name, model.native_status(), parity);
    println!("licence: MIT, {} (keep it with the weights)", dir.join(format!("{}.LICENSE", peer::ELM_NAME)).display());
    Ok(())
}

fn seconds(name: &str, s: f64) -> Result<Duration> {
    if !(s.is_finite() && s > 0.0 && s <= 86_400.0) {
        anyhow::bail!("{name} is {s}; it must be a number of seconds in (0, 86400]");
    }
    Ok(Duration::from_secs_f64(s))
}

fn hay(args: &HayArgs) -> Result<()> {
    let out = args.out.clone().unwrap_or_else(fetch::default_hay_destination);
    let mut opts = FetchOptions::hay_cell(out);
    opts.url = args.url.clone();
    opts.connect_timeout = seconds("--connect-timeout-s", args.connect_timeout_s)?;
    opts.read_timeout = seconds("--read-timeout-s", args.read_timeout_s)?;
    opts.deadline = seconds("--deadline-s", args.deadline_s)?;
    opts.overwrite = args.force;
    if !args.quiet {
        eprintln!("downloading {}", opts.url);
    }
    let bar = if args.quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(0) };
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bytes}/{total_bytes} [{wide_bar}] {bytes_per_sec}") {
        bar.set_style(style);
    }
    let mut on_progress = |p: fetch::Progress| {
        if let Some(total) = p.total_bytes {
            bar.set_length(total);
        }
        bar.set_position(p.received_bytes);
    };
    let result = fetch::fetch(&opts, &mut on_progress);
    bar.finish_and_clear();
    match result.with_context(|| format!("fetching the Hay cell to {}", opts.out.display()))? {
        Fetched::Written { path, bytes } => {
            println!("wrote {} ({bytes} bytes, SHA-256 {} verified)", path.display(), opts.sha256);
        }
        Fetched::AlreadyPresent { path } => {
            println!("{} is already the Hay cell (SHA-256 {} verified); nothing downloaded", path.display(), opts.sha256);
        }
    }
    Ok(())
}
