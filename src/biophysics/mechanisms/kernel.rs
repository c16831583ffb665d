//! The per-node kernel of [`Mechanisms::update`] (see the documentation of `mechanisms`).

use super::{bit, reversal, Group, Mechanisms, Member, Rows, CAD};
use crate::biophysics::calcium::CAO_MM;
use crate::biophysics::cell::{Channel, N_CHANNELS};
use crate::biophysics::channels::dispatch::{self, v_gates};
use crate::biophysics::channels::sk_e2::z_inf;
use crate::biophysics::channels::{ca_hva::CaHva, ca_lvast::CaLvast, ih::Ih, im::Im, k_pst::KPst, k_tst::KTst, nap_et2::NapEt2, nata_t::NaTaT, nats2_t::NaTs2T};
use crate::biophysics::channels::{skv3_1::SKv31, Kinetics};
use crate::biophysics::rates_table::{ca_lookup, grid_position, Arith, GateTable, CHUNK};
use crate::biophysics::synapse::{mg_block, site_current};

/// The mechanism sets of the Hay 2011 basal and apical dendrites (nearly every node of the cell),
/// which get kernels specialised for exactly their channels.
const BASAL: u32 = bit(Channel::Ih);
const APICAL: u32 = bit(Channel::CaHva) | bit(Channel::CaLvast) | bit(Channel::Ih) | bit(Channel::Im) | bit(Channel::NaTs2T) | bit(Channel::SkE2) | bit(Channel::SKv31) | CAD;
const CA_CHANNELS: u32 = bit(Channel::CaHva) | bit(Channel::CaLvast);

/// What every node's kernel reads besides its own member and node.
struct Shared<'a> {
    table: Option<&'a GateTable>,
    slot_of: [usize; N_CHANNELS],
    mg_chunk: usize,
    mg_lane: usize,
    z_factor: f64,
    nernst_factor_mv: f64,
    dt_ms: f64,
    nmda_scale: f64,
    syn_decay: [f64; 8],
}

/// Per-node arrays the kernel reads and writes.
struct NodeArrays<'a> {
    v_mv: &'a [f64],
    cai_mm: &'a mut [f64],
    syn: &'a mut [[f64; 8]],
    rhs: &'a mut [f64],
    diag: &'a mut [f64],
}

#[inline(always)]
pub(super) fn pass<A: Arith>(mech: &mut Mechanisms, advance: bool, rows: Rows) {
    let sh = Shared {
        table: if mech.exact_rates { None } else { mech.table.as_deref() },
        slot_of: mech.slot_of,
        mg_chunk: mech.mg_slot / CHUNK,
        mg_lane: mech.mg_slot % CHUNK,
        z_factor: mech.z_factor,
        nernst_factor_mv: mech.nernst_factor_mv,
        dt_ms: mech.dt_ms,
        nmda_scale: rows.synapses.nmda_scale,
        syn_decay: rows.synapses.decay,
    };
    let syn = rows.synapses.any();
    let mut arrays = NodeArrays { v_mv: rows.v_mv, cai_mm: &mut mech.cai_mm, syn: &mut rows.synapses.states, rhs: rows.rhs_na, diag: rows.diag_us };
    let gates = &mut mech.gates;
    for g in &mut mech.groups {
        match (advance, syn) {
            (true, true) => group::<A, true, true>(g, &sh, gates, &mut arrays),
            (true, false) => group::<A, true, false>(g, &sh, gates, &mut arrays),
            (false, true) => group::<A, false, true>(g, &sh, gates, &mut arrays),
            (false, false) => group::<A, false, false>(g, &sh, gates, &mut arrays),
        }
    }
}

#[inline(always)]
fn group<A: Arith, const ADV: bool, const SYN: bool>(g: &mut Group, sh: &Shared, gates: &mut [[f64; CHUNK]], arrays: &mut NodeArrays) {
    let n_chunks = g.n_chunks;
    // the constant masks let the compiler drop every test of an absent mechanism
    match g.mask {
        BASAL => g.members.iter_mut().for_each(|m| node::<A, ADV, SYN>(BASAL, n_chunks, m, sh, gates, arrays)),
        APICAL => g.members.iter_mut().for_each(|m| node::<A, ADV, SYN>(APICAL, n_chunks, m, sh, gates, arrays)),
        mask => g.members.iter_mut().for_each(|m| node::<A, ADV, SYN>(mask, n_chunks, m, sh, gates, arrays)),
    }
}

