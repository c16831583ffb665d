//! Im (spec §3.4): M current, gate m, E = ek, τ/qt.

use super::{alpha_beta, GateRates, Ion, Kinetics, QT};

#[derive(Debug, Clone, Copy)]
pub struct Im;

impl Kinetics for Im {
    const NAME: &'static str = "Im";
    const ION: Ion = Ion::K;
    const HAS_H: bool = false;
    #[inline(always)]
    fn rates(v_mv: f64) -> GateRates {
        let e = (2.5 * 0.04 * (v_mv + 35.0)).exp();
        let (alpha, beta) = (3.3e-3 * e, 3.3e-3 / e);
        let (m_inf, m_tau_ms) = alpha_beta(alpha, beta, QT);
        GateRates { m_inf, m_tau_ms, h_inf: 1.0, h_tau_ms: 1.0 }
    }
    #[inline(always)]
    fn open(m: f64, _h: f64) -> f64 {
        m
    }
}

#[cfg(test)]
mod tests {
    use super::super::table::{check, VS};
    use super::*;

    #[test]
    fn gate_table_spec_s9() {
        let r: Vec<GateRates> = VS.iter().map(|&v| Im::rates(v)).collect();
        check("Im m", &r.iter().map(|r| (r.m_inf, r.m_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 0.000274578, 1.70025), (-40.0, 0.268941, 45.5035), (0.0, 0.999089, 3.09609)]);
    }
}
