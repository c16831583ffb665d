//! The runner's worker loop: apply commands, advance the model in 1-ms chunks paced to the
//! requested speed, generate the spikes of every drive and of the background protocol one chunk
//! ahead, detect somatic spikes, keep trace history and publish snapshots (at most ~60 per second).

use super::background::BackgroundStream;
use super::drives::{BackgroundSettings, Drive};
use super::model::{IClamp, LiveModel, SynId, SynapseKind};
use super::messages::{ClampSettings, Command, RasterSpike, RunnerSetup, SiteKey, Snapshot, Speed, SynKey};
use super::twin_feed::TwinFeed;

mod inputs;
use super::whatif_engine::{EngineWhatIf, History};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct PlacedSynapse {
    id: SynId,
    kind: SynapseKind,
    drive: Drive,
    row: u32,
    node: usize,
}

/// The background protocol while it is on: one (exc, inh) synapse pair per dendritic segment.
struct Background {
    settings: BackgroundSettings,
    synapses: Vec<(SynId, SynId)>,
    stream: BackgroundStream,
}

/// Somatic spike threshold: an upward crossing of −20 mV, as the engine's spike detector.
pub const SPIKE_THRESHOLD_MV: f64 = -20.0;

const CHUNK_MS: f64 = 1.0;
const SAMPLE_MS: f64 = 0.1;
const PUBLISH_EVERY: Duration = Duration::from_millis(16);

pub(super) struct Worker {
    model: Box<dyn LiveModel>,
    setup: RunnerSetup,
    commands: Receiver<Command>,
    latest: Arc<Mutex<Arc<Snapshot>>>,
    playing: bool,
    /// Automatic pause at this simulation time (ms), if set.
    pause_at_ms: Option<f64>,
    speed: Speed,
    nmda: bool,
    synapses: BTreeMap<SynKey, PlacedSynapse>,
    next_row: u32,
    background: Option<Background>,
    sites: BTreeMap<SiteKey, (usize, VecDeque<[f64; 2]>)>,
    soma: VecDeque<[f64; 2]>,
    soma_spikes_ms: VecDeque<f64>,
    last_soma_v_mv: f64,
    raster: VecDeque<RasterSpike>,
    /// Drive spikes have been generated (and queued in the model) up to this time (ms).
    generated_until_ms: f64,
    error: Option<String>,
    seq: u64,
    rtf_window: (Instant, f64),
    achieved_rtf: f64,
    background_scratch: Vec<(f64, usize)>,
    /// Forwards the input raster to the deep-network twin's thread, when one is connected.
    twins: [Option<TwinFeed>; 2],
    /// Checkpoints and queued spikes for what-if re-runs.
    history: History,
    /// Cable node → dendritic segment (the twin's row of a placed synapse).
    segment_of_node: HashMap<usize, usize>,
    whatif: Option<Arc<Result<EngineWhatIf, String>>>,
    /// The somatic clamp installed (absolute times), to tell the twin where it is blind.
    clamp: Option<ClampSettings>,
    /// The state quantity published per node ("colour by state"), and its scratch buffer.
    color_by: Option<crate::biophysics::mechanisms::NodeQuantity>,
    state_scratch: Vec<f64>,
    /// Highest V per node over the steps since the last Reset or ResetPeaks (mV); empty: start
    /// from the present voltages.
    peak_v_mv: Vec<f64>,
}

impl Worker {
    pub(super) fn new(
        model: Box<dyn LiveModel>,
        setup: RunnerSetup,
        commands: Receiver<Command>,
        latest: Arc<Mutex<Arc<Snapshot>>>,
    ) -> Worker {
        let last_soma_v_mv = model.soma_v_mv();
        let segment_of_node = setup.background_segments.as_ref().map_or_else(HashMap::new, |s| s.segments.iter().enumerate().map(|(i, g)| (g.node, i)).collect());
        Worker {
            model,
            setup,
            commands,
            latest,
            playing: false,
            pause_at_ms: None,
            speed: Speed::RealTimeFactor(1.0),
            nmda: true,
            synapses: BTreeMap::new(),
            next_row: 0,
            background: None,
            sites: BTreeMap::new(),
            soma: VecDeque::new(),
            soma_spikes_ms: VecDeque::new(),
            last_soma_v_mv,
            raster: VecDeque::new(),
            generated_until_ms: 0.0,
            error: None,
            seq: 0,
            rtf_window: (Instant::now(), 0.0),
            achieved_rtf: 0.0,
            background_scratch: Vec::new(),
            twins: [None, None],
            history: History::default(),
            segment_of_node,
            whatif: None,
            clamp: None,
            color_by: None,
            state_scratch: Vec::new(),
            peak_v_mv: Vec::new(),
        }
    }

