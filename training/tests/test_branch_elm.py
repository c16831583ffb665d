"""The Branch-ELM (`training/branch_elm.py`): the published model against the independent NumPy
reference, the fast training path against the stepwise definition, the export round trip and
the campaign's bookkeeping."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from training import elm_reference
from training.branch_elm import PUBLISHED_CONFIG, BranchELM, exp_filter, load_published, routing

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PUBLISHED = os.path.normpath(os.path.join(REPO, "..", "shared", "peer-models", "elm-best"))
PUBLISHED_KEYS = {"_proto_w_s": [4500], "tau_s": [4500], "_proto_tau_m": [100], "input_to_synapse_indices": [4500],
                  "valid_indices_mask": [4500], "mlp.network.0.weight": [200, 145], "mlp.network.0.bias": [200],
                  "mlp.network.2.weight": [100, 200], "mlp.network.2.bias": [100], "w_y.weight": [2, 100], "w_y.bias": [2]}
SMALL = {"num_input": 16, "num_branch": 4, "num_synapse_per_branch": 5, "num_memory": 8, "num_output": 2,
         "mlp_activation": "silu", "memory_tau_min": 1.0, "memory_tau_max": 150.0, "learn_memory_tau": False,
         "input_to_synapse_routing": "neuronio_routing"}


def _published_folder() -> str:
    if not os.path.exists(os.path.join(PUBLISHED, "neuronio_best_model_state.pt")):
        pytest.fail(f"the published Branch-ELM is missing: expected {PUBLISHED}/neuronio_best_model_state.pt and "
                    "model_config.json (../shared/peer-models/elm-best relative to the repository)")
    return PUBLISHED


def _sparse_input(rows: int, t_len: int, density: float = 0.01, seed: int = 0, batch: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).random((batch, rows, t_len)) < density).astype(np.float32)


def test_published_config_parameters_and_keys():
    m = BranchELM(PUBLISHED_CONFIG)
    assert m.n_parameters() == 54_002
    assert {k: list(v.shape) for k, v in m.state_dict().items()} == PUBLISHED_KEYS
    idx, valid = routing(1278, 45, 100, "neuronio_routing")
    interlock = [(i % 2) * 639 + i // 2 for i in range(1278)]
    for k in (0, 99, 100, 2900, 4499):
        b, j = divmod(k, 100)
        p = b * 29 + j
        assert bool(valid[k]) == (p < 1278) and int(idx[k]) == interlock[min(p, 1277)]


def test_published_model_matches_numpy_reference():
    folder = _published_folder()
    model = load_published(folder)  # load_state_dict(strict=True)
    with open(os.path.join(folder, "model_config.json")) as f:
        cfg = json.load(f)
    x = _sparse_input(1278, 400, seed=1)
    ref = elm_reference.forward(elm_reference.load_state(os.path.join(folder, "neuronio_best_model_state.pt")), cfg, x)
    with torch.no_grad():
        step = model.forward_stepwise(torch.from_numpy(x)).numpy()
        s, v = model(torch.from_numpy(x))
    fast = torch.stack([s, v], 1).numpy()
    assert np.abs(step - ref).max() < 1e-4
    assert np.abs(fast - ref).max() < 1e-4
    assert np.abs(ref).max() > 0.1  # not a trivial output


def test_exp_filter_is_the_recurrence():
    z = torch.randn(3, 123, 5, dtype=torch.float64)
    s, want = torch.zeros(3, 5, dtype=torch.float64), []
    for t in range(123):
        s = 0.8187 * s + z[:, t]
        want.append(s)
    for chunk in (7, 50, 200):
        assert torch.allclose(exp_filter(z, 0.8187, chunk), torch.stack(want, 1), atol=1e-12)


@pytest.mark.parametrize("config", [SMALL, dict(SMALL, mlp_num_layers=2, mlp_activation="relu")])
def test_fast_path_equals_stepwise_with_gradients(config):
    torch.manual_seed(0)
    m = BranchELM(config)
    with torch.no_grad():
        for p in m.parameters():
            if p.dtype.is_floating_point and p.requires_grad:
                p.add_(torch.randn_like(p) * 0.3)
    x = torch.from_numpy(_sparse_input(16, 90, density=0.2, seed=2, batch=3))
    s, v = m(x)
    step = m.forward_stepwise(x)
    assert torch.allclose(s, step[:, 0], atol=1e-5) and torch.allclose(v, step[:, 1], atol=1e-5)
    g_fast = torch.autograd.grad((s.sum() + v.sum()), [m._proto_w_s, m.mlp.network[0].weight])
    g_step = torch.autograd.grad(step.sum(), [m._proto_w_s, m.mlp.network[0].weight])
    for a, b in zip(g_fast, g_step):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-4)


def test_sparse_input_equals_dense():
    from training.data import SparseInput
    from training.model import SparseBatch

    torch.manual_seed(1)
    m = BranchELM(SMALL)
    x = _sparse_input(16, 60, density=0.1, seed=3, batch=2)
    b, r, t = np.nonzero(x)
    bag = b * 60 + t
    order = np.argsort(bag, kind="stable")
    counts = np.bincount(bag, minlength=120)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    sp = SparseBatch.from_numpy(SparseInput(r[order].astype(np.int64), offsets, 2, 60, 16))
    with torch.no_grad():
        assert torch.allclose(torch.stack(m(sp), 1), torch.stack(m(torch.from_numpy(x)), 1), atol=1e-6)


def test_train_export_round_trip(dataset_dir, tmp_path):
    from training.cli import main

    cfg_path = tmp_path / "small.json"
    cfg_path.write_text(json.dumps(SMALL))
    run, out = str(tmp_path / "run"), str(tmp_path / "models" / "tiny-elm")
    assert main(["train", "--arch", "branch-elm", "--elm-config", str(cfg_path), "--data", dataset_dir, "--out", run,
                 "--epochs", "2", "--steps-per-epoch", "3", "--batch-size", "4", "--window-ms", "200", "--burn-in-ms", "50",
                 "--ignore-ms", "250"]) == 0
    run_cfg = json.load(open(os.path.join(run, "config.json")))
    assert run_cfg["optimizer"] == "adam" and run_cfg["schedule"] == "cosine" and run_cfg["burn_in_ms"] == 50
    assert run_cfg["soma_transform"]["scale_mV"] == 10.0
    assert main(["export", "--run", run, "--out", out]) == 0
    folder = tmp_path / "models"
    assert sorted(os.listdir(folder)) == ["tiny-elm.json", "tiny-elm.model_config.json", "tiny-elm.parity.input.npy",
                                          "tiny-elm.parity.output.npy", "tiny-elm.pt"]
    meta = json.load(open(folder / "tiny-elm.json"))
    assert meta["model_file"] == "tiny-elm.pt" and meta["window_ms"] == 150
    assert meta["network"]["kind"] == "elm" and meta["network"]["config_file"] == "tiny-elm.model_config.json"
    assert meta["network"]["input_convention"] == "neuronio_signed"
    assert [c["kind"] for c in meta["output"]["channels"]] == ["logit", "soma_target"]
    soma = meta["target_transforms"]["soma"]
    assert (soma["clip_max_mV"], soma["offset_mV"], soma["scale_mV"]) == (-55.0, -67.7, 10.0)
    assert {"0.0025", "0.01", "count"} <= set(meta["spike_thresholds"])
    cm = meta["spike_thresholds"]["count"]
    assert cm["kind"] == "count_matched" and cm["predicted_spikes"] >= cm["true_spikes"] and cm["fpr_target"] == cm["fpr_achieved"]
    assert meta["input_rows"]["n_rows"] == 16 and meta["parity"]["passed"]

    model_cfg = json.load(open(folder / "tiny-elm.model_config.json"))
    for k in list(PUBLISHED_CONFIG) + ["lambda_value", "mlp_num_layers", "mlp_hidden_size", "tau_s_value", "delta_t"]:
        assert k in model_cfg, k
    sd = torch.load(folder / "tiny-elm.pt", map_location="cpu", weights_only=True)
    m = BranchELM(model_cfg)
    m.load_state_dict(sd, strict=True)
    x, y = np.load(folder / "tiny-elm.parity.input.npy"), np.load(folder / "tiny-elm.parity.output.npy")
    assert x.dtype == np.float32 and x.shape == (1, 16, 300) and y.dtype == np.float32 and y.shape == (1, 2, 300)
    assert set(np.unique(x)) <= {0.0, 1.0}
    with torch.no_grad():
        assert np.abs(m.forward_stepwise(torch.from_numpy(x)).numpy() - y).max() < 1e-5
    # the NumPy reference's command line reproduces the parity output
    ref_out = tmp_path / "ref.npy"
    subprocess.run([sys.executable, os.path.join(REPO, "training", "elm_reference.py"), "--state", str(folder / "tiny-elm.pt"),
                    "--config", str(folder / "tiny-elm.model_config.json"), "--input", str(folder / "tiny-elm.parity.input.npy"),
                    "--out", str(ref_out)], check=True, capture_output=True)
    assert np.abs(np.load(ref_out) - y).max() < 1e-4


def test_campaign_piece_ledger_and_seed_rules(tmp_path):
    from training import campaign
    from training.synthetic import write_synthetic_dataset

    d = {s: write_synthetic_dataset(str(tmp_path / f"d{s}"), n_sims=4, n_segments=8, duration_ms=1000, sims_per_shard=2, seed=s)
         for s in (7101, 4002, 4003)}
    ck, ledger = str(tmp_path / "ck.pt"), str(tmp_path / "campaign.json")
    kw = {"checkpoint": ck, "ledger_path": ledger, "log": lambda *_: None}
    with pytest.raises(SystemExit, match="fixed validation/test seed"):
        campaign.start_piece([d[4003]], d[4002], "+5", **kw)
    piece = campaign.start_piece([d[7101]], d[4002], "+10", reserve_s=1.0, **kw)
    assert piece["steps"] > 0 and piece["status"] == "running" and os.path.getsize(ck) < 40e6
    entry = campaign.finish_piece(d[4003], out=str(tmp_path / "models" / "cand"), **kw)
    assert entry["piece"] == 1 and entry["total_sims_seen"] == 4 and entry["test"]["auc"] is not None
    assert [s["purpose"] for s in entry["seeds"]] == ["train", "valid", "test"]
    for k in ("date_utc", "git_commit", "host_cpu", "cores_used", "sims_added", "steps_piece", "steps_total", "wall_s_piece",
              "cpu_s_piece", "valid_auc_end", "test", "notes"):
        assert k in entry, k
    saved_ledger = json.load(open(ledger))
    assert saved_ledger["pieces"][0]["piece"] == 1 and saved_ledger["model"] == "cand"
    assert saved_ledger["fixed_sets"] == {"valid": {"base_seed": 4002, "sims": 4}, "test": {"base_seed": 4003, "sims": 4}}
    # the committed checkpoint names datasets, not the machine's paths to them
    done = torch.load(ck, map_location="cpu", weights_only=False)
    assert done["piece"]["status"] == "finished" and done["piece"]["data"] == ["d7101"]
    assert os.sep not in done["piece"]["valid_data"] and os.sep not in done["train_config"]["data"]
    with pytest.raises(SystemExit, match="already in the ledger"):
        campaign.start_piece([d[7101]], d[4002], "+5", **kw)
    with pytest.raises(SystemExit, match="no finished training simulations"):  # all 4 used already
        campaign.start_piece([d[7101]], d[4002], "+5", new_sims_only=True, **kw)


def test_a_resumed_piece_takes_a_new_seeds_folder_but_not_a_used_or_missing_one(tmp_path):
    from training import campaign
    from training.synthetic import write_synthetic_dataset

    def ds(seed, name=None):
        return write_synthetic_dataset(str(tmp_path / (name or f"d{seed}")), n_sims=4, n_segments=8, duration_ms=1000,
                                       sims_per_shard=2, seed=seed)

    d = {s: ds(s) for s in (7101, 7102, 4002, 4003)}
    twin_of_7102 = ds(7102, "again7102")
    ck, ledger = str(tmp_path / "ck.pt"), str(tmp_path / "campaign.json")
    kw = {"checkpoint": ck, "ledger_path": ledger, "log": lambda *_: None}
    piece = campaign.start_piece([d[7101]], d[4002], "+6", reserve_s=1.0, **kw)
    steps_before = piece["steps"]
    assert steps_before > 0
    with pytest.raises(SystemExit, match="same --data"):  # a folder of the piece left out
        campaign.start_piece([d[7102]], d[4002], "+3", **kw)
    piece = campaign.start_piece([d[7101], d[7102]], d[4002], "+6", reserve_s=1.0, **kw)
    assert piece["steps"] > steps_before
    assert [a["dataset"] for a in piece["data_added"]] == ["d7102"] and piece["data_added"][0]["at_piece_step"] == steps_before
    assert set(piece["sims_trained"]) == {d[7101], d[7102]} and campaign._expand(piece["sims_trained"][d[7102]]) == [0, 1, 2, 3]
    with pytest.raises(SystemExit, match="already one of piece 1"):  # the same seed under another name
        campaign.start_piece([d[7101], d[7102], twin_of_7102], d[4002], "+3", **kw)
    entry = campaign.finish_piece(d[4003], out=str(tmp_path / "models" / "cand"), **kw)
    train = {s["dataset"]: s for s in entry["seeds"] if s["purpose"] == "train"}
    assert entry["sims_added"] == 8 and train["d7102"]["joined_at_piece_step"] == steps_before
    assert "joined_at_piece_step" not in train["d7101"]
    done = torch.load(ck, map_location="cpu", weights_only=False)
    assert done["piece"]["data"] == ["d7101", "d7102"] and done["piece"]["data_added"][0]["dataset"] == "d7102"


def test_replayed_simulations_no_piece_trained_on_count_as_new(tmp_path):
    """A --replay folder that grew after its piece stopped (the simulation ran on) holds
    simulations no piece trained on: the ledger counts those as new training simulations of
    their seed, not as replay, so the totals stay true and no later piece takes them as new."""
    from training import campaign
    from training.synthetic import write_synthetic_dataset

    def ds(seed, n, name):
        return write_synthetic_dataset(str(tmp_path / name), n_sims=n, n_segments=8, duration_ms=1000, sims_per_shard=2, seed=seed)

    first, grown = ds(7101, 2, "c1"), ds(7101, 4, "c1-grown")
    new, valid, test = ds(7102, 4, "c2"), ds(4002, 4, "val"), ds(4003, 4, "test")
    ck, ledger = str(tmp_path / "ck.pt"), str(tmp_path / "campaign.json")
    kw = {"checkpoint": ck, "ledger_path": ledger, "log": lambda *_: None}
    campaign.start_piece([first], valid, "+4", reserve_s=1.0, **kw)
    e1 = campaign.finish_piece(test, out=str(tmp_path / "models" / "cand"), **kw)
    assert e1["sims_added"] == 2 and e1["total_sims_seen"] == 2
    campaign.start_piece([new], valid, "+6", reserve_s=1.0, replay=[grown], **kw)
    e2 = campaign.finish_piece(test, out=str(tmp_path / "models" / "cand"), **kw)
    by = {(s["dataset"], s["purpose"]): s for s in e2["seeds"]}
    assert by[("c1-grown", "replay")]["sim_ranges"] == [[0, 1]]
    assert by[("c1-grown", "train")]["sim_ranges"] == [[2, 3]] and by[("c1-grown", "train")]["base_seed"] == 7101
    assert by[("c2", "train")]["sims"] == 4
    assert e2["sims_added"] == 6 and e2["total_sims_seen"] == 8
    assert campaign.used_seeds(json.load(open(ledger)))[7101] == {0, 1, 2, 3}


def test_the_deadline_after_midnight_is_tomorrows_and_a_passed_or_bad_one_is_refused():
    import datetime as dt

    from training.campaign import _deadline

    late = dt.datetime(2026, 12, 7, 23, 0, 30, tzinfo=dt.timezone.utc)
    assert _deadline("00:40", late) == dt.datetime(2026, 12, 8, 0, 40, tzinfo=dt.timezone.utc)
    assert _deadline("23:30", late) == dt.datetime(2026, 12, 7, 23, 30, tzinfo=dt.timezone.utc)
    assert _deadline("+90", late) == late + dt.timedelta(seconds=90)
    assert _deadline("+0", late) == late  # validate and save at once
    with pytest.raises(SystemExit, match="already passed"):  # 5 minutes ago, not tomorrow's
        _deadline("22:55", late)
    for bad in ("25:00", "7pm", "12:30:00", "+soon", "+-5", "+nan"):
        with pytest.raises(SystemExit, match="--until"):
            _deadline(bad, late)


def test_the_weight_average_moves_towards_the_weights_and_copies_integer_buffers():
    from training.campaign import ema_update

    ema = {"w": torch.zeros(3), "n": torch.tensor(0)}
    state = {"w": torch.ones(3), "n": torch.tensor(7)}
    ema_update(ema, state, 0.5)
    ema_update(ema, state, 0.5)
    assert torch.allclose(ema["w"], torch.full((3,), 0.75)) and int(ema["n"]) == 7
    assert torch.equal(state["w"], torch.ones(3)), "the weights are not touched"


def test_a_campaign_piece_validates_its_weight_average_and_resumes_it(tmp_path):
    from training import campaign
    from training.synthetic import write_synthetic_dataset

    d = {s: write_synthetic_dataset(str(tmp_path / f"d{s}"), n_sims=4, n_segments=8, duration_ms=1000, sims_per_shard=2, seed=s)
         for s in (7101, 4002)}
    ck, ledger = str(tmp_path / "ck.pt"), str(tmp_path / "campaign.json")
    kw = {"checkpoint": ck, "ledger_path": ledger, "log": lambda *_: None}
    with pytest.raises(SystemExit, match="ema-decay"):
        campaign.start_piece([d[7101]], d[4002], "+5", ema_decay=1.0, **kw)
    piece = campaign.start_piece([d[7101]], d[4002], "+10", reserve_s=1.0, ema_decay=0.9, **kw)
    assert piece["ema_decay"] == 0.9 and piece["ema_since_piece_step"] == 0 and piece["steps"] > 1
    saved = torch.load(ck, map_location="cpu", weights_only=False)
    end = saved["piece"]["valid_history"][-1]
    assert end["ema"]["auc"] is not None and end["ema"]["n_sims"] == end["n_sims"]
    # the average differs from the trained weights after more than one step, and the best model
    # is whichever of the two validated higher
    assert any(not torch.equal(saved["ema"][k], saved["model"][k]) for k in saved["model"])
    scores = [(h["auc"], "weights") for h in saved["history"]] + [(h["ema"]["auc"], "ema") for h in saved["history"]]
    assert saved["best"]["auc"] == max(a for a, _ in scores) and saved["best"]["source"] in ("weights", "ema")
    # resumed, the piece continues the saved average (it starts from it, not from the weights)
    before = {k: v.clone() for k, v in saved["ema"].items()}
    campaign.start_piece([d[7101]], d[4002], "+0", reserve_s=0.0, ema_decay=0.9, **kw)
    again = torch.load(ck, map_location="cpu", weights_only=False)
    assert again["piece"]["ema_since_piece_step"] == 0
    assert all(torch.equal(again["ema"][k], before[k]) for k in before), "no step taken: the saved average is kept as it was"


def test_init_from_a_twin_of_another_cell_keeps_its_weights_and_this_cells_routing(tmp_path):
    """The built-in cell's campaign (1282 rows) starts from the Hay twin (1278): same shapes, so
    the learnt weights carry over, but the routing is the new model's own."""
    from training import campaign
    from training.branch_elm import BranchELM
    from training.synthetic import write_synthetic_dataset

    def ds(name, seed, segments):
        return write_synthetic_dataset(str(tmp_path / name), n_sims=4, n_segments=segments, duration_ms=1000, sims_per_shard=2,
                                       seed=seed)

    quiet = {"log": lambda *_: None}
    a = {"checkpoint": str(tmp_path / "a.pt"), "ledger_path": str(tmp_path / "a.json"), **quiet}
    campaign.start_piece([ds("a7101", 7101, 50)], ds("a4002", 4002, 50), "+10", reserve_s=1.0, **a)
    b = {"checkpoint": str(tmp_path / "b.pt"), "ledger_path": str(tmp_path / "b.json"), **quiet}
    campaign.start_piece([ds("b6101", 6101, 52)], ds("b6002", 6002, 52), "+0", reserve_s=0.0, init_from=a["checkpoint"], **b)
    src = torch.load(a["checkpoint"], map_location="cpu", weights_only=False)["best"]["model"]
    got = torch.load(b["checkpoint"], map_location="cpu", weights_only=False)["model"]
    own = BranchELM(campaign.campaign_train_config([], "", 104).model).state_dict()
    for k, v in got.items():
        if k in campaign.ROUTING_BUFFERS:
            assert torch.equal(v, own[k]), k
        else:
            assert torch.equal(v, src[k]), k
    # 100 rows → ⌈100/45⌉ = 3 per branch, 104 → 3 as well, but the interlock differs (row r of a
    # segment's pair reads exc row r/2 or inh row N/2 + r/2)
    assert not torch.equal(got["input_to_synapse_indices"], src["input_to_synapse_indices"])


