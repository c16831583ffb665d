use super::*;
use crate::rng::{xoshiro, Draw};

/// The original's smoothing written out literally: expand to bins, then 'same' convolution with
/// the normalised window of length 1 + 7σ (scipy `signal.convolve(..., mode='same')`).
fn naive_smooth(coarse: &[f64], t_c: usize, sigma: usize, duration: usize) -> Vec<f64> {
    let rate: Vec<f64> = (0..duration).map(|t| coarse[t / t_c]).collect();
    let m = 1 + 7 * sigma;
    let half = (m as f64 - 1.0) / 2.0;
    let w: Vec<f64> = (0..m).map(|n| (-0.5 * ((n as f64 - half) / sigma as f64).powi(2)).exp()).collect();
    let total: f64 = w.iter().sum();
    let c = (m - 1) / 2;
    (0..duration)
        .map(|i| {
            (0..m)
                .filter_map(|k| {
                    let j = i as i64 + c as i64 - k as i64;
                    (j >= 0 && (j as usize) < duration).then(|| rate[j as usize] * w[k] / total)
                })
                .sum()
        })
        .collect()
}

#[test]
fn interval_kernels_equal_the_literal_same_convolution() {
    let mut rng = xoshiro(3);
    for &(t_c, sigma, duration) in &[(7usize, 3usize, 100usize), (25, 6, 300), (96, 38, 1000), (30, 50, 500), (450, 25, 1000), (6, 619, 700)] {
        let n = duration.div_ceil(t_c);
        let coarse: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let fast = {
            let mut out = vec![0.0; duration];
            IntervalKernels::new(t_c, sigma, duration).smooth(&coarse, &mut out);
            out
        };
        let slow = naive_smooth(&coarse, t_c, sigma, duration);
        let worst = fast.iter().zip(&slow).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-12, "t_c {t_c} σ {sigma}: max diff {worst}");
    }
}

/// The interval kernels' sum as it was first written, one indexed element at a time (every
/// dataset made before the loop was vectorised used it).
fn smooth_one_bin_at_a_time(k: &IntervalKernels, coarse: &[f64], out: &mut [f64]) {
    out.iter_mut().for_each(|v| *v = 0.0);
    let n = coarse.len();
    for (i, &r) in coarse.iter().enumerate() {
        if r == 0.0 {
            continue;
        }
        let kernel = if i + 1 == n { &k.last } else { &k.full };
        let start = (i * k.t_c) as i64 - k.center as i64;
        let lo_idx = (-start).max(0) as usize;
        let hi_idx = ((k.duration as i64 - start).max(0) as usize).min(kernel.len());
        for idx in lo_idx..hi_idx {
            out[(start + idx as i64) as usize] += r * kernel[idx];
        }
    }
}

/// The vectorised sum (portable and, where the CPU has it, AVX2) gives the same bits as the one
/// bin at a time, so a dataset's seed still makes exactly the simulations it made before.
#[test]
fn the_vectorised_smoothing_is_bit_for_bit_the_one_bin_at_a_time_sum() {
    let mut rng = xoshiro(11);
    for &(t_c, sigma, duration) in &[(7usize, 3usize, 100usize), (25, 6, 300), (96, 38, 1000), (30, 50, 500), (450, 25, 6000), (6, 619, 700), (25, 100, 6000)] {
        let k = IntervalKernels::new(t_c, sigma, duration);
        let n = duration.div_ceil(t_c);
        // rates spanning decades, with zero intervals (skipped) among them
        let coarse: Vec<f64> = (0..n).map(|i| if i % 5 == 3 { 0.0 } else { rng.uniform() * 10f64.powi((i % 7) as i32 - 4) }).collect();
        let mut reference = vec![f64::NAN; duration];
        smooth_one_bin_at_a_time(&k, &coarse, &mut reference);
        let mut portable = vec![f64::NAN; duration];
        k.smooth_portable(&coarse, &mut portable);
        let mut dispatched = vec![f64::NAN; duration];
        k.smooth(&coarse, &mut dispatched);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&portable), bits(&reference), "t_c {t_c} σ {sigma}: portable");
        assert_eq!(bits(&dispatched), bits(&reference), "t_c {t_c} σ {sigma}: dispatched");
    }
}

#[test]
fn validation_names_the_bad_parameter() {
    let mut p = PaperProtocol::nmda();
    assert!(p.validate().is_ok());
    assert!(PaperProtocol::ampa().validate().is_ok());
    p.basal_exc_per_100ms = [-1.0, 800.0];
    let e = p.validate().expect_err("negative rate").to_string();
    assert!(e.contains("basal_exc_per_100ms"), "{e}");
    let mut p = PaperProtocol::nmda();
    p.smoothing_sigma_options_ms = vec![10, 50];
    assert!(p.validate().expect_err("σ can reach 0").to_string().contains("smoothing_sigma"));
    let mut p = PaperProtocol::nmda();
    p.rate_change_interval_options_ms.clear();
    assert!(p.validate().is_err());
    let mut p = PaperProtocol::nmda();
    p.apical_inh_minus_exc_per_100ms = [-600.0, -10.0];
    assert!(p.validate().is_err());
    let mut p = PaperProtocol::nmda();
    p.spatial_noise = [1.5, 0.5];
    assert!(p.validate().is_err());
    let mut p = PaperProtocol::nmda();
    p.min_seg_length_um = f64::NAN;
    assert!(p.validate().is_err());
    let mut p = PaperProtocol::nmda();
    p.duration_ms = 0;
    assert!(p.validate().is_err());
}

#[test]
fn jitter_stays_inside_the_truncated_range() {
    let mut rng = xoshiro(11);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20_000 {
        seen.insert(jittered(&mut rng, &[100], 20));
    }
    assert_eq!(seen.first().copied(), Some(81));
    assert_eq!(seen.last().copied(), Some(119));
    assert_eq!(seen.len(), 39);
}

#[test]
fn params_round_trip_through_json() {
    let p = PaperProtocol::ampa();
    let json = serde_json::to_string(&p).expect("serialise");
    assert!(json.contains("\"variant\":\"ampa\""));
    assert_eq!(serde_json::from_str::<PaperProtocol>(&json).expect("parse"), p);
}
