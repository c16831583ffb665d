//! "Get the published ELM twin" beside the model lists: `peer::fetch_elm` on a background thread
//! (the UI never waits on the network) into the session's models folder; when its files are in
//! and verified, the model lists are read again and the ELM starts as the second twin.

use crate::fetch::Progress;
use crate::peer::{self, ElmFetchOptions};
use std::sync::{Arc, Mutex};

/// What the download thread shares with the UI.
#[derive(Debug, Clone, Default)]
struct Shared {
    file: String,
    progress: Progress,
    /// `Some` once the thread has finished: Ok(files written or already there) or the error.
    outcome: Option<Result<usize, String>>,
}

/// The button's state: idle, or one download in flight.
pub struct ElmDownload {
    /// Where a click downloads from and to (tests point it at a server on 127.0.0.1).
    pub options: ElmFetchOptions,
    running: Option<Arc<Mutex<Shared>>>,
}

impl ElmDownload {
    pub fn new(options: ElmFetchOptions) -> ElmDownload {
        ElmDownload { options, running: None }
    }

    pub fn in_flight(&self) -> bool {
        self.running.is_some()
    }

    /// Start the download on its own thread (nothing if one is running); `repaint` is called as
    /// bytes arrive and at the end.
    pub fn start(&mut self, repaint: impl Fn() + Send + 'static) {
        if self.running.is_some() {
            return;
        }
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (opts, thread_shared) = (self.options.clone(), shared.clone());
        let spawned = std::thread::Builder::new().name("neurotwin-fetch-elm".into()).spawn(move || {
            let result = peer::fetch_elm(&opts, &mut |file, p| {
                if let Ok(mut s) = thread_shared.lock() {
                    s.file = file.rsplit('/').next().unwrap_or(file).to_string();
                    s.progress = p;
                }
                repaint();
            });
            if let Ok(mut s) = thread_shared.lock() {
                s.outcome = Some(result.map(|f| f.len()).map_err(|e| e.to_string()));
            }
            repaint();
        });
        match spawned {
            Ok(_) => self.running = Some(shared),
            Err(e) => {
                let s = Shared { outcome: Some(Err(format!("cannot start the download thread: {e}"))), ..Shared::default() };
                self.running = Some(Arc::new(Mutex::new(s)));
            }
        }
    }

    /// The finished download's outcome, once (then the button is idle again): a message for the
    /// user, Ok when the files are in place.
    pub fn poll(&mut self) -> Option<Result<String, String>> {
        let shared = self.running.as_ref()?;
        let outcome = shared.lock().ok().and_then(|mut s| s.outcome.take())?;
        self.running = None;
        Some(match outcome {
            Ok(_) => Ok(format!("the published ELM is in {} (every SHA-256 verified)", self.options.dir.display())),
            Err(e) => Err(format!("published ELM download: {e}")),
        })
    }

    /// What is being downloaded, for a progress bar: (label, fraction).
    pub fn progress(&self) -> Option<(String, f32)> {
        let shared = self.running.as_ref()?;
        let s = shared.lock().ok()?;
        let fraction = s.progress.total_bytes.filter(|&t| t > 0).map_or(0.0, |t| s.progress.received_bytes as f32 / t as f32);
        Some((format!("{} {:.0} kB", s.file, s.progress.received_bytes as f64 / 1e3), fraction))
    }
}
