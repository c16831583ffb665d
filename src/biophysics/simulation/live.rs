//! Live interaction with a running simulation (the app): synapses added and removed at run time,
//! spikes scheduled ahead, clamps replaced, NMDA switched on and off, reset to rest.
//!
//! None of this changes the numerical scheme: a spike scheduled at t_e is delivered at the start
//! of the step that begins at t_e, exactly like the events of a golden case (spec §7.2).

use super::super::point_current::IClamp;
use super::super::mechanisms::Mechanisms;
use super::super::synapse::{Event, EventQueue, SynapseKind, Target};
use super::{check_finite, SimError, Simulation};

/// A synapse added at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSynapse {
    pub(crate) target: Target,
}

/// A snapshot of the membrane (node voltages, channel gates, calcium) of one simulation.
#[derive(Debug, Clone)]
pub struct MembraneState {
    v_mv: Vec<f64>,
    mechanisms: Mechanisms,
}

impl Simulation {
    /// Add a synapse of `kind` on membrane node `node` (weight 1, delay 0, the paper's parameters).
    pub fn add_synapse(&mut self, kind: SynapseKind, node: usize) -> Result<LiveSynapse, SimError> {
        if node >= self.v_mv.len() || self.area_factor[node] <= 0.0 {
            return Err(SimError::Stimulus(format!("synapse on node {node}, which is not a membrane node")));
        }
        let target = self.push_synapse(kind, node);
        // the new site's currents (zero) must be part of the next step's sums
        self.rows_stale = true;
        Ok(LiveSynapse { target })
    }

    /// Schedule a presynaptic spike at `t_ms` (≥ the current time; earlier times are delivered at
    /// the next step).
    pub fn schedule_spike(&mut self, synapse: LiveSynapse, t_ms: f64) -> Result<(), SimError> {
        check_finite("spike time", t_ms)?;
        self.queue.insert(Event { t_ms: t_ms.max(self.t_ms()), target: synapse.target });
        Ok(())
    }

    /// Forget the pending (undelivered) spikes of one synapse; its conductance then decays as
    /// after its last spike. Use this to remove a synapse from the cell.
    pub fn cancel_spikes(&mut self, synapse: LiveSynapse) {
        self.queue.retain_pending(|e| e.target != synapse.target);
    }

    /// Forget every pending spike.
    pub fn cancel_all_spikes(&mut self) {
        self.queue.retain_pending(|_| false);
    }

    /// Replace all current clamps.
    pub fn set_iclamps(&mut self, clamps: &[IClamp]) -> Result<(), SimError> {
        for c in clamps {
            if c.node >= self.v_mv.len() || self.area_factor[c.node] <= 0.0 {
                return Err(SimError::Stimulus(format!("IClamp on node {}, which is not a membrane node", c.node)));
            }
            for (name, x) in [("IClamp delay", c.delay_ms), ("IClamp dur", c.dur_ms), ("IClamp amp", c.amp_na)] {
                check_finite(name, x)?;
            }
            if c.dur_ms < 0.0 {
                return Err(SimError::Stimulus(format!("IClamp duration must not be negative, got {} ms", c.dur_ms)));
            }
        }
        self.iclamps = clamps.to_vec();
        Ok(())
    }

    /// Switch the NMDA component of every AMPA+NMDA synapse on or off. Off is exactly the paper's
    /// AMPA-only model: its exc synapse is the AMPA pair alone with the same kinetics and gmax.
    pub fn set_nmda_enabled(&mut self, enabled: bool) {
        self.synapses.nmda_scale = if enabled { 1.0 } else { 0.0 };
        // the next step's synaptic currents were computed with the old scale
        self.rows_stale = true;
    }

    pub fn nmda_enabled(&self) -> bool {
        self.synapses.nmda_scale != 0.0
    }

    /// Back to t = 0 at rest (finitialize), with every pending spike forgotten. Synapses,
    /// clamps and the NMDA switch are kept.
    pub fn reset(&mut self) {
        self.cancel_all_spikes();
        self.initialize();
    }