def test_published_model_on_the_neuron_reference_needs_the_input_sign():
    """The published model on the NEURON reference trace of the paper's input (seed 1003, 6 s):
    with the authors' input sign (+1 excitatory, −1 inhibitory rows) it predicts the Hay cell
    (AUC 0.988, soma RMSE 0.88 mV); on the unsigned 0/1 raster it fails (AUC 0.21)."""
    from training import metrics

    folder = _published_folder()
    path = os.path.normpath(os.path.join(REPO, "..", "shared", "reference", "paper_input_nmda_seed1003.json"))
    if not os.path.exists(path):
        pytest.fail(f"missing NEURON reference {path}")
    d = json.load(open(path))
    t_len = int(d["sim"]["tstop"])
    x = np.zeros((1, 1278, t_len), np.float32)
    for s in d["synapses"]:
        t = np.asarray(s["spikes_ms"], float).astype(int)
        x[0, s["paper_seg_index"] + (0 if s["kind"] == "exc" else 639), t[t < t_len]] = 1.0
    y = np.zeros(t_len)
    y[(np.asarray(d["results"]["spike_times_ms"]) - 0.5).astype(int)] = 1.0
    v = np.asarray(d["results"]["soma_v"])[::int(round(1 / d["recording"]["soma_dt_ms"]))][:t_len]
    model = load_published(folder)
    with torch.no_grad():
        s, soma = model(torch.from_numpy(x))
    auc = metrics.roc_auc(y[500:], s[0, 500:].numpy())
    rmse = np.sqrt(np.mean((np.minimum(v[500:], -55.0) - (soma[0, 500:].numpy() / 0.1 - 67.7)) ** 2))
    assert auc > 0.98 and rmse < 1.0, (auc, rmse)
    unsigned = BranchELM(dict(json.load(open(os.path.join(folder, "model_config.json"))), input_sign="none"))
    unsigned.load_state_dict(model.state_dict())
    with torch.no_grad():
        s2, _ = unsigned(torch.from_numpy(x))
    assert metrics.roc_auc(y[500:], s2[0, 500:].numpy()) < 0.5


