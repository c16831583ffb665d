//! NEURON's fixed-step backward-Euler scheme (spec §7.2), step for step.
//!
//! Per step from t to t + dt: (1) deliver events with time ≤ t + dt/2; (2) currents and slopes at
//! the old states (eca from the current cai; IClamp and EPSC currents at t + dt/2); (3) Hines solve,
//! V += ΔV; (4) t += dt; (5) state updates at the new v in registration order, then synapses.

mod live;

pub use live::{LiveSynapse, MembraneState};

pub use super::error::SimError;

use super::cell::Cell;
use super::mechanisms::{Mechanisms, Rows};
use super::point_current::{EpscCurrent, IClamp};
use super::profile::{NoClock, Phase, PhaseClock};
use super::recording::Recorder;
use super::solver::{SystemRow, TreeSolver};
use super::synapse::{Event, EventQueue, Population, SynapseKind, SynapseSites, Target};

/// Global settings of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimSettings {
    pub dt_ms: f64,
    /// Temperature (°C); only enters eca (spec §4.2).
    pub celsius: f64,
    pub v_init_mv: f64,
    /// Exc synapses are AMPA-only ProbUDFsyn2 (the paper's "AMPA" model).
    pub ampa_only: bool,
    /// Spec §6.4 quirk 1: a synapse whose first event is at t = 0 is silent for the run.
    pub silence_synapses_with_t0_event: bool,
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings { dt_ms: 0.025, celsius: 34.0, v_init_mv: -80.0, ampa_only: false, silence_synapses_with_t0_event: true }
    }
}

/// One synapse with its presynaptic spike train.
#[derive(Debug, Clone, PartialEq)]
pub struct SynapseSpec {
    pub kind: SynapseKind,
    pub node: usize,
    pub spikes_ms: Vec<f64>,
}

/// Everything injected into the cell.
#[derive(Debug, Clone, Default)]
pub struct Stimulus {
    pub iclamps: Vec<IClamp>,
    pub epscs: Vec<EpscCurrent>,
    pub synapses: Vec<SynapseSpec>,
}

/// A cell being simulated.
#[derive(Clone)]
pub struct Simulation {
    settings: SimSettings,
    step_index: u64,
    /// Node voltages (mV) ([`Simulation::node_voltages_mv`]); changed only by
    /// [`Simulation::step`] and [`Simulation::initialize`], so the rows below always belong to
    /// them.
    v_mv: Vec<f64>,
    pub mechanisms: Mechanisms,
    synapses: SynapseSites,
    queue: EventQueue,
    iclamps: Vec<IClamp>,
    epscs: Vec<EpscCurrent>,
    solver: TreeSolver,
    /// A·1e-2: density (mA/cm²) → current (nA) per node.
    area_factor: Vec<f64>,
    /// The linear system of the next step, (C/dt + G)·V − I (nA) and the diagonal (µS) per node:
    /// the membrane nodes' rows are written by the mechanism kernel at the end of each step (and
    /// by `initialize`) at the present v; the step adds the point currents, and the solve uses
    /// every row as scratch.
    system: Vec<SystemRow>,
    /// The nodes without membrane (zero area) that have children, and their constant diagonal,
    /// the axial sum (their right-hand side is 0): the rows in the sweeps that the kernel does
    /// not write, put back before each solve.
    fixed_rows: Vec<(usize, f64)>,
    /// The membrane rows must be computed again before the next solve (a synapse was added or
    /// the NMDA switch changed since they were written).
    rows_stale: bool,
    node_location: Vec<(usize, f64)>,
    section_names: Vec<String>,
}

/// The arrays of a mechanism-kernel pass ([`Rows`]) of a `Simulation`.
macro_rules! rows {
    ($sim:expr) => {
        Rows { v_mv: &$sim.v_mv, syn_decay: $sim.synapses.decay, nmda_scale: $sim.synapses.nmda_scale, any_synapse: $sim.synapses.any(), system: &mut $sim.system }
    };
}

fn check_finite(name: &str, value: f64) -> Result<(), SimError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(SimError::Stimulus(format!("{name} is {value}")))
    }
}

