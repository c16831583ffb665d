//! The runner: a worker thread that owns the [`LiveModel`] and advances it, and the UI-side
//! handle that talks to it.
//!
//! Commands go in over a bounded channel (`try_send`: the UI never waits; if the worker has
//! fallen 4096 commands behind, the command is dropped and the UI says so). Snapshots come out
//! latest-wins through a `Mutex<Arc<Snapshot>>` that is held only to swap or clone a pointer, so
//! neither side ever waits on the other's work.

pub use super::messages::{ClampSettings, Command, RasterSpike, RunnerSetup, SiteKey, Snapshot, Speed, SynKey};
use super::model::LiveModel;
use super::worker::Worker;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// UI-side handle of the worker thread.
pub struct Runner {
    commands: Option<SyncSender<Command>>,
    latest: Arc<Mutex<Arc<Snapshot>>>,
    thread: Option<JoinHandle<()>>,
    /// Problems sending commands (worker gone or too far behind), for the status line.
    pub send_error: Option<String>,
}

// Roomy enough for a scenario (or demo) of a few hundred synapses sent in one frame.
const COMMAND_CAPACITY: usize = 4096;

impl Runner {
    /// Start a worker thread that owns `model`.
    pub fn spawn(model: Box<dyn LiveModel>, setup: RunnerSetup) -> anyhow::Result<Runner> {
        let (tx, rx) = sync_channel(COMMAND_CAPACITY);
        let latest = Arc::new(Mutex::new(Arc::new(Snapshot::default())));
        let worker = Worker::new(model, setup, rx, latest.clone());
        let thread = std::thread::Builder::new().name("neurotwin-runner".into()).spawn(move || worker.run())?;
        Ok(Runner { commands: Some(tx), latest, thread: Some(thread), send_error: None })
    }

    /// A runner with no model: commands are ignored and the snapshot says why.
    pub fn without_model(reason: impl Into<String>) -> Runner {
        let snapshot = Snapshot { no_model: Some(reason.into()), ..Snapshot::default() };
        Runner { commands: None, latest: Arc::new(Mutex::new(Arc::new(snapshot))), thread: None, send_error: None }
    }

    pub fn has_model(&self) -> bool {
        self.commands.is_some()
    }

    /// Send a command without waiting.
    pub fn send(&mut self, command: Command) {
        let Some(tx) = &self.commands else { return };
        match tx.try_send(command) {
            Ok(()) => {}
            Err(TrySendError::Full(c)) => {
                let name = format!("{c:?}");
                let name = name.split(|ch: char| !ch.is_alphanumeric()).next().unwrap_or_default();
                self.send_error = Some(format!("simulation busy: dropped command {name}"));
            }
            Err(TrySendError::Disconnected(_)) => {
                self.send_error = Some("the simulation thread has stopped; reopen the morphology".into());
            }
        }
    }

    /// Send these commands as one ([`Command::Batch`]): the worker applies all of them, in order,
    /// or, when its queue is full or it has stopped, none (the error says which).
    pub fn send_all(&mut self, commands: Vec<Command>) -> Result<(), String> {
        let Some(tx) = &self.commands else { return Ok(()) };
        match tx.try_send(Command::Batch(commands)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err("the simulation is busy (its command queue is full); nothing was applied, try again".into()),
            Err(TrySendError::Disconnected(_)) => Err("the simulation thread has stopped; nothing was applied; reopen the morphology".into()),
        }
    }

    /// Show `message` on the status line (as the errors of sending do).
    pub fn report_error(&mut self, message: String) {
        self.send_error = Some(message);
    }

    /// The newest snapshot (cheap: clones an `Arc`).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.latest.lock() {
            Ok(guard) => guard.clone(),
            // A worker that panicked mid-swap left a valid Arc behind; keep using it.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        // Closing the channel tells the worker to stop.
        self.commands = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::live::drives::silent;
    use crate::app::live::fake_model::FakeLeakyCable;
    use crate::app::live::model::SynapseKind;
    use std::time::{Duration, Instant};

