import numpy as np

from training.baselines import Logistic, exp_filter, features, filtered_score, input_counts, run_baselines
from training.data import Dataset, Simulation


def test_exp_filter_is_the_causal_recursion():
    x = np.zeros(50)
    x[10] = 1.0
    y = exp_filter(x, 5.0)
    assert np.all(y[:10] == 0)
    np.testing.assert_allclose(y[10:20], np.exp(-np.arange(10) / 5.0), rtol=1e-12)


def test_input_counts_split_trees_and_kinds():
    # 2 segments: segment 0 basal, 1 apical; rows 0,1 excitatory, 2,3 inhibitory
    sim = Simulation(seed=0, rows=np.array([0, 1, 1, 2, 3, 3, 3], np.int32), ms=np.array([0, 1, 1, 2, 3, 3, 4], np.int32),
                     soma_v=np.zeros(5, np.float32), out_spikes_ms=np.zeros(0))
    c = input_counts(sim, 2, np.array([True, False]), 5)
    np.testing.assert_array_equal(c, [[1, 0, 0, 0, 0], [0, 2, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 2, 1]])
    assert features(c).shape == (2 * 4 * 6, 5)
    np.testing.assert_allclose(filtered_score(c, 1e9), np.cumsum(c[0] + c[1] - c[2] - c[3]), atol=1e-7)


def test_logistic_regression_recovers_a_separable_rule():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(3, 4000))
    y = (f[0] - 0.5 * f[1] > 0.8).astype(np.float32)
    m = Logistic().fit([f], [y])
    s = m.score(f)
    assert ((s > 0) == (y > 0.5)).mean() > 0.97


def test_baselines_on_the_synthetic_dataset(dataset_dir):
    # the synthetic cell fires when its filtered net input is high: both baselines must rank well
    out = run_baselines(Dataset(dataset_dir), Dataset(dataset_dir), ignore_ms=250, log=lambda *_: None)
    assert out["n_spike_bins"] > 0
    assert out["filtered"]["spikes"]["auc"] > 0.7
    assert out["logistic"]["spikes"]["auc"] > 0.7
