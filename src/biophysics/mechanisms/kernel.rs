//! The kernel of [`Mechanisms::update`] (see the documentation of `mechanisms`): blocks of
//! [`LANES`] nodes, with every per-node expression written lane by lane over fixed-size arrays
//! so that the compiler emits one SIMD instruction per expression.

use super::{bit, chunks_for, slot_of, Block, Group, Lanes, Mechanisms, Rows, CAD, LANES, MAX_CHUNKS, MG_SLOT};
use crate::biophysics::calcium::CAO_MM;
use crate::biophysics::cell::Channel;
use crate::biophysics::channels::dispatch::{self, v_gates};
use crate::biophysics::channels::sk_e2::z_inf;
use crate::biophysics::channels::{ca_hva::CaHva, ca_lvast::CaLvast, ih::Ih, im::Im, k_pst::KPst, k_tst::KTst, nap_et2::NapEt2, nata_t::NaTaT, nats2_t::NaTs2T};
use crate::biophysics::channels::{skv3_1::SKv31, Kinetics};
use crate::biophysics::rates_table::{grid_position, Arith, CaTable, GateTable, CHUNK, STEPS_PER_MV, V_MIN_MV};
use crate::biophysics::solver::SystemRow;
use crate::biophysics::synapse::{mg_block, E_EXC_MV, E_INH_MV, GMAX_EXC_US, GMAX_INH_US};

/// The mechanism sets of the Hay 2011 basal and apical dendrites (nearly every node of the cell),
/// which get kernels specialised for exactly their channels.
const BASAL: u32 = bit(Channel::Ih);
const APICAL: u32 = bit(Channel::CaHva) | bit(Channel::CaLvast) | bit(Channel::Ih) | bit(Channel::Im) | bit(Channel::NaTs2T) | bit(Channel::SkE2) | bit(Channel::SKv31) | CAD;
const CA_CHANNELS: u32 = bit(Channel::CaHva) | bit(Channel::CaLvast);
/// Gate slots (chunks × CHUNK) of the specialised kernels, and the most any node has.
const NS_BASAL: usize = chunks_for(BASAL) * CHUNK;
const NS_APICAL: usize = chunks_for(APICAL) * CHUNK;
const NS_MAX: usize = MAX_CHUNKS * CHUNK;

// the transposes are written for blocks of 8 nodes and chunks of 4 slots
const _: () = assert!(LANES == 8 && CHUNK == 4);

/// What every block's kernel reads besides its own block.
#[derive(Clone, Copy)]
struct Shared<'a> {
    /// The group's gate table (`None`: exact rates).
    table: Option<&'a GateTable>,
    ca_table: Option<&'static CaTable>,
    z_factor: f64,
    nernst_factor_mv: f64,
    dt_ms: f64,
    nmda_scale: f64,
    syn_decay: [f64; 6],
    /// The group's reversal potentials (mV), one register each for the whole block.
    pas_e: Lanes,
    ena: Lanes,
    ek: Lanes,
    eh: Lanes,
}

/// The node arrays of the step.
struct NodeArrays<'a> {
    v_mv: &'a [f64],
    system: &'a mut [SystemRow],
}

#[inline(always)]
pub(super) fn pass<A: Arith>(mech: &mut Mechanisms, advance: bool, rows: Rows) {
    // every block's nodes are < the cell's node count (`from_cell`), so with rows at least that
    // long the blocks read v and write their rows without further checks; shorter rows (a
    // caller's error) get NaN, which the simulation reports as a non-finite state
    let n = mech.locate.len();
    if rows.v_mv.len() < n || rows.system.len() < n {
        rows.system.fill([f64::NAN; 2]);
        return;
    }
    let sh = Shared {
        // (each group's own table, set in `group`)
        table: None,
        ca_table: if mech.exact_rates { None } else { Some(CaTable::get()) },
        z_factor: mech.z_factor,
        nernst_factor_mv: mech.nernst_factor_mv,
        dt_ms: mech.dt_ms,
        nmda_scale: rows.nmda_scale,
        syn_decay: rows.syn_decay,
        // (each group's own, set in `group`)
        pas_e: [f64::NAN; LANES],
        ena: [f64::NAN; LANES],
        ek: [f64::NAN; LANES],
        eh: [f64::NAN; LANES],
    };
    let syn = rows.any_synapse;
    let mut arrays = NodeArrays { v_mv: rows.v_mv, system: rows.system };
    for g in &mut mech.groups {
        match (advance, syn) {
            (true, true) => group::<A, true, true>(g, &sh, &mut arrays),
            (true, false) => group::<A, true, false>(g, &sh, &mut arrays),
            (false, true) => group::<A, false, true>(g, &sh, &mut arrays),
            (false, false) => group::<A, false, false>(g, &sh, &mut arrays),
        }
    }
}

