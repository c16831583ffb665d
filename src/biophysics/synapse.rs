//! Synapses (spec §6): double-exponential conductances driven by presynaptic events.
//!
//! - `exc`: ProbAMPANMDA2 with AMPA (0.3/3 ms) and NMDA (2/70 ms, Mg block) pairs, gmax 0.4 nS each.
//! - `inh`: ProbUDFsyn2 GABA_A (0.2/8 ms), gmax 1 nS, e = −80 mV.
//! - `ampa_only` variant: exc synapses are ProbUDFsyn2 with 0.3/3 ms, gmax 0.4 nS, e = 0.
//!
//! Release is deterministic (spec §6.4 quirk 2). Events are delivered at the start of the step
//! that begins at their time; A and B jump equally, so g is unchanged in that step (§7.2 step 1).
//! All events of all synapses are kept in one time-sorted queue with a cursor, so steps without
//! events cost one comparison.

/// Synapse kinds of the golden format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SynapseKind {
    Exc,
    Inh,
}

/// Parameters of one double-exponential conductance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoubleExp {
    pub tau_rise_ms: f64,
    pub tau_decay_ms: f64,
}

impl DoubleExp {
    /// Peak normalisation f = 1/(exp(−t_p/τ_d) − exp(−t_p/τ_r)), t_p = τ_rτ_d/(τ_d − τ_r)·ln(τ_d/τ_r).
    pub fn factor(&self) -> f64 {
        let (r, d) = (self.tau_rise_ms, self.tau_decay_ms);
        let tp = r * d / (d - r) * (d / r).ln();
        1.0 / ((-tp / d).exp() - (-tp / r).exp())
    }
}

pub const AMPA: DoubleExp = DoubleExp { tau_rise_ms: 0.3, tau_decay_ms: 3.0 };
pub const NMDA: DoubleExp = DoubleExp { tau_rise_ms: 2.0, tau_decay_ms: 70.0 };
pub const GABA_A: DoubleExp = DoubleExp { tau_rise_ms: 0.2, tau_decay_ms: 8.0 };
/// gmax of AMPA and of NMDA in the exc synapse, and of the AMPA-only variant (µS).
pub const GMAX_EXC_US: f64 = 0.0004;
pub const GMAX_INH_US: f64 = 0.001;
pub const E_EXC_MV: f64 = 0.0;
pub const E_INH_MV: f64 = -80.0;

/// NMDA Mg block for 1 mM Mg (spec §6.2) and its derivative with respect to v.
#[inline(always)]
pub fn mg_block(v_mv: f64) -> (f64, f64) {
    let e = (-0.08 * v_mv).exp() / 3.57;
    let b = 1.0 / (1.0 + e);
    // d/dv 1/(1+e) = 0.08·e/(1+e)²
    (b, 0.08 * e * b * b)
}

/// Every synapse of a cell, summed per node: synapses of one kind on one node share their
/// kinetics, and their currents are linear in the conductance states A and B, so one summed pair
/// per kind and node gives the same currents as one pair per synapse (up to the order of
/// floating-point sums) at a fraction of the cost. Each synapse keeps its own index (the events'
/// [`Target`]), mapped to its node. The summed states live with the node's other states in the
/// engine's kernel (`mechanisms.rs`), which shares the Mg-block lookup with the gates; this
/// struct maps synapses to nodes and holds the kinetics.
///
/// - exc (ProbAMPANMDA2): AMPA pair + NMDA pair with the Mg block, gmax 0.4 nS each, e = 0;
/// - AMPA-only exc (ProbUDFsyn2, 0.3/3 ms, 0.4 nS, e = 0): the same kinetics, gmax and reversal as
///   the AMPA pair, so it drives the node's AMPA pair;
/// - inh (ProbUDFsyn2 GABA_A, 0.2/8 ms, 1 nS, e = −80 mV).
#[derive(Debug, Clone)]
pub struct SynapseSites {
    /// Node of each synapse, per population, by the index in its [`Target`].
    exc_node: Vec<u32>,
    exp2_node: Vec<u32>,
    inh_node: Vec<u32>,
    /// exp(−dt/τ) of each state: AMPA A, B; NMDA A, B; GABA_A A, B.
    pub decay: [f64; 6],
    /// Peak normalisation of AMPA, NMDA, GABA_A.
    factor: [f64; 3],
    /// 1 with NMDA, 0 for the AMPA-only model switched live (the app's NMDA toggle).
    pub nmda_scale: f64,
}

/// Synapse populations (the three kinds of [`Target`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Population {
    AmpaNmda,
    AmpaOnly,
    Inh,
}

impl SynapseSites {
    /// No synapses yet.
    pub fn new() -> Self {
        SynapseSites {
            exc_node: vec![],
            exp2_node: vec![],
            inh_node: vec![],
            decay: [1.0; 6],
            factor: [AMPA.factor(), NMDA.factor(), GABA_A.factor()],
            nmda_scale: 1.0,
        }
    }

