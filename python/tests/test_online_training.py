"""`python -m training train --online`: a campaign piece whose training simulations are made live by
the bindings (no dataset written), recorded in the ledger by seed, with its throughput."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import neurotwin as nt

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("NEUROTWIN_BIN", str(REPO / "target" / "release" / "neurotwin"))
SYNTH_SWC = REPO / "morphologies" / "l5pc-synthetic.swc"


def _dataset(out: Path, seed: int) -> str:
    subprocess.run([BIN, "--morphology", str(SYNTH_SWC), "dataset", "--count", "2", "--duration-ms", "1200", "--seed", str(seed),
                    "--out", str(out), "--threads", "1", "--quiet"], check=True, capture_output=True)
    return str(out)


def test_online_simulations_equal_the_dataset_ones(tmp_path):
    sys.path.insert(0, str(REPO))
    from training.data import Dataset
    from training.online import OnlineSimulations

    d = Dataset(_dataset(tmp_path / "d", 9105))
    online = OnlineSimulations("builtin", 9105, duration_ms=1200, threads=1, ahead=2)
    try:
        got = dict(online.take(at_least=2, timeout_s=120))
    finally:
        online.stop()
    ref = d.load_sims([0, 1])
    for k in (0, 1):
        a, b = ref[k], got[k]
        assert a.seed == b.seed
        assert np.array_equal(a.rows, b.rows) and np.array_equal(a.ms, b.ms)
        assert np.array_equal(a.soma_v, b.soma_v) and np.array_equal(a.out_spikes_ms, b.out_spikes_ms)
    assert online.sims_per_cpu_min() > 0


def test_train_online_runs_and_the_ledger_records_it(tmp_path):
    valid = _dataset(tmp_path / "valid", 4002)
    test = _dataset(tmp_path / "test", 4003)
    ck, ledger = tmp_path / "ck.pt", tmp_path / "campaign.json"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    p = subprocess.run([sys.executable, "-m", "training", "train", "--online", "9101", "--online-morphology", "builtin",
                        "--valid-data", valid, "--until", "+40", "--valid-every-min", "0.25", "--steps-per-sim", "4",
                        "--checkpoint", str(ck), "--ledger", str(ledger)], cwd=REPO, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "online: simulating seed base 9101 live" in p.stdout
    assert "per worker CPU-minute" in p.stdout, p.stdout
    p = subprocess.run([sys.executable, "-m", "training", "campaign", "finish-piece", "--test-data", test, "--out",
                        str(tmp_path / "cand" / "online-elm"), "--checkpoint", str(ck), "--ledger", str(ledger)],
                       cwd=REPO, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    entry = json.loads(ledger.read_text())["pieces"][0]
    online = [s for s in entry["seeds"] if s["base_seed"] == 9101]
    assert len(online) == 1 and online[0]["purpose"] == "train" and online[0]["sims"] >= 2
    assert online[0]["sim_ranges"][0][0] == 0
    tp = online[0]["throughput"]
    assert tp["sims_per_worker_cpu_min"] > 0 and 0 <= tp["optimizer_wait_fraction"] <= 1
    assert entry["sims_added"] == online[0]["sims"]
    # the exported twin loads in neurotwin and predicts the built-in cell
    twin = nt.Twin.load(tmp_path / "cand" / "online-elm.json")
    cell = nt.Cell(nt.Morphology.builtin())
    assert twin.predict(cell.paper_input(1, duration_ms=300)).spike_probability.shape == (300,)
    # the seed is now used: a second online piece on it is refused
    p = subprocess.run([sys.executable, "-m", "training", "train", "--online", "9101", "--online-morphology", "builtin",
                        "--valid-data", valid, "--until", "+20", "--checkpoint", str(ck), "--ledger", str(ledger)],
                       cwd=REPO, env=env, capture_output=True, text=True)
    assert p.returncode != 0 and "already in the ledger" in p.stderr
