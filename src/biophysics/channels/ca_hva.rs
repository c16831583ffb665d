//! Ca_HVA (spec §3.4): high-voltage-activated Ca, gates m²h, E = eca, no qt; guard at −27 mV.

use super::{alpha_beta, guard, GateRates, Ion, Kinetics};

#[derive(Debug, Clone, Copy)]
pub struct CaHva;

impl Kinetics for CaHva {
    const NAME: &'static str = "Ca_HVA";
    const ION: Ion = Ion::Ca;
    const HAS_H: bool = true;
    #[inline(always)]
    fn rates(v_mv: f64) -> GateRates {
        let v = guard(v_mv, -27.0);
        let am = 0.055 * (-27.0 - v) / (((-27.0 - v) / 3.8).exp() - 1.0);
        let bm = 0.94 * ((-75.0 - v) / 17.0).exp();
        let (m_inf, m_tau_ms) = alpha_beta(am, bm, 1.0);
        let ah = 0.000457 * ((-13.0 - v_mv) / 50.0).exp();
        let bh = 0.0065 / (((-v_mv - 15.0) / 28.0).exp() + 1.0);
        let (h_inf, h_tau_ms) = alpha_beta(ah, bh, 1.0);
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
        let r: Vec<GateRates> = VS.iter().map(|&v| CaHva::rates(v)).collect();
        check("Ca_HVA m", &r.iter().map(|r| (r.m_inf, r.m_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 6.78843e-06, 1.00305), (-40.0, 0.167618, 6.93954), (0.0, 0.992384, 0.667724)]);
        check("Ca_HVA h", &r.iter().map(|r| (r.h_inf, r.h_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 0.709084, 440.119), (-40.0, 0.293428, 374.168), (0.0, 0.079137, 224.584)]);
    }
}
