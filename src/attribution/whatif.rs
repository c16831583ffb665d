//! What-if runs confirmed by the engine: simulate a raster up to a checkpoint (the start of the
//! twin's window), keep the simulation's full state there, and continue from it with the
//! original raster or an edited one. Every row that has spikes in either raster gets its synapse
//! when the checkpoint is made, so continuing with the original raster is the very same
//! computation as the uninterrupted run, bit for bit.

use super::AttributionError;
use crate::biophysics::recording::Recorder;
use crate::biophysics::simulation::{LiveSynapse, Simulation, Stimulus};
use crate::biophysics::Cell;
use crate::dataset::paper_sim::paper_settings;
use crate::stimulus::{DendriticSegments, InputRaster};

/// Spike threshold of the somatic detector (mV), as in the datasets.
pub const SPIKE_THRESHOLD_MV: f64 = -20.0;

/// The soma trace and spikes of a run, from t = 0.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineTrace {
    /// Somatic voltage every 1 ms from t = 0 (mV).
    pub soma_v_mv: Vec<f64>,
    /// Somatic spikes (−20 mV upward crossings, ms).
    pub spike_times_ms: Vec<f64>,
}

impl EngineTrace {
    /// Whether there is a somatic spike within `tolerance_ms` of `t_ms`.
    pub fn has_spike_near(&self, t_ms: f64, tolerance_ms: f64) -> bool {
        self.spike_times_ms.iter().any(|&s| (s - t_ms).abs() <= tolerance_ms)
    }
}

/// The engine's state at `t_ms`, ready to continue with any raster that differs from the one it
/// was made with only at or after `t_ms`.
#[derive(Clone)]
pub struct Checkpoint {
    sim: Simulation,
    recorder: Recorder,
    /// Synapse of each input row (`None`: the row had no spikes and no synapse was made).
    synapses: Vec<Option<LiveSynapse>>,
    nodes: Vec<usize>,
    t_ms: f64,
    duration_ms: u32,
    n_segments: usize,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint").field("t_ms", &self.t_ms).field("n_synapses", &self.synapses.iter().flatten().count()).finish()
    }
}

impl Checkpoint {
    /// Simulate `raster` on `cell` at the paper's settings up to `t_ms` (whole ms). Rows that
    /// have no spikes in `raster` but may receive some in an edit must be listed in
    /// `extra_rows` (they get a synapse from the start, which is silent until it gets a spike).
    pub fn new(
        cell: &Cell,
        segs: &DendriticSegments,
        soma_node: usize,
        raster: &InputRaster,
        t_ms: u32,
        ampa_only: bool,
        extra_rows: &[usize],
    ) -> Result<Checkpoint, AttributionError> {
        if raster.n_segments() != segs.len() {
            return Err(AttributionError::Segments { raster: raster.n_segments(), cell: segs.len() });
        }
        let settings = paper_settings(ampa_only);
        let mut sim = Simulation::new(cell, settings, &Stimulus::default())?;
        let mut synapses = vec![None; raster.n_rows()];
        let nodes: Vec<usize> = (0..raster.n_rows()).map(|r| segs.segments[raster.kind_and_segment(r).1].node).collect();
        for row in 0..raster.n_rows() {
            if !raster.spikes(row).is_empty() || extra_rows.contains(&row) {
                let (kind, _) = raster.kind_and_segment(row);
                let syn = sim.add_synapse(kind, nodes[row])?;
                for &t in raster.spikes(row) {
                    sim.schedule_spike(syn, f64::from(t))?;
                }
                synapses[row] = Some(syn);
            }
        }
        let mut recorder = Recorder::default();
        recorder.add_probe(soma_node, 1.0, settings.dt_ms)?;
        recorder.set_spike_detector(soma_node, SPIKE_THRESHOLD_MV);
        let t = f64::from(t_ms);
        // at t = 0 nothing runs yet: the first `run_until` records the initial state once
        if t_ms > 0 {
            sim.run_until(t, &mut recorder)?;
        }
        Ok(Checkpoint { sim, recorder, synapses, nodes, t_ms: t, duration_ms: raster.duration_ms(), n_segments: raster.n_segments() })
    }

    /// The checkpoint's time (ms).
    pub fn t_ms(&self) -> f64 {
        self.t_ms
    }

    /// Move the checkpoint later, to `t_ms`, continuing its own (original) run.
    pub fn advance_to(&mut self, t_ms: u32) -> Result<(), AttributionError> {
        let t = f64::from(t_ms);
        if t > self.t_ms {
            self.sim.run_until(t, &mut self.recorder)?;
            self.t_ms = t;
        }
        Ok(())
    }

    /// Continue to `to_ms` with `raster`'s spikes from the checkpoint on (its spikes before the
    /// checkpoint are ignored: they were delivered with the original raster). The trace covers
    /// t = 0 … `to_ms`.
    pub fn run(&self, raster: &InputRaster, to_ms: f64) -> Result<EngineTrace, AttributionError> {
        if raster.n_rows() != self.synapses.len() || raster.n_segments() != self.n_segments {
            return Err(AttributionError::Segments { raster: raster.n_segments(), cell: self.n_segments });
        }
        let mut sim = self.sim.clone();
        let mut recorder = self.recorder.clone();
        sim.cancel_all_spikes();
        // each synapse's pending spikes are rescheduled in time order, as `new` scheduled them
        for (row, syn) in self.synapses.iter().enumerate() {
            let future = raster.spikes(row).iter().filter(|&&t| f64::from(t) >= self.t_ms);
            match syn {
                Some(syn) => {
                    for &t in future {
                        sim.schedule_spike(*syn, f64::from(t))?;
                    }
                }
                None => {
                    let mut future = future.peekable();
                    if future.peek().is_some() {
                        let (kind, _) = raster.kind_and_segment(row);
                        let syn = sim.add_synapse(kind, self.nodes[row])?;
                        for &t in future {
                            sim.schedule_spike(syn, f64::from(t))?;
                        }
                    }
                }
            }
        }
        sim.run_until(to_ms.min(f64::from(self.duration_ms)), &mut recorder)?;
        Ok(EngineTrace {
            soma_v_mv: recorder.probes.first().map(|p| p.samples_mv.clone()).unwrap_or_default(),
            spike_times_ms: recorder.spike_times_ms().to_vec(),
        })
    }
}

/// Simulate a whole raster without interruption (the reference for the checkpoint tests).
pub fn simulate(cell: &Cell, segs: &DendriticSegments, soma_node: usize, raster: &InputRaster, to_ms: f64, ampa_only: bool) -> Result<EngineTrace, AttributionError> {
    let cp = Checkpoint::new(cell, segs, soma_node, raster, 0, ampa_only, &[])?;
    cp.run(raster, to_ms)
}
