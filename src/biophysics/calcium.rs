//! Calcium: CaDynamics_E2 (one shell per node, spec §4.1) and the per-node Nernst eca (§4.2).

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

/// CaDynamics_E2 over the nodes that carry it (struct of arrays).
#[derive(Debug, Clone, Default)]
pub struct CaDynamicsPop {
    pub nodes: Vec<usize>,
    pub gamma: Vec<f64>,
    pub decay_ms: Vec<f64>,
    pub depth_um: Vec<f64>,
    pub min_cai_mm: Vec<f64>,
    /// Precomputed exp(−dt/decay) for the current dt.
    decay_factor: Vec<f64>,
}

impl CaDynamicsPop {
    pub const NAME: &'static str = "CaDynamics_E2";

    pub fn push(&mut self, node: usize, gamma: f64, decay_ms: f64, depth_um: f64, min_cai_mm: f64) {
        self.nodes.push(node);
        self.gamma.push(gamma);
        self.decay_ms.push(decay_ms);
        self.depth_um.push(depth_um);
        self.min_cai_mm.push(min_cai_mm);
        self.decay_factor.push(0.0);
    }

    pub fn set_dt(&mut self, dt_ms: f64) {
        for k in 0..self.nodes.len() {
            self.decay_factor[k] = (-dt_ms / self.decay_ms[k]).exp();
        }
    }

    /// cnexp step with this step's ica held constant (spec §7.2 step 5):
    /// c∞ = minCai − 1e4·γ·ica·decay/(2·F·depth), cai ← c∞ + (cai − c∞)·exp(−dt/decay).
    #[inline]
    pub fn advance(&self, ica_ma_cm2: &[f64], cai_mm: &mut [f64]) {
        for k in 0..self.nodes.len() {
            let node = self.nodes[k];
            let c_inf = self.min_cai_mm[k] - 1e4 * self.gamma[k] * ica_ma_cm2[node] * self.decay_ms[k] / (2.0 * FARADAY * self.depth_um[k]);
            cai_mm[node] = c_inf + (cai_mm[node] - c_inf) * self.decay_factor[k];
        }
    }
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
