"""The Branch-ELM neuron (Spieler, Rahaman, Martius, Schölkopf & Levina 2024, "The expressive
leaky memory neuron: an efficient and expressive phenomenological neuron model can solve
long-horizon tasks", ICLR), written from its equations; state-dict compatible with the authors'
published NeuronIO model (``neuronio_best_model_state.pt`` + ``model_config.json``).

Per 1-ms step t (zero initial state), with the input raster x_t (num_input rows):

    u_t   = sign ⊙ x_t                         input sign: +1 excitatory rows (r < num_input/2),
                                               −1 inhibitory rows (the authors' data pipeline
                                               multiplies the 0/1 raster by it before the model)
    s_t   = κ_s ⊙ s_{t−1} + w_s ⊙ u_t[index] ⊙ valid     synapses (num_branch · num_synapse_per_branch)
    b_t   = Σ_{synapses of branch} s_t                   branch inputs (num_branch)
    h_t   = MLP([b_t, κ_m ⊙ m_{t−1}])                     Linear → SiLU → … → Linear (num_memory)
    Δ_t   = 1.7159 · tanh(2/3 · h_t)
    m_t   = κ_m ⊙ m_{t−1} + λ (1 − κ_m) ⊙ Δ_t
    y_t   = W_y m_t + b_y                                 y[0] spike logit, y[1] soma target

with w_s = relu(_proto_w_s), κ_s = exp(−Δt/τ_s), τ_m = τ_min + (τ_max − τ_min)·sigmoid(_proto_tau_m),
κ_m = exp(−Δt/τ_m). Routing "neuronio_routing": interlock[i] = (i mod 2)·(N/2) + ⌊i/2⌋
(excitatory and inhibitory rows of a segment side by side); branch b's synapse j reads the input
p = b·⌈N/num_branch⌉ + j, valid if p < N, index = interlock[min(p, N − 1)].

Training speed (`forward_all`): τ_s is fixed and equal for all synapses, so the synaptic traces
are linear in x: the input is projected onto the branches with one (num_input × num_branch)
matrix built from w_s, the routing, the mask and the sign (differentiable in ``_proto_w_s``),
and the exponential filter runs along time for all t at once (exact chunked scan). The first
MLP layer's branch part is applied to all t at once too; only the memory recurrence is a loop
over t. `forward_stepwise` is the plain sequential definition, for checking.
"""

from __future__ import annotations

import math
import torch
import torch.nn.functional as F
from torch import nn

#: keys of the authors' model_config.json
AUTHOR_KEYS = ["input_to_synapse_routing", "learn_memory_tau", "memory_tau_max", "memory_tau_min", "mlp_activation",
               "num_branch", "num_input", "num_memory", "num_output", "num_synapse_per_branch"]

#: constructor defaults of the authors' ELM that model_config.json does not record
DEFAULTS = {
    "num_memory": 100,
    "lambda_value": 5.0,
    "mlp_num_layers": 1,
    "mlp_hidden_size": None,  # 2 · num_memory
    "mlp_activation": "relu",
    "tau_s_value": 5.0,
    "memory_tau_min": 1.0,
    "memory_tau_max": 1000.0,
    "learn_memory_tau": False,
    "w_s_value": 0.5,
    "num_branch": None,  # num_input
    "num_synapse_per_branch": 1,
    "input_to_synapse_routing": None,
    "delta_t": 1.0,
    # ours: how the 0/1 raster is signed before the routing. "neuronio": +1 for rows < num_input/2
    # (excitatory), −1 for the others (inhibitory), as the authors' NeuronIO pipeline does
    # (create_neuronio_input_type); "none": the raster as it is.
    "input_sign": "neuronio",
}

#: the published NeuronIO Branch-ELM's configuration (model_config.json + the defaults above)
PUBLISHED_CONFIG = {
    "input_to_synapse_routing": "neuronio_routing", "learn_memory_tau": False, "memory_tau_max": 150.0,
    "memory_tau_min": 1.0, "mlp_activation": "silu", "num_branch": 45, "num_input": 1278, "num_memory": 100,
    "num_output": 2, "num_synapse_per_branch": 100,
}


