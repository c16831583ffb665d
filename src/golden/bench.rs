//! The engine benchmark (`neurotwin bench`, `benches/engine.rs`): replay a golden case
//! single-threaded and report CPU seconds per simulated second, the time share of each phase of a
//! step, and the throughput of independent simulations run in parallel with rayon.

use crate::biophysics::profile::{Phase, PhaseClock, PhaseTimes};
use crate::biophysics::{Cell, InstructionSet, Recorder, SimError, SimSettings, Simulation, Stimulus};
use super::case::Case;
use super::replay::{cell_for, recorder_for, settings, stimulus, ReplayError};
use super::timing::process_cpu_seconds;
use crate::Morphology;

/// NEURON 9.0.2 and Arbor 0.12.2 on the 6 s paper-input case, one core (CPU s per simulated s;
/// the reference README's figures, measured on another host of this machine kind: ratios against
/// them are indicative only — hosts of the same kind differ up to 2x).
pub const NEURON_CPU_S_PER_S: f64 = 6.0;
pub const ARBOR_CPU_S_PER_S: f64 = 1.2;

/// A case made ready to run many times: cell, stimulus and settings are built once.
pub struct BenchCase {
    pub case: Case,
    pub cell: Cell,
    pub settings: SimSettings,
    pub stimulus: Stimulus,
    /// The kernel's code path (default: the fastest this CPU has; see [`BenchCase::use_isa`]).
    pub isa: InstructionSet,
}

impl BenchCase {
    pub fn new(case: Case, morph: &Morphology) -> Result<BenchCase, ReplayError> {
        let settings = settings(&case)?;
        let cell = cell_for(&case, morph)?;
        let stimulus = stimulus(&case, &cell)?;
        Ok(BenchCase { case, cell, settings, stimulus, isa: InstructionSet::best() })
    }

    /// Run the kernel on `isa` (e.g. the AVX2 path on an AVX-512 CPU), or on the fastest path this
    /// CPU has if it lacks `isa`; returns the path used.
    pub fn use_isa(&mut self, isa: InstructionSet) -> InstructionSet {
        self.isa = isa.min(InstructionSet::best());
        self.isa
    }

    fn simulation(&self) -> Result<Simulation, ReplayError> {
        let mut sim = Simulation::new(&self.cell, self.settings, &self.stimulus)?;
        sim.mechanisms.set_instruction_set(self.isa);
        Ok(sim)
    }

    /// Build, initialise and run the simulation to `tstop_ms` with the case's probes; returns
    /// the recorder.
    pub fn run(&self, tstop_ms: f64) -> Result<Recorder, ReplayError> {
        let mut recorder = recorder_for(&self.case, &self.cell, self.settings.dt_ms)?;
        let mut sim = self.simulation()?;
        sim.run_until(tstop_ms, &mut recorder)?;
        Ok(recorder)
    }

    /// The same run with every phase of every step timed (slower than [`BenchCase::run`]), then,
    /// on its final state, the kernel pass (with and without its synaptic terms) and the tree
    /// solve timed on their own.
    pub fn run_profiled(&self, tstop_ms: f64) -> Result<Profile, ReplayError> {
        let mut recorder = recorder_for(&self.case, &self.cell, self.settings.dt_ms)?;
        let mut sim = self.simulation()?;
        let dt = self.settings.dt_ms;
        let mut clock = PhaseTimes::default();
        recorder.observe(0, sim.node_voltages_mv(), dt);
        while sim.t_ms() < tstop_ms - 0.5 * dt {
            clock.restart();
            sim.step_with(&mut clock)?;
            recorder.observe(sim.step_index(), sim.node_voltages_mv(), dt);
            clock.lap(Phase::Recording);
        }
        // each the best of 5 short timings, which a single one (15 ms) is too noisy for
        let best = |f: &dyn Fn() -> f64| (0..5).map(|_| f()).fold(f64::INFINITY, f64::min);
        let with = best(&|| sim.kernel_pass_seconds(true, 4000));
        let without = best(&|| sim.kernel_pass_seconds(false, 4000));
        let solve = best(&|| sim.solver_pass_seconds(4000));
        Ok(Profile { times: clock, kernel_synaptic_fraction: ((with - without) / with).clamp(0.0, 1.0), kernel_pass_us: 1e6 * with, solve_us: 1e6 * solve })
    }

    /// CPU seconds of one run to `tstop_ms` (including building and initialising the
    /// simulation), per simulated second.
    pub fn cpu_per_simulated_s(&self, tstop_ms: f64) -> Result<f64, ReplayError> {
        let start = process_cpu_seconds();
        let rec = self.run(tstop_ms)?;
        let cpu = process_cpu_seconds() - start;
        std::hint::black_box(rec);
        Ok(cpu / (tstop_ms * 1e-3))
    }

