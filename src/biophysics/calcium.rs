//! Calcium constants and the per-node Nernst eca (spec §4.2); CaDynamics_E2 (one shell per
//! node, §4.1) is updated in the mechanism kernel (`mechanisms.rs`).

/// Faraday constant (C/mol), NEURON ≥ 8 units (spec §4.1: the golden files need these).
pub const FARADAY: f64 = 96485.33212;
/// Gas constant (J/(mol·K)), NEURON ≥ 8 units.
pub const GAS_CONSTANT: f64 = 8.314462618;
/// NEURON's default initial internal calcium `cai0_ca_ion` (mM); CaDynamics_E2 has no INITIAL
/// block, so this, not minCai, is the starting value (spec §4.1).
pub const CAI0_MM: f64 = 5e-5;
/// Fixed external calcium (mM).
pub const CAO_MM: f64 = 2.0;

/// RT/(2F) in mV at `celsius` (the Nernst prefactor for a divalent ion).
pub fn nernst_factor_mv(celsius: f64) -> f64 {
    1000.0 * GAS_CONSTANT * (celsius + 273.15) / (2.0 * FARADAY)
}

/// eca (mV) from internal calcium (mM): (RT/2F)·ln(cao/cai).
#[inline(always)]
pub fn eca_mv(factor_mv: f64, cai_mm: f64) -> f64 {
    factor_mv * (CAO_MM / cai_mm).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eca_at_6p3_matches_spec() {
        // spec §4.2: eca = 127.5895 mV after initialisation at 6.3 °C, 119.24 mV at 1e-4 mM
        let f = nernst_factor_mv(6.3);
        assert!((eca_mv(f, CAI0_MM) - 127.5895).abs() < 1e-4);
        assert!((eca_mv(f, 1e-4) - 119.24).abs() < 5e-3);
        assert!((eca_mv(nernst_factor_mv(34.0), 1e-4) - 131.06).abs() < 5e-3);
    }
}
