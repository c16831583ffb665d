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
/// Exactly what `neurotwin dataset` stores for one simulation ([`simulate_raster_sampled`] at 1 ms,
/// samples t = 0 … duration − 1 ms as f32).
pub fn simulate_raster(
    cell: &Cell,
    segs: &DendriticSegments,
    soma_node: usize,
    raster: &InputRaster,
    ampa_only: bool,
    record_dendrites: bool,
) -> Result<SimOutput, SimError> {
    let run = simulate_raster_sampled(cell, segs, soma_node, raster, ampa_only, record_dendrites, 1.0)?;
    let duration = raster.duration_ms() as usize;
    // probes hold t = 0 … duration ms; the dataset stores t = 0 … duration − 1
    let soma_v_1ms = run.soma_v_mv.iter().take(duration).map(|&v| v as f32).collect();
    let dend_v_1ms =
        record_dendrites.then(|| run.segment_v_mv.iter().flat_map(|p| p.iter().take(duration).map(|&v| v as f32)).collect());
    Ok(SimOutput { soma_v_1ms, spike_times_ms: run.spike_times_ms, dend_v_1ms })
}

/// One paper-protocol run sampled every `sample_ms` (a multiple of dt = 0.025 ms).
#[derive(Debug, Clone, PartialEq)]
pub struct SampledRun {
    pub sample_ms: f64,
    /// Soma voltage (mV) at t = 0, sample_ms, 2·sample_ms, … up to the raster's duration.
    pub soma_v_mv: Vec<f64>,
    /// Somatic spikes (upward crossings of −20 mV), ms, ascending.
    pub spike_times_ms: Vec<f64>,
    /// Per dendritic segment (the raster's segment order), its voltage (mV) on the same grid;
    /// empty unless requested.
    pub segment_v_mv: Vec<Vec<f64>>,
}

/// [`simulate_raster`] with the sampling interval chosen (`sample_ms` ≥ dt, a multiple of it) and
/// f64 samples up to and including the raster's duration.
pub fn simulate_raster_sampled(
    cell: &Cell,
    segs: &DendriticSegments,
    soma_node: usize,
    raster: &InputRaster,
    ampa_only: bool,
    record_segments: bool,
    sample_ms: f64,
) -> Result<SampledRun, SimError> {
    let settings = paper_settings(ampa_only);
    let stim = raster_stimulus(raster, segs)?;
    let duration_ms = f64::from(raster.duration_ms());
    let mut recorder = Recorder::default();
    recorder.add_probe(soma_node, sample_ms, settings.dt_ms)?;
    if record_segments {
        for s in &segs.segments {
            recorder.add_probe(s.node, sample_ms, settings.dt_ms)?;
        }
    }
    recorder.set_spike_detector(soma_node, -20.0);
    let mut sim = Simulation::new(cell, settings, &stim)?;
    sim.run_until(duration_ms, &mut recorder)?;
    let spike_times_ms = recorder.spike_times_ms().to_vec();
    let mut probes = recorder.probes.into_iter().map(|p| p.samples_mv);
    let soma_v_mv = probes.next().unwrap_or_default();
    Ok(SampledRun { sample_ms, soma_v_mv, spike_times_ms, segment_v_mv: probes.collect() })
}
