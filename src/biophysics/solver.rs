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
//! Nodes are given parent-before-child (node 0 the root). The sweeps run on the same tree
//! re-rooted at its centre, the middle of its longest path (for the Hay cell: from 82 to 50
//! dependent eliminations between the apical tuft and the root), as one sweep leaves→centre and
//! one centre→leaves, each in a list-scheduled order that interleaves independent branches.
//! Where the CPU allows, both sweeps take two independent nodes per iteration (one 256-bit
//! division for two eliminations; one product and sum for two back-substitutions): together the
//! tree solve measured 1.47 → 1.42 µs per step on the Hay cell (alternating runs), and the full
//! 6 s case 0.3–1.7 % faster.
//!
//! Why one file (~490 lines before its tests): the schedule, the pairing rule and the two sweeps
//! share the node order and the pair layout that the unsafe back-substitution relies on; split
//! apart, the invariants between them would be stated in three places.

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
    /// The node the sweeps treat as the root: the centre of the tree (see
    /// [`TreeSolver::with_algebraic`]), solved last in the elimination and first in the
    /// back-substitution.
    root: usize,
    /// Every node but `root` with its parent in the re-rooted tree and the axial conductance
    /// between them: children before parents
    /// (elimination) and parents before children (back-substitution), each in the order of
    /// [`schedule`].
    up_edges: Vec<Edge>,
    down_edges: Vec<Edge>,
    /// `up_edges` two at a time for [`eliminate_pairs`] (the elimination's divisions two nodes
    /// to one instruction), where the CPU has AVX; empty otherwise.
    up_pairs: Vec<EdgePair>,
    /// `down_edges` two at a time (x86-64): consecutive edges, unless the second is a child of
    /// the first (then the first is paired with itself: both halves write the same value).
    down_pairs: Vec<[u64; 2]>,
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
    /// The byte offsets of the node's and its parent's voltage (8·index), the node's in the low
    /// 32 bits, the parent's in the high 32 (rows of two f64 are at twice these offsets): the
    /// sweeps address without shifting indices.
    offsets: u64,
    g_us: f64,
}

/// Node counts whose byte offsets (8·index) fit the 32 bits of an [`Edge`] half.
const MAX_NODES: usize = 1 << 29;

impl Edge {
    /// `node` and `parent` < [`MAX_NODES`].
    fn new(node: u32, parent: u32, g_us: f64) -> Edge {
        Edge { offsets: u64::from(node) * 8 | (u64::from(parent) * 8) << 32, g_us }
    }

    /// The byte offsets (node, parent) of the nodes' f64 values, from one 8-byte load (volatile:
    /// left to itself the compiler may split it into two 4-byte loads, one more load per node in
    /// the sweeps).
    #[inline(always)]
    fn offsets(&self) -> (usize, usize) {
        // SAFETY: a read of an initialised field through a reference
        let x = unsafe { std::ptr::read_volatile(&self.offsets) };
        ((x & 0xFFFF_FFFF) as usize, (x >> 32) as usize)
    }
}

/// Two nodes eliminated together (see [`eliminate_pairs`]): the offsets of two [`Edge`]s and
/// their conductances (µS). The second node's row must not depend on the first's elimination
/// (it is not the first node's parent). A lone node is paired with itself with conductance 0 for
/// the second: that half changes nothing and is written first.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct EdgePair {
    offsets: [u64; 2],
    g_us: [f64; 2],
}

/// Consecutive edges two at a time, unless `waits(a, b)` for their nodes a and b (b's work
/// depends on a's): then the first goes alone (`None` second).
fn two_at_a_time(edges: &[Edge], waits: impl Fn(usize, usize) -> bool) -> Vec<(Edge, Option<Edge>)> {
    let node = |e: &Edge| (e.offsets & 0xFFFF_FFFF) as usize / 8;
    let mut pairs = Vec::with_capacity(edges.len() / 2 + 1);
    let mut i = 0;
    while i < edges.len() {
        match edges.get(i + 1) {
            Some(&b) if !waits(node(&edges[i]), node(&b)) => {
                pairs.push((edges[i], Some(b)));
                i += 2;
            }
            _ => {
                pairs.push((edges[i], None));
                i += 1;
            }
        }
    }
    pairs
}

