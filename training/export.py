"""ONNX export with metadata and a parity vector for the Rust side.

Files written for ``--out models/NAME``:

* ``NAME.onnx`` — opset 17. Input ``input``: float32 (batch, n_rows, time), the binary synaptic
  raster at 1 ms per step (rows as in the metadata's ``input_rows``). Output ``output``: float32
  (batch, 2, time); channel 0 is the output-spike **probability** per 1-ms bin (sigmoid applied),
  channel 1 the somatic voltage in target units (``v_mV = y · scale_mV + offset_mV``; see
  ``target_transform``). Batch and time are dynamic.
  The graph is written directly with `onnx.helper` (no tracing): per layer Conv (causal padding as
  the Conv's own pads [k − 1, 0]) → Relu → BatchNormalization, then two 1×1 Convs, Sigmoid on the
  spike channel and Concat. No Pad nodes, no shape arithmetic: easy for any Rust runtime.
* ``NAME.json`` — metadata (see `build_metadata`).
* ``NAME.parity.input.npy`` float32 (1, n_rows, T_p) and ``NAME.parity.output.npy`` float32
  (1, 2, T_p): a held-out input crop and PyTorch's output for it (dense path, eval mode). ONNX
  Runtime is checked against it here; the Rust side can run the same check.
"""

from __future__ import annotations

import json
import os
import time
from collections import OrderedDict

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from .data import SPIKE_BINNING, Dataset, WindowSource
from .evaluate import paper_metrics, predict_sims
from .metrics import jsonable
from .model import TCN, LowRankCausalConv1d
from .train import hardware_description, load_model, read_config

OPSET = 17
FORMAT = "neurotwin-dnn"
FORMAT_VERSION = 1


def build_onnx(model: TCN) -> onnx.ModelProto:
    """The ONNX graph of a trained `TCN` in eval mode (BatchNorm with running statistics)."""
    cfg = model.cfg
    inits, nodes = [], []

    def const(name: str, t: torch.Tensor) -> str:
        inits.append(numpy_helper.from_array(t.detach().cpu().float().numpy(), name))
        return name

    x = "input"
    for i, (conv, bn) in enumerate(zip(model.convs, model.norms)):
        k = conv.kernel_size[0]
        if isinstance(conv, LowRankCausalConv1d):
            # the factorised first layer as two Convs: rows → rank (1×1, no bias), then the causal one
            s = const(f"conv{i}.spatial", conv.spatial.unsqueeze(-1))
            nodes.append(helper.make_node("Conv", [x, s], [f"proj{i}"], name=f"proj{i}", kernel_shape=[1]))
            x = f"proj{i}"
            w, b = const(f"conv{i}.weight", conv.temporal.weight), const(f"conv{i}.bias", conv.temporal.bias)
        else:
            w, b = const(f"conv{i}.weight", conv.weight), const(f"conv{i}.bias", conv.bias)
        nodes.append(helper.make_node("Conv", [x, w, b], [f"conv{i}"], name=f"conv{i}", kernel_shape=[k],
                                      pads=[k - 1, 0], strides=[1], dilations=[1]))
        nodes.append(helper.make_node("Relu", [f"conv{i}"], [f"relu{i}"], name=f"relu{i}"))
        nodes.append(helper.make_node(
            "BatchNormalization",
            [f"relu{i}", const(f"bn{i}.scale", bn.weight), const(f"bn{i}.bias", bn.bias),
             const(f"bn{i}.mean", bn.running_mean), const(f"bn{i}.var", bn.running_var)],
            [f"bn{i}"], name=f"bn{i}", epsilon=float(bn.eps)))
        x = f"bn{i}"
    for head, module in (("spike", model.spike_head), ("soma", model.soma_head)):
        nodes.append(helper.make_node("Conv", [x, const(f"{head}.weight", module.weight), const(f"{head}.bias", module.bias)],
                                      [f"{head}_out"], name=f"{head}_head", kernel_shape=[1]))
    nodes.append(helper.make_node("Sigmoid", ["spike_out"], ["spike_prob"], name="spike_sigmoid"))
    nodes.append(helper.make_node("Concat", ["spike_prob", "soma_out"], ["output"], name="concat", axis=1))
    graph = helper.make_graph(
        nodes, "neurotwin_tcn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", cfg.n_rows, "time"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 2, "time"])],
        initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="neurotwin-training")
    m.ir_version = 8  # readable by ONNX Runtime ≥ 1.10 and Rust runtimes
    onnx.checker.check_model(m)
    return m