/// Gate-table chunks per row for the group with mechanism set `mask`: the slots of its kernel
/// (the basal and apical groups get tables of just their slots, so their table rows are short
/// and more of them stay in the cache).
pub(super) const fn table_chunks(mask: u32) -> usize {
    match mask {
        BASAL => NS_BASAL / CHUNK,
        APICAL => NS_APICAL / CHUNK,
        _ => MAX_CHUNKS,
    }
}

#[inline(always)]
fn group<A: Arith, const ADV: bool, const SYN: bool>(g: &mut Group, sh: &Shared, arrays: &mut NodeArrays) {
    // the group's table (none with exact rates: `Mechanisms::set_exact_rates`), if it has exactly
    // the chunks the kernel indexes (another shape would be a construction error: then every
    // node takes the exact path)
    let r = g.reversal;
    let sh = &Shared { table: g.table.as_deref().filter(|t| t.n_chunks == table_chunks(g.mask)), pas_e: [r.pas_e_mv; LANES], ena: [r.ena_mv; LANES], ek: [r.ek_mv; LANES], eh: [r.eh_mv; LANES], ..*sh };
    let blocks = g.blocks.iter_mut();
    // the constant masks let the compiler drop every test of an absent mechanism and index the
    // gates with constants. (Plain `for` loops: a closure passed to `for_each` may be left
    // un-inlined, and would then lose the kernel's SIMD/FMA code generation.)
    match g.mask {
        BASAL => {
            for b in blocks {
                block::<A, ADV, SYN, NS_BASAL, { NS_BASAL / CHUNK }>(BASAL, b, sh, arrays);
            }
        }
        APICAL => {
            for b in blocks {
                block::<A, ADV, SYN, NS_APICAL, { NS_APICAL / CHUNK }>(APICAL, b, sh, arrays);
            }
        }
        mask => {
            for b in blocks {
                block::<A, ADV, SYN, NS_MAX, MAX_CHUNKS>(mask, b, sh, arrays);
            }
        }
    }
}

/// `f` applied lane by lane.
#[inline(always)]
fn lanes(f: impl Fn(usize) -> f64) -> Lanes {
    std::array::from_fn(f)
}

