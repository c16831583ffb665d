import json
import os
import subprocess
import sys

import numpy as np
import onnx
import torch

from training.data import Dataset, WindowSource
from training.export import export, onnx_run
from training.train import load_model

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

REQUIRED = ["format", "format_version", "model_file", "onnx_opset", "morphology_fingerprint", "input", "input_rows", "output",
            "window_ms", "architecture", "target_transforms", "training", "metrics_held_out", "spike_thresholds", "parity"]


def test_export_parity_and_metadata(trained_run, dataset_dir, tmp_path):
    out = str(tmp_path / "models" / "tiny")
    meta = export(trained_run, out, log=lambda *_: None)
    folder = tmp_path / "models"
    assert sorted(os.listdir(folder)) == ["tiny.json", "tiny.onnx", "tiny.parity.input.npy", "tiny.parity.output.npy"]
    def strict(c):
        raise ValueError(f"non-standard JSON constant {c}")

    on_disk = json.loads(open(folder / "tiny.json").read(), parse_constant=strict)
    assert on_disk == json.loads(json.dumps(meta))
    for k in REQUIRED:
        assert k in on_disk, k
    ds = Dataset(dataset_dir)
    assert on_disk["morphology_fingerprint"] == ds.fingerprint
    assert on_disk["input_rows"]["segments"] == ds.definition["segments"]
    assert on_disk["window_ms"] == 17
    assert on_disk["target_transforms"]["soma"]["clip_max_mV"] == -55.0 and on_disk["target_transforms"]["soma"]["offset_mV"] == -67.7
    assert on_disk["output"]["channels"][0]["kind"] == "probability"
    tr = on_disk["training"]
    for k in ("train_sims", "train_sim_ms", "windows_seen", "wall_time_s", "hardware"):
        assert tr[k] is not None, k
    assert set(on_disk["spike_thresholds"]) >= {"0.0025", "0.01"}
    assert 0 <= on_disk["spike_thresholds"]["0.01"]["probability"] <= 1
    m = on_disk["metrics_held_out"]["all"]
    assert {"auc", "at_fpr"} <= set(m["spikes"]) and {"rmse_mV", "rmse_rescaled_mV", "explained_variance"} <= set(m["soma"])
    assert on_disk["parity"]["passed"] and max(on_disk["parity"]["max_abs_diff_onnxruntime_vs_torch"].values()) < 1e-4

    # the shipped parity vector reproduces with ONNX Runtime
    x = np.load(folder / "tiny.parity.input.npy")
    y = np.load(folder / "tiny.parity.output.npy")
    assert x.dtype == np.float32 and x.shape == (1, 16, 256) and y.shape == (1, 2, 256)
    assert np.abs(onnx_run(str(folder / "tiny.onnx"), x) - y).max() < 1e-4

    # graph: opset 17, no Pad nodes (causal padding lives in the Conv pads), dynamic batch and time
    g = onnx.load(str(folder / "tiny.onnx"))
    assert g.opset_import[0].version == 17
    assert "Pad" not in {n.op_type for n in g.graph.node}
    dims = g.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 16, "time"]

    # another batch size and length; and the ONNX model equals the sparse (training-time) path
    model, cfg, _ = load_model(trained_run)
    sims = ds.load_sims([10, 11])
    b = WindowSource(sims, 16, cfg.transform()).batch([10, 11], [0, 0], 700)
    with torch.no_grad():
        from training.model import SparseBatch

        s, v = model(SparseBatch.from_numpy(b.x))
    ref = torch.stack([torch.sigmoid(s), v], 1).numpy()
    assert np.abs(onnx_run(str(folder / "tiny.onnx"), b.x.to_dense()) - ref).max() < 1e-4


def test_cli_end_to_end(dataset_dir, tmp_path):
    from training.cli import main

    run, model = str(tmp_path / "run"), str(tmp_path / "m" / "net")
    assert main(["train", "--data", dataset_dir, "--out", run, "--depth", "2", "--width", "4", "--kernels", "5,3",
                 "--epochs", "2", "--steps-per-epoch", "3", "--batch-size", "2", "--window-ms", "100", "--ignore-ms", "200",
                 "--threads", "1", "--lr", "1e-3"]) == 0
    assert main(["train", "--data", dataset_dir, "--out", run, "--epochs", "3", "--steps-per-epoch", "3", "--resume", "--threads", "1"]) == 0
    assert len(open(os.path.join(run, "history.jsonl")).readlines()) == 3
    assert main(["train", "--data", dataset_dir, "--out", run, "--resume"]) == 0  # nothing left to do: 3 epochs kept
    assert len(open(os.path.join(run, "history.jsonl")).readlines()) == 3
    assert main(["evaluate", "--run", run, "--data", dataset_dir]) == 0
    ev = json.load(open(os.path.join(run, "evaluation.json")))
    assert ev["split"] == "test" and ev["all"]["n_sims"] == 1
    assert main(["export", "--run", run, "--out", model]) == 0
    assert json.load(open(model + ".json"))["architecture"]["kernels"] == [5, 3]


def test_module_help_from_repo_root():
    out = subprocess.run([sys.executable, "-m", "training", "--help"], cwd=REPO, capture_output=True, text=True, check=True)
    assert "train" in out.stdout and "export" in out.stdout


def test_training_can_start_from_an_exported_twin(trained_run, dataset_dir, tmp_path):
    """--init-onnx: a model initialised from an exported ONNX file computes what that file
    computes (weights and BatchNorm statistics), and training continues from there."""
    from training.model import load_onnx_weights, model_from_json
    from training.train import read_config, train

    from .conftest import tiny_config

    out = str(tmp_path / "m" / "tiny")
    export(trained_run, out, log=lambda *_: None)
    fresh = model_from_json(read_config(trained_run).model)
    load_onnx_weights(fresh, out + ".onnx")
    fresh.eval()
    x = np.load(out + ".parity.input.npy")
    expected = np.load(out + ".parity.output.npy")
    with torch.no_grad():
        s, v = fresh(torch.from_numpy(x))
    np.testing.assert_allclose(torch.sigmoid(s).numpy(), expected[:, 0], atol=1e-5)
    np.testing.assert_allclose(v.numpy(), expected[:, 1], atol=1e-4)

    cfg = tiny_config(dataset_dir, epochs=1)
    cfg.init_onnx = out + ".onnx"
    cfg.stages = [[0.0, 1e-12, 1.0, 0.02]]  # lr ~0: the weights must stay those of the file
    lines = []
    train(cfg, str(tmp_path / "cont"), log=lines.append)
    assert any(line.startswith("weights from") for line in lines)
    cont, _, _ = load_model(str(tmp_path / "cont"), "last")
    for name, p in fresh.named_parameters():
        torch.testing.assert_close(dict(cont.named_parameters())[name], p)

    wrong = model_from_json(tiny_config(dataset_dir).model | {"widths": [4, 4, 4]})
    try:
        load_onnx_weights(wrong, out + ".onnx")
    except ValueError as e:
        assert "shape" in str(e)
    else:
        raise AssertionError("a model of another width must be refused")
