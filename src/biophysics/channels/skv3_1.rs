//! SKv3_1 (spec §3.4): Kv3, gate m, E = ek, no qt.

use super::{GateRates, Ion, Kinetics};

#[derive(Debug, Clone, Copy)]
pub struct SKv31;

impl Kinetics for SKv31 {
    const NAME: &'static str = "SKv3_1";
    const ION: Ion = Ion::K;
    const HAS_H: bool = false;
    #[inline(always)]
    fn rates(v_mv: f64) -> GateRates {
        let m_inf = 1.0 / (1.0 + ((v_mv - 18.7) / -9.7).exp());
        let m_tau_ms = 0.2 * 20.0 / (1.0 + ((v_mv + 46.56) / -44.14).exp());
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
        let r: Vec<GateRates> = VS.iter().map(|&v| SKv31::rates(v)).collect();
        check("SKv3_1 m", &r.iter().map(|r| (r.m_inf, r.m_tau_ms)).collect::<Vec<_>>(), &[(-76.0, 5.7545e-05, 1.3567), (-40.0, 0.00234869, 2.14835), (0.0, 0.12699, 2.9668)]);
    }
}
