//! "Get the Hay cell" beside Open: `neurotwin::fetch` on a background thread (the UI never waits
//! on the network), its progress shown in the top bar, and the verified file handed back to be
//! opened. Errors come back as text for the status line, like the app's other errors.

use crate::fetch::{self, FetchOptions, Fetched, Progress};
use eframe::egui;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What the download thread shares with the UI.
#[derive(Debug, Clone, Default)]
struct Shared {
    progress: Progress,
    /// `Some` once the thread has finished.
    outcome: Option<Result<Fetched, String>>,
}

/// The button's state: idle, or one download in flight.
pub struct HayDownload {
    /// What a click downloads (the Hay cell to the project's `morphologies/`; tests point it at
    /// a server on 127.0.0.1).
    pub options: FetchOptions,
    running: Option<Arc<Mutex<Shared>>>,
}

impl Default for HayDownload {
    fn default() -> Self {
        HayDownload { options: FetchOptions::hay_cell(fetch::default_hay_destination()), running: None }
    }
}

/// What the UI should do after a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum DownloadEvent {
    /// The file is there and verified: open it (`message` says whether it was downloaded).
    Open { path: PathBuf, message: String },
    Failed(String),
}

impl HayDownload {
    pub fn in_flight(&self) -> bool {
        self.running.is_some()
    }

    /// Start the download on its own thread (nothing if one is running).
    pub fn start(&mut self, ctx: &egui::Context) {
        if self.running.is_some() {
            return;
        }
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (opts, thread_shared, ctx) = (self.options.clone(), shared.clone(), ctx.clone());
        let spawned = std::thread::Builder::new().name("neurotwin-fetch".into()).spawn(move || {
            let result = fetch::fetch(&opts, &mut |p| {
                if let Ok(mut s) = thread_shared.lock() {
                    s.progress = p;
                }
                ctx.request_repaint();
            });
            if let Ok(mut s) = thread_shared.lock() {
                s.outcome = Some(result.map_err(|e| e.to_string()));
            }
            ctx.request_repaint();
        });
        match spawned {
            Ok(_) => self.running = Some(shared),
            Err(e) => {
                let mut s = Shared::default();
                s.outcome = Some(Err(format!("cannot start the download thread: {e}")));
                self.running = Some(Arc::new(Mutex::new(s)));
            }
        }
    }

    /// The finished download's event, once (then the button is idle again).
    pub fn poll(&mut self) -> Option<DownloadEvent> {
        let shared = self.running.as_ref()?;
        let outcome = shared.lock().ok().and_then(|mut s| s.outcome.take())?;
        self.running = None;
        Some(match outcome {
            Ok(Fetched::Written { path, bytes }) => {
                DownloadEvent::Open { message: format!("downloaded the Hay cell to {} ({bytes} bytes, SHA-256 verified)", path.display()), path }
            }
            Ok(Fetched::AlreadyPresent { path }) => {
                DownloadEvent::Open { message: format!("{} is already the Hay cell (SHA-256 verified)", path.display()), path }
            }
            Err(e) => DownloadEvent::Failed(format!("Hay cell download: {e}")),
        })
    }

    /// The button, or the progress while a download runs. Returns true when clicked.
    pub fn ui(&self, ui: &mut egui::Ui) -> bool {
        match &self.running {
            None => ui
                .button("Get the Hay cell")
                .on_hover_text(format!(
                    "Download cell1.asc (Hay et al. 2011, ModelDB 139653) from the paper's public repository, check its SHA-256 and open it; saved as {}",
                    self.options.out.display()
                ))
                .clicked(),
            Some(shared) => {
                let p = shared.lock().map(|s| s.progress).unwrap_or_default();
                let text = match p.total_bytes {
                    Some(t) => format!("cell1.asc {:.0} / {:.0} kB", p.received_bytes as f64 / 1e3, t as f64 / 1e3),
                    None => format!("cell1.asc {:.0} kB", p.received_bytes as f64 / 1e3),
                };
                let fraction = p.total_bytes.filter(|&t| t > 0).map_or(0.0, |t| p.received_bytes as f32 / t as f32);
                ui.add(egui::ProgressBar::new(fraction).desired_width(170.0).text(text));
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    /// A one-connection HTTP server on 127.0.0.1 answering `body` (test code only).
    fn serve_once(body: Vec<u8>) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            if let Some(Ok(mut s)) = listener.incoming().next() {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes());
                let _ = s.write_all(&body);
            }
        });
        format!("http://127.0.0.1:{port}/cell.swc")
    }

    fn wait(d: &mut HayDownload) -> DownloadEvent {
        let t = Instant::now();
        loop {
            if let Some(e) = d.poll() {
                return e;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "download did not finish");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn downloads_in_the_background_then_reports_the_file_or_the_error() {
        let body = crate::app::session::EMBEDDED_SYNTHETIC_SWC.as_bytes().to_vec();
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().join("cell.swc");
        let ctx = egui::Context::default();
        let mut d = HayDownload::default();
        d.options.url = serve_once(body.clone());
        d.options.sha256 = fetch::sha256_hex(&body);
        d.options.out = out.clone();
        d.start(&ctx);
        assert!(d.in_flight());
        match wait(&mut d) {
            DownloadEvent::Open { path, message } => {
                assert_eq!(path, out);
                assert!(message.contains("SHA-256 verified"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(!d.in_flight());
        assert_eq!(std::fs::read(&out).expect("written"), body);
        // a corrupted answer: an error, the existing file untouched
        let other = tempfile::tempdir().expect("tmp");
        d.options.url = serve_once(b"not the cell".to_vec());
        d.options.out = other.path().join("cell.swc");
        d.start(&ctx);
        match wait(&mut d) {
            DownloadEvent::Failed(e) => assert!(e.contains("checksum mismatch"), "{e}"),
            e => panic!("{e:?}"),
        }
        assert_eq!(std::fs::read_dir(other.path()).expect("dir").count(), 0);
    }

    #[test]
    fn the_button_beside_open_downloads_and_opens_the_cell() {
        use crate::app::session::MorphologySource;
        use crate::app::shell::{AppOptions, NeuroTwinApp};
        use egui_kittest::kittest::Queryable;
        let body = crate::app::session::EMBEDDED_SYNTHETIC_SWC.as_bytes().to_vec();
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().join("cell.swc");
        let mut app = NeuroTwinApp::new(AppOptions::default());
        app.hay.options.url = serve_once(body.clone());
        app.hay.options.sha256 = fetch::sha256_hex(&body);
        app.hay.options.out = out.clone();
        let mut h = egui_kittest::Harness::builder().with_size([1400.0, 900.0]).build_ui_state(|ui, app: &mut NeuroTwinApp| app.app_ui(ui), app);
        h.run_steps(2);
        assert!(h.query_all_by_label_contains("press Get the Hay cell").next().is_some(), "the no-morphology hint names the button");
        h.get_by_label("Get the Hay cell").click();
        let t = Instant::now();
        while !matches!(h.state().session.as_ref().map(|s| &s.source), Some(MorphologySource::File(p)) if *p == out) {
            assert!(t.elapsed() < Duration::from_secs(10), "the cell was not opened: {:?}", h.state().load_error);
            h.run_steps(1);
            std::thread::sleep(Duration::from_millis(5));
        }
        let message = h.state().message.clone();
        assert!(matches!(&message, Some(Ok(m)) if m.contains("downloaded the Hay cell")), "{message:?}");
        assert!(!h.state().hay.in_flight());
    }
}
