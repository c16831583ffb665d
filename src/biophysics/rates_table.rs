//! Precomputed rate tables at a fixed dt, as NEURON's TABLE statement does (spec §3.4 rates,
//! §4 calcium, §6.2 Mg block): the transcendental functions of the gate, calcium and NMDA
//! kinetics are evaluated once on a fine grid and linearly interpolated in the step.
//!
//! - [`GateTable`]: the cnexp factor exp(−dt/τ(v)) and a(v) = y∞(v)·(1 − exp(−dt/τ(v))) of
//!   every gate slot (so the step is one multiply-add, y ← y·factor + a), and the NMDA Mg block
//!   and its slope, on a 1/128-mV grid over [−120, 80) mV, in chunks of [`CHUNK`] slots so a node
//!   updates its gates with short fixed-length (SIMD-friendly) loops. Outside the range the
//!   caller computes the rates exactly.
//! - [`ca_lookup`]: ln(cao/cai) (for eca, §4.2) and SK_E2's z∞(cai) (§3.4), indexed by the bits of
//!   cai (a piecewise-linear table in log-spaced segments of relative width 2⁻¹¹).
//!
//! Interpolation error is ~δ²/8·|f''| (δ the grid step): ≤ ~1e-6 on the gates. `engine_checks`
//! compares a run with tables against one with exact rates: worst 0.0072 mV (during spikes) and
//! 1.2e-5 ms in spike times, below the golden files' 0.01-mV resolution (interpolating y∞
//! instead of a gave 0.011 mV and 2.3e-5 ms; a 1/256-mV grid 0.002 mV and 3.4e-6 ms, with every
//! golden figure the same, but twice the memory made a step 6 % slower). Each mechanism group
//! has a table of just its kernel's slots (basal 2.5 MB, apical 7.4 MB). (1/64 mV: 0.049 mV,
//! too close to the check's 0.05.)
//!
//! Why one file (~430 lines before its tests): the gate and calcium tables share the grid and the
//! interpolation arithmetic (the `Arith` paths for AVX-512, AVX2+FMA and plain code), which must
//! stay identical between them.

use super::cell::Channel;
use super::channels::dispatch;
use super::synapse::mg_block;
use std::sync::{Arc, Mutex, OnceLock};

/// Gate slots per chunk.
pub const CHUNK: usize = 4;
/// Voltage grid of the gate and Mg tables (mV).
pub const V_MIN_MV: f64 = -120.0;
pub const V_MAX_MV: f64 = 80.0;
pub const STEPS_PER_MV: f64 = 128.0;

/// Grid position of `v_mv`: (row, fraction in [0, 1)), or `None` outside the table (or NaN).
#[inline(always)]
pub fn grid_position(v_mv: f64, rows: f64) -> Option<(usize, f64)> {
    let x = (v_mv - V_MIN_MV) * STEPS_PER_MV;
    if x >= 0.0 && x < rows {
        // SAFETY: 0 ≤ x < rows ≤ i32::MAX (so x is not NaN and truncates to a valid i32): the
        // unchecked conversion is one instruction, the saturating `as` several
        let i: i32 = unsafe { x.to_int_unchecked() };
        Some((i as usize, x - f64::from(i)))
    } else {
        None
    }
}

fn grid_rows() -> usize {
    ((V_MAX_MV - V_MIN_MV) * STEPS_PER_MV) as usize
}

/// One lane of a table row: a gate (channel, and whether it is the h gate), or the NMDA Mg
/// block or its slope d block/dv, which share the voltage lookup of the gates. The Mg lanes have
/// factor 0 and a = the value, so the cnexp step leaves exactly the (interpolated) block or
/// slope in the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Gate(Channel, bool),
    MgBlock,
    MgSlope,
}

