//! NaTs2_t (spec §3.4): transient Na, gates m³h, E = ena, τ divided by qt; guards at v = −32 (m)
//! and v = −60 (h).

use super::{alpha_beta, guard, GateRates, Ion, Kinetics, QT};

#[derive(Debug, Clone, Copy)]
pub struct NaTs2T;

/// α_m, β_m (1/ms); shared with Nap_Et2 for the 32-mV variant.
#[inline(always)]
pub fn m_alpha_beta(v_mv: f64) -> (f64, f64) {
    let x = guard(v_mv, -32.0) + 32.0;
    // β's exponential is the reciprocal of α's: 0.124·(−x)/(1 − 1/e) = 0.124·x·e/(1 − e)
    let e = (-x / 6.0).exp();
    let inv = 1.0 / (1.0 - e);
    (0.182 * x * inv, 0.124 * x * e * inv)
}

impl Kinetics for NaTs2T {
    const NAME: &'static str = "NaTs2_t";
    const ION: Ion = Ion::Na;
    const HAS_H: bool = true;
    #[inline(always)]
    fn rates(v_mv: f64) -> GateRates {
        let (am, bm) = m_alpha_beta(v_mv);
        let (m_inf, m_tau_ms) = alpha_beta(am, bm, QT);
        let y = guard(v_mv, -60.0) + 60.0;
        // β_h = −0.015·(−y)/(1 − 1/e) = −0.015·y·e/(1 − e) with e = exp(y/6)
        let e = (y / 6.0).exp();
        let inv = 1.0 / (1.0 - e);
        let (ah, bh) = (-0.015 * y * inv, -0.015 * y * e * inv);
        let (h_inf, h_tau_ms) = alpha_beta(ah, bh, QT);
        GateRates { m_inf, m_tau_ms, h_inf, h_tau_ms }
    }
    #[inline(always)]
    fn open(m: f64, h: f64) -> f64 {
        m * m * m * h
    }
}

#[cfg(test)]
mod tests {
    use super::super::table::{check, VS};
    use super::*;

    #[test]
    fn gate_table_spec_s9() {
        let r: Vec<GateRates> = VS.iter().map(|&v| NaTs2T::rates(v)).collect();
        check("NaTs2_t m", &r.iter().map(|r| (r.m_inf, r.m_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 0.000958092, 0.0619697), (-40.0, 0.278964, 0.181265), (0.0, 0.996721, 0.0576772)]);
        check("NaTs2_t h", &r.iter().map(|r| (r.h_inf, r.h_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 0.935031, 1.2277), (-40.0, 0.0344452, 1.05107), (0.0, 4.53979e-05, 0.376246)]);
    }
}
