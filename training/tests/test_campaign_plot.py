"""The campaign's learning curve (``python -m training campaign plot``)."""

import os

import pytest

from training.campaign import LEDGER, learning_curve, load_ledger, plot_learning_curve


def _piece(n, sims, valid, test, tpr1, second=None, shipped=True):
    p = {"piece": n, "total_sims_seen": sims, "steps_total": 1000 * n, "valid_best": {"auc": valid, "step": 10 * n},
         "test": {"auc": test, "tpr_at_0.25%_fpr": tpr1 / 2, "tpr_at_1%_fpr": tpr1, "soma_rmse_mV": 0.7}}
    if second is not None:
        p["test_second_fresh_set"] = {"auc": second}
    if shipped:
        p["shipped_as"] = "models/x"
    return p


def test_the_learning_curve_takes_one_point_per_piece_from_the_ledger(tmp_path):
    ledger = {"model": "m", "fixed_sets": {"test": {"base_seed": 4003}},
              "pieces": [_piece(1, 700, 0.989, 0.986, 0.54, second=0.9861), _piece(2, 2800, 0.992, 0.9898, 0.66, shipped=False)],
              "references": [{"name": "published", "test": {"auc": 0.9922, "tpr_at_1%_fpr": 0.741}},
                             {"name": "no TPR", "test": {"auc": 0.95}}],
              "targets": {"auc": 0.993, "tpr_at_1%_fpr": 0.8}}
    pts = learning_curve(ledger)
    assert [p["sims_seen"] for p in pts] == [700, 2800]
    assert [p["test_auc"] for p in pts] == [0.986, 0.9898]
    assert [p["valid_best_auc"] for p in pts] == [0.989, 0.992]
    assert [p["second_auc"] for p in pts] == [0.9861, None]
    assert [p["test_tpr_1pct"] for p in pts] == [0.54, 0.66]
    assert [p["shipped"] for p in pts] == [True, False]
    png = str(tmp_path / "curve.png")
    plot_learning_curve(ledger, png)
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SystemExit, match="no finished piece"):
        plot_learning_curve({"pieces": []}, str(tmp_path / "empty.png"))
    assert not os.path.exists(tmp_path / "empty.png")


def test_the_committed_ledgers_carry_a_curve_references_and_targets():
    for name in ("campaign.json", "campaign-builtin.json"):
        ledger = load_ledger(os.path.join(os.path.dirname(LEDGER), name))
        pts = learning_curve(ledger)
        assert pts, name
        sims = [p["sims_seen"] for p in pts]
        assert sims == sorted(sims) and len(set(sims)) == len(sims), (name, sims)
        assert all(0.5 < p["test_auc"] < 1 for p in pts), name
        assert ledger["targets"]["auc"] == 0.993 and ledger["targets"]["tpr_at_1%_fpr"] == 0.80
        assert ledger["references"] and all(0.5 < r["test"]["auc"] < 1 for r in ledger["references"]), name