/// a = y∞·(1 − exp(−dt/τ)) and the factor exp(−dt/τ) for a list of gate slots, chunk by chunk:
/// for chunk c and grid row i, `data[i·n_chunks + c]` holds [a, factor] of the chunk's slots at
/// the row and their change to the next row (row-major, and one entry per lookup instead of two
/// rows: a node's lookup reads one short run of neighbouring cache lines; this layout measured
/// 4 % faster per step than reading rows i and i + 1, with the same table-vs-exact figures).
/// Unused slots hold a = 0 and factor 1, which leave a state unchanged exactly.
#[derive(Debug)]
pub struct GateTable {
    pub rows: usize,
    pub rows_f: f64,
    pub n_chunks: usize,
    data: Vec<Entry>,
}

/// One chunk of one grid row: [a, factor] of the chunk's slots at the row, and their change to
/// the next row (single precision: a difference of at most a few 1e-3 keeps ~1e-10 absolute).
/// 32-byte aligned (96 bytes, no padding), so an entry never spans three cache lines: a step
/// measured 3–6 % faster than with the allocator's 16-byte alignment.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(32))]
struct Entry {
    base: [f64; 2 * CHUNK],
    delta: [f32; 2 * CHUNK],
}

impl GateTable {
    fn build(slots: &[Slot], dt_ms: f64) -> GateTable {
        let rows = grid_rows();
        debug_assert!(rows < i32::MAX as usize);
        let n_chunks = slots.len().div_ceil(CHUNK).max(1);
        let value = |i: usize, k: usize| -> (f64, f64) {
            let v = V_MIN_MV + i as f64 / STEPS_PER_MV;
            match slots.get(k) {
                Some(&Slot::Gate(ch, is_h)) => {
                    let r = dispatch::rates(ch, v);
                    let (inf, tau) = if is_h { (r.h_inf, r.h_tau_ms) } else { (r.m_inf, r.m_tau_ms) };
                    // (1 − factor as −expm1: accurate where τ ≫ dt and the factor is near 1)
                    (-inf * (-dt_ms / tau).exp_m1(), (-dt_ms / tau).exp())
                }
                Some(Slot::MgBlock) => (mg_block(v).0, 0.0),
                Some(Slot::MgSlope) => (mg_block(v).1, 0.0),
                None => (0.0, 1.0),
            }
        };
        let points: Vec<Vec<(f64, f64)>> = (0..=rows).map(|i| (0..n_chunks * CHUNK).map(|k| value(i, k)).collect()).collect();
        let mut data = Vec::with_capacity(n_chunks * rows);
        for i in 0..rows {
            for c in 0..n_chunks {
                let mut e = Entry { base: [0.0; 2 * CHUNK], delta: [0.0; 2 * CHUNK] };
                for s in 0..CHUNK {
                    let ((inf0, fac0), (inf1, fac1)) = (points[i][c * CHUNK + s], points[i + 1][c * CHUNK + s]);
                    e.base[s] = inf0;
                    e.base[CHUNK + s] = fac0;
                    e.delta[s] = (inf1 - inf0) as f32;
                    e.delta[CHUNK + s] = (fac1 - fac0) as f32;
                }
                data.push(e);
            }
        }
        GateTable { rows, rows_f: rows as f64, n_chunks, data }
    }

    /// The table for `slots` at `dt_ms`, built once per process and shared between simulations.
    pub fn shared(slots: &[Slot], dt_ms: f64) -> Arc<GateTable> {
        type Cache = Mutex<Vec<(u64, Vec<Slot>, Arc<GateTable>)>>;
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
        let mut guard = match cache.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((_, _, t)) = guard.iter().find(|(dt, s, _)| *dt == dt_ms.to_bits() && s == slots) {
            return Arc::clone(t);
        }
        let table = Arc::new(GateTable::build(slots, dt_ms));
        guard.push((dt_ms.to_bits(), slots.to_vec(), Arc::clone(&table)));
        table
    }

