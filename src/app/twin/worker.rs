//! The twin thread's loop ([`TwinWorker`]): take the engine's 1-ms input columns, run the
//! predictor on chunks, keep the window and whole-run series, answer "why" requests and publish
//! snapshots. Started by the handle in `thread.rs` (`Twin::spawn`), which this file does not use.

use super::agreement::{Agreement, RunRecord, Series, SpikeRuns};
use super::messages::{ChunkTiming, Control, ThresholdChoice, TwinSnapshot, TwinState, CHUNK_MS, WINDOW_MS};
use super::why::{InputHistory, WhyRequest};
use crate::app::live::twin_feed::{MsColumn, TwinMsg};
use crate::stimulus::DendriticSegments;
use crate::surrogate::{select_backend, LoadOptions, StreamingPredictor, SurrogateModel};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// At most this many ms in one run when catching up (then publish).
const MAX_RUN_MS: usize = 1000;
/// A part-chunk runs anyway once its oldest column has waited this long (paused or slow runs).
const MAX_WAIT: Duration = Duration::from_millis(250);
/// The false-positive rate whose threshold marks predicted spikes: the paper's low operating
/// The whole run's record (5 bytes per ms, [`RunRecord`]) is kept for at most this long (ms; 1 h
/// of simulated time).
const MAX_RUN_HISTORY_MS: usize = 3_600_000;
/// Input queued here for a twin slower than the cell is kept for at most this many ms (the
/// newest); older columns are dropped and reach the network as silence, counted in `gap_ms`,
/// as the engine side does past its own `MAX_PENDING_MS`. Without it a twin that lags steadily
/// (a second twin on a loaded CPU) grows this queue by ~150 bytes per ms of lag, without end.
pub(super) const MAX_QUEUED_MS: usize = 20_000;
/// Whole-run agreement is recomputed at most this often.
const WHOLE_RUN_EVERY: Duration = Duration::from_millis(1000);
/// Up to this many ms the whole-run agreement is cheap enough (a few ms) to recompute every run.
const CHEAP_WHOLE_RUN_MS: usize = 60_000;

pub(super) struct TwinWorker {
    n_rows: usize,
    input: Receiver<TwinMsg>,
    control: Receiver<Control>,
    latest: Arc<Mutex<Arc<TwinSnapshot>>>,
    predictor: Option<StreamingPredictor>,
    /// Absolute bin of the predictor's ms 0 (set by the first column after a start or reset).
    origin: Option<usize>,
    queued: VecDeque<MsColumn>,
    oldest_queued_at: Option<Instant>,
    spikes: Option<SpikeRuns>,
    run: RunRecord,
    cell_spikes_ms: Vec<f64>,
    twin_spikes_ms: Vec<f64>,
    whole_run_at: Instant,
    snap: TwinSnapshot,
    segments: Arc<DendriticSegments>,
    history: InputHistory,
    threshold_choice: ThresholdChoice,
}

impl TwinWorker {
    pub(super) fn new(n_rows: usize, segments: Arc<DendriticSegments>, input: Receiver<TwinMsg>, control: Receiver<Control>, latest: Arc<Mutex<Arc<TwinSnapshot>>>) -> TwinWorker {
        TwinWorker {
            segments,
            history: InputHistory::default(),
            n_rows,
            input,
            control,
            latest,
            predictor: None,
            origin: None,
            queued: VecDeque::new(),
            oldest_queued_at: None,
            spikes: None,
            run: RunRecord::default(),
            cell_spikes_ms: Vec::new(),
            twin_spikes_ms: Vec::new(),
            whole_run_at: Instant::now(),
            snap: TwinSnapshot::default(),
            threshold_choice: ThresholdChoice::default(),
        }
    }

