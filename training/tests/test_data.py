import json
import os
import subprocess
import sys

import numpy as np
import pytest

from training.data import Dataset, DatasetFormatError, SomaTransform, WindowSource, index_dtype, spike_bins, split_sims
from training.synthetic import write_synthetic_dataset

HERE = os.path.dirname(__file__)


def test_synthetic_dataset_passes_the_numpy_checker(dataset_dir):
    out = subprocess.run([sys.executable, os.path.join(HERE, "..", "check_dataset.py"), dataset_dir],
                         capture_output=True, text=True, check=True)
    summary = json.loads(out.stdout)
    assert summary["complete"] and summary["n_segments"] == 8 and len(summary["shards"]) == 3


def test_reader_round_trip(dataset_dir):
    ds = Dataset(dataset_dir)
    assert (ds.n_segments, ds.n_rows, ds.duration_ms) == (8, 16, 700)
    assert ds.sim_indices == list(range(12))
    sims = ds.load_sims()
    # compare with the raw arrays of shard 1 (simulations 5..9)
    folder = os.path.join(dataset_dir, "shard_00001")
    rows, ms, off = (np.load(os.path.join(folder, n)) for n in ("spike_rows.npy", "spike_ms.npy", "sim_offsets.npy"))
    soma, out, out_off = (np.load(os.path.join(folder, n)) for n in ("soma_v.npy", "out_spike_times.npy", "out_spike_offsets.npy"))
    for j, k in enumerate(range(5, 10)):
        s = sims[k]
        # held in 2 bytes per index (the raster has 16 rows and 700 ms), values unchanged
        assert s.rows.dtype == np.uint16 and s.ms.dtype == np.uint16
        np.testing.assert_array_equal(s.rows, rows[off[j]:off[j + 1]])
        np.testing.assert_array_equal(s.ms, ms[off[j]:off[j + 1]])
        np.testing.assert_array_equal(s.soma_v, soma[j])
        np.testing.assert_array_equal(s.out_spikes_ms, out[out_off[j]:out_off[j + 1]])
        dense = s.dense_input(16)
        assert dense.sum() == len(s.rows) and np.all(dense[s.rows, s.ms] == 1)
    assert ds.row_description()["segments"]["tree"][:4] == ["basal"] * 4


def test_windows_match_the_raster(dataset_dir):
    ds = Dataset(dataset_dir)
    sims = ds.load_sims()
    tf = SomaTransform()
    src = WindowSource(sims, ds.n_rows, tf)
    b = src.batch([2, 7, 2], [0, 333, 500], 200)
    x = b.x.to_dense()
    assert x.shape == (3, 16, 200)
    for i, (k, t0) in enumerate([(2, 0), (7, 333), (2, 500)]):
        np.testing.assert_array_equal(x[i], sims[k].dense_input(16, t0, 200))
        np.testing.assert_array_equal(b.spike[i], sims[k].spike_target()[t0:t0 + 200])
        np.testing.assert_allclose(b.soma[i], np.minimum(sims[k].soma_v[t0:t0 + 200], -55.0) + 67.7, rtol=0, atol=1e-4)
    rng = np.random.default_rng(0)
    rb = src.random_batch(rng, 5, 200, 250)
    assert all(50 <= s <= 500 for s in rb.starts)


def test_index_dtype_switches_to_int32_past_two_bytes():
    assert index_dtype(1278) == np.uint16 and index_dtype(65536) == np.uint16
    assert index_dtype(65537) == np.int32
    assert np.iinfo(index_dtype(65536)).max == 65535


def test_targets():
    np.testing.assert_array_equal(spike_bins(np.array([0.2, 0.6, 10.49, 10.5, 10.99, 699.9]), 700), [0, 0, 9, 10, 10, 699])
    tf = SomaTransform()
    y = tf.forward(np.array([-80.0, -55.0, 30.0]))
    np.testing.assert_allclose(y, [-12.3, 12.7, 12.7], atol=1e-5)
    np.testing.assert_allclose(tf.inverse(y), [-80.0, -55.0, -55.0], atol=1e-5)