    /// cnexp step y ← y∞ + (y − y∞)·exp(−dt/τ) (spec §7.2 step 5), computed as y·factor + a, of
    /// the first `states.len()` chunks at grid position (i, f), with a and the factor
    /// interpolated linearly (one operation less per slot than interpolating y∞: the kernel's
    /// step measured 3–4 % faster, and closer to the exact rates).
    #[inline(always)]
    pub fn advance<A: Arith>(&self, i: usize, f: f64, states: &mut [[f64; CHUNK]]) {
        let nc = self.n_chunks;
        let Some(row) = self.data.get(i * nc..i * nc + states.len()) else {
            return;
        };
        for (y, e) in states.iter_mut().zip(row) {
            *y = e.advance::<A>(f, *y);
        }
    }

    /// Row `i` of a table of exactly `N_CHUNKS` chunks per row, without a bounds check (a
    /// constant chunk count, so the row's address needs no multiply by a loaded value; the
    /// kernel takes each lane's row once and advances its chunks from it).
    ///
    /// # Safety
    /// `i < self.rows` and `self.n_chunks == N_CHUNKS`.
    #[inline(always)]
    pub unsafe fn row_unchecked<const N_CHUNKS: usize>(&self, i: usize) -> &GateRow<N_CHUNKS> {
        debug_assert!(self.n_chunks == N_CHUNKS && i < self.rows);
        // SAFETY: the caller's conditions put the row's N_CHUNKS entries inside `data` (rows ×
        // n_chunks entries); GateRow is a transparent wrapper of that many entries
        unsafe { &*(self.data.as_ptr().add(i * N_CHUNKS) as *const GateRow<N_CHUNKS>) }
    }
}

/// One grid row of a [`GateTable`]: its chunks' entries.
#[repr(transparent)]
pub struct GateRow<const N_CHUNKS: usize>([Entry; N_CHUNKS]);

impl<const N_CHUNKS: usize> GateRow<N_CHUNKS> {
    /// The cnexp step of chunk `c` of one node's gates `y` at fraction `f` of the row.
    ///
    /// # Safety
    /// `c < N_CHUNKS`.
    #[inline(always)]
    pub unsafe fn advance_chunk_unchecked<A: Arith>(&self, c: usize, f: f64, y: [f64; CHUNK]) -> [f64; CHUNK] {
        // SAFETY: the caller's condition
        unsafe { self.0.get_unchecked(c) }.advance::<A>(f, y)
    }
}

impl Entry {
    #[inline(always)]
    fn advance<A: Arith>(&self, f: f64, y: [f64; CHUNK]) -> [f64; CHUNK] {
        let mut new = y;
        for s in 0..CHUNK {
            let a = A::mul_add(f, f64::from(self.delta[s]), self.base[s]);
            let factor = A::mul_add(f, f64::from(self.delta[CHUNK + s]), self.base[CHUNK + s]);
            new[s] = A::mul_add(y[s], factor, a);
        }
        new
    }
}

/// How a kernel evaluates a·b + c: fused (one rounding, one instruction where the CPU has FMA and
/// the code is compiled for it) or as a product and a sum. The engine picks one per process.
pub trait Arith {
    fn mul_add(a: f64, b: f64, c: f64) -> f64;

    /// The chunks of 8 nodes (node-major) as 4 slot-major rows of 8 lanes: `out[s][l] =
    /// chunks[l][s]`.
    ///
    /// # Safety
    /// The CPU has the instruction set the implementation is written for ([`Fused256`]: AVX2,
    /// [`Fused512`]: AVX-512F; the others need nothing beyond the baseline).
    #[inline(always)]
    unsafe fn transpose_8x4(chunks: &[[f64; 4]; 8]) -> [[f64; 8]; 4] {
        let mut out = [[0.0; 8]; 4];
        for (s, row) in out.iter_mut().enumerate() {
            for (l, x) in row.iter_mut().enumerate() {
                *x = chunks[l][s];
            }
        }
        out
    }

