"""Shared fixtures: a tiny synthetic dataset (16 input rows, 700-ms simulations) and a tiny
trained run. Everything runs single-threaded on the CPU in seconds."""

import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from training.model import ModelConfig  # noqa: E402
from training.synthetic import write_synthetic_dataset  # noqa: E402
from training.train import TrainConfig, train  # noqa: E402

torch.set_num_threads(1)

N_SEGMENTS = 8
DURATION = 700


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory):
    return write_synthetic_dataset(str(tmp_path_factory.mktemp("data") / "ds"), n_sims=12, n_segments=N_SEGMENTS,
                                   duration_ms=DURATION, sims_per_shard=5, seed=3)


def tiny_config(data: str, epochs: int = 3, lr: float = 3e-3, steps: int = 8) -> TrainConfig:
    """A small fast run: 3 layers × 8 channels, kernels [9, 5, 5] (window 17 ms), 200-ms windows."""
    m = ModelConfig.build(2 * N_SEGMENTS, 3, 8, [9, 5, 5])
    return TrainConfig(data=data, model=m.to_json(), epochs=epochs, steps_per_epoch=steps, batch_size=4,
                       window_ms=200, ignore_ms=250, valid_windows_per_sim=2, seed=7, threads=1,
                       stages=[[0.0, lr, 1.0, 0.02], [0.5, lr / 3, 2.0, 0.01]])


@pytest.fixture(scope="session")
def trained_run(dataset_dir, tmp_path_factory):
    run = str(tmp_path_factory.mktemp("run") / "r")
    train(tiny_config(dataset_dir, epochs=3), run, log=lambda *_: None)
    return run