/// The elimination order two at a time: a node waits for its children, so a pair's second node
/// may not be the first's parent. A lone node is paired with itself with conductance 0.
fn pair_up(edges: &[Edge], parent: &[usize]) -> Vec<EdgePair> {
    two_at_a_time(edges, |a, b| parent[a] == b)
        .into_iter()
        .map(|(a, b)| match b {
            Some(b) => EdgePair { offsets: [a.offsets, b.offsets], g_us: [a.g_us, b.g_us] },
            None => EdgePair { offsets: [a.offsets, a.offsets], g_us: [a.g_us, 0.0] },
        })
        .collect()
}

/// The back-substitution order two at a time (see [`TreeSolver::down_pairs`]): a node waits
/// for its parent, so a pair's second node may not be the first's child.
fn pair_down(edges: &[Edge], parent: &[usize]) -> Vec<[u64; 2]> {
    two_at_a_time(edges, |a, b| parent[b] == a).into_iter().map(|(a, b)| [a.offsets, b.unwrap_or(a).offsets]).collect()
}

/// Whether this CPU has AVX (256-bit double vectors), for [`eliminate_pairs`].
fn cpu_has_avx() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
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
        if n == 0 || g_axial_us.len() != n || n > MAX_NODES || (1..n).any(|i| parent[i] >= i) {
            // no nodes, or not a tree in parent-before-child order: a solver whose `step` returns
            // NaN (the sweeps below index without checks and rely on this order)
            return TreeSolver { parent, g_axial_us, g_axial_sum_us: vec![0.0; n], eliminated: vec![], root: 0, up_edges: vec![], down_edges: vec![], up_pairs: vec![], down_pairs: vec![], copy_edges: vec![] };
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
        let kept: Vec<u32> = (0..n as u32).filter(|&i| !copied[i as usize]).collect();
        // the sweeps run on the tree re-rooted at its centre (the middle of its longest path),
        // which halves the longest chain of dependent eliminations (soma to apical tuft)
        let mut adjacent: Vec<Vec<(u32, f64)>> = vec![vec![]; n];
        for &i in kept.iter().filter(|&&i| i != 0) {
            let p = parent[i as usize];
            adjacent[i as usize].push((p as u32, g_axial_us[i as usize]));
            adjacent[p].push((i, g_axial_us[i as usize]));
        }
        let far = |from: u32| {
            // (breadth-first order, predecessor and conductance to it) from `from`
            let mut pred = vec![(u32::MAX, 0.0); n];
            let mut order = vec![from];
            let mut seen = vec![false; n];
            seen[from as usize] = true;
            let mut k = 0;
            while k < order.len() {
                let i = order[k] as usize;
                for &(j, g) in &adjacent[i] {
                    if !seen[j as usize] {
                        seen[j as usize] = true;
                        pred[j as usize] = (i as u32, g);
                        order.push(j);
                    }
                }
                k += 1;
            }
            (order, pred)
        };
        let (order0, _) = far(0);
        let end_a = order0.last().copied().unwrap_or(0);
        let (order_a, pred_a) = far(end_a);
        let mut path = vec![order_a.last().copied().unwrap_or(end_a)];
        while let Some(&last) = path.last() {
            match pred_a[last as usize].0 {
                u32::MAX => break,
                p => path.push(p),
            }
        }
        let root = path[path.len() / 2];
        let (order, pred) = far(root);
        let up_parent: Vec<usize> = pred.iter().map(|&(p, _)| if p == u32::MAX { usize::MAX } else { p as usize }).collect();
        // heights (longest path down to a leaf) and depths (path up to the root) in the re-rooted
        // tree: the priorities of the two sweeps
        let mut height = vec![0u32; n];
        for &i in order.iter().rev().filter(|&&i| i != root) {
            let p = up_parent[i as usize];
            height[p] = height[p].max(height[i as usize] + 1);
        }
        let mut depth = vec![0u32; n];
        for &i in order.iter().filter(|&&i| i != root) {
            depth[i as usize] = depth[up_parent[i as usize]] + 1;
        }
        // sweep orders: a node is eliminated after its children and back-substituted after its
        // parent; among the nodes free to go, the one with the longest chain still ahead of it
        // first, with a modelled latency before its dependents may follow, so that the long
        // unbranched chains (the apical trunk) are interleaved with independent work instead of
        // running alone at the end
        let mut children: Vec<Vec<u32>> = vec![vec![]; n];
        for &i in order.iter().filter(|&&i| i != root) {
            children[up_parent[i as usize]].push(i);
        }
        let up = schedule(&order, |i| children[i as usize].len(), |i| depth[i as usize], |i| if i == root { vec![] } else { vec![up_parent[i as usize] as u32] }, UP_LATENCY_SLOTS);
        let down = schedule(&order, |i| usize::from(i != root), |i| height[i as usize], |i| children[i as usize].clone(), DOWN_LATENCY_SLOTS);
        let edge = |&i: &u32| Edge::new(i, pred[i as usize].0, pred[i as usize].1);
        let up_edges: Vec<Edge> = up.iter().filter(|&&i| i != root).map(edge).collect();
        let down_edges: Vec<Edge> = down.iter().filter(|&&i| i != root).map(edge).collect();
        let down_pairs = if cfg!(target_arch = "x86_64") { pair_down(&down_edges, &up_parent) } else { vec![] };
        let up_pairs = if cpu_has_avx() { pair_up(&up_edges, &up_parent) } else { vec![] };
        let copy_edges = (0..n as u32).filter(|&i| copied[i as usize]).map(|i| Edge::new(i, parent[i as usize] as u32, g_axial_us[i as usize])).collect();
        TreeSolver { parent, g_axial_us, g_axial_sum_us, eliminated: vec![[0.0; 2]; n], root: root as usize, up_edges, down_edges, up_pairs, down_pairs, copy_edges }
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
        // every slice is at least n long (checked above); the edges hold 8·index, the byte offset
        // of a node's f64 (twice that of its two-f64 row).
        if self.up_pairs.is_empty() {
            eliminate(&self.up_edges, system, &mut self.eliminated);
        } else {
            // SAFETY: `up_pairs` is only filled where the CPU has AVX
            #[cfg(target_arch = "x86_64")]
            unsafe {
                eliminate_pairs(&self.up_pairs, system, &mut self.eliminated)
            };
        }
        v_mv[self.root] = system[self.root][1] / system[self.root][0];
        let out = self.eliminated.as_ptr() as *const u8;
        let v = v_mv.as_mut_ptr() as *mut u8;
        if self.down_pairs.is_empty() {
            for e in &self.down_edges {
                let (c, p) = e.offsets();
                // [g/d, r/d] of c is at twice its f64 offset
                unsafe {
                    let [f, r] = *(out.add(2 * c) as *const [f64; 2]);
                    *(v.add(c) as *mut f64) = r + f * *(v.add(p) as *const f64);
                }
            }
        } else {
            #[cfg(target_arch = "x86_64")]
            back_substitute_pairs(&self.down_pairs, out, v);
        }
        for e in &self.copy_edges {
            let (c, p) = e.offsets();
            unsafe {
                *(v.add(c) as *mut f64) = *(v.add(p) as *const f64);
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
        let rows = system.as_mut_ptr() as *mut u8;
        let out = out.as_mut_ptr() as *mut u8;
        // SAFETY: SSE2 is part of x86-64; offsets as in `TreeSolver::step` (8·index, index < n ≤
        // both lengths; rows of two f64 at twice the offset), unaligned forms
        unsafe {
            let sign = _mm_set_sd(-0.0);
            for e in edges {
                let (c, p) = e.offsets();
                let g = _mm_load_sd(&e.g_us);
                let dr_c = _mm_loadu_pd(rows.add(2 * c) as *const f64);
                // [g, r] / [d, d] = [g/d, r/d]: both quotients from one division
                let q = _mm_div_pd(_mm_move_sd(dr_c, g), _mm_unpacklo_pd(dr_c, dr_c));
                _mm_storeu_pd(out.add(2 * c) as *mut f64, q);
                // [−g, r] · [g/d, g/d] added to p's row
                let x = _mm_move_sd(dr_c, _mm_xor_pd(g, sign));
                let dr_p = _mm_loadu_pd(rows.add(2 * p) as *const f64);
                _mm_storeu_pd(rows.add(2 * p) as *mut f64, _mm_add_pd(dr_p, _mm_mul_pd(_mm_unpacklo_pd(q, q), x)));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    for e in edges {
        let (c, p) = e.offsets();
        let (c, p) = (c / 8, p / 8);
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

/// [`eliminate`] two nodes at a time: both rows [d₁, r₁, d₂, r₂] in one 256-bit vector, and
/// [g₁/d₁, r₁/d₁, g₂/d₂, r₂/d₂] from one division (a division costs the same at 128 and 256
/// bits). The second node's [g/d, r/d] is written first, so that a lone node paired with itself
/// (second conductance 0: quotient 0, parent update +0) ends with the first's. The same
/// operations as [`eliminate`], so the same numbers.
///
/// # Safety
/// The CPU has AVX; the pairs come from [`pair_up`] on the edges of a solver of `system.len()`
/// and `out.len()` nodes or fewer.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn eliminate_pairs(pairs: &[EdgePair], system: &mut [SystemRow], out: &mut [[f64; 2]]) {
    use std::arch::x86_64::*;
    let rows = system.as_mut_ptr() as *mut u8;
    let out = out.as_mut_ptr() as *mut u8;
    let split = |x: u64| ((x & 0xFFFF_FFFF) as usize, (x >> 32) as usize);
    // SAFETY: offsets as in `TreeSolver::step` (8·index, index < n ≤ both lengths; rows of two
    // f64 at twice the offset), unaligned forms
    unsafe {
        let sign = _mm256_set1_pd(-0.0);
        for e in pairs {
            let (c1, p1) = split(std::ptr::read_volatile(&e.offsets[0]));
            let (c2, p2) = split(std::ptr::read_volatile(&e.offsets[1]));
            let g = _mm_loadu_pd(e.g_us.as_ptr());
            // [g₁, g₁, g₂, g₂]
            let gg = _mm256_set_m128d(_mm_unpackhi_pd(g, g), _mm_unpacklo_pd(g, g));
            let dr = _mm256_set_m128d(_mm_loadu_pd(rows.add(2 * c2) as *const f64), _mm_loadu_pd(rows.add(2 * c1) as *const f64));
            // [g₁, r₁, g₂, r₂] / [d₁, d₁, d₂, d₂]
            let q = _mm256_div_pd(_mm256_blend_pd::<0b0101>(dr, gg), _mm256_movedup_pd(dr));
            _mm_storeu_pd(out.add(2 * c2) as *mut f64, _mm256_extractf128_pd::<1>(q));
            _mm_storeu_pd(out.add(2 * c1) as *mut f64, _mm256_castpd256_pd128(q));
            // [−g, r] · [g/d, g/d] added to each parent's row, one after the other and the first
            // node's first (the parents may be the same node: then the sums are in the order of
            // `eliminate`, and the numbers the same)
            let x = _mm256_blend_pd::<0b0101>(dr, _mm256_xor_pd(gg, sign));
            let u = _mm256_mul_pd(_mm256_movedup_pd(q), x);
            let row1 = rows.add(2 * p1) as *mut f64;
            _mm_storeu_pd(row1, _mm_add_pd(_mm_loadu_pd(row1), _mm256_castpd256_pd128(u)));
            let row2 = rows.add(2 * p2) as *mut f64;
            _mm_storeu_pd(row2, _mm_add_pd(_mm_loadu_pd(row2), _mm256_extractf128_pd::<1>(u)));
        }
    }
}

/// The back-substitution two nodes at a time (SSE2, every x86-64 CPU): new V = r/d + (g/d)·V_p
/// for both from one product and one sum (the same operations, so the same numbers, as one at a
/// time).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn back_substitute_pairs(pairs: &[[u64; 2]], out: *const u8, v: *mut u8) {
    use std::arch::x86_64::*;
    let split = |x: u64| ((x & 0xFFFF_FFFF) as usize, (x >> 32) as usize);
    // SAFETY: offsets as in `TreeSolver::step` (8·index, index < n ≤ the lengths of `out` and
    // `v`; rows of two f64 at twice the offset), unaligned forms
    unsafe {
        for e in pairs {
            let (c1, p1) = split(std::ptr::read_volatile(&e[0]));
            let (c2, p2) = split(std::ptr::read_volatile(&e[1]));
            let (o1, o2) = (_mm_loadu_pd(out.add(2 * c1) as *const f64), _mm_loadu_pd(out.add(2 * c2) as *const f64));
            let vp = _mm_loadh_pd(_mm_load_sd(v.add(p1) as *const f64), v.add(p2) as *const f64);
            let new = _mm_add_pd(_mm_unpackhi_pd(o1, o2), _mm_mul_pd(_mm_unpacklo_pd(o1, o2), vp));
            _mm_storeh_pd(v.add(c2) as *mut f64, new);
            _mm_store_sd(v.add(c1) as *mut f64, new);
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
        let (parent, g, algebraic, dm, b) = random_tree(n, 12345);
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

    /// A random tree of `n` nodes (mostly chains, some branches; node 0 the root) with
    /// conductances, membrane diagonals and zero-area leaves.
    fn random_tree(n: usize, seed: u64) -> (Vec<usize>, Vec<f64>, Vec<bool>, Vec<f64>, Vec<f64>) {
        let mut seed = seed;
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
        (parent, g, algebraic, dm, b)
    }

    #[test]
    fn paired_sweeps_give_the_numbers_of_single_sweeps() {
        // random trees, and a bare chain (each node waits for the one before it: lone nodes
        // only, paired with themselves)
        let mut cases: Vec<_> = [1u64, 2, 3, 99].into_iter().map(|seed| random_tree(400, seed)).collect();
        let chain: Vec<usize> = (0..30usize).map(|i| i.wrapping_sub(1)).collect();
        cases.push((chain, vec![0.7; 30], vec![false; 30], vec![0.2; 30], (0..30).map(|i| (i as f64 * 0.37).sin()).collect()));
        let (mut pairs, mut lone_nodes) = ([0usize; 2], [0usize; 2]);
        for (k, (parent, g, algebraic, dm, b)) in cases.into_iter().enumerate() {
            let n = parent.len();
            let paired = TreeSolver::with_algebraic(parent, g, &algebraic);
            // the one-node-at-a-time sweeps of the same schedule
            let single = TreeSolver { up_pairs: vec![], down_pairs: vec![], ..paired.clone() };
            let diag: Vec<f64> = dm.iter().zip(&paired.g_axial_sum_us).map(|(m, gs)| m + gs).collect();
            let (mut v_paired, mut v_single) = (vec![-65.0; n], vec![-65.0; n]);
            assert!(solve(&mut paired.clone(), &mut v_paired, &b, &diag).is_finite());
            assert!(solve(&mut single.clone(), &mut v_single, &b, &diag).is_finite());
            for i in 0..n {
                assert_eq!(v_paired[i].to_bits(), v_single[i].to_bits(), "case {k} node {i}");
            }
            let lone = |x: &[u64; 2]| x[0] == x[1];
            for (kind, list) in [paired.up_pairs.iter().map(|p| p.offsets).collect::<Vec<_>>(), paired.down_pairs.clone()].iter().enumerate() {
                lone_nodes[kind] += list.iter().filter(|x| lone(x)).count();
                pairs[kind] += list.iter().filter(|x| !lone(x)).count();
            }
        }
        // both kinds of pair were exercised where the paired paths exist
        if cpu_has_avx() {
            assert!(pairs[0] > 0 && lone_nodes[0] > 0, "elimination: {} pairs, {} lone", pairs[0], lone_nodes[0]);
        }
        if cfg!(target_arch = "x86_64") {
            assert!(pairs[1] > 0 && lone_nodes[1] > 0, "back-substitution: {} pairs, {} lone", pairs[1], lone_nodes[1]);
        }
    }

    #[test]
    fn the_sweeps_run_from_the_middle_of_the_longest_path() {
        // a chain 0 - 1 - … - 20 with a short side branch 21 - 22 on node 3: the longest path
        // runs from 22 (or 0) to 20, and the sweeps' root is its middle
        let n: usize = 23;
        let mut parent: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
        parent[0] = usize::MAX;
        parent[21] = 3;
        parent[22] = 21;
        let s = TreeSolver::new(parent, vec![1.0; n]);
        // path 22-21-3-4-…-20 has 20 nodes, 0-1-2-3-…-20 has 21: the middle of the latter is 10
        assert_eq!(s.root, 10);
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
        let mut empty = TreeSolver::new(vec![], vec![]);
        assert!(empty.step(&mut [], &mut []).is_nan());
        let mut bad = TreeSolver::new(vec![usize::MAX, 2, 0], vec![0.0, 1.0, 1.0]);
        let (mut v, r, d) = (vec![0.0; 3], vec![0.0; 3], vec![1.0; 3]);
        assert!(solve(&mut bad, &mut v, &r, &d).is_nan());
    }
}