def full_config(config: dict) -> dict:
    """The config with every constructor argument explicit (the authors' defaults filled in)."""
    c = dict(DEFAULTS)
    c.update({k: v for k, v in config.items() if k not in ("kind", "n_rows")})
    if c.get("mlp_hidden_size") is None:
        c["mlp_hidden_size"] = 2 * int(c["num_memory"])
    if c.get("num_branch") is None:
        c["num_branch"] = int(c["num_input"])
    for k in ("num_input", "num_output", "num_memory", "mlp_num_layers", "mlp_hidden_size", "num_branch", "num_synapse_per_branch"):
        c[k] = int(c[k])
    for k in ("lambda_value", "tau_s_value", "memory_tau_min", "memory_tau_max", "w_s_value", "delta_t"):
        c[k] = float(c[k])
    if c["input_sign"] not in ("neuronio", "none"):
        raise ValueError(f"input_sign {c['input_sign']!r}: expected 'neuronio' or 'none'")
    return c


def routing(num_input: int, num_branch: int, num_synapse_per_branch: int, kind: str | None):
    """(input_to_synapse_indices int64 [S], valid_indices_mask bool [S]) for S = branches · synapses."""
    n_syn = num_branch * num_synapse_per_branch
    if kind is None:
        if n_syn != num_input:
            raise ValueError("without a routing, num_branch · num_synapse_per_branch must equal num_input")
        return torch.arange(num_input), torch.ones(num_input, dtype=torch.bool)
    if kind != "neuronio_routing":
        raise ValueError(f"input_to_synapse_routing {kind!r} is not supported (neuronio_routing or none)")
    stride = math.ceil(num_input / num_branch)
    if stride > num_synapse_per_branch:
        raise ValueError("neuronio_routing needs ceil(num_input / num_branch) <= num_synapse_per_branch")
    i = torch.arange(num_input)
    interlock = (i % 2) * (num_input // 2) + torch.div(i, 2, rounding_mode="floor")
    p = torch.arange(num_branch).unsqueeze(1) * stride + torch.arange(num_synapse_per_branch).unsqueeze(0)
    valid = p < num_input
    return interlock[p.clamp(max=num_input - 1)].flatten(), valid.flatten()


def _scaled_sigmoid(x, lo: float, hi: float):
    return (hi - lo) * torch.sigmoid(x) + lo


def _inverse_scaled_sigmoid(x, lo: float, hi: float):
    x = torch.clamp(x, lo + 1e-6, hi - 1e-6)
    return torch.log((x - lo) / (hi - x))


class _MLP(nn.Module):
    """Linear → act (× layers) → Linear, as ``network`` (state-dict keys mlp.network.{0,2,…})."""

    def __init__(self, n_in: int, hidden: int, n_out: int, layers: int, activation: str):
        super().__init__()
        acts = {"relu": nn.ReLU, "silu": nn.SiLU}
        if activation not in acts:
            raise ValueError(f"mlp_activation {activation!r}: relu or silu")
        mods, width = [], n_in
        for _ in range(layers):
            mods += [nn.Linear(width, hidden), acts[activation]()]
            width = hidden
        mods.append(nn.Linear(width, n_out))
        self.network = nn.Sequential(*mods)

    def forward(self, x):
        return self.network(x)


class BranchELMConfig:
    """The model block of a run's config.json: ``{"kind": "branch-elm", "n_rows": N, "elm": {…}}``
    (``elm`` is the full model config, the authors' keys plus the explicit defaults)."""

    kind = "branch-elm"
    n_dend = 0
    depth = 1

    def __init__(self, elm: dict):
        self.elm = full_config(elm)
        self.n_rows = self.elm["num_input"]
        self.branches = self.elm["num_branch"]
        self.memory = self.elm["num_memory"]

    #: the context neurotwin feeds for windowed re-runs (the training window); the memory is unbounded
    window_ms = 500

    @property
    def name(self) -> str:
        e = self.elm
        return f"BranchELM_b{e['num_branch']}x{e['num_synapse_per_branch']}_m{e['num_memory']}_h{e['mlp_hidden_size']}x{e['mlp_num_layers']}"

    def to_json(self) -> dict:
        return {"kind": self.kind, "n_rows": self.n_rows, "elm": dict(self.elm)}

    @staticmethod
    def from_json(d: dict) -> "BranchELMConfig":
        return BranchELMConfig(d["elm"] if "elm" in d else d)


def exp_filter(z: torch.Tensor, kappa: float, chunk: int = 50) -> torch.Tensor:
    """s_t = κ s_{t−1} + z_t along dim 1 (s_{−1} = 0), for z [B, T, C]: within chunks of ``chunk``
    ms a lower-triangular Toeplitz product, across chunks the carried state. Exact (no truncation)."""
    b, t_len, c = z.shape
    length = min(chunk, t_len)
    pad = (-t_len) % length
    if pad:
        z = F.pad(z, (0, 0, 0, pad))
    n = z.shape[1] // length
    i = torch.arange(length, device=z.device)
    expo = (i.unsqueeze(1) - i.unsqueeze(0)).to(z.dtype)
    kap = torch.as_tensor(kappa, dtype=z.dtype, device=z.device)
    k = torch.where(expo >= 0, kap ** expo.clamp(min=0), torch.zeros((), dtype=z.dtype, device=z.device))
    local = torch.matmul(k, z.view(b, n, length, c))  # [B, n, L, C]
    if n == 1:
        return local.view(b, length, c)[:, :t_len]
    pw = (kap ** (i + 1).to(z.dtype)).unsqueeze(1)  # [L, 1]
    carry = z.new_zeros(b, 1, c)
    out = []
    for j in range(n):
        s = local[:, j] + pw * carry
        out.append(s)
        carry = s[:, -1:]
    return torch.cat(out, 1)[:, :t_len]


class _MemoryScan(torch.autograd.Function):
    """`_memory_scan` with a hand-written backward pass (backpropagation through time): the
    forward loop keeps the pre-activations, the backward loop is a few fused tensor ops per ms,
    and the weight gradients are single products over all (t, batch) at the end. No gradient for
    κ_m and the gain (fixed unless learn_memory_tau, which takes the autograd path)."""

    @staticmethod
    def forward(ctx, a, w_mem, w2, b2, kappa_m, gain):
        b, t_len, hid = a.shape
        mem = w_mem.shape[1]
        z1 = a.new_empty(t_len, b, hid)
        th = a.new_empty(t_len, b, mem)
        ms = a.new_empty(t_len, b, mem)
        m = a.new_zeros(b, mem)
        w_mem_t, w2_t = w_mem.t(), w2.t()
        g2 = gain * 1.7159
        for t in range(t_len):
            z = torch.addmm(a[:, t], m, w_mem_t, out=z1[t])
            z2 = torch.addmm(b2, F.silu(z), w2_t)
            d = torch.tanh(z2.mul_(2.0 / 3.0), out=th[t])
            m = torch.addcmul(kappa_m * m, g2, d, out=ms[t])
        ctx.save_for_backward(z1, th, ms, w_mem, w2, kappa_m, gain)
        return ms.transpose(0, 1)

    @staticmethod
    def backward(ctx, g_out):
        z1, th, ms, w_mem, w2, kappa_m, gain = ctx.saved_tensors
        t_len, b, mem = ms.shape
        sig = torch.sigmoid(z1)
        h = z1 * sig
        dsilu = sig * (1 + z1 * (1 - sig))
        dd = (gain * (1.7159 * 2.0 / 3.0)) * (1 - th * th)
        del sig
        g = g_out.transpose(0, 1)
        gz1 = torch.empty_like(z1)
        gz2 = torch.empty_like(th)
        carry = ms.new_zeros(b, mem)
        for t in range(t_len - 1, -1, -1):
            gm = g[t] + carry
            g2 = torch.mul(gm, dd[t], out=gz2[t])
            g1 = torch.mul(torch.mm(g2, w2), dsilu[t], out=gz1[t])
            carry = torch.addmm(gm * kappa_m, g1, w_mem)
        m_prev = torch.cat([ms.new_zeros(1, b, mem), ms[:-1]])
        g_a = gz1.transpose(0, 1)
        g_w_mem = gz1.reshape(-1, gz1.shape[2]).t() @ m_prev.reshape(-1, mem)
        g_w2 = gz2.reshape(-1, mem).t() @ h.reshape(-1, h.shape[2])
        g_b2 = gz2.sum((0, 1))
        return g_a, g_w_mem, g_w2, g_b2, None, None


def _memory_scan(a: torch.Tensor, w_mem: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor, kappa_m: torch.Tensor,
                 gain: torch.Tensor) -> torch.Tensor:
    """The memory recurrence for a one-hidden-layer SiLU MLP. ``a`` [B, T, H] is the first layer's
    input part (W_branch · b_t + bias) for all t; ``w_mem`` [H, M] its memory part with κ_m folded
    in; ``gain`` = λ (1 − κ_m). Returns m_t [B, T, M]. (Eager: torch.jit.script measured no
    faster, 0.200 vs 0.188 s per training step of 32 × 500 ms on one core.)"""
    b, t_len = a.shape[0], a.shape[1]
    m = torch.zeros(b, w_mem.shape[1], dtype=a.dtype, device=a.device)
    w_mem_t = w_mem.t()
    w2_t = w2.t()
    out = []
    a_t = a.unbind(1)  # one UnbindBackward instead of T select_backward into full-size zeros
    for t in range(t_len):
        h = F.silu(torch.addmm(a_t[t], m, w_mem_t))
        d = torch.tanh(torch.addmm(b2, h, w2_t) * (2.0 / 3.0)) * 1.7159
        m = kappa_m * m + gain * d
        out.append(m)
    return torch.stack(out, 1)


class BranchELM(nn.Module):
    """The Branch-ELM. ``forward(x)`` → (spike logit, soma target), each [B, T]; ``x`` is a dense
    float tensor [B, num_input, T] (neurotwin's layout, 0/1) or a `model.SparseBatch`."""

    def __init__(self, config: dict | BranchELMConfig):
        """``config``: a model_config dict (the authors' keys, optional extras), a run's model
        block ``{"kind": "branch-elm", "elm": {…}}`` or a `BranchELMConfig`."""
        super().__init__()
        self.cfg = config if isinstance(config, BranchELMConfig) else BranchELMConfig.from_json(config)
        c = self.cfg.elm
        self.num_input, self.num_output, self.num_memory = c["num_input"], c["num_output"], c["num_memory"]
        self.num_branch, self.num_synapse_per_branch = c["num_branch"], c["num_synapse_per_branch"]
        self.num_synapse = self.num_branch * self.num_synapse_per_branch
        self.lambda_value, self.delta_t = c["lambda_value"], c["delta_t"]
        self.memory_tau_min, self.memory_tau_max = c["memory_tau_min"], c["memory_tau_max"]
        self.mlp = _MLP(self.num_branch + self.num_memory, c["mlp_hidden_size"], self.num_memory, c["mlp_num_layers"],
                        c["mlp_activation"])
        self._proto_w_s = nn.Parameter(torch.full((self.num_synapse,), c["w_s_value"]))
        self.w_y = nn.Linear(self.num_memory, self.num_output)
        self.tau_s = nn.Parameter(torch.full((self.num_synapse,), c["tau_s_value"]), requires_grad=False)
        tau_m = torch.logspace(math.log10(self.memory_tau_min + 1e-6), math.log10(self.memory_tau_max - 1e-6), self.num_memory)
        self._proto_tau_m = nn.Parameter(_inverse_scaled_sigmoid(tau_m, self.memory_tau_min, self.memory_tau_max),
                                         requires_grad=bool(c["learn_memory_tau"]))
        idx, valid = routing(self.num_input, self.num_branch, self.num_synapse_per_branch, c["input_to_synapse_routing"])
        self.input_to_synapse_indices = nn.Parameter(idx, requires_grad=False)
        self.valid_indices_mask = nn.Parameter(valid, requires_grad=False)
        sign = torch.ones(self.num_input)
        if c["input_sign"] == "neuronio":
            sign[self.num_input // 2:] = -1.0
        self.register_buffer("input_sign", sign, persistent=False)
        self.dend_head = None  # the training loop's interface

    # derived quantities -------------------------------------------------------------------------
    @property
    def w_s(self):
        return torch.relu(self._proto_w_s)

    @property
    def tau_m(self):
        return _scaled_sigmoid(self._proto_tau_m, self.memory_tau_min, self.memory_tau_max)

    @property
    def kappa_m(self):
        return torch.exp(-self.delta_t / torch.clamp(self.tau_m, min=1e-6))

    @property
    def kappa_s(self):
        return torch.exp(-self.delta_t / torch.clamp(self.tau_s, min=1e-6))

    def branch_matrix(self) -> torch.Tensor:
        """[num_input, num_branch]: input row → branch weight Σ w_s · valid · sign over the
        synapses that read the row (differentiable in ``_proto_w_s``)."""
        branch = torch.arange(self.num_synapse, device=self._proto_w_s.device) // self.num_synapse_per_branch
        flat = self.input_to_synapse_indices * self.num_branch + branch
        w = self.w_s * self.valid_indices_mask.to(self._proto_w_s.dtype)
        m = torch.zeros(self.num_input * self.num_branch, dtype=w.dtype, device=w.device).index_add(0, flat, w)
        return m.view(self.num_input, self.num_branch) * self.input_sign.to(w.dtype).unsqueeze(1)

    def branch_input(self, x) -> torch.Tensor:
        """Σ w_s · routed signed input per branch, before the synaptic filter: [B, T, num_branch]."""
        w = self.branch_matrix()
        if isinstance(x, torch.Tensor):
            return torch.einsum("brt,rc->btc", x.to(w.dtype), w)
        z = F.embedding_bag(x.rows, w, x.offsets, mode="sum")
        return z.view(x.batch, x.length, -1)

    # forward passes ---------------------------------------------------------------------------
    def forward_all(self, x):
        """The fast path: (logit [B, T], soma [B, T], None)."""
        ks = self.kappa_s
        if not bool(torch.all(ks == ks[0])):
            y = self.forward_stepwise(x if isinstance(x, torch.Tensor) else _dense(x))
            return y[:, 0], y[:, 1], None
        syn = exp_filter(self.branch_input(x), float(ks[0]))  # [B, T, num_branch]
        kappa_m = self.kappa_m
        gain = self.lambda_value * (1 - kappa_m)
        lins = [m for m in self.mlp.network if isinstance(m, nn.Linear)]
        first = lins[0]
        nb = self.num_branch
        a = F.linear(syn, first.weight[:, :nb], first.bias)  # [B, T, H]
        w_mem = first.weight[:, nb:] * kappa_m.unsqueeze(0)
        if len(lins) == 2 and isinstance(self.mlp.network[1], nn.SiLU):
            if torch.is_grad_enabled() and not kappa_m.requires_grad:
                mem = _MemoryScan.apply(a, w_mem, lins[1].weight, lins[1].bias, kappa_m, gain)
            else:
                mem = _memory_scan(a, w_mem, lins[1].weight, lins[1].bias, kappa_m, gain)
        else:
            mem = self._memory_loop(a, w_mem, kappa_m, gain)
        y = self.w_y(mem)
        return y[..., 0], y[..., 1], None

    def _memory_loop(self, a, w_mem, kappa_m, gain):
        """General MLP depth / activation (eager)."""
        net = list(self.mlp.network)
        m = a.new_zeros(a.shape[0], self.num_memory)
        out = []
        for a_t in a.unbind(1):
            h = net[1](a_t + m @ w_mem.t())
            for mod in net[2:]:
                h = mod(h)
            m = kappa_m * m + gain * (torch.tanh(h * (2.0 / 3.0)) * 1.7159)
            out.append(m)
        return torch.stack(out, 1)

    def forward(self, x):
        s, v, _ = self.forward_all(x)
        return s, v

    def forward_stepwise(self, x: torch.Tensor) -> torch.Tensor:
        """The plain sequential definition (the authors' order of operations). ``x`` dense
        [B, num_input, T]; returns the raw outputs [B, num_output, T]."""
        b, _, t_len = x.shape
        u = (x * self.input_sign.unsqueeze(1)).index_select(1, self.input_to_synapse_indices)
        u = u * self.valid_indices_mask.to(x.dtype).unsqueeze(1)  # [B, S, T]
        w_s, ks, km = self.w_s, self.kappa_s, self.kappa_m
        s = x.new_zeros(b, self.num_synapse)
        m = x.new_zeros(b, self.num_memory)
        out = []
        for t in range(t_len):
            s = ks * s + w_s * u[:, :, t]
            syn = s.view(b, self.num_branch, -1).sum(-1)
            d = torch.tanh(self.mlp(torch.cat([syn, km * m], -1)) * (2.0 / 3.0)) * 1.7159
            m = km * m + self.lambda_value * (1 - km) * d
            out.append(self.w_y(m))
        return torch.stack(out, -1)

    # training-loop interface --------------------------------------------------------------------
    def kernel_parameters(self) -> list[nn.Parameter]:
        return []

    def n_parameters(self) -> int:
        """Trainable parameters (54,002 for the published configuration)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def model_config(self) -> dict:
        """The authors' model_config.json keys plus the explicit constructor values."""
        c = self.cfg.elm
        return {k: c[k] for k in sorted(c)}


def _dense(x) -> torch.Tensor:
    """A `SparseBatch` as a dense [B, rows, T] tensor."""
    counts = torch.diff(torch.cat([x.offsets, x.offsets.new_tensor([len(x.rows)])]))
    bag = torch.repeat_interleave(torch.arange(x.batch * x.length, device=x.rows.device), counts)
    d = torch.zeros(x.batch, x.n_rows, x.length, device=x.rows.device)
    d[bag // x.length, x.rows, bag % x.length] = 1.0
    return d


def load_published(folder: str) -> BranchELM:
    """The authors' model from a folder with model_config.json and neuronio_best_model_state.pt."""
    import json
    import os

    with open(os.path.join(folder, "model_config.json")) as f:
        cfg = json.load(f)
    model = BranchELM(cfg)
    model.load_state_dict(torch.load(os.path.join(folder, "neuronio_best_model_state.pt"), map_location="cpu"), strict=True)
    model.eval()
    return model
