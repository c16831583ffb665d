//! Where a step's time goes: a clock that the step "laps" at the end of each phase. The engine's
//! ordinary `step` uses [`NoClock`], whose laps compile to nothing; `neurotwin bench` uses
//! [`PhaseTimes`] on a separate run, so the headline timing carries no instrumentation.

use std::time::{Duration, Instant};

/// The parts of a step (and of the run loop around it) that the bench reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Hines solve and the new v.
    Solver = 0,
    /// The per-node kernel: channel, calcium and synaptic state updates and the next step's
    /// currents (one fused pass; `neurotwin bench` splits it by timing the kernel without its
    /// synaptic terms).
    Kernel = 1,
    /// Event delivery, the constant rows of the linear system put back, and injected (clamp,
    /// EPSC) currents.
    Events = 2,
    /// Probes and spike detection.
    Recording = 3,
}

impl Phase {
    pub const ALL: [Phase; 4] = [Phase::Solver, Phase::Kernel, Phase::Events, Phase::Recording];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Solver => "solver",
            Phase::Kernel => "kernel",
            Phase::Events => "events",
            Phase::Recording => "recording",
        }
    }
}

/// Something that is told when a phase ends.
pub trait PhaseClock {
    /// The time since the previous lap belongs to `phase`.
    fn lap(&mut self, phase: Phase);
}

/// No timing (the engine's normal path).
pub struct NoClock;

impl PhaseClock for NoClock {
    #[inline(always)]
    fn lap(&mut self, _phase: Phase) {}
}

/// Accumulated wall time per phase (the run is single-threaded, so wall ≈ CPU time).
#[derive(Debug, Clone)]
pub struct PhaseTimes {
    last: Instant,
    pub totals: [Duration; 4],
}

impl Default for PhaseTimes {
    fn default() -> Self {
        PhaseTimes { last: Instant::now(), totals: [Duration::ZERO; 4] }
    }
}

impl PhaseTimes {
    /// Start timing from now (time before this belongs to no phase).
    pub fn restart(&mut self) {
        self.last = Instant::now();
    }

    /// Fraction of the timed total spent in each phase, in [`Phase::ALL`] order.
    pub fn shares(&self) -> [f64; 4] {
        let total: f64 = self.totals.iter().map(Duration::as_secs_f64).sum();
        self.totals.map(|d| if total > 0.0 { d.as_secs_f64() / total } else { 0.0 })
    }
}

impl PhaseClock for PhaseTimes {
    #[inline]
    fn lap(&mut self, phase: Phase) {
        let now = Instant::now();
        self.totals[phase as usize] += now - self.last;
        self.last = now;
    }
}
