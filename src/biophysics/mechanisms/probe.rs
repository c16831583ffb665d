//! Reading the engine's state per node for display (the app's "colour by state"): calcium, the
//! synaptic conductances, the Ih and calcium currents and any voltage gate, copied out of the
//! kernel's blocks into one value per Cable node. Read-only and outside the step: it never
//! changes a result, and costs one pass over the blocks when asked (the app asks at most at its
//! snapshot rate).

use super::{bit, slot_of, Mechanisms, CAD, SLOT_ORDER};
use crate::biophysics::calcium::CAI0_MM;
use crate::biophysics::cell::Channel;
use crate::biophysics::channels::dispatch;
use crate::biophysics::rates_table::Slot;
use crate::biophysics::synapse::GMAX_EXC_US;

/// A quantity of the engine's state with one value per Cable node. Nodes where it does not exist
/// (a gate of a channel the node lacks, any quantity on a node without membrane) read NaN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeQuantity {
    /// Internal calcium concentration (mM; 5e-5 where no CaDynamics_E2 acts).
    CaiMm,
    /// Conductance of the NMDA part of the node's excitatory synapses, all summed, Mg block at the
    /// node's present voltage included (nS); 0 with NMDA switched off.
    NmdaGNs,
    /// Conductance of the AMPA part of the node's excitatory synapses, summed (nS).
    AmpaGNs,
    /// Inward Ih current density, −g_h·(v − e_h) (µA/cm²; positive when inward).
    IhInwardUaPerCm2,
    /// Inward calcium current density of Ca_HVA and Ca_LVAst, −i_Ca (µA/cm²; positive when
    /// inward), as computed at the end of the last step.
    ICaInwardUaPerCm2,
    /// A voltage gate of a channel: its m (`h == false`) or h gate (dimensionless, 0..1).
    Gate { channel: Channel, h: bool },
}

impl NodeQuantity {
    /// Every voltage gate the engine holds, in its slot order (e.g. Ih m, NaTs2_t m, NaTs2_t h…).
    pub fn gates() -> Vec<NodeQuantity> {
        SLOT_ORDER
            .iter()
            .filter_map(|s| match *s {
                Slot::Gate(channel, h) => Some(NodeQuantity::Gate { channel, h }),
                _ => None,
            })
            .collect()
    }

    /// A short name with units, e.g. "[Ca2+]i (mM)", "Ca_HVA h".
    pub fn label(&self) -> String {
        match self {
            NodeQuantity::CaiMm => "[Ca2+]i (mM)".into(),
            NodeQuantity::NmdaGNs => "g NMDA (nS)".into(),
            NodeQuantity::AmpaGNs => "g AMPA (nS)".into(),
            NodeQuantity::IhInwardUaPerCm2 => "inward I_h (µA/cm²)".into(),
            NodeQuantity::ICaInwardUaPerCm2 => "inward I_Ca (µA/cm²)".into(),
            NodeQuantity::Gate { channel, h } => format!("{} {}", channel.neuron_name(), if *h { "h" } else { "m" }),
        }
    }
}

