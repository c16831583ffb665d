//! The current loop of the density mechanisms (spec §7.2 step 2): one monomorphised loop per
//! channel, in registration order, adding g·(v − e) and g to per-node sums exactly as the
//! per-channel mod code does.

use super::cell::Channel;
use super::channels::{GateRates, Ion, Kinetics};

/// One channel over the nodes that carry it, in node order (struct of arrays), for the current
/// loop: one monomorphised loop per channel, in registration order.
#[derive(Debug, Clone)]
pub(crate) struct ChannelPop {
    pub ch: Channel,
    pub nodes: Vec<u32>,
    /// Runs of consecutive nodes: (first node, first instance, length). Within a run the per-node
    /// arrays are plain slices, so the loop needs no index checks and vectorises.
    pub runs: Vec<(usize, usize, usize)>,
    /// Flat index of m (h is the next slot) in the gate states; for SK_E2 the index of z.
    pub m: Vec<u32>,
    pub gbar: Vec<f64>,
    pub e: Vec<f64>,
}

/// SK_E2 seen as a one-gate channel whose gate is z (its states are `sk_z`, not the gate chunks).
pub(crate) struct SkZ;

impl Kinetics for SkZ {
    const NAME: &'static str = "SK_E2";
    const ION: Ion = Ion::K;
    const HAS_H: bool = false;
    fn rates(_v_mv: f64) -> GateRates {
        GateRates { m_inf: 1.0, m_tau_ms: 1.0, h_inf: 1.0, h_tau_ms: 1.0 }
    }
    #[inline(always)]
    fn open(m: f64, _h: f64) -> f64 {
        m
    }
}

/// The per-node sums that the current loop adds to.
pub(crate) struct Sums<'a> {
    pub v: &'a [f64],
    pub eca: &'a [f64],
    pub i: &'a mut [f64],
    pub g: &'a mut [f64],
    pub ica: &'a mut [f64],
}

impl Sums<'_> {
    /// Add one channel's g·(v − e) and g per node (spec §7.2 step 2), as the old per-channel loop
    /// did: g = ḡ·open(m, h), i = g·(v − e).
    #[inline(always)]
    pub fn add<K: Kinetics>(&mut self, pop: &ChannelPop, states: &[f64]) {
        for &(n0, k0, len) in &pop.runs {
            let (v, eca) = (&self.v[n0..n0 + len], &self.eca[n0..n0 + len]);
            let (i_sum, g_sum, ica) = (&mut self.i[n0..n0 + len], &mut self.g[n0..n0 + len], &mut self.ica[n0..n0 + len]);
            let (m_idx, gbar, e_fixed) = (&pop.m[k0..k0 + len], &pop.gbar[k0..k0 + len], &pop.e[k0..k0 + len]);
            for k in 0..len {
                let m = m_idx[k] as usize;
                let h = if K::HAS_H { states[m + 1] } else { 1.0 };
                let g = gbar[k] * K::open(states[m], h);
                let e = if K::ION == Ion::Ca { eca[k] } else { e_fixed[k] };
                let i = g * (v[k] - e);
                i_sum[k] += i;
                g_sum[k] += g;
                if K::ION == Ion::Ca {
                    ica[k] += i;
                }
            }
        }
    }
}