    /// Add a synapse of `population` on `node` (< the node count, checked by the caller);
    /// returns its index within the population.
    pub fn push(&mut self, population: Population, node: usize) -> usize {
        let list = match population {
            Population::AmpaNmda => &mut self.exc_node,
            Population::AmpaOnly => &mut self.exp2_node,
            Population::Inh => &mut self.inh_node,
        };
        list.push(node as u32);
        list.len() - 1
    }

    /// Whether any synapse exists (the kernel skips synaptic terms otherwise).
    pub fn any(&self) -> bool {
        !(self.exc_node.is_empty() && self.exp2_node.is_empty() && self.inh_node.is_empty())
    }

    pub fn set_dt(&mut self, dt_ms: f64) {
        let taus = [AMPA.tau_rise_ms, AMPA.tau_decay_ms, NMDA.tau_rise_ms, NMDA.tau_decay_ms, GABA_A.tau_rise_ms, GABA_A.tau_decay_ms];
        for (d, tau) in self.decay.iter_mut().zip(taus) {
            *d = (-dt_ms / tau).exp();
        }
    }

    /// One event of weight `weight` to `target`: its node and the increments of the node's
    /// summed states. A and B jump by weight·factor, so the conductance B − A is unchanged in the
    /// step of delivery (spec §7.2 step 1).
    #[inline]
    pub fn receive(&self, target: Target, weight: f64) -> (usize, [f64; 6]) {
        let mut inc = [0.0; 6];
        let node = match target {
            Target::AmpaNmda(k) => {
                let (a, n) = (weight * self.factor[0], weight * self.factor[1]);
                inc[..4].copy_from_slice(&[a, a, n, n]);
                self.exc_node[k as usize]
            }
            Target::Exp2(k) => {
                let a = weight * self.factor[0];
                inc[..2].copy_from_slice(&[a, a]);
                self.exp2_node[k as usize]
            }
            Target::Inh(k) => {
                let g = weight * self.factor[2];
                inc[4..].copy_from_slice(&[g, g]);
                self.inh_node[k as usize]
            }
        };
        (node as usize, inc)
    }
}

impl Default for SynapseSites {
    fn default() -> Self {
        Self::new()
    }
}

/// Which population an event goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    AmpaNmda(u32),
    Exp2(u32),
    Inh(u32),
}

/// One presynaptic event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    pub t_ms: f64,
    pub target: Target,
}

/// All events, sorted by time, with a delivery cursor.
#[derive(Debug, Clone, Default)]
pub struct EventQueue {
    events: Vec<Event>,
    cursor: usize,
}

impl EventQueue {
    pub fn new(mut events: Vec<Event>) -> Self {
        events.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
        EventQueue { events, cursor: 0 }
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn rewind(&mut self) {
        self.cursor = 0;
    }

    /// Time of the next undelivered event.
    #[inline(always)]
    pub fn next_time(&self) -> f64 {
        self.events.get(self.cursor).map_or(f64::INFINITY, |e| e.t_ms)
    }

    /// Insert an event among the pending ones, after any pending event with the same time.
    pub fn insert(&mut self, event: Event) {
        // delivered events are dead weight once the app has run for a while
        if self.cursor > 4096 && self.cursor * 2 > self.events.len() {
            self.events.drain(..self.cursor);
            self.cursor = 0;
        }
        let offset = self.events[self.cursor..].partition_point(|e| e.t_ms <= event.t_ms);
        self.events.insert(self.cursor + offset, event);
    }

    /// Keep only the pending events for which `keep` is true.
    pub fn retain_pending(&mut self, mut keep: impl FnMut(&Event) -> bool) {
        let pending: Vec<Event> = self.events.drain(self.cursor..).filter(|e| keep(e)).collect();
        self.events.extend(pending);
    }

    /// Pop the next event if its time is ≤ `t_limit_ms`.
    #[inline]
    pub fn pop_due(&mut self, t_limit_ms: f64) -> Option<Event> {
        let e = *self.events.get(self.cursor)?;
        if e.t_ms <= t_limit_ms {
            self.cursor += 1;
            Some(e)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_match_spec() {
        // spec §6.2/6.3
        assert!((AMPA.factor() - 1.435055).abs() < 1e-6);
        assert!((NMDA.factor() - 1.142886).abs() < 1e-6);
        assert!((GABA_A.factor() - 1.127389).abs() < 1e-6);
    }

    #[test]
    fn mg_block_derivative() {
        let v = -40.0;
        let h = 1e-6;
        let num = (mg_block(v + h).0 - mg_block(v - h).0) / (2.0 * h);
        assert!((num - mg_block(v).1).abs() < 1e-9);
    }
}
