"""Merge dataset folders of the same cell and protocol into one (more simulations, no copying).

The merged folder holds only a ``manifest.json`` whose shard entries point at the source
folders' shard directories by relative path; simulations are renumbered consecutively in the
order the sources are given. Only finished shards are taken. The sources must agree on
everything that defines the data except the number of simulations and the base seed (the
morphology fingerprint, segments, protocol, recording); different base seeds are what make the
merged simulations new ones, and the merged definition records every source."""

from __future__ import annotations

import json
import os

from .data import Dataset, DatasetFormatError

#: Definition fields allowed to differ between merged datasets (each shard entry keeps its own size).
VARYING = ("count", "base_seed", "seed_rule", "sims_per_shard")


def merge_datasets(sources: list[str], out: str) -> dict:
    if len(sources) < 2:
        raise ValueError("merge needs at least two dataset folders")
    datasets = [Dataset(s) for s in sources]
    base = {k: v for k, v in datasets[0].definition.items() if k not in VARYING}
    for src, ds in zip(sources[1:], datasets[1:]):
        other = {k: v for k, v in ds.definition.items() if k not in VARYING}
        if other != base:
            diff = sorted(k for k in set(base) | set(other) if base.get(k) != other.get(k))
            raise DatasetFormatError(f"{src}: differs from {sources[0]} in {', '.join(diff)}")
    os.makedirs(out, exist_ok=True)
    if os.path.exists(os.path.join(out, "manifest.json")) and os.listdir(out) != ["manifest.json"]:
        raise DatasetFormatError(f"{out}: not empty")
    shards, first_sim = [], 0
    for src, ds in zip(sources, datasets):
        for i in sorted(ds.shards):
            s = dict(ds.shards[i])
            s["dir"] = os.path.relpath(os.path.join(os.path.abspath(src), s["dir"]), os.path.abspath(out))
            s["index"] = len(shards)
            s["first_sim"] = first_sim
            first_sim += s["n_sims"]
            shards.append(s)
    manifest = dict(datasets[0].manifest)
    definition = dict(datasets[0].definition)
    definition["count"] = first_sim
    definition["merged_from"] = [
        {"folder": os.path.relpath(os.path.abspath(s), os.path.abspath(out)), "base_seed": d.definition.get("base_seed"), "sims": len(d.sim_indices)}
        for s, d in zip(sources, datasets)
    ]
    manifest["definition"] = definition
    manifest["partition"] = {"index": 0, "of": 1}
    manifest["shards"] = shards
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest
