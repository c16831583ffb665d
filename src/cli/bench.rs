//! `neurotwin bench`: the engine benchmark (a golden case replayed single-threaded after a
//! warm-up; CPU seconds per simulated second, time shares per phase, throughput of independent
//! simulations). The work is done by `neurotwin::golden::bench`.

use super::load_morphology;
use anyhow::{Context, Result};
use neurotwin::golden::case::Case;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Golden case to replay.
    #[arg(long, default_value = "../shared/reference/paper_input_nmda_seed1001.json")]
    case: PathBuf,
    /// Timed single-threaded runs (the best and the median are reported).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Simulate only this much of the case (ms), e.g. for a profiler; default the whole case.
    #[arg(value_parser = super::finite_f64, long)]
    tstop_ms: Option<f64>,
    /// Independent simulations per throughput measurement (0 skips it).
    #[arg(long, default_value_t = 4)]
    jobs: usize,
    /// Run the kernel on this code path (portable, avx2, avx512) instead of the fastest this CPU
    /// has, e.g. to measure the AVX2 path on an AVX-512 host.
    #[arg(long, value_enum)]
    isa: Option<IsaArg>,
    /// Another neurotwin executable (e.g. the previous build): replay the case with it and with
    /// this one in alternating rounds, each as a child process, and print the ratio of their CPU
    /// times (a speed change measured in one run on one host, not against stored figures). With
    /// --isa, both run that code path (each one's `bench --isa`, one thread after a warm-up).
    #[arg(long, value_name = "BIN")]
    baseline: Option<PathBuf>,
    /// Alternating rounds for --baseline.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum IsaArg {
    Portable,
    Avx2,
    Avx512,
}

impl IsaArg {
    fn instruction_set(self) -> neurotwin::biophysics::InstructionSet {
        match self {
            IsaArg::Portable => neurotwin::biophysics::InstructionSet::Portable,
            IsaArg::Avx2 => neurotwin::biophysics::InstructionSet::Avx2Fma,
            IsaArg::Avx512 => neurotwin::biophysics::InstructionSet::Avx512,
        }
    }
}

/// `morphology` is the global --morphology; default the Hay 2011 cell, ../shared/morphologies/cell1.asc.
pub fn run(args: &BenchArgs, morphology: Option<&Path>) -> Result<()> {
    let morph_path = morphology.map_or_else(|| std::path::PathBuf::from("../shared/morphologies/cell1.asc"), Path::to_path_buf);
    if let Some(baseline) = &args.baseline {
        return against_baseline(baseline, &args.case, &morph_path, args.rounds.max(1), args.isa);
    }
    let isa = args.isa.map(IsaArg::instruction_set);
    bench(&args.case, &morph_path, args.repeats, args.tstop_ms, args.jobs, isa)
}

/// CPU seconds (user + system) of the finished children of this process so far.
fn children_cpu_s() -> f64 {
    // SAFETY: getrusage writes the struct it is given and nothing else
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) } != 0 {
        return f64::NAN;
    }
    let s = |t: libc::timeval| t.tv_sec as f64 + 1e-6 * t.tv_usec as f64;
    s(ru.ru_utime) + s(ru.ru_stime)
}

/// Replay the case with `exe` as a child process; its CPU seconds.
fn replay_cpu_s(exe: &Path, case_path: &Path, morph_path: &Path) -> Result<f64> {
    let before = children_cpu_s();
    let out = std::process::Command::new(exe)
        .arg("replay")
        .arg(case_path)
        .arg("--morphology")
        .arg(morph_path)
        .output()
        .with_context(|| format!("running {}", exe.display()))?;
    anyhow::ensure!(out.status.success(), "{} replay failed: {}", exe.display(), String::from_utf8_lossy(&out.stderr));
    Ok(children_cpu_s() - before)
}

