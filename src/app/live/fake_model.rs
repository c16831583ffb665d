//! `FakeLeakyCable`: a TEST DOUBLE for [`LiveModel`], not physics.
//!
//! It exists so the runner and the UI can be developed, tested and looked at before the
//! biophysical engine lands. Each node is a leaky integrator coupled to its parent by a fixed
//! rate, synapses are exponential conductances and the soma draws a cartoon spike above −50 mV.
//! None of its numbers mean anything. Compiled only for tests or with the `dev-fake-model`
//! feature (`cargo run --release --features dev-fake-model`).

use super::model::{IClamp, LiveModel, SynId, SynapseKind};
use crate::Cable;
use anyhow::{bail, Result};
use std::collections::BTreeMap;

const REST_MV: f64 = -75.0;
const LEAK_PER_MS: f64 = 1.0 / 15.0;
const COUPLING_PER_MS: f64 = 2.0;
const EXC_DECAY_MS: f64 = 4.0;
const NMDA_DECAY_MS: f64 = 50.0;
const INH_DECAY_MS: f64 = 8.0;
const MV_PER_MS_PER_NA: f64 = 40.0;

struct FakeSynapse {
    node: usize,
    kind: SynapseKind,
}

/// Test double; see the module documentation.
pub struct FakeLeakyCable {
    parent: Vec<Option<usize>>,
    soma_node: usize,
    v_mv: Vec<f64>,
    g_exc: Vec<f64>,
    g_nmda: Vec<f64>,
    g_inh: Vec<f64>,
    synapses: BTreeMap<u64, FakeSynapse>,
    next_id: u64,
    events: Vec<(f64, SynId)>,
    clamp: Option<IClamp>,
    nmda: bool,
    t_ms: f64,
    refractory_until_ms: f64,
}

impl FakeLeakyCable {
    pub fn new(cable: &Cable) -> Self {
        let n = cable.nodes.len();
        let soma_node = cable.compartment_nodes().next().unwrap_or(0);
        FakeLeakyCable {
            parent: cable.nodes.iter().map(|n| n.parent).collect(),
            soma_node,
            v_mv: vec![REST_MV; n],
            g_exc: vec![0.0; n],
            g_nmda: vec![0.0; n],
            g_inh: vec![0.0; n],
            synapses: BTreeMap::new(),
            next_id: 0,
            events: Vec::new(),
            clamp: None,
            nmda: true,
            t_ms: 0.0,
            refractory_until_ms: 0.0,
        }
    }

    /// A chain of `n` nodes, for tests that need no morphology.
    pub fn chain(n: usize) -> Self {
        let mut m = FakeLeakyCable::new(&Cable {
            nodes: Vec::new(),
            section_nseg: Vec::new(),
            section_first_node: Vec::new(),
            section_end_node: Vec::new(),
            section_length_um: Vec::new(),
            section_dist0_um: Vec::new(),
            ra_ohm_cm: 100.0,
        });
        m.parent = (0..n).map(|i| i.checked_sub(1)).collect();
        m.v_mv = vec![REST_MV; n];
        m.g_exc = vec![0.0; n];
        m.g_nmda = vec![0.0; n];
        m.g_inh = vec![0.0; n];
        m
    }

    fn deliver_due_events(&mut self, dt_ms: f64) {
        let due = self.t_ms + 0.5 * dt_ms;
        let mut i = 0;
        while i < self.events.len() {
            if self.events[i].0 <= due {
                let (_, id) = self.events.swap_remove(i);
                if let Some(s) = self.synapses.get(&id.0) {
                    match s.kind {
                        SynapseKind::Excitatory => {
                            self.g_exc[s.node] += 0.6;
                            self.g_nmda[s.node] += 0.05;
                        }
                        SynapseKind::Inhibitory => self.g_inh[s.node] += 0.6,
                    }
                }
            } else {
                i += 1;
            }
        }
    }
}

impl LiveModel for FakeLeakyCable {
    fn label(&self) -> String {
        "model: FAKE leaky cable test double (not physics)".into()
    }

