//! The crate's random numbers: two generators of one crate (`rand_xoshiro`, through `rand_core`'s
//! traits) and the few distributions the crate draws, so that a seed gives the same numbers on
//! every platform and build (integer arithmetic plus IEEE-exact conversions; we do not try to
//! reproduce NumPy's streams, spec §6.1 fixes only the statistics).
//!
//! - [`Xoshiro`] (xoshiro256**, Blackman & Vigna 2018, its state filled by SplitMix64 from a `u64`
//!   seed): stimuli (the paper's input protocol, Poisson drives), datasets, random deletions.
//! - [`SplitMix`] (SplitMix64, Steele et al. 2014): the procedural cell (`morphology::synth`).
//! - [`derive_seed`]: a child seed for stream k of a seed (two SplitMix64 rounds).
//! - [`Draw`]: uniform, uniform in a range, integers below n, exponential and normal variates,
//!   for any generator.
//!
//! Reproducible seeds: both streams are those of the hand-written generators this module replaced,
//! bit for bit (the tests below compare with outputs printed by the old code), because the shipped
//! synthetic cell (and the morphology fingerprint of its model) and every dataset's inputs depend
//! on them. The crate's version is pinned by `Cargo.lock`; an update that changed a stream would
//! fail those tests.

use rand_core::SeedableRng;

pub use rand_xoshiro::{SplitMix64 as SplitMix, Xoshiro256StarStar as Xoshiro};

/// xoshiro256** seeded from one `u64` (the state is filled by SplitMix64, so it is never all zero).
pub fn xoshiro(seed: u64) -> Xoshiro {
    Xoshiro::seed_from_u64(seed)
}

/// SplitMix64 whose state starts at `seed`.
pub fn splitmix(seed: u64) -> SplitMix {
    SplitMix::seed_from_u64(seed)
}

/// A child seed for stream `index` of `seed` (e.g. simulation k of a dataset, time block k of a
/// Poisson drive). Two SplitMix64 rounds so that neighbouring (seed, index) pairs give unrelated
/// streams.
pub fn derive_seed(seed: u64, index: u64) -> u64 {
    let a = first_splitmix_output(seed ^ 0x6A09_E667_F3BC_C908);
    first_splitmix_output(a ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03))
}

fn first_splitmix_output(state: u64) -> u64 {
    rand_core::Rng::next_u64(&mut splitmix(state))
}