/// One node: states (with `ADV`), then currents and slopes into its row of the linear system.
#[inline(always)]
fn node<A: Arith, const ADV: bool, const SYN: bool>(mask: u32, n_chunks: usize, m: &mut Member, sh: &Shared, gates: &mut [[f64; CHUNK]], arrays: &mut NodeArrays) {
    let node = m.node as usize;
    let v = arrays.v_mv[node];
    let c0 = m.chunk0 as usize;
    let gates = &mut gates[c0..c0 + n_chunks];
    // (a) CaDynamics_E2 with this step's ica, then eca and SK_E2's z from the new cai
    let mut eca = 0.0;
    if mask & (CA_CHANNELS | bit(Channel::SkE2) | CAD) != 0 {
        let mut cai = arrays.cai_mm[node];
        if ADV && mask & CAD != 0 {
            let c_inf = m.ca_min_mm - m.ca_per_ica * m.ica;
            cai = A::mul_add(cai - c_inf, m.ca_decay_factor, c_inf);
            arrays.cai_mm[node] = cai;
        }
        if mask & (CA_CHANNELS | bit(Channel::SkE2)) != 0 {
            let looked_up = if sh.table.is_some() { ca_lookup(cai) } else { None };
            let (ln_ratio, zi) = match looked_up {
                Some(x) => x,
                None => ((CAO_MM / cai).ln(), z_inf(cai)),
            };
            eca = sh.nernst_factor_mv * ln_ratio;
            if ADV && mask & bit(Channel::SkE2) != 0 {
                m.z = A::mul_add(m.z - zi, sh.z_factor, zi);
            }
        }
    }
    // (b) gates at the new v, and the Mg block, from one table row
    let (mut block, mut dblock) = (0.0, 0.0);
    match sh.table.and_then(|t| grid_position(v, t.rows_f).map(|p| (t, p))) {
        Some((t, (i, f))) => {
            if ADV {
                t.advance::<A>(i, f, gates);
            }
            if SYN {
                (block, dblock) = t.lane::<A>(sh.mg_chunk, sh.mg_lane, i, f);
            }
        }
        None => {
            if ADV {
                exact_gates(mask, v, sh, gates);
            }
            if SYN {
                (block, dblock) = mg_block(v);
            }
        }
    }
    // (c) currents and slopes in registration order (pas first), as NEURON sums them
    let flat = gates.as_flattened();
    let mut i = m.pas_g * (v - m.pas_e);
    let mut g = m.pas_g;
    let mut ica = 0.0;
    macro_rules! channel {
        ($ch:expr, $k:ty) => {
            if mask & bit($ch) != 0 {
                let s = sh.slot_of[$ch.index()];
                let h = if <$k>::HAS_H { flat[s + 1] } else { 1.0 };
                let gc = m.gbar[$ch.index()] * <$k>::open(flat[s], h);
                let drive = v - reversal(m, $ch, eca);
                i = A::mul_add(gc, drive, i);
                g += gc;
                if $ch.is_calcium() {
                    ica = A::mul_add(gc, drive, ica);
                }
            }
        };
    }
    channel!(Channel::CaHva, CaHva);
    channel!(Channel::CaLvast, CaLvast);
    channel!(Channel::Ih, Ih);
    channel!(Channel::Im, Im);
    channel!(Channel::KPst, KPst);
    channel!(Channel::KTst, KTst);
    channel!(Channel::NaTaT, NaTaT);
    channel!(Channel::NaTs2T, NaTs2T);
    channel!(Channel::NapEt2, NapEt2);
    if mask & bit(Channel::SkE2) != 0 {
        let gc = m.gbar[Channel::SkE2.index()] * m.z;
        i = A::mul_add(gc, v - m.ek, i);
        g += gc;
    }
    channel!(Channel::SKv31, SKv31);
    m.ica = ica;
    // (d) the node's synapses: decay, then current and slope
    let (mut i_syn, mut g_syn) = (0.0, 0.0);
    if SYN {
        let s = &mut arrays.syn[node];
        if ADV {
            for (x, d) in s.iter_mut().zip(sh.syn_decay) {
                *x *= d;
            }
        }
        (i_syn, g_syn) = site_current(s, v, block, dblock, sh.nmda_scale);
    }
    arrays.rhs[node] = -(i * m.area_factor) - i_syn;
    arrays.diag[node] = A::mul_add(g, m.area_factor, m.diag_const_us) + g_syn;
}

/// The cnexp step of a node's gates with exactly evaluated rates (v outside the table, or the
/// tables switched off).
#[cold]
#[inline(never)]
fn exact_gates(mask: u32, v: f64, sh: &Shared, gates: &mut [[f64; CHUNK]]) {
    let flat = gates.as_flattened_mut();
    for ch in Channel::ALL.into_iter().filter(|&ch| mask & bit(ch) != 0 && v_gates(ch) > 0) {
        let r = dispatch::rates(ch, v);
        let s = sh.slot_of[ch.index()];
        flat[s] = r.m_inf + (flat[s] - r.m_inf) * (-sh.dt_ms / r.m_tau_ms).exp();
        if v_gates(ch) == 2 {
            flat[s + 1] = r.h_inf + (flat[s + 1] - r.h_inf) * (-sh.dt_ms / r.h_tau_ms).exp();
        }
    }
}
