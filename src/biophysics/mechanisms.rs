//! All density mechanisms of a cell and the engine's per-node kernel (spec §2-§4, §6, §7.2).
//!
//! One pass over the membrane nodes does everything of a step that is local to a node, in
//! NEURON's order (spec §7.2 step 5: CaDynamics_E2, then the gates of Ca_HVA, Ca_LVAst, Ih, Im,
//! K_Pst, K_Tst, NaTa_t, NaTs2_t, Nap_Et2, SK_E2, SKv3_1, then the synapses), and then, at the
//! same v and the new states, the next step's currents and slopes (step 2), written straight
//! into the rows of the linear system. v does not change between the end of one step and the
//! start of the next, so these are the currents NEURON evaluates at the start of that step (the
//! simulation recomputes them, without advancing, if a synapse was added or the NMDA switch
//! changed in between).
//!
//! Why this layout (it is the engine's hot loop, about three quarters of a step):
//! - nodes are grouped by the set of mechanisms they carry (and their reversal potentials), and
//!   each group is cut into blocks of `LANES` (8) nodes held as structs of arrays, so every
//!   expression of the channel, calcium and synapse equations is one or two SIMD instructions
//!   for the whole block; the groups of the Hay cell's basal and apical dendrites run as
//!   kernels specialised for exactly their channels (no branches, gates at constant
//!   positions), other groups as the same kernel with a run-time channel set;
//! - each node keeps its voltage gates, and two lanes for the NMDA Mg block and its slope, in a
//!   few chunks of [`CHUNK`] slots in a fixed order (`SLOT_ORDER`), so one table lookup
//!   ([`GateTable`], spec §3.4 rates tabulated at the fixed dt; each group has a table of just
//!   the slots its kernel uses) updates all of them; on AVX-512 the chunks of a block are then
//!   regrouped slot by slot within registers;
//! - the synapses of a node are summed into one set of states (see `SynapseSites`);
//! - where the CPU has AVX-512, or AVX2 and FMA, the kernel runs a copy compiled for them, with
//!   fused multiply-adds ([`InstructionSet`]; every path is tested against NEURON, and results
//!   differ only in rounding). The hot code must stay inlined into those copies: a closure or
//!   helper the compiler leaves out of line is compiled for the baseline CPU (one such
//!   `for_each` once made the kernel five times slower, an `and_then` closure once ran the
//!   calcium lookup as SSE2 code behind a call), hence the plain loops and `match`es; and loads
//!   the compiler would turn into AVX-512 gathers (slower on the CPUs measured) are written as
//!   one volatile load per lane.
//!
//! Why this file is long (~560 lines before its tests; the kernel itself is in `kernel.rs`): the
//! block layout, its construction from a cell and the dispatch to the CPU-specific copies of the
//! kernel are one data structure and must be read together.

mod kernel;
mod probe;

pub use probe::NodeQuantity;

use super::calcium::{CAI0_MM, FARADAY};
use super::cell::{Cell, Channel, N_CHANNELS};
use super::channels::dispatch::{self, v_gates};
use super::channels::sk_e2::{z_inf, TAU_Z_MS};
use super::rates_table::{GateTable, Slot, CHUNK};
use super::solver::SystemRow;
use std::sync::Arc;

/// Bit of a channel in a group's mechanism set.
pub(crate) const fn bit(ch: Channel) -> u32 {
    1 << ch.index()
}

/// CaDynamics_E2 in a group's mechanism set.
pub(crate) const CAD: u32 = 1 << N_CHANNELS;

/// Lanes of a block: nodes processed together, one per SIMD lane.
pub(crate) const LANES: usize = 8;
/// One value per lane.
pub(crate) type Lanes = [f64; LANES];

