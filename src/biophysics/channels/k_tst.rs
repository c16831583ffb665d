//! K_Tst (spec §3.4): transient K, gates m⁴h, E = ek; formulas at u = v + 10 mV; τ/qt.

use super::{GateRates, Ion, Kinetics, QT};

#[derive(Debug, Clone, Copy)]
pub struct KTst;

impl Kinetics for KTst {
    const NAME: &'static str = "K_Tst";
    const ION: Ion = Ion::K;
    const HAS_H: bool = true;
    #[inline(always)]
    fn rates(v_mv: f64) -> GateRates {
        let u = v_mv + 10.0;
        let m_inf = 1.0 / (1.0 + (-u / 19.0).exp());
        let a = (u + 71.0) / 59.0;
        let m_tau_ms = (0.34 + 0.92 * (-a * a).exp()) / QT;
        let h_inf = 1.0 / (1.0 + ((u + 66.0) / 10.0).exp());
        let b = (u + 73.0) / 23.0;
        let h_tau_ms = (8.0 + 49.0 * (-b * b).exp()) / QT;
        GateRates { m_inf, m_tau_ms, h_inf, h_tau_ms }
    }
    #[inline(always)]
    fn open(m: f64, h: f64) -> f64 {
        let m2 = m * m;
        m2 * m2 * h
    }
}

#[cfg(test)]
mod tests {
    use super::super::table::{check, VS};
    use super::*;

    #[test]
    fn gate_table_spec_s9() {
        let r: Vec<GateRates> = VS.iter().map(|&v| KTst::rates(v)).collect();
        check("K_Tst m", &r.iter().map(|r| (r.m_inf, r.m_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 0.0300703, 0.424472), (-40.0, 0.170945, 0.30737), (0.0, 0.628623, 0.162455)]);
        check("K_Tst h", &r.iter().map(|r| (r.h_inf, r.h_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 0.5, 17.8352), (-40.0, 0.026597, 3.21268), (0.0, 0.000500201, 2.70925)]);
    }
}
