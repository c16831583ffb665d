import numpy as np
import pytest

from training import metrics


def test_auc_perfect_and_inverted():
    y = np.array([0, 0, 1, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.8, 0.3, 0.9, 0.7])
    assert metrics.roc_auc(y, s) == 1.0
    assert metrics.roc_auc(y, -s) == 0.0


def test_auc_random_is_about_half():
    rng = np.random.default_rng(0)
    y = rng.random(200_000) < 0.01
    assert abs(metrics.roc_auc(y, rng.random(y.size)) - 0.5) < 0.02


def test_auc_hand_computed():
    # positives 0.35, 0.8; negatives 0.1, 0.4: of 4 pairs, 3 are ordered correctly -> 0.75
    assert metrics.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    # a tie between a positive and a negative counts one half: pairs (p 0.5 vs n 0.5) = 0.5, (p 0.5 vs n 0.2) = 1
    assert metrics.roc_auc([1, 0, 0], [0.5, 0.5, 0.2]) == pytest.approx(0.75)
    fpr, tpr, thr = metrics.roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(thr, [np.inf, 0.8, 0.4, 0.35, 0.1])


def test_auc_matches_pair_counting():
    rng = np.random.default_rng(3)
    y = rng.random(400) < 0.2
    s = np.round(rng.normal(size=400) + y, 1)  # rounded: many ties
    pos, neg = s[y], s[~y]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert metrics.roc_auc(y, s) == pytest.approx(pairs, abs=1e-12)


def test_tpr_at_fpr():
    # 1000 negatives with scores 0..999, 10 positives at 995.5, 997.5, 1000..1007
    neg = np.arange(1000.0)
    pos = np.array([995.5, 997.5] + list(np.arange(1000.0, 1008.0)))
    y = np.r_[np.zeros(1000), np.ones(10)]
    s = np.r_[neg, pos]
    m = metrics.spike_metrics(y, s, fprs=(0.0025, 0.01))
    # FPR ≤ 0.25 %: at most 2 negatives (998, 999) above the threshold -> threshold 997.5, 9 of 10 positives
    assert m["at_fpr"]["0.0025"] == {"tpr": 0.9, "fpr": 0.002, "threshold": 997.5}
    assert m["at_fpr"]["0.01"]["tpr"] == 1.0 and m["at_fpr"]["0.01"]["fpr"] <= 0.01


def test_soma_metrics():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    m = metrics.soma_metrics(t, t)
    assert m["rmse_mV"] == 0 and m["explained_variance"] == 1
    # an affine-distorted prediction is perfect after the paper's rescaling
    m = metrics.soma_metrics(t, 3 * t - 7)
    assert m["rmse_mV"] > 1 and m["rmse_rescaled_mV"] == pytest.approx(0, abs=1e-12)
    assert m["explained_variance_rescaled"] == pytest.approx(1)
    # explained variance ignores a constant offset, RMSE does not
    m = metrics.soma_metrics(t, t + 1)
    assert m["explained_variance"] == pytest.approx(1) and m["rmse_mV"] == pytest.approx(1)
    assert metrics.explained_variance([1, 2, 3, 4], [1, 2, 3, 5]) == pytest.approx(1 - np.var([0, 0, 0, -1]) / np.var([1, 2, 3, 4]))


def test_jsonable_removes_non_finite_values():
    d = metrics.jsonable({"a": float("inf"), "b": [np.float32(1.5), float("nan")], "c": {"d": np.int64(3)}})
    assert d == {"a": None, "b": [1.5, None], "c": {"d": 3}}


def test_auc_by_tercile_of_excitatory_input():
    from training.data import Simulation, SomaTransform
    from training.evaluate import paper_metrics

    # 3 simulations with 1, 2 and 3 excitatory inputs (rows < 2) plus inhibitory ones; spikes at
    # 30.2 ms (bin 29) in each; the score ranks bin 29 first in sims 0 and 2 and last in sim 1
    sims, logits = {}, np.zeros((3, 40), np.float32)
    for k in range(3):
        rows = np.array([0] * (k + 1) + [3] * 5, np.int32)
        sims[k] = Simulation(seed=k, rows=rows, ms=np.zeros(len(rows), np.int32), soma_v=np.full(40, -70.0, np.float32),
                             out_spikes_ms=np.array([30.2]))
        logits[k] = np.linspace(0, 1, 40)
        logits[k, 29] = -1.0 if k == 1 else 5.0
    m = paper_metrics(sims, [0, 1, 2], logits, np.zeros((3, 40), np.float32), SomaTransform(), ignore_ms=10, n_segments=2)
    t = m["by_exc_input_tercile"]
    assert [x["n_sims"] for x in t] == [1, 1, 1]
    assert [x["exc_inputs_per_sim"] for x in t] == [[1, 1], [2, 2], [3, 3]]
    assert [x["auc"] for x in t] == [1.0, 0.0, 1.0]
    assert "by_exc_input_tercile" not in paper_metrics(sims, [0, 1, 2], logits, np.zeros((3, 40), np.float32), SomaTransform(), ignore_ms=10)