    /// `values[index[l]]` for each of 8 lanes.
    ///
    /// # Safety
    /// Every index is < `values.len()`, and the CPU has the instruction set of the
    /// implementation (as for [`Arith::transpose_8x4`]).
    #[inline(always)]
    unsafe fn gather_8(values: &[f64], index: &[u32; 8]) -> [f64; 8] {
        // (volatile: plain loads per lane; the compiler would otherwise emit a gather
        // instruction, slower on the CPUs measured)
        // SAFETY: the caller guarantees the indices are in bounds
        std::array::from_fn(|l| unsafe { std::ptr::read_volatile(values.as_ptr().add(index[l] as usize)) })
    }
}

/// [`Fused`] with the AVX-512 transpose (in registers: two-source permutes and 256-bit lane
/// shuffles, instead of 32 scalar stores read back as vectors); for the kernel compiled for
/// AVX-512 only.
#[cfg(target_arch = "x86_64")]
pub struct Fused512;

#[cfg(target_arch = "x86_64")]
impl Arith for Fused512 {
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }

    #[inline(always)]
    unsafe fn transpose_8x4(chunks: &[[f64; 4]; 8]) -> [[f64; 8]; 4] {
        use std::arch::x86_64::*;
        // SAFETY: the caller guarantees AVX-512F; the loads and stores are of whole arrays of
        // the sizes named (unaligned forms).
        unsafe {
            let pair = |a: &[f64; 4], b: &[f64; 4]| _mm512_insertf64x4::<1>(_mm512_castpd256_pd512(_mm256_loadu_pd(a.as_ptr())), _mm256_loadu_pd(b.as_ptr()));
            // [node 2k slots 0-3 | node 2k+1 slots 0-3]
            let (a01, a23, a45, a67) = (pair(&chunks[0], &chunks[1]), pair(&chunks[2], &chunks[3]), pair(&chunks[4], &chunks[5]), pair(&chunks[6], &chunks[7]));
            // slots 0 and 1 (then 2 and 3) of four nodes: [n0 s0, n1 s0, n2 s0, n3 s0, n0 s1, …]
            let even = _mm512_set_epi64(13, 9, 5, 1, 12, 8, 4, 0);
            let odd = _mm512_set_epi64(15, 11, 7, 3, 14, 10, 6, 2);
            let (t01, t23) = (_mm512_permutex2var_pd(a01, even, a23), _mm512_permutex2var_pd(a01, odd, a23));
            let (u01, u23) = (_mm512_permutex2var_pd(a45, even, a67), _mm512_permutex2var_pd(a45, odd, a67));
            // low 256 bits of t and u: slot 0 (2) of nodes 0-3 and 4-7; high: slot 1 (3)
            let rows = [_mm512_shuffle_f64x2::<0x44>(t01, u01), _mm512_shuffle_f64x2::<0xEE>(t01, u01), _mm512_shuffle_f64x2::<0x44>(t23, u23), _mm512_shuffle_f64x2::<0xEE>(t23, u23)];
            let mut out = [[0.0; 8]; 4];
            for (o, r) in out.iter_mut().zip(rows) {
                _mm512_storeu_pd(o.as_mut_ptr(), r);
            }
            out
        }
    }

    #[inline(always)]
    unsafe fn gather_8(values: &[f64], index: &[u32; 8]) -> [f64; 8] {
        use std::arch::x86_64::*;
        // SAFETY: the caller guarantees AVX-512F and in-bounds indices. The lanes are put
        // together in a register and stored at once (stored lane by lane, a later vector load
        // of them could not be forwarded from the stores and would wait).
        unsafe {
            let p = values.as_ptr();
            let at = |l: usize| std::ptr::read_volatile(p.add(index[l] as usize));
            let v = _mm512_set_pd(at(7), at(6), at(5), at(4), at(3), at(2), at(1), at(0));
            let mut out = [0.0; 8];
            _mm512_storeu_pd(out.as_mut_ptr(), v);
            out
        }
    }
}

