//! All density mechanisms of a cell in one per-node layout (spec §2-§4), with the three operations
//! of a step: currents at fixed states, and the state update in NEURON's registration order
//! (spec §7.2 step 5: CaDynamics_E2, Ca_HVA, Ca_LVAst, Ih, Im, K_Pst, K_Tst, NaTa_t, NaTs2_t,
//! Nap_Et2, SK_E2, SKv3_1).
//!
//! Why this layout (it is the engine's hot loop): every node keeps its voltage gates in a few
//! chunks of [`CHUNK`] slots, so one table lookup per node ([`GateTable`], spec §3.4 rates
//! tabulated at the fixed dt) updates all its gates with fixed-length loops the compiler
//! vectorises; its channels are a short list of records evaluated together, so the node's
//! current and conductance are summed in registers. The states only change in `advance`, and v
//! does not change between `advance` and the next step's `currents`, so `advance` also evaluates
//! the currents of the next step (same expressions, same summation order as evaluating them at
//! the start of that step; `currents` recomputes them if v was changed in between).

use super::calcium::{eca_mv, CaDynamicsPop, CAI0_MM};
use super::cell::{Cell, Channel};
use super::channels::dispatch::{self, v_gates};
use super::channels::sk_e2::{z_inf, TAU_Z_MS};
use super::channels::{ca_hva::CaHva, ca_lvast::CaLvast, ih::Ih, im::Im, k_pst::KPst, k_tst::KTst, nap_et2::NapEt2, nata_t::NaTaT, nats2_t::NaTs2T};
use super::channels::{skv3_1::SKv31, Ion};
use super::current_sums::{ChannelPop, SkZ, Sums};
use super::rates_table::{ca_lookup, grid_position, GateTable, Slot, CHUNK};
use std::sync::Arc;

/// One channel instance on a node.
#[derive(Debug, Clone, Copy)]
struct Record {
    ch: Channel,
    /// Voltage gates (0 for SK_E2).
    n_gates: u8,
    /// Flat index of m and h in the gate states (h = m for one-gate channels); for SK_E2 the
    /// index of its z.
    m: u32,
    h: u32,
    gbar: f64,
    /// Fixed reversal (mV); unused for calcium channels (eca is per node and dynamic).
    e: f64,
}

/// The gate chunks of one node.
#[derive(Debug, Clone, Copy)]
struct GateNode {
    node: u32,
    chunk0: u32,
    n_chunks: u32,
}

/// Density mechanisms over the cell's nodes, plus per-node ion state (cai, eca, ica).
#[derive(Debug, Clone)]
pub struct Mechanisms {
    pub ca_dynamics: CaDynamicsPop,
    /// pas per node (g = 0 and no current where a node has no membrane).
    pas_g: Vec<f64>,
    pas_e: Vec<f64>,
    has_pas: Vec<bool>,
    /// Records of node n: `records[record_start[n]..record_start[n + 1]]`, in registration order.
    records: Vec<Record>,
    record_start: Vec<u32>,
    pops: Vec<ChannelPop>,
    gate_nodes: Vec<GateNode>,
    gates: Vec<[f64; CHUNK]>,
    /// The gate of each slot (the same for every node), most common channels first.
    slots: Vec<Slot>,
    /// SK_E2's z per instance, and its node.
    sk_z: Vec<f64>,
    sk_node: Vec<usize>,
    table: Option<Arc<GateTable>>,
    exact_rates: bool,
    /// The CPU has AVX2 (the state update then runs a copy compiled for it).
    avx2: bool,
    dt_ms: f64,
    /// exp(−dt/τ_z) of SK_E2.
    z_factor: f64,
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
    /// Current density (mA/cm²) and conductance (S/cm²) per node at the v of the last
    /// [`Mechanisms::update_currents`] (or `advance`) and the present states.
    i_cache: Vec<f64>,
    g_cache: Vec<f64>,
}

