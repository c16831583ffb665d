//! Hines elimination of the tree-structured linear system of one backward-Euler step
//! (spec §7.2 step 3), written per node in current units (nA, µS):
//!
//!   (C_i/dt + G_i)·ΔV_i + Σ_k g_ik·(ΔV_i − ΔV_k) = −I_i + Σ_k g_ik·(V_k − V_i)
//!
//! with C_i = 1e-5·cm·A (nF-like: µF/cm² · µm² · 1e-8 cm²/µm² · 1e3 for mV/ms→ mA), G_i and I_i the
//! membrane conductance/current density × A·1e-2, and g_ik = 1/ri (µS). This is the spec §1.5
//! equation multiplied by A_i/100, which keeps zero-area nodes algebraic (C = G = I = 0).
//! Nodes are parent-before-child, so elimination is one sweep leaves→root and one root→leaves.

/// Fixed tree structure and axial conductances.
#[derive(Debug, Clone)]
pub struct TreeSolver {
    /// Parent of each node (`usize::MAX` for the root, which must be node 0).
    pub parent: Vec<usize>,
    /// 1/ri to the parent (µS); 0 for the root.
    pub g_axial_us: Vec<f64>,
    /// Σ of axial conductances at each node (µS), the constant part of the diagonal.
    pub g_axial_sum_us: Vec<f64>,
    diag: Vec<f64>,
}

impl TreeSolver {
    /// `parent[i] < i` for every non-root node; node 0 is the root.
    pub fn new(parent: Vec<usize>, g_axial_us: Vec<f64>) -> Self {
        let n = parent.len();
        let mut g_axial_sum_us = vec![0.0; n];
        for i in 1..n {
            g_axial_sum_us[i] += g_axial_us[i];
            g_axial_sum_us[parent[i]] += g_axial_us[i];
        }
        TreeSolver { parent, g_axial_us, g_axial_sum_us, diag: vec![0.0; n] }
    }

    /// Add the axial currents Σ_k g_ik (V_k − V_i) (nA) to `rhs`.
    #[inline]
    pub fn add_axial_current(&self, v_mv: &[f64], rhs: &mut [f64]) {
        for i in 1..self.parent.len() {
            let p = self.parent[i];
            let i_axial = self.g_axial_us[i] * (v_mv[p] - v_mv[i]);
            rhs[i] += i_axial;
            rhs[p] -= i_axial;
        }
    }

    /// Solve (diag_membrane + axial Laplacian)·ΔV = rhs in place: on return `rhs` holds ΔV (mV).
    /// `diag_membrane` holds C/dt + G (µS) per node.
    #[inline]
    pub fn solve(&mut self, diag_membrane: &[f64], rhs: &mut [f64]) {
        let n = self.parent.len();
        for ((d, m), a) in self.diag.iter_mut().zip(diag_membrane).zip(&self.g_axial_sum_us) {
            *d = m + a;
        }
        // off-diagonal entries are −g_axial (symmetric)
        for i in (1..n).rev() {
            let p = self.parent[i];
            let factor = self.g_axial_us[i] / self.diag[i];
            self.diag[p] -= factor * self.g_axial_us[i];
            rhs[p] += factor * rhs[i];
        }
        rhs[0] /= self.diag[0];
        for i in 1..n {
            let p = self.parent[i];
            rhs[i] = (rhs[i] + self.g_axial_us[i] * rhs[p]) / self.diag[i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_small_tree_exactly() {
        // root 0 with children 1 and 2; node 3 child of 1
        let parent = vec![usize::MAX, 0, 0, 1];
        let g = vec![0.0, 2.0, 3.0, 0.5];
        let mut s = TreeSolver::new(parent, g);
        let dm = vec![1.0, 0.5, 0.0, 2.0];
        // dense matrix
        let a = [[1.0 + 5.0, -2.0, -3.0, 0.0], [-2.0, 0.5 + 2.5, 0.0, -0.5], [-3.0, 0.0, 3.0, 0.0], [0.0, -0.5, 0.0, 2.5]];
        let x = [1.0, -2.0, 0.5, 3.0];
        let mut b: Vec<f64> = a.iter().map(|row| row.iter().zip(&x).map(|(r, xi)| r * xi).sum()).collect();
        s.solve(&dm, &mut b);
        for i in 0..4 {
            assert!((b[i] - x[i]).abs() < 1e-12, "{i}: {} vs {}", b[i], x[i]);
        }
    }
}
