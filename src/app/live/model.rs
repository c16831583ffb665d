//! What the GUI's runner needs from a simulation: the [`LiveModel`] trait.
//!
//! The biophysical engine implements it through a thin adapter (`engine_model`); the
//! runner and the UI only ever see this trait. Compartments are addressed by **Cable node index**
//! (`morphology::Cable::nodes`, parent before child), the same indices the engine uses.

use anyhow::Result;

/// Kind of synapse, as in the Hay/Beniaguev setup (spec §6.2, §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SynapseKind {
    /// AMPA + NMDA point process, reversal 0 mV.
    #[serde(rename = "exc")]
    Excitatory,
    /// GABA_A point process.
    #[serde(rename = "inh")]
    Inhibitory,
}

impl SynapseKind {
    pub fn label(self) -> &'static str {
        match self {
            SynapseKind::Excitatory => "exc",
            SynapseKind::Inhibitory => "inh",
        }
    }
}

/// Handle of a synapse inside a model; only meaningful to the model that returned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SynId(pub u64);

/// A current clamp (NEURON's `IClamp`): `amp_na` from `delay_ms` to `delay_ms + dur_ms`
/// (absolute simulation times), injected into node `node`. Positive current depolarises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IClamp {
    pub node: usize,
    pub amp_na: f64,
    pub delay_ms: f64,
    pub dur_ms: f64,
}

/// A running single-cell simulation the GUI can drive.
///
/// Semantics every implementation must keep:
/// - Time starts at 0 ms and advances only in [`LiveModel::step`], by exactly `n_steps · dt_ms()`.
/// - Voltages are membrane potentials in mV, one per Cable node (zero-area end nodes included,
///   with whatever value the engine holds there), so `node_voltages_mv().len()` equals the Cable's
///   node count.
/// - Synapses persist across [`LiveModel::reset`]; their pending events are discarded.
/// - Nothing here may block for long: the runner calls these on its worker thread in a loop.
pub trait LiveModel: Send {
    /// One line for the UI: which model, which settings.
    fn label(&self) -> String;

    /// Fixed integration step (ms).
    fn dt_ms(&self) -> f64;

    /// Current simulation time (ms).
    fn t_ms(&self) -> f64;

    /// Advance `n_steps` steps of `dt_ms()`, delivering every queued event whose time falls
    /// within them (an event at t is delivered in the step that starts at or after t - dt/2,
    /// as NEURON's fixed-step NetCon delivery does).
    fn step(&mut self, n_steps: usize) -> Result<()>;

    /// Membrane potential of every Cable node (mV), indexed by node.
    fn node_voltages_mv(&self) -> &[f64];

    /// Membrane potential at soma(0.5) (mV).
    fn soma_v_mv(&self) -> f64;

    /// Place a synapse of `kind` at Cable node `node` (a segment node) with unit weight.
    /// Errors for nodes out of range or without membrane.
    fn add_synapse(&mut self, node: usize, kind: SynapseKind) -> Result<SynId>;

    /// Remove a synapse and any events still queued for it; unknown ids are ignored.
    fn remove_synapse(&mut self, syn: SynId);

    /// Queue a presynaptic spike (weight 1, delay 0) to arrive at simulation time `t_ms`
    /// (≥ `t_ms()`; earlier times are delivered in the next step). Unknown ids are ignored;
    /// non-finite times are an error.
    fn deliver_spike(&mut self, syn: SynId, t_ms: f64) -> Result<()>;

    /// Install (`Some`) or remove (`None`) the single current clamp; replaces any previous one.
    fn set_iclamp(&mut self, clamp: Option<IClamp>) -> Result<()>;

    /// Switch the NMDA component of excitatory synapses on or off (AMPA always stays on).
    fn set_nmda(&mut self, enabled: bool);

    /// Back to t = 0 and the initial (resting) state; keeps synapses, clamp and NMDA setting.
    fn reset(&mut self);

    /// `q` per Cable node into `out` (see [`NodeQuantity`] for units); `false` when the model
    /// has no such state (then `out` is left empty).
    fn node_quantity(&self, _q: crate::biophysics::mechanisms::NodeQuantity, out: &mut Vec<f64>) -> bool {
        out.clear();
        false
    }

    /// A full copy of the model's state (for what-if re-runs from a checkpoint); `None` when the
    /// model cannot be copied.
    fn boxed_clone(&self) -> Option<Box<dyn LiveModel>> {
        None
    }
}

/// Builds a model for a morphology; the app calls it again when a new morphology is opened.
pub type ModelFactory =
    Box<dyn Fn(&crate::Morphology, &crate::Cable) -> Result<Box<dyn LiveModel>> + Send + Sync>;
