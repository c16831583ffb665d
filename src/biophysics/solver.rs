//! Hines elimination of the tree-structured linear system of one backward-Euler step
//! (spec §7.2 step 3), written per node in current units (nA, µS):
//!
//!   (C_i/dt + G_i)·V'_i + Σ_k g_ik·(V'_i − V'_k) = (C_i/dt + G_i)·V_i − I_i
//!
//! for the new voltages V' (the linearised step C/dt·(V' − V) + I + G·(V' − V) = axial currents
//! at V'; the same system as NEURON's for ΔV = V' − V, solved for V' so that no axial currents at
//! the old V need computing: V' comes out with a relative rounding of ~1e-16, 1e-14 mV),
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
    /// [g/d, rhs/d] of each eliminated node (d and rhs after its children's elimination, g its
    /// axial conductance to its parent): the back-substitution's new V = rhs/d + (g/d)·V_parent.
    eliminated: Vec<[f64; 2]>,
    /// Every node but the root with its parent and axial conductance: children before parents
    /// (elimination) and parents before children (back-substitution), each in the order of
    /// [`schedule`].
    up_edges: Vec<Edge>,
    down_edges: Vec<Edge>,
    /// Algebraic leaves: new V = the parent's new V (see [`TreeSolver::with_algebraic`]).
    copy_edges: Vec<Edge>,
}

/// Σ x in 16 independent partial sums (SIMD-friendly; the result is only tested for finiteness).
#[inline]
fn finite_sum(x: &[f64]) -> f64 {
    let mut acc = [0.0; 16];
    let mut chunks = x.chunks_exact(16);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    acc.iter().sum::<f64>() + chunks.remainder().iter().sum::<f64>()
}

/// Modelled latency of one elimination (one back-substitution) before a node that depends on
/// it can use its result, in nodes issued meanwhile (tuned on the Hay cell: solver 2.08 µs per
/// step in height/depth order, 1.85 with 6 and 4, 1.72 with 8 and 6, 1.88 with 16 and 10).
const UP_LATENCY_SLOTS: u64 = 8;
const DOWN_LATENCY_SLOTS: u64 = 6;

/// A topological order of `nodes`: a node goes once `waits_for(i)` of its predecessors are done
/// and `latency` slots have passed since the last of them; among those free to go, the largest
/// `priority` first (ties: smaller index); `then(i)` lists the nodes waiting on `i`. List
/// scheduling, so the sweep has independent work between dependent nodes.
fn schedule(nodes: &[u32], waits_for: impl Fn(u32) -> usize, priority: impl Fn(u32) -> u32, then: impl Fn(u32) -> Vec<u32>, latency: u64) -> Vec<u32> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let n = nodes.iter().map(|&i| i as usize + 1).max().unwrap_or(0);
    let mut waiting = vec![0usize; n];
    let mut ready_at = vec![0u64; n];
    // (ready slot, node) not yet ready, and (priority, node) ready
    let mut pending: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
    let mut ready: BinaryHeap<(u32, Reverse<u32>)> = BinaryHeap::new();
    for &i in nodes {
        waiting[i as usize] = waits_for(i);
        if waiting[i as usize] == 0 {
            ready.push((priority(i), Reverse(i)));
        }
    }
    let mut order = Vec::with_capacity(nodes.len());
    let mut slot = 0u64;
    while order.len() < nodes.len() {
        while let Some(&Reverse((t, i))) = pending.peek() {
            if t > slot {
                break;
            }
            pending.pop();
            ready.push((priority(i), Reverse(i)));
        }
        let Some((_, Reverse(i))) = ready.pop() else {
            match pending.peek() {
                // nothing free yet: wait for the next node to become ready
                Some(&Reverse((t, _))) => {
                    slot = t;
                    continue;
                }
                None => break,
            }
        };
        order.push(i);
        for k in then(i) {
            let k = k as usize;
            ready_at[k] = ready_at[k].max(slot + latency);
            waiting[k] -= 1;
            if waiting[k] == 0 {
                pending.push(Reverse((ready_at[k], k as u32)));
            }
        }
        slot += 1;
    }
    order
}

/// A node, its parent (both < the node count) and the conductance between them (µS).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct Edge {
    /// The node in the low 32 bits, its parent in the high 32.
    nodes: u64,
    g_us: f64,
}

impl Edge {
    fn new(node: u32, parent: u32, g_us: f64) -> Edge {
        Edge { nodes: u64::from(node) | (u64::from(parent) << 32), g_us }
    }

    /// (node, parent), from one 8-byte load (volatile: left to itself the compiler may split it
    /// into two 4-byte loads, one more load per node in the sweeps).
    #[inline(always)]
    fn nodes(&self) -> (usize, usize) {
        // SAFETY: a read of an initialised field through a reference
        let x = unsafe { std::ptr::read_volatile(&self.nodes) };
        ((x & 0xFFFF_FFFF) as usize, (x >> 32) as usize)
    }
}