impl Mechanisms {
    /// `q` per node into `out` (resized to the node count). `v_mv` are the node voltages the
    /// states belong to; `nmda_scale` is the simulation's NMDA switch (1 on, 0 off).
    pub fn node_quantity(&self, q: NodeQuantity, v_mv: &[f64], nmda_scale: f64, out: &mut Vec<f64>) {
        out.clear();
        out.resize(self.locate.len(), f64::NAN);
        if let NodeQuantity::CaiMm = q {
            // where no CaDynamics acts, cai stays at its initial value (as `cai_mm` reports)
            for (i, &(g, _, _)) in self.locate.iter().enumerate() {
                if g != u32::MAX {
                    out[i] = CAI0_MM;
                }
            }
        }
        for g in &self.groups {
            let nc = g.n_chunks;
            for b in &g.blocks {
                for l in 0..b.valid {
                    let node = b.nodes[l] as usize;
                    let v = v_mv.get(node).copied().unwrap_or(f64::NAN);
                    let flat = b.lane_gates(l, nc).as_flattened();
                    let gate = |s: usize| flat.get(s).copied().unwrap_or(f64::NAN);
                    let value = match q {
                        NodeQuantity::CaiMm if g.mask & CAD != 0 => b.cai_mm[l],
                        NodeQuantity::CaiMm => CAI0_MM,
                        NodeQuantity::AmpaGNs => 1e3 * GMAX_EXC_US * (b.syn[1][l] - b.syn[0][l]),
                        NodeQuantity::NmdaGNs => {
                            // the block at the present v (the kernel's Mg lanes hold it at the v
                            // of the last advance, not yet after `initialize`)
                            let (block, _) = crate::biophysics::synapse::mg_block(v);
                            1e3 * nmda_scale * GMAX_EXC_US * (b.syn[3][l] - b.syn[2][l]) * block
                        }
                        NodeQuantity::IhInwardUaPerCm2 if g.mask & bit(Channel::Ih) != 0 => {
                            let open = dispatch::open(Channel::Ih, gate(slot_of(Channel::Ih)), 1.0);
                            -1e3 * b.gbar[Channel::Ih.index()][l] * open * (v - g.reversal.eh_mv)
                        }
                        NodeQuantity::ICaInwardUaPerCm2 if g.mask & (bit(Channel::CaHva) | bit(Channel::CaLvast)) != 0 => -1e3 * b.ica[l],
                        NodeQuantity::Gate { channel, h } if g.mask & bit(channel) != 0 && channel != Channel::SkE2 => {
                            if h && dispatch::v_gates(channel) < 2 {
                                f64::NAN
                            } else {
                                gate(slot_of(channel) + usize::from(h))
                            }
                        }
                        _ => f64::NAN,
                    };
                    out[node] = value;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NodeQuantity;
    use crate::biophysics::cell::Channel;
    use crate::biophysics::channels::dispatch;
    use crate::biophysics::recipe::hay2011::{build_cell, Hay2011Variant};
    use crate::biophysics::simulation::{SimSettings, Simulation, Stimulus, SynapseSpec};
    use crate::biophysics::synapse::SynapseKind;
    use crate::biophysics::{Cell, IClamp};
    use crate::morphology::{synthesize_l5pc, Discretisation};

    fn cell() -> Cell {
        let morph = synthesize_l5pc(4).expect("synth").morphology;
        build_cell(&morph, &Discretisation::default(), Hay2011Variant::default()).expect("cell")
    }

    fn read(sim: &Simulation, q: NodeQuantity) -> Vec<f64> {
        let mut out = vec![];
        sim.node_quantity(q, &mut out);
        out
    }

    /// Peak-normalised double exponential (Exp2Syn), written out here from its definition.
    fn exp2(tau_rise_ms: f64, tau_decay_ms: f64, t_ms: f64) -> f64 {
        let t_peak = tau_rise_ms * tau_decay_ms / (tau_decay_ms - tau_rise_ms) * (tau_decay_ms / tau_rise_ms).ln();
        let norm = 1.0 / ((-t_peak / tau_decay_ms).exp() - (-t_peak / tau_rise_ms).exp());
        norm * ((-t_ms / tau_decay_ms).exp() - (-t_ms / tau_rise_ms).exp())
    }

    #[test]
    fn synaptic_conductances_follow_one_spike_analytically() {
        let cell = cell();
        let node = cell.cable.segment_node(cell.morphology.section_index("dend[3]").expect("dend[3]"), 0.5);
        let stim = Stimulus { synapses: vec![SynapseSpec { kind: SynapseKind::Exc, node, spikes_ms: vec![1.0] }], ..Default::default() };
        let mut sim = Simulation::new(&cell, SimSettings::default(), &stim).expect("sim");
        let dt = sim.settings().dt_ms;
        assert_eq!(read(&sim, NodeQuantity::AmpaGNs)[node], 0.0);
        let mut peak_ampa_ns: f64 = 0.0;
        for k in 1..=400 {
            sim.step().expect("step");
            let since_ms = sim.t_ms() - 1.0;
            if since_ms < 0.0 {
                continue;
            }
            let ampa = read(&sim, NodeQuantity::AmpaGNs)[node];
            let nmda = read(&sim, NodeQuantity::NmdaGNs)[node];
            // 0.4 nS each (Beniaguev et al. 2021), AMPA 0.3/3 ms, NMDA 2/70 ms with the Mg
            // block of ProbAMPANMDA2 at 1 mM Mg, 1/(1 + exp(−0.08 v)/3.57) (spec §6.2)
            let v = sim.node_voltages_mv()[node];
            let block = 1.0 / (1.0 + (-0.08 * v).exp() / 3.57);
            let want_ampa = 0.4 * exp2(0.3, 3.0, since_ms);
            let want_nmda = 0.4 * exp2(2.0, 70.0, since_ms) * block;
            assert!((ampa - want_ampa).abs() <= 1e-9 + 1e-7 * want_ampa, "step {k}: AMPA {ampa} nS, want {want_ampa}");
            assert!((nmda - want_nmda).abs() <= 1e-9 + 1e-7 * want_nmda, "step {k}: NMDA {nmda} nS, want {want_nmda}");
            peak_ampa_ns = peak_ampa_ns.max(ampa);
        }
        assert!((peak_ampa_ns - 0.4).abs() < 0.01, "AMPA peaks at its gmax: {peak_ampa_ns} nS (dt {dt} ms)");
        // elsewhere no synapse: zero conductance
        let other = cell.cable.segment_node(0, 0.5);
        assert_eq!(read(&sim, NodeQuantity::NmdaGNs)[other], 0.0);
        sim.set_nmda_enabled(false);
        assert_eq!(read(&sim, NodeQuantity::NmdaGNs)[node], 0.0, "NMDA switched off");
    }

    #[test]
    fn calcium_gates_and_currents_match_the_engine_and_the_recipe() {
        let cell = cell();
        let soma = cell.cable.segment_node(0, 0.5);
        let stim = Stimulus { iclamps: vec![IClamp { node: soma, delay_ms: 2.0, dur_ms: 5.0, amp_na: 3.0 }], ..Default::default() };
        let mut sim = Simulation::new(&cell, SimSettings::default(), &stim).expect("sim");
        let v0 = sim.settings().v_init_mv;
        // at finitialize every gate is at its steady state for v_init
        let ih_m = read(&sim, NodeQuantity::Gate { channel: Channel::Ih, h: false });
        let ih_in = read(&sim, NodeQuantity::IhInwardUaPerCm2);
        let hva_m = read(&sim, NodeQuantity::Gate { channel: Channel::CaHva, h: false });
        let ih_h = read(&sim, NodeQuantity::Gate { channel: Channel::Ih, h: true });
        let m_inf = dispatch::rates(Channel::Ih, v0).m_inf;
        let mut with_ih = 0;
        for (node, mem) in cell.membrane.iter().enumerate() {
            if cell.cable.nodes[node].area_um2 <= 0.0 {
                assert!(ih_m[node].is_nan(), "node {node} has no membrane");
                continue;
            }
            match mem.gbar(Channel::Ih).filter(|&g| g != 0.0) {
                Some(gbar) => {
                    with_ih += 1;
                    assert!((ih_m[node] - m_inf).abs() < 1e-12, "node {node}: Ih m {} vs m∞ {m_inf}", ih_m[node]);
                    let want = -1e3 * gbar * m_inf * (v0 - mem.eh_mv);
                    assert!((ih_in[node] - want).abs() <= 1e-12 + 1e-9 * want.abs(), "node {node}: {} vs {want}", ih_in[node]);
                    assert!(ih_in[node] > 0.0, "Ih is inward at rest");
                }
                None => assert!(ih_m[node].is_nan() && ih_in[node].is_nan(), "node {node} has no Ih"),
            }
            assert_eq!(mem.gbar(Channel::CaHva).filter(|&g| g != 0.0).is_some(), hva_m[node].is_finite(), "node {node}");
            assert!(ih_h[node].is_nan(), "Ih has no h gate");
        }
        assert!(with_ih > 100);
        // a somatic spike: calcium enters the soma and rises; the probe reads the engine's cai
        let (mut max_ica, mut max_v): (f64, f64) = (0.0, f64::MIN);
        while sim.t_ms() < 20.0 {
            sim.step().expect("step");
            max_ica = max_ica.max(read(&sim, NodeQuantity::ICaInwardUaPerCm2)[soma]);
            max_v = max_v.max(sim.node_voltages_mv()[soma]);
        }
        assert!(max_v > 0.0, "a somatic AP: peak {max_v} mV");
        let cai = read(&sim, NodeQuantity::CaiMm);
        let engine = sim.cai_mm();
        for (node, (a, b)) in cai.iter().zip(&engine).enumerate() {
            if cell.cable.nodes[node].area_um2 > 0.0 {
                assert_eq!(a, b, "node {node}");
            }
        }
        assert!(cai[soma] > 5e-5, "calcium rose at the soma: {} mM", cai[soma]);
        let peak_cai = cai.iter().copied().filter(|c| c.is_finite()).fold(0.0, f64::max);
        assert!(peak_cai > 1.2 * 5e-5, "calcium entered somewhere: peak {peak_cai} mM");
        assert!(max_ica > 0.0, "inward Ca current during the spike: {max_ica} µA/cm²");
        let basal = cell.cable.segment_node(cell.morphology.section_index("dend[3]").expect("dend[3]"), 0.5);
        assert!(read(&sim, NodeQuantity::ICaInwardUaPerCm2)[basal].is_nan(), "basal dendrites carry no Ca channels");
        assert_eq!(NodeQuantity::gates().len(), 17);
    }
}
