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
    /// g_axial/diag of each eliminated node.
    factor: Vec<f64>,
    /// Children of node p: `children[child_start[p]..child_start[p + 1]]`, highest index first.
    children: Vec<u32>,
    child_start: Vec<u32>,
    /// Every node, children before parents, by height above the leaves (the root last).
    up: Vec<u32>,
    /// Every node but the root, parents before children, by depth below the root.
    down: Vec<u32>,
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
        let mut kids: Vec<Vec<u32>> = vec![vec![]; n];
        for i in (1..n).rev() {
            kids[parent[i]].push(i as u32);
        }
        let mut child_start = vec![0u32];
        for k in &kids {
            child_start.push(child_start[child_start.len() - 1] + k.len() as u32);
        }
        // heights: leaves 0; nodes of one height are independent, so the elimination of
        // different branches overlaps instead of waiting on one division after another
        let mut height = vec![0u32; n];
        for i in (1..n).rev() {
            height[parent[i]] = height[parent[i]].max(height[i] + 1);
        }
        let mut depth = vec![0u32; n];
        for i in 1..n {
            depth[i] = depth[parent[i]] + 1;
        }
        let mut up: Vec<u32> = (0..n as u32).collect();
        up.sort_by_key(|&i| (height[i as usize], i == 0, i));
        let mut down: Vec<u32> = (1..n as u32).collect();
        down.sort_by_key(|&i| (depth[i as usize], i));
        let children = kids.into_iter().flatten().collect();
        TreeSolver { parent, g_axial_us, g_axial_sum_us, diag: vec![0.0; n], factor: vec![0.0; n], children, child_start, up, down }
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
    ///
    /// The arithmetic is exactly that of the textbook sweep "for i = n−1 down to 1: eliminate i
    /// into its parent; then for i = 1 to n−1: back-substitute" (each parent receives its
    /// children's terms in the same order, highest index first); only the order in which
    /// independent nodes are visited differs.
    #[inline]
    pub fn solve(&mut self, diag_membrane: &[f64], rhs: &mut [f64]) {
        for ((d, m), a) in self.diag.iter_mut().zip(diag_membrane).zip(&self.g_axial_sum_us) {
            *d = m + a;
        }
        // off-diagonal entries are −g_axial (symmetric)
        for &p in &self.up {
            let p = p as usize;
            let (mut d, mut r) = (self.diag[p], rhs[p]);
            for &c in &self.children[self.child_start[p] as usize..self.child_start[p + 1] as usize] {
                let c = c as usize;
                d -= self.factor[c] * self.g_axial_us[c];
                r += self.factor[c] * rhs[c];
            }
            self.diag[p] = d;
            rhs[p] = r;
            self.factor[p] = self.g_axial_us[p] / d;
        }
        rhs[0] /= self.diag[0];
        for &i in &self.down {
            let i = i as usize;
            rhs[i] = (rhs[i] + self.g_axial_us[i] * rhs[self.parent[i]]) / self.diag[i];
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