    /// Run the cell with no input (queued spikes held back, clamps and EPSC currents off
    /// meanwhile) for `duration_ms`, then restart the clock at t = 0 from the state reached: the
    /// documented steady state the app starts from (finitialize's v_init is not the cell's rest,
    /// and the first tens of ms after it are a relaxation, not a response). Returns that state
    /// for [`Simulation::reset_to`]. Synapses, the NMDA switch and the queued spikes are kept:
    /// a fresh simulation's stimulus is delivered on the new clock.
    pub fn settle(&mut self, duration_ms: f64) -> Result<MembraneState, SimError> {
        if !(duration_ms.is_finite() && duration_ms >= 0.0) {
            return Err(SimError::Settings(format!("settling time must be a finite, non-negative number of ms, got {duration_ms}")));
        }
        let queue = std::mem::take(&mut self.queue);
        let clamps = std::mem::take(&mut self.iclamps);
        let epscs = std::mem::take(&mut self.epscs);
        let steps = (duration_ms / self.settings.dt_ms).round() as u64;
        let mut result = Ok(());
        for _ in 0..steps {
            result = self.step();
            if result.is_err() {
                break;
            }
        }
        self.iclamps = clamps;
        self.epscs = epscs;
        self.queue = queue;
        self.step_index = 0;
        result?;
        Ok(self.membrane_state())
    }

    /// The membrane's state now (voltages, gates, calcium), to return to with [`Simulation::reset_to`].
    pub fn membrane_state(&self) -> MembraneState {
        MembraneState { v_mv: self.v_mv.clone(), mechanisms: self.mechanisms.clone() }
    }

    /// Back to t = 0 in `state` (taken from this simulation with [`Simulation::settle`] or
    /// [`Simulation::membrane_state`]), every spike forgotten and synaptic conductances zero.
    /// Synapses, clamps and the NMDA switch are kept.
    pub fn reset_to(&mut self, state: &MembraneState) -> Result<(), SimError> {
        if state.v_mv.len() != self.v_mv.len() {
            return Err(SimError::Settings(format!("a membrane state of {} nodes cannot be restored into a cell of {}", state.v_mv.len(), self.v_mv.len())));
        }
        self.queue = EventQueue::default();
        self.initialize();
        self.v_mv.clone_from(&state.v_mv);
        self.mechanisms = state.mechanisms.clone();
        // the rows were written at v_init by `initialize`: recompute them at the restored state
        self.rows_stale = true;
        Ok(())
    }

    /// Node voltages (mV), one per `Cable` node.
    pub fn node_voltages_mv(&self) -> &[f64] {
        &self.v_mv
    }

    /// A state quantity per `Cable` node (calcium, synaptic conductances, currents, gates; see
    /// [`NodeQuantity`](crate::biophysics::mechanisms::NodeQuantity) for units) into `out`.
    pub fn node_quantity(&self, q: crate::biophysics::mechanisms::NodeQuantity, out: &mut Vec<f64>) {
        self.mechanisms.node_quantity(q, &self.v_mv, self.synapses.nmda_scale, out);
    }
}

#[cfg(test)]
mod tests {
    use crate::biophysics::recipe::hay2011::{build_cell, Hay2011Variant};
    use crate::biophysics::simulation::{SimSettings, Simulation, Stimulus, SynapseSpec};
    use crate::biophysics::synapse::SynapseKind;
    use crate::morphology::{synthesize_l5pc, Discretisation};

    fn cell() -> crate::biophysics::Cell {
        let morph = synthesize_l5pc(4).expect("synth").morphology;
        build_cell(&morph, &Discretisation::default(), Hay2011Variant::default()).expect("cell")
    }

    fn run(sim: &mut Simulation, t_ms: f64) -> Vec<f64> {
        let mut soma = vec![];
        while sim.t_ms() < t_ms - 1e-9 {
            sim.step().expect("step");
            soma.push(sim.v_mv[0]);
        }
        soma
    }

