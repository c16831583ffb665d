//! Hostile scenarios (issue 27): each is refused with a message naming the field and the limit,
//! in well under a second, and changes nothing (neither the UI's lists and controls nor the
//! engine); a scenario at the limits is applied whole.

use super::*;
use crate::app::live::model::SynapseKind;
use crate::app::session::{MorphologySource, Session};
use crate::stimulus::SpikeDrive;
use std::time::{Duration, Instant};

fn session() -> Session {
    let morph = MorphologySource::EmbeddedSynthetic.load().expect("built-in cell");
    let factory = crate::app::live::engine_model::factory();
    let s = Session::from_morphology(morph, Some(&factory), 1).expect("session");
    wait(&s, |snap| snap.seq >= 1);
    s
}

fn wait(s: &Session, what: impl Fn(&crate::app::live::runner::Snapshot) -> bool) {
    let start = Instant::now();
    while !what(&s.runner.snapshot()) {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn scenario(s: &Session, n_synapses: usize, n_sites: usize, drive: SpikeDrive) -> Scenario {
    let name = s.morph.sections.iter().find(|sec| sec.name.starts_with("apic")).expect("an apical section").name.clone();
    Scenario {
        format: SCENARIO_FORMAT.into(),
        morphology: None,
        synapses: (0..n_synapses).map(|_| ScenarioSynapse { section: name.clone(), x: 0.5, kind: SynapseKind::Excitatory, drive: drive.clone() }).collect(),
        recording_sites: (0..n_sites).map(|_| ScenarioSite { section: name.clone(), x: 0.5 }).collect(),
        clamp: Some(ScenarioClamp { on: true, amp_na: 0.5, delay_ms: 10.0, dur_ms: 100.0 }),
        background: None,
        nmda: true,
        real_time_factor: 1.0,
        max_speed: false,
    }
}

/// Apply `sc` on a session holding one synapse and one site: it must fail within a second with
/// a message containing every `needles`, and leave the session as it was.
fn refused(sc: &Scenario, needles: &[&str]) {
    let mut s = session();
    let mut controls = ControlPanel::default();
    let mut first = scenario(&s, 1, 1, SpikeDrive::Regular { rate_hz: 5.0, start_ms: 0.0, stop_ms: 1e9 });
    first.clamp = None;
    first.apply(&s.morph, &s.cable, &mut controls, &mut s.placements, &mut s.runner).expect("a plain scenario");
    let before = (s.placements.synapses.clone(), s.placements.sites.clone(), controls.clamp, controls.clamp_on, controls.speed_log10);
    let t = Instant::now();
    let e = format!("{:#}", sc.apply(&s.morph, &s.cable, &mut controls, &mut s.placements, &mut s.runner).expect_err("refused"));
    assert!(t.elapsed() < Duration::from_secs(1), "took {:?}", t.elapsed());
    for n in needles {
        assert!(e.contains(n), "{n:?} not in: {e}");
    }
    let after = (s.placements.synapses.clone(), s.placements.sites.clone(), controls.clamp, controls.clamp_on, controls.speed_log10);
    assert_eq!(before, after, "a refused scenario changes nothing");
    // nor the engine: it still has the one site of the first scenario
    s.runner.send(Command::StepMs(1.0));
    wait(&s, |snap| snap.t_ms >= 1.0 - 1e-9);
    assert_eq!(s.runner.snapshot().sites.len(), 1);
    assert!(s.runner.send_error.is_none(), "{:?}", s.runner.send_error);
}

#[test]
fn a_burst_of_4294967295_spikes_is_refused() {
    let s = session();
    let sc = scenario(&s, 1, 0, SpikeDrive::Burst { n_spikes: u32::MAX, freq_hz: 100.0, start_ms: 0.0 });
    refused(&sc, &["synapses[0].drive", "burst n_spikes = 4294967295", "limit of 100"]);
}

#[test]
fn gigahertz_regular_and_poisson_drives_are_refused() {
    let s = session();
    refused(&scenario(&s, 1, 0, SpikeDrive::Regular { rate_hz: 1e9, start_ms: 0.0, stop_ms: 1e9 }), &["synapses[0].drive", "regular-train rate", "limit of 1000"]);
    refused(&scenario(&s, 2, 0, SpikeDrive::Poisson { rate_hz: 1e9, start_ms: 0.0, stop_ms: 1e9, seed: 1 }), &["Poisson rate (Hz) = 1e9", "limit of 1000"]);
}

#[test]
fn ten_thousand_sites_and_twenty_thousand_synapses_are_refused() {
    let s = session();
    refused(&scenario(&s, 0, 10_000, crate::app::live::drives::silent()), &["recording_sites is 10000", "limit of 32"]);
    refused(&scenario(&s, 20_000, 0, crate::app::live::drives::silent()), &["synapses is 20000", "limit of 1000", "NEUROTWIN_MAX_SYNAPSES"]);
}

#[test]
fn a_huge_clamp_from_negative_time_is_refused_not_clamped() {
    let s = session();
    let mut sc = scenario(&s, 0, 0, crate::app::live::drives::silent());
    sc.clamp = Some(ScenarioClamp { on: true, amp_na: 1e300, delay_ms: 0.0, dur_ms: 5.0 });
    refused(&sc, &["clamp.amp_na (nA) is 1e300", "[-5, 5]"]);
    sc.clamp = Some(ScenarioClamp { on: true, amp_na: 1.0, delay_ms: -5.0, dur_ms: 5.0 });
    refused(&sc, &["clamp.delay_ms (ms) is -5", "[0, 1000000]"]);
    sc.clamp = None;
    sc.real_time_factor = 1e6;
    refused(&sc, &["real_time_factor is 1000000", "[0.01, 10]"]);
    sc.real_time_factor = 1.0;
    sc.background = Some(ScenarioBackground { on: true, settings: crate::app::live::drives::BackgroundSettings { basal_exc_per_100ms: 1e7, ..Default::default() } });
    refused(&sc, &["background.basal_exc_per_100ms is 10000000", "[0, 5000]"]);
}

#[test]
fn a_scenario_at_the_limits_is_applied_whole() {
    let mut s = session();
    let mut controls = ControlPanel::default();
    let n = crate::limits::MAX_SYNAPSES;
    let sc = scenario(&s, n, crate::limits::MAX_RECORDING_SITES, crate::app::live::drives::silent());
    sc.apply(&s.morph, &s.cable, &mut controls, &mut s.placements, &mut s.runner).expect("at the limits");
    // and again over it: the removals and additions (2n + sites commands) are one command
    sc.apply(&s.morph, &s.cable, &mut controls, &mut s.placements, &mut s.runner).expect("replaced whole");
    assert_eq!(s.placements.synapses.len(), n);
    s.runner.send(Command::StepMs(1.0));
    wait(&s, |snap| snap.t_ms >= 1.0 - 1e-9);
    assert_eq!(s.runner.snapshot().sites.len(), crate::limits::MAX_RECORDING_SITES);
    assert!(s.runner.send_error.is_none(), "{:?}", s.runner.send_error);
    assert!(s.runner.snapshot().error.is_none(), "{:?}", s.runner.snapshot().error);
    // one more by a click is refused with the reason on the status line
    let at = s.placements.synapses[0].at.clone();
    assert!(s.placements.add_synapse(&mut s.runner, at.clone(), SynapseKind::Inhibitory).is_none());
    assert!(s.runner.send_error.as_deref().is_some_and(|e| e.contains("limit of 1000")), "{:?}", s.runner.send_error);
    assert!(s.placements.add_site(&mut s.runner, at).is_none());
    assert_eq!(s.placements.synapses.len(), n);
}

#[test]
fn a_fifo_or_dev_zero_as_scenario_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("s.json");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    let t = Instant::now();
    let e = format!("{:#}", Scenario::load(&fifo).expect_err("fifo"));
    assert!(e.contains("not a regular file (a FIFO)") && e.contains("s.json"), "{e}");
    let e = format!("{:#}", Scenario::load(Path::new("/dev/zero")).expect_err("device"));
    assert!(e.contains("character device"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(1));
}

#[test]
fn the_fuzz_seed_is_a_valid_scenario_within_the_limits() {
    let s = Scenario::parse(include_str!("../../fuzz/seeds/scenario/small.json"), "small.json").expect("parses");
    s.check_limits().expect("within the limits");
    assert_eq!((s.synapses.len(), s.recording_sites.len()), (3, 1));
    let e = format!("{:#}", Scenario::parse(r#"{"format": "other"}"#, "x.json").expect_err("format"));
    assert!(e.contains("x.json") && e.contains("neurotwin-scenario-v1"), "{e}");
}