impl Mechanisms {
    pub fn from_cell(cell: &Cell, nernst_factor_mv: f64) -> Mechanisms {
        let n = cell.membrane.len();
        let present = |node: usize, ch: Channel| cell.membrane[node].gbar(ch).filter(|&g| g != 0.0);
        // slots: channels with voltage gates, most instances first (ties in registration order)
        let mut counts: Vec<(Channel, usize)> = Channel::ALL.iter().map(|&ch| (ch, (0..n).filter(|&i| present(i, ch).is_some()).count())).collect();
        counts.retain(|&(ch, c)| c > 0 && v_gates(ch) > 0);
        counts.sort_by_key(|&(_, c)| std::cmp::Reverse(c));
        let mut slots = Vec::new();
        let mut first_slot = [0usize; 11];
        for &(ch, _) in &counts {
            first_slot[ch.index()] = slots.len();
            slots.push((ch, false));
            if v_gates(ch) == 2 {
                slots.push((ch, true));
            }
        }
        let mut m = Mechanisms {
            ca_dynamics: CaDynamicsPop::default(),
            pas_g: vec![0.0; n],
            pas_e: vec![0.0; n],
            has_pas: vec![false; n],
            records: vec![],
            record_start: vec![0],
            pops: vec![],
            gate_nodes: vec![],
            gates: vec![],
            slots,
            sk_z: vec![],
            sk_node: vec![],
            table: None,
            exact_rates: false,
            avx2: cpu_has_avx2(),
            dt_ms: f64::NAN,
            z_factor: f64::NAN,
            eca_nodes: vec![],
            cai_mm: vec![CAI0_MM; n],
            eca_mv: vec![0.0; n],
            ica_ma_cm2: vec![0.0; n],
            nernst_factor_mv,
            i_cache: vec![0.0; n],
            g_cache: vec![0.0; n],
        };
        for (i, mem) in cell.membrane.iter().enumerate() {
            if cell.cable.nodes[i].area_um2 > 0.0 {
                (m.pas_g[i], m.pas_e[i], m.has_pas[i]) = (mem.g_pas_s_per_cm2, mem.e_pas_mv, true);
            }
            if let Some(c) = mem.ca_dynamics {
                m.ca_dynamics.push(i, c.gamma, c.decay_ms, c.depth_um, c.min_cai_mm);
            }
            if mem.gbar(Channel::CaHva).is_some() || mem.gbar(Channel::CaLvast).is_some() {
                m.eca_nodes.push(i);
            }
            let chans: Vec<(Channel, f64)> = Channel::ALL.iter().filter_map(|&ch| present(i, ch).map(|g| (ch, g))).collect();
            let used = chans.iter().filter(|(ch, _)| v_gates(*ch) > 0).map(|(ch, _)| first_slot[ch.index()] + v_gates(*ch)).max().unwrap_or(0);
            let chunk0 = m.gates.len();
            let n_chunks = used.div_ceil(CHUNK);
            if n_chunks > 0 {
                m.gate_nodes.push(GateNode { node: i as u32, chunk0: chunk0 as u32, n_chunks: n_chunks as u32 });
                m.gates.resize(chunk0 + n_chunks, [0.0; CHUNK]);
            }
            for (ch, gbar) in chans {
                let e = match dispatch::ion(ch) {
                    Ion::Na => mem.ena_mv,
                    Ion::K => mem.ek_mv,
                    Ion::H => mem.eh_mv,
                    Ion::Ca => f64::NAN,
                };
                let n_gates = v_gates(ch);
                let (mi, hi) = if n_gates == 0 {
                    m.sk_z.push(0.0);
                    m.sk_node.push(i);
                    (m.sk_z.len() - 1, m.sk_z.len() - 1)
                } else {
                    let mi = chunk0 * CHUNK + first_slot[ch.index()];
                    (mi, if n_gates == 2 { mi + 1 } else { mi })
                };
                m.records.push(Record { ch, n_gates: n_gates as u8, m: mi as u32, h: hi as u32, gbar, e });
            }
            m.record_start.push(m.records.len() as u32);
        }
        for ch in Channel::ALL {
            let mut pop = ChannelPop { ch, nodes: vec![], runs: vec![], m: vec![], gbar: vec![], e: vec![] };
            for node in 0..n {
                for r in m.records[m.record_start[node] as usize..m.record_start[node + 1] as usize].iter().filter(|r| r.ch == ch) {
                    pop.nodes.push(node as u32);
                    pop.m.push(r.m);
                    pop.gbar.push(r.gbar);
                    pop.e.push(r.e);
                }
            }
            for (k, &node) in pop.nodes.iter().enumerate() {
                match pop.runs.last_mut() {
                    Some((first, _, len)) if *first + *len == node as usize => *len += 1,
                    _ => pop.runs.push((node as usize, k, 1)),
                }
            }
            if !pop.nodes.is_empty() {
                m.pops.push(pop);
            }
        }
        m
    }

