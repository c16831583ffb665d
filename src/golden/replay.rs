//! Replaying a golden case (`l5pc-golden-v1`) on the Hay 2011 cell: validate, build the cell and
//! stimulus, run, and collect results in the same format; plus comparison metrics.

use crate::biophysics::recipe::hay2011::{build_cell, Hay2011Variant};
use crate::biophysics::{Cell, EpscCurrent, IClamp, Recorder, SimError, SimSettings, Simulation, Stimulus, SynapseSpec};
use super::case::{Case, Results};
use crate::morphology::{Discretisation, Morphology};

/// Errors of a replay, all detected before simulating except `Sim`.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("invalid case: {0}")]
    Invalid(String),
    #[error("building the cell: {0}")]
    Cell(#[from] crate::morphology::cable::CableError),
    #[error(transparent)]
    Sim(#[from] SimError),
}

fn finite(name: &str, x: f64) -> Result<f64, ReplayError> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(ReplayError::Invalid(format!("{name} is {x}")))
    }
}

/// The node of (sec, x), with a clear error for unknown sections and x outside [0, 1].
pub fn locate(cell: &Cell, what: &str, sec: &str, x: f64) -> Result<usize, ReplayError> {
    cell.cable.locate(&cell.morphology, sec, x).map_err(|e| ReplayError::Invalid(format!("{what}: {e}")))
}

/// Simulation settings of a case.
pub fn settings(case: &Case) -> Result<SimSettings, ReplayError> {
    let dt_ms = case.sim.dt.ok_or_else(|| ReplayError::Invalid("sim.dt is null (a CVODE reference); replay needs a fixed dt".into()))?;
    finite("sim.dt", dt_ms)?;
    if dt_ms <= 0.0 {
        return Err(ReplayError::Invalid(format!("sim.dt must be positive, got {dt_ms}")));
    }
    if finite("sim.tstop", case.sim.tstop)? < 0.0 {
        return Err(ReplayError::Invalid(format!("sim.tstop must not be negative, got {}", case.sim.tstop)));
    }
    crate::limits::check_tstop_dt("sim.", case.sim.tstop, dt_ms).map_err(|e| ReplayError::Invalid(e.to_string()))?;
    Ok(SimSettings {
        dt_ms,
        celsius: finite("sim.celsius", case.sim.celsius)?,
        v_init_mv: finite("sim.v_init", case.sim.v_init)?,
        ampa_only: case.model.variant_flags.ampa_only.unwrap_or(false),
        silence_synapses_with_t0_event: true,
    })
}

/// The Hay 2011 cell for a case's variant flags.
pub fn cell_for(case: &Case, morph: &Morphology) -> Result<Cell, ReplayError> {
    let flags = case.model.variant_flags;
    let variant = Hay2011Variant { passive: flags.passive.unwrap_or(false), keep_ih: flags.keep_ih.unwrap_or(false) };
    Ok(build_cell(morph, &Discretisation::default(), variant)?)
}

/// Stimulus of a case, located on `cell`.
pub fn stimulus(case: &Case, cell: &Cell) -> Result<Stimulus, ReplayError> {
    let mut stim = Stimulus::default();
    for (k, c) in case.stimuli.iclamps.iter().enumerate() {
        let node = locate(cell, &format!("iclamp {k}"), &c.sec, c.x)?;
        if finite("iclamp dur_ms", c.dur_ms)? < 0.0 {
            return Err(ReplayError::Invalid(format!("iclamp {k}: negative duration {} ms", c.dur_ms)));
        }
        stim.iclamps.push(IClamp { node, delay_ms: finite("iclamp delay_ms", c.delay_ms)?, dur_ms: c.dur_ms, amp_na: finite("iclamp amp_nA", c.amp_na)? });
    }
    for (k, e) in case.stimuli.epsp_currents.iter().enumerate() {
        let node = locate(cell, &format!("epsp current {k}"), &e.sec, e.x)?;
        for (n, v) in [("onset_ms", e.onset_ms), ("tau0_ms", e.tau0_ms), ("tau1_ms", e.tau1_ms), ("imax_nA", e.imax_na)] {
            finite(&format!("epsp current {k} {n}"), v)?;
        }
        if !(e.tau0_ms > 0.0 && e.tau1_ms > 0.0 && e.tau0_ms != e.tau1_ms) {
            return Err(ReplayError::Invalid(format!("epsp current {k}: taus must be positive and distinct")));
        }
        stim.epscs.push(EpscCurrent::new(node, e.onset_ms, e.tau0_ms, e.tau1_ms, e.imax_na));
    }
    for (k, s) in case.synapses.iter().enumerate() {
        let node = locate(cell, &format!("synapse {k}"), &s.sec, s.x)?;
        if let Some(bad) = s.spikes_ms.iter().find(|t| !(t.is_finite() && **t >= 0.0)) {
            return Err(ReplayError::Invalid(format!("synapse {k}: spike time {bad} ms is negative or not finite")));
        }
        stim.synapses.push(SynapseSpec { kind: s.kind, node, spikes_ms: s.spikes_ms.clone() });
    }
    Ok(stim)
}

