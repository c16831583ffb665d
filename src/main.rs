//! The `neurotwin` executable: parse the command line and run it (`cli`). With no subcommand it
//! opens the GUI.

mod cli;

/// A command-line run whose output is piped into a reader that stops early (`| head -1`) ends
/// quietly, as Unix tools do: the default SIGPIPE action (terminate, no message) is restored.
/// Rust ignores SIGPIPE so that writes fail with EPIPE instead, which makes `println!` panic
/// with a backtrace. Not for the GUI, which keeps EPIPE as an error on its sockets.
fn quiet_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread is spawned; `signal` with SIG_DFL only
    // resets the disposition of SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if args.has_subcommand() {
        quiet_broken_pipe();
    }
    if let Err(err) = cli::run(args) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