/// [`Fused`] with an AVX2 transpose and gather (in registers: 128-bit unpacks and lane
/// permutes per group of four nodes, instead of 32 scalar stores read back as vectors, whose
/// loads cannot be forwarded from the stores and wait for them); for the kernel compiled for
/// AVX2 and FMA only.
#[cfg(target_arch = "x86_64")]
pub struct Fused256;

#[cfg(target_arch = "x86_64")]
impl Arith for Fused256 {
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }

    #[inline(always)]
    unsafe fn transpose_8x4(chunks: &[[f64; 4]; 8]) -> [[f64; 8]; 4] {
        use std::arch::x86_64::*;
        // SAFETY: the caller guarantees AVX2; the loads and stores are of whole arrays of 4
        // doubles (unaligned forms)
        unsafe {
            let mut out = [[0.0; 8]; 4];
            for half in 0..2 {
                let n = 4 * half;
                let load = |l: usize| _mm256_loadu_pd(chunks[n + l].as_ptr());
                let (r0, r1, r2, r3) = (load(0), load(1), load(2), load(3));
                // [n0 s0, n1 s0, n0 s2, n1 s2] and [n0 s1, n1 s1, n0 s3, n1 s3], then nodes 2-3
                let (lo01, hi01) = (_mm256_unpacklo_pd(r0, r1), _mm256_unpackhi_pd(r0, r1));
                let (lo23, hi23) = (_mm256_unpacklo_pd(r2, r3), _mm256_unpackhi_pd(r2, r3));
                let rows = [_mm256_permute2f128_pd::<0x20>(lo01, lo23), _mm256_permute2f128_pd::<0x20>(hi01, hi23), _mm256_permute2f128_pd::<0x31>(lo01, lo23), _mm256_permute2f128_pd::<0x31>(hi01, hi23)];
                for (o, r) in out.iter_mut().zip(rows) {
                    _mm256_storeu_pd(o.as_mut_ptr().add(n), r);
                }
            }
            out
        }
    }

    #[inline(always)]
    unsafe fn gather_8(values: &[f64], index: &[u32; 8]) -> [f64; 8] {
        use std::arch::x86_64::*;
        // SAFETY: the caller guarantees AVX2 and in-bounds indices. One plain load per lane
        // (volatile: not a gather instruction), put together in two registers and stored
        // whole, so that later vector loads of the result are forwarded from the stores
        unsafe {
            let p = values.as_ptr();
            let at = |l: usize| std::ptr::read_volatile(p.add(index[l] as usize));
            let (lo, hi) = (_mm256_set_pd(at(3), at(2), at(1), at(0)), _mm256_set_pd(at(7), at(6), at(5), at(4)));
            let mut out = [0.0; 8];
            _mm256_storeu_pd(out.as_mut_ptr(), lo);
            _mm256_storeu_pd(out.as_mut_ptr().add(4), hi);
            out
        }
    }
}

/// a·b + c with one rounding (hardware FMA; only used in code compiled with the `fma` feature).
pub struct Fused;

impl Arith for Fused {
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
}

/// a·b + c as a product and a sum (two roundings): the portable path.
pub struct Plain;

impl Arith for Plain {
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a * b + c
    }
}

/// Mantissa bits of cai that index the calcium table (segments of relative width 2⁻¹¹).
const CA_BITS: u32 = 11;
const CA_SHIFT: u32 = 52 - CA_BITS;
/// Table range of cai (mM): [2⁻²⁴, 1).
const CA_MIN_MM: f64 = 1.0 / 16_777_216.0;
const CA_MAX_MM: f64 = 1.0;

/// The calcium table of [`ca_lookup`]; fetch it once per loop with [`CaTable::get`].
pub struct CaTable {
    key_min: u64,
    /// Per segment: [ln(cao/c), z∞(c)] at its lower boundary and their change to the next.
    entries: Vec<CaEntry>,
}