def test_branch_elm_run_resumes_exactly(dataset_dir, tmp_path):
    from training.branch_elm import BranchELMConfig
    from training.train import TrainConfig, load_checkpoint, train

    def cfg():
        return TrainConfig(data=dataset_dir, model=BranchELMConfig(SMALL).to_json(), epochs=4, steps_per_epoch=3, batch_size=4,
                           window_ms=200, ignore_ms=250, burn_in_ms=50, valid_windows_per_sim=2, seed=5, threads=1,
                           optimizer="adam", schedule="cosine", lr_min=1e-5, stages=[[0.0, 3e-3, 0.5, 0.5]],
                           soma_transform={"clip_mV": -55.0, "offset_mV": -67.7, "scale_mV": 10.0})

    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    quiet = lambda *_: None  # noqa: E731
    train(cfg(), a, log=quiet)
    train(cfg(), b, max_epochs_this_run=2, log=quiet)
    train(cfg(), b, resume=True, log=quiet)
    ca, cb = (load_checkpoint(os.path.join(r, "checkpoints", "last.pt")) for r in (a, b))
    assert ca["epoch"] == cb["epoch"] == 3 and ca["scheduler"] == cb["scheduler"]
    for k, v in ca["model"].items():
        assert torch.equal(v, cb["model"][k]), k
    lrs = [e["lr"] for e in ca["history"]]
    assert lrs[0] == 3e-3 and lrs == sorted(lrs, reverse=True)