    /// Simulated seconds per wall-clock second when `jobs` independent runs to `tstop_ms` share a
    /// rayon pool of `threads` threads.
    pub fn throughput(&self, threads: usize, jobs: usize, tstop_ms: f64) -> Result<f64, ReplayError> {
        use rayon::prelude::*;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| ReplayError::Sim(SimError::Settings(format!("thread pool: {e}"))))?;
        let start = std::time::Instant::now();
        let runs: Result<Vec<Recorder>, ReplayError> = pool.install(|| (0..jobs).into_par_iter().map(|_| self.run(tstop_ms)).collect());
        let wall = start.elapsed().as_secs_f64();
        std::hint::black_box(runs?);
        Ok(jobs as f64 * tstop_ms * 1e-3 / wall)
    }
}

/// What [`BenchCase::run_profiled`] measures.
#[derive(Debug, Clone)]
pub struct Profile {
    pub times: PhaseTimes,
    /// Share of the kernel's time spent on synaptic terms.
    pub kernel_synaptic_fraction: f64,
    /// One kernel pass and one tree solve on their own (µs), on the run's final state.
    pub kernel_pass_us: f64,
    pub solve_us: f64,
}

/// The time shares of [`PhaseTimes`] as "solver 21.0 %, channels …, synapses … (…), recording …",
/// with the fused kernel split by `kernel_synaptic_fraction`.
pub fn format_shares(times: &PhaseTimes, kernel_synaptic_fraction: f64) -> String {
    let [solver, kernel, events, recording] = times.shares().map(|s| 100.0 * s);
    let kernel_syn = kernel * kernel_synaptic_fraction;
    format!(
        "solver {solver:.1} %, channels {:.1} %, synapses {:.1} % (kernel terms {kernel_syn:.1} %, event delivery, constant rows and injected currents {events:.1} %), recording {recording:.1} %",
        kernel - kernel_syn,
        kernel_syn + events
    )
}

/// What `neurotwin bench` measures.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub repeats: usize,
    /// Simulated span (ms); the whole case when `None`.
    pub tstop_ms: Option<f64>,
    /// Independent runs per throughput measurement; 0 skips throughput.
    pub jobs: usize,
}

/// The CPU's model name (`/proc/cpuinfo`), or "unknown CPU".
pub fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| t.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split_once(':')).map(|(_, v)| v.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into())
}

/// The 1-minute load average, for stating the machine load with each timing.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// Run the benchmark and print its report to `out`.
pub fn report(bench: &BenchCase, opts: &Options, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let tstop = opts.tstop_ms.unwrap_or(bench.case.sim.tstop).min(bench.case.sim.tstop);
    anyhow::ensure!(tstop > 0.0, "nothing to simulate (tstop {tstop} ms)");
    let load = || load_average().map_or("unknown".to_string(), |l| format!("{l:.2}"));
    writeln!(
        out,
        "case {} ({} of {} ms, {} synapses), one thread, kernel code path {:?}{} on {}",
        bench.case.name,
        tstop,
        bench.case.sim.tstop,
        bench.stimulus.synapses.len(),
        bench.isa,
        if bench.isa == InstructionSet::best() { String::new() } else { format!(" (this CPU's fastest: {:?})", InstructionSet::best()) },
        cpu_name()
    )?;
    let sim = bench.simulation()?;
    let groups: Vec<String> = sim.mechanisms.group_summary().into_iter().map(|(n, names)| format!("{n} × [{}]", names.join(" "))).collect();
    writeln!(out, "membrane nodes by mechanism set: {}", groups.join(", "))?;
    // warm-up: page in the code and the tables, let the CPU clock settle
    bench.run(tstop.min(500.0))?;
    let mut per_s = Vec::with_capacity(opts.repeats);
    for _ in 0..opts.repeats {
        per_s.push(bench.cpu_per_simulated_s(tstop)?);
    }
    per_s.sort_by(f64::total_cmp);
    let (best, median) = (per_s[0], per_s[per_s.len() / 2]);
    writeln!(out, "CPU s per simulated s: best {best:.4}, median {median:.4} of {} runs (load average {})", opts.repeats, load())?;
    writeln!(
        out,
        "  vs stored figures from another host (reference README; same-host ratios differ, up to 2x): NEURON 9.0.2 {NEURON_CPU_S_PER_S} CPU s/s → {:.1}x, Arbor 0.12.2 {ARBOR_CPU_S_PER_S} CPU s/s → {:.1}x",
        NEURON_CPU_S_PER_S / best,
        ARBOR_CPU_S_PER_S / best
    )?;
    let profile = bench.run_profiled(tstop)?;
    writeln!(out, "time shares (instrumented run): {}", format_shares(&profile.times, profile.kernel_synaptic_fraction))?;
    writeln!(out, "on their own (final state): kernel pass {:.2} µs, tree solve {:.2} µs (a step is {:.0} µs of simulated time)", profile.kernel_pass_us, profile.solve_us, 1e3 * bench.settings.dt_ms)?;
    if opts.jobs > 0 {
        let one = bench.throughput(1, opts.jobs, tstop)?;
        let two = bench.throughput(2, opts.jobs, tstop)?;
        writeln!(out, "throughput ({} runs): 1 thread {one:.2} simulated s per s, 2 threads {two:.2} ({:.2}x) (load average {})", opts.jobs, two / one, load())?;
    }
    Ok(())
}