impl Simulation {
    /// Build and initialise (NEURON's finitialize) a simulation of `cell` with `stimulus`.
    pub fn new(cell: &Cell, settings: SimSettings, stimulus: &Stimulus) -> Result<Simulation, SimError> {
        if !(settings.dt_ms.is_finite() && settings.dt_ms > 0.0) {
            return Err(SimError::Settings(format!("dt must be positive, got {} ms", settings.dt_ms)));
        }
        if !settings.celsius.is_finite() || settings.celsius <= -273.15 {
            return Err(SimError::Settings(format!("celsius must be above absolute zero, got {}", settings.celsius)));
        }
        if !settings.v_init_mv.is_finite() {
            return Err(SimError::Settings(format!("v_init must be finite, got {}", settings.v_init_mv)));
        }
        let nodes = &cell.cable.nodes;
        let n = nodes.len();
        if n == 0 || nodes[0].parent.is_some() || cell.membrane.len() != n {
            return Err(SimError::Settings("cell has no root node at index 0 or mismatched membranes".into()));
        }
        let mut parent = vec![usize::MAX; n];
        let mut g_axial = vec![0.0; n];
        for (i, node) in nodes.iter().enumerate().skip(1) {
            let p = node.parent.ok_or_else(|| SimError::Settings(format!("node {i} has no parent")))?;
            if p >= i || !(node.ri_mohm > 0.0 && node.ri_mohm.is_finite()) {
                return Err(SimError::Settings(format!("node {i}: parent {p} or ri {} MΩ invalid", node.ri_mohm)));
            }
            parent[i] = p;
            g_axial[i] = 1.0 / node.ri_mohm;
        }
        let area_factor: Vec<f64> = nodes.iter().map(|nd| nd.area_um2 * 1e-2).collect();
        let algebraic: Vec<bool> = nodes.iter().map(|nd| nd.area_um2 <= 0.0).collect();
        // (zero-area leaves are not in the sweeps, only copied from their parent: their rows are
        // never read, so only the zero-area branch points' rows need putting back before a solve)
        let mut has_child = vec![false; n];
        for &p in parent.iter().skip(1) {
            has_child[p] = true;
        }
        let solver = TreeSolver::with_algebraic(parent, g_axial, &algebraic);
        let cdt_us: Vec<f64> = nodes.iter().zip(&cell.membrane).map(|(nd, m)| 1e-5 * m.cm_uf_per_cm2 * nd.area_um2 / settings.dt_ms).collect();
        let diag_const_us: Vec<f64> = cdt_us.iter().zip(&solver.g_axial_sum_us).map(|(c, g)| c + g).collect();
        let mut sim = Simulation {
            settings,
            step_index: 0,
            v_mv: vec![settings.v_init_mv; n],
            mechanisms: Mechanisms::from_cell(cell, super::calcium::nernst_factor_mv(settings.celsius), &cdt_us, &solver.g_axial_sum_us),
            synapses: SynapseSites::new(),
            queue: EventQueue::default(),
            iclamps: vec![],
            epscs: vec![],
            solver,
            area_factor,
            fixed_rows: (0..n).filter(|&i| algebraic[i] && has_child[i]).map(|i| (i, diag_const_us[i])).collect(),
            system: diag_const_us.iter().map(|&d| [d, 0.0]).collect(),
            rows_stale: false,
            node_location: nodes.iter().map(|nd| (nd.section, nd.x)).collect(),
            section_names: cell.morphology.sections.iter().map(|s| s.name.clone()).collect(),
        };
        sim.add_stimulus(stimulus)?;
        sim.initialize();
        Ok(sim)
    }

