"""Make the tiny ONNX fixture used by neurotwin's surrogate tests (run from this folder:
``python3 make_fixture.py``). Needs torch, onnx, onnxruntime, numpy.

A 2-layer causal TCN on 20 input rows (10 "segments": rows 0..9 excitatory, 10..19 inhibitory),
kernels 5 and 3 (receptive field 5 + 3 - 1 = 7 ms), ReLU, then a 1x1 head with 2 channels:
channel 0 the spike LOGIT (no sigmoid in the graph, so the Rust side's sigmoid path is exercised;
real models from training/export.py put a probability there), channel 1 the soma in target units.
Exported by torch.onnx.export (opset 17, TorchScript exporter) with dynamic batch and time axes;
the causal padding is F.pad, so the graph has a Pad sub-graph (tract and ONNX Runtime both run it).

Writes fixture.onnx, fixture.json (metadata in the schema of models/README.md),
fixture.parity.input.npy float32 (1, 20, 96) and fixture.parity.output.npy float32 (1, 2, 96)
computed by ONNX Runtime (CPU). Also, for the CLI tests:

* tiny10.swc: a soma with 6 basal and 4 apical 20-µm dendrites (one segment each, so 20 rows);
* fixture_case.json: a 6-s golden-format case with random synapse spikes on those dendrites whose
  "results" are NOT a NEURON simulation but ONNX Runtime's prediction for the case (spikes: one
  per run of bins with probability >= the 0.25 % threshold, at the run's peak bin k, time k + 1 ms;
  soma: the voltage every 10 ms). `neurotwin predict` must reproduce them exactly.
"""

import json

import numpy as np
import onnx
import onnxruntime
import torch
import torch.nn as nn
import torch.nn.functional as F

N_SEG, KERNELS, WIDTH, T_PARITY = 10, (5, 3), 8, 96


class CausalConv(nn.Module):
    def __init__(self, ci, co, k):
        super().__init__()
        self.k = k
        self.conv = nn.Conv1d(ci, co, k)

    def forward(self, x):
        return self.conv(F.pad(x, (self.k - 1, 0)))


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = CausalConv(2 * N_SEG, WIDTH, KERNELS[0])
        self.l2 = CausalConv(WIDTH, WIDTH, KERNELS[1])
        self.head = nn.Conv1d(WIDTH, 2, 1)

    def forward(self, x):
        return self.head(torch.relu(self.l2(torch.relu(self.l1(x)))))


