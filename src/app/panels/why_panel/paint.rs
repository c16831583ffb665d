//! What the "Why?" window paints on the 3-D cell: recency-weighted inputs of the window, the
//! twin's attribution, or a first-layer filter, as per-node values on the diverging map.

use super::{Paint, WhyPanel, SATURATION_P};
use crate::app::live::model::SynapseKind;
use crate::app::live::runner::Snapshot;
use crate::app::session::Session;
use crate::app::twin::thread::TwinSnapshot;
use crate::app::view::view3d::{NodeOverlay, View3d};
use crate::stimulus::DendriticSegments;
use std::sync::Arc;

/// Input rows (exc and inh) of every segment on `section` and the sections beyond it.
pub fn branch_rows(morph: &crate::Morphology, segs: &DendriticSegments, section: usize) -> Vec<u32> {
    let in_branch = |mut s: usize| loop {
        if s == section {
            return true;
        }
        match morph.sections.get(s).and_then(|x| x.parent) {
            Some(p) => s = p,
            None => return false,
        }
    };
    let n = segs.len() as u32;
    let exc: Vec<u32> = segs.segments.iter().enumerate().filter(|(_, g)| in_branch(g.section)).map(|(i, _)| i as u32).collect();
    exc.iter().copied().chain(exc.iter().map(|r| r + n)).collect()
}

/// Per-node values (NaN where no dendritic segment) accumulated from (segment, value) pairs.
fn node_values(n_nodes: usize, segs: &DendriticSegments, items: impl Iterator<Item = (usize, f32)>) -> Vec<f32> {
    let mut v = vec![f32::NAN; n_nodes];
    for s in &segs.segments {
        if let Some(x) = v.get_mut(s.node) {
            *x = 0.0;
        }
    }
    for (seg, val) in items {
        if let Some(x) = segs.segments.get(seg).and_then(|s| v.get_mut(s.node)) {
            *x += val;
        }
    }
    v
}

fn max_abs(v: &[f32]) -> f32 {
    v.iter().filter(|x| x.is_finite()).fold(0.0f32, |m, x| m.max(x.abs()))
}

/// The spike-triggered view: every input spike in `[t − window, t]` adds exp(−(t − t_s)/τ) to its
/// node, positive for excitation and negative for inhibition.
pub fn recent_inputs(snap: &Snapshot, n_nodes: usize, t_ms: f64, window_ms: f64, tau_ms: f64) -> Vec<f32> {
    let mut v = vec![f32::NAN; n_nodes];
    for s in snap.raster.iter().filter(|s| s.t_ms <= t_ms && s.t_ms > t_ms - window_ms) {
        let w = (-(t_ms - s.t_ms) / tau_ms.max(1e-3)).exp() as f32;
        if let Some(x) = v.get_mut(s.node as usize) {
            let signed = if s.kind == SynapseKind::Excitatory { w } else { -w };
            *x = if x.is_nan() { signed } else { *x + signed };
        }
    }
    v
}

impl WhyPanel {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn update_overlay(&mut self, session: &Session, snap: &Snapshot, twin: Option<&TwinSnapshot>, segs: &DendriticSegments, t_ms: Option<f64>, window_ms: usize, view: &mut View3d) {
        let Some(t_ms) = t_ms.filter(|_| self.paint != Paint::Voltage) else {
            view.overlay = None;
            self.overlay_key = None;
            return;
        };
        let n_nodes = session.cable.nodes.len();
        let explain_id = twin.and_then(|t| t.explain.as_ref()).map_or(0, |e| Arc::as_ptr(e) as u64);
        let inputs_id = if self.paint == Paint::RecentInputs { snap.seq ^ t_ms.to_bits() ^ self.recency_tau_ms.to_bits() } else { t_ms.to_bits() };
        let key = (self.paint, inputs_id, explain_id, self.filter_channel, self.filter_lag_ms, self.filter_kind == SynapseKind::Excitatory);
        if self.overlay_key == Some(key) && view.overlay.is_some() {
            return;
        }
        self.overlay_key = Some(key);
        self.overlay_version += 1;
        let n_seg = segs.len();
        let overlay = match self.paint {
            Paint::Voltage => None,
            Paint::RecentInputs => {
                let values = recent_inputs(snap, n_nodes, t_ms, window_ms as f64, self.recency_tau_ms);
                let scale = max_abs(&values).max(1e-6);
                Some((values, scale, format!("inputs before t (τ {:.0} ms)", self.recency_tau_ms), "inh", "exc"))
            }
            Paint::Attribution => match twin.and_then(|t| t.explain.clone()).as_deref() {
                Some(Ok(a)) => {
                    // probability drops vanish where the sigmoid saturates: then paint the logit drops
                    let saturated = !(SATURATION_P..=1.0 - SATURATION_P).contains(&a.probability);
                    let values = node_values(n_nodes, segs, a.ranking.iter().map(|r| (r.segment, if saturated { r.logit_drop } else { r.score })));
                    let scale = max_abs(&values).max(1e-6);
                    let label = if saturated { format!("Δ logit (p = {:.3})", a.probability) } else { "Δ p(spike)".to_string() };
                    Some((values, scale, label, "opposes", "supports"))
                }
                _ => None,
            },
            Paint::Filter => twin.and_then(|t| t.native.clone()).filter(|n| n.as_tcn().is_some()).and_then(|nn| {
                let n = nn.as_tcn()?;
                let offset = if self.filter_kind == SynapseKind::Excitatory { 0 } else { n_seg };
                let ch = self.filter_channel.min(n.first_layer_channels() - 1);
                let lag = self.filter_lag_ms.min(n.first_layer_kernel_ms() - 1);
                let w = |seg: usize, lag: usize| n.first_layer_weight(ch, offset + seg, lag).unwrap_or(0.0);
                let values = node_values(n_nodes, segs, (0..n_seg).map(|s| (s, w(s, lag))));
                // one scale over all lags, so the slider shows the kernel's time course
                let scale = (0..n_seg).flat_map(|s| (0..n.first_layer_kernel_ms()).map(move |l| (s, l))).fold(0.0f32, |m, (s, l)| m.max(w(s, l).abs())).max(1e-9);
                let kind = if offset == 0 { "exc" } else { "inh" };
                Some((values, scale, format!("filter {ch}, {kind} rows, lag {lag} ms"), "-", "+"))
            }),
        };
        view.overlay = overlay.map(|(values, scale, label, neg, pos)| {
            Arc::new(NodeOverlay { version: self.overlay_version, values, scale, label, neg_label: neg.to_string(), pos_label: pos.to_string() })
        });
    }
}
