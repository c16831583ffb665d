//! NaTa_t (spec §3.4): transient Na, gates m³h, E = ena, τ divided by qt; guards at v = −38 (m)
//! and v = −66 (h).

use super::{alpha_beta, guard, GateRates, Ion, Kinetics, QT};

#[derive(Debug, Clone, Copy)]
pub struct NaTaT;

/// α_m, β_m (1/ms) of the transient Na family with half-point `m_half_mv` (−38 for NaTa_t and
/// Nap_Et2, −32 for NaTs2_t, which is NaTa_t shifted by +6 mV; spec §3.4).
#[inline(always)]
pub fn transient_m_alpha_beta(v_mv: f64, m_half_mv: f64) -> (f64, f64) {
    let x = guard(v_mv, m_half_mv) - m_half_mv;
    // β's exponential is the reciprocal of α's: 0.124·(−x)/(1 − 1/e) = 0.124·x·e/(1 − e)
    let e = (-x / 6.0).exp();
    let inv = 1.0 / (1.0 - e);
    (0.182 * x * inv, 0.124 * x * e * inv)
}

/// Gate rates of the transient Na family (m³h, τ divided by qt) with the m and h half-points.
#[inline(always)]
pub fn transient_na_rates(v_mv: f64, m_half_mv: f64, h_half_mv: f64) -> GateRates {
    let (am, bm) = transient_m_alpha_beta(v_mv, m_half_mv);
    let (m_inf, m_tau_ms) = alpha_beta(am, bm, QT);
    let y = guard(v_mv, h_half_mv) - h_half_mv;
    // β_h = −0.015·(−y)/(1 − 1/e) = −0.015·y·e/(1 − e) with e = exp(y/6)
    let e = (y / 6.0).exp();
    let inv = 1.0 / (1.0 - e);
    let (ah, bh) = (-0.015 * y * inv, -0.015 * y * e * inv);
    let (h_inf, h_tau_ms) = alpha_beta(ah, bh, QT);
    GateRates { m_inf, m_tau_ms, h_inf, h_tau_ms }
}

/// α_m, β_m (1/ms) of NaTa_t; shared with Nap_Et2.
#[inline(always)]
pub fn m_alpha_beta(v_mv: f64) -> (f64, f64) {
    transient_m_alpha_beta(v_mv, -38.0)
}

impl Kinetics for NaTaT {
    const NAME: &'static str = "NaTa_t";
    const ION: Ion = Ion::Na;
    const HAS_H: bool = true;
    #[inline(always)]
    fn rates(v_mv: f64) -> GateRates {
        transient_na_rates(v_mv, -38.0, -66.0)
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
        let r: Vec<GateRates> = VS.iter().map(|&v| NaTaT::rates(v)).collect();
        check("NaTa_t m", &r.iter().map(|r| (r.m_inf, r.m_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 0.00260008, 0.071556), (-40.0, 0.512595, 0.188667), (0.0, 0.998791, 0.0488204)]);
        check("NaTa_t h", &r.iter().map(|r| (r.h_inf, r.h_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 0.841131, 1.54033), (-40.0, 0.0129537, 0.845842), (0.0, 1.67014e-05, 0.342061)]);
    }
}
