"""Training-step timing on random binary inputs (``python -m training bench``)."""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from .data import SparseInput
from .model import TCN, ModelConfig, SparseBatch


def random_sparse(rng: np.random.Generator, batch: int, rows: int, length: int, density: float) -> SparseInput:
    """A random binary batch with the given fraction of active (row, ms) pairs."""
    n = rng.binomial(batch * rows * length, density)
    flat = np.unique(rng.integers(0, batch * rows * length, size=n))
    b, rem = np.divmod(flat, rows * length)
    r, t = np.divmod(rem, length)
    bag = b * length + t
    order = np.lexsort((r, bag))
    counts = np.bincount(bag, minlength=batch * length)
    offsets = np.zeros(batch * length, np.int64)
    np.cumsum(counts[:-1], out=offsets[1:])
    return SparseInput(rows=r[order].astype(np.int64), offsets=offsets, batch=batch, length=length, n_rows=rows)


def bench(rows: int, depth: int, width: int, kernels, batch: int = 8, length: int = 400, density: float = 0.011,
          steps: int = 6, threads: int = 1, device: str = "cpu") -> dict:
    """Median process-CPU and wall seconds per training step (forward, backward, NAdam), dense
    and sparse first layer; the first step of each is a warm-up and not counted."""
    if threads:
        torch.set_num_threads(threads)
    cfg = ModelConfig.build(rows, depth, width, kernels)
    torch.manual_seed(0)
    model = TCN(cfg).to(device)
    opt = torch.optim.NAdam(model.parameters(), lr=1e-4, foreach=True)  # as in train.make_optimizer
    rng = np.random.default_rng(0)
    x = random_sparse(rng, batch, rows, length, density)
    y_spike = torch.zeros(batch, length, device=device)
    y_soma = torch.zeros(batch, length, device=device)
    out = {"model": cfg.name, "kernels": cfg.kernels, "parameters": model.n_parameters(), "batch": batch, "window_ms": length,
           "density": density, "threads": torch.get_num_threads(), "device": device}
    for mode in ("dense", "sparse"):
        inp = SparseBatch.from_numpy(x, device) if mode == "sparse" else torch.from_numpy(x.to_dense()).to(device)
        cpu, wall = [], []
        for _ in range(steps + 1):
            c0, w0 = time.process_time(), time.perf_counter()
            s, v = model(inp)
            loss = F.binary_cross_entropy_with_logits(s, y_spike) + 0.02 * F.mse_loss(v, y_soma)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        out[mode] = {"cpu_s_per_step": float(np.median(cpu[1:])), "wall_s_per_step": float(np.median(wall[1:])),
                     "simulated_ms_per_wall_s": batch * length / float(np.median(wall[1:]))}
    return out