/// One block: states (with `ADV`), then currents and slopes into the rows of its nodes.
#[inline(always)]
fn block<A: Arith, const ADV: bool, const SYN: bool, const NS: usize, const TC: usize>(mask: u32, b: &mut Block, sh: &Shared, arrays: &mut NodeArrays) {
    // (chunks_for(mask) ≤ MAX_CHUNKS, so lane l's chunks l·nc .. (l + 1)·nc are inside b.gates)
    let nc = chunks_for(mask).min(NS / CHUNK);
    // SAFETY: block nodes are < the node count ≤ v_mv.len() (checked in `pass`), and the kernel
    // runs with an `Arith` whose instruction set the CPU has
    let v: Lanes = unsafe { A::gather_8(arrays.v_mv, &b.nodes) };
    // (a) gates at the new v, and the Mg block and slope, from one table row per node. First,
    // although NEURON updates calcium first: the gates depend on v alone, so the numbers are the
    // same, and their table loads, the block's longest wait, then overlap the calcium work (the
    // kernel pass measured 4 % faster). Grid positions of all lanes at once (the same arithmetic
    // as `grid_position`, but one range test for the block; calling `grid_position` lane by lane
    // here measured 25 % slower per step); a block with a lane outside the table (rare) takes
    // the exact path lane by lane.
    let mut in_table = None;
    if ADV {
        let x = lanes(|l| (v[l] - V_MIN_MV) * STEPS_PER_MV);
        // (non-short-circuit `&`: one vector compare for the block instead of a branch per lane)
        let mut in_range = sh.table.is_some();
        let rows_f = sh.table.map_or(0.0, |t| t.rows_f);
        for &x in &x {
            in_range &= (x >= 0.0) & (x < rows_f);
        }
        match sh.table {
            Some(t) if in_range => {
                let mut f = [0.0; LANES];
                let mut rows = [0usize; LANES];
                for l in 0..LANES {
                    // SAFETY: x[l] is in [0, rows) (checked just above): not NaN, < i32::MAX
                    let i: i32 = unsafe { x[l].to_int_unchecked() };
                    rows[l] = i as usize;
                    f[l] = x[l] - f64::from(i);
                }
                // each lane's row, taken once for all its chunks (the chunk steps then read
                // their entries without reloading the table's address)
                // SAFETY: rows[l] < t.rows (the range check above) and t.n_chunks == TC
                // (checked in `group`)
                let mut lane_rows = [unsafe { t.row_unchecked::<TC>(rows[0]) }; LANES];
                for l in 1..LANES {
                    // SAFETY: as just above
                    lane_rows[l] = unsafe { t.row_unchecked::<TC>(rows[l]) };
                }
                in_table = Some((lane_rows, f));
            }
            _ => {
                for (l, chunks) in b.gates.chunks_exact_mut(nc).take(LANES).enumerate() {
                    match sh.table.and_then(|t| grid_position(v[l], t.rows_f).map(|p| (t, p))) {
                        Some((t, (i, f))) => t.advance::<A>(i, f, chunks),
                        None => exact_gates(mask, v[l], sh, chunks),
                    }
                }
            }
        }
    }
    // (b) CaDynamics_E2 with this step's ica, then eca and SK_E2's z from the new cai
    let mut eca = [0.0; LANES];
    if ADV && mask & CAD != 0 {
        let c_inf = lanes(|l| b.ca_min_mm[l] - b.ca_per_ica[l] * b.ica[l]);
        b.cai_mm = lanes(|l| A::mul_add(b.cai_mm[l] - c_inf[l], b.ca_decay_factor[l], c_inf[l]));
    }
    if mask & (CA_CHANNELS | bit(Channel::SkE2)) != 0 {
        // both from the calcium table for the whole block, or exactly lane by lane when a lane
        // is outside it (or the tables are off)
        // (a `match`, not `and_then` with a closure: a closure left un-inlined is compiled
        // without the kernel's target features, and this one was: SSE2 code behind a call)
        let looked_up = match sh.ca_table {
            // SAFETY: the kernel runs with an `Arith` whose instruction set the CPU has
            Some(t) => unsafe { t.lookup_lanes::<A>(&b.cai_mm) },
            None => None,
        };
        let (ln_ratio, zi) = match looked_up {
            Some(x) => x,
            None => exact_calcium(&b.cai_mm),
        };
        eca = lanes(|l| sh.nernst_factor_mv * ln_ratio[l]);
        if ADV && mask & bit(Channel::SkE2) != 0 {
            b.z = lanes(|l| A::mul_add(b.z[l] - zi[l], sh.z_factor, zi[l]));
        }
    }
    // slot-major copies of the gates (lane = node) for the current expressions, transposed from
    // the new chunks while they are in registers; NS is the slot count of the specialised
    // kernels (so `y` has exactly their size), or the most any node has
    let mut y = [[0.0; LANES]; NS];
    for c in 0..nc {
        let mut chunk = [[0.0; CHUNK]; LANES];
        for l in 0..LANES {
            let state = &mut b.gates[l * nc + c];
            chunk[l] = match in_table {
                Some((lane_rows, f)) => {
                    // SAFETY: c < nc ≤ TC
                    let new = unsafe { lane_rows[l].advance_chunk_unchecked::<A>(c, f[l], *state) };
                    *state = new;
                    new
                }
                None => *state,
            };
        }
        // SAFETY: the kernel runs with an `Arith` whose instruction set the CPU has
        // (`Mechanisms::update` picks the path from the CPU's features)
        let rows = unsafe { A::transpose_8x4(&chunk) };
        for (s, row) in rows.into_iter().enumerate() {
            y[c * CHUNK + s] = row;
        }
    }
    if !ADV && SYN {
        // the Mg lanes hold the block at the v of the last advance; v has changed since
        for l in 0..LANES {
            (y[MG_SLOT][l], y[MG_SLOT + 1][l]) = mg_block(v[l]);
        }
    }
    // (c) currents and slopes in registration order (pas first), as NEURON sums them
    let mut i = lanes(|l| b.pas_g[l] * (v[l] - sh.pas_e[l]));
    let mut g = b.pas_g;
    let mut ica = [0.0; LANES];
    macro_rules! channel {
        ($ch:expr, $k:ty, $e:expr, $calcium:literal) => {
            if mask & bit($ch) != 0 {
                let s = slot_of($ch);
                let (m, h) = (y[s], if <$k>::HAS_H { y[s + 1] } else { [1.0; LANES] });
                let gbar = &b.gbar[$ch.index()];
                let e: &Lanes = $e;
                let gc = lanes(|l| gbar[l] * <$k>::open(m[l], h[l]));
                let drive = lanes(|l| v[l] - e[l]);
                i = lanes(|l| A::mul_add(gc[l], drive[l], i[l]));
                g = lanes(|l| g[l] + gc[l]);
                if $calcium {
                    ica = lanes(|l| A::mul_add(gc[l], drive[l], ica[l]));
                }
            }
        };
    }
    channel!(Channel::CaHva, CaHva, &eca, true);
    channel!(Channel::CaLvast, CaLvast, &eca, true);
    channel!(Channel::Ih, Ih, &sh.eh, false);
    channel!(Channel::Im, Im, &sh.ek, false);
    channel!(Channel::KPst, KPst, &sh.ek, false);
    channel!(Channel::KTst, KTst, &sh.ek, false);
    channel!(Channel::NaTaT, NaTaT, &sh.ena, false);
    channel!(Channel::NaTs2T, NaTs2T, &sh.ena, false);
    channel!(Channel::NapEt2, NapEt2, &sh.ena, false);
    if mask & bit(Channel::SkE2) != 0 {
        let gbar = &b.gbar[Channel::SkE2.index()];
        for l in 0..LANES {
            let gc = gbar[l] * b.z[l];
            i[l] = A::mul_add(gc, v[l] - sh.ek[l], i[l]);
            g[l] += gc;
        }
    }
    channel!(Channel::SKv31, SKv31, &sh.ek, false);
    b.ica = ica;
    // (d) the nodes' synapses: decay, then current and slope
    let (mut i_syn, mut g_syn) = ([0.0; LANES], [0.0; LANES]);
    if SYN {
        let s = &mut b.syn;
        if ADV {
            for (x, d) in s.iter_mut().zip(sh.syn_decay) {
                // below 1e-200 (µS-scale states of 1e-204) the product is set to 0: decaying
                // states would otherwise reach subnormal numbers, which cost far more per
                // operation on some CPUs, with no effect on any current
                *x = lanes(|l| {
                    let y = x[l] * d;
                    if y.abs() < 1e-200 {
                        0.0
                    } else {
                        y
                    }
                });
            }
        }
        let (block, dblock) = (y[MG_SLOT], y[MG_SLOT + 1]);
        for l in 0..LANES {
            let g_ampa = GMAX_EXC_US * (s[1][l] - s[0][l]);
            let g_nmda_open = sh.nmda_scale * GMAX_EXC_US * (s[3][l] - s[2][l]);
            let g_inh = GMAX_INH_US * (s[5][l] - s[4][l]);
            let drive = v[l] - E_EXC_MV;
            i_syn[l] = (g_ampa + g_nmda_open * block[l]) * drive + g_inh * (v[l] - E_INH_MV);
            g_syn[l] = g_ampa + g_nmda_open * (block[l] + dblock[l] * drive) + g_inh;
        }
    }
    // the membrane part of the diagonal, C/dt + G, and the rows of the system for the new V:
    // (C/dt + G)·V − I on the right, plus the axial sum on the diagonal
    let membrane = lanes(|l| A::mul_add(g[l], b.area_factor[l], b.cdt_us[l]) + g_syn[l]);
    let rhs = lanes(|l| A::mul_add(membrane[l], v[l], -(i[l] * b.area_factor[l]) - i_syn[l]));
    let diag = lanes(|l| membrane[l] + b.axial_us[l]);
    for l in 0..b.valid.min(LANES) {
        let node = b.nodes[l] as usize;
        // SAFETY: node < the node count ≤ system.len() (checked in `pass`)
        unsafe {
            *arrays.system.get_unchecked_mut(node) = [diag[l], rhs[l]];
        }
    }
}