def main():
    torch.manual_seed(1278)
    model = Tiny().eval()
    with torch.no_grad():
        # make the excitatory rows excite and the inhibitory ones inhibit, so outputs vary visibly
        model.l1.conv.weight[:, :N_SEG] = model.l1.conv.weight[:, :N_SEG].abs() * 2
        model.l1.conv.weight[:, N_SEG:] = -model.l1.conv.weight[:, N_SEG:].abs() * 2
        model.head.bias[0] = -2.0
    x0 = torch.zeros(1, 2 * N_SEG, 32)
    torch.onnx.export(model, (x0,), "fixture.onnx", opset_version=17, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch", 2: "time"}, "output": {0: "batch", 2: "time"}}, dynamo=False)
    onnx.checker.check_model(onnx.load("fixture.onnx"))

    rng = np.random.default_rng(7)
    x = (rng.random((1, 2 * N_SEG, T_PARITY)) < 0.08).astype(np.float32)
    sess = onnxruntime.InferenceSession("fixture.onnx", providers=["CPUExecutionProvider"])
    y = sess.run(["output"], {"input": x})[0].astype(np.float32)
    with torch.no_grad():
        y_torch = model(torch.from_numpy(x)).numpy()
    diff = float(np.abs(y - y_torch).max())
    assert diff < 1e-5, diff
    np.save("fixture.parity.input.npy", x)
    np.save("fixture.parity.output.npy", y)

    # thresholds: quantiles of the case's 6-s output (the fixture has no test set)
    x_case, synapses = case_input()
    y_case = sess.run(["output"], {"input": x_case})[0][0].astype(np.float64)
    probs = 1 / (1 + np.exp(-y_case[0]))
    meta = {
        "format": "neurotwin-dnn",
        "format_version": 1,
        "name": "fixture",
        "model_file": "fixture.onnx",
        "onnx_opset": 17,
        "morphology_fingerprint": "sha256:fixture-not-a-real-morphology",
        "input": {"name": "input", "shape": ["batch", 2 * N_SEG, "time"], "dtype": "float32", "time_step_ms": 1.0},
        "input_rows": {"n_rows": 2 * N_SEG, "n_segments": N_SEG,
                       "rule": "row r < n_segments: excitatory synapses of segment r; row n_segments + r: inhibitory synapses of segment r"},
        "output": {"name": "output", "shape": ["batch", 2, "time"], "dtype": "float32", "causal": True,
                   "channels": [{"index": 0, "quantity": "output spike logit", "kind": "logit"},
                                {"index": 1, "quantity": "somatic voltage, target units", "kind": "soma_target",
                                 "to_mV": "v_mV = y * scale_mV + offset_mV"}]},
        "window_ms": sum(k - 1 for k in KERNELS) + 1,
        "architecture": {"name": "fixture_TCN_2x8x7", "depth": 2, "kernels": list(KERNELS), "widths": [WIDTH, WIDTH]},
        "target_transforms": {"soma": {"clip_max_mV": -55.0, "offset_mV": -67.7, "scale_mV": 2.0,
                                       "forward": "y = (min(v_mV, clip_max_mV) - offset_mV) / scale_mV",
                                       "inverse": "v_mV = y * scale_mV + offset_mV"}},
        "spike_thresholds": {  # quantiles of the case output
            "0.0025": {"fpr_target": 0.0025, "probability": float(np.quantile(probs, 0.9975))},
            "0.01": {"fpr_target": 0.01, "probability": float(np.quantile(probs, 0.99))},
        },
        "parity": {"input_file": "fixture.parity.input.npy", "output_file": "fixture.parity.output.npy",
                   "source": "random 0/1 input at 8 % density, ONNX Runtime CPU output",
                   "max_abs_diff_onnxruntime_vs_torch": diff, "tolerance": 1e-4},
        "extra_field_to_be_ignored": {"note": "readers must tolerate unknown fields"},
    }
    with open("fixture.json", "w") as f:
        json.dump(meta, f, indent=2)
    make_case(x_case, synapses, y_case, meta)
    print(f"onnxruntime {onnxruntime.__version__}, torch {torch.__version__}: max |ort - torch| {diff:.2e}")


N_BASAL, N_APICAL, DURATION = 6, 4, 6000


def case_input():
    # segment order: dend[0..5] then apic[0..3]; rows: exc of segments 0..9, then inh
    names = [f"dend[{i}]" for i in range(N_BASAL)] + [f"apic[{i}]" for i in range(N_APICAL)]
    rng = np.random.default_rng(11)
    x = np.zeros((1, 2 * N_SEG, DURATION), np.float32)
    x[0, :, 1:] = rng.random((2 * N_SEG, DURATION - 1)) < 0.01  # no spikes at t = 0 (golden files drop them)
    synapses = []
    for seg, name in enumerate(names):
        for kind, row in (("exc", seg), ("inh", N_SEG + seg)):
            synapses.append({"kind": kind, "sec": name, "x": 0.5, "paper_seg_index": seg,
                             "spikes_ms": [float(t) for t in np.nonzero(x[0, row])[0]]})
    return x, synapses


def make_case(x, synapses, y, meta):
    n_basal, n_apical, duration = N_BASAL, N_APICAL, DURATION
    lines = ["# neurotwin surrogate test cell: soma + 6 basal + 4 apical 20-um dendrites",
             "1 1 0 0 0 8 -1", "2 1 0 -8 0 8 1", "3 1 0 8 0 8 1"]
    idx = 4
    for i in range(n_basal + n_apical):
        kind = 3 if i < n_basal else 4
        ang = 2 * np.pi * i / (n_basal + n_apical)
        c, s_ = np.cos(ang), np.sin(ang)
        lines.append(f"{idx} {kind} {8 * c:.3f} {8 * s_:.3f} 0 0.5 1")
        lines.append(f"{idx + 1} {kind} {28 * c:.3f} {28 * s_:.3f} 0 0.5 {idx}")
        idx += 2
    with open("tiny10.swc", "w") as f:
        f.write("\n".join(lines) + "\n")
    prob = 1 / (1 + np.exp(-y[0]))
    thr = meta["spike_thresholds"]["0.0025"]["probability"]
    spikes, best = [], None
    for k, p in enumerate(prob):
        if p >= thr:
            if best is None or p > prob[best]:
                best = k
        elif best is not None:
            spikes.append(best + 1.0)
            best = None
    if best is not None:
        spikes.append(best + 1.0)
    soma = y[1] * meta["target_transforms"]["soma"]["scale_mV"] + meta["target_transforms"]["soma"]["offset_mV"]
    soma_10ms = [round(float(v), 5) for v in soma[::10]] + [round(float(soma[-1]), 5)]
    case = {
        "format": "l5pc-golden-v1", "name": "surrogate-fixture",
        "description": "test input for the fixture model; results are ONNX Runtime's prediction, not NEURON",
        "model": {"name": "tiny10.swc"},
        "sim": {"dt": 0.025, "tstop": float(duration), "celsius": 6.3, "v_init": -76.0},
        "synapses": synapses,
        "recording": {"soma": {"sec": "soma[0]", "x": 0.5}, "soma_dt_ms": 10.0, "sites_dt_ms": 10.0},
        "results": {"spike_times_ms": spikes, "soma_v": soma_10ms, "sites_v": [], "n_soma_samples": len(soma_10ms)},
    }
    with open("fixture_case.json", "w") as f:
        json.dump(case, f, separators=(",", ":"))
    print(f"case: {int(x.sum())} input spikes, {len(spikes)} predicted output spikes")


if __name__ == "__main__":
    main()
