//! K_Pst (spec §3.4): persistent K, gates m²h, E = ek; formulas at u = v + 10 mV; τ_m switches
//! formula at u = −50 mV; τ/qt.

use super::{GateRates, Ion, Kinetics, QT};

#[derive(Debug, Clone, Copy)]
pub struct KPst;

impl Kinetics for KPst {
    const NAME: &'static str = "K_Pst";
    const ION: Ion = Ion::K;
    const HAS_H: bool = true;
    #[inline(always)]
    fn rates(v_mv: f64) -> GateRates {
        let u = v_mv + 10.0;
        let m_inf = 1.0 / (1.0 + (-(u + 1.0) / 12.0).exp());
        let m_tau_ms = if u < -50.0 { (1.25 + 175.03 * (0.026 * u).exp()) / QT } else { (1.25 + 13.0 * (-0.026 * u).exp()) / QT };
        let h_inf = 1.0 / (1.0 + ((u + 54.0) / 11.0).exp());
        let a = (u + 75.0) / 48.0;
        let h_tau_ms = (360.0 + (1010.0 + 24.0 * (u + 55.0)) * (-a * a).exp()) / QT;
        GateRates { m_inf, m_tau_ms, h_inf, h_tau_ms }
    }
    #[inline(always)]
    fn open(m: f64, h: f64) -> f64 {
        m * m * h
    }
}

#[cfg(test)]
mod tests {
    use super::super::table::{check, VS};
    use super::*;

    #[test]
    fn gate_table_spec_s9() {
        let r: Vec<GateRates> = VS.iter().map(|&v| KPst::rates(v)).collect();
        check("K_Pst m", &r.iter().map(|r| (r.m_inf, r.m_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 0.00442228, 11.0799), (-40.0, 0.0819106, 10.0272), (0.0, 0.714362, 3.81785)]);
        check("K_Pst h", &r.iter().map(|r| (r.h_inf, r.h_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 0.748553, 365.822), (-40.0, 0.101395, 348.314), (0.0, 0.00296419, 159.742)]);
    }
}