/// Up to [`LANES`] membrane nodes with the same mechanisms, in struct-of-arrays form: their
/// parameters and non-gate states, one lane per node. Aligned to cache lines, so each array of
/// lanes is one line (and the absent channels' ḡ lines are never touched).
#[derive(Debug, Clone)]
#[repr(align(64))]
pub(crate) struct Block {
    pub nodes: [u32; LANES],
    /// Lanes holding a node (the rest repeat the last node and write nothing).
    pub valid: usize,
    /// A·1e-2: density (mA/cm², S/cm²) → current (nA) and conductance (µS).
    pub area_factor: Lanes,
    /// C/dt (µS) and the sum of the node's axial conductances (µS): the constant parts of the
    /// diagonal of the linear system.
    pub cdt_us: Lanes,
    pub axial_us: Lanes,
    pub pas_g: Lanes,
    /// ḡ by `Channel::index` (S/cm²), 0 where absent.
    pub gbar: [Lanes; N_CHANNELS],
    /// CaDynamics_E2: minCai (mM), 1e4·γ·decay/(2·F·depth) (mM per mA/cm²), exp(−dt/decay),
    /// decay (ms).
    pub ca_min_mm: Lanes,
    pub ca_per_ica: Lanes,
    pub ca_decay_factor: Lanes,
    pub decay_ms: Lanes,
    /// Internal calcium (mM), SK_E2's z, this step's calcium current density (mA/cm²).
    pub cai_mm: Lanes,
    pub z: Lanes,
    pub ica: Lanes,
    /// Summed synaptic states: AMPA A, B; NMDA A, B; GABA_A A, B.
    pub syn: [Lanes; 6],
    /// Gate chunks: lane l, chunk c at `l·n_chunks + c` (n_chunks of the group; room for the
    /// most any node has, so the kernel indexes a fixed-size array; the unused tail is never
    /// touched).
    pub gates: [[f64; CHUNK]; LANES * MAX_CHUNKS],
}

/// Most gate chunks a node can have (the 19 slots of [`SLOT_ORDER`]).
pub(crate) const MAX_CHUNKS: usize = SLOT_ORDER.len().div_ceil(CHUNK);

impl Block {
    /// The gate chunks of lane `l` in a group of `n_chunks` chunks per node.
    fn lane_gates(&self, l: usize, n_chunks: usize) -> &[[f64; CHUNK]] {
        self.gates.get(l * n_chunks..(l + 1) * n_chunks).unwrap_or(&[])
    }

    fn lane_gates_mut(&mut self, l: usize, n_chunks: usize) -> &mut [[f64; CHUNK]] {
        self.gates.get_mut(l * n_chunks..(l + 1) * n_chunks).unwrap_or(&mut [])
    }
}

/// Nodes with the same mechanisms.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// Channel bits ([`bit`]) and [`CAD`].
    pub mask: u32,
    /// Gate chunks per node.
    pub n_chunks: usize,
    /// The reversal potentials, the same for every node of the group.
    pub reversal: Reversal,
    pub blocks: Vec<Block>,
    /// The gate table of the group's kernel (`kernel::table_chunks`), at the present dt.
    pub table: Option<Arc<GateTable>>,
}

/// Reversal potentials of the passive leak and the Na, K and Ih currents (mV). Nodes are
/// grouped by them as well as by their mechanisms, so that a block reads four numbers from its
/// group instead of four of its own rows (in the Hay cell they are the same everywhere: one
/// group per mechanism set, as before; the kernel pass measured 3 % faster without these four
/// rows per block).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reversal {
    pub pas_e_mv: f64,
    pub ena_mv: f64,
    pub ek_mv: f64,
    pub eh_mv: f64,
}

impl Reversal {
    /// Bit-equal (the grouping key; NaN equals itself).
    fn same(&self, other: &Reversal) -> bool {
        [self.pas_e_mv, self.ena_mv, self.ek_mv, self.eh_mv].map(f64::to_bits) == [other.pas_e_mv, other.ena_mv, other.ek_mv, other.eh_mv].map(f64::to_bits)
    }
}

/// Parameters of one membrane node, before packing into blocks.
#[derive(Debug, Clone, Copy)]
struct NodeParams {
    node: u32,
    area_factor: f64,
    cdt_us: f64,
    axial_us: f64,
    pas_g: f64,
    gbar: [f64; N_CHANNELS],
    reversal: Reversal,
    ca_min_mm: f64,
    ca_per_ica: f64,
    decay_ms: f64,
}

