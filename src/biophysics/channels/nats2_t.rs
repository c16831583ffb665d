//! NaTs2_t (spec §3.4): transient Na, gates m³h, E = ena, τ divided by qt; guards at v = −32 (m)
//! and v = −60 (h).

use super::{GateRates, Ion, Kinetics};

#[derive(Debug, Clone, Copy)]
pub struct NaTs2T;

impl Kinetics for NaTs2T {
    const NAME: &'static str = "NaTs2_t";
    const ION: Ion = Ion::Na;
    const HAS_H: bool = true;
    #[inline(always)]
    fn rates(v_mv: f64) -> GateRates {
        // NaTa_t's kinetics shifted by +6 mV (spec §3.4)
        super::nata_t::transient_na_rates(v_mv, -32.0, -60.0)
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
