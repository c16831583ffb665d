//! Ion channels of the Hay et al. 2011 model (spec §3.4), one file per channel.
//!
//! Each gated channel implements [`Kinetics`]: pure functions of v giving the steady states and
//! time constants of at most two gates, and the open fraction. The engine (`mechanisms.rs`,
//! `rates_table.rs`) tabulates them at fixed dt and applies the cnexp step (spec §7.2 step 5).

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
