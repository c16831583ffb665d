//! All density mechanisms of a cell as struct-of-arrays populations (spec §2-§4), with the three
//! operations of a step: currents at fixed states, and the state update in NEURON's registration
//! order (spec §7.2 step 5: CaDynamics_E2, Ca_HVA, Ca_LVAst, Ih, Im, K_Pst, K_Tst, NaTa_t,
//! NaTs2_t, Nap_Et2, SK_E2, SKv3_1).

use super::calcium::{eca_mv, CaDynamicsPop, CAI0_MM};
use super::cell::{Cell, Channel};
use super::channels::{
    ca_hva::CaHva, ca_lvast::CaLvast, ih::Ih, im::Im, k_pst::KPst, k_tst::KTst, nap_et2::NapEt2, nata_t::NaTaT, nats2_t::NaTs2T, pas::Passive,
    sk_e2::SkE2, skv3_1::SKv31, Ion, Kinetics, Population,
};

/// Density mechanisms over the cell's nodes, plus per-node ion state (cai, eca, ica).
#[derive(Debug, Clone)]
pub struct Mechanisms {
    pub pas: Passive,
    pub ca_dynamics: CaDynamicsPop,
    pub ca_hva: Population<CaHva>,
    pub ca_lvast: Population<CaLvast>,
    pub ih: Population<Ih>,
    pub im: Population<Im>,
    pub k_pst: Population<KPst>,
    pub k_tst: Population<KTst>,
    pub nata_t: Population<NaTaT>,
    pub nats2_t: Population<NaTs2T>,
    pub nap_et2: Population<NapEt2>,
    pub sk_e2: SkE2,
    pub skv3_1: Population<SKv31>,
    /// Nodes that use eca (carry a calcium channel).
    pub eca_nodes: Vec<usize>,
    /// Internal calcium per node (mM); 5e-5 where no CaDynamics acts.
    pub cai_mm: Vec<f64>,
    /// Calcium reversal per node (mV), refreshed each step on `eca_nodes`.
    pub eca_mv: Vec<f64>,
    /// Calcium current density per node of the current step (mA/cm²).
    pub ica_ma_cm2: Vec<f64>,
    /// RT/2F (mV) at the simulation temperature.
    pub nernst_factor_mv: f64,
}

fn population<K: Kinetics>(cell: &Cell, channel: Channel) -> Population<K> {
    let (mut nodes, mut gbar, mut e) = (vec![], vec![], vec![]);
    for (i, m) in cell.membrane.iter().enumerate() {
        // instances with ḡ = 0 carry no current and feed nothing back: leave them out
        if let Some(g) = m.gbar(channel).filter(|&g| g != 0.0) {
            nodes.push(i);
            gbar.push(g);
            e.push(match K::ION {
                Ion::Na => m.ena_mv,
                Ion::K => m.ek_mv,
                Ion::H => m.eh_mv,
                Ion::Ca => f64::NAN,
            });
        }
    }
    Population::new(nodes, gbar, e)
}

impl Mechanisms {
    pub fn from_cell(cell: &Cell, nernst_factor_mv: f64) -> Mechanisms {
        let n = cell.membrane.len();
        let mut pas = Passive::default();
        let mut ca_dynamics = CaDynamicsPop::default();
        let (mut sk_nodes, mut sk_gbar, mut sk_ek) = (vec![], vec![], vec![]);
        let mut eca_nodes = vec![];
        for (i, m) in cell.membrane.iter().enumerate() {
            if cell.cable.nodes[i].area_um2 > 0.0 {
                pas.nodes.push(i);
                pas.g_s_per_cm2.push(m.g_pas_s_per_cm2);
                pas.e_mv.push(m.e_pas_mv);
            }
            if let Some(c) = m.ca_dynamics {
                ca_dynamics.push(i, c.gamma, c.decay_ms, c.depth_um, c.min_cai_mm);
            }
            if let Some(g) = m.gbar(Channel::SkE2).filter(|&g| g != 0.0) {
                sk_nodes.push(i);
                sk_gbar.push(g);
                sk_ek.push(m.ek_mv);
            }
            if m.gbar(Channel::CaHva).is_some() || m.gbar(Channel::CaLvast).is_some() {
                eca_nodes.push(i);
            }
        }
        Mechanisms {
            pas,
            ca_dynamics,
            ca_hva: population(cell, Channel::CaHva),
            ca_lvast: population(cell, Channel::CaLvast),
            ih: population(cell, Channel::Ih),
            im: population(cell, Channel::Im),
            k_pst: population(cell, Channel::KPst),
            k_tst: population(cell, Channel::KTst),
            nata_t: population(cell, Channel::NaTaT),
            nats2_t: population(cell, Channel::NaTs2T),
            nap_et2: population(cell, Channel::NapEt2),
            sk_e2: SkE2::new(sk_nodes, sk_gbar, sk_ek),
            skv3_1: population(cell, Channel::SKv31),
            eca_nodes,
            cai_mm: vec![CAI0_MM; n],
            eca_mv: vec![0.0; n],
            ica_ma_cm2: vec![0.0; n],
            nernst_factor_mv,
        }
    }