/// One calcium segment, 32-byte aligned so that it sits in one cache line.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(32))]
struct CaEntry([f64; 4]);

/// Low mantissa bits of cai below the table index, and the exponent bits of 1.0.
const CA_FRACTION_MASK: u64 = (1u64 << CA_SHIFT) - 1;
const ONE_BITS: u64 = 0x3FF0_0000_0000_0000;

impl CaTable {
    pub fn get() -> &'static CaTable {
        ca_table()
    }

    /// Whether [`CaTable::lookup`] covers `cai_mm` (SK_E2's 1e-7-mM guard up to the table end).
    #[inline(always)]
    fn covers(cai_mm: f64) -> bool {
        (cai_mm >= 1e-7) & (cai_mm < CA_MAX_MM)
    }

    /// (segment, position in it in [0, 1)) of a covered `cai_mm`. Within a binade c is linear in
    /// the mantissa bits, so interpolating in the position is linear interpolation in c; the
    /// position is the low mantissa bits put under the exponent of 1.0 (exact, integer
    /// operations only, so it vectorises on any SIMD level).
    #[inline(always)]
    fn segment(&self, cai_mm: f64) -> (usize, f64) {
        let bits = cai_mm.to_bits();
        let j = ((bits >> CA_SHIFT) - self.key_min) as usize;
        let f = f64::from_bits(((bits & CA_FRACTION_MASK) << (52 - CA_SHIFT)) | ONE_BITS) - 1.0;
        (j, f)
    }

    /// [`ca_lookup`] with this table.
    #[inline(always)]
    pub fn lookup(&self, cai_mm: f64) -> Option<(f64, f64)> {
        if !Self::covers(cai_mm) {
            return None;
        }
        let (j, f) = self.segment(cai_mm);
        self.entries.get(j).map(|CaEntry(e)| (e[0] + f * e[2], e[1] + f * e[3]))
    }

    /// [`CaTable::lookup`] of a block's 8 lanes (ln(cao/cai) and z∞, the same values lane by
    /// lane), or `None` if any lane is outside the table (the caller then takes the exact path
    /// for the block). One load of each lane's segment, regrouped per quantity in registers
    /// by [`Arith::transpose_8x4`].
    ///
    /// # Safety
    /// As for [`Arith::transpose_8x4`]: the CPU has `A`'s instruction set.
    #[inline(always)]
    pub unsafe fn lookup_lanes<A: Arith>(&self, cai_mm: &[f64; 8]) -> Option<([f64; 8], [f64; 8])> {
        let mut covered = true;
        for &c in cai_mm {
            covered &= Self::covers(c);
        }
        if !covered {
            return None;
        }
        let mut segments = [[0.0; 4]; 8];
        let mut f = [0.0; 8];
        for l in 0..8 {
            let (j, fl) = self.segment(cai_mm[l]);
            f[l] = fl;
            // SAFETY: a covered cai lies in [2⁻²⁴, 1), whose segments are exactly `entries`
            // (built from key_min to the key of 1.0, exclusive), so j < entries.len()
            // (a volatile read: one load of the entry per lane; left to itself the compiler
            // turns these loads into AVX-512 gathers, which measured slower on this CPU)
            segments[l] = unsafe { std::ptr::read_volatile(self.entries.as_ptr().add(j)) }.0;
        }
        // SAFETY: the caller's guarantee
        let [ln_lo, z_lo, ln_step, z_step] = unsafe { A::transpose_8x4(&segments) };
        let (mut ln_ratio, mut z) = ([0.0; 8], [0.0; 8]);
        for l in 0..8 {
            ln_ratio[l] = ln_lo[l] + f[l] * ln_step[l];
            z[l] = z_lo[l] + f[l] * z_step[l];
        }
        Some((ln_ratio, z))
    }
}

