//! The deep-network twin's thread: it receives the engine's input raster one 1-ms column at a
//! time (from `twin_feed`), runs the `StreamingPredictor` on chunks of ~100 ms (paper-size
//! networks cost tens of ms per run on CPU, so bigger chunks amortise the window's context), and
//! publishes the twin's spike probability, soma voltage and predicted spikes (at the metadata's
//! threshold for a 0.25 % false-positive rate) with the running agreement. Neither the engine's
//! thread nor the UI ever waits for it: the UI swaps in the latest [`TwinSnapshot`].
//!
//! This file is the UI-side handle ([`Twin`]); the loop is in `worker`, what crosses between them
//! in `messages`.

pub use super::messages::{ChunkTiming, ThresholdChoice, TwinSnapshot, TwinState, CHUNK_MS, SPIKE_FPR, WINDOW_MS};

use super::messages::Control;
use super::why::WhyRequest;
use super::worker::TwinWorker;
use crate::app::live::twin_feed::TwinLink;
use crate::stimulus::DendriticSegments;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Columns the engine may queue in the channel before it merges them itself.
const INPUT_CAPACITY: usize = 32;

/// UI-side handle of the twin thread.
pub struct Twin {
    control: Option<SyncSender<Control>>,
    latest: Arc<Mutex<Arc<TwinSnapshot>>>,
    thread: Option<JoinHandle<()>>,
    /// The model selected (`None`: off).
    pub selected: Option<PathBuf>,
}

impl Twin {
    /// Start the thread (idle until a model is selected) and the link the engine worker feeds.
    pub fn spawn(segments: Arc<DendriticSegments>) -> anyhow::Result<(Twin, TwinLink)> {
        let (tx, rx) = sync_channel(INPUT_CAPACITY);
        let (ctx, crx) = sync_channel(16);
        let n_rows = 2 * segments.len();
        let latest = Arc::new(Mutex::new(Arc::new(TwinSnapshot::default())));
        let worker = TwinWorker::new(n_rows, segments.clone(), rx, crx, latest.clone());
        let thread = std::thread::Builder::new().name("neurotwin-twin".into()).spawn(move || worker.run())?;
        Ok((Twin { control: Some(ctx), latest, thread: Some(thread), selected: None }, TwinLink { tx, segments }))
    }

    /// Ask for an attribution or a what-if (answered in the snapshot).
    pub fn ask(&self, request: WhyRequest) {
        if let Some(c) = &self.control {
            let _ = c.try_send(Control::Why(request));
        }
    }

    /// Mark predicted spikes with another of the model's thresholds (the whole run is recounted).
    pub fn set_threshold(&self, choice: ThresholdChoice) {
        if let Some(c) = &self.control {
            let _ = c.try_send(Control::Threshold(choice));
        }
    }

    /// Run `model` (or nothing: `None`) from the next ms on.
    pub fn select(&mut self, model: Option<PathBuf>) {
        self.selected = model.clone();
        if let Some(c) = &self.control {
            // 16 selections queued means the user clicks faster than models load: drop this one
            let _ = c.try_send(Control::Select(model));
        }
    }

    pub fn snapshot(&self) -> Arc<TwinSnapshot> {
        match self.latest.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

impl Drop for Twin {
    fn drop(&mut self) {
        self.control = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
