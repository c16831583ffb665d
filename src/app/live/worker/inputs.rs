//! The worker's inputs: the background protocol's synapses and stream, the spikes of every drive
//! generated one chunk ahead (queued in the model, recorded for the raster, the twin and the
//! what-if history), and the what-if re-runs.

use super::{Background, Worker, SAMPLE_MS, SPIKE_THRESHOLD_MV};
use crate::app::live::background::{BackgroundStream, BLOCK_MS};
use crate::app::live::drives::BackgroundSettings;
use crate::app::live::model::SynapseKind;
use crate::app::live::messages::RasterSpike;
use std::sync::Arc;

impl Worker {
    /// The twin's input row of a synapse of `kind` on `node` (`None` off the dendritic segments).
    pub(super) fn twin_row(&self, node: usize, kind: SynapseKind) -> Option<u32> {
        let seg = *self.segment_of_node.get(&node)?;
        let n_seg = self.segment_of_node.len();
        Some(if kind == SynapseKind::Excitatory { seg } else { n_seg + seg } as u32)
    }

    /// Re-run the engine from its checkpoints without and with `edit` (for the "Why?" window).
    pub(super) fn what_if(&mut self, edit: &crate::app::live::whatif_engine::Edit, to_ms: f64) {
        let to = to_ms.min(self.model.t_ms());
        let steps_per_sample = ((SAMPLE_MS / self.model.dt_ms()).round() as usize).max(1);
        self.whatif = Some(Arc::new(self.history.rerun(edit, to, steps_per_sample, SPIKE_THRESHOLD_MV)));
    }

    /// Switch the background protocol on (adding its synapses the first time) or off (removing
    /// them), or change its settings.
    pub(super) fn set_background(&mut self, settings: Option<BackgroundSettings>) {
        let Some(settings) = settings else {
            if let Some(b) = self.background.take() {
                for (exc, inh) in b.synapses {
                    self.model.remove_synapse(exc);
                    self.model.remove_synapse(inh);
                }
            }
            return;
        };
        if self.background.is_some() {
            self.restart_background_stream(settings);
            return;
        }
        let Some(segs) = self.setup.background_segments.clone() else {
            self.error = Some("background protocol: this cell has no dendritic segments".into());
            return;
        };
        let mut synapses = Vec::with_capacity(segs.len());
        for seg in &segs.segments {
            match (self.model.add_synapse(seg.node, SynapseKind::Excitatory), self.model.add_synapse(seg.node, SynapseKind::Inhibitory)) {
                (Ok(exc), Ok(inh)) => synapses.push((exc, inh)),
                (Err(e), _) | (_, Err(e)) => {
                    self.error = Some(format!("background protocol on {}({:.3}): {e:#}", seg.section_name, seg.x));
                    for (exc, inh) in synapses {
                        self.model.remove_synapse(exc);
                        self.model.remove_synapse(inh);
                    }
                    return;
                }
            }
        }
        match self.background_stream(&settings) {
            Ok(stream) => self.background = Some(Background { settings, synapses, stream }),
            Err(e) => {
                self.error = Some(e);
                for (exc, inh) in synapses {
                    self.model.remove_synapse(exc);
                    self.model.remove_synapse(inh);
                }
            }
        }
    }

    /// A stream of the protocol starting now (at t = 0 the stream is the dataset's: same seed,
    /// same input after every reset).
    pub(super) fn background_stream(&self, settings: &BackgroundSettings) -> Result<BackgroundStream, String> {
        let segs = self.setup.background_segments.clone().ok_or("no dendritic segments")?;
        let protocol = settings.protocol(self.nmda, BLOCK_MS);
        // spikes up to generated_until_ms are already queued: start after them
        BackgroundStream::start(protocol, segs, settings.seed, self.generated_until_ms.max(self.model.t_ms()))
            .map_err(|e| format!("background protocol: {e}"))
    }

    pub(super) fn restart_background_stream(&mut self, settings: BackgroundSettings) {
        match self.background_stream(&settings) {
            Ok(stream) => {
                if let Some(b) = self.background.as_mut() {
                    b.stream = stream;
                    b.settings = settings;
                }
            }
            Err(e) => self.error = Some(e),
        }
    }

    pub(super) fn generate_spikes(&mut self, t0: f64, t1: f64) {
        let mut failed = None;
        let rows: Vec<Option<u32>> = self.synapses.values().map(|s| self.twin_row(s.node, s.kind)).collect();
        for (s, &twin_row) in self.synapses.values().zip(&rows) {
            match s.drive.spikes_in(t0, t1) {
                Ok(spikes) => {
                    for t in spikes {
                        if let Err(e) = self.model.deliver_spike(s.id, t) {
                            failed = Some(format!("drive: {e:#}"));
                            break;
                        }
                        self.history.queued(t, s.id, twin_row);
                        self.raster.push_back(RasterSpike { t_ms: t, row: s.row, kind: s.kind, node: s.node as u32 });
                        for twin in self.twins.iter_mut().flatten() {
                            twin.add_synapse_input(t, s.node, s.kind);
                        }
                    }
                }
                Err(e) => failed = Some(format!("drive: {e}")),
            }
        }
        if let Some(b) = self.background.as_mut() {
            let mut spikes = std::mem::take(&mut self.background_scratch);
            spikes.clear();
            if let Err(e) = b.stream.spikes_in(t0, t1, &mut spikes) {
                failed = Some(format!("background protocol: {e}"));
            }
            let n_seg = b.synapses.len();
            for &(t, row) in &spikes {
                let (syn, kind) = if row < n_seg {
                    (b.synapses[row].0, SynapseKind::Excitatory)
                } else {
                    (b.synapses[row - n_seg].1, SynapseKind::Inhibitory)
                };
                if let Err(e) = self.model.deliver_spike(syn, t) {
                    failed = Some(format!("background protocol: {e:#}"));
                    break;
                }
                self.history.queued(t, syn, Some(row as u32));
                let node = self.setup.background_segments.as_ref().and_then(|g| g.segments.get(row % n_seg)).map_or(0, |g| g.node as u32);
                self.raster.push_back(RasterSpike { t_ms: t, row: row as u32, kind, node });
                for twin in self.twins.iter_mut().flatten() {
                    twin.add_row(t, row as u32);
                }
            }
            self.background_scratch = spikes;
        }
        if failed.is_some() {
            self.error = failed;
        }
    }
}