def test_campaign_init_from_another_campaign_and_variant_check(tmp_path):
    """An AMPA campaign starts from the NMDA campaign's best model (--init-from), and a piece whose
    training and validation data use different input protocols is refused."""
    from training import campaign
    from training.synthetic import write_synthetic_dataset

    def ds(seed, variant):
        root = write_synthetic_dataset(str(tmp_path / f"{variant}{seed}"), n_sims=4, n_segments=8, duration_ms=1000,
                                       sims_per_shard=2, seed=seed)
        path = os.path.join(root, "manifest.json")
        m = json.load(open(path))
        m["definition"]["protocol"]["variant"] = variant
        json.dump(m, open(path, "w"))
        return root

    quiet = {"log": lambda *_: None}
    nmda = {"checkpoint": str(tmp_path / "nmda.pt"), "ledger_path": str(tmp_path / "nmda.json"), **quiet}
    campaign.start_piece([ds(7101, "nmda")], ds(4002, "nmda"), "+10", reserve_s=1.0, **nmda)
    source = torch.load(nmda["checkpoint"], map_location="cpu", weights_only=False)
    ampa = {"checkpoint": str(tmp_path / "ampa.pt"), "ledger_path": str(tmp_path / "ampa.json"), **quiet}
    with pytest.raises(SystemExit, match="the ampa protocol, the validation data .* the nmda one"):
        campaign.start_piece([ds(7201, "ampa")], str(tmp_path / "nmda4002"), "+3", init_from=nmda["checkpoint"], **ampa)
    assert not os.path.exists(ampa["checkpoint"]), "nothing written for a refused piece"
    # a 0-minute piece: the AMPA campaign's first model is the NMDA campaign's best, weight for weight
    campaign.start_piece([str(tmp_path / "ampa7201")], ds(4012, "ampa"), "+0", reserve_s=0.0, init_from=nmda["checkpoint"], **ampa)
    started = torch.load(ampa["checkpoint"], map_location="cpu", weights_only=False)
    assert started["piece"]["init_from"] == "nmda.pt"
    best = source["best"]["model"] if source["best"]["model"] is not None else source["model"]
    for k, v in best.items():
        assert torch.equal(started["model"][k], v), k
    # once the campaign has a checkpoint, --init-from is refused (it would throw the model away)
    with pytest.raises(SystemExit, match="--init-from starts a new campaign"):
        campaign.start_piece([str(tmp_path / "ampa7201")], str(tmp_path / "ampa4012"), "+3", init_from=nmda["checkpoint"], **ampa)
