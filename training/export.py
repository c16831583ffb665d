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

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from .data import SPIKE_BINNING, Dataset, WindowSource
from .evaluate import paper_metrics, predict_sims
from .metrics import jsonable
from .model import TCN, LowRankCausalConv1d
from .train import hardware_description, load_model

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
