//! The paper's simulation of one input raster (Beniaguev et al. 2021, spec §5-§6): every
//! dendritic segment carries one excitatory and one inhibitory synapse driven by its raster row;
//! NEURON's fixed step at dt = 0.025 ms, celsius 6.3 °C, v_init −76 mV; soma (and optionally every
//! dendritic segment) sampled at 1 ms; somatic spikes as −20 mV upward crossings.
//! Glue between `stimulus` (inputs), `biophysics` (engine) and `dataset` (what is stored).

use crate::biophysics::recording::Recorder;
use crate::biophysics::simulation::{SimError, SimSettings, Simulation, Stimulus, SynapseSpec};
use crate::biophysics::Cell;
use crate::dataset::SimOutput;
use crate::stimulus::{DendriticSegments, InputRaster};

/// The paper's global settings (spec §5): 6.3 °C (NEURON's default), v_init −76 mV, dt 0.025 ms.
pub fn paper_settings(ampa_only: bool) -> SimSettings {
    SimSettings { dt_ms: 0.025, celsius: 6.3, v_init_mv: -76.0, ampa_only, silence_synapses_with_t0_event: true }
}

/// The engine's stimulus for a raster: one synapse per row that has spikes, at its segment's node.
pub fn raster_stimulus(raster: &InputRaster, segs: &DendriticSegments) -> Result<Stimulus, SimError> {
    if raster.n_segments() != segs.len() {
        return Err(SimError::Stimulus(format!(
            "the raster has {} segments but the cell has {} dendritic segments",
            raster.n_segments(),
            segs.len()
        )));
    }
    let mut synapses = Vec::new();
    for row in 0..raster.n_rows() {
        let spikes = raster.spikes(row);
        if spikes.is_empty() {
            continue;
        }
        let (kind, seg) = raster.kind_and_segment(row);
        synapses.push(SynapseSpec { kind, node: segs.segments[seg].node, spikes_ms: spikes.iter().map(|&t| f64::from(t)).collect() });
    }
    Ok(Stimulus { synapses, ..Default::default() })
}

/// Simulate `raster` on `cell` for the raster's duration. `soma_node` is the soma's centre node.
pub fn simulate_raster(
    cell: &Cell,
    segs: &DendriticSegments,
    soma_node: usize,
    raster: &InputRaster,
    ampa_only: bool,
    record_dendrites: bool,
) -> Result<SimOutput, SimError> {
    let settings = paper_settings(ampa_only);
    let stim = raster_stimulus(raster, segs)?;
    let duration_ms = f64::from(raster.duration_ms());
    let mut recorder = Recorder::default();
    recorder.add_probe(soma_node, 1.0, settings.dt_ms)?;
    if record_dendrites {
        for s in &segs.segments {
            recorder.add_probe(s.node, 1.0, settings.dt_ms)?;
        }
    }
    recorder.set_spike_detector(soma_node, -20.0);
    let mut sim = Simulation::new(cell, settings, &stim)?;
    sim.run_until(duration_ms, &mut recorder)?;
    let duration = raster.duration_ms() as usize;
    // probes hold t = 0 … duration ms; the dataset stores t = 0 … duration − 1
    let soma_v_1ms = recorder.probes[0].samples_mv.iter().take(duration).map(|&v| v as f32).collect();
    let dend_v_1ms = record_dendrites.then(|| {
        recorder.probes[1..].iter().flat_map(|p| p.samples_mv.iter().take(duration).map(|&v| v as f32)).collect()
    });
    Ok(SimOutput { soma_v_1ms, spike_times_ms: recorder.spike_times_ms().to_vec(), dend_v_1ms })
}
