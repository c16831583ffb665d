//! Ih (spec §3.4): HCN, gate m, non-specific current with e_h = −45 mV, no qt; vhalf −154.9 mV,
//! vshift 0 (dataset value); guard at v = vhalf.

use super::{alpha_beta, guard, GateRates, Ion, Kinetics};

#[derive(Debug, Clone, Copy)]
pub struct Ih;

const VHALF_MV: f64 = -154.9;
const VSHIFT_MV: f64 = 0.0;

impl Kinetics for Ih {
    const NAME: &'static str = "Ih";
    const ION: Ion = Ion::H;
    const HAS_H: bool = false;
    #[inline(always)]
    fn rates(v_mv: f64) -> GateRates {
        let v = guard(v_mv, VHALF_MV + VSHIFT_MV);
        let d = v - (VHALF_MV + VSHIFT_MV);
        let alpha = 0.001 * 6.43 * d / ((d / 11.9).exp() - 1.0);
        let beta = 0.001 * 193.0 * ((v - VSHIFT_MV) / 33.1).exp();
        let (m_inf, m_tau_ms) = alpha_beta(alpha, beta, 1.0);
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
        let r: Vec<GateRates> = VS.iter().map(|&v| Ih::rates(v)).collect();
        check("Ih m", &r.iter().map(|r| (r.m_inf, r.m_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 0.0333624, 49.7597), (-40.0, 0.00082065, 17.3346), (0.0, 1.14703e-05, 5.18129)]);
    }

    #[test]
    fn guard_is_continuous() {
        let a = Ih::rates(-154.9).m_inf;
        let b = Ih::rates(-154.9 + 1e-4).m_inf;
        assert_eq!(a, b);
    }
}