/// The single-threaded figure `exe bench --isa ISA` prints (CPU s per simulated s of one timed
/// run after its warm-up): the code path of a baseline comparison with --isa, which `replay`
/// cannot choose.
fn bench_isa_cpu_s_per_s(exe: &Path, case_path: &Path, morph_path: &Path, isa: IsaArg) -> Result<f64> {
    // the option's own spelling (clap's value name), so the child parses what this one would
    let name = clap::ValueEnum::to_possible_value(&isa).map(|v| v.get_name().to_owned()).context("--isa value without a name")?;
    let out = std::process::Command::new(exe)
        .arg("bench")
        .arg("--case")
        .arg(case_path)
        .arg("--morphology")
        .arg(morph_path)
        .args(["--isa", name.as_str(), "--jobs", "0", "--repeats", "1"])
        .output()
        .with_context(|| format!("running {}", exe.display()))?;
    anyhow::ensure!(out.status.success(), "{} bench --isa {name} failed: {}", exe.display(), String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    parse_best_cpu_s_per_s(&stdout).with_context(|| format!("{} bench --isa {name}: no \"CPU s per simulated s: best\" line in its output", exe.display()))
}

/// The number after "CPU s per simulated s: best" in a bench report.
fn parse_best_cpu_s_per_s(report: &str) -> Option<f64> {
    let rest = report.lines().find_map(|l| l.strip_prefix("CPU s per simulated s: best "))?;
    let x: f64 = rest.split(|c: char| c == ',' || c.is_whitespace()).next()?.parse().ok()?;
    (x.is_finite() && x > 0.0).then_some(x)
}

/// This executable against `baseline`, alternating: whole-process CPU of `replay CASE`, or with
/// `isa` the figure each one's `bench --isa` prints for that code path.
fn against_baseline(baseline: &Path, case_path: &Path, morph_path: &Path, rounds: usize, isa: Option<IsaArg>) -> Result<()> {
    let this = std::env::current_exe().context("locating this executable")?;
    anyhow::ensure!(baseline.is_file(), "--baseline {} is not a file", baseline.display());
    let case = Case::load(case_path)?;
    let sim_s = case.sim.tstop * 1e-3;
    if let Some(i) = isa {
        anyhow::ensure!(i.instruction_set() <= neurotwin::biophysics::InstructionSet::best(), "--isa {:?}: this CPU ({}) has no such path; its fastest is {:?}", i.instruction_set(), neurotwin::golden::bench::cpu_name(), neurotwin::biophysics::InstructionSet::best());
    }
    let path = match isa {
        None => format!("{:?} path, whole process", neurotwin::biophysics::InstructionSet::best()),
        Some(i) => format!("{:?} path forced with --isa in each one's bench, one thread after a warm-up", i.instruction_set()),
    };
    println!(
        "replaying {} ({} ms) with this executable and with {}, alternating, {rounds} rounds; {} ({path}), load average {}",
        case.name,
        case.sim.tstop,
        baseline.display(),
        neurotwin::golden::bench::cpu_name(),
        neurotwin::golden::bench::load_average().map_or("unknown".into(), |l| format!("{l:.2}"))
    );
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        let (b, o) = match isa {
            None => (replay_cpu_s(baseline, case_path, morph_path)?, replay_cpu_s(&this, case_path, morph_path)?),
            Some(i) => (bench_isa_cpu_s_per_s(baseline, case_path, morph_path, i)? * sim_s, bench_isa_cpu_s_per_s(&this, case_path, morph_path, i)? * sim_s),
        };
        println!("round {}: baseline {:.3}, this {:.3} CPU s per simulated s", r + 1, b / sim_s, o / sim_s);
        theirs.push(b);
        ours.push(o);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (o, b) = (median(&mut ours), median(&mut theirs));
    println!(
        "median: baseline {:.3}, this {:.3} CPU s per simulated s: this executable takes {:.3}x the baseline's CPU time ({})",
        b / sim_s,
        o / sim_s,
        o / b,
        if o < b { "faster" } else { "not faster" }
    );
    Ok(())
}

fn bench(
    case_path: &Path,
    morph_path: &Path,
    repeats: usize,
    tstop_ms: Option<f64>,
    jobs: usize,
    isa: Option<neurotwin::biophysics::InstructionSet>,
) -> Result<()> {
    for (what, path) in [("case", case_path), ("morphology", morph_path)] {
        if !path.is_file() {
            anyhow::bail!("{what} file {} not found (pass --{what} PATH)", path.display());
        }
    }
    let case = Case::load(case_path)?;
    let morph = load_morphology(morph_path)?;
    let mut bench = neurotwin::golden::bench::BenchCase::new(case, &morph).with_context(|| format!("preparing {}", case_path.display()))?;
    if let Some(isa) = isa {
        let used = bench.use_isa(isa);
        if used != isa {
            eprintln!("warning: this CPU has no {isa:?} path; running {used:?}");
        }
    }
    let opts = neurotwin::golden::bench::Options { repeats: repeats.max(1), tstop_ms, jobs };
    neurotwin::golden::bench::report(&bench, &opts, &mut std::io::stdout().lock())
}

#[cfg(test)]
mod tests {
    use super::parse_best_cpu_s_per_s;

    #[test]
    fn the_best_figure_is_read_from_a_bench_report() {
        let report = "case x (6000 of 6000 ms), one thread\nCPU s per simulated s: best 0.3334, median 0.3448 of 2 runs (load average 3.90)\nkernel pass 7.47 µs\n";
        assert_eq!(parse_best_cpu_s_per_s(report), Some(0.3334));
        assert_eq!(parse_best_cpu_s_per_s("CPU s per simulated s: best 0.5 of 1 run\n"), Some(0.5));
        for bad in ["", "CPU s per simulated s: best NaN, median 1", "CPU s per simulated s: best -1, median 1", "CPU s per simulated s: median 0.3", "  CPU s per simulated s: best 0.3"] {
            assert_eq!(parse_best_cpu_s_per_s(bad), None, "{bad:?}");
        }
    }
}
