//! pas (spec §2): i = g_pas·(v − e_pas) on every membrane node.

/// The passive leak over the nodes with membrane (struct of arrays).
#[derive(Debug, Clone, Default)]
pub struct Passive {
    pub nodes: Vec<usize>,
    pub g_s_per_cm2: Vec<f64>,
    pub e_mv: Vec<f64>,
}

impl Passive {
    /// Add the leak current density (mA/cm²) and conductance (S/cm²) to the per-node sums.
    #[inline]
    pub fn current(&self, v_mv: &[f64], i_ma_cm2: &mut [f64], g_s_cm2: &mut [f64]) {
        for k in 0..self.nodes.len() {
            let node = self.nodes[k];
            let g = self.g_s_per_cm2[k];
            i_ma_cm2[node] += g * (v_mv[node] - self.e_mv[k]);
            g_s_cm2[node] += g;
        }
    }
}
