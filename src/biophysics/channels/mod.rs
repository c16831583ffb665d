//! Ion channels of the Hay et al. 2011 model (spec §3.4), one file per channel.
//!
//! Each gated channel implements [`Kinetics`] (pure functions of v: steady states and time
//! constants of at most two gates) and is stored as a [`Population`]: a struct of arrays over only
//! the nodes that carry it. Currents are computed with the gates held fixed (spec §7.2 step 2) and
//! gates advance by the exact exponential ("cnexp") step at the new voltage (step 5).

pub mod ca_hva;
pub mod ca_lvast;
pub mod dispatch;
pub mod ih;
pub mod im;
pub mod k_pst;
pub mod k_tst;
pub mod nap_et2;
pub mod nata_t;
pub mod nats2_t;
pub mod pas;
pub mod sk_e2;
pub mod skv3_1;

/// qt = 2.3^((34 − 21)/10), hard-coded in several mod files; independent of `celsius` (spec §3).
pub const QT: f64 = 2.952_882_641_412_121;

/// Which reversal potential a channel's current uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ion {
    Na,
    K,
    /// Uses the per-node Nernst eca and contributes to ica (spec §4).
    Ca,
    /// Ih's non-specific current with e_h.
    H,
}

/// Steady states (dimensionless) and time constants (ms) of a channel's gates at one voltage.
/// Channels with one gate leave `h_inf = 1`, `h_tau_ms = 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateRates {
    pub m_inf: f64,
    pub m_tau_ms: f64,
    pub h_inf: f64,
    pub h_tau_ms: f64,
}

/// The voltage-dependent kinetics of a gated channel.
pub trait Kinetics {
    /// NEURON mechanism name, for error messages.
    const NAME: &'static str;
    const ION: Ion;
    const HAS_H: bool;
    fn rates(v_mv: f64) -> GateRates;
    /// Open fraction from the gates (m³h, m⁴h, m²h, m ...).
    fn open(m: f64, h: f64) -> f64;
}

/// The mod files' division-by-zero guard: v is moved by +1e-4 mV only if it is exactly the
/// singular voltage (spec §3.4).
#[inline(always)]
pub fn guard(v_mv: f64, singular_mv: f64) -> f64 {
    if v_mv == singular_mv {
        v_mv + 1e-4
    } else {
        v_mv
    }
}

/// One channel over the nodes that carry it (struct of arrays).
#[derive(Debug, Clone)]
pub struct Population<K: Kinetics> {
    /// Node index of each instance.
    pub nodes: Vec<usize>,
    pub gbar_s_per_cm2: Vec<f64>,
    /// Fixed reversal (mV) for Na, K and H channels; unused for Ca (eca is per node and dynamic).
    pub e_mv: Vec<f64>,
    pub m: Vec<f64>,
    pub h: Vec<f64>,
    _kinetics: std::marker::PhantomData<K>,
}

impl<K: Kinetics> Population<K> {
    pub fn new(nodes: Vec<usize>, gbar_s_per_cm2: Vec<f64>, e_mv: Vec<f64>) -> Self {
        let n = nodes.len();
        Population { nodes, gbar_s_per_cm2, e_mv, m: vec![0.0; n], h: vec![1.0; n], _kinetics: std::marker::PhantomData }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Gates at their steady state for the node voltages `v_mv` (NEURON's INITIAL).
    pub fn init(&mut self, v_mv: &[f64]) {
        for (k, &node) in self.nodes.iter().enumerate() {
            let r = K::rates(v_mv[node]);
            self.m[k] = r.m_inf;
            self.h[k] = if K::HAS_H { r.h_inf } else { 1.0 };
        }
    }

    /// Add this channel's current density (mA/cm²) and conductance (S/cm²) to the per-node sums;
    /// calcium channels also add to `ica` and use `eca`.
    #[inline]
    pub fn current(&self, v_mv: &[f64], eca_mv: &[f64], i_ma_cm2: &mut [f64], g_s_cm2: &mut [f64], ica_ma_cm2: &mut [f64]) {
        for k in 0..self.nodes.len() {
            let node = self.nodes[k];
            let g = self.gbar_s_per_cm2[k] * K::open(self.m[k], self.h[k]);
            let e = if K::ION == Ion::Ca { eca_mv[node] } else { self.e_mv[k] };
            let i = g * (v_mv[node] - e);
            i_ma_cm2[node] += i;
            g_s_cm2[node] += g;
            if K::ION == Ion::Ca {
                ica_ma_cm2[node] += i;
            }
        }
    }

    /// cnexp step at the new voltage: y ← y∞ + (y − y∞)·exp(−dt/τ) (spec §7.2 step 5).
    #[inline]
    pub fn advance(&mut self, v_mv: &[f64], dt_ms: f64) {
        for k in 0..self.nodes.len() {
            let r = K::rates(v_mv[self.nodes[k]]);
            self.m[k] = r.m_inf + (self.m[k] - r.m_inf) * (-dt_ms / r.m_tau_ms).exp();
            if K::HAS_H {
                self.h[k] = r.h_inf + (self.h[k] - r.h_inf) * (-dt_ms / r.h_tau_ms).exp();
            }
        }
    }

    /// First instance whose state is not finite: (node, gate name).
    pub fn first_non_finite(&self) -> Option<(usize, &'static str)> {
        for k in 0..self.nodes.len() {
            if !self.m[k].is_finite() {
                return Some((self.nodes[k], "m"));
            }
            if !self.h[k].is_finite() {
                return Some((self.nodes[k], "h"));
            }
        }
        None
    }
}

/// α/β form helper: (x∞, τ) = (α/(α+β), 1/((α+β)·q)).
#[inline(always)]
pub fn alpha_beta(alpha: f64, beta: f64, q: f64) -> (f64, f64) {
    let s = alpha + beta;
    (alpha / s, 1.0 / (s * q))
}

#[cfg(test)]
pub(crate) mod table {
    //! The §9 gate table: (v, y∞, τ) for −76, −40 and 0 mV.
    pub fn check(name: &str, got: &[(f64, f64)], want: &[(f64, f64, f64)]) {
        for (g, w) in got.iter().zip(want) {
            let rel_inf = (g.0 - w.1).abs() / w.1.abs();
            let rel_tau = (g.1 - w.2).abs() / w.2.abs();
            assert!(rel_inf < 1e-5, "{name} at {} mV: y∞ {} vs {}", w.0, g.0, w.1);
            assert!(rel_tau < 1e-5, "{name} at {} mV: τ {} vs {}", w.0, g.1, w.2);
        }
    }
    pub const VS: [f64; 3] = [-76.0, -40.0, 0.0];
}
