//! All density mechanisms of a cell and the engine's per-node kernel (spec §2-§4, §6, §7.2).
//!
//! One pass over the membrane nodes does everything of a step that is local to a node, in
//! NEURON's order (spec §7.2 step 5: CaDynamics_E2, then the gates of Ca_HVA, Ca_LVAst, Ih, Im,
//! K_Pst, K_Tst, NaTa_t, NaTs2_t, Nap_Et2, SK_E2, SKv3_1, then the synapses), and then, at the
//! same v and the new states, the next step's currents and slopes (step 2), written straight
//! into the rows of the linear system. v does not change between the end of one step and the
//! start of the next, so these are the currents NEURON evaluates at the start of that step (the
//! simulation recomputes them, without advancing, if v was changed in between).
//!
//! Why this layout (it is the engine's hot loop):
//! - nodes are grouped by the set of mechanisms they carry; the groups of the Hay cell's basal
//!   and apical dendrites run as kernels specialised for exactly their channels (no branches, no
//!   per-channel indirection), other groups as the same kernel with a run-time channel set;
//! - each node keeps its voltage gates, and a lane for the NMDA Mg block, in a few chunks of
//!   [`CHUNK`] slots, so one table lookup ([`GateTable`], spec §3.4 rates tabulated at the fixed
//!   dt) updates all of them with fixed-length loops the compiler turns into SIMD operations;
//! - the synapses of a node are summed into one set of states (`SynapseSites`);
//! - where the CPU has AVX2 and FMA, the kernel runs a copy compiled for them, with fused
//!   multiply-adds (the golden tests hold on either path; results differ only in rounding).

mod kernel;

use super::calcium::{CAI0_MM, FARADAY};
use super::cell::{Cell, Channel, N_CHANNELS};
use super::channels::dispatch::{self, v_gates};
use super::channels::sk_e2::{z_inf, TAU_Z_MS};
use super::channels::Ion;
use super::rates_table::{GateTable, Slot, CHUNK};
use super::synapse::SynapseSites;
use std::sync::Arc;

/// Bit of a channel in a group's mechanism set.
pub(crate) const fn bit(ch: Channel) -> u32 {
    1 << ch.index()
}

/// CaDynamics_E2 in a group's mechanism set.
pub(crate) const CAD: u32 = 1 << N_CHANNELS;

/// One membrane node: where its states live and its fixed parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member {
    pub node: u32,
    /// First gate chunk of the node in `Mechanisms::gates`.
    pub chunk0: u32,
    /// A·1e-2: density (mA/cm², S/cm²) → current (nA) and conductance (µS).
    pub area_factor: f64,
    /// C/dt + Σ axial conductances (µS): the constant part of the node's diagonal.
    pub diag_const_us: f64,
    pub pas_g: f64,
    pub pas_e: f64,
    /// ḡ by `Channel::index` (S/cm²), 0 where absent.
    pub gbar: [f64; N_CHANNELS],
    pub ena: f64,
    pub ek: f64,
    pub eh: f64,
    /// CaDynamics_E2: minCai (mM), 1e4·γ·decay/(2·F·depth) (mM per mA/cm²), exp(−dt/decay).
    pub ca_min_mm: f64,
    pub ca_per_ica: f64,
    pub ca_decay_factor: f64,
    pub decay_ms: f64,
    /// SK_E2's z.
    pub z: f64,
    /// This step's calcium current density (mA/cm²).
    pub ica: f64,
}

/// Nodes with the same mechanisms.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// Channel bits ([`bit`]) and [`CAD`].
    pub mask: u32,
    /// Gate chunks per node.
    pub n_chunks: usize,
    pub members: Vec<Member>,
}

/// Density mechanisms over the cell's nodes, plus per-node internal calcium.
#[derive(Debug, Clone)]
pub struct Mechanisms {
    pub(crate) groups: Vec<Group>,
    pub(crate) gates: Vec<[f64; CHUNK]>,
    /// The lane of each slot (the same for every node), the Mg block and the most common
    /// channels first.
    slots: Vec<Slot>,
    /// Slot of each channel's m gate (h is the next slot); `usize::MAX` where absent.
    pub(crate) slot_of: [usize; N_CHANNELS],
    /// Slot of the Mg block.
    pub(crate) mg_slot: usize,
    pub(crate) table: Option<Arc<GateTable>>,
    pub(crate) exact_rates: bool,
    /// The CPU has AVX2 and FMA (the kernel then runs a copy compiled for them).
    fma: bool,
    pub(crate) dt_ms: f64,
    /// exp(−dt/τ_z) of SK_E2.
    pub(crate) z_factor: f64,
    /// Internal calcium per node (mM); 5e-5 where no CaDynamics acts.
    pub cai_mm: Vec<f64>,
    /// RT/2F (mV) at the simulation temperature.
    pub nernst_factor_mv: f64,
}

