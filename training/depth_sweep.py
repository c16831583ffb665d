"""The paper's deep-versus-shallow contrast (Beniaguev et al. 2021, Fig. 2) measured on neurotwin's
own simulations: the same causal TCN at several depths, trained on one fixed data budget and one
fixed number of optimiser steps, on the NMDA protocol and on the AMPA-only one, then scored on a
fresh test set of each protocol with the paper's evaluation (whole traces, 1-ms bins after 500 ms).

Every depth has the same receptive field T (default 153 ms, the paper's best model) and the same
width: a depth-1 network is one hidden layer whose kernel spans T; deeper ones give the first layer
39 ms (as the paper's best model) and split the rest of T equally over the other layers. So depth
is the only thing that changes, not how far back the network sees.

    python -m training depth-sweep --protocol nmda --data TRAIN --valid-data VALID --test-data TEST --out runs/depth
    python -m training depth-sweep --protocol ampa --data ... --out runs/depth
    python -m training depth-sweep-plot --runs runs/depth --out docs/depth-sweep.png --json docs/depth-sweep.json

Each (protocol, depth) run lives in OUT/PROTOCOL-dDEPTH: an interrupted sweep resumes its run from
the last epoch and skips the finished ones (their ``result.json``).
"""

from __future__ import annotations

import json
import os
import time

FIRST_KERNEL_MS = 39


def kernels_for(depth: int, receptive_ms: int, first_ms: int = FIRST_KERNEL_MS) -> list[int]:
    """Kernel sizes (ms) of a ``depth``-layer causal TCN whose receptive field Σ(k − 1) + 1 is exactly
    ``receptive_ms``: one kernel of T for depth 1; otherwise ``first_ms`` for the first layer and the
    rest of T spread as evenly as whole ms allow (the larger kernels first)."""
    if depth < 1:
        raise ValueError(f"depth {depth}: at least 1 layer")
    if depth == 1:
        return [receptive_ms]
    rest = receptive_ms - first_ms  # Σ(k − 1) over layers 2..depth
    if rest < depth - 1:
        raise ValueError(f"receptive field {receptive_ms} ms is too short for {depth} layers after a {first_ms}-ms first kernel")
    base, extra = divmod(rest, depth - 1)
    return [first_ms] + [base + 1 + (1 if i < extra else 0) for i in range(depth - 1)]


def _protocol(ds) -> str:
    return str(ds.definition["protocol"].get("variant", "nmda"))