impl Block {
    fn pack(members: &[NodeParams]) -> Block {
        let lane = |l: usize| members[l.min(members.len() - 1)];
        let lanes = |f: &dyn Fn(&NodeParams) -> f64| -> Lanes { std::array::from_fn(|l| f(&lane(l))) };
        Block {
            nodes: std::array::from_fn(|l| lane(l).node),
            valid: members.len().min(LANES),
            area_factor: lanes(&|p| p.area_factor),
            cdt_us: lanes(&|p| p.cdt_us),
            axial_us: lanes(&|p| p.axial_us),
            pas_g: lanes(&|p| p.pas_g),
            gbar: std::array::from_fn(|c| lanes(&|p| p.gbar[c])),
            ca_min_mm: lanes(&|p| p.ca_min_mm),
            ca_per_ica: lanes(&|p| p.ca_per_ica),
            ca_decay_factor: [1.0; LANES],
            decay_ms: lanes(&|p| p.decay_ms),
            cai_mm: [CAI0_MM; LANES],
            z: [0.0; LANES],
            ica: [0.0; LANES],
            syn: [[0.0; LANES]; 6],
            gates: [[0.0; CHUNK]; LANES * MAX_CHUNKS],
        }
    }
}

/// The code paths of the kernel, slowest first. Every path computes the same equations; the
/// SIMD paths use fused multiply-adds, so results differ from the portable path in rounding only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum InstructionSet {
    /// Plain Rust for any CPU.
    Portable,
    /// x86-64 with AVX2 and FMA.
    Avx2Fma,
    /// x86-64 with AVX-512 (F and VL), AVX2 and FMA.
    Avx512,
}

impl InstructionSet {
    /// The fastest path this CPU runs.
    pub fn best() -> InstructionSet {
        if cpu_has_avx512() {
            InstructionSet::Avx512
        } else if cpu_has_avx2_fma() {
            InstructionSet::Avx2Fma
        } else {
            InstructionSet::Portable
        }
    }

    /// Every path this CPU runs, slowest first.
    pub fn available() -> Vec<InstructionSet> {
        [InstructionSet::Portable, InstructionSet::Avx2Fma, InstructionSet::Avx512].into_iter().filter(|&isa| isa <= InstructionSet::best()).collect()
    }
}

/// Density mechanisms and summed synaptic states over the cell's membrane nodes.
#[derive(Debug, Clone)]
pub struct Mechanisms {
    pub(crate) groups: Vec<Group>,
    pub(crate) exact_rates: bool,
    /// The kernel's code path (the fastest the CPU has, unless set otherwise).
    isa: InstructionSet,
    pub(crate) dt_ms: f64,
    /// exp(−dt/τ_z) of SK_E2.
    pub(crate) z_factor: f64,
    /// RT/2F (mV) at the simulation temperature.
    pub nernst_factor_mv: f64,
    /// (group, block, lane) of each node; `u32::MAX` group for nodes without membrane.
    locate: Vec<(u32, u32, u32)>,
}

/// Slots of the Mg block and its slope (always the first two).
pub(crate) const MG_SLOT: usize = 0;

/// The lanes of a node's gate chunks, the same for every node and every cell: the Mg block and
/// its slope, then the gates of the dendritic channels (three chunks hold an apical node, one a
/// basal node), then those only the axon and soma of some cells carry. A fixed order lets the
/// kernels of the common mechanism sets index their gates with constants.
pub(crate) const SLOT_ORDER: [Slot; 19] = [
    Slot::MgBlock,
    Slot::MgSlope,
    Slot::Gate(Channel::Ih, false),
    Slot::Gate(Channel::NaTs2T, false),
    Slot::Gate(Channel::NaTs2T, true),
    Slot::Gate(Channel::SKv31, false),
    Slot::Gate(Channel::Im, false),
    Slot::Gate(Channel::CaHva, false),
    Slot::Gate(Channel::CaHva, true),
    Slot::Gate(Channel::CaLvast, false),
    Slot::Gate(Channel::CaLvast, true),
    Slot::Gate(Channel::NaTaT, false),
    Slot::Gate(Channel::NaTaT, true),
    Slot::Gate(Channel::NapEt2, false),
    Slot::Gate(Channel::NapEt2, true),
    Slot::Gate(Channel::KTst, false),
    Slot::Gate(Channel::KTst, true),
    Slot::Gate(Channel::KPst, false),
    Slot::Gate(Channel::KPst, true),
];

/// Slot of a channel's m gate in [`SLOT_ORDER`] (h is the next slot); `usize::MAX` for SK_E2,
/// which is gated by calcium.
pub(crate) const fn slot_of(ch: Channel) -> usize {
    match ch {
        Channel::Ih => 2,
        Channel::NaTs2T => 3,
        Channel::SKv31 => 5,
        Channel::Im => 6,
        Channel::CaHva => 7,
        Channel::CaLvast => 9,
        Channel::NaTaT => 11,
        Channel::NapEt2 => 13,
        Channel::KTst => 15,
        Channel::KPst => 17,
        Channel::SkE2 => usize::MAX,
    }
}