def test_split_is_deterministic_and_disjoint():
    s = split_sims(list(range(100)), 0.05, 0.1)
    assert s["test"] == list(range(90, 100)) and s["valid"] == list(range(85, 90)) and len(s["train"]) == 85
    s = split_sims(list(range(3)))
    assert [len(s[k]) for k in ("train", "valid", "test")] == [1, 1, 1]


def test_reader_rejects_other_formats(tmp_path):
    with pytest.raises(DatasetFormatError):
        Dataset(str(tmp_path))
    root = write_synthetic_dataset(str(tmp_path / "d"), n_sims=3, n_segments=2, duration_ms=50, sims_per_shard=3)
    m = json.load(open(os.path.join(root, "manifest.json")))
    m["format_version"] = 99
    json.dump(m, open(os.path.join(root, "manifest.json"), "w"))
    with pytest.raises(DatasetFormatError):
        Dataset(root)


def test_merge_two_datasets_renumbers_and_reads_every_simulation(tmp_path):
    from training.merge import merge_datasets
    from training.synthetic import write_synthetic_dataset
    from training.data import Dataset, DatasetFormatError

    a = write_synthetic_dataset(str(tmp_path / "a"), n_sims=6, n_segments=4, duration_ms=300, sims_per_shard=4, seed=1)
    b = write_synthetic_dataset(str(tmp_path / "b"), n_sims=5, n_segments=4, duration_ms=300, sims_per_shard=4, seed=2)
    m = merge_datasets([a, b], str(tmp_path / "ab"))
    ds = Dataset(str(tmp_path / "ab"))
    assert ds.sim_indices == list(range(11)) and m["definition"]["count"] == 11
    merged = ds.load_sims()
    da, db = Dataset(a).load_sims(), Dataset(b).load_sims()
    # simulation 6 of the merge is simulation 0 of b
    assert (merged[6].rows == db[0].rows).all() and (merged[6].soma_v == db[0].soma_v).all()
    assert (merged[5].ms == da[5].ms).all()
    # a different cell cannot be merged
    c = write_synthetic_dataset(str(tmp_path / "c"), n_sims=2, n_segments=5, duration_ms=300, sims_per_shard=4, seed=3)
    with pytest.raises(DatasetFormatError):
        merge_datasets([a, c], str(tmp_path / "ac"))


def test_reader_verifies_shards_and_refuses_invalid_values(tmp_path):
    """Shards are checked against the manifest's sizes and SHA-256 when read; NaN voltages and
    invalid spike times are refused with the file and the index; a manifest naming one shard
    folder twice is refused."""
    d = write_synthetic_dataset(str(tmp_path / "d"), n_sims=4, n_segments=4, duration_ms=300, sims_per_shard=2, seed=5)
    soma_path = os.path.join(d, "shard_00001", "soma_v.npy")
    soma = np.load(soma_path)
    assert len(Dataset(d).load_sims()) == 4
    # a same-size edit: NaN in one sample
    soma[1, 17] = np.nan
    np.save(soma_path, soma)
    with pytest.raises(DatasetFormatError, match="SHA-256"):
        Dataset(d).load_shard(1)
    assert len(Dataset(d).load_shard(0)) == 2  # the untouched shard still reads
    with pytest.raises(DatasetFormatError, match=r"soma_v.npy: non-finite value at \[1, 17\]"):
        Dataset(d, verify=False).load_shard(1)
    # negative output spike time
    out_path = os.path.join(d, "shard_00000", "out_spike_times.npy")
    out = np.load(out_path)
    if len(out):
        out[0] = -3.0
        np.save(out_path, out)
        with pytest.raises(DatasetFormatError, match="invalid spike time"):
            Dataset(d, verify=False).load_shard(0)
    # two shard entries naming one folder
    m = json.load(open(os.path.join(d, "manifest.json")))
    m["shards"][1]["dir"] = m["shards"][0]["dir"]
    json.dump(m, open(os.path.join(d, "manifest.json"), "w"))
    with pytest.raises(DatasetFormatError, match="both name the folder"):
        Dataset(d)