@torch.no_grad()
def torch_reference(model: TCN, x: np.ndarray) -> np.ndarray:
    """PyTorch's (batch, 2, time) output for a dense input, as the ONNX graph defines it."""
    model.eval()
    s, v = model(torch.from_numpy(x))
    return torch.stack([torch.sigmoid(s), v], dim=1).numpy().astype(np.float32)


def onnx_run(path: str, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.run(["output"], {"input": x})[0]


def _sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + np.exp(-z)))


def _init_provenance(init_onnx: str) -> dict | None:
    """Where a continued run's starting weights came from (`--init-onnx`): the file's name and
    the training block of its metadata, so the whole training history stays on record."""
    if not init_onnx:
        return None
    out = {"file": os.path.basename(init_onnx)}
    meta_path = os.path.splitext(init_onnx)[0] + ".json"
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            prev = json.load(f)
        out["training"] = prev.get("training")
        out["metrics_held_out_all"] = (prev.get("metrics_held_out") or {}).get("all")
    return out


def build_metadata(name: str, model: TCN, run_cfg, ckpt: dict, ds: Dataset, evaluation: dict, parity: dict) -> dict:
    """Everything the Rust side needs to use the model and to judge it."""
    mcfg = model.cfg
    train_ids = run_cfg.split["train"]
    thresholds = {}
    headline = evaluation["all"].get("spikes")
    if headline:
        for f in ("0.0025", "0.01", "0.002"):
            logit = headline["at_fpr"][f]["threshold"]
            # logit +inf (None in the JSON): no finite threshold reaches the FPR; never predict a spike
            thresholds[f] = {"fpr_target": float(f), "probability": _sigmoid(logit) if logit is not None and np.isfinite(logit) else None, "logit": logit,
                             "tpr": headline["at_fpr"][f]["tpr"], "fpr_achieved": headline["at_fpr"][f]["fpr"]}
    hist = ckpt.get("history", [])
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "model_file": f"{name}.onnx",
        "onnx_opset": OPSET,
        "morphology_fingerprint": ds.fingerprint,
        "dataset_protocol": ds.definition["protocol"],
        "input": {"name": "input", "shape": ["batch", mcfg.n_rows, "time"], "dtype": "float32",
                  "time_step_ms": 1.0,
                  "encoding": "1.0 where the row's synapses receive a spike in that 1-ms bin (spike delivered at t = bin ms), else 0.0"},
        "input_rows": ds.row_description(),
        "output": {
            "name": "output", "shape": ["batch", 2, "time"], "dtype": "float32",
            "channels": [
                {"index": 0, "quantity": "output spike probability in the 1-ms bin", "kind": "probability",
                 "note": "sigmoid already applied; spike targets used bin int(t - 0.5) of each spike time t"},
                {"index": 1, "quantity": "somatic voltage (clipped at clip_max_mV), target units", "kind": "soma_target",
                 "to_mV": "v_mV = y * scale_mV + offset_mV"},
            ],
            "causal": True,
        },
        "window_ms": mcfg.window_ms,
        "dendritic_head": {"n_pcs": mcfg.n_dend, "exported": False,
                           "note": "trained as an auxiliary target only; the ONNX model has the spike and soma channels"},
        "architecture": {"name": mcfg.name, "depth": mcfg.depth, "kernels": mcfg.kernels, "widths": mcfg.widths,
                         "layer": "causal Conv1d (left zero padding, stride 1, no dilation) -> ReLU -> BatchNorm",
                         "first_rank": mcfg.first_rank,
                         "first_layer": (f"factorised: 1x1 Conv rows -> {mcfg.first_rank} channels (no bias), then the causal Conv"
                                         if mcfg.first_rank else "dense causal Conv"),
                         "heads": "1x1 conv: spike logit (sigmoid), soma (linear)",
                         "parameters": model.n_parameters()},
        "target_transforms": {"soma": run_cfg.transform().to_json(), "spike_binning": SPIKE_BINNING},
        "training": {
            "train_sims": len(train_ids),
            "train_sim_ms": len(train_ids) * ds.duration_ms,
            "valid_sims": len(run_cfg.split["valid"]),
            "test_sims": len(run_cfg.split["test"]),
            "epochs": len(hist),
            "steps": len(hist) * run_cfg.steps_per_epoch,
            "batch_size": run_cfg.batch_size,
            "window_ms": run_cfg.window_ms,
            "windows_seen": ckpt.get("train_windows"),
            "window_ms_seen": (ckpt.get("train_windows") or 0) * run_cfg.window_ms,
            "wall_time_s": ckpt.get("wall_s"),
            "step_time_s_last_epoch": hist[-1]["step_s"] if hist else None,
            "first_layer": "sparse" if run_cfg.use_sparse() else "dense",
            "optimizer": "NAdam, paper schedule 1e-4 -> 1e-6 (5 stages)",
            "checkpoint_epoch": ckpt.get("epoch"),
            "hardware": ckpt.get("hardware") or hardware_description(run_cfg.device),
            "initialised_from": _init_provenance(getattr(run_cfg, "init_onnx", "")),
        },
        "metrics_held_out": evaluation,
        "spike_thresholds": thresholds,
        "parity": parity,
        "exported_at_unix": int(time.time()),
    }