/// Voltage gates of a channel (const, for the kernels; equals `dispatch::v_gates`).
pub(crate) const fn gates_of(ch: Channel) -> usize {
    match ch {
        Channel::SkE2 => 0,
        Channel::Ih | Channel::SKv31 | Channel::Im => 1,
        _ => 2,
    }
}

/// Gate chunks of a node with the mechanism set `mask` (at least the Mg chunk).
pub(crate) const fn chunks_for(mask: u32) -> usize {
    let mut used = MG_SLOT + 2;
    let mut k = 0;
    while k < Channel::ALL.len() {
        let ch = Channel::ALL[k];
        if mask & bit(ch) != 0 && gates_of(ch) > 0 {
            let end = slot_of(ch) + gates_of(ch);
            if end > used {
                used = end;
            }
        }
        k += 1;
    }
    used.div_ceil(CHUNK)
}

/// What a kernel pass reads and writes outside the mechanisms.
pub struct Rows<'a> {
    pub v_mv: &'a [f64],
    /// exp(−dt/τ) of the six synaptic states.
    pub syn_decay: [f64; 6],
    /// 1 with NMDA, 0 without (the app's NMDA switch).
    pub nmda_scale: f64,
    /// Whether any synapse exists (the kernel skips the synaptic terms otherwise).
    pub any_synapse: bool,
    /// [C/dt + G + Σ g_axial (µS), (C/dt + G)·V − I (nA)] per node (the diagonal and
    /// right-hand side of the step's system for the new V), written for every membrane node.
    pub system: &'a mut [SystemRow],
}