fn ca_table() -> &'static CaTable {
    static TABLE: OnceLock<CaTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let key_min = CA_MIN_MM.to_bits() >> CA_SHIFT;
        let key_max = CA_MAX_MM.to_bits() >> CA_SHIFT;
        let at = |k: u64| {
            let c = f64::from_bits(k << CA_SHIFT);
            [(super::calcium::CAO_MM / c).ln(), super::channels::sk_e2::z_inf(c)]
        };
        let entries = (key_min..key_max)
            .map(|k| {
                let (lo, hi) = (at(k), at(k + 1));
                CaEntry([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]])
            })
            .collect();
        CaTable { key_min, entries }
    })
}

/// (ln(cao/cai), z∞(cai)) interpolated from the table, or `None` where cai is outside it or
/// below SK_E2's 1e-7-mM guard (the caller then computes both exactly).
#[inline(always)]
pub fn ca_lookup(cai_mm: f64) -> Option<(f64, f64)> {
    ca_table().lookup(cai_mm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_match_exact_functions() {
        let mut worst = (0.0f64, 0.0f64, 0.0f64);
        for k in 0..20_000 {
            let c = 1e-4 * (1.0 + k as f64 * 0.0123);
            let (l, z) = ca_lookup(c).expect("in range");
            worst.1 = worst.1.max((l - (2.0 / c).ln()).abs());
            worst.2 = worst.2.max((z - super::super::channels::sk_e2::z_inf(c)).abs());
        }
        assert!(worst.0 < 1e-8 && worst.1 < 1e-7 && worst.2 < 1e-7, "{worst:?}");
        assert!(ca_lookup(5e-8).is_none() && ca_lookup(f64::NAN).is_none() && ca_lookup(2.0).is_none());
    }

    /// [`CaTable::lookup_lanes`] on the portable path and, where this CPU has them, on the AVX2
    /// and AVX-512 paths (whose transposes are their own code).
    fn block_lookups(t: &CaTable, cai: &[f64; 8]) -> Vec<Option<([f64; 8], [f64; 8])>> {
        // SAFETY: the portable path needs nothing beyond the baseline
        let mut out = vec![unsafe { t.lookup_lanes::<Plain>(cai) }];
        #[cfg(target_arch = "x86_64")]
        if crate::biophysics::InstructionSet::best() >= crate::biophysics::InstructionSet::Avx2Fma {
            // SAFETY: this CPU has AVX2 (checked just above)
            out.push(unsafe { t.lookup_lanes::<Fused256>(cai) });
        }
        #[cfg(target_arch = "x86_64")]
        if crate::biophysics::InstructionSet::best() == crate::biophysics::InstructionSet::Avx512 {
            // SAFETY: this CPU has AVX-512 (checked just above)
            out.push(unsafe { t.lookup_lanes::<Fused512>(cai) });
        }
        out
    }

    #[test]
    fn calcium_lookup_of_a_block_equals_lane_by_lane_and_refuses_any_lane_outside() {
        let t = CaTable::get();
        let mut worst = 0.0f64;
        for k in 0..2_000 {
            let cai: [f64; 8] = std::array::from_fn(|l| 2e-7 * 1.37f64.powi((k % 40) as i32 + l as i32) * (1.0 + 1e-4 * k as f64));
            for lookup in block_lookups(t, &cai) {
                let (ln_ratio, z) = lookup.expect("all lanes in the table");
                for l in 0..8 {
                    assert_eq!(t.lookup(cai[l]), Some((ln_ratio[l], z[l])), "lane {l}, cai {}", cai[l]);
                    worst = worst.max((ln_ratio[l] - (2.0 / cai[l]).ln()).abs());
                }
            }
        }
        assert!(worst < 1e-7, "worst ln error {worst}");
        for bad in [5e-8, 1.0, f64::NAN, -1e-4, f64::INFINITY] {
            let mut cai = [1e-4; 8];
            cai[5] = bad;
            assert!(block_lookups(t, &cai).iter().all(Option::is_none), "lane at {bad} refused");
        }
    }

    #[test]
    fn transposes_and_gathers_put_every_value_in_place() {
        let chunks: [[f64; 4]; 8] = std::array::from_fn(|l| std::array::from_fn(|s| (10 * l + s) as f64 + 0.5));
        // SAFETY: the portable transpose needs nothing beyond the baseline
        let plain = unsafe { Plain::transpose_8x4(&chunks) };
        for s in 0..4 {
            for l in 0..8 {
                assert_eq!(plain[s][l], chunks[l][s]);
            }
        }
        let values: Vec<f64> = (0..50).map(|k| k as f64 * 1.25 - 3.0).collect();
        let index = [7u32, 0, 49, 3, 3, 12, 48, 1];
        // SAFETY: every index < 50
        let gathered = unsafe { Plain::gather_8(&values, &index) };
        for l in 0..8 {
            assert_eq!(gathered[l], values[index[l] as usize]);
        }
        #[cfg(target_arch = "x86_64")]
        if crate::biophysics::InstructionSet::best() >= crate::biophysics::InstructionSet::Avx2Fma {
            // SAFETY: this CPU has AVX2 (checked just above); indices as above
            unsafe {
                assert_eq!(Fused256::transpose_8x4(&chunks), plain);
                assert_eq!(Fused256::gather_8(&values, &index), gathered);
            }
        }
        #[cfg(target_arch = "x86_64")]
        if crate::biophysics::InstructionSet::best() == crate::biophysics::InstructionSet::Avx512 {
            // SAFETY: this CPU has AVX-512 (checked just above); indices as above
            unsafe {
                assert_eq!(Fused512::transpose_8x4(&chunks), plain);
                assert_eq!(Fused512::gather_8(&values, &index), gathered);
            }
        }
    }

    #[test]
    fn gate_table_matches_exact_cnexp() {
        let slots = [Slot::Gate(Channel::NaTs2T, false), Slot::Gate(Channel::NaTs2T, true), Slot::Gate(Channel::CaHva, false), Slot::Gate(Channel::Ih, false), Slot::Gate(Channel::KTst, false), Slot::MgBlock, Slot::MgSlope];
        let dt = 0.025;
        let t = GateTable::shared(&slots, dt);
        assert_eq!(t.n_chunks, 2);
        let mut worst = 0.0f64;
        for k in 0..5_000 {
            let v = -90.0 + k as f64 * 0.0271;
            let (i, f) = grid_position(v, t.rows_f).expect("in range");
            let mut y = [[0.3; CHUNK]; 2];
            t.advance::<Plain>(i, f, &mut y);
            let (eb, edb) = mg_block(v);
            worst = worst.max((y[1][1] - eb).abs()).max((y[1][2] - edb).abs());
            for (n, slot) in slots.iter().enumerate() {
                let Slot::Gate(ch, is_h) = *slot else { continue };
                let r = dispatch::rates(ch, v);
                let (inf, tau) = if is_h { (r.h_inf, r.h_tau_ms) } else { (r.m_inf, r.m_tau_ms) };
                let exact = inf + (0.3 - inf) * (-dt / tau).exp();
                worst = worst.max((y[n / CHUNK][n % CHUNK] - exact).abs());
            }
            assert_eq!(y[1][3], 0.3, "unused slots keep their state exactly");
            let mut fused = [[0.3; CHUNK]; 2];
            t.advance::<Fused>(i, f, &mut fused);
            worst = worst.max((fused[0][0] - y[0][0]).abs());
        }
        assert!(worst < 2e-7, "worst gate error {worst}");
        assert!(grid_position(V_MAX_MV, t.rows_f).is_none() && grid_position(f64::NAN, t.rows_f).is_none());
    }
}