/// One node's row of the linear system: [diagonal (µS), right-hand side (nA)], side by side so
/// that the elimination reads and updates a row with one 16-byte access.
pub type SystemRow = [f64; 2];

impl TreeSolver {
    /// `parent[i] < i` for every non-root node; node 0 is the root (otherwise `step` returns NaN).
    pub fn new(parent: Vec<usize>, g_axial_us: Vec<f64>) -> Self {
        let n = parent.len();
        Self::with_algebraic(parent, g_axial_us, &vec![false; n])
    }

    /// As [`TreeSolver::new`], where `algebraic[i]` marks nodes without membrane (no capacitance,
    /// current or conductance: the zero-area ends of sections). Such a node that is also a leaf
    /// satisfies g·(V'_i − V'_p) = 0, so its new voltage is exactly its parent's: it is left out
    /// of the sweeps (and of its parent's axial sum) and copied afterwards.
    pub fn with_algebraic(parent: Vec<usize>, g_axial_us: Vec<f64>, algebraic: &[bool]) -> Self {
        let n = parent.len();
        if g_axial_us.len() != n || (1..n).any(|i| parent[i] >= i) {
            // not a tree in parent-before-child order: a solver whose `step` returns NaN (the
            // sweeps below index without checks and rely on this order)
            return TreeSolver { parent, g_axial_us, g_axial_sum_us: vec![0.0; n], eliminated: vec![], up_edges: vec![], down_edges: vec![], copy_edges: vec![] };
        }
        let mut has_child = vec![false; n];
        for &p in parent.iter().skip(1) {
            if p < n {
                has_child[p] = true;
            }
        }
        let copied: Vec<bool> = (0..n).map(|i| i > 0 && !has_child[i] && algebraic.get(i).copied().unwrap_or(false)).collect();
        let mut g_axial_sum_us = vec![0.0; n];
        for i in (1..n).filter(|&i| !copied[i]) {
            g_axial_sum_us[i] += g_axial_us[i];
            g_axial_sum_us[parent[i]] += g_axial_us[i];
        }
        // heights (longest path down to a leaf) and depths (path up to the root): the priorities
        // of the two sweeps
        let mut height = vec![0u32; n];
        for i in (1..n).rev() {
            height[parent[i]] = height[parent[i]].max(height[i] + 1);
        }
        let mut depth = vec![0u32; n];
        for i in 1..n {
            depth[i] = depth[parent[i]] + 1;
        }
        // sweep orders: a node is eliminated after its children and back-substituted after its
        // parent; among the nodes free to go, the one with the longest chain still ahead of it
        // first, with a modelled latency before its dependents may follow, so that the long
        // unbranched chains (the apical trunk) are interleaved with independent work instead of
        // running alone at the end
        let kept: Vec<u32> = (0..n as u32).filter(|&i| !copied[i as usize]).collect();
        let mut children: Vec<Vec<u32>> = vec![vec![]; n];
        for &i in kept.iter().filter(|&&i| i != 0) {
            children[parent[i as usize]].push(i);
        }
        let up = schedule(&kept, |i| children[i as usize].len(), |i| depth[i as usize], |i| if i == 0 { vec![] } else { vec![parent[i as usize] as u32] }, UP_LATENCY_SLOTS);
        let down = schedule(&kept, |i| usize::from(i != 0), |i| height[i as usize], |i| children[i as usize].clone(), DOWN_LATENCY_SLOTS);
        let edge = |&i: &u32| Edge::new(i, parent[i as usize] as u32, g_axial_us[i as usize]);
        let up_edges = up.iter().filter(|&&i| i != 0).map(edge).collect();
        let down_edges = down.iter().filter(|&&i| i != 0).map(edge).collect();
        let copy_edges = (0..n as u32).filter(|&i| copied[i as usize]).map(|i| edge(&i)).collect();
        TreeSolver { parent, g_axial_us, g_axial_sum_us, eliminated: vec![[0.0; 2]; n], up_edges, down_edges, copy_edges }
    }

