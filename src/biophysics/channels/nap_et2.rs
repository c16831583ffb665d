//! Nap_Et2 (spec §3.4): persistent Na, gates m³h, E = ena; τ_m is 6× NaTa_t's; guards at −38,
//! −17 and −64.4 mV.

use super::{guard, GateRates, Ion, Kinetics, QT};

#[derive(Debug, Clone, Copy)]
pub struct NapEt2;

impl Kinetics for NapEt2 {
    const NAME: &'static str = "Nap_Et2";
    const ION: Ion = Ion::Na;
    const HAS_H: bool = true;
    #[inline(always)]
    fn rates(v_mv: f64) -> GateRates {
        let m_inf = 1.0 / (1.0 + (-(v_mv + 52.6) / 4.6).exp());
        let (am, bm) = super::nata_t::m_alpha_beta(v_mv);
        let m_tau_ms = 6.0 / ((am + bm) * QT);
        let h_inf = 1.0 / (1.0 + ((v_mv + 48.8) / 10.0).exp());
        let v = guard(v_mv, -17.0);
        let ah = -2.88e-6 * (v + 17.0) / (1.0 - ((v + 17.0) / 4.63).exp());
        let v = guard(v_mv, -64.4);
        let bh = 6.94e-6 * (v + 64.4) / (1.0 - (-(v + 64.4) / 2.63).exp());
        let h_tau_ms = 1.0 / ((ah + bh) * QT);
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
        let r: Vec<GateRates> = VS.iter().map(|&v| NapEt2::rates(v)).collect();
        check("Nap_Et2 m", &r.iter().map(|r| (r.m_inf, r.m_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 0.00613887, 0.429336), (-40.0, 0.939297, 1.132), (0.0, 0.999989, 0.292923)]);
        check("Nap_Et2 h", &r.iter().map(|r| (r.h_inf, r.h_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 0.938197, 1981.46), (-40.0, 0.293178, 1434.63), (0.0, 0.00753973, 755.56)]);
    }
}
