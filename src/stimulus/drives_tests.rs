use super::*;

fn chunked(d: &SpikeDrive, from: f64, to: f64, step: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut t = from;
    while t < to {
        let next = (t + step).min(to);
        out.extend(d.spikes_in(t, next).expect("valid window"));
        t = next;
    }
    out
}

#[test]
fn poisson_rate_determinism_and_chunking() {
    let d = SpikeDrive::poisson(20.0, 50.0, 100_050.0, 9).expect("valid");
    let all = d.spikes_in(0.0, 200_000.0).expect("valid");
    // 100 s at 20 Hz: 2000 expected, sd ≈ 45
    assert!((all.len() as f64 - 2000.0).abs() < 200.0, "{}", all.len());
    assert!(all.first().is_some_and(|&t| t >= 50.0) && all.last().is_some_and(|&t| t < 100_050.0));
    assert!(all.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(all, d.spikes_in(0.0, 200_000.0).expect("valid"), "same seed, same spikes");
    assert_eq!(all, chunked(&d, 0.0, 200_000.0, 37.3), "chunking must not change the train");
    let other = SpikeDrive::poisson(20.0, 50.0, 100_050.0, 10).expect("valid");
    assert_ne!(all, other.spikes_in(0.0, 200_000.0).expect("valid"));
    // ISIs exponential: CV ≈ 1
    let isi: Vec<f64> = all.windows(2).map(|w| w[1] - w[0]).collect();
    let m = isi.iter().sum::<f64>() / isi.len() as f64;
    let sd = (isi.iter().map(|x| (x - m).powi(2)).sum::<f64>() / isi.len() as f64).sqrt();
    assert!((sd / m - 1.0).abs() < 0.1, "CV {}", sd / m);
    assert!(SpikeDrive::poisson(0.0, 0.0, 1000.0, 1).expect("valid").spikes_in(0.0, 1000.0).expect("ok").is_empty());
}

#[test]
fn regular_burst_explicit_fire_now() {
    let reg = SpikeDrive::regular(100.0, 5.0, 50.0).expect("valid");
    assert_eq!(reg.spikes_in(0.0, 100.0).expect("ok"), vec![5.0, 15.0, 25.0, 35.0, 45.0]);
    assert_eq!(chunked(&reg, 0.0, 100.0, 7.0), vec![5.0, 15.0, 25.0, 35.0, 45.0]);
    assert_eq!(reg.spikes_in(15.0, 25.0).expect("ok"), vec![15.0], "window is half-open");
    let burst = SpikeDrive::burst(10, 200.0, 100.0).expect("valid");
    let b = burst.spikes_in(0.0, 1000.0).expect("ok");
    assert_eq!(b.len(), 10);
    assert_eq!((b[0], b[9]), (100.0, 145.0), "the golden single_syn_burst times");
    assert_eq!(chunked(&burst, 0.0, 200.0, 3.0), b);
    let ex = SpikeDrive::explicit(vec![30.0, 10.0, 20.0]).expect("valid");
    assert_eq!(ex.spikes_in(10.0, 30.0).expect("ok"), vec![10.0, 20.0]);
    let now = SpikeDrive::fire_now(12.5).expect("valid");
    assert_eq!(now.spikes_in(12.0, 13.0).expect("ok"), vec![12.5]);
    assert!(now.spikes_in(13.0, 14.0).expect("ok").is_empty());
}

#[test]
fn invalid_parameters_are_rejected_with_reasons() {
    assert!(matches!(SpikeDrive::poisson(-1.0, 0.0, 10.0, 0), Err(DriveError::Negative { .. })));
    assert!(matches!(SpikeDrive::poisson(f64::NAN, 0.0, 10.0, 0), Err(DriveError::NotFinite { .. })));
    assert!(matches!(SpikeDrive::regular(0.0, 0.0, 10.0), Err(DriveError::NonPositiveFrequency { .. })));
    assert!(matches!(SpikeDrive::burst(3, -5.0, 0.0), Err(DriveError::NonPositiveFrequency { .. })));
    assert!(matches!(SpikeDrive::burst(0, 5.0, 0.0), Err(DriveError::EmptyBurst)));
    assert!(SpikeDrive::explicit(vec![1.0, f64::NAN]).is_err());
    assert!(SpikeDrive::fire_now(-1.0).is_err());
    let reg = SpikeDrive::regular(10.0, 0.0, 10.0).expect("valid");
    assert!(matches!(reg.spikes_in(5.0, 1.0), Err(DriveError::BadWindow { .. })));
    let msg = SpikeDrive::poisson(-3.0, 0.0, 1.0, 0).expect_err("negative").to_string();
    assert!(msg.contains("-3") && msg.contains("≥ 0"), "{msg}");
}

#[test]
fn drives_above_the_limits_are_refused_naming_the_field() {
    let e = SpikeDrive::burst(u32::MAX, 100.0, 0.0).expect_err("4294967295 spikes").to_string();
    assert!(e.contains("burst n_spikes = 4294967295") && e.contains("limit of 100"), "{e}");
    assert!(SpikeDrive::burst(100, 100.0, 0.0).is_ok());
    let e = SpikeDrive::regular(1e9, 0.0, 1e9).expect_err("1 GHz").to_string();
    assert!(e.contains("regular-train rate (Hz) = 1e9") && e.contains("limit of 1000"), "{e}");
    let e = SpikeDrive::poisson(1e9, 0.0, 1e9, 1).expect_err("1 GHz").to_string();
    assert!(e.contains("Poisson rate (Hz)") && e.contains("limit of 1000"), "{e}");
    assert!(SpikeDrive::poisson(1000.0, 0.0, 1e9, 1).is_ok());
    assert!(SpikeDrive::burst(3, 2000.0, 0.0).is_err());
    assert!(SpikeDrive::regular(10.0, 1e12, 2e12).is_err());
    assert!(SpikeDrive::explicit(vec![0.0; crate::limits::MAX_SPIKE_LIST_LEN + 1]).is_err());
    assert!(SpikeDrive::explicit(vec![1e10]).is_err());
    assert!(SpikeDrive::fire_now(1e10).is_err());
    // the worker's pull checks again: a drive built around the constructors never walks 4.3e9 spikes
    let hostile = SpikeDrive::Burst { n_spikes: u32::MAX, freq_hz: 1e9, start_ms: 0.0 };
    let t = std::time::Instant::now();
    assert!(hostile.spikes_in(0.0, 1.0).is_err());
    assert!(t.elapsed().as_secs_f64() < 0.1);
}

#[test]
fn clamps_validate_and_switch_on_for_their_window() {
    let c = CurrentClamp::new(ClampSite::Soma, 0.8, 100.0, 1000.0).expect("valid");
    assert_eq!(c.current_na(99.99), 0.0);
    assert_eq!(c.current_na(100.0), 0.8);
    assert_eq!(c.current_na(1100.0), 0.0);
    let site = ClampSite::Dendrite { sec: "apic[36]".into(), x: 1.5 };
    assert!(matches!(CurrentClamp::new(site, 0.5, 0.0, 5.0), Err(DriveError::BadLocation(_))));
    assert!(CurrentClamp::new(ClampSite::Soma, f64::NAN, 0.0, 5.0).is_err());
    assert!(CurrentClamp::new(ClampSite::Soma, 1.0, 0.0, -5.0).is_err());
    let json = serde_json::to_string(&c).expect("serialise");
    assert_eq!(serde_json::from_str::<CurrentClamp>(&json).expect("parse"), c);
}
