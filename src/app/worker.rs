//! The runner's worker loop: apply commands, advance the model in 1-ms chunks paced to the
//! requested speed, generate the spikes of every drive one chunk ahead, keep trace history and
//! publish snapshots (at most ~60 per second).

use super::drives::{BackgroundProtocol, Drive, SplitMix64};
use super::model::{IClamp, LiveModel, SynId, SynapseKind};
use super::runner::{ClampSettings, Command, RasterSpike, RunnerSetup, SiteKey, Snapshot, Speed, SynKey};
use std::collections::{BTreeMap, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One basal or apical segment, as the background protocol sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackgroundSegment {
    pub node: usize,
    pub apical: bool,
    /// L/nseg + 10 µm (spec §6.1).
    pub adjusted_length_um: f64,
}

struct PlacedSynapse {
    id: SynId,
    kind: SynapseKind,
    drive: Drive,
    row: u32,
}

struct BackgroundSynapse {
    exc: SynId,
    inh: SynId,
    exc_per_ms: f64,
    inh_per_ms: f64,
}

const CHUNK_MS: f64 = 1.0;
const SAMPLE_MS: f64 = 0.1;
const PUBLISH_EVERY: Duration = Duration::from_millis(16);

pub(super) struct Worker {
    model: Box<dyn LiveModel>,
    setup: RunnerSetup,
    commands: Receiver<Command>,
    latest: Arc<Mutex<Arc<Snapshot>>>,
    playing: bool,
    speed: Speed,
    synapses: BTreeMap<SynKey, PlacedSynapse>,
    next_row: u32,
    background: Vec<BackgroundSynapse>,
    sites: BTreeMap<SiteKey, (usize, VecDeque<[f64; 2]>)>,
    soma: VecDeque<[f64; 2]>,
    raster: VecDeque<RasterSpike>,
    rng: SplitMix64,
    /// Drive spikes have been generated (and queued in the model) up to this time (ms).
    generated_until_ms: f64,
    error: Option<String>,
    seq: u64,
    rtf_window: (Instant, f64),
    achieved_rtf: f64,
    spikes_scratch: Vec<f64>,
}

impl Worker {
    pub(super) fn new(
        model: Box<dyn LiveModel>,
        setup: RunnerSetup,
        commands: Receiver<Command>,
        latest: Arc<Mutex<Arc<Snapshot>>>,
    ) -> Worker {
        let rng = SplitMix64::new(setup.seed);
        Worker {
            model,
            setup,
            commands,
            latest,
            playing: false,
            speed: Speed::RealTimeFactor(1.0),
            synapses: BTreeMap::new(),
            next_row: 0,
            background: Vec::new(),
            sites: BTreeMap::new(),
            soma: VecDeque::new(),
            raster: VecDeque::new(),
            rng,
            generated_until_ms: 0.0,
            error: None,
            seq: 0,
            rtf_window: (Instant::now(), 0.0),
            achieved_rtf: 0.0,
            spikes_scratch: Vec::new(),
        }
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
                        while Instant::now() - now < PUBLISH_EVERY {
                            self.advance(CHUNK_MS);
                        }
                    }
                    Speed::RealTimeFactor(f) => {
                        // Cap the debt so a stall (or a slow model) does not cause a catch-up burst.
                        owed_ms = (owed_ms + f * wall_ms).min(f * 100.0).min(50.0);
                        while owed_ms >= CHUNK_MS && Instant::now() - now < PUBLISH_EVERY {
                            self.advance(CHUNK_MS);
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
                self.soma.clear();
                self.raster.clear();
                self.sites.values_mut().for_each(|(_, t)| t.clear());
                self.generated_until_ms = 0.0;
            }
            Command::SetSpeed(s) => self.speed = s,
            Command::AddSynapse { key, node, kind, drive } => match self.model.add_synapse(node, kind) {
                Ok(id) => {
                    let row = self.next_row + 2 * self.setup.background_segments.len() as u32;
                    self.next_row += 1;
                    self.synapses.insert(key, PlacedSynapse { id, kind, drive, row });
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
                if let Some(s) = self.synapses.get(&key) {
                    let t = self.model.t_ms();
                    self.model.deliver_spike(s.id, t);
                    self.raster.push_back(RasterSpike { t_ms: t, row: s.row, kind: s.kind });
                }
            }
            Command::AddSite { key, node } => {
                self.sites.insert(key, (node, VecDeque::new()));
            }
            Command::RemoveSite(key) => {
                self.sites.remove(&key);
            }
            Command::SetBackground(protocol) => self.set_background(protocol),
            Command::SetClamp(c) => self.set_clamp(c),
            Command::InjectPulse { amp_na, dur_ms } => {
                let delay_ms = self.model.t_ms();
                self.set_clamp(Some(ClampSettings { amp_na, delay_ms, dur_ms }));
            }
            Command::SetNmda(on) => self.model.set_nmda(on),
        }
    }

    fn set_clamp(&mut self, c: Option<ClampSettings>) {
        let node = self.setup.soma_node;
        self.model.set_iclamp(c.map(|c| IClamp { node, amp_na: c.amp_na, delay_ms: c.delay_ms, dur_ms: c.dur_ms }));
    }

    fn set_background(&mut self, protocol: Option<BackgroundProtocol>) {
        for b in self.background.drain(..) {
            self.model.remove_synapse(b.exc);
            self.model.remove_synapse(b.inh);
        }
        let Some(p) = protocol else { return };
        let segs = &self.setup.background_segments;
        let total = |apical: bool| -> f64 {
            segs.iter().filter(|s| s.apical == apical).map(|s| s.adjusted_length_um).sum::<f64>().max(1e-9)
        };
        let (basal_um, apical_um) = (total(false), total(true));
        for seg in segs.clone() {
            let (n_exc, n_inh, tree_um) = if seg.apical {
                (p.apical_exc_per_100ms, p.apical_inh_per_100ms, apical_um)
            } else {
                (p.basal_exc_per_100ms, p.basal_inh_per_100ms, basal_um)
            };
            let share = seg.adjusted_length_um / tree_um / 100.0;
            let ids = (self.model.add_synapse(seg.node, SynapseKind::Excitatory), self.model.add_synapse(seg.node, SynapseKind::Inhibitory));
            match ids {
                (Ok(exc), Ok(inh)) => self.background.push(BackgroundSynapse {
                    exc,
                    inh,
                    exc_per_ms: n_exc * share,
                    inh_per_ms: n_inh * share,
                }),
                (Err(e), _) | (_, Err(e)) => {
                    self.error = Some(format!("background protocol: {e:#}"));
                    return;
                }
            }
        }
    }

    /// Queue every drive's spikes in `[t0, t1)`, then step the model to `t1`, sampling traces.
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
        let mut steps_left = ((chunk_ms / dt).round() as usize).max(1);
        while steps_left > 0 {
            let n = steps_left.min(steps_per_sample);
            if let Err(e) = self.model.step(n) {
                self.error = Some(format!("simulation stopped: {e:#}"));
                self.playing = false;
                return;
            }
            steps_left -= n;
            self.record_sample();
        }
    }

    fn generate_spikes(&mut self, t0: f64, t1: f64) {
        let mut spikes = std::mem::take(&mut self.spikes_scratch);
        for s in self.synapses.values() {
            spikes.clear();
            s.drive.spikes_in(t0, t1, &mut self.rng, &mut spikes);
            for &t in &spikes {
                self.model.deliver_spike(s.id, t);
                self.raster.push_back(RasterSpike { t_ms: t, row: s.row, kind: s.kind });
            }
        }
        self.spikes_scratch = spikes;
        // Background: integer-ms bins in [t0, t1), at most one spike per synapse per bin.
        let n_bg = self.background.len() as u32;
        let mut bin = t0.ceil();
        while bin < t1 {
            for (i, b) in self.background.iter().enumerate() {
                if self.rng.next_f64() < b.exc_per_ms {
                    self.model.deliver_spike(b.exc, bin);
                    self.raster.push_back(RasterSpike { t_ms: bin, row: i as u32, kind: SynapseKind::Excitatory });
                }
                if self.rng.next_f64() < b.inh_per_ms {
                    self.model.deliver_spike(b.inh, bin);
                    self.raster.push_back(RasterSpike { t_ms: bin, row: n_bg + i as u32, kind: SynapseKind::Inhibitory });
                }
            }
            bin += 1.0;
        }
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
        self.seq += 1;
        let snapshot = Snapshot {
            seq: self.seq,
            t_ms: self.model.t_ms(),
            playing: self.playing,
            achieved_real_time_factor: self.achieved_rtf,
            node_v_mv: self.model.node_voltages_mv().iter().map(|&v| v as f32).collect(),
            soma_v_mv: self.soma.iter().copied().collect(),
            sites: self.sites.iter().map(|(k, (_, t))| (*k, t.iter().copied().collect())).collect(),
            raster: self.raster.iter().copied().collect(),
            raster_rows: 2 * self.setup.background_segments.len() as u32 + self.next_row,
            error: self.error.clone(),
            no_model: None,
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
