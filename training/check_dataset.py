#!/usr/bin/env python3
"""Load a neurotwin dataset folder with NumPy only (no neurotwin), check its integrity, print a
JSON summary. Usage: python3 training/check_dataset.py DIR

Checks, per finished shard: SHA-256 and size of every file against the manifest, array shapes
and dtypes, CSR offsets, spike rows/bins inside the raster, per-simulation spike order.
Exits non-zero with a message on the first problem."""
import glob
import hashlib
import json
import os
import sys

import numpy as np


def fail(msg):
    print(f"check_dataset: {msg}", file=sys.stderr)
    sys.exit(1)


def main(root):
    paths = sorted(glob.glob(os.path.join(root, "manifest.json")) + glob.glob(os.path.join(root, "manifest.part-*.json")))
    if not paths:
        fail(f"{root}: no manifest")
    manifests = [json.load(open(p)) for p in paths]
    definition = manifests[0]["definition"]
    for m in manifests[1:]:
        if m["definition"] != definition:
            fail("manifests disagree on the dataset definition")
    shards = {}
    for m in manifests:
        for s in m["shards"]:
            if s["status"] == "done":
                shards[s["index"]] = s
    n_seg = definition["n_segments"]
    duration = definition["protocol"]["duration_ms"]
    summary = {"n_segments": n_seg, "duration_ms": duration, "count": definition["count"],
               "complete": len(shards) == -(-definition["count"] // definition["sims_per_shard"]), "shards": []}
    for index in sorted(shards):
        s = shards[index]
        folder = os.path.join(root, s["dir"])
        for f in s["files"]:
            data = open(os.path.join(folder, f["name"]), "rb").read()
            if len(data) != f["bytes"] or hashlib.sha256(data).hexdigest() != f["sha256"]:
                fail(f"{s['dir']}/{f['name']}: size or hash differs from the manifest")
        load = lambda name: np.load(os.path.join(folder, name))
        rows, ms, off = load("spike_rows.npy"), load("spike_ms.npy"), load("sim_offsets.npy")
        soma, out, out_off, seeds = load("soma_v.npy"), load("out_spike_times.npy"), load("out_spike_offsets.npy"), load("seeds.npy")
        n = s["n_sims"]
        if rows.dtype != np.int32 or ms.dtype != np.int32 or off.dtype != np.int64 or soma.dtype != np.float32:
            fail(f"shard {index}: unexpected dtypes")
        if off.shape != (n + 1,) or off[0] != 0 or off[-1] != len(rows) or np.any(np.diff(off) < 0):
            fail(f"shard {index}: bad sim_offsets")
        if soma.shape != (n, duration) or out_off.shape != (n + 1,) or out_off[-1] != len(out):
            fail(f"shard {index}: bad soma_v or output spike offsets")
        if seeds.dtype != np.uint64 or [int(x) for x in seeds] != s["seeds"]:
            fail(f"shard {index}: seeds differ from the manifest")
        if len(rows) and (rows.min() < 0 or rows.max() >= 2 * n_seg or ms.min() < 0 or ms.max() >= duration):
            fail(f"shard {index}: spike outside the raster")
        for k in range(n):
            key = rows[off[k]:off[k + 1]].astype(np.int64) * duration + ms[off[k]:off[k + 1]]
            if np.any(np.diff(key) <= 0):
                fail(f"shard {index} sim {k}: spikes not sorted by (row, ms) or duplicated")
        entry = {"index": index, "n_sims": n, "n_input_spikes": np.diff(off).tolist(),
                 "n_output_spikes": np.diff(out_off).tolist(), "soma_v_sum": [float(x) for x in soma.astype(np.float64).sum(axis=1)]}
        if os.path.exists(os.path.join(folder, "dend_v.npy")):
            dend = load("dend_v.npy")
            if dend.shape != (n, n_seg, duration):
                fail(f"shard {index}: dend_v shape {dend.shape}")
            entry["dend_v_dtype"] = str(dend.dtype)
            entry["dend_v_sum"] = [float(x) for x in dend.astype(np.float64).sum(axis=(1, 2))]
        summary["shards"].append(entry)
    print(json.dumps(summary))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("usage: check_dataset.py DIR")
    main(sys.argv[1])
