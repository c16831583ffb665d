import json
import os

import numpy as np
import pytest
import torch

from training.train import load_checkpoint, train

from .conftest import tiny_config


def _quiet(*_):
    pass


def test_loss_decreases_on_a_learnable_task(dataset_dir, tmp_path):
    cfg = tiny_config(dataset_dir, epochs=6, lr=1e-2, steps=10)
    train(cfg, str(tmp_path / "run"), log=_quiet)
    hist = [json.loads(line) for line in open(tmp_path / "run" / "history.jsonl")]
    assert len(hist) == 6
    first = hist[0]["train_bce"] + 0.02 * hist[0]["train_mse"]
    last = hist[-1]["train_bce"] + 0.02 * hist[-1]["train_mse"]
    assert last < 0.6 * first
    assert hist[-1]["valid_loss"] < hist[0]["valid_loss"]
    assert hist[-1]["valid_auc"] > 0.8


def test_resume_reproduces_an_uninterrupted_run(dataset_dir, tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    train(tiny_config(dataset_dir, epochs=4), a, log=_quiet)
    train(tiny_config(dataset_dir, epochs=4), b, max_epochs_this_run=2, log=_quiet)
    assert load_checkpoint(os.path.join(b, "checkpoints", "last.pt"))["epoch"] == 1
    with pytest.raises(FileExistsError):
        train(tiny_config(dataset_dir, epochs=4), b, log=_quiet)
    train(tiny_config(dataset_dir, epochs=4), b, resume=True, log=_quiet)
    ca = load_checkpoint(os.path.join(a, "checkpoints", "last.pt"))
    cb = load_checkpoint(os.path.join(b, "checkpoints", "last.pt"))
    assert ca["epoch"] == cb["epoch"] == 3
    for k, v in ca["model"].items():
        assert torch.equal(v, cb["model"][k]), k
    for sa, sb in zip(ca["optimizer"]["state"].values(), cb["optimizer"]["state"].values()):
        for k in sa:
            assert torch.equal(torch.as_tensor(sa[k]), torch.as_tensor(sb[k]))
    assert ca["scheduler"] == cb["scheduler"]
    assert ca["numpy_rng"] == cb["numpy_rng"]
    drop = lambda h: [{k: v for k, v in e.items() if k not in ("wall_s", "step_s")} for e in h]  # noqa: E731
    assert drop(ca["history"]) == drop(cb["history"])


def test_schedule_follows_the_paper_stages(dataset_dir):
    from training.train import TrainConfig

    cfg = TrainConfig(data=dataset_dir, model={}, epochs=250)
    assert cfg.stage(0) == (1e-4, 1.0, 0.02)
    assert cfg.stage(39) == (1e-4, 1.0, 0.02) and cfg.stage(40) == (3e-5, 2.0, 0.01)
    assert cfg.stage(249) == (1e-6, 9.0, 0.003)
    assert cfg.dend_weight(0) == 5e-6 and cfg.dend_weight(249) == 1e-9
    cfg.epochs = 10
    assert [cfg.stage(e)[0] for e in range(10)] == [1e-4, 1e-4, 3e-5, 3e-5, 1e-5, 3e-6, 3e-6, 1e-6, 1e-6, 1e-6]


def test_dendritic_pca_head(tmp_path):
    import numpy as np

    from training.data import Dataset, DendriticPCA
    from training.synthetic import write_synthetic_dataset

    root = write_synthetic_dataset(str(tmp_path / "d"), n_sims=6, n_segments=4, duration_ms=500, sims_per_shard=3, dend=True, seed=5)
    ds = Dataset(root)
    sims = ds.load_sims(dendritic=True)
    pca = DendriticPCA.fit(list(sims.values()), 3)
    np.testing.assert_allclose(pca.components @ pca.components.T, np.eye(3), atol=1e-5)
    assert pca.project(sims[0].dend_v).shape == (3, 500)
    cfg = tiny_config(root, epochs=2, steps=4)
    cfg.model["kernels"], cfg.model["widths"], cfg.model["n_rows"], cfg.model["n_dend"] = [5, 3], [6, 6], 8, 3
    cfg.stages = [[0.0, 3e-3, 1.0, 0.02, 1e-3]]
    cfg.window_ms, cfg.ignore_ms = 100, 150
    last = train(cfg, str(tmp_path / "run"), log=_quiet)
    assert last["loss_weights"] == [1.0, 0.02, 1e-3] and last["valid_dend_mse"] > 0
    assert os.path.exists(tmp_path / "run" / "dend_pca.npz")
    train(cfg, str(tmp_path / "run"), resume=True, log=_quiet)  # nothing left; loads the saved PCA


def test_separate_validation_data_and_growing_training_set(dataset_dir, tmp_path):
    """--valid-data takes all of another dataset as validation and the training dataset whole;
    --grow picks up shards finished while training runs (here: marked done between epochs)."""
    from training.synthetic import write_synthetic_dataset

    from .conftest import DURATION, N_SEGMENTS

    grow_dir = write_synthetic_dataset(str(tmp_path / "grow"), n_sims=12, n_segments=N_SEGMENTS,
                                       duration_ms=DURATION, sims_per_shard=4, seed=11)
    manifest_path = os.path.join(grow_dir, "manifest.json")
    with open(manifest_path) as f:
        manifest = json.load(f)
    for s in manifest["shards"][1:]:  # only the first shard is finished when training starts
        s["status"] = "pending"
    with open(manifest_path, "w") as f:
        json.dump(manifest, f)

    def finish_next_shard(line, *_):
        if not line.startswith("epoch"):
            return
        with open(manifest_path) as f:
            m = json.load(f)
        pending = [s for s in m["shards"] if s["status"] != "done"]
        if pending:
            pending[0]["status"] = "done"
        with open(manifest_path, "w") as f:
            json.dump(m, f)

    cfg = tiny_config(grow_dir, epochs=4)
    cfg.valid_data, cfg.grow = dataset_dir, True
    run = str(tmp_path / "run")
    train(cfg, run, log=finish_next_shard)
    hist = [json.loads(line) for line in open(os.path.join(run, "history.jsonl"))]
    assert [h["train_sims"] for h in hist] == [4, 8, 12, 12]
    saved = json.load(open(os.path.join(run, "config.json")))
    assert saved["split"]["train"] == list(range(12))
    assert saved["split"]["valid"] == list(range(12)) and saved["split"]["test"] == []
    assert all(h["valid_auc"] is not None for h in hist)

    capped = tiny_config(grow_dir, epochs=1)
    capped.valid_data, capped.max_train_sims = dataset_dir, 5
    train(capped, str(tmp_path / "capped"), log=_quiet)
    assert json.load(open(os.path.join(tmp_path, "capped", "config.json")))["split"]["train"] == list(range(5))


def test_the_best_epoch_is_chosen_by_a_loss_comparable_across_stages(dataset_dir, tmp_path):
    # the second stage weights the spike loss 20-fold: the validation loss stays weighted as the
    # first stage's, so later epochs can still be the best one
    cfg = tiny_config(dataset_dir, epochs=4, lr=1e-2, steps=10)
    cfg.stages = [[0.0, 1e-2, 1.0, 0.02], [0.5, 1e-2, 20.0, 0.5]]
    train(cfg, str(tmp_path / "run"), log=_quiet)
    hist = [json.loads(line) for line in open(tmp_path / "run" / "history.jsonl")]
    assert [h["loss_weights"] for h in hist] == [[1.0, 0.02]] * 2 + [[20.0, 0.5]] * 2
    for h in hist:
        assert h["valid_loss"] == pytest.approx(h["valid_bce"] + 0.02 * h["valid_mse"], rel=1e-9)
    best = load_checkpoint(os.path.join(tmp_path, "run", "checkpoints", "best.pt"))
    assert best["best_valid_loss"] == pytest.approx(min(h["valid_loss"] for h in hist), rel=1e-9)
