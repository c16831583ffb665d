import json
import os

import pytest

from training.depth_sweep import collect, kernels_for, plot, run_one
from training.model import ModelConfig


def test_every_depth_sees_the_same_window():
    assert kernels_for(1, 153) == [153]
    assert kernels_for(7, 153) == [39] + [20] * 6  # the paper's best model
    assert kernels_for(3, 153) == [39, 58, 58]
    for depth in range(1, 9):
        for t in (60, 101, 153, 154):
            k = kernels_for(depth, t)
            assert len(k) == depth and ModelConfig.build(16, depth, 4, k).window_ms == t and min(k) >= 1, (depth, t, k)
            assert max(k[1:], default=0) - min(k[1:], default=0) <= 1
    with pytest.raises(ValueError):
        kernels_for(0, 153)
    with pytest.raises(ValueError):
        kernels_for(8, 42)


def test_a_tiny_sweep_trains_scores_resumes_and_plots(dataset_dir, tmp_path):
    out = str(tmp_path / "runs")
    kw = dict(data=dataset_dir, valid_data=dataset_dir, test_data=dataset_dir, out=out, width=4, receptive=17,
              first_kernel_ms=9, first_rank=2, max_train_sims=8, epochs=2, steps_per_epoch=3, lr=3e-3, log=lambda *_: None)
    r1 = run_one("nmda", 1, **kw)
    r2 = run_one("nmda", 2, **kw)
    assert (r1["kernels_ms"], r2["kernels_ms"]) == ([17], [9, 9])
    assert r1["receptive_ms"] == r2["receptive_ms"] == 17
    assert r2["parameters"] > r1["parameters"]
    assert r1["train_sims"] == 8 and r1["steps"] == 6
    assert r1["test_sims"] == 12
    assert r1["test_rmse_mV"] > 0
    # a finished run is read back, not retrained
    path = os.path.join(out, "nmda-d1", "result.json")
    mtime = os.path.getmtime(path)
    assert run_one("nmda", 1, **kw) == r1 and os.path.getmtime(path) == mtime
    with pytest.raises(SystemExit, match="protocol"):
        run_one("ampa", 1, **kw)
    results = collect(out)
    assert [r["depth"] for r in results] == [1, 2]
    png = str(tmp_path / "sweep.png")
    plot(results, png)
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    json.dumps(results, allow_nan=False)
