"""Baselines a twin has to beat, scored with the paper's protocol on the same simulations.

* ``filtered``: nothing fitted. Each 1-ms bin is ranked by (excitatory − inhibitory input count)
  filtered with a causal exponential (τ = 20 ms by default). The spike AUC of this score says how
  much of the output is explained by "more net input, more spikes".
* ``logistic``: a logistic regression on the excitatory and inhibitory input counts of the basal
  and of the apical tree, each filtered with causal exponentials of τ = 2, 5, 10, 20, 50 and
  100 ms, plus the squares of those features (48 features, standardised), fitted on training
  simulations by L-BFGS. A linear-nonlinear model of the summed input: what a shallow model
  of the inputs can do without any dendritic structure.

Both report the same metrics as `evaluate.paper_metrics` (spike part only).
"""

from __future__ import annotations

import numpy as np
import torch

from . import metrics
from .data import Dataset, Simulation

TAUS_MS = (2.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def _tree_rows(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks over the n_segments segment rows: basal, apical (from the manifest)."""
    seg = ds.definition["segments"]
    trees = np.array([str(t).lower() for t in seg["tree"]])
    return trees == "basal", trees == "apical"


def input_counts(sim: Simulation, n_segments: int, basal: np.ndarray, duration_ms: int) -> np.ndarray:
    """float64 [4, duration_ms]: input spikes per ms of (basal exc, apical exc, basal inh, apical inh)."""
    out = np.zeros((4, duration_ms))
    seg = sim.rows % n_segments
    inh = sim.rows >= n_segments
    group = np.where(basal[seg], 0, 1) + 2 * inh
    np.add.at(out, (group, sim.ms), 1.0)
    return out


def exp_filter(x: np.ndarray, tau_ms: float) -> np.ndarray:
    """Causal exponential filter along the last axis: y[t] = a·y[t − 1] + x[t], a = exp(−1/τ)."""
    a = np.exp(-1.0 / tau_ms)
    y = np.empty_like(x, dtype=np.float64)
    acc = np.zeros(x.shape[:-1])
    for t in range(x.shape[-1]):
        acc = a * acc + x[..., t]
        y[..., t] = acc
    return y


def features(counts: np.ndarray, taus=TAUS_MS) -> np.ndarray:
    """[n_features, T]: every count row filtered at every τ, then their squares."""
    f = np.concatenate([exp_filter(counts, tau) for tau in taus])
    return np.concatenate([f, f * f])


def filtered_score(counts: np.ndarray, tau_ms: float = 20.0) -> np.ndarray:
    """The nothing-fitted score: filtered (excitatory − inhibitory) count, [T]."""
    net = counts[0] + counts[1] - counts[2] - counts[3]
    return exp_filter(net, tau_ms)


class Logistic:
    """Logistic regression on `features`, standardised with the training statistics."""

    def __init__(self, taus=TAUS_MS):
        self.taus = taus
        self.mean = self.std = self.w = None
        self.b = 0.0

    def fit(self, feats: list[np.ndarray], targets: list[np.ndarray], l2: float = 1e-4, iters: int = 200) -> "Logistic":
        x = np.concatenate(feats, axis=1).T
        y = np.concatenate(targets)
        self.mean, self.std = x.mean(axis=0), x.std(axis=0) + 1e-9
        xt = torch.from_numpy((x - self.mean) / self.std)
        yt = torch.from_numpy(y.astype(np.float64))
        w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
        b = torch.tensor([np.log(max(y.mean(), 1e-6) / (1 - max(y.mean(), 1e-6)))], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], max_iter=iters, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(xt @ w + b, yt) + l2 * (w * w).sum()
            loss.backward()
            return loss

        opt.step(closure)
        self.w, self.b = w.detach().numpy(), float(b.detach()[0])
        return self

    def score(self, feat: np.ndarray) -> np.ndarray:
        return ((feat.T - self.mean) / self.std) @ self.w + self.b


def _spike_entry(scores: np.ndarray, targets: np.ndarray) -> dict | None:
    return metrics.spike_metrics(targets, scores) if 0 < targets.sum() < targets.size else None


def run_baselines(test: Dataset, train: Dataset | None = None, ignore_ms: int = 500, max_train_sims: int = 200,
                  tau_ms: float = 20.0, log=print) -> dict:
    """Spike metrics of both baselines on every simulation of ``test`` (bins ≥ ignore_ms); the
    logistic regression is fitted on the first ``max_train_sims`` simulations of ``train``."""
    basal, apical = _tree_rows(test)
    if not (basal | apical).all():
        raise ValueError("segments that are neither basal nor apical in the manifest")
    T = test.duration_ms
    ids = test.sim_indices
    sims = test.load_sims(ids)
    counts = {k: input_counts(sims[k], test.n_segments, basal, T) for k in ids}
    y = np.stack([sims[k].spike_target()[ignore_ms:] for k in ids])
    out = {"n_sims": len(ids), "ignore_first_ms": ignore_ms, "n_spike_bins": int(y.sum())}
    filt = np.stack([filtered_score(counts[k], tau_ms)[ignore_ms:] for k in ids])
    out["filtered"] = {"tau_ms": tau_ms, "spikes": _spike_entry(filt, y)}
    log(f"filtered input (tau {tau_ms} ms, nothing fitted): AUC {out['filtered']['spikes']['auc']:.4f}")
    if train is not None:
        if train.fingerprint != test.fingerprint:
            raise ValueError("training and test datasets are of different morphologies")
        t_ids = train.sim_indices[:max_train_sims]
        t_sims = train.load_sims(t_ids)
        feats, targets = [], []
        for k in t_ids:
            f = features(input_counts(t_sims[k], train.n_segments, basal, T))
            feats.append(f[:, ignore_ms:])
            targets.append(t_sims[k].spike_target()[ignore_ms:])
        model = Logistic().fit(feats, targets)
        lr = np.stack([model.score(features(counts[k])[:, ignore_ms:]) for k in ids])
        out["logistic"] = {"features": f"exc/inh counts of basal/apical filtered at tau {list(TAUS_MS)} ms and their squares",
                           "train_sims": len(t_ids), "spikes": _spike_entry(lr, y)}
        log(f"logistic regression ({len(t_ids)} training sims): AUC {out['logistic']['spikes']['auc']:.4f}")
    return out
