//! Ca_LVAst (spec §3.4): low-voltage-activated Ca, gates m²h, E = eca; formulas at u = v + 10 mV;
//! τ/qt.

use super::{GateRates, Ion, Kinetics, QT};

#[derive(Debug, Clone, Copy)]
pub struct CaLvast;

impl Kinetics for CaLvast {
    const NAME: &'static str = "Ca_LVAst";
    const ION: Ion = Ion::Ca;
    const HAS_H: bool = true;
    #[inline(always)]
    fn rates(v_mv: f64) -> GateRates {
        let u = v_mv + 10.0;
        let m_inf = 1.0 / (1.0 + (-(u + 30.0) / 6.0).exp());
        let m_tau_ms = (5.0 + 20.0 / (1.0 + ((u + 25.0) / 5.0).exp())) / QT;
        let h_inf = 1.0 / (1.0 + ((u + 80.0) / 6.4).exp());
        let h_tau_ms = (20.0 + 50.0 / (1.0 + ((u + 40.0) / 7.0).exp())) / QT;
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
        let r: Vec<GateRates> = VS.iter().map(|&v| CaLvast::rates(v)).collect();
        check("Ca_LVAst m", &r.iter().map(|r| (r.m_inf, r.m_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 0.00247262, 8.46444), (-40.0, 0.5, 6.64475), (0.0, 0.998729, 1.69943)]);
        check("Ca_LVAst h", &r.iter().map(|r| (r.h_inf, r.h_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 0.100879, 23.3028), (-40.0, 0.000404481, 10.0465), (0.0, 7.81148e-07, 6.78642)]);
    }
}
