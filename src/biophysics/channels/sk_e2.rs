//! SK_E2 (spec §3.4): Ca-activated K, gate z, E = ek; z∞ = 1/(1 + (0.00043/c)^4.8) with
//! c = cai (+1e-7 if cai < 1e-7 mM), τ_z = 1 ms. Updated after CaDynamics_E2 (registration
//! order, spec §7.2), so z∞ sees the cai of the same step.

/// z∞ for internal calcium `cai_mm` (mM).
#[inline(always)]
pub fn z_inf(cai_mm: f64) -> f64 {
    let c = if cai_mm < 1e-7 { cai_mm + 1e-7 } else { cai_mm };
    1.0 / (1.0 + (0.00043 / c).powf(4.8))
}

pub const TAU_Z_MS: f64 = 1.0;

/// SK_E2 over the nodes that carry it.
#[derive(Debug, Clone, Default)]
pub struct SkE2 {
    pub nodes: Vec<usize>,
    pub gbar_s_per_cm2: Vec<f64>,
    pub ek_mv: Vec<f64>,
    pub z: Vec<f64>,
}

impl SkE2 {
    pub const NAME: &'static str = "SK_E2";

    pub fn new(nodes: Vec<usize>, gbar_s_per_cm2: Vec<f64>, ek_mv: Vec<f64>) -> Self {
        let n = nodes.len();
        SkE2 { nodes, gbar_s_per_cm2, ek_mv, z: vec![0.0; n] }
    }

    pub fn init(&mut self, cai_mm: &[f64]) {
        for (k, &node) in self.nodes.iter().enumerate() {
            self.z[k] = z_inf(cai_mm[node]);
        }
    }

    #[inline]
    pub fn current(&self, v_mv: &[f64], i_ma_cm2: &mut [f64], g_s_cm2: &mut [f64]) {
        for k in 0..self.nodes.len() {
            let node = self.nodes[k];
            let g = self.gbar_s_per_cm2[k] * self.z[k];
            i_ma_cm2[node] += g * (v_mv[node] - self.ek_mv[k]);
            g_s_cm2[node] += g;
        }
    }

    /// cnexp step with the just-updated cai.
    #[inline]
    pub fn advance(&mut self, cai_mm: &[f64], dt_ms: f64) {
        let decay = (-dt_ms / TAU_Z_MS).exp();
        for k in 0..self.nodes.len() {
            let zi = z_inf(cai_mm[self.nodes[k]]);
            self.z[k] = zi + (self.z[k] - zi) * decay;
        }
    }

    pub fn first_non_finite(&self) -> Option<(usize, &'static str)> {
        self.z.iter().position(|z| !z.is_finite()).map(|k| (self.nodes[k], "z"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_activation() {
        assert!((z_inf(0.00043) - 0.5).abs() < 1e-15);
        assert!(z_inf(5e-5) < 1e-4);
        assert!((z_inf(0.0) - z_inf(1e-7)).abs() < 1e-30);
    }
}
