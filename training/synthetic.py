"""A tiny synthetic dataset in the neurotwin format (for tests and smoke runs; no simulator).

The "neuron" is a leaky integrator: every excitatory input spike adds +w_e·exp(−Δt/τ) mV,
every inhibitory one −w_i·exp(−Δt/τ) mV to a −70 mV rest, and an output spike is emitted (with a
3-ms refractory period) whenever the voltage exceeds −55 mV. It is causal with a short memory, so
a small TCN can learn it. The files, dtypes, offsets, manifest fields and SHA-256 entries follow
`src/dataset/` exactly, so `training/check_dataset.py` accepts the result.
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np


def _simulate(rows, ms, n_seg, duration, rng, tau_ms=8.0, w_e=4.0, w_i=1.5):
    drive = np.zeros(duration)
    sign = np.where(rows < n_seg, w_e, -w_i)
    np.add.at(drive, ms, sign)
    kernel = np.exp(-np.arange(int(6 * tau_ms)) / tau_ms)
    v = -70.0 + np.convolve(drive, kernel)[:duration] + rng.normal(0, 0.05, duration)
    spikes, last = [], -100
    for t in range(duration):
        if v[t] > -55.0 and t - last >= 3:
            spikes.append(t + 0.5 + rng.uniform(0.0, 0.9))  # lands in bin t under int(t − 0.5)
            last = t
    v_out = v.copy()
    for s in spikes:
        v_out[int(s - 0.5)] = 20.0  # spike peak, clipped away by the target transform
    return v_out.astype(np.float32), np.array(spikes, dtype=np.float64)


def write_synthetic_dataset(root: str, n_sims: int = 12, n_segments: int = 8, duration_ms: int = 700,
                            sims_per_shard: int = 5, rate_hz: float = 40.0, seed: int = 1,
                            dend: bool = False) -> str:
    """Write a dataset folder ``root`` (created) with ``n_sims`` simulations of ``duration_ms`` ms
    and ``2·n_segments`` input rows firing as Poisson processes at about ``rate_hz`` (rate modulated
    per simulation). Returns ``root``."""
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    n_rows = 2 * n_segments
    n_shards = -(-n_sims // sims_per_shard)
    seeds_all = [int(x) for x in rng.integers(0, 2**63, size=n_sims, dtype=np.uint64)]
    shards = []
    for j in range(n_shards):
        first = j * sims_per_shard
        n = min(sims_per_shard, n_sims - first)
        rows_l, ms_l, soma_l, out_l, dend_l = [], [], [], [], []
        for k in range(first, first + n):
            r = rng.uniform(0.5, 1.5) * rate_hz / 1000.0
            active = rng.random((n_rows, duration_ms)) < r
            active[:, 0] = False  # like drop_t0_spikes
            rows, ms = np.nonzero(active)  # sorted by row, then ms
            v, out = _simulate(rows, ms, n_segments, duration_ms, rng)
            rows_l.append(rows.astype(np.int32))
            ms_l.append(ms.astype(np.int32))
            soma_l.append(v)
            out_l.append(out)
            if dend:
                dend_l.append(np.tile(v, (n_segments, 1)).astype(np.float32))
        folder = os.path.join(root, f"shard_{j:05d}")
        os.makedirs(folder, exist_ok=True)
        off = np.zeros(n + 1, np.int64)
        off[1:] = np.cumsum([len(x) for x in rows_l])
        out_off = np.zeros(n + 1, np.int64)
        out_off[1:] = np.cumsum([len(x) for x in out_l])
        arrays = {
            "spike_rows.npy": np.concatenate(rows_l).astype(np.int32),
            "spike_ms.npy": np.concatenate(ms_l).astype(np.int32),
            "sim_offsets.npy": off,
            "soma_v.npy": np.stack(soma_l).astype(np.float32),
            "out_spike_times.npy": np.concatenate(out_l).astype(np.float64),
            "out_spike_offsets.npy": out_off,
            "seeds.npy": np.array(seeds_all[first:first + n], dtype=np.uint64),
        }
        if dend:
            arrays["dend_v.npy"] = np.stack(dend_l).astype(np.float32)
        files = []
        for name in sorted(arrays):
            path = os.path.join(folder, name)
            np.save(path, arrays[name])
            data = open(path, "rb").read()
            files.append({"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        shards.append({"index": j, "dir": f"shard_{j:05d}", "first_sim": first, "n_sims": n,
                       "seeds": seeds_all[first:first + n], "status": "done", "files": files})
    n_basal = n_segments // 2
    manifest = {
        "format": "neurotwin-dataset",
        "format_version": 1,
        "neurotwin_version": "synthetic",
        "morphology_source": "synthetic",
        "definition": {
            "morphology_fingerprint": "sha256:" + hashlib.sha256(b"synthetic").hexdigest(),
            "n_segments": n_segments,
            "protocol": {"variant": "nmda", "duration_ms": duration_ms},
            "base_seed": seed,
            "count": n_sims,
            "sims_per_shard": sims_per_shard,
            "seed_rule": "synthetic (training/synthetic.py)",
            "dendritic_dtype": "f32" if dend else None,
            "segments": {
                "section": [f"dend[{i}]" if i < n_basal else f"apic[{i - n_basal}]" for i in range(n_segments)],
                "x": [0.5] * n_segments,
                "tree": ["basal" if i < n_basal else "apical" for i in range(n_segments)],
                "length_um": [10.0] * n_segments,
                "dist_um": [float(10 * i) for i in range(n_segments)],
            },
        },
        "partition": {"index": 0, "of": 1},
        "arrays": [],
        "shards": shards,
    }
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    return root
