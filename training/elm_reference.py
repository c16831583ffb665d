#!/usr/bin/env python3
"""An independent NumPy reference of the Branch-ELM forward pass (sequential, float64).

It shares no code with `branch_elm.py` (torch is used only to read the state dict): it is the
check that the PyTorch module, the exported parity vectors and the Rust implementation compute
the published model's equations (Spieler et al. 2024; the authors' src/expressive_leaky_memory_neuron.py):

    u_t = sign ⊙ x_t                 sign +1 for rows < num_input/2, −1 for the others
                                     (config "input_sign": "neuronio", the default; "none": no sign)
    s_t = κ_s s_{t−1} + relu(_proto_w_s) ⊙ u_t[input_to_synapse_indices] ⊙ valid_indices_mask
    b_t = Σ over each branch's num_synapse_per_branch consecutive synapses of s_t
    m_t = κ_m m_{t−1} + λ (1 − κ_m) 1.7159 tanh(2/3 · MLP([b_t, κ_m m_{t−1}]))
    y_t = W_y m_t + b_y              (y[0] spike logit, y[1] soma target)

κ_s = exp(−Δt/τ_s), τ_m = τ_min + (τ_max − τ_min) sigmoid(_proto_tau_m), κ_m = exp(−Δt/τ_m).

    python3 training/elm_reference.py --state X.pt --config X.model_config.json --input in.npy --out out.npy

``in.npy``: float32 (batch, num_input, T) 0/1; ``out.npy``: float32 (batch, num_output, T), raw outputs.
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def load_state(path: str) -> dict:
    """The state dict as float64 / int64 / bool NumPy arrays."""
    import torch

    sd = torch.load(path, map_location="cpu", weights_only=True)
    out = {}
    for k, v in sd.items():
        a = v.detach().cpu().numpy()
        out[k] = a.astype(np.float64) if a.dtype.kind == "f" else a
    return out


def _act(name: str, z: np.ndarray) -> np.ndarray:
    if name == "silu":
        return z / (1.0 + np.exp(-z))
    if name == "relu":
        return np.maximum(z, 0.0)
    raise ValueError(f"activation {name!r}")


def forward(state: dict, config: dict, x: np.ndarray) -> np.ndarray:
    """Raw outputs float64 (batch, num_output, T) for the input x (batch, num_input, T)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    batch, n_in, t_len = x.shape
    num_memory = int(config.get("num_memory", 100))
    num_branch = int(config.get("num_branch") or n_in)
    lam = float(config.get("lambda_value", 5.0))
    dt = float(config.get("delta_t", 1.0))
    tau_min, tau_max = float(config.get("memory_tau_min", 1.0)), float(config.get("memory_tau_max", 1000.0))
    activation = config.get("mlp_activation", "relu")
    if n_in != int(config["num_input"]):
        raise ValueError(f"input has {n_in} rows, the model {config['num_input']}")

    sign = np.ones(n_in)
    if config.get("input_sign", "neuronio") == "neuronio":
        sign[n_in // 2:] = -1.0
    idx = state["input_to_synapse_indices"].astype(np.int64)
    valid = state["valid_indices_mask"].astype(np.float64)
    w_s = np.maximum(state["_proto_w_s"], 0.0)
    kappa_s = np.exp(-dt / np.maximum(state["tau_s"], 1e-6))
    tau_m = (tau_max - tau_min) / (1.0 + np.exp(-state["_proto_tau_m"])) + tau_min
    kappa_m = np.exp(-dt / np.maximum(tau_m, 1e-6))
    layers = sorted({int(k.split(".")[2]) for k in state if k.startswith("mlp.network.")})
    mlp = [(state[f"mlp.network.{i}.weight"], state[f"mlp.network.{i}.bias"]) for i in layers]
    w_y, b_y = state["w_y.weight"], state["w_y.bias"]
    n_syn = len(idx)

    out = np.zeros((batch, w_y.shape[0], t_len))
    for b in range(batch):
        u = (x[b] * sign[:, None])[idx] * valid[:, None]  # [n_syn, T]
        s = np.zeros(n_syn)
        m = np.zeros(num_memory)
        for t in range(t_len):
            s = kappa_s * s + w_s * u[:, t]
            h = np.concatenate([s.reshape(num_branch, -1).sum(axis=1), kappa_m * m])
            for j, (w, bias) in enumerate(mlp):
                h = w @ h + bias
                if j < len(mlp) - 1:
                    h = _act(activation, h)
            m = kappa_m * m + lam * (1.0 - kappa_m) * (1.7159 * np.tanh(h * 2.0 / 3.0))
            out[b, :, t] = w_y @ m + b_y
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="NumPy reference forward pass of a Branch-ELM state dict")
    ap.add_argument("--state", required=True, help="state dict (.pt, torch.save(model.state_dict()))")
    ap.add_argument("--config", required=True, help="model_config.json")
    ap.add_argument("--input", required=True, help="float32 (batch, num_input, T) 0/1 .npy")
    ap.add_argument("--out", required=True, help="float32 (batch, num_output, T) raw outputs .npy")
    a = ap.parse_args(argv)
    with open(a.config) as f:
        config = json.load(f)
    y = forward(load_state(a.state), config, np.load(a.input))
    np.save(a.out, y.astype(np.float32))
    print(f"wrote {a.out}: {y.shape}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
