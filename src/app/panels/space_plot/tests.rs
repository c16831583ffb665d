//! The space plot's path and profile against the Cable and the engine's own node voltages.

use super::dendrogram::DendrogramLayout;
use super::path::{apical_trunk_tip, farthest_tip_below, SpacePath};
use crate::app::demos::sites::apical_nexus;
use crate::app::live::engine_model::HayEngineModel;
use crate::app::live::model::{IClamp, LiveModel};
use crate::morphology::{replace_axon_hay2011, synthesize_l5pc, Cable, Discretisation, Morphology, SectionKind};

fn cell() -> (Morphology, Cable) {
    let mut morph = synthesize_l5pc(4).expect("synth").morphology;
    replace_axon_hay2011(&mut morph);
    let cable = Cable::new(&morph, &Discretisation::default()).expect("cable");
    (morph, cable)
}

#[test]
fn the_default_path_runs_up_the_apical_trunk_to_a_tuft_tip() {
    let (morph, cable) = cell();
    let tip = apical_trunk_tip(&morph, &cable).expect("an apical tree");
    let path = SpacePath::to_section(&morph, &cable, tip).expect("path");
    let children = morph.children();
    assert!(children[tip].is_empty(), "ends at a tip");
    assert_eq!(morph.sections[path.sections[0]].kind, SectionKind::Soma);
    assert!(path.sections.contains(&apical_nexus(&morph).expect("nexus")), "passes the nexus");
    for w in path.sections.windows(2) {
        assert_eq!(morph.sections[w[1]].parent, Some(w[0]), "a chain of parent and child");
    }
    assert!(path.sections[1..].iter().all(|&s| morph.sections[s].kind == SectionKind::Apical));
    // every node, in order: soma(0.5), then each section's segments at x = (k + ½)/nseg, at
    // distance dist0 + x·L from the soma
    let mut want = vec![(0usize, 0.5f64)];
    for &s in &path.sections[1..] {
        let nseg = cable.section_nseg[s];
        want.extend((0..nseg).map(|k| (s, (k as f64 + 0.5) / nseg as f64)));
    }
    assert_eq!(path.nodes.len(), want.len());
    for (i, &(s, x)) in want.iter().enumerate() {
        assert_eq!(path.nodes[i], cable.segment_node(s, x), "node {i}");
        let d = if s == 0 { 0.0 } else { cable.section_dist0_um[s] + x * cable.section_length_um[s] };
        assert!((path.dist_um[i] - d).abs() < 1e-6, "node {i}: {} vs {d} µm", path.dist_um[i]);
    }
    assert!(path.dist_um.windows(2).all(|w| w[1] > w[0]), "distances increase");
    assert!(*path.dist_um.last().expect("nodes") > 500.0, "reaches the tuft");
    // the tip beyond a point on a basal stem is the farthest basal tip below it
    let stem = crate::app::demos::sites::basal_stems(&morph)[0];
    let basal_tip = farthest_tip_below(&morph, &cable, stem);
    assert!(children[basal_tip].is_empty() && morph.sections[basal_tip].kind == SectionKind::Basal);
}

#[test]
fn the_profile_is_the_engines_voltage_and_shows_the_ap_travel_up_the_trunk() {
    let (morph, cable) = cell();
    let mut model = HayEngineModel::new(&morph, &cable).expect("model");
    let soma = cable.segment_node(0, 0.5);
    model.set_iclamp(Some(IClamp { node: soma, amp_na: 3.0, delay_ms: 5.0, dur_ms: 3.0 })).expect("clamp");
    let path = SpacePath::to_section(&morph, &cable, apical_trunk_tip(&morph, &cable).expect("tip")).expect("path");
    let mut peak = vec![f64::NEG_INFINITY; path.nodes.len()];
    let mut peak_t_ms = vec![0.0; path.nodes.len()];
    for _ in 0..(20.0 / model.dt_ms()) as usize {
        model.step(1).expect("step");
        // what the UI gets: the snapshot's f32 copy of the engine's node voltages
        let snapshot_v: Vec<f32> = model.node_voltages_mv().iter().map(|&v| v as f32).collect();
        let profile = path.profile(&snapshot_v);
        for (i, (&[d, v], &s_node)) in profile.iter().zip(&path.nodes).enumerate() {
            assert_eq!(d, path.dist_um[i]);
            let engine = model.node_voltages_mv()[s_node];
            assert!((v - engine).abs() < 1e-4, "point {i}: {v} vs the engine's {engine} mV");
            if v > peak[i] {
                peak[i] = v;
                peak_t_ms[i] = model.t_ms();
            }
        }
    }
    assert!(peak[0] > 0.0, "the somatic AP overshoots: {} mV", peak[0]);
    // the back-propagating AP: the peak comes later the farther up the trunk (on this cell at
    // 6.3 °C it also triggers the distal Ca spike, so the peaks do not simply shrink)
    let at = |um: f64| path.dist_um.iter().position(|&d| d >= um).expect("point on the path");
    let (t0, t200, t400) = (peak_t_ms[0], peak_t_ms[at(200.0)], peak_t_ms[at(400.0)]);
    assert!(t0 < t200 && t200 < t400, "peak times {t0} < {t200} < {t400} ms");
}

#[test]
fn the_dendrogram_puts_apical_up_and_parents_over_their_children() {
    let (morph, cable) = cell();
    let layout = DendrogramLayout::new(&morph, &cable);
    let children = morph.children();
    for (si, s) in morph.sections.iter().enumerate() {
        let expected = match s.kind {
            SectionKind::Soma => 0.0,
            SectionKind::Apical => 1.0,
            _ => -1.0,
        };
        assert_eq!(layout.direction[si], expected, "{}", s.name);
        assert!((0.0..=1.0).contains(&layout.x[si]));
        let kids: Vec<f32> = children[si].iter().filter(|&&c| layout.direction[c] == layout.direction[si]).map(|&c| layout.x[c]).collect();
        if kids.len() >= 2 && si != 0 {
            let (lo, hi) = kids.iter().fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            assert!(layout.x[si] >= lo && layout.x[si] <= hi, "{} sits over its children", s.name);
        }
    }
    assert!(layout.max_up_um > 500.0 && layout.max_down_um > 100.0);
}