    /// Use exact rates (every exp evaluated each step) instead of the tables: slower, for
    /// checking the tables. Takes effect immediately.
    pub fn set_exact_rates(&mut self, exact: bool) {
        self.exact_rates = exact;
        self.table = if exact || !self.dt_ms.is_finite() { None } else { Some(GateTable::shared(&self.slots, self.dt_ms)) };
    }

    /// NEURON's finitialize for the mechanisms: cai = 5e-5 mM, eca from Nernst, every gate at
    /// its steady state for `v_mv`, SK_E2's z at z∞(cai) (spec §5).
    pub fn init(&mut self, v_mv: &[f64], dt_ms: f64) {
        self.cai_mm.iter_mut().for_each(|c| *c = CAI0_MM);
        self.ica_ma_cm2.iter_mut().for_each(|c| *c = 0.0);
        self.refresh_eca();
        self.ca_dynamics.set_dt(dt_ms);
        self.dt_ms = dt_ms;
        self.z_factor = (-dt_ms / TAU_Z_MS).exp();
        self.set_exact_rates(self.exact_rates);
        let flat = self.gates.as_flattened_mut();
        flat.iter_mut().for_each(|y| *y = 0.0);
        for (node, &v) in v_mv.iter().enumerate().take(self.record_start.len() - 1) {
            for r in &self.records[self.record_start[node] as usize..self.record_start[node + 1] as usize] {
                if r.n_gates > 0 {
                    let rates = dispatch::rates(r.ch, v);
                    flat[r.m as usize] = rates.m_inf;
                    if r.n_gates == 2 {
                        flat[r.h as usize] = rates.h_inf;
                    }
                }
            }
        }
        for (z, &node) in self.sk_z.iter_mut().zip(&self.sk_node) {
            *z = z_inf(self.cai_mm[node]);
        }
        self.update_currents(v_mv);
    }

    /// eca from the current cai, exactly (spec §4.2).
    pub fn refresh_eca(&mut self) {
        for &node in &self.eca_nodes {
            self.eca_mv[node] = eca_mv(self.nernst_factor_mv, self.cai_mm[node]);
        }
    }

    /// Spec §7.2 step 2: current density (mA/cm²) and conductance (S/cm²) per node, with all
    /// states held fixed, at the v of the last `update_currents` or `advance` (the caller calls
    /// [`Mechanisms::update_currents`] again if v changed since).
    #[inline]
    pub fn currents(&self) -> (&[f64], &[f64]) {
        (&self.i_cache, &self.g_cache)
    }