    /// One backward-Euler voltage step: eliminate, back-substitute and write the new V into
    /// `v_mv`. Returns Σ V (finite unless some V is not; for the caller's check).
    ///
    /// On entry `system` holds each node's [diagonal, right-hand side]: the membrane part of the
    /// diagonal plus the axial sum (C/dt + G + Σ_k g_ik, µS, see
    /// [`TreeSolver::g_axial_sum_us`]) and (C/dt + G)·V − I (nA); it is used as scratch. One
    /// sweep leaves→root (in the order of `schedule`, which interleaves independent branches)
    /// eliminates each node into its parent; one sweep root→leaves back-substitutes.
    #[inline]
    pub fn step(&mut self, v_mv: &mut [f64], system: &mut [SystemRow]) -> f64 {
        let n = self.parent.len();
        if n == 0 || v_mv.len() < n || system.len() < n || self.eliminated.len() < n {
            return f64::NAN;
        }
        // SAFETY (every unchecked access below): `with_algebraic` builds the edges from the edges
        // of `parent`, whose entries are < n (`parent[i] < i` for i ≥ 1, checked there), and
        // every slice is at least n long (checked above).
        eliminate(&self.up_edges, system, &mut self.eliminated);
        v_mv[0] = system[0][1] / system[0][0];
        let out = &self.eliminated;
        for e in &self.down_edges {
            let (c, p) = e.nodes();
            unsafe {
                let [f, r] = *out.get_unchecked(c);
                *v_mv.get_unchecked_mut(c) = r + f * *v_mv.get_unchecked(p);
            }
        }
        for e in &self.copy_edges {
            let (c, p) = e.nodes();
            unsafe {
                *v_mv.get_unchecked_mut(c) = *v_mv.get_unchecked(p);
            }
        }
        finite_sum(&v_mv[..n])
    }
}