/// Run a case on `morph`; returns the results in the golden format.
pub fn replay(case: &Case, morph: &Morphology) -> Result<Results, ReplayError> {
    let settings = settings(case)?;
    let cell = cell_for(case, morph)?;
    let stim = stimulus(case, &cell)?;
    let mut recorder = recorder_for(case, &cell, settings.dt_ms)?;
    let mut sim = Simulation::new(&cell, settings, &stim)?;
    sim.run_until(case.sim.tstop, &mut recorder)?;
    Ok(results_of(&recorder))
}

/// Replay independent cases in parallel (rayon's global pool), each single-threaded.
pub fn replay_many(cases: &[Case], morph: &Morphology) -> Vec<Result<Results, ReplayError>> {
    use rayon::prelude::*;
    cases.par_iter().map(|case| replay(case, morph)).collect()
}

/// The case's probes: the soma first, then every recording site; spikes detected at the soma.
pub fn recorder_for(case: &Case, cell: &Cell, dt_ms: f64) -> Result<Recorder, ReplayError> {
    let rec = &case.recording;
    let soma = locate(cell, "recording soma", &rec.soma.sec, rec.soma.x)?;
    let mut recorder = Recorder::default();
    recorder.add_probe(soma, finite("soma_dt_ms", rec.soma_dt_ms)?, dt_ms)?;
    for (k, site) in rec.sites.iter().enumerate() {
        let node = locate(cell, &format!("recording site {k} ({})", site.label), &site.sec, site.x)?;
        recorder.add_probe(node, finite("sites_dt_ms", rec.sites_dt_ms)?, dt_ms)?;
    }
    recorder.set_spike_detector(soma, finite("spike_threshold_mV", rec.spike_threshold_mv)?);
    Ok(recorder)
}

/// Results in the golden format from a recorder made by [`recorder_for`].
pub fn results_of(recorder: &Recorder) -> Results {
    let soma_v = recorder.probes.first().map(|p| p.samples_mv.clone()).unwrap_or_default();
    Results {
        spike_times_ms: recorder.spike_times_ms().to_vec(),
        n_soma_samples: soma_v.len(),
        soma_v,
        sites_v: recorder.probes.iter().skip(1).map(|p| p.samples_mv.clone()).collect(),
    }
}

/// Agreement between two result sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub spikes_ours: usize,
    pub spikes_reference: usize,
    /// Largest |Δt| over paired spikes (in order), ms; 0 when there are none.
    pub worst_spike_dt_ms: f64,
    pub soma_rmse_mv: f64,
    /// RMSE per site (mV).
    pub site_rmse_mv: Vec<f64>,
    /// First sample index where |Δv| > 0.5 mV at the soma, if any.
    pub first_soma_divergence: Option<usize>,
}

impl Comparison {
    pub fn worst_site_rmse_mv(&self) -> f64 {
        self.site_rmse_mv.iter().copied().fold(0.0, f64::max)
    }
}

/// Root-mean-square difference over the common length.
pub fn rmse(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n == 0 {
        return 0.0;
    }
    (a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / n as f64).sqrt()
}

pub fn compare(ours: &Results, reference: &Results) -> Comparison {
    let worst = ours.spike_times_ms.iter().zip(&reference.spike_times_ms).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    Comparison {
        spikes_ours: ours.spike_times_ms.len(),
        spikes_reference: reference.spike_times_ms.len(),
        worst_spike_dt_ms: worst,
        soma_rmse_mv: rmse(&ours.soma_v, &reference.soma_v),
        site_rmse_mv: ours.sites_v.iter().zip(&reference.sites_v).map(|(a, b)| rmse(a, b)).collect(),
        first_soma_divergence: ours.soma_v.iter().zip(&reference.soma_v).position(|(a, b)| (a - b).abs() > 0.5),
    }
}