def export(run_dir: str, out: str, which: str = "best", data: str | None = None, parity_ms: int = 256,
           log=print) -> dict:
    """Write NAME.onnx, NAME.json and the parity vector for ``out`` = DIR/NAME; returns the
    metadata. Held-out metrics come from RUN/evaluation.json if present, else are computed now
    on the run's test simulations (dataset from ``data`` or the run's config)."""
    if read_config(run_dir).model.get("kind") == "branch-elm":
        return export_branch_elm_run(run_dir, out, which, log=log)
    model, cfg, ck = load_model(run_dir, which)
    ds = Dataset(data or cfg.data)
    if ds.fingerprint != cfg.split.get("morphology_fingerprint", ds.fingerprint):
        raise ValueError("dataset morphology fingerprint differs from the run's")
    test_ids = cfg.split["test"] or cfg.split["valid"]
    valid_data = cfg.split.get("valid_data")
    if valid_data and not cfg.split["test"]:
        # thresholds and the parity crop come from the separate validation dataset (own seeds)
        ds_held = Dataset(valid_data)
        if ds_held.fingerprint != ds.fingerprint:
            raise ValueError(f"{valid_data}: another morphology than the training data")
    else:
        ds_held = ds
    sims = ds_held.load_sims(test_ids)
    src = WindowSource(sims, ds.n_rows, cfg.transform())
    eval_path = os.path.join(run_dir, "evaluation.json")
    if os.path.exists(eval_path) and not valid_data:
        with open(eval_path) as f:
            evaluation = json.load(f)
    else:
        logits, soma = predict_sims(model, src, test_ids)
        evaluation = paper_metrics(sims, test_ids, logits, soma, cfg.transform(), cfg.ignore_ms, n_segments=ds.n_segments)
        evaluation["on"] = (f"the validation dataset {os.path.basename(os.path.normpath(valid_data))} ({len(test_ids)} simulations, "
                            "its own seeds); spike thresholds are chosen here" if valid_data else "the run's test split")

    name = os.path.basename(out.rstrip("/"))
    folder = os.path.dirname(out) or "."
    os.makedirs(folder, exist_ok=True)
    onnx_path = os.path.join(folder, f"{name}.onnx")
    onnx.save(build_onnx(model), onnx_path)

    # parity vector: a crop of the first held-out simulation after the ignored start
    length = min(parity_ms, src.duration_ms)
    start = min(cfg.ignore_ms, src.duration_ms - length)
    x = src.batch([test_ids[0]], [start], length).x.to_dense()
    expected = torch_reference(model, x)
    got = onnx_run(onnx_path, x)
    diff = np.abs(got - expected).max(axis=(0, 2))
    np.save(os.path.join(folder, f"{name}.parity.input.npy"), x)
    np.save(os.path.join(folder, f"{name}.parity.output.npy"), expected)
    parity = {"input_file": f"{name}.parity.input.npy", "output_file": f"{name}.parity.output.npy",
              "source": f"simulation {test_ids[0]}, ms [{start}, {start + length})",
              "max_abs_diff_onnxruntime_vs_torch": {"spike_probability": float(diff[0]), "soma": float(diff[1])},
              "tolerance": 1e-4, "passed": bool(diff.max() < 1e-4)}
    meta = jsonable(build_metadata(name, model, cfg, ck, ds, evaluation, parity))
    with open(os.path.join(folder, f"{name}.json"), "w") as f:
        json.dump(meta, f, indent=2, allow_nan=False)
    log(f"wrote {onnx_path} ({os.path.getsize(onnx_path) / 1e6:.1f} MB), {name}.json, parity vector; "
        f"ONNX Runtime vs PyTorch max |diff| {diff.max():.2e} ({'ok' if parity['passed'] else 'FAILED'})")
    if not parity["passed"]:
        raise RuntimeError(f"ONNX parity failed: max |diff| {diff.max():.3e}")
    return meta