def run_one(protocol: str, depth: int, data: str, valid_data: str, test_data: str, out: str, width: int = 64,
            receptive: int = 153, first_kernel_ms: int = FIRST_KERNEL_MS, first_rank: int = 16, max_train_sims: int = 512, epochs: int = 10,
            steps_per_epoch: int = 300, lr: float = 1e-3, seed: int = 0, threads: int = 1, log=print) -> dict:
    """Train (or resume) and score one depth; returns its result (also OUT/PROTOCOL-dDEPTH/result.json)."""
    import torch

    from .data import Dataset, WindowSource
    from .evaluate import paper_metrics, predict_sims
    from .model import ModelConfig
    from .train import TrainConfig, load_model, train

    run_dir = os.path.join(out, f"{protocol}-d{depth}")
    result_path = os.path.join(run_dir, "result.json")
    if os.path.exists(result_path):
        with open(result_path) as f:
            return json.load(f)
    ds, vds, tds = Dataset(data), Dataset(valid_data), Dataset(test_data)
    for name, d in (("--data", ds), ("--valid-data", vds), ("--test-data", tds)):
        if _protocol(d) != protocol:
            raise SystemExit(f"{name}: the {_protocol(d)} protocol, not {protocol}")
        if d.fingerprint != ds.fingerprint:
            raise SystemExit(f"{name}: another morphology than --data")
    if max_train_sims and len(ds.sim_indices) < max_train_sims:
        raise SystemExit(f"--data {data}: {len(ds.sim_indices)} finished simulations, the budget is {max_train_sims}")
    torch.set_num_threads(threads)
    kernels = kernels_for(depth, receptive, first_kernel_ms)
    mcfg = ModelConfig.build(ds.n_rows, depth, width, kernels)
    mcfg.first_rank = first_rank
    cfg = TrainConfig(data=os.path.abspath(data), model=mcfg.to_json(), epochs=epochs, steps_per_epoch=steps_per_epoch,
                      valid_data=os.path.abspath(valid_data), max_train_sims=max_train_sims, seed=seed, threads=threads)
    cfg.scale_lr(lr)
    resume = os.path.exists(os.path.join(run_dir, "checkpoints", "last.pt"))
    os.makedirs(run_dir, exist_ok=True)
    cpu0 = time.process_time()
    train(cfg, run_dir, resume=resume, log=lambda m: log(f"[{protocol} depth {depth}] {m}"))
    cpu_train = time.process_time() - cpu0
    model, rcfg, ck = load_model(run_dir, "best")
    test_ids = tds.sim_indices
    sims = tds.load_sims(test_ids)
    logits, soma = predict_sims(model, WindowSource(sims, tds.n_rows, rcfg.transform()), test_ids)
    m = paper_metrics(sims, test_ids, logits, soma, rcfg.transform(), rcfg.ignore_ms)["all"]
    with open(os.path.join(run_dir, "history.jsonl")) as f:
        hist = [json.loads(line) for line in f if line.strip()]
    best_valid = ck["history"][-1].get("valid_auc") if ck["history"] else None
    sp, so = m.get("spikes") or {}, m.get("soma") or {}
    result = {
        "protocol": protocol, "depth": depth, "kernels_ms": kernels, "receptive_ms": mcfg.window_ms, "width": width,
        "first_rank": first_rank, "parameters": int(model.n_parameters()),
        "train_data": os.path.basename(os.path.normpath(data)), "train_sims": len(rcfg.split["train"]),
        "steps": epochs * steps_per_epoch, "batch_size": rcfg.batch_size, "window_ms": rcfg.window_ms, "lr": lr,
        "train_wall_s": hist[-1]["wall_s"] if hist else None, "train_cpu_s_this_call": cpu_train,
        "epochs": epochs, "best_epoch": ck["epoch"], "valid_auc_windows_at_best": best_valid,
        "test_data": os.path.basename(os.path.normpath(test_data)), "test_sims": m["n_sims"], "test_spikes": m["n_output_spikes"],
        "test_auc": sp.get("auc"), "test_tpr_0.25pct": (sp.get("at_fpr") or {}).get("0.0025", {}).get("tpr"),
        "test_tpr_1pct": (sp.get("at_fpr") or {}).get("0.01", {}).get("tpr"),
        "test_rmse_mV": so.get("rmse_mV"), "test_ev": so.get("explained_variance"),
    }
    with open(result_path, "w") as f:
        json.dump(result, f, indent=2, allow_nan=False)
    log(f"[{protocol} depth {depth}] test AUC {result['test_auc']}, TPR at 1 % FPR {result['test_tpr_1pct']}, "
        f"{result['parameters']:,} parameters, {result['train_wall_s']} s training")
    return result


def sweep(protocol: str, depths: list[int], **kw) -> list[dict]:
    return [run_one(protocol, d, **kw) for d in depths]


def collect(runs_dir: str) -> list[dict]:
    """Every finished run's result under ``runs_dir``, by protocol then depth."""
    out = []
    for name in sorted(os.listdir(runs_dir)):
        p = os.path.join(runs_dir, name, "result.json")
        if os.path.isfile(p):
            with open(p) as f:
                out.append(json.load(f))
    return sorted(out, key=lambda r: (r["protocol"], r["depth"]))


def plot(results: list[dict], png: str, title: str = "") -> None:
    """Test AUC and TPR at 1 % FPR against depth, one line per protocol."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"nmda": "#c2185b", "ampa": "#00838f"}
    labels = {"nmda": "AMPA + NMDA synapses", "ampa": "AMPA only"}
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6), dpi=110)
    for proto in sorted({r["protocol"] for r in results}):
        rs = [r for r in results if r["protocol"] == proto]
        d = [r["depth"] for r in rs]
        for ax, key in zip(axes, ("test_auc", "test_tpr_1pct")):
            ax.plot(d, [r[key] for r in rs], "o-", color=colours.get(proto), label=labels.get(proto, proto))
    axes[0].set_ylabel("spike AUC (fresh test set)")
    axes[1].set_ylabel("TPR at 1 % FPR")
    for ax in axes:
        ax.set_xlabel("hidden layers (same 153-ms window)")
        ax.set_xticks(sorted({r["depth"] for r in results}))
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