    /// NEURON's finitialize for the mechanisms: cai = 5e-5 mM, eca from Nernst, every gate at
    /// its steady state for `v_mv`, SK_E2's z at z∞(cai) (spec §5).
    pub fn init(&mut self, v_mv: &[f64], dt_ms: f64) {
        self.cai_mm.iter_mut().for_each(|c| *c = CAI0_MM);
        self.ica_ma_cm2.iter_mut().for_each(|c| *c = 0.0);
        self.refresh_eca();
        self.ca_dynamics.set_dt(dt_ms);
        self.ca_hva.init(v_mv);
        self.ca_lvast.init(v_mv);
        self.ih.init(v_mv);
        self.im.init(v_mv);
        self.k_pst.init(v_mv);
        self.k_tst.init(v_mv);
        self.nata_t.init(v_mv);
        self.nats2_t.init(v_mv);
        self.nap_et2.init(v_mv);
        self.sk_e2.init(&self.cai_mm);
        self.skv3_1.init(v_mv);
    }

    #[inline]
    pub fn refresh_eca(&mut self) {
        for &node in &self.eca_nodes {
            self.eca_mv[node] = eca_mv(self.nernst_factor_mv, self.cai_mm[node]);
        }
    }

    /// Spec §7.2 step 2: refresh eca, then sum current densities (mA/cm²) and conductances
    /// (S/cm²) with all states held fixed. `i` and `g` must be zeroed by the caller.
    #[inline]
    pub fn currents(&mut self, v: &[f64], i: &mut [f64], g: &mut [f64]) {
        self.refresh_eca();
        for &node in &self.eca_nodes {
            self.ica_ma_cm2[node] = 0.0;
        }
        let (eca, ica) = (&self.eca_mv, &mut self.ica_ma_cm2);
        self.pas.current(v, i, g);
        self.ca_hva.current(v, eca, i, g, ica);
        self.ca_lvast.current(v, eca, i, g, ica);
        self.ih.current(v, eca, i, g, ica);
        self.im.current(v, eca, i, g, ica);
        self.k_pst.current(v, eca, i, g, ica);
        self.k_tst.current(v, eca, i, g, ica);
        self.nata_t.current(v, eca, i, g, ica);
        self.nats2_t.current(v, eca, i, g, ica);
        self.nap_et2.current(v, eca, i, g, ica);
        self.sk_e2.current(v, i, g);
        self.skv3_1.current(v, eca, i, g, ica);
    }

    /// Spec §7.2 step 5: state updates at the new v in registration order.
    #[inline]
    pub fn advance(&mut self, v: &[f64], dt_ms: f64) {
        self.ca_dynamics.advance(&self.ica_ma_cm2, &mut self.cai_mm);
        self.ca_hva.advance(v, dt_ms);
        self.ca_lvast.advance(v, dt_ms);
        self.ih.advance(v, dt_ms);
        self.im.advance(v, dt_ms);
        self.k_pst.advance(v, dt_ms);
        self.k_tst.advance(v, dt_ms);
        self.nata_t.advance(v, dt_ms);
        self.nats2_t.advance(v, dt_ms);
        self.nap_et2.advance(v, dt_ms);
        self.sk_e2.advance(&self.cai_mm, dt_ms);
        self.skv3_1.advance(v, dt_ms);
    }

    /// The first mechanism state that is not finite: (node, mechanism name, state name).
    pub fn first_non_finite(&self) -> Option<(usize, &'static str, &'static str)> {
        fn tag<K: Kinetics>(p: &Population<K>) -> Option<(usize, &'static str, &'static str)> {
            p.first_non_finite().map(|(n, s)| (n, K::NAME, s))
        }
        if let Some(k) = self.ca_dynamics.nodes.iter().position(|&n| !self.cai_mm[n].is_finite()) {
            return Some((self.ca_dynamics.nodes[k], CaDynamicsPop::NAME, "cai"));
        }
        tag(&self.ca_hva)
            .or_else(|| tag(&self.ca_lvast))
            .or_else(|| tag(&self.ih))
            .or_else(|| tag(&self.im))
            .or_else(|| tag(&self.k_pst))
            .or_else(|| tag(&self.k_tst))
            .or_else(|| tag(&self.nata_t))
            .or_else(|| tag(&self.nats2_t))
            .or_else(|| tag(&self.nap_et2))
            .or_else(|| self.sk_e2.first_non_finite().map(|(n, s)| (n, SkE2::NAME, s)))
            .or_else(|| tag(&self.skv3_1))
    }
}