/// The distributions the crate draws, for any generator.
pub trait Draw: rand_core::Rng {
    /// Uniform in [0, 1) with 53 random bits.
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    fn uniform_range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in 0..n (n > 0; 0 for n = 0), without modulo bias (Lemire's
    /// multiply-and-reject).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Integer in lo..=hi by a plain modulo (slightly biased; kept because the procedural cell's
    /// stream depends on it; use [`Draw::below`] elsewhere).
    fn int_modulo(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    /// Exponential with the given mean (≥ 0): −mean·ln(1 − U), U in [0, 1) so the log is finite.
    fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }

    /// Standard normal (Box-Muller; one of the pair is discarded for simplicity).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln stays finite
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

impl<R: rand_core::Rng + ?Sized> Draw for R {}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::Rng as _;

    // The expected values below were printed by the hand-written generators this module replaced
    // (`stimulus/rng.rs`: xoshiro256** seeded by SplitMix64, and `derive_seed`;
    // `morphology/synth/rng.rs`: SplitMix64 with its `uniform`, `range`, `int`, `normal`,
    // `exponential`), run once before they were deleted. Every shipped stream (the synthetic
    // cell, datasets, stimuli) depends on these staying bit-identical.

    #[test]
    fn xoshiro_streams_equal_the_old_hand_written_generator() {
        let expected: [(u64, [u64; 8]); 4] = [
            (0, [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0, 0x6AA5_94F1_262D_2D2C, 0xBBA5_AD4A_1F84_2E59, 0xFFEF_8375_D9EB_CACA, 0x6C16_0DEE_D2F5_4C98, 0x8920_AD64_8FC3_0A3F]),
            (42, [0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E, 0xAE17_5332_39E4_99A1, 0xECB8_AD47_03B3_60A1, 0xFDE6_DC7F_E2EC_5E64, 0xC50D_A531_0179_5238, 0xB821_5485_5A65_DDB2, 0xD99A_2743_EBE6_0087]),
            (0xDEAD_BEEF, [0xC555_5444_A74D_7E83, 0x65C3_0D37_B4B1_6E38, 0x54F7_7320_0A4E_FA23, 0x429A_ED75_FB95_8AF7, 0xFB0E_1DD6_9C25_5B2E, 0x9D6D_02EC_5881_4A27, 0xF419_9B9D_A2E4_B2A3, 0x54BC_5B2C_11A4_540A]),
            (u64::MAX, [0x8F55_20D5_2A7E_AD08, 0xC476_A018_CAA1_802D, 0x81DE_31C0_D260_469E, 0xBF65_8D7E_065F_3C2F, 0x9135_93FD_A1BC_A32A, 0xBB53_5E93_941B_A525, 0x5ECD_A415_C3C6_DFDE, 0xC487_398F_C9DE_9AE2]),
        ];
        for (seed, want) in expected {
            let mut r = xoshiro(seed);
            let got: Vec<u64> = (0..8).map(|_| r.next_u64()).collect();
            assert_eq!(got, want, "seed {seed:#x}");
        }
    }

    #[test]
    fn splitmix_streams_equal_the_old_hand_written_generator() {
        let expected: [(u64, [u64; 8]); 4] = [
            (0, [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC, 0x1B39_896A_51A8_749B, 0x53CB_9F0C_747E_A2EA, 0x2C82_9ABE_1F45_32E1, 0xC584_133A_C916_AB3C]),
            (42, [0xBDD7_3226_2FEB_6E95, 0x28EF_E333_B266_F103, 0x4752_6757_130F_9F52, 0x581C_E1FF_0E4A_E394, 0x09BC_585A_2448_23F2, 0xDE44_31FA_3C80_DB06, 0x37E9_671C_4537_6D5D, 0xCCF6_35EE_9E9E_2FA4]),
            (0xDEAD_BEEF, [0x4ADF_B90F_68C9_EB9B, 0xDE58_6A31_41A1_0922, 0x021F_BC2F_8E1C_FC1D, 0x7466_CE73_7BE1_6790, 0x3BFA_8764_F685_BD1C, 0xAB20_3E50_3CB5_5B3F, 0x5A2F_DC2B_F68C_EDB3, 0xB30A_4CCF_430B_1B5A]),
            (u64::MAX, [0xE4D9_7177_1B65_2C20, 0xE99F_F867_DBF6_82C9, 0x382F_F84C_B272_81E9, 0x6D1D_B36C_CBA9_82D2, 0xB4A0_472E_5780_69AE, 0xD31D_ADBD_A438_BB33, 0xF14F_2CF8_0208_3FA5, 0x405D_A438_A39E_8064]),
        ];
        for (seed, want) in expected {
            let mut r = splitmix(seed);
            let got: Vec<u64> = (0..8).map(|_| r.next_u64()).collect();
            assert_eq!(got, want, "seed {seed:#x}");
        }
    }

    #[test]
    fn derived_seeds_equal_the_old_ones() {
        let expected: [(u64, [u64; 4]); 3] = [
            (0, [0xC217_AC47_8E5D_0150, 0x5ADD_9FE6_FAB5_4518, 0x084E_1B30_A8FC_7E4A, 0x7013_52F2_961B_2932]),
            (42, [0x6FDD_427B_0F14_0D54, 0xEC14_0891_16D0_4A6E, 0x00BD_4822_342C_0422, 0xD6B4_783E_B5AC_2EB6]),
            (0xDEAD_BEEF, [0x008A_B144_7AB8_1040, 0x5DE6_A5D4_208C_4DF4, 0xB86C_A95B_C28F_0D71, 0x2F00_AAFF_FDC5_E9F3]),
        ];
        for (seed, want) in expected {
            let got: Vec<u64> = (0..4).map(|i| derive_seed(seed, i)).collect();
            assert_eq!(got, want, "seed {seed:#x}");
        }
    }

    #[test]
    fn distributions_equal_the_old_ones() {
        let bits = |x: f64| x.to_bits();
        let mut r = xoshiro(0);
        let u: Vec<u64> = (0..3).map(|_| bits(r.uniform())).collect();
        assert_eq!(u, [0.6012629994179048, 0.7477740925472398, 0.10301998939503632].map(bits));
        let e: Vec<u64> = (0..3).map(|_| bits(r.exponential(3.0))).collect();
        assert_eq!(e, [1.616590500428293, 3.9614836715930535, 24.86344217090511].map(bits));
        let b: Vec<u64> = (0..4).map(|_| r.below(7)).collect();
        assert_eq!(b, [2, 3, 5, 6]);
        assert_eq!(bits(r.uniform_range(-2.0, 5.0)), bits(-1.199917749154586));

        let mut s = splitmix(0);
        assert_eq!([bits(s.normal()), bits(s.normal())], [-1.8839083333524405, 0.22760793546360525].map(bits));
        assert_eq!(s.int_modulo(3, 9), 5);
        assert_eq!(bits(s.uniform_range(1.0, 2.0)), bits(1.3273257642181258));
        assert_eq!(bits(s.exponential(2.0)), bits(0.38200109936590815));
        assert_eq!(bits(s.uniform()), bits(0.771546556331567));
    }

    // The tests of the two modules this one replaced, unchanged in what they assert.

    #[test]
    fn same_seed_same_stream_different_seed_different_stream() {
        let (mut a, mut b, mut c) = (xoshiro(7), xoshiro(7), xoshiro(8));
        let xa: Vec<u64> = (0..16).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..16).map(|_| b.next_u64()).collect();
        let xc: Vec<u64> = (0..16).map(|_| c.next_u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
    }

    #[test]
    fn uniform_and_exponential_moments() {
        let mut r = xoshiro(1);
        let n = 200_000;
        let mean_u = (0..n).map(|_| r.uniform()).sum::<f64>() / n as f64;
        assert!((mean_u - 0.5).abs() < 0.005, "{mean_u}");
        let mean_e = (0..n).map(|_| r.exponential(3.0)).sum::<f64>() / n as f64;
        assert!((mean_e - 3.0).abs() < 0.05, "{mean_e}");
        let mut counts = [0usize; 7];
        for _ in 0..70_000 {
            counts[r.below(7) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (c as f64 - 10_000.0).abs() < 500.0), "{counts:?}");
    }

    #[test]
    fn derived_seeds_differ() {
        let seeds: std::collections::HashSet<u64> = (0..1000).map(|i| derive_seed(42, i)).collect();
        assert_eq!(seeds.len(), 1000);
        assert_ne!(derive_seed(1, 0), derive_seed(0, 1));
    }

    #[test]
    fn splitmix64_matches_the_reference_stream() {
        // first outputs of SplitMix64 seeded with 0 (reference implementation by S. Vigna)
        let mut r = splitmix(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn distributions_stay_in_range() {
        let mut r = splitmix(7);
        for _ in 0..10_000 {
            let u = r.uniform();
            assert!((0.0..1.0).contains(&u));
            assert!((3..=5).contains(&r.int_modulo(3, 5)));
            assert!(r.normal().is_finite());
            assert!(r.exponential(2.0) >= 0.0);
        }
    }
}