impl Mechanisms {
    /// The mechanisms of `cell`; `cdt_us[i]` is node i's C/dt and `axial_us[i]` the sum of its
    /// axial conductances (µS).
    pub fn from_cell(cell: &Cell, nernst_factor_mv: f64, cdt_us: &[f64], axial_us: &[f64]) -> Mechanisms {
        let n = cell.membrane.len();
        let present = |node: usize, ch: Channel| cell.membrane[node].gbar(ch).filter(|&g| g != 0.0);
        let membrane = |node: usize| cell.cable.nodes[node].area_um2 > 0.0;
        // nodes by mechanism set, in node order
        let mut sets: Vec<(u32, Vec<NodeParams>)> = vec![];
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
            let p = NodeParams {
                node: i as u32,
                area_factor: cell.cable.nodes[i].area_um2 * 1e-2,
                cdt_us: cdt_us.get(i).copied().unwrap_or(f64::NAN),
                axial_us: axial_us.get(i).copied().unwrap_or(f64::NAN),
                pas_g: mem.g_pas_s_per_cm2,
                gbar,
                reversal: Reversal { pas_e_mv: mem.e_pas_mv, ena_mv: mem.ena_mv, ek_mv: mem.ek_mv, eh_mv: mem.eh_mv },
                ca_min_mm,
                ca_per_ica,
                decay_ms,
            };
            match sets.iter_mut().find(|(m, list)| *m == mask && list[0].reversal.same(&p.reversal)) {
                Some((_, list)) => list.push(p),
                None => sets.push((mask, vec![p])),
            }
        }
        let mut locate = vec![(u32::MAX, 0, 0); n];
        let mut groups = vec![];
        for (gi, (mask, list)) in sets.into_iter().enumerate() {
            let n_chunks = chunks_for(mask);
            let reversal = list[0].reversal;
            let blocks: Vec<Block> = list.chunks(LANES).map(Block::pack).collect();
            for (b, block) in blocks.iter().enumerate() {
                for l in 0..block.valid {
                    locate[block.nodes[l] as usize] = (gi as u32, b as u32, l as u32);
                }
            }
            groups.push(Group { mask, n_chunks, reversal, blocks, table: None });
        }
        Mechanisms { groups, exact_rates: false, isa: InstructionSet::best(), dt_ms: f64::NAN, z_factor: f64::NAN, nernst_factor_mv, locate }
    }

    /// Run the kernel on `isa`, or on the fastest path the CPU has if it lacks `isa`; returns the
    /// path now in use. (For checking every path against NEURON; the default is the fastest.)
    pub fn set_instruction_set(&mut self, isa: InstructionSet) -> InstructionSet {
        self.isa = isa.min(InstructionSet::best());
        self.isa
    }

    /// Use exact rates (every exp evaluated each step) instead of the tables: slower, for
    /// checking the tables. Takes effect immediately.
    pub fn set_exact_rates(&mut self, exact: bool) {
        self.exact_rates = exact;
        for g in &mut self.groups {
            let slots = &SLOT_ORDER[..(kernel::table_chunks(g.mask) * CHUNK).min(SLOT_ORDER.len())];
            g.table = if exact || !self.dt_ms.is_finite() { None } else { Some(GateTable::shared(slots, self.dt_ms)) };
        }
    }

    fn set_dt(&mut self, dt_ms: f64) {
        self.dt_ms = dt_ms;
        self.z_factor = (-dt_ms / TAU_Z_MS).exp();
        for g in &mut self.groups {
            for b in &mut g.blocks {
                b.ca_decay_factor = std::array::from_fn(|l| (-dt_ms / b.decay_ms[l]).exp());
            }
        }
        self.set_exact_rates(self.exact_rates);
    }

    /// NEURON's finitialize for the mechanisms: cai = 5e-5 mM, every gate at its steady state
    /// for `v_mv`, SK_E2's z at z∞(cai), synaptic states 0 (spec §5); then the first step's
    /// currents into `rows`.
    pub fn init(&mut self, dt_ms: f64, rows: Rows) {
        self.set_dt(dt_ms);
        for g in &mut self.groups {
            let nc = g.n_chunks;
            for block in g.blocks.iter_mut() {
                block.cai_mm = [CAI0_MM; LANES];
                block.ica = [0.0; LANES];
                block.z = [z_inf(CAI0_MM); LANES];
                block.syn = [[0.0; LANES]; 6];
                for l in 0..LANES {
                    let v = rows.v_mv[block.nodes[l] as usize];
                    let flat = block.lane_gates_mut(l, nc).as_flattened_mut();
                    flat.iter_mut().for_each(|y| *y = 0.0);
                    for ch in Channel::ALL.into_iter().filter(|&ch| g.mask & bit(ch) != 0 && v_gates(ch) > 0) {
                        let r = dispatch::rates(ch, v);
                        let s = slot_of(ch);
                        flat[s] = r.m_inf;
                        if v_gates(ch) == 2 {
                            flat[s + 1] = r.h_inf;
                        }
                    }
                }
            }
        }
        self.update(dt_ms, false, rows);
    }

    /// Add synaptic increments (A and B of AMPA, NMDA, GABA_A) to the summed states of `node`.
    #[inline]
    pub fn add_synaptic(&mut self, node: usize, increments: &[f64; 6]) {
        if let Some(&(g, b, l)) = self.locate.get(node) {
            if let Some(block) = self.groups.get_mut(g as usize).and_then(|g| g.blocks.get_mut(b as usize)) {
                for (s, inc) in block.syn.iter_mut().zip(increments) {
                    s[l as usize] += inc;
                }
            }
        }
    }

    /// Internal calcium per node (mM); 5e-5 where no CaDynamics acts.
    pub fn cai_mm(&self) -> Vec<f64> {
        let mut cai = vec![CAI0_MM; self.locate.len()];
        for g in &self.groups {
            for b in &g.blocks {
                for l in 0..b.valid {
                    cai[b.nodes[l] as usize] = b.cai_mm[l];
                }
            }
        }
        cai
    }

    /// One kernel pass over the membrane nodes at `rows.v_mv`. With `advance`: spec §7.2 step 5
    /// (CaDynamics_E2, eca and SK_E2's z from the new cai, gates, synaptic decay) and then the
    /// currents; without: only the currents at the present states (spec §7.2 step 2).
    #[inline]
    pub fn update(&mut self, dt_ms: f64, advance: bool, rows: Rows) {
        if dt_ms.to_bits() != self.dt_ms.to_bits() {
            self.set_dt(dt_ms);
        }
        match self.isa {
            // SAFETY: `isa` is never above `InstructionSet::best()` (`from_cell`,
            // `set_instruction_set`), which checks the CPU's features.
            #[cfg(target_arch = "x86_64")]
            InstructionSet::Avx512 => unsafe { self.update_avx512(advance, rows) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            InstructionSet::Avx2Fma => unsafe { self.update_fma(advance, rows) },
            _ => kernel::pass::<super::rates_table::Plain>(self, advance, rows),
        }
    }

    /// The kernel compiled for AVX-512 (a block of 8 nodes is one 512-bit register per
    /// expression).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    fn update_avx512(&mut self, advance: bool, rows: Rows) {
        kernel::pass::<super::rates_table::Fused512>(self, advance, rows);
    }

    /// The kernel compiled for AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn update_fma(&mut self, advance: bool, rows: Rows) {
        kernel::pass::<super::rates_table::Fused256>(self, advance, rows);
    }

    /// The first mechanism state that is not finite: (node, mechanism name, state name).
    pub fn first_non_finite(&self) -> Option<(usize, &'static str, &'static str)> {
        for g in &self.groups {
            for block in g.blocks.iter() {
                for l in 0..block.valid {
                    let node = block.nodes[l] as usize;
                    if g.mask & CAD != 0 && !block.cai_mm[l].is_finite() {
                        return Some((node, "CaDynamics_E2", "cai"));
                    }
                    let flat = block.lane_gates(l, g.n_chunks).as_flattened();
                    for ch in Channel::ALL.into_iter().filter(|&ch| g.mask & bit(ch) != 0) {
                        if ch == Channel::SkE2 {
                            if !block.z[l].is_finite() {
                                return Some((node, ch.neuron_name(), "z"));
                            }
                            continue;
                        }
                        let s = slot_of(ch);
                        if !flat[s].is_finite() {
                            return Some((node, ch.neuron_name(), "m"));
                        }
                        if v_gates(ch) == 2 && !flat[s + 1].is_finite() {
                            return Some((node, ch.neuron_name(), "h"));
                        }
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
                (g.blocks.iter().map(|b| b.valid).sum(), names)
            })
            .collect()
    }
}

fn cpu_has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        cpu_has_avx2_fma() && std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vl")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::biophysics::recipe::hay2011::{build_cell, Hay2011Variant};
    use crate::morphology::{synthesize_l5pc, Discretisation};

    /// The kernel takes each node's reversal potentials from its group: every node must be in a
    /// group with exactly its own, and a cell where they are uniform keeps one group per
    /// mechanism set.
    #[test]
    fn nodes_are_grouped_with_their_own_reversal_potentials() {
        let morph = synthesize_l5pc(4).expect("synth").morphology;
        let mut cell = build_cell(&morph, &Discretisation::default(), Hay2011Variant::default()).expect("cell");
        let groups_of = |cell: &Cell| {
            let n = cell.membrane.len();
            let m = Mechanisms::from_cell(cell, 12.5, &vec![1.0; n], &vec![1.0; n]);
            for (node, mem) in cell.membrane.iter().enumerate().filter(|(i, _)| cell.cable.nodes[*i].area_um2 > 0.0) {
                let (g, _, _) = m.locate[node];
                let r = m.groups[g as usize].reversal;
                assert_eq!((r.pas_e_mv, r.ena_mv, r.ek_mv, r.eh_mv), (mem.e_pas_mv, mem.ena_mv, mem.ek_mv, mem.eh_mv), "node {node}");
            }
            m.groups.iter().map(|g| g.mask).collect::<Vec<_>>()
        };
        let uniform = groups_of(&cell);
        let mut masks = uniform.clone();
        masks.dedup();
        assert_eq!(masks.len(), uniform.len(), "one group per mechanism set: {uniform:?}");
        // two apical nodes with their own K reversal, one with its own leak reversal
        let gbar = |i: usize, ch: Channel| cell.membrane[i].gbar_s_per_cm2[ch.index()].is_some();
        let apical: Vec<usize> = (0..cell.membrane.len()).filter(|&i| gbar(i, Channel::NaTs2T) && !gbar(i, Channel::NaTaT) && cell.cable.nodes[i].area_um2 > 0.0).collect();
        assert!(apical.len() > 40);
        cell.membrane[apical[3]].ek_mv = -80.0;
        cell.membrane[apical[30]].ek_mv = -80.0;
        cell.membrane[apical[20]].e_pas_mv = -70.0;
        assert_eq!(groups_of(&cell).len(), uniform.len() + 2);
    }
}
