"""A leaky-memory recurrent twin in the spirit of the ELM neuron (Spieler, Rahaman, Martius,
Schölkopf & Levina 2023, "The expressive leaky memory neuron"): many memory units with learned
time constants, updated every ms by a small nonlinear MLP that integrates the synaptic input.

Per 1-ms step t, with the input raster x_t (n_rows, 0/1):

    z_t = P · x_t                         synapses → `branches` channels (learned, P is rows × branches)
    s_t = λ_s ⊙ s_{t−1} + z_t             synaptic traces, λ_s = exp(−1 ms / τ_s), τ_s learned
    Δ_t = MLP([s_t, m_{t−1}])             `hidden` units, `mlp_layers` ReLU layers, linear out
    m_t = λ_m ⊙ m_{t−1} + (1 − λ_m) ⊙ Δ_t  memory, λ_m = exp(−1 ms / τ_m), τ_m learned
    (spike logit, soma)_t = W · m_t + b

The state (s, m) starts at 0; the model is causal with an unbounded memory (`window_ms` is the
longest initial memory time constant's 5τ, informational). Training cost per ms of data is a few
small matrix products per batch step, which on one CPU core is several times cheaper than the
7-layer TCN's convolutions (see `training/README.md`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ELMConfig:
    n_rows: int
    branches: int = 32
    memory: int = 64
    hidden: int = 128
    mlp_layers: int = 2
    tau_s_ms: float = 5.0  # initial synaptic trace time constant
    tau_m_min_ms: float = 2.0  # memory time constants start log-spaced in [min, max]
    tau_m_max_ms: float = 200.0
    kind: str = "elm"
    n_dend: int = 0  # no dendritic head (kept for the training loop's interface)

    @property
    def window_ms(self) -> int:
        return int(round(5 * self.tau_m_max_ms))

    @property
    def name(self) -> str:
        return f"ELM_b{self.branches}_m{self.memory}_h{self.hidden}x{self.mlp_layers}"

    @property
    def depth(self) -> int:
        return self.mlp_layers

    def to_json(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_json(d: dict) -> "ELMConfig":
        return ELMConfig(**d)


class ELM(nn.Module):
    def __init__(self, cfg: ELMConfig):
        super().__init__()
        self.cfg = cfg
        self.proj = nn.Parameter(torch.randn(cfg.n_rows, cfg.branches) * 0.1)
        self.log_tau_s = nn.Parameter(torch.full((cfg.branches,), float(np.log(cfg.tau_s_ms))))
        self.log_tau_m = nn.Parameter(torch.linspace(np.log(cfg.tau_m_min_ms), np.log(cfg.tau_m_max_ms), cfg.memory))
        layers, width = [], cfg.branches + cfg.memory
        for _ in range(cfg.mlp_layers):
            layers.append(nn.Linear(width, cfg.hidden))
            width = cfg.hidden
        self.mlp = nn.ModuleList(layers)
        self.mlp_out = nn.Linear(width, cfg.memory)
        self.head = nn.Linear(cfg.memory, 2)
        nn.init.normal_(self.head.weight, std=0.01)
        with torch.no_grad():
            self.head.bias.copy_(torch.tensor([-5.0, 0.0]))
        self.dend_head = None

    def decays(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(λ_s, λ_m) per 1-ms step."""
        return torch.exp(-1.0 / torch.exp(self.log_tau_s)), torch.exp(-1.0 / torch.exp(self.log_tau_m))

    def project(self, x) -> torch.Tensor:
        """[B, T, branches] from a `SparseBatch` or a dense [B, rows, T] tensor."""
        if isinstance(x, torch.Tensor):
            return torch.einsum("brt,rc->btc", x, self.proj)
        z = F.embedding_bag(x.rows, self.proj, x.offsets, mode="sum")
        return z.view(x.batch, x.length, -1)

    def forward_all(self, x):
        z = self.project(x)
        lam_s, lam_m = self.decays()
        b, t_len, _ = z.shape
        s = z.new_zeros(b, self.cfg.branches)
        m = z.new_zeros(b, self.cfg.memory)
        states = []
        for t in range(t_len):
            s = lam_s * s + z[:, t]
            h = torch.cat([s, m], 1)
            for layer in self.mlp:
                h = F.relu(layer(h))
            m = lam_m * m + (1 - lam_m) * self.mlp_out(h)
            states.append(m)
        y = self.head(torch.stack(states, 1))  # [B, T, 2]
        return y[..., 0], y[..., 1], None

    def forward(self, x):
        s, v, _ = self.forward_all(x)
        return s, v

    def kernel_parameters(self) -> list[nn.Parameter]:
        return [self.proj] + [layer.weight for layer in self.mlp] + [self.mlp_out.weight, self.head.weight]

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