    /// Spec §7.2 step 5: state updates at the new v in registration order (CaDynamics_E2 first,
    /// so eca and SK_E2's z∞ see this step's cai); then the next step's currents.
    #[inline]
    pub fn advance(&mut self, v: &[f64], dt_ms: f64) {
        if dt_ms != self.dt_ms {
            self.dt_ms = dt_ms;
            self.ca_dynamics.set_dt(dt_ms);
            self.z_factor = (-dt_ms / TAU_Z_MS).exp();
            self.set_exact_rates(self.exact_rates);
        }
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only where the CPU reports AVX2 (`from_cell`).
            unsafe { self.advance_avx2(v) };
            return;
        }
        self.advance_states(v);
    }

    /// The same code compiled for AVX2: the gate chunks become single 4-wide operations. No FMA
    /// is enabled, so results are bit-identical to the baseline build.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn advance_avx2(&mut self, v: &[f64]) {
        self.advance_states(v);
    }

    #[inline(always)]
    fn advance_states(&mut self, v: &[f64]) {
        self.ca_dynamics.advance(&self.ica_ma_cm2, &mut self.cai_mm);
        self.refresh_calcium();
        self.advance_gates(v);
        self.update_currents(v);
    }

    /// eca on the calcium nodes and SK_E2's z from the new cai (tables where in range).
    #[inline(always)]
    fn refresh_calcium(&mut self) {
        let (factor, exact) = (self.nernst_factor_mv, self.exact_rates);
        for &node in &self.eca_nodes {
            let cai = self.cai_mm[node];
            self.eca_mv[node] = match ca_lookup(cai).filter(|_| !exact) {
                Some((ln_ratio, _)) => factor * ln_ratio,
                None => eca_mv(factor, cai),
            };
        }
        for (z, &node) in self.sk_z.iter_mut().zip(&self.sk_node) {
            let cai = self.cai_mm[node];
            let zi = match ca_lookup(cai).filter(|_| !exact) {
                Some((_, zi)) => zi,
                None => z_inf(cai),
            };
            *z = zi + (*z - zi) * self.z_factor;
        }
    }

    #[inline(always)]
    /// cnexp step of every voltage gate at the new v: one table lookup per node, or the exact
    /// rates outside the table (or without one).
    fn advance_gates(&mut self, v: &[f64]) {
        let dt = self.dt_ms;
        for gn in &self.gate_nodes {
            let node = gn.node as usize;
            let vn = v[node];
            let chunks = gn.chunk0 as usize..(gn.chunk0 + gn.n_chunks) as usize;
            if let Some(t) = &self.table {
                if let Some((i, f)) = grid_position(vn, t.rows_f) {
                    t.advance(i, f, &mut self.gates[chunks]);
                    continue;
                }
            }
            let flat = self.gates.as_flattened_mut();
            for r in &self.records[self.record_start[node] as usize..self.record_start[node + 1] as usize] {
                if r.n_gates > 0 {
                    let rates = dispatch::rates(r.ch, vn);
                    let m = &mut flat[r.m as usize];
                    *m = rates.m_inf + (*m - rates.m_inf) * (-dt / rates.m_tau_ms).exp();
                    if r.n_gates == 2 {
                        let h = &mut flat[r.h as usize];
                        *h = rates.h_inf + (*h - rates.h_inf) * (-dt / rates.h_tau_ms).exp();
                    }
                }
            }
        }
    }

    /// Current density, conductance and ica of every node at `v` with the present states, summed
    /// per node in registration order (pas first) exactly as NEURON's current loop does (eca
    /// from the current cai).
    #[inline(always)]
    pub fn update_currents(&mut self, v: &[f64]) {
        for (node, (i, g)) in self.i_cache.iter_mut().zip(self.g_cache.iter_mut()).enumerate() {
            // 0 + g·(v − e) is exact, so starting from pas gives the same sums as from zero
            (*i, *g) = if self.has_pas[node] { (self.pas_g[node] * (v[node] - self.pas_e[node]), self.pas_g[node]) } else { (0.0, 0.0) };
        }
        for &node in &self.eca_nodes {
            self.ica_ma_cm2[node] = 0.0;
        }
        let flat = self.gates.as_flattened();
        let mut sums = Sums { v, eca: &self.eca_mv, i: &mut self.i_cache, g: &mut self.g_cache, ica: &mut self.ica_ma_cm2 };
        for pop in &self.pops {
            match pop.ch {
                Channel::CaHva => sums.add::<CaHva>(pop, flat),
                Channel::CaLvast => sums.add::<CaLvast>(pop, flat),
                Channel::Ih => sums.add::<Ih>(pop, flat),
                Channel::Im => sums.add::<Im>(pop, flat),
                Channel::KPst => sums.add::<KPst>(pop, flat),
                Channel::KTst => sums.add::<KTst>(pop, flat),
                Channel::NaTaT => sums.add::<NaTaT>(pop, flat),
                Channel::NaTs2T => sums.add::<NaTs2T>(pop, flat),
                Channel::NapEt2 => sums.add::<NapEt2>(pop, flat),
                Channel::SKv31 => sums.add::<SKv31>(pop, flat),
                Channel::SkE2 => sums.add::<SkZ>(pop, &self.sk_z),
            }
        }
    }

    /// The first mechanism state that is not finite: (node, mechanism name, state name).
    pub fn first_non_finite(&self) -> Option<(usize, &'static str, &'static str)> {
        if let Some(k) = self.ca_dynamics.nodes.iter().position(|&n| !self.cai_mm[n].is_finite()) {
            return Some((self.ca_dynamics.nodes[k], CaDynamicsPop::NAME, "cai"));
        }
        let flat = self.gates.as_flattened();
        for ch in Channel::ALL {
            for node in 0..self.record_start.len() - 1 {
                for r in self.records[self.record_start[node] as usize..self.record_start[node + 1] as usize].iter().filter(|r| r.ch == ch) {
                    let states: &[(&'static str, f64)] = match r.n_gates {
                        0 => &[("z", self.sk_z[r.m as usize])],
                        1 => &[("m", flat[r.m as usize])],
                        _ => &[("m", flat[r.m as usize]), ("h", flat[r.h as usize])],
                    };
                    if let Some((s, _)) = states.iter().find(|(_, x)| !x.is_finite()) {
                        return Some((node, ch.neuron_name(), s));
                    }
                }
            }
        }
        None
    }
}

fn cpu_has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