    fn wait_for(runner: &Runner, what: impl Fn(&Snapshot) -> bool) -> Arc<Snapshot> {
        let start = Instant::now();
        loop {
            let s = runner.snapshot();
            if what(&s) {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "timed out; last snapshot t={} ms, error {:?}", s.t_ms, s.error);
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn runner(n: usize) -> Runner {
        let setup = RunnerSetup { soma_node: 0, window_ms: 200.0, ..RunnerSetup::default() };
        Runner::spawn(Box::new(FakeLeakyCable::chain(n)), setup).expect("spawn")
    }

    #[test]
    fn step_advances_time_and_publishes_voltages() {
        let mut r = runner(5);
        r.send(Command::StepMs(2.0));
        let s = wait_for(&r, |s| s.t_ms >= 2.0 - 1e-9);
        assert!((s.t_ms - 2.0).abs() < 1e-6, "{}", s.t_ms);
        assert_eq!(s.node_v_mv.len(), 5);
        assert!(!s.playing);
        assert!(!s.soma_v_mv.is_empty());
    }

    #[test]
    fn synapse_fire_now_depolarises_and_shows_in_raster() {
        let mut r = runner(3);
        r.send(Command::AddSynapse { key: SynKey(1), node: 2, kind: SynapseKind::Excitatory, drive: silent() });
        r.send(Command::AddSite { key: SiteKey(9), node: 2 });
        r.send(Command::FireNow(SynKey(1)));
        r.send(Command::StepMs(3.0));
        let s = wait_for(&r, |s| s.t_ms >= 3.0 - 1e-9);
        assert_eq!(s.raster.len(), 1);
        assert_eq!(s.raster[0].kind, SynapseKind::Excitatory);
        let site = &s.sites.iter().find(|(k, _)| *k == SiteKey(9)).expect("site trace").1;
        let peak = site.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
        assert!(peak > -74.0, "peak {peak}");
    }

    #[test]
    fn snapshots_carry_each_nodes_peak_over_every_step_until_reset_peaks() {
        let mut r = runner(3);
        r.send(Command::AddSynapse { key: SynKey(1), node: 2, kind: SynapseKind::Excitatory, drive: silent() });
        r.send(Command::AddSite { key: SiteKey(9), node: 2 });
        r.send(Command::FireNow(SynKey(1)));
        // one command, one snapshot after it: the EPSP rose and decayed in between
        r.send(Command::StepMs(20.0));
        let s = wait_for(&r, |s| s.t_ms >= 20.0 - 1e-9);
        let site = &s.sites.iter().find(|(k, _)| *k == SiteKey(9)).expect("site trace").1;
        let sampled_peak = site.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
        assert_eq!(s.node_peak_v_mv.len(), s.node_v_mv.len());
        assert!(s.node_peak_v_mv.iter().zip(&s.node_v_mv).all(|(p, v)| p >= v));
        assert!(f64::from(s.node_peak_v_mv[2]) >= sampled_peak - 1e-4, "the peak {} holds the sampled trace's {sampled_peak}", s.node_peak_v_mv[2]);
        assert!(s.node_peak_v_mv[2] > s.node_v_mv[2] + 0.1, "the EPSP's peak, not the present value: {} vs {}", s.node_peak_v_mv[2], s.node_v_mv[2]);
        // kept across snapshots until asked to start again from the present
        r.send(Command::StepMs(1.0));
        let s2 = wait_for(&r, |s| s.t_ms >= 21.0 - 1e-9);
        assert_eq!(s2.node_peak_v_mv[2], s.node_peak_v_mv[2]);
        r.send(Command::ResetPeaks);
        r.send(Command::StepMs(1.0));
        let s3 = wait_for(&r, |s| s.t_ms >= 22.0 - 1e-9);
        assert!(s3.node_peak_v_mv[2] < s.node_peak_v_mv[2], "{} vs {}", s3.node_peak_v_mv[2], s.node_peak_v_mv[2]);
        r.send(Command::Reset);
        let s4 = wait_for(&r, |s| s.t_ms == 0.0);
        assert!(s4.node_peak_v_mv.iter().zip(&s4.node_v_mv).all(|(p, v)| p == v), "a reset starts the peaks again");
    }

    #[test]
    fn play_runs_at_roughly_the_requested_speed_and_pause_stops() {
        let mut r = runner(4);
        r.send(Command::SetSpeed(Speed::RealTimeFactor(1.0)));
        r.send(Command::Play);
        let s = wait_for(&r, |s| s.t_ms >= 100.0);
        assert!(s.playing);
        r.send(Command::Pause);
        let paused = wait_for(&r, |s| !s.playing);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(r.snapshot().t_ms, paused.t_ms);
        r.send(Command::Reset);
        wait_for(&r, |s| s.t_ms == 0.0 && s.soma_v_mv.len() <= 1);
    }

    #[test]
    fn the_automatic_pause_is_exact_at_full_speed_and_happens_once() {
        let mut r = runner(4);
        r.send(Command::SetSpeed(Speed::Max));
        r.send(Command::PauseAtMs(Some(37.3)));
        r.send(Command::Play);
        let s = wait_for(&r, |s| !s.playing && s.t_ms > 0.0);
        assert!((s.t_ms - 37.3).abs() < 1e-6, "paused at {} ms", s.t_ms);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(r.snapshot().t_ms, s.t_ms, "stays paused");
        // playing on: the pause has happened, it does not stop again
        r.send(Command::Play);
        wait_for(&r, |s| s.t_ms > 60.0);
        r.send(Command::Pause);
        // after Reset, the same pause time applies only if it is set again
        r.send(Command::Reset);
        r.send(Command::PauseAtMs(Some(5.0)));
        r.send(Command::Play);
        let s = wait_for(&r, |s| !s.playing && s.t_ms > 0.0 && s.t_ms < 60.0);
        assert!((s.t_ms - 5.0).abs() < 1e-6, "paused at {} ms", s.t_ms);
    }

    #[test]
    fn a_flood_of_commands_never_blocks_the_ui() {
        let mut r = runner(2);
        let start = Instant::now();
        for _ in 0..10_000 {
            r.send(Command::SetNmda(true));
        }
        assert!(start.elapsed() < Duration::from_millis(500));
        let _ = r.snapshot();
    }

    #[test]
    fn a_batch_is_applied_whole_even_past_the_queue_size() {
        let mut r = runner(3);
        let adds: Vec<Command> = (0..3 * COMMAND_CAPACITY as u64)
            .map(|k| Command::AddSite { key: SiteKey(k), node: (k % 3) as usize })
            .chain([Command::StepMs(1.0)])
            .collect();
        r.send_all(adds).expect("one command");
        let s = wait_for(&r, |s| s.t_ms >= 1.0 - 1e-9);
        assert_eq!(s.sites.len(), 3 * COMMAND_CAPACITY, "every site arrived");
        assert!(r.send_error.is_none());
    }

    #[test]
    fn without_model_reports_why() {
        let mut r = Runner::without_model("no engine");
        r.send(Command::Play);
        assert_eq!(r.snapshot().no_model.as_deref(), Some("no engine"));
        assert!(!r.has_model());
    }
}