    pub(super) fn run(mut self) {
        loop {
            loop {
                match self.control.try_recv() {
                    Ok(Control::Select(m)) => self.select(m),
                    Ok(Control::Why(r)) => self.why(r),
                    Ok(Control::Threshold(c)) => self.set_threshold(c),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            match self.input.recv_timeout(Duration::from_millis(50)) {
                Ok(msg) => self.take(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            while let Ok(msg) = self.input.try_recv() {
                self.take(msg);
            }
            let waited = self.oldest_queued_at.is_some_and(|t| t.elapsed() >= MAX_WAIT);
            if self.predictor.is_some() && (self.queued.len() >= CHUNK_MS || (waited && !self.queued.is_empty())) {
                self.predict();
            }
        }
    }

    fn take(&mut self, msg: TwinMsg) {
        match msg {
            TwinMsg::Reset => {
                self.restart();
                self.publish();
            }
            TwinMsg::Columns(cols) if self.predictor.is_some() => {
                if self.queued.is_empty() {
                    self.oldest_queued_at = Some(Instant::now());
                }
                self.queued.extend(cols);
                let excess = self.queued.len().saturating_sub(MAX_QUEUED_MS);
                if excess > 0 {
                    self.queued.drain(..excess);
                }
            }
            // off: the engine's input is dropped unread
            TwinMsg::Columns(_) => {}
        }
    }

    fn why(&mut self, request: WhyRequest) {
        // answer with everything received so far
        while self.predictor.is_some() && !self.queued.is_empty() {
            self.predict();
        }
        let Some(p) = self.predictor.as_ref() else {
            let e = Arc::new(Err("the twin is off".to_string()));
            match request {
                WhyRequest::Explain { .. } => self.snap.explain = Some(Arc::new(Err("the twin is off".into()))),
                WhyRequest::WhatIf { .. } => self.snap.what_if = Some(e),
            }
            self.publish();
            return;
        };
        let model = p.model();
        match (&request, model.native()) {
            (_, None) => {
                let e = format!("needs the native evaluation, which is off: {}", model.native_status());
                self.snap.explain = Some(Arc::new(Err(e.clone())));
                self.snap.what_if = Some(Arc::new(Err(e)));
            }
            (WhyRequest::Explain { t_bin }, Some(tcn)) => self.snap.explain = Some(Arc::new(self.history.explain(tcn, &self.segments, *t_bin))),
            (WhyRequest::WhatIf { .. }, Some(tcn)) => {
                self.snap.what_if = Some(Arc::new(self.history.what_if(tcn, model.metadata(), self.segments.len(), &request)));
            }
        }
        self.publish();
    }

    /// Forget the outputs; the next column starts the twin afresh.
    fn restart(&mut self) {
        self.history.clear();
        self.snap.explain = None;
        self.snap.what_if = None;
        if let Some(p) = self.predictor.as_mut() {
            p.reset();
        }
        self.origin = None;
        self.queued.clear();
        self.oldest_queued_at = None;
        if let Some(s) = self.spikes.as_mut() {
            *s = SpikeRuns::new(s.threshold);
        }
        self.run.clear(0);
        self.cell_spikes_ms.clear();
        self.twin_spikes_ms.clear();
        self.snap.window = Series::default();
        self.snap.cell_spikes_ms.clear();
        self.snap.twin_spikes_ms.clear();
        self.snap.whole_run = Agreement::default();
        self.snap.gap_ms = 0;
        self.snap.predicted_until_ms = 0;
        self.snap.last_run = None;
    }

    fn select(&mut self, model: Option<PathBuf>) {
        self.predictor = None;
        self.snap.native = None;
        self.spikes = None;
        self.restart();
        let Some(path) = model else {
            self.snap.state = TwinState::Off;
            self.snap.threshold = Err("no model".into());
            self.publish();
            return;
        };
        let name = path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
        self.snap.state = TwinState::Loading(name.clone());
        self.publish();
        match select_backend(None) {
            Ok(choice) => {
                self.snap.backend = Some(choice.backend.to_string());
                self.snap.backend_warning = choice.warning;
            }
            Err(e) => {
                self.snap.state = TwinState::Failed(format!("ONNX backend: {e}"));
                self.publish();
                return;
            }
        }
        let loaded = SurrogateModel::load(&path, LoadOptions::default()).and_then(|m| {
            if m.n_rows() != self.n_rows {
                return Err(crate::surrogate::SurrogateError::Shape(format!("model {} takes {} input rows, this cell has {}", m.metadata().name, m.n_rows(), self.n_rows)));
            }
            Ok(m)
        });
        match loaded {
            Ok(model) => {
                self.apply_threshold(model.metadata());
                self.snap.state = TwinState::Running(model.metadata().name.clone());
                self.snap.native = model.native().cloned().map(Arc::new);
                let predictor = StreamingPredictor::new(model);
                // which evaluation streams: native sparse TCN (verified at load) or the ONNX backend
                self.snap.backend = Some(predictor.engine_description());
                self.predictor = Some(predictor);
            }
            Err(e) => self.snap.state = TwinState::Failed(format!("loading {}: {e}", path.display())),
        }
        self.publish();
    }

    /// The threshold of `self.threshold_choice` for `meta`, into the snapshot and the spike runs.
    fn apply_threshold(&mut self, meta: &crate::surrogate::ModelMetadata) {
        match self.threshold_choice.resolve(meta) {
            Ok((p, label)) => {
                self.snap.threshold = Ok(p);
                self.snap.threshold_label = label;
            }
            Err(e) => {
                self.snap.threshold = Err(e);
                self.snap.threshold_label = String::new();
            }
        }
        self.spikes = self.snap.threshold.as_ref().ok().map(|&t| SpikeRuns::new(t));
    }

    /// Use another threshold: the predicted spikes of the whole run so far are recounted with it.
    fn set_threshold(&mut self, choice: ThresholdChoice) {
        self.threshold_choice = choice;
        let Some(meta) = self.predictor.as_ref().map(|p| p.model().metadata().clone()) else {
            self.publish();
            return;
        };
        self.apply_threshold(&meta);
        self.twin_spikes_ms.clear();
        if let Some(s) = self.spikes.as_mut() {
            for (k, p) in self.run.probabilities().enumerate() {
                if let Some(b) = s.push(self.run.first_bin + k, p) {
                    self.twin_spikes_ms.push(b as f64 + 1.0);
                }
            }
        }
        let until = self.run.first_bin + self.run.len();
        self.trim_window(until);
        self.snap.whole_run = self.run.agreement(&self.cell_spikes_ms, &self.twin_spikes_ms);
        self.whole_run_at = Instant::now();
        self.publish();
    }

    /// Run the network on the queued columns (at most [`MAX_RUN_MS`]) and publish.
    fn predict(&mut self) {
        let Some(predictor) = self.predictor.as_mut() else { return };
        let origin = *self.origin.get_or_insert_with(|| self.queued.front().map_or(0, |c| c.bin));
        let next_bin = origin + predictor.t_ms();
        // columns in order, gaps (dropped by the engine side when we were far behind) as silence
        let mut cols: Vec<MsColumn> = Vec::new();
        let mut bin = next_bin;
        while cols.len() < MAX_RUN_MS {
            let Some(c) = self.queued.pop_front() else { break };
            if c.bin < bin {
                continue;
            }
            while bin < c.bin && cols.len() < MAX_RUN_MS {
                cols.push(MsColumn { bin, rows: Vec::new(), cell_v_mv: f32::NAN, cell_spikes_ms: Vec::new(), blind: false });
                self.snap.gap_ms += 1;
                bin += 1;
            }
            if bin < c.bin {
                self.queued.push_front(c);
                break;
            }
            cols.push(c);
            bin += 1;
        }
        self.oldest_queued_at = (!self.queued.is_empty()).then(Instant::now);
        if cols.is_empty() {
            return;
        }
        // the rows active in each ms (sorted, no repeats: a row spiking twice in one ms is one input)
        let active: Vec<Vec<u32>> = cols
            .iter()
            .map(|c| {
                let mut a: Vec<u32> = c.rows.iter().copied().filter(|&r| (r as usize) < self.n_rows).collect();
                a.sort_unstable();
                a.dedup();
                a
            })
            .collect();
        if self.run.is_empty() {
            self.run.first_bin = cols[0].bin;
        }
        if self.snap.window.is_empty() {
            self.snap.window.first_bin = cols[0].bin;
        }
        let started = Instant::now();
        let pred = match predictor.push_active(&active) {
            Ok(p) => p,
            Err(e) => {
                self.snap.state = TwinState::Failed(format!("prediction stopped: {e}"));
                self.predictor = None;
                self.publish();
                return;
            }
        };
        self.snap.last_run = Some(ChunkTiming { new_ms: cols.len(), wall_ms: started.elapsed().as_secs_f64() * 1000.0 });
        // the cell's voltage as the twin's soma target is defined (clipped at the model's
        // clip_max_mV, −55 mV in the paper): the RMSE of the agreement table is then the one
        // `neurotwin evaluate` reports, not one dominated by the action potentials no twin draws
        let clip_mv = predictor.model().metadata().target_transforms.soma.clip_max_mv as f32;
        for (j, c) in cols.iter().enumerate() {
            let (p, v) = (pred.spike_probability.get(j).copied().unwrap_or(f32::NAN), pred.soma_v_mv.get(j).copied().unwrap_or(f32::NAN));
            let cell_v_mv = if c.cell_v_mv.is_finite() { c.cell_v_mv.min(clip_mv) } else { c.cell_v_mv };
            // the record stops at MAX_RUN_HISTORY_MS; spikes past it are only kept for the window
            self.cell_spikes_ms.extend(&c.cell_spikes_ms);
            self.history.push(c.bin, &c.rows);
            if let Some(b) = self.spikes.as_mut().and_then(|s| s.push(c.bin, p)) {
                self.twin_spikes_ms.push(b as f64 + 1.0);
            }
            if self.run.len() < MAX_RUN_HISTORY_MS {
                self.run.push(cell_v_mv, v, p, c.blind);
            }
            self.snap.window.push(cell_v_mv, v, p, c.blind);
        }
        self.snap.predicted_until_ms = bin;
        self.trim_window(bin);
        self.trim_spikes_past_the_record();
        if self.whole_run_at.elapsed() >= WHOLE_RUN_EVERY || self.run.len() <= CHEAP_WHOLE_RUN_MS {
            self.snap.whole_run = self.run.agreement(&self.cell_spikes_ms, &self.twin_spikes_ms);
            self.whole_run_at = Instant::now();
        }
        self.publish();
    }

    fn trim_window(&mut self, until_bin: usize) {
        let w = &mut self.snap.window;
        let first = until_bin.saturating_sub(WINDOW_MS);
        let drop = first.saturating_sub(w.first_bin).min(w.len());
        if drop > 0 {
            w.cell_v_mv.drain(..drop);
            w.twin_v_mv.drain(..drop);
            w.probability.drain(..drop);
            w.blind.drain(..drop.min(w.blind.len()));
            w.first_bin += drop;
        }
        let t0 = w.first_bin as f64;
        self.snap.cell_spikes_ms = self.cell_spikes_ms.iter().copied().filter(|&t| t >= t0).collect();
        self.snap.twin_spikes_ms = self.twin_spikes_ms.iter().copied().filter(|&t| t >= t0).collect();
    }

    /// Once the whole-run record is full (1 h), spikes after its end matter only while they are
    /// in the window: drop the ones that have left it (the lists grew for as long as a run went on).
    fn trim_spikes_past_the_record(&mut self) {
        if self.run.len() < MAX_RUN_HISTORY_MS {
            return;
        }
        let record_end = (self.run.first_bin + self.run.len()) as f64 + 1.0;
        let window_start = self.snap.window.first_bin as f64;
        for v in [&mut self.cell_spikes_ms, &mut self.twin_spikes_ms] {
            v.retain(|&t| t < record_end || t >= window_start);
        }
    }

    fn publish(&mut self) {
        self.snap.seq += 1;
        let s = Arc::new(self.snap.clone());
        match self.latest.lock() {
            Ok(mut g) => *g = s,
            Err(p) => *p.into_inner() = s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::mpsc::sync_channel;

    fn column(bin: usize) -> MsColumn {
        MsColumn { bin, rows: vec![(bin % 20) as u32], cell_v_mv: -70.0, cell_spikes_ms: Vec::new(), blind: false }
    }

    #[test]
    fn a_twin_behind_the_cell_keeps_the_newest_input_and_counts_the_rest_as_a_gap() {
        let morph = crate::morphology::load_hay2011(Path::new("tests/data/surrogate/tiny10.swc")).expect("tiny10");
        let cable = crate::Cable::new(&morph, &crate::Discretisation::default()).expect("cable");
        let segments = Arc::new(DendriticSegments::new(&morph, &cable).expect("segments"));
        let (_tx, rx) = sync_channel(1);
        let (_ctx, crx) = sync_channel(1);
        let latest = Arc::new(Mutex::new(Arc::new(TwinSnapshot::default())));
        let mut w = TwinWorker::new(2 * segments.len(), segments, rx, crx, latest.clone());
        w.select(Some(PathBuf::from("tests/data/surrogate/fixture.json")));
        assert!(matches!(w.snap.state, TwinState::Running(_)), "{:?}", w.snap.state);
        // 25 s of input arrive while the network has not run at all
        let extra = 5_000;
        w.take(TwinMsg::Columns((0..MAX_QUEUED_MS + extra).map(column).collect()));
        assert_eq!(w.queued.len(), MAX_QUEUED_MS);
        assert_eq!(w.queued.front().map(|c| c.bin), Some(extra), "the oldest columns go first");
        // the first column seen sets the origin: the run starts at the oldest kept bin
        let mut runs = 0;
        while !w.queued.is_empty() {
            w.predict();
            runs += 1;
            assert!(runs < 1000, "the queue does not drain");
        }
        assert_eq!(w.snap.predicted_until_ms, MAX_QUEUED_MS + extra);
        assert_eq!(w.snap.gap_ms, 0, "no gap inside what was kept");
        // input dropped after the twin has started is silence where it was, counted as a gap
        w.take(TwinMsg::Columns((MAX_QUEUED_MS + extra..2 * MAX_QUEUED_MS + 2 * extra).map(column).collect()));
        assert_eq!(w.queued.len(), MAX_QUEUED_MS);
        while !w.queued.is_empty() {
            w.predict();
        }
        assert_eq!(w.snap.predicted_until_ms, 2 * MAX_QUEUED_MS + 2 * extra);
        assert_eq!(w.snap.gap_ms, extra);
        assert_eq!(latest.lock().expect("snapshot").gap_ms, extra, "published");
    }
}