/// ln(cao/cai) and SK_E2's z∞ of every lane, exactly (a lane outside the calcium table, or the
/// tables switched off).
#[cold]
#[inline(never)]
fn exact_calcium(cai_mm: &Lanes) -> (Lanes, Lanes) {
    (lanes(|l| (CAO_MM / cai_mm[l]).ln()), lanes(|l| z_inf(cai_mm[l])))
}

/// The cnexp step of one node's gates with exactly evaluated rates, and its Mg block and slope
/// (v outside the table, or the tables switched off).
#[cold]
#[inline(never)]
fn exact_gates(mask: u32, v: f64, sh: &Shared, gates: &mut [[f64; CHUNK]]) {
    let flat = gates.as_flattened_mut();
    for ch in Channel::ALL.into_iter().filter(|&ch| mask & bit(ch) != 0 && v_gates(ch) > 0) {
        let r = dispatch::rates(ch, v);
        let s = slot_of(ch);
        flat[s] = r.m_inf + (flat[s] - r.m_inf) * (-sh.dt_ms / r.m_tau_ms).exp();
        if v_gates(ch) == 2 {
            flat[s + 1] = r.h_inf + (flat[s + 1] - r.h_inf) * (-sh.dt_ms / r.h_tau_ms).exp();
        }
    }
    (flat[MG_SLOT], flat[MG_SLOT + 1]) = mg_block(v);
}