# ---------------------------------------------------------------------------------------------
# Branch-ELM (--arch branch-elm): no ONNX; a PyTorch state dict + the model config + metadata


def parity_input(n_rows: int, length: int = 300, density: float = 0.01, seed: int = 20240601) -> np.ndarray:
    """The deterministic parity input: float32 (1, n_rows, length), 0/1, ~``density`` dense."""
    return (np.random.default_rng(seed).random((1, n_rows, length)) < density).astype(np.float32)


def _runs(above: np.ndarray) -> int:
    """Runs of consecutive True along the last axis, summed over the rows (one per simulation)."""
    a = above.astype(np.int8)
    starts = np.diff(a, axis=-1, prepend=0) == 1
    return int(starts.sum())


def count_matched_threshold(y: np.ndarray, logits: np.ndarray) -> dict:
    """The highest logit threshold at which the twin predicts at least as many spikes as the cell
    fired, counting each run of consecutive bins ≥ the threshold in a simulation as one predicted
    spike (as neurotwin's app and `predict` do, and `neurotwin evaluate`'s count-matched
    threshold); `y`, `logits`: [sims × bins]. With the TPR and FPR per bin it achieves."""
    y2 = np.atleast_2d(y).astype(bool)
    p2 = np.atleast_2d(logits).astype(np.float64)
    n_pos, n_neg = int(y2.sum()), int((~y2).sum())
    if n_pos == 0 or n_neg == 0:
        return {}
    # walk down from the top on a coarse grid to the first threshold with enough runs, then bisect
    hi, lo, z = 30.0, None, 30.0
    while z >= -30.0:
        if _runs(p2 >= z) >= n_pos:
            lo = z
            break
        hi, z = z, z - 0.25
    if lo is None:
        return {}
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        if _runs(p2 >= mid) >= n_pos:
            lo = mid
        else:
            hi = mid
    thr = lo
    pred = p2 >= thr
    fpr = float((pred & ~y2).sum() / n_neg)
    return {"fpr_target": fpr, "probability": _sigmoid(thr), "logit": thr, "tpr": float((pred & y2).sum() / n_pos),
            "fpr_achieved": fpr, "kind": "count_matched", "predicted_spikes": _runs(pred), "true_spikes": n_pos}