/// What a kernel pass reads and writes outside the mechanisms.
pub struct Rows<'a> {
    pub v_mv: &'a [f64],
    pub synapses: &'a mut SynapseSites,
    /// −I (nA) and C/dt + G + Σ g_axial (µS) per node, written for every membrane node.
    pub rhs_na: &'a mut [f64],
    pub diag_us: &'a mut [f64],
}

impl Mechanisms {
    /// The mechanisms of `cell`; `diag_const_us[i]` is node i's C/dt + Σ axial conductances.
    pub fn from_cell(cell: &Cell, nernst_factor_mv: f64, diag_const_us: &[f64]) -> Mechanisms {
        let n = cell.membrane.len();
        let present = |node: usize, ch: Channel| cell.membrane[node].gbar(ch).filter(|&g| g != 0.0);
        let membrane = |node: usize| cell.cable.nodes[node].area_um2 > 0.0;
        // slots: the Mg block, then channels with voltage gates, most instances first (ties in
        // registration order)
        let mut counts: Vec<(Channel, usize)> = Channel::ALL.iter().map(|&ch| (ch, (0..n).filter(|&i| membrane(i) && present(i, ch).is_some()).count())).collect();
        counts.retain(|&(ch, c)| c > 0 && v_gates(ch) > 0);
        counts.sort_by_key(|&(_, c)| std::cmp::Reverse(c));
        let mut slots = vec![Slot::MgBlock];
        let mut slot_of = [usize::MAX; N_CHANNELS];
        for &(ch, _) in &counts {
            slot_of[ch.index()] = slots.len();
            slots.push(Slot::Gate(ch, false));
            if v_gates(ch) == 2 {
                slots.push(Slot::Gate(ch, true));
            }
        }
        let mut m = Mechanisms {
            groups: vec![],
            gates: vec![],
            slots,
            slot_of,
            mg_slot: 0,
            table: None,
            exact_rates: false,
            fma: cpu_has_avx2_fma(),
            dt_ms: f64::NAN,
            z_factor: f64::NAN,
            cai_mm: vec![CAI0_MM; n],
            nernst_factor_mv,
        };
        for (i, mem) in cell.membrane.iter().enumerate() {
            if !membrane(i) {
                continue;
            }
            let mut mask = 0;
            let mut gbar = [0.0; N_CHANNELS];
            for ch in Channel::ALL {
                if let Some(g) = present(i, ch) {
                    mask |= bit(ch);
                    gbar[ch.index()] = g;
                }
            }
            let (mut ca_min_mm, mut ca_per_ica, mut decay_ms) = (0.0, 0.0, 1.0);
            if let Some(c) = mem.ca_dynamics {
                mask |= CAD;
                ca_min_mm = c.min_cai_mm;
                ca_per_ica = 1e4 * c.gamma * c.decay_ms / (2.0 * FARADAY * c.depth_um);
                decay_ms = c.decay_ms;
            }
            let used = Channel::ALL.iter().filter(|&&ch| mask & bit(ch) != 0 && v_gates(ch) > 0).map(|&ch| slot_of[ch.index()] + v_gates(ch)).max().unwrap_or(0).max(m.mg_slot + 1);
            let n_chunks = used.div_ceil(CHUNK);
            let chunk0 = m.gates.len();
            m.gates.resize(chunk0 + n_chunks, [0.0; CHUNK]);
            let member = Member {
                node: i as u32,
                chunk0: chunk0 as u32,
                area_factor: cell.cable.nodes[i].area_um2 * 1e-2,
                diag_const_us: diag_const_us.get(i).copied().unwrap_or(f64::NAN),
                pas_g: mem.g_pas_s_per_cm2,
                pas_e: mem.e_pas_mv,
                gbar,
                ena: mem.ena_mv,
                ek: mem.ek_mv,
                eh: mem.eh_mv,
                ca_min_mm,
                ca_per_ica,
                ca_decay_factor: 1.0,
                decay_ms,
                z: 0.0,
                ica: 0.0,
            };
            match m.groups.iter_mut().find(|g| g.mask == mask && g.n_chunks == n_chunks) {
                Some(g) => g.members.push(member),
                None => m.groups.push(Group { mask, n_chunks, members: vec![member] }),
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

    fn set_dt(&mut self, dt_ms: f64) {
        self.dt_ms = dt_ms;
        self.z_factor = (-dt_ms / TAU_Z_MS).exp();
        for g in &mut self.groups {
            for m in &mut g.members {
                m.ca_decay_factor = (-dt_ms / m.decay_ms).exp();
            }
        }
        self.set_exact_rates(self.exact_rates);
    }

    /// NEURON's finitialize for the mechanisms: cai = 5e-5 mM, every gate at its steady state
    /// for `v_mv`, SK_E2's z at z∞(cai) (spec §5); then the first step's currents into `rows`.
    pub fn init(&mut self, dt_ms: f64, rows: Rows) {
        self.cai_mm.iter_mut().for_each(|c| *c = CAI0_MM);
        self.set_dt(dt_ms);
        let flat = self.gates.as_flattened_mut();
        flat.iter_mut().for_each(|y| *y = 0.0);
        for g in &mut self.groups {
            for m in &mut g.members {
                m.ica = 0.0;
                m.z = z_inf(CAI0_MM);
                let v = rows.v_mv[m.node as usize];
                let base = m.chunk0 as usize * CHUNK;
                for ch in Channel::ALL.into_iter().filter(|&ch| g.mask & bit(ch) != 0 && v_gates(ch) > 0) {
                    let r = dispatch::rates(ch, v);
                    let s = base + self.slot_of[ch.index()];
                    flat[s] = r.m_inf;
                    if v_gates(ch) == 2 {
                        flat[s + 1] = r.h_inf;
                    }
                }
            }
        }
        self.update(dt_ms, false, rows);
    }

    /// One kernel pass over the membrane nodes at `rows.v_mv`. With `advance`: spec §7.2 step 5
    /// (CaDynamics_E2, eca and SK_E2's z from the new cai, gates, synaptic decay) and then the
    /// currents; without: only the currents at the present states (spec §7.2 step 2).
    #[inline]
    pub fn update(&mut self, dt_ms: f64, advance: bool, rows: Rows) {
        if dt_ms.to_bits() != self.dt_ms.to_bits() {
            self.set_dt(dt_ms);
        }
        #[cfg(target_arch = "x86_64")]
        if self.fma {
            // SAFETY: `fma` is set only where the CPU reports AVX2 and FMA (`from_cell`).
            unsafe { self.update_fma(advance, rows) };
            return;
        }
        kernel::pass::<super::rates_table::Plain>(self, advance, rows);
    }

    /// The kernel compiled for AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn update_fma(&mut self, advance: bool, rows: Rows) {
        kernel::pass::<super::rates_table::Fused>(self, advance, rows);
    }

    /// The first mechanism state that is not finite: (node, mechanism name, state name).
    pub fn first_non_finite(&self) -> Option<(usize, &'static str, &'static str)> {
        let flat = self.gates.as_flattened();
        for g in &self.groups {
            for m in &g.members {
                let node = m.node as usize;
                if g.mask & CAD != 0 && !self.cai_mm[node].is_finite() {
                    return Some((node, "CaDynamics_E2", "cai"));
                }
                for ch in Channel::ALL.into_iter().filter(|&ch| g.mask & bit(ch) != 0) {
                    if ch == Channel::SkE2 {
                        if !m.z.is_finite() {
                            return Some((node, ch.neuron_name(), "z"));
                        }
                        continue;
                    }
                    let s = m.chunk0 as usize * CHUNK + self.slot_of[ch.index()];
                    if !flat[s].is_finite() {
                        return Some((node, ch.neuron_name(), "m"));
                    }
                    if v_gates(ch) == 2 && !flat[s + 1].is_finite() {
                        return Some((node, ch.neuron_name(), "h"));
                    }
                }
            }
        }
        None
    }

    /// Number of membrane nodes in each group with its mechanisms, for diagnostics.
    pub fn group_summary(&self) -> Vec<(usize, Vec<&'static str>)> {
        self.groups
            .iter()
            .map(|g| {
                let mut names: Vec<&'static str> = Channel::ALL.iter().filter(|&&ch| g.mask & bit(ch) != 0).map(|ch| ch.neuron_name()).collect();
                if g.mask & CAD != 0 {
                    names.push("CaDynamics_E2");
                }
                (g.members.len(), names)
            })
            .collect()
    }
}

/// Which reversal potential a channel uses on a member.
#[inline(always)]
pub(crate) fn reversal(m: &Member, ch: Channel, eca: f64) -> f64 {
    match dispatch::ion(ch) {
        Ion::Na => m.ena,
        Ion::K => m.ek,
        Ion::H => m.eh,
        Ion::Ca => eca,
    }
}

fn cpu_has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
