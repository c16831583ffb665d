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

/// A population of single double-exponential synapses (GABA_A, or AMPA-only exc).
#[derive(Debug, Clone)]
pub struct DoubleExpSynapses {
    pub kinetics: DoubleExp,
    pub gmax_us: f64,
    pub e_mv: f64,
    pub factor: f64,
    pub nodes: Vec<usize>,
    pub a: Vec<f64>,
    pub b: Vec<f64>,
    decay_a: f64,
    decay_b: f64,
}

impl DoubleExpSynapses {
    pub fn new(kinetics: DoubleExp, gmax_us: f64, e_mv: f64) -> Self {
        DoubleExpSynapses { kinetics, gmax_us, e_mv, factor: kinetics.factor(), nodes: vec![], a: vec![], b: vec![], decay_a: 1.0, decay_b: 1.0 }
    }

    pub fn push(&mut self, node: usize) -> usize {
        self.nodes.push(node);
        self.a.push(0.0);
        self.b.push(0.0);
        self.nodes.len() - 1
    }

    pub fn set_dt(&mut self, dt_ms: f64) {
        self.decay_a = (-dt_ms / self.kinetics.tau_rise_ms).exp();
        self.decay_b = (-dt_ms / self.kinetics.tau_decay_ms).exp();
    }

    pub fn reset(&mut self) {
        self.a.iter_mut().for_each(|x| *x = 0.0);
        self.b.iter_mut().for_each(|x| *x = 0.0);
    }

    #[inline]
    pub fn receive(&mut self, k: usize, weight: f64) {
        self.a[k] += weight * self.factor;
        self.b[k] += weight * self.factor;
    }

    /// Add the synaptic currents (nA) and conductances (µS) to per-node sums.
    #[inline]
    pub fn current(&self, v_mv: &[f64], i_na: &mut [f64], g_us: &mut [f64]) {
        for (&node, (&a, &b)) in self.nodes.iter().zip(self.a.iter().zip(&self.b)) {
            let g = self.gmax_us * (b - a);
            i_na[node] += g * (v_mv[node] - self.e_mv);
            g_us[node] += g;
        }
    }

    #[inline]
    pub fn advance(&mut self) {
        for k in 0..self.nodes.len() {
            self.a[k] *= self.decay_a;
            self.b[k] *= self.decay_b;
        }
    }
}

/// A population of AMPA+NMDA synapses (ProbAMPANMDA2).
#[derive(Debug, Clone)]
pub struct AmpaNmdaSynapses {
    pub nodes: Vec<usize>,
    pub a_ampa: Vec<f64>,
    pub b_ampa: Vec<f64>,
    pub a_nmda: Vec<f64>,
    pub b_nmda: Vec<f64>,
    f_ampa: f64,
    f_nmda: f64,
    decay: [f64; 4],
    /// 1 with NMDA, 0 for the AMPA-only model switched live (the app's NMDA toggle).
    pub nmda_scale: f64,
}

impl Default for AmpaNmdaSynapses {
    fn default() -> Self {
        AmpaNmdaSynapses {
            nodes: vec![],
            a_ampa: vec![],
            b_ampa: vec![],
            a_nmda: vec![],
            b_nmda: vec![],
            f_ampa: AMPA.factor(),
            f_nmda: NMDA.factor(),
            decay: [1.0; 4],
            nmda_scale: 1.0,
        }
    }
}

impl AmpaNmdaSynapses {
    pub fn push(&mut self, node: usize) -> usize {
        self.nodes.push(node);
        self.a_ampa.push(0.0);
        self.b_ampa.push(0.0);
        self.a_nmda.push(0.0);
        self.b_nmda.push(0.0);
        self.nodes.len() - 1
    }

    pub fn set_dt(&mut self, dt_ms: f64) {
        self.decay = [
            (-dt_ms / AMPA.tau_rise_ms).exp(),
            (-dt_ms / AMPA.tau_decay_ms).exp(),
            (-dt_ms / NMDA.tau_rise_ms).exp(),
            (-dt_ms / NMDA.tau_decay_ms).exp(),
        ];
    }

    pub fn reset(&mut self) {
        for v in [&mut self.a_ampa, &mut self.b_ampa, &mut self.a_nmda, &mut self.b_nmda] {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
    }

    #[inline]
    pub fn receive(&mut self, k: usize, weight: f64) {
        self.a_ampa[k] += weight * self.f_ampa;
        self.b_ampa[k] += weight * self.f_ampa;
        self.a_nmda[k] += weight * self.f_nmda;
        self.b_nmda[k] += weight * self.f_nmda;
    }

    /// Currents (nA) and slopes dI/dv (µS) including the Mg-block derivative.
    #[inline]
    pub fn current(&self, v_mv: &[f64], i_na: &mut [f64], g_us: &mut [f64]) {
        let mg = super::rates_table::MgTable::get();
        let ampa = self.a_ampa.iter().zip(&self.b_ampa);
        let nmda = self.a_nmda.iter().zip(&self.b_nmda);
        for ((&node, (&a_ampa, &b_ampa)), (&a_nmda, &b_nmda)) in self.nodes.iter().zip(ampa).zip(nmda) {
            let v = v_mv[node];
            let g_ampa = GMAX_EXC_US * (b_ampa - a_ampa);
            let g_nmda_open = self.nmda_scale * GMAX_EXC_US * (b_nmda - a_nmda);
            let (block, dblock) = mg.block(v);
            let drive = v - E_EXC_MV;
            i_na[node] += (g_ampa + g_nmda_open * block) * drive;
            g_us[node] += g_ampa + g_nmda_open * (block + dblock * drive);
        }
    }

    #[inline]
    pub fn advance(&mut self) {
        for k in 0..self.nodes.len() {
            self.a_ampa[k] *= self.decay[0];
            self.b_ampa[k] *= self.decay[1];
            self.a_nmda[k] *= self.decay[2];
            self.b_nmda[k] *= self.decay[3];
        }
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
