"""Whole-trace prediction and the paper's evaluation protocol.

The network is causal with a finite receptive field, so running it once over a whole simulation
(zero history before t = 0) gives exactly what the paper's overlapping 400-ms sliding windows give
(their overlap exceeds the window T); we therefore predict each held-out simulation in one pass.

Protocol (spec/paper-dnn.md §5): bins t ≥ 500 ms only; ROC over every (simulation, 1-ms bin)
pair; soma target clipped at −55 mV; RMSE/MAE/explained variance raw and after rescaling the
prediction to the target's global mean and std. Reported for all held-out simulations and for
the paper's headline subset (simulations with 0–24 output spikes, a rule stated for 6-s
simulations: 4 spikes/s).
"""

from __future__ import annotations

import numpy as np
import torch

from . import metrics
from .data import Simulation, SomaTransform, WindowSource
from .model import TCN, SparseBatch


@torch.no_grad()
def predict_sims(model: TCN, source: WindowSource, sim_ids: list[int], device: str = "cpu", sparse: bool = True,
                 sims_per_pass: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Spike logits and soma predictions (target units), float32 [n_sims, duration_ms] each, for
    whole simulations; the model is put in eval mode (BatchNorm running statistics).
    ``sims_per_pass`` default: as many as keep the sparse layer's [T, k, c] buffer near 80 MB."""
    was_training = model.training
    model.eval()
    T = source.duration_ms
    if sims_per_pass is None:
        if hasattr(model.cfg, "kernels"):
            k, c = model.cfg.kernels[0], model.cfg.widths[0]
            sims_per_pass = max(1, int(2e7 // (T * k * c)))
        else:  # recurrent: one step for many simulations at once
            sims_per_pass = 64
    logits, soma = [], []
    for i in range(0, len(sim_ids), sims_per_pass):
        ids = sim_ids[i:i + sims_per_pass]
        b = source.batch(ids, [0] * len(ids), T)
        x = SparseBatch.from_numpy(b.x, device) if sparse else torch.from_numpy(b.x.to_dense()).to(device)
        s, v = model(x)
        logits.append(s.float().cpu().numpy())
        soma.append(v.float().cpu().numpy())
    model.train(was_training)
    return np.concatenate(logits), np.concatenate(soma)


def paper_metrics(sims: dict[int, Simulation], sim_ids: list[int], logits: np.ndarray, soma_pred: np.ndarray,
                  transform: SomaTransform, ignore_ms: int = 500, max_spikes_per_6s: int = 24,
                  n_segments: int | None = None) -> dict:
    """Metrics over held-out simulations: ``all`` and ``spikes_0_24`` (simulations with at most
    24 output spikes per 6 s, scaled to the simulation length); with ``n_segments`` (rows below it
    are excitatory) also ``by_exc_input_tercile``: the spike AUC of each third of the simulations
    ranked by their excitatory input count."""
    duration = logits.shape[1]
    y_spike = np.stack([sims[k].spike_target() for k in sim_ids])
    v_true = np.stack([np.minimum(sims[k].soma_v, transform.clip_mV) for k in sim_ids]).astype(np.float64)
    v_pred = transform.inverse(soma_pred)
    n_out = np.array([len(sims[k].out_spikes_ms) for k in sim_ids])
    limit = max_spikes_per_6s * duration / 6000.0
    result = {"ignore_first_ms": ignore_ms, "duration_ms": duration, "spike_score": "logit (probability = sigmoid(logit); thresholds are logits)"}
    subsets = {"all": np.ones(len(sim_ids), bool), f"spikes_0_{max_spikes_per_6s}": n_out <= limit}
    t0 = min(ignore_ms, duration - 1)
    for name, keep in subsets.items():
        entry = {"n_sims": int(keep.sum()), "n_output_spikes": int(n_out[keep].sum())}
        if keep.any():
            ys, ps = y_spike[keep, t0:], logits[keep, t0:]
            if 0 < ys.sum() < ys.size:
                entry["spikes"] = metrics.spike_metrics(ys, ps)
            else:
                entry["spikes"] = None  # ROC undefined without both classes
            entry["soma"] = metrics.soma_metrics(v_true[keep, t0:], v_pred[keep, t0:])
        result[name] = entry
    if n_segments is None or len(sim_ids) < 3:
        return result
    # AUC by tercile of the simulations' excitatory input count (busier input is harder)
    exc = np.array([int(np.sum(sims[k].rows < n_segments)) for k in sim_ids])
    edges = np.quantile(exc, [1 / 3, 2 / 3])
    which = np.digitize(exc, edges)
    terciles = []
    for i in range(3):
        keep = which == i
        ys, ps = y_spike[keep, t0:], logits[keep, t0:]
        terciles.append({"tercile": i + 1, "n_sims": int(keep.sum()),
                         "exc_inputs_per_sim": [int(exc[keep].min()), int(exc[keep].max())] if keep.any() else None,
                         "n_spike_bins": int(ys.sum()),
                         "auc": metrics.roc_auc(ys.ravel(), ps.ravel()) if 0 < ys.sum() < ys.size else None})
    result["by_exc_input_tercile"] = terciles
    return result


def summary_line(m: dict) -> str:
    """One human-readable line of the `all` subset."""
    a = m["all"]
    sp = a.get("spikes")
    s = a.get("soma", {})
    auc = f"AUC {sp['auc']:.4f}, TPR@0.25%FPR {sp['at_fpr']['0.0025']['tpr']:.3f}, TPR@1%FPR {sp['at_fpr']['0.01']['tpr']:.3f}" if sp else "AUC n/a"
    terc = m.get("by_exc_input_tercile")
    by = ("; AUC by tercile of excitatory input " + " / ".join("n/a" if t["auc"] is None else f"{t['auc']:.4f}" for t in terc)) if terc else ""
    return (f"{a['n_sims']} sims: {auc}; soma RMSE {s.get('rmse_mV', float('nan')):.3f} mV "
            f"(rescaled {s.get('rmse_rescaled_mV', float('nan')):.3f}), explained variance {s.get('explained_variance', float('nan')):.4f} "
            f"(rescaled {s.get('explained_variance_rescaled', float('nan')):.4f}){by}")