    fn add_stimulus(&mut self, stimulus: &Stimulus) -> Result<(), SimError> {
        let n = self.v_mv.len();
        let area_factor = self.area_factor.clone();
        let check_node = |node: usize, what: &str| {
            if node < n && area_factor[node] > 0.0 {
                Ok(())
            } else {
                Err(SimError::Stimulus(format!("{what} on node {node}, which is not a membrane node")))
            }
        };
        for c in &stimulus.iclamps {
            check_node(c.node, "IClamp")?;
            for (name, x) in [("IClamp delay", c.delay_ms), ("IClamp dur", c.dur_ms), ("IClamp amp", c.amp_na)] {
                check_finite(name, x)?;
            }
            if c.dur_ms < 0.0 {
                return Err(SimError::Stimulus(format!("IClamp duration must not be negative, got {} ms", c.dur_ms)));
            }
            self.iclamps.push(*c);
        }
        for e in &stimulus.epscs {
            check_node(e.node, "EPSC current")?;
            for (name, x) in [("EPSC onset", e.onset_ms), ("EPSC imax", e.imax_na)] {
                check_finite(name, x)?;
            }
            if !(e.tau0_ms > 0.0 && e.tau1_ms > 0.0 && e.tau0_ms != e.tau1_ms) {
                return Err(SimError::Stimulus(format!("EPSC taus must be positive and distinct, got {} and {} ms", e.tau0_ms, e.tau1_ms)));
            }
            self.epscs.push(*e);
        }
        let mut events = Vec::new();
        for s in &stimulus.synapses {
            check_node(s.node, "synapse")?;
            if let Some(bad) = s.spikes_ms.iter().find(|t| !(t.is_finite() && **t >= 0.0)) {
                return Err(SimError::Stimulus(format!("spike time {bad} ms is negative or not finite")));
            }
            let target = self.push_synapse(s.kind, s.node);
            let first = s.spikes_ms.iter().copied().fold(f64::INFINITY, f64::min);
            if self.settings.silence_synapses_with_t0_event && first == 0.0 {
                continue;
            }
            events.extend(s.spikes_ms.iter().map(|&t_ms| Event { t_ms, target }));
        }
        self.queue = EventQueue::new(events);
        Ok(())
    }

    /// Add a synapse of `kind` on `node` (checked by the caller) to its population.
    fn push_synapse(&mut self, kind: SynapseKind, node: usize) -> Target {
        match (kind, self.settings.ampa_only) {
            (SynapseKind::Exc, false) => Target::AmpaNmda(self.synapses.push(Population::AmpaNmda, node) as u32),
            (SynapseKind::Exc, true) => Target::Exp2(self.synapses.push(Population::AmpaOnly, node) as u32),
            (SynapseKind::Inh, _) => Target::Inh(self.synapses.push(Population::Inh, node) as u32),
        }
    }

    /// NEURON's finitialize(v_init): t = 0, v = v_init, gates at steady state, cai = 5e-5 mM,
    /// synaptic states zero, events rewound.
    pub fn initialize(&mut self) {
        self.step_index = 0;
        let dt = self.settings.dt_ms;
        self.v_mv.iter_mut().for_each(|v| *v = self.settings.v_init_mv);
        self.synapses.set_dt(dt);
        let rows = rows!(self);
        self.mechanisms.init(dt, rows);
        self.rows_stale = false;
        self.queue.rewind();
    }

    pub fn settings(&self) -> &SimSettings {
        &self.settings
    }

    /// Current time (ms) = steps·dt.
    pub fn t_ms(&self) -> f64 {
        self.step_index as f64 * self.settings.dt_ms
    }

    pub fn step_index(&self) -> u64 {
        self.step_index
    }

    /// Internal calcium per node (mM); 5e-5 where no CaDynamics acts.
    pub fn cai_mm(&self) -> Vec<f64> {
        self.mechanisms.cai_mm()
    }

    /// Number of synaptic events in the queue (after quirk-1 silencing).
    pub fn n_events(&self) -> usize {
        self.queue.len()
    }

    /// Advance one step of dt (spec §7.2).
    pub fn step(&mut self) -> Result<(), SimError> {
        self.step_with(&mut NoClock)
    }