def export_branch_elm(model, run_cfg, out: str, valid_ds: Dataset, valid_ids: list[int], training: dict,
                      test_metrics: dict | None = None, test_on: str | None = None, parity_ms: int = 300, log=print) -> dict:
    """Write, for ``out`` = DIR/NAME:

    * ``NAME.pt``: ``torch.save(model.state_dict())`` (CPU tensors; the keys and shapes of the
      authors' published ``neuronio_best_model_state.pt``),
    * ``NAME.model_config.json``: the authors' model_config.json keys plus the explicit
      constructor values (lambda_value, mlp_num_layers, mlp_hidden_size, tau_s_value, delta_t,
      w_s_value) and ``input_sign``,
    * ``NAME.json``: the neurotwin metadata (models/README.md), spike thresholds chosen on the
      validation simulations ``valid_ids`` of ``valid_ds`` (whole traces, bins ≥ ignore_ms),
    * ``NAME.parity.input.npy`` float32 (1, n_rows, 300), a deterministic ~1 %-dense 0/1 input, and
      ``NAME.parity.output.npy`` float32 (1, 2, 300), the raw outputs (spike logit, soma target)
      of `BranchELM.forward_stepwise`; checked here against the fast path and the NumPy
      reference `training/elm_reference.py`.
    """
    from . import elm_reference

    model.eval()
    name = os.path.basename(out.rstrip("/"))
    folder = os.path.dirname(out) or "."
    os.makedirs(folder, exist_ok=True)
    transform = run_cfg.transform()

    # thresholds: the paper's protocol on the validation simulations
    src = WindowSource(valid_ds.load_sims(valid_ids), valid_ds.n_rows, transform)
    logits, soma = predict_sims(model, src, valid_ids, sims_per_pass=32)
    evaluation = paper_metrics(src.sims, valid_ids, logits, soma, transform, run_cfg.ignore_ms, n_segments=valid_ds.n_segments)
    evaluation["on"] = (f"the validation dataset {os.path.basename(os.path.normpath(valid_ds.root))} ({len(valid_ids)} simulations, "
                        "its own seeds), whole traces; spike thresholds are chosen here")
    thresholds = {}
    headline = evaluation["all"].get("spikes")
    if headline:
        for f in ("0.0025", "0.01", "0.002"):
            logit = headline["at_fpr"][f]["threshold"]
            if logit is None or not np.isfinite(logit):
                continue  # no finite threshold reaches this FPR on the validation set
            thresholds[f] = {"fpr_target": float(f), "probability": _sigmoid(logit), "logit": logit, "kind": "fpr",
                             "tpr": headline["at_fpr"][f]["tpr"], "fpr_achieved": headline["at_fpr"][f]["fpr"]}
        t0 = min(run_cfg.ignore_ms, logits.shape[1] - 1)
        y = np.stack([src.sims[k].spike_target() for k in valid_ids])[:, t0:]
        cm = count_matched_threshold(y, logits[:, t0:])
        if cm:
            thresholds["count"] = cm

    # the weights and the config
    state = OrderedDict((k, v.detach().cpu().clone().contiguous()) for k, v in model.state_dict().items())
    pt_path = os.path.join(folder, f"{name}.pt")
    torch.save(state, pt_path)
    cfg_path = os.path.join(folder, f"{name}.model_config.json")
    mc = model.model_config()
    with open(cfg_path, "w") as f:
        json.dump(mc, f, indent=4, sort_keys=True)
        f.write("\n")

    # parity vector: stepwise output, checked against the fast path and the NumPy reference
    x = parity_input(model.num_input, parity_ms)
    with torch.no_grad():
        expected = model.forward_stepwise(torch.from_numpy(x)).numpy().astype(np.float32)
        s, v = model(torch.from_numpy(x))
    fast = torch.stack([s, v], 1).numpy()
    ref = elm_reference.forward(elm_reference.load_state(pt_path), mc, x)
    d_fast = np.abs(fast - expected).max(axis=(0, 2))
    d_ref = np.abs(ref - expected).max(axis=(0, 2))
    np.save(os.path.join(folder, f"{name}.parity.input.npy"), x)
    np.save(os.path.join(folder, f"{name}.parity.output.npy"), expected)
    parity = {"input_file": f"{name}.parity.input.npy", "output_file": f"{name}.parity.output.npy",
              "source": f"deterministic random 0/1 input, density 0.01, numpy default_rng(20240601), {parity_ms} ms from zero state",
              "output": "raw outputs: channel 0 spike logit, channel 1 soma target (no sigmoid)",
              "max_abs_diff_fast_path_vs_stepwise": {"spike_logit": float(d_fast[0]), "soma": float(d_fast[1])},
              "max_abs_diff_numpy_reference_vs_stepwise": {"spike_logit": float(d_ref[0]), "soma": float(d_ref[1])},
              "tolerance": 1e-4, "passed": bool(max(d_fast.max(), d_ref.max()) < 1e-4)}

    ds = valid_ds
    c = model.cfg.elm
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "model_file": f"{name}.pt",
        "network": {"kind": "elm", "config_file": f"{name}.model_config.json",
                    "input_convention": "neuronio_signed" if c["input_sign"] == "neuronio" else "binary",
                    "state_dict": "torch.save(model.state_dict()), CPU tensors, keys as the authors' neuronio_best_model_state.pt"},
        "morphology_fingerprint": ds.fingerprint,
        "dataset_protocol": ds.definition["protocol"],
        "input": {"name": "input", "shape": ["batch", model.num_input, "time"], "dtype": "float32", "time_step_ms": 1.0,
                  "encoding": "1.0 where the row's synapses receive a spike in that 1-ms bin (spike delivered at t = bin ms), else 0.0",
                  "sign": ("the model multiplies row r by +1 if r < n_rows/2 (excitatory) and by -1 otherwise (inhibitory) before the "
                           "routing (model_config input_sign 'neuronio'; the authors' NeuronIO pipeline applies it to the data)"
                           if c["input_sign"] == "neuronio" else "none")},
        "input_rows": ds.row_description(),
        "output": {
            "name": "output", "shape": ["batch", 2, "time"], "dtype": "float32",
            "channels": [
                {"index": 0, "quantity": "output spike logit in the 1-ms bin", "kind": "logit",
                 "note": "probability = sigmoid(logit); spike targets used bin int(t - 0.5) of each spike time t"},
                {"index": 1, "quantity": "somatic voltage (clipped at clip_max_mV), target units", "kind": "soma_target",
                 "to_mV": "v_mV = y * scale_mV + offset_mV"},
            ],
            "causal": True,
        },
        "window_ms": 150,
        "window_note": "recurrent with unbounded memory (memory time constants up to memory_tau_max ms); trained on 500-ms windows "
                       "from zero state with the first 150 ms excluded from the loss; 150 ms is the span occlusion attribution "
                       "removes inputs from (neurotwin re-runs it after 600 ms of warm-up), as for the published ELM",
        "architecture": {"name": model.cfg.name, "kind": "Branch-ELM (Spieler et al. 2024)", "parameters": model.n_parameters(),
                         "model_config": mc,
                         "equations": [
                             "u_t = sign * x_t (sign +1 for rows < n_rows/2, -1 otherwise)",
                             "s_t = kappa_s * s_{t-1} + relu(_proto_w_s) * u_t[input_to_synapse_indices] * valid_indices_mask, kappa_s = exp(-delta_t / tau_s)",
                             "b_t = s_t summed per branch (num_synapse_per_branch consecutive synapses)",
                             "tau_m = memory_tau_min + (memory_tau_max - memory_tau_min) * sigmoid(_proto_tau_m), kappa_m = exp(-delta_t / tau_m)",
                             "h_t = mlp.network(concat(b_t, kappa_m * m_{t-1})) (Linear, SiLU, Linear)",
                             "m_t = kappa_m * m_{t-1} + lambda_value * (1 - kappa_m) * 1.7159 * tanh(2/3 * h_t)",
                             "y_t = w_y(m_t); zero initial state"]},
        "target_transforms": {"soma": transform.to_json(), "spike_binning": SPIKE_BINNING},
        "training": training,
        "metrics_valid": evaluation,
        "metrics_held_out": test_metrics if test_metrics is not None else evaluation,
        "metrics_held_out_on": test_on or evaluation["on"],
        "spike_thresholds": thresholds,
        "parity": parity,
        "exported_at_unix": int(time.time()),
    }
    meta = jsonable(meta)
    with open(os.path.join(folder, f"{name}.json"), "w") as f:
        json.dump(meta, f, indent=2, allow_nan=False)
    log(f"wrote {pt_path} ({os.path.getsize(pt_path) / 1e3:.0f} kB), {name}.model_config.json, {name}.json, parity vector; "
        f"fast path / NumPy reference vs stepwise max |diff| {d_fast.max():.1e} / {d_ref.max():.1e} "
        f"({'ok' if parity['passed'] else 'FAILED'})")
    if not parity["passed"]:
        raise RuntimeError(f"Branch-ELM parity failed: {parity}")
    return meta


