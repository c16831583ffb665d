//! The `neurotwin` executable: parse the command line and run it (`cli`). With no subcommand it
//! opens the GUI.

mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if let Err(err) = cli::run(args) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