    #[test]
    fn live_spikes_equal_a_precomputed_stimulus_step_for_step() {
        let cell = cell();
        let node = cell.cable.segment_node(cell.morphology.section_index("dend[3]").expect("dend[3]"), 0.5);
        let spikes = vec![5.0, 7.5, 12.0];
        let stim = Stimulus { synapses: vec![SynapseSpec { kind: SynapseKind::Exc, node, spikes_ms: spikes.clone() }], ..Default::default() };
        let mut golden = Simulation::new(&cell, SimSettings::default(), &stim).expect("sim");
        let a = run(&mut golden, 30.0);
        let mut live = Simulation::new(&cell, SimSettings::default(), &Stimulus::default()).expect("sim");
        let syn = live.add_synapse(SynapseKind::Exc, node).expect("add");
        run(&mut live, 4.0);
        for t in &spikes {
            live.schedule_spike(syn, *t).expect("schedule");
        }
        let mut b = vec![];
        b.extend(std::iter::repeat_n(f64::NAN, 160));
        b.extend(run(&mut live, 30.0));
        for (k, (x, y)) in a.iter().zip(&b).enumerate().skip(160) {
            assert_eq!(x, y, "step {k}");
        }
        assert!(a.iter().cloned().fold(f64::MIN, f64::max) > a[150] + 0.05, "the EPSP must show at the soma");
    }

    #[test]
    fn nmda_off_equals_the_ampa_only_variant() {
        let cell = cell();
        let node = cell.cable.segment_node(cell.morphology.section_index("dend[3]").expect("dend[3]"), 0.5);
        let stim = Stimulus { synapses: vec![SynapseSpec { kind: SynapseKind::Exc, node, spikes_ms: vec![2.0, 3.0, 4.0] }], ..Default::default() };
        let mut ampa = Simulation::new(&cell, SimSettings { ampa_only: true, ..Default::default() }, &stim).expect("sim");
        let mut switched = Simulation::new(&cell, SimSettings::default(), &stim).expect("sim");
        switched.set_nmda_enabled(false);
        let (a, b) = (run(&mut ampa, 40.0), run(&mut switched, 40.0));
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-12, "worst difference {worst} mV");
        let mut with_nmda = Simulation::new(&cell, SimSettings::default(), &stim).expect("sim");
        let c = run(&mut with_nmda, 40.0);
        assert!(c.iter().zip(&a).any(|(x, y)| (x - y).abs() > 1e-3), "NMDA must change the response");
    }

    #[test]
    fn reset_returns_to_the_initial_state_and_forgets_spikes() {
        let cell = cell();
        let mut sim = Simulation::new(&cell, SimSettings::default(), &Stimulus::default()).expect("sim");
        let first = run(&mut sim, 10.0);
        let syn = sim.add_synapse(SynapseKind::Inh, 0).expect("add");
        sim.schedule_spike(syn, 20.0).expect("schedule");
        sim.reset();
        assert_eq!(sim.t_ms(), 0.0);
        let again = run(&mut sim, 30.0);
        assert_eq!(&again[..first.len()], &first[..]);
        let mut quiet = Simulation::new(&cell, SimSettings::default(), &Stimulus::default()).expect("sim");
        assert_eq!(again, run(&mut quiet, 30.0), "the cancelled spike must not arrive");
    }

    #[test]
    fn bad_live_input_is_rejected() {
        let cell = cell();
        let mut sim = Simulation::new(&cell, SimSettings::default(), &Stimulus::default()).expect("sim");
        let end_node = cell.cable.section_end_node[0];
        assert!(sim.add_synapse(SynapseKind::Exc, end_node).is_err());
        assert!(sim.add_synapse(SynapseKind::Exc, usize::MAX).is_err());
        let syn = sim.add_synapse(SynapseKind::Exc, 0).expect("add");
        assert!(sim.schedule_spike(syn, f64::NAN).is_err());
    }
}
