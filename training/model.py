"""The temporal convolutional network (TCN) of Beniaguev, Segev & London (2021).

Input: binary synaptic raster, (batch, n_rows, time) float32, 1 ms per step. Each hidden layer is
a causal Conv1d (stride 1, no dilation, zero padding on the left only) → ReLU → BatchNorm; two
1×1 heads read the last layer: spike logit (sigmoid gives the probability of an output spike in
that 1-ms bin) and somatic voltage (linear, in the target units of `data.SomaTransform`).

The receptive field ("window", the paper's T) is Σ(kernel − 1) + 1 ms: the output at t depends on
the inputs in [t − T + 1, t] only.

The first layer sees ~1 % dense binary inputs and dominates the CPU cost of the dense
convolution. `CausalConv1d.forward_sparse` computes the same layer from the list of active
(row, ms) pairs: an embedding-bag sum of each active row's kernel taps per ms, then a diagonal sum
over taps. It is mathematically identical to the dense convolution (tests check outputs and
gradients); the ONNX export always writes the dense Conv.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import SparseInput

#: The kernels assumed for the paper's best NMDA model 7×128×153. The paper's repository does not
#: store them; [39, 20×6] is one split with Σ(k − 1) + 1 = 153 (see spec/paper-dnn.md §3).
PAPER_BEST_KERNELS = [39] + [20] * 6


@dataclass
class ModelConfig:
    """Architecture: one kernel size (ms) and one width (channels) per hidden layer."""

    n_rows: int
    kernels: list[int]
    widths: list[int]
    init_std: float = 0.002  # truncated normal σ of hidden kernels (paper)
    bn_momentum: float = 0.01  # PyTorch convention (= 1 − Keras' 0.99)
    bn_eps: float = 1e-3  # Keras default
    n_dend: int = 0  # dendritic-voltage PCA components predicted by a third head (0: none)
    # > 0: the first layer is factorised as rows → first_rank spatial channels → causal conv
    # (`LowRankCausalConv1d`); it exports as the equivalent dense Conv. 0: a full first layer.
    first_rank: int = 0

    def __post_init__(self):
        if len(self.kernels) != len(self.widths) or not self.kernels:
            raise ValueError("kernels and widths need one entry per layer (≥ 1 layer)")
        if any(k < 1 for k in self.kernels) or any(w < 1 for w in self.widths):
            raise ValueError("kernels and widths must be ≥ 1")
        if self.first_rank < 0:
            raise ValueError("first_rank must be ≥ 0")

    @property
    def depth(self) -> int:
        return len(self.kernels)

    @property
    def window_ms(self) -> int:
        """Receptive field T = Σ(k − 1) + 1 (ms)."""
        return sum(k - 1 for k in self.kernels) + 1

    @property
    def name(self) -> str:
        """The paper's naming: FCN/TCN_DxWxT."""
        kind = "FCN" if self.depth == 1 or all(k == 1 for k in self.kernels[1:]) else "TCN"
        rank = f"_r{self.first_rank}" if self.first_rank else ""
        return f"{kind}_{self.depth}x{round(np.mean(self.widths))}x{self.window_ms}{rank}"

    def to_json(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_json(d: dict) -> "ModelConfig":
        return ModelConfig(**d)

    @staticmethod
    def build(n_rows: int, depth: int, width: int, kernels: list[int] | None = None) -> "ModelConfig":
        """``kernels``: one per layer, or a single first-layer kernel followed by one for the
        rest (e.g. [39, 20]); default the paper-best split [39, 20, …] cut to ``depth``."""
        if kernels is None:
            kernels = PAPER_BEST_KERNELS[:1] + [PAPER_BEST_KERNELS[1]] * (depth - 1)
        elif len(kernels) == 2 and depth != 2:
            kernels = kernels[:1] + [kernels[1]] * (depth - 1)
        elif len(kernels) == 1 and depth > 1:
            kernels = kernels * depth
        if len(kernels) != depth:
            raise ValueError(f"{len(kernels)} kernels for depth {depth}")
        return ModelConfig(n_rows=n_rows, kernels=list(kernels), widths=[width] * depth)


class CausalConv1d(nn.Conv1d):
    """Conv1d whose output at t sees inputs t − k + 1 … t (zeros before the start)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int):
        super().__init__(in_ch, out_ch, kernel, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.kernel_size[0]
        return F.conv1d(F.pad(x, (k - 1, 0)), self.weight, self.bias)

    def forward_sparse(self, x: "SparseBatch") -> torch.Tensor:
        """Same result as ``forward(x.to_dense())``, from the active inputs only.

        With W [c, rows, k]: the spike of row r at ms s adds W[:, r, j] to the output at
        t = s + (k − 1 − j). Per ms s, Z[s, j, :] = Σ_{active r} W[:, r, j] (one embedding-bag
        sum over a [rows, k·c] table); then y[t] = b + Σ_j Z[t − (k − 1 − j), j]. Cost ∝ active
        inputs · k · c instead of rows · T · k · c.
        """
        c, rows, k = self.weight.shape
        table = self.weight.permute(1, 2, 0).reshape(rows, k * c)
        z = F.embedding_bag(x.rows, table, x.offsets, mode="sum")  # [B·T, k·c]
        z = z.view(x.batch, x.length, k, c)
        y = _DiagonalTapSum.apply(z) + self.bias
        return y.transpose(1, 2)  # [B, c, T]


class LowRankCausalConv1d(nn.Module):
    """A first layer whose kernel is factorised, W[c, r, j] = Σ_m T[c, m, j] · S[m, r]: every
    input row is projected onto `rank` spatial channels (S, rows × rank), then a causal
    convolution (T, rank → out, kernel k) runs over them. rows·rank + rank·out·k parameters
    instead of rows·out·k: with ~10² training simulations the full layer memorises its inputs,
    the factorised one generalises (the summed excitation and inhibition alone already predict
    most spikes). `weight` is the equivalent dense kernel, which is what the ONNX export writes,
    so the exported graph (and neurotwin's native evaluation) is the ordinary TCN."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, rank: int):
        super().__init__()
        self.spatial = nn.Parameter(torch.empty(rank, in_ch))
        self.temporal = CausalConv1d(rank, out_ch, kernel)
        self.kernel_size = (kernel,)

    @property
    def weight(self) -> torch.Tensor:
        """The equivalent dense kernel [out, rows, k]."""
        return torch.einsum("cmj,mr->crj", self.temporal.weight, self.spatial)

    @property
    def bias(self) -> torch.Tensor:
        return self.temporal.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.temporal(torch.einsum("mr,brt->bmt", self.spatial, x))

    def forward_sparse(self, x: "SparseBatch") -> torch.Tensor:
        """Same result as ``forward(x.to_dense())``: the projection is an embedding-bag sum of
        the active rows' spatial vectors per ms."""
        z = F.embedding_bag(x.rows, self.spatial.t(), x.offsets, mode="sum")  # [B·T, rank]
        z = z.view(x.batch, x.length, -1).transpose(1, 2)
        return self.temporal(z)


class _DiagonalTapSum(torch.autograd.Function):
    """y[b, t, :] = Σ_j z[b, t − (k − 1 − j), j, :] (terms before the window are 0), for z
    [B, T, k, c]. A strided view does the forward; the backward writes the gradient through the
    same (non-overlapping) view, which avoids PyTorch's slow generic as_strided backward."""

    @staticmethod
    def _diag(zp: torch.Tensor, b: int, t: int, k: int, c: int) -> torch.Tensor:
        tp = t + k - 1
        return zp.as_strided((b, t, k, c), (tp * k * c, k * c, k * c + c, 1))  # [b, t, j] = zp[b, t + j, j]

    @staticmethod
    def forward(ctx, z: torch.Tensor) -> torch.Tensor:
        b, t, k, c = z.shape
        ctx.k = k
        zp = F.pad(z, (0, 0, 0, 0, k - 1, 0)).contiguous()
        return _DiagonalTapSum._diag(zp, b, t, k, c).sum(dim=2)

    @staticmethod
    def backward(ctx, g: torch.Tensor) -> torch.Tensor:
        b, t, c = g.shape
        k = ctx.k
        gp = g.new_zeros((b, t + k - 1, k, c))
        _DiagonalTapSum._diag(gp, b, t, k, c).copy_(g.unsqueeze(2).expand(b, t, k, c))
        return gp[:, k - 1:]


@dataclass
class SparseBatch:
    """`data.SparseInput` as tensors on a device."""

    rows: torch.Tensor
    offsets: torch.Tensor
    batch: int
    length: int
    n_rows: int

    @staticmethod
    def from_numpy(x: SparseInput, device: torch.device | str = "cpu") -> "SparseBatch":
        return SparseBatch(torch.from_numpy(x.rows).to(device), torch.from_numpy(x.offsets).to(device), x.batch, x.length, x.n_rows)


def _trunc_normal_(t: torch.Tensor, std: float) -> None:
    nn.init.trunc_normal_(t, mean=0.0, std=std, a=-2 * std, b=2 * std)


class TCN(nn.Module):
    """The paper's network. ``forward`` returns (spike_logit, soma), each [B, T]."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        ch = cfg.n_rows
        for i, (k, w) in enumerate(zip(cfg.kernels, cfg.widths)):
            if i == 0 and cfg.first_rank:
                conv = LowRankCausalConv1d(ch, w, k, cfg.first_rank)
                # the product's spread equals init_std, like a full first layer's
                s_std = 0.1
                _trunc_normal_(conv.spatial, s_std)
                _trunc_normal_(conv.temporal.weight, cfg.init_std / (s_std * np.sqrt(cfg.first_rank)))
                nn.init.zeros_(conv.temporal.bias)
            else:
                conv = CausalConv1d(ch, w, k)
                _trunc_normal_(conv.weight, cfg.init_std)
                nn.init.zeros_(conv.bias)
            self.convs.append(conv)
            self.norms.append(nn.BatchNorm1d(w, eps=cfg.bn_eps, momentum=cfg.bn_momentum))
            ch = w
        self.spike_head = nn.Conv1d(ch, 1, 1)
        _trunc_normal_(self.spike_head.weight, 0.001)
        nn.init.constant_(self.spike_head.bias, -2.0)
        self.soma_head = nn.Conv1d(ch, 1, 1)
        _trunc_normal_(self.soma_head.weight, 0.03)
        nn.init.zeros_(self.soma_head.bias)
        self.dend_head = None
        if cfg.n_dend:
            self.dend_head = nn.Conv1d(ch, cfg.n_dend, 1)
            _trunc_normal_(self.dend_head.weight, 0.05)
            nn.init.zeros_(self.dend_head.bias)

    def forward_all(self, x: "torch.Tensor | SparseBatch") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(spike logit [B, T], soma [B, T], dendritic PCs [B, n_dend, T] or None)."""
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            h = conv.forward_sparse(x) if (i == 0 and isinstance(x, SparseBatch)) else conv(x)
            x = norm(F.relu(h))
        dend = self.dend_head(x) if self.dend_head is not None else None
        return self.spike_head(x)[:, 0], self.soma_head(x)[:, 0], dend

    def forward(self, x: "torch.Tensor | SparseBatch") -> tuple[torch.Tensor, torch.Tensor]:
        """x: dense float [B, n_rows, T] or a `SparseBatch`. Returns (spike logit, soma) [B, T]."""
        s, v, _ = self.forward_all(x)
        return s, v

    def kernel_parameters(self) -> list[nn.Parameter]:
        """Convolution kernels (get the paper's L2 penalty)."""
        heads = [self.spike_head, self.soma_head] + ([self.dend_head] if self.dend_head is not None else [])
        convs = [p for c in self.convs for p in ((c.spatial, c.temporal.weight) if isinstance(c, LowRankCausalConv1d) else (c.weight,))]
        return convs + [h.weight for h in heads]

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def model_from_json(d: dict) -> nn.Module:
    """The network a run's `config.json` describes: the TCN, or (``kind`` "elm") the recurrent
    leaky-memory twin of `elm.py`."""
    if d.get("kind") == "elm":
        from .elm import ELM, ELMConfig
        return ELM(ELMConfig.from_json(d))
    if d.get("kind") == "branch-elm":
        from .branch_elm import BranchELM, BranchELMConfig
        return BranchELM(BranchELMConfig.from_json(d))
    return TCN(ModelConfig.from_json(d))


def config_from_json(d: dict):
    if d.get("kind") == "elm":
        from .elm import ELMConfig
        return ELMConfig.from_json(d)
    if d.get("kind") == "branch-elm":
        from .branch_elm import BranchELMConfig
        return BranchELMConfig.from_json(d)
    return ModelConfig.from_json(d)


def load_onnx_weights(model: TCN, path: str) -> None:
    """Set ``model``'s weights (and BatchNorm statistics) from an ONNX file that `export.py`
    wrote for the same architecture (initializer names conv{i}.*, bn{i}.*, spike.*, soma.*),
    e.g. to continue training a shipped twin on more simulations. Shapes are checked."""
    import onnx
    from onnx import numpy_helper

    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}

    def put(target: torch.Tensor, name: str, squeeze_last: bool = False) -> None:
        if name not in inits:
            raise ValueError(f"{path}: no initializer {name!r} (another architecture?)")
        value = inits[name][..., 0] if squeeze_last else inits[name]
        if tuple(value.shape) != tuple(target.shape):
            raise ValueError(f"{path}: {name} has shape {value.shape}, the model's is {tuple(target.shape)}")
        with torch.no_grad():
            target.copy_(torch.from_numpy(np.array(value, dtype=np.float32, copy=True)))

    for i, (conv, norm) in enumerate(zip(model.convs, model.norms)):
        if isinstance(conv, LowRankCausalConv1d):
            put(conv.spatial, f"conv{i}.spatial", squeeze_last=True)
            put(conv.temporal.weight, f"conv{i}.weight")
            put(conv.temporal.bias, f"conv{i}.bias")
        else:
            put(conv.weight, f"conv{i}.weight")
            put(conv.bias, f"conv{i}.bias")
        put(norm.weight, f"bn{i}.scale")
        put(norm.bias, f"bn{i}.bias")
        put(norm.running_mean, f"bn{i}.mean")
        put(norm.running_var, f"bn{i}.var")
    for head, name in ((model.spike_head, "spike"), (model.soma_head, "soma")):
        put(head.weight, f"{name}.weight")
        put(head.bias, f"{name}.bias")