    /// [`Simulation::step`], telling `clock` where each phase ends (the bench's time shares).
    #[inline]
    pub fn step_with<C: PhaseClock>(&mut self, clock: &mut C) -> Result<(), SimError> {
        let dt = self.settings.dt_ms;
        let t = self.t_ms();
        // (1) events due at the start of this step (A and B jump equally: currents unchanged)
        let limit = t + 0.5 * dt;
        while let Some(e) = self.queue.pop_due(limit) {
            let (node, increments) = self.synapses.receive(e.target, 1.0);
            self.mechanisms.add_synaptic(node, &increments);
        }
        // (2) currents at the old states: the membrane rows, computed at the end of the previous
        // step (or by `initialize`) at the present v unless something changed since, and the
        // constant rows
        if self.rows_stale {
            let rows = rows!(self);
            self.mechanisms.update(dt, false, rows);
            self.rows_stale = false;
        }
        self.restore_fixed_rows();
        let t_mid = t + 0.5 * dt;
        for c in &self.iclamps {
            self.system[c.node][1] += c.current_na(t_mid);
        }
        for e in &self.epscs {
            self.system[e.node][1] += e.current_na(t_mid);
        }
        clock.lap(Phase::Events);
        // (3) tree solve, V += ΔV
        let sum = self.solver.step(&mut self.v_mv, &mut self.system);
        // (4)
        self.step_index += 1;
        if !sum.is_finite() {
            return Err(self.non_finite_error());
        }
        clock.lap(Phase::Solver);
        // (5) states at the new v (mechanisms, then synapses), and the next step's currents
        let rows = rows!(self);
        self.mechanisms.update(dt, true, rows);
        clock.lap(Phase::Kernel);
        Ok(())
    }

    /// The rows of the nodes without membrane, as before a solve.
    fn restore_fixed_rows(&mut self) {
        for &(node, diag_us) in &self.fixed_rows {
            if let Some(row) = self.system.get_mut(node) {
                *row = [diag_us, 0.0];
            }
        }
    }

    /// Seconds per kernel pass (state update and next-step currents of every membrane node), on
    /// a copy of this simulation, with or without the synaptic terms: how the bench splits the
    /// fused kernel's time between channels and synapses.
    pub fn kernel_pass_seconds(&self, with_synapses: bool, passes: usize) -> f64 {
        let mut sim = self.clone();
        let dt = sim.settings.dt_ms;
        let any = with_synapses && sim.synapses.any();
        let start = std::time::Instant::now();
        for _ in 0..passes {
            let rows = Rows { any_synapse: any, ..rows!(sim) };
            sim.mechanisms.update(dt, true, rows);
        }
        start.elapsed().as_secs_f64() / passes.max(1) as f64
    }

    /// Seconds per tree solve (with the copy of the linear system it works on), on a copy of
    /// this simulation: the bench's timing of the solver on its own.
    pub fn solver_pass_seconds(&self, passes: usize) -> f64 {
        let mut sim = self.clone();
        sim.restore_fixed_rows();
        let system = sim.system.clone();
        let mut v = sim.v_mv.clone();
        let start = std::time::Instant::now();
        for _ in 0..passes {
            sim.system.copy_from_slice(&system);
            v.copy_from_slice(&sim.v_mv);
            std::hint::black_box(sim.solver.step(&mut v, &mut sim.system));
        }
        start.elapsed().as_secs_f64() / passes.max(1) as f64
    }

    fn non_finite_error(&self) -> SimError {
        let (node, mechanism, state) = match self.mechanisms.first_non_finite() {
            Some((node, m, s)) => (node, m.to_string(), s.to_string()),
            None => {
                let node = self.v_mv.iter().position(|v| !v.is_finite()).unwrap_or(0);
                (node, "membrane".to_string(), "v".to_string())
            }
        };
        let (section, x) = self.node_location[node];
        SimError::NonFinite { mechanism, state, section: self.section_names[section].clone(), x, t_ms: self.t_ms() }
    }

    /// Step until t ≥ `t_ms` (to within half a step), feeding every step to `recorder`.
    pub fn run_until(&mut self, t_ms: f64, recorder: &mut Recorder) -> Result<(), SimError> {
        if !t_ms.is_finite() {
            return Err(SimError::Settings(format!("tstop must be finite, got {t_ms}")));
        }
        let dt = self.settings.dt_ms;
        if self.step_index == 0 {
            recorder.observe(0, &self.v_mv, dt);
        }
        while self.t_ms() < t_ms - 0.5 * dt {
            self.step()?;
            recorder.observe(self.step_index, &self.v_mv, dt);
        }
        Ok(())
    }
}