def export_branch_elm_run(run_dir: str, out: str, which: str = "best", log=print) -> dict:
    """`export` for a `train --arch branch-elm` run: thresholds on its validation simulations
    (``--valid-data`` dataset, else the run's validation split)."""
    model, cfg, ck = load_model(run_dir, which)
    valid_data = cfg.split.get("valid_data")
    vds = Dataset(valid_data or cfg.data)
    hist = ck.get("history", [])
    training = {"train_sims": len(cfg.split["train"]), "epochs": len(hist), "steps": len(hist) * cfg.steps_per_epoch,
                "batch_size": cfg.batch_size, "window_ms": cfg.window_ms, "burn_in_ms": cfg.burn_in_ms,
                "windows_seen": ck.get("train_windows"), "wall_time_s": ck.get("wall_s"),
                "step_time_s_last_epoch": hist[-1]["step_s"] if hist else None,
                "optimizer": f"{cfg.optimizer}, {cfg.schedule} schedule from {cfg.stages[0][1]:g} to {cfg.lr_min:g}",
                "loss": f"{cfg.stages[0][2]:g} BCE + {cfg.stages[0][3]:g} MSE", "checkpoint_epoch": ck.get("epoch"),
                "hardware": ck.get("hardware") or hardware_description(cfg.device)}
    return export_branch_elm(model, cfg, out, vds, cfg.split["valid"], training, log=log)
