//! The dataset path (raster → engine at the paper's settings → 1-ms samples) against NEURON: the
//! golden paper-input case, converted to an `InputRaster`, must give NEURON's soma trace.

mod common;

use neurotwin::biophysics::recipe::hay2011::{build_cell, Hay2011Variant};
use neurotwin::golden::case::Case;
use neurotwin::morphology::{load_hay2011, Discretisation};
use neurotwin::stimulus::{DendriticSegments, InputRaster, SynapseSpec};

#[test]
fn raster_simulation_reproduces_neuron_on_the_paper_input() {
    let morph = load_hay2011(&common::shared("morphologies/cell1.asc")).expect("cell1.asc");
    let cell = build_cell(&morph, &Discretisation::default(), Hay2011Variant::default()).expect("cell");
    let segs = DendriticSegments::new(&cell.morphology, &cell.cable).expect("segments");
    assert_eq!(segs.len(), 639);
    let case = Case::load(&common::shared("reference/paper_input_nmda_seed1001.json")).expect("case");
    let duration_ms = 1500;
    let synapses: Vec<SynapseSpec> = case
        .synapses
        .iter()
        .map(|s| SynapseSpec {
            kind: s.kind,
            sec: s.sec.clone(),
            x: s.x,
            spikes_ms: s.spikes_ms.iter().copied().filter(|t| *t < f64::from(duration_ms)).collect(),
            paper_seg_index: s.paper_seg_index,
        })
        .collect();
    let raster = InputRaster::from_synapses(&segs, &synapses, duration_ms).expect("raster");
    let soma = cell.cable.segment_node(0, 0.5);
    let out = neurotwin::dataset::paper_sim::simulate_raster(&cell, &segs, soma, &raster, false, true).expect("simulate");
    assert_eq!(out.soma_v_1ms.len(), duration_ms as usize);
    let dend = out.dend_v_1ms.as_ref().expect("dendritic voltages");
    assert_eq!(dend.len(), 639 * duration_ms as usize);
    let reference = case.results.as_ref().expect("results");
    // the golden soma trace is sampled every 0.1 ms: every 10th sample is a whole ms
    let step = (1.0 / case.recording.soma_dt_ms).round() as usize;
    let mut sq = 0.0;
    for (k, v) in out.soma_v_1ms.iter().enumerate() {
        let r = reference.soma_v[k * step];
        sq += (f64::from(*v) - r).powi(2);
    }
    let rmse = (sq / f64::from(duration_ms)).sqrt();
    assert!(rmse < 0.02, "soma RMSE {rmse} mV over {duration_ms} ms");
    let ref_spikes: Vec<f64> = reference.spike_times_ms.iter().copied().filter(|t| *t < f64::from(duration_ms)).collect();
    assert!(!ref_spikes.is_empty(), "the case must spike within the window for this test to mean anything");
    assert_eq!(out.spike_times_ms.len(), ref_spikes.len(), "ours {:?} vs NEURON {:?}", out.spike_times_ms, ref_spikes);
    for (a, b) in out.spike_times_ms.iter().zip(&ref_spikes) {
        assert!((a - b).abs() < 0.05, "spike {a} vs {b} ms");
    }
    // the nexus site of the golden file is recorded every 1 ms: our dendritic voltage of the same
    // segment must agree
    let nexus = case.recording.sites.iter().position(|s| s.sec == "apic[50]").expect("nexus site");
    let seg = segs.locate("apic[50]", case.recording.sites[nexus].x).expect("nexus segment");
    let n = duration_ms as usize;
    let worst = (0..n).map(|k| (f64::from(dend[seg * n + k]) - reference.sites_v[nexus][k]).abs()).fold(0.0, f64::max);
    assert!(worst < 0.1, "nexus worst difference {worst} mV");
}