/// The elimination sweep: for each edge (child c, parent p, g) in order, with c's row [d, r]
/// final, p's row gets [−g·(g/d), +(g/d)·r] and c's [g/d, r/d] goes to `out`. With SSE2 (every
/// x86-64 CPU) each row is read and written as one 16-byte vector: 4 loads and 2 stores per
/// node, instead of 7 and 3 with separate arrays (the solve measured 6 % faster), and g/d and
/// r/d come from one two-lane division (instead of 1/d and two products: 4 % faster again).
#[inline(always)]
fn eliminate(edges: &[Edge], system: &mut [SystemRow], out: &mut [[f64; 2]]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        let rows = system.as_mut_ptr() as *mut f64;
        let out = out.as_mut_ptr() as *mut f64;
        // SAFETY: SSE2 is part of x86-64; indices as in `TreeSolver::step` (< n ≤ both lengths),
        // and each row is two f64 (unaligned forms)
        unsafe {
            let sign = _mm_set_sd(-0.0);
            for e in edges {
                let (c, p) = e.nodes();
                let g = _mm_load_sd(&e.g_us);
                let dr_c = _mm_loadu_pd(rows.add(2 * c));
                // [g, r] / [d, d] = [g/d, r/d]: both quotients from one division
                let q = _mm_div_pd(_mm_move_sd(dr_c, g), _mm_unpacklo_pd(dr_c, dr_c));
                _mm_storeu_pd(out.add(2 * c), q);
                // [−g, r] · [g/d, g/d] added to p's row
                let x = _mm_move_sd(dr_c, _mm_xor_pd(g, sign));
                let dr_p = _mm_loadu_pd(rows.add(2 * p));
                _mm_storeu_pd(rows.add(2 * p), _mm_add_pd(dr_p, _mm_mul_pd(_mm_unpacklo_pd(q, q), x)));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    for e in edges {
        let (c, p) = e.nodes();
        // SAFETY: as in `TreeSolver::step`
        unsafe {
            let [d, r] = *system.get_unchecked(c);
            let f = e.g_us / d;
            let row = system.get_unchecked_mut(p);
            row[0] += f * -e.g_us;
            row[1] += f * r;
            *out.get_unchecked_mut(c) = [f, r / d];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `TreeSolver::step` on separate right-hand side and diagonal vectors.
    fn solve(s: &mut TreeSolver, v: &mut [f64], rhs: &[f64], diag: &[f64]) -> f64 {
        let mut system: Vec<SystemRow> = diag.iter().zip(rhs).map(|(d, r)| [*d, *r]).collect();
        s.step(v, &mut system)
    }

    #[test]
    fn solves_small_tree_exactly() {
        // root 0 with children 1 and 2; node 3 child of 1
        let parent = vec![usize::MAX, 0, 0, 1];
        let g = vec![0.0, 2.0, 3.0, 0.5];
        let mut s = TreeSolver::new(parent.clone(), g.clone());
        let dm = vec![1.0, 0.5, 0.0, 2.0];
        // dense matrix
        let a = [[1.0 + 5.0, -2.0, -3.0, 0.0], [-2.0, 0.5 + 2.5, 0.0, -0.5], [-3.0, 0.0, 3.0, 0.0], [0.0, -0.5, 0.0, 2.5]];
        let x = [1.0, -2.0, 0.5, 3.0];
        // the step solves for the new voltages: A·x = b, whatever v held before
        let mut v = [-70.0, -65.0, -60.0, -72.0];
        let b: Vec<f64> = a.iter().map(|row| row.iter().zip(&x).map(|(r, xi)| r * xi).sum()).collect();
        let rhs_in = b.clone();
        let diag: Vec<f64> = dm.iter().zip(&s.g_axial_sum_us).map(|(m, g)| m + g).collect();
        let sum = solve(&mut s, &mut v, &rhs_in, &diag);
        for i in 0..4 {
            assert!((v[i] - x[i]).abs() < 1e-12, "{i}: V {} vs {}", v[i], x[i]);
        }
        assert!((sum - v.iter().sum::<f64>()).abs() < 1e-9);
    }

    #[test]
    fn a_large_random_tree_matches_dense_elimination() {
        // 300 nodes, each attached to a random earlier node (long chains and wide fans), with
        // zero-area leaves; the solution against Gaussian elimination of the dense matrix
        let n = 300;
        let mut seed = 12345u64;
        let mut rand = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut parent = vec![usize::MAX; n];
        for i in 1..n {
            // mostly the previous node (chains), sometimes any earlier one (branches)
            parent[i] = if rand() < 0.7 { i - 1 } else { (rand() * i as f64) as usize };
        }
        let g: Vec<f64> = (0..n).map(|i| if i == 0 { 0.0 } else { 0.5 + rand() }).collect();
        let has_child: Vec<bool> = (0..n).map(|i| parent.contains(&i)).collect();
        let algebraic: Vec<bool> = (0..n).map(|i| i > 0 && !has_child[i] && rand() < 0.5).collect();
        let dm: Vec<f64> = (0..n).map(|i| if algebraic[i] { 0.0 } else { 0.1 + rand() }).collect();
        let b: Vec<f64> = (0..n).map(|i| if algebraic[i] { 0.0 } else { rand() - 0.5 }).collect();
        let mut s = TreeSolver::with_algebraic(parent.clone(), g.clone(), &algebraic);
        let mut v = vec![-65.0; n];
        let rhs = b.clone();
        let diag: Vec<f64> = dm.iter().zip(&s.g_axial_sum_us).map(|(m, gs)| m + gs).collect();
        assert!(solve(&mut s, &mut v, &rhs, &diag).is_finite());
        // dense system over all nodes
        let mut a = vec![vec![0.0; n + 1]; n];
        for i in 0..n {
            a[i][i] += dm[i];
            a[i][n] = b[i];
        }
        for i in 1..n {
            let p = parent[i];
            a[i][i] += g[i];
            a[p][p] += g[i];
            a[i][p] -= g[i];
            a[p][i] -= g[i];
        }
        for col in 0..n {
            let piv = (col..n).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs())).expect("rows");
            a.swap(col, piv);
            for row in 0..n {
                if row != col {
                    let f = a[row][col] / a[col][col];
                    if f != 0.0 {
                        for k in col..=n {
                            a[row][k] -= f * a[col][k];
                        }
                    }
                }
            }
        }
        for i in 0..n {
            let x = a[i][n] / a[i][i];
            assert!((v[i] - x).abs() < 1e-9 * (1.0 + x.abs()), "node {i}: {} vs {x}", v[i]);
        }
    }

    #[test]
    fn algebraic_leaves_follow_their_parent_and_bad_trees_give_nan() {
        // 0 - 1 - 2, with 3 a zero-area leaf on 1: the full system and the reduced one agree
        let parent = vec![usize::MAX, 0, 1, 1];
        let g = vec![0.0, 2.0, 1.5, 4.0];
        let dm = [1.0, 0.7, 0.4, 0.0];
        let run = |s: &mut TreeSolver| {
            let mut v = [-70.0, -64.0, -61.0, -66.0];
            let rhs = vec![0.3, -0.2, 0.1, 0.0];
            let diag: Vec<f64> = dm.iter().zip(&s.g_axial_sum_us).map(|(m, g)| m + g).collect();
            assert!(solve(s, &mut v, &rhs, &diag).is_finite());
            v
        };
        let full = run(&mut TreeSolver::new(parent.clone(), g.clone()));
        let reduced = run(&mut TreeSolver::with_algebraic(parent.clone(), g.clone(), &[false, false, false, true]));
        for i in 0..4 {
            assert!((full[i] - reduced[i]).abs() < 1e-12, "{i}: {} vs {}", full[i], reduced[i]);
        }
        assert_eq!(reduced[3], reduced[1]);
        let mut bad = TreeSolver::new(vec![usize::MAX, 2, 0], vec![0.0, 1.0, 1.0]);
        let (mut v, r, d) = (vec![0.0; 3], vec![0.0; 3], vec![1.0; 3]);
        assert!(solve(&mut bad, &mut v, &r, &d).is_nan());
    }
}