    fn dt_ms(&self) -> f64 {
        0.025
    }

    fn t_ms(&self) -> f64 {
        self.t_ms
    }

    fn step(&mut self, n_steps: usize) -> Result<()> {
        let dt = self.dt_ms();
        let n = self.v_mv.len();
        let mut dv = vec![0.0; n];
        for _ in 0..n_steps {
            self.deliver_due_events(dt);
            dv.iter_mut().for_each(|d| *d = 0.0);
            for i in 0..n {
                let v = self.v_mv[i];
                let mg_block = if self.nmda { 1.0 / (1.0 + (-0.08 * v).exp() / 3.57) } else { 0.0 };
                dv[i] += LEAK_PER_MS * (REST_MV - v)
                    + (self.g_exc[i] + self.g_nmda[i] * mg_block) * (0.0 - v)
                    + self.g_inh[i] * (-80.0 - v);
                if let Some(p) = self.parent[i] {
                    let flow = COUPLING_PER_MS * (self.v_mv[p] - v);
                    dv[i] += flow;
                    dv[p] -= flow;
                }
            }
            if let Some(c) = self.clamp {
                if c.node < n && self.t_ms >= c.delay_ms && self.t_ms < c.delay_ms + c.dur_ms {
                    dv[c.node] += MV_PER_MS_PER_NA * c.amp_na;
                }
            }
            for i in 0..n {
                self.v_mv[i] += dt * dv[i];
                self.g_exc[i] *= (-dt / EXC_DECAY_MS).exp();
                self.g_nmda[i] *= (-dt / NMDA_DECAY_MS).exp();
                self.g_inh[i] *= (-dt / INH_DECAY_MS).exp();
            }
            let s = self.soma_node;
            if s < n && self.t_ms >= self.refractory_until_ms && self.v_mv[s] > -50.0 {
                self.v_mv[s] = 30.0;
                self.refractory_until_ms = self.t_ms + 4.0;
            } else if s < n && self.t_ms + 3.0 < self.refractory_until_ms && self.v_mv[s] > 0.0 {
                self.v_mv[s] = -80.0;
            }
            self.t_ms += dt;
        }
        Ok(())
    }

    fn node_voltages_mv(&self) -> &[f64] {
        &self.v_mv
    }

    fn soma_v_mv(&self) -> f64 {
        self.v_mv.get(self.soma_node).copied().unwrap_or(REST_MV)
    }

    fn add_synapse(&mut self, node: usize, kind: SynapseKind) -> Result<SynId> {
        if node >= self.v_mv.len() {
            bail!("node {node} out of range (the cell has {} nodes)", self.v_mv.len());
        }
        self.next_id += 1;
        self.synapses.insert(self.next_id, FakeSynapse { node, kind });
        Ok(SynId(self.next_id))
    }

    fn remove_synapse(&mut self, syn: SynId) {
        self.synapses.remove(&syn.0);
        self.events.retain(|(_, id)| *id != syn);
    }

    fn deliver_spike(&mut self, syn: SynId, t_ms: f64) -> Result<()> {
        if !t_ms.is_finite() {
            anyhow::bail!("spike time is {t_ms}");
        }
        if self.synapses.contains_key(&syn.0) {
            self.events.push((t_ms, syn));
        }
        Ok(())
    }

    fn set_iclamp(&mut self, clamp: Option<IClamp>) -> Result<()> {
        self.clamp = clamp;
        Ok(())
    }

    fn set_nmda(&mut self, enabled: bool) {
        self.nmda = enabled;
    }

    fn reset(&mut self) {
        self.v_mv.iter_mut().for_each(|v| *v = REST_MV);
        for g in [&mut self.g_exc, &mut self.g_nmda, &mut self.g_inh] {
            g.iter_mut().for_each(|x| *x = 0.0);
        }
        self.events.clear();
        self.t_ms = 0.0;
        self.refractory_until_ms = 0.0;
    }
}