    fn n_background_rows(&self) -> u32 {
        self.setup.background_segments.as_ref().map_or(0, |s| 2 * s.len() as u32)
    }

    pub(super) fn run(mut self) {
        self.record_sample();
        self.publish();
        let mut last_publish = Instant::now();
        let mut last_tick = Instant::now();
        let mut owed_ms = 0.0;
        loop {
            // Idle: sleep on the channel. Playing: only look at what is already there.
            if !self.playing {
                match self.commands.recv_timeout(Duration::from_millis(50)) {
                    Ok(c) => self.apply(c),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            loop {
                match self.commands.try_recv() {
                    Ok(c) => self.apply(c),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            let now = Instant::now();
            let wall_ms = (now - last_tick).as_secs_f64() * 1000.0;
            last_tick = now;
            if self.playing {
                match self.speed {
                    Speed::Max => {
                        while self.playing && Instant::now() - now < PUBLISH_EVERY {
                            self.advance_playing(CHUNK_MS);
                        }
                    }
                    Speed::RealTimeFactor(f) => {
                        // Cap the debt so a stall (or a slow model) does not cause a catch-up burst.
                        owed_ms = (owed_ms + f * wall_ms).min(f * 100.0).min(50.0);
                        while self.playing && owed_ms >= CHUNK_MS && Instant::now() - now < PUBLISH_EVERY {
                            self.advance_playing(CHUNK_MS);
                            owed_ms -= CHUNK_MS;
                        }
                        if owed_ms < CHUNK_MS {
                            std::thread::sleep(Duration::from_millis(2));
                        }
                    }
                }
                self.measure_rtf();
            } else {
                owed_ms = 0.0;
            }
            if last_publish.elapsed() >= PUBLISH_EVERY || !self.playing {
                self.publish();
                last_publish = Instant::now();
            }
        }
    }

    fn apply(&mut self, command: Command) {
        match command {
            Command::Play => {
                self.playing = true;
                self.rtf_window = (Instant::now(), self.model.t_ms());
            }
            Command::Pause => self.playing = false,
            Command::PauseAtMs(t) => self.pause_at_ms = t,
            Command::StepMs(ms) => {
                self.playing = false;
                let mut left = ms;
                while left > 1e-9 {
                    let chunk = left.min(CHUNK_MS);
                    self.advance(chunk);
                    left -= chunk;
                }
            }
            Command::Reset => {
                self.model.reset();
                self.peak_v_mv.clear();
                self.soma.clear();
                self.soma_spikes_ms.clear();
                self.last_soma_v_mv = self.model.soma_v_mv();
                self.raster.clear();
                self.sites.values_mut().for_each(|(_, t)| t.clear());
                self.generated_until_ms = 0.0;
                self.error = None;
                self.history.clear();
                self.whatif = None;
                for t in self.twins.iter_mut().flatten() {
                    t.reset(self.last_soma_v_mv);
                }
                // the same background input again from t = 0
                if let Some(settings) = self.background.as_ref().map(|b| b.settings.clone()) {
                    self.restart_background_stream(settings);
                }
                self.record_sample();
            }
            Command::SetSpeed(s) => self.speed = s,
            Command::AddSynapse { key, node, kind, drive } => match self.model.add_synapse(node, kind) {
                Ok(id) => {
                    let row = self.next_row + self.n_background_rows();
                    self.next_row += 1;
                    self.synapses.insert(key, PlacedSynapse { id, kind, drive, row, node });
                }
                Err(e) => self.error = Some(format!("cannot place synapse: {e:#}")),
            },
            Command::RemoveSynapse(key) => {
                if let Some(s) = self.synapses.remove(&key) {
                    self.model.remove_synapse(s.id);
                }
            }
            Command::SetDrive { key, drive } => {
                if let Some(s) = self.synapses.get_mut(&key) {
                    s.drive = drive;
                }
            }
            Command::FireNow(key) => {
                let twin_row = self.synapses.get(&key).and_then(|s| self.twin_row(s.node, s.kind));
                if let Some(s) = self.synapses.get(&key) {
                    let t = self.model.t_ms();
                    match self.model.deliver_spike(s.id, t) {
                        Ok(()) => {
                            self.history.queued(t, s.id, twin_row);
                            self.raster.push_back(RasterSpike { t_ms: t, row: s.row, kind: s.kind, node: s.node as u32 });
                            for twin in self.twins.iter_mut().flatten() {
                                twin.add_synapse_input(t, s.node, s.kind);
                            }
                        }
                        Err(e) => self.error = Some(format!("fire now: {e:#}")),
                    }
                }
            }
            Command::AddSite { key, node } => {
                self.sites.insert(key, (node, VecDeque::new()));
            }
            Command::RemoveSite(key) => {
                self.sites.remove(&key);
            }
            Command::SetBackground(settings) => self.set_background(settings),
            Command::SetClamp(c) => self.set_clamp(c),
            Command::InjectPulse { amp_na, dur_ms } => {
                let delay_ms = self.model.t_ms();
                self.set_clamp(Some(ClampSettings { amp_na, delay_ms, dur_ms }));
            }
            Command::WhatIf { edit, to_ms } => self.what_if(&edit, to_ms),
            Command::ColorBy(q) => self.color_by = q,
            Command::ResetPeaks => self.peak_v_mv.clear(),
            Command::SetTwin { slot, link } => {
                if let Some(feed) = self.twins.get_mut(slot) {
                    *feed = link.map(|l| TwinFeed::new(l, self.model.t_ms(), self.model.soma_v_mv()));
                }
            }
            Command::Batch(commands) => {
                for c in commands {
                    self.apply(c);
                }
            }
            Command::SetNmda(on) => {
                self.model.set_nmda(on);
                if on != self.nmda {
                    self.nmda = on;
                    // the paper's protocol has one parameter set per synapse model
                    if let Some(settings) = self.background.as_ref().map(|b| b.settings.clone()) {
                        self.restart_background_stream(settings);
                    }
                }
            }
        }
    }

    fn set_clamp(&mut self, c: Option<ClampSettings>) {
        self.clamp = c;
        let node = self.setup.soma_node;
        let clamp = c.map(|c| IClamp { node, amp_na: c.amp_na, delay_ms: c.delay_ms, dur_ms: c.dur_ms });
        if let Err(e) = self.model.set_iclamp(clamp) {
            self.error = Some(format!("current clamp: {e:#}"));
        }
    }

    /// Queue every drive's spikes in `[t0, t1)`, then step the model to `t1`, sampling traces.
    /// Advance while playing: at most `chunk_ms`, stopping exactly at the automatic pause.
    fn advance_playing(&mut self, chunk_ms: f64) {
        let mut chunk = chunk_ms;
        if let Some(stop) = self.pause_at_ms {
            let left = stop - self.model.t_ms();
            // within half a step of the pause time: pause here
            if left < 0.5 * self.model.dt_ms() {
                self.pause_at_ms = None;
                self.playing = false;
                return;
            }
            chunk = chunk.min(left);
        }
        self.advance(chunk);
    }

    fn advance(&mut self, chunk_ms: f64) {
        let dt = self.model.dt_ms();
        let t0 = self.model.t_ms();
        let t1 = t0 + chunk_ms;
        if t1 > self.generated_until_ms {
            let from = self.generated_until_ms.max(t0);
            self.generate_spikes(from, t1);
            self.generated_until_ms = t1;
        }
        let steps_per_sample = ((SAMPLE_MS / dt).round() as usize).max(1);
        let n_steps = ((chunk_ms / dt).round() as usize).max(1);
        for k in 1..=n_steps {
            if let Err(e) = self.model.step(1) {
                self.error = Some(format!("simulation stopped: {e:#} (press Reset to start again)"));
                self.playing = false;
                return;
            }
            // somatic spikes: upward crossings of the threshold, checked every step
            let v = self.model.soma_v_mv();
            if self.last_soma_v_mv < SPIKE_THRESHOLD_MV && v >= SPIKE_THRESHOLD_MV {
                self.soma_spikes_ms.push_back(self.model.t_ms());
                for t in self.twins.iter_mut().flatten() {
                    t.cell_spike(self.model.t_ms());
                }
            }
            for t in self.twins.iter_mut().flatten() {
                let now = self.model.t_ms();
                // somatic current flowed during the step (now − dt, now]: IClamp's [delay, delay + dur)
                let injecting = self.clamp.is_some_and(|c| c.amp_na != 0.0 && c.dur_ms > 0.0 && now > c.delay_ms && now - dt < c.delay_ms + c.dur_ms);
                t.after_step(now, v, injecting);
            }
            self.last_soma_v_mv = v;
            let node_v = self.model.node_voltages_mv();
            if self.peak_v_mv.len() == node_v.len() {
                for (p, &v) in self.peak_v_mv.iter_mut().zip(node_v) {
                    *p = p.max(v);
                }
            } else {
                self.peak_v_mv = node_v.to_vec();
            }
            if k % steps_per_sample == 0 || k == n_steps {
                self.record_sample();
            }
        }
        for t in self.twins.iter_mut().flatten() {
            t.flush();
        }
        self.history.after_chunk(&*self.model, self.generated_until_ms, self.last_soma_v_mv);
    }

    fn record_sample(&mut self) {
        let t = self.model.t_ms();
        let window = self.setup.window_ms;
        self.soma.push_back([t, self.model.soma_v_mv()]);
        trim(&mut self.soma, t - window);
        let v = self.model.node_voltages_mv();
        for (node, trace) in self.sites.values_mut() {
            trace.push_back([t, v.get(*node).copied().unwrap_or(f64::NAN)]);
            trim(trace, t - window);
        }
        while self.raster.front().is_some_and(|s| s.t_ms < t - window) {
            self.raster.pop_front();
        }
        while self.soma_spikes_ms.front().is_some_and(|&s| s < t - window) {
            self.soma_spikes_ms.pop_front();
        }
    }

    fn measure_rtf(&mut self) {
        let (since, t_then) = self.rtf_window;
        let wall_ms = since.elapsed().as_secs_f64() * 1000.0;
        if wall_ms >= 500.0 {
            self.achieved_rtf = (self.model.t_ms() - t_then) / wall_ms;
            self.rtf_window = (Instant::now(), self.model.t_ms());
        }
    }

    fn publish(&mut self) {
        // columns left over when the twin's channel was full go now (also while paused)
        for t in self.twins.iter_mut().flatten() {
            t.flush();
        }
        self.seq += 1;
        let node_state = self.color_by.map(|quantity| {
            let values = if self.model.node_quantity(quantity, &mut self.state_scratch) {
                self.state_scratch.iter().map(|&x| x as f32).collect()
            } else {
                Vec::new()
            };
            Arc::new(super::messages::NodeState { quantity, values })
        });
        let snapshot = Snapshot {
            seq: self.seq,
            t_ms: self.model.t_ms(),
            playing: self.playing,
            achieved_real_time_factor: self.achieved_rtf,
            requested_real_time_factor: match self.speed {
                Speed::Max => None,
                Speed::RealTimeFactor(f) => Some(f),
            },
            node_v_mv: self.model.node_voltages_mv().iter().map(|&v| v as f32).collect(),
            node_peak_v_mv: if self.peak_v_mv.len() == self.model.node_voltages_mv().len() {
                self.peak_v_mv.iter().map(|&v| v as f32).collect()
            } else {
                self.model.node_voltages_mv().iter().map(|&v| v as f32).collect()
            },
            soma_v_mv: self.soma.iter().copied().collect(),
            sites: self.sites.iter().map(|(k, (_, t))| (*k, t.iter().copied().collect())).collect(),
            raster: self.raster.iter().copied().collect(),
            raster_rows: self.n_background_rows() + self.next_row,
            soma_spikes_ms: self.soma_spikes_ms.iter().copied().collect(),
            background_on: self.background.is_some(),
            model_label: self.model.label(),
            error: self.error.clone(),
            no_model: None,
            whatif: self.whatif.clone(),
            node_state,
        };
        let snapshot = Arc::new(snapshot);
        match self.latest.lock() {
            Ok(mut guard) => *guard = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
    }
}

fn trim(trace: &mut VecDeque<[f64; 2]>, t_min: f64) {
    while trace.front().is_some_and(|p| p[0] < t_min) {
        trace.pop_front();
    }
}
