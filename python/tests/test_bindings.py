"""neurotwin's Python bindings against its command line and NEURON's reference runs.

Run by `cargo test --release --features python-suites` (tests/python_bindings.rs installs the
bindings with `pip install ./python` first and sets NEUROTWIN_BIN to the built executable), or by
hand: `NEUROTWIN_BIN=target/release/neurotwin python3 -m pytest python/tests`.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import neurotwin as nt

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
BIN = os.environ.get("NEUROTWIN_BIN", str(REPO / "target" / "release" / "neurotwin"))
SYNTH_SWC = REPO / "morphologies" / "l5pc-synthetic.swc"
HAY_ASC = SHARED / "morphologies" / "cell1.asc"
HAY_JSON = SHARED / "morphologies" / "cell1_neuron_geometry.json"
SYNTH_TWIN = REPO / "models" / "l5pc-synthetic-tcn.json"
HAY_TWIN = REPO / "models" / "l5pc-hay-nmda.json"


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([BIN, *args], capture_output=True, text=True, cwd=REPO)
    if check and p.returncode != 0:
        raise AssertionError(f"neurotwin {' '.join(args)} failed:\n{p.stderr}")
    return p


def read_shard(d: Path) -> dict[str, np.ndarray]:
    return {n: np.load(d / f"{n}.npy") for n in ("spike_rows", "spike_ms", "sim_offsets", "soma_v", "out_spike_times",
                                                 "out_spike_offsets", "seeds")}


@pytest.fixture(scope="module")
def synth_dataset(tmp_path_factory) -> Path:
    """A 3-simulation, 400-ms dataset of the built-in cell written by the command line."""
    out = tmp_path_factory.mktemp("data") / "synth"
    cli("--morphology", str(SYNTH_SWC), "dataset", "--count", "3", "--duration-ms", "400", "--seed", "77", "--out", str(out),
        "--threads", "1", "--sims-per-shard", "3", "--quiet")
    return out


def test_reference_data_present():
    assert SHARED.is_dir(), f"{SHARED} (NEURON reference data) must sit beside the project"
    assert Path(BIN).is_file(), f"the neurotwin executable {BIN} is missing (cargo build --release)"


def test_morphology_and_cell():
    m = nt.Morphology.builtin()
    info = m.info()
    assert info["sections"] == m.n_sections > 100
    assert info["total_area_um2"] > 1e4
    kinds = {k["kind"] for k in info["by_type"]}
    assert {"soma", "dend", "apic"} <= kinds
    cell = nt.Cell(m)
    assert cell.n_rows == 2 * cell.n_segments
    seg = cell.segments()
    assert len(json.dumps(seg)) > 0
    ampa = nt.Cell(m, "ampa")
    assert ampa.variant == "ampa" and cell.variant == "nmda"


def test_same_raster_and_bits_as_the_cli(synth_dataset):
    """Binding calls give bit-identical inputs, soma traces and spikes to `neurotwin dataset`."""
    sh = read_shard(synth_dataset / "shard_00000")
    cell = nt.Cell(nt.Morphology.load(SYNTH_SWC))
    rasters = [cell.paper_input(base_seed=77, index=k, duration_ms=400) for k in range(3)]
    for k, r in enumerate(rasters):
        a, b = sh["sim_offsets"][k], sh["sim_offsets"][k + 1]
        rows, ms = r.spikes()
        ours = sorted(zip(rows.tolist(), ms.tolist()))
        theirs = sorted(zip(sh["spike_rows"][a:b].tolist(), sh["spike_ms"][a:b].tolist()))
        assert ours == theirs, f"simulation {k}: the raster differs from the dataset's"
    runs = cell.simulate_many(rasters, threads=2)
    assert cell.fingerprint == json.loads((synth_dataset / "manifest.json").read_text())["definition"]["morphology_fingerprint"]
    assert [nt.derive_seed(77, k) for k in range(3)] == sh["seeds"].tolist()
    for k, run in enumerate(runs):
        v = run.soma_v_1ms_f32()
        assert v.dtype == np.float32 and v.shape == (400,)
        assert np.array_equal(v.view(np.uint32), sh["soma_v"][k].view(np.uint32)), f"simulation {k}: soma trace differs"
        a, b = sh["out_spike_offsets"][k], sh["out_spike_offsets"][k + 1]
        assert np.array_equal(run.spike_times_ms, sh["out_spike_times"][a:b])
    # one at a time gives the same bits as in parallel
    one = cell.simulate(rasters[1])
    assert np.array_equal(one.soma_v_mv, runs[1].soma_v_mv)


def test_hay_cell_same_bits_as_the_cli(tmp_path):
    """On the Hay cell (cell1.asc) under the paper's NMDA input: a 600-ms simulation, bit for bit."""
    out = tmp_path / "hay"
    cli("--morphology", str(HAY_ASC), "dataset", "--count", "1", "--duration-ms", "600", "--seed", "4242", "--out", str(out),
        "--threads", "1", "--quiet")
    sh = read_shard(out / "shard_00000")
    cell = nt.Cell(nt.Morphology.load(HAY_ASC))
    assert cell.n_rows == 1278
    run = cell.simulate(cell.paper_input(base_seed=4242, index=0, duration_ms=600))
    assert np.array_equal(run.soma_v_1ms_f32(), sh["soma_v"][0])
    assert np.array_equal(run.spike_times_ms, sh["out_spike_times"][sh["out_spike_offsets"][0]:sh["out_spike_offsets"][1]])


def test_golden_case_replays_as_in_rust(tmp_path):
    """A golden case replayed through Python equals `neurotwin replay --out` bit for bit, and
    agrees with NEURON within the reference README's tolerance."""
    case = SHARED / "reference" / "step_current_0p8nA.json"
    out = tmp_path / "replayed.json"
    cli("--morphology", str(HAY_JSON), "replay", str(case), "--out", str(out))
    rust = json.loads(out.read_text())["results"]
    r = nt.replay(case, nt.Morphology.load(HAY_JSON))
    assert np.array_equal(r["soma_v_mv"], np.array(rust["soma_v"]))
    assert np.array_equal(r["spike_times_ms"], np.array(rust["spike_times_ms"]))
    c = r["comparison"]
    assert c["spikes_ours"] == c["spikes_reference"] > 0
    assert c["soma_rmse_mv"] < 1.0
    assert c["worst_spike_dt_ms"] < 0.5


def test_adhoc_simulate_matches_the_cli(tmp_path):
    """nt.simulate with a clamp and a synapse equals `neurotwin simulate` with the same options."""
    prefix = tmp_path / "run"
    cli("--morphology", str(HAY_JSON), "simulate", "--tstop-ms", "200", "--iclamp", "soma[0],0.5,50,100,1.0",
        "--syn", "exc,apic[40],0.5,20;22;24", "--record", "apic[40],0.5", "--out", str(prefix))
    arr = np.load(str(prefix) + ".npy")
    r = nt.simulate(nt.Morphology.load(HAY_JSON), 200.0, iclamps=[("soma[0]", 0.5, 50.0, 100.0, 1.0)],
                    synapses=[("exc", "apic[40]", 0.5, [20.0, 22.0, 24.0])], record=[("apic[40]", 0.5)])
    assert np.array_equal(r["soma_v_mv"], arr[:, 1])
    assert np.array_equal(r["sites_v_mv"][0], arr[:, 2])
    spikes = [float(x) for x in Path(str(prefix) + ".spikes.txt").read_text().split()]
    assert r["spike_times_ms"].tolist() == spikes and len(spikes) >= 2


def test_sampling_and_segments():
    cell = nt.Cell(nt.Morphology.builtin())
    r = cell.paper_input(5, duration_ms=100)
    fine = cell.simulate(r, sample_ms=0.1, record_segments=True)
    coarse = cell.simulate(r, sample_ms=1.0)
    assert fine.soma_v_mv.shape == (1001,) and coarse.soma_v_mv.shape == (101,)
    assert np.array_equal(fine.soma_v_mv[::10], coarse.soma_v_mv)
    assert fine.segment_v_mv.shape == (cell.n_segments, 1001)
    assert np.allclose(fine.t_ms()[-1], 100.0)
    with pytest.raises(nt.NeurotwinError, match="sample_ms"):
        cell.simulate(r, sample_ms=0.03)


def test_own_rasters():
    cell = nt.Cell(nt.Morphology.builtin())
    dense = np.zeros((cell.n_rows, 200), dtype=bool)
    dense[10, 50:60] = True
    r = nt.Raster.from_dense(dense)
    assert r.n_spikes == 10 and np.array_equal(r.dense().astype(bool), dense)
    rows, ms = r.spikes()
    r2 = nt.Raster.from_spikes(rows.astype(np.int64), ms.astype(np.int64), cell.n_rows, 200)
    assert np.array_equal(r2.dense(), r.dense())
    assert cell.simulate(r).soma_v_mv.shape == (201,)


def test_gil_released_while_simulating():
    """Another Python thread keeps running while a simulation runs."""
    cell = nt.Cell(nt.Morphology.builtin())
    r = cell.paper_input(9, duration_ms=1500)
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    t = threading.Thread(target=tick)
    t.start()
    t0 = time.perf_counter()
    cell.simulate(r)
    t1 = time.perf_counter()
    done.set()
    t.join()
    during = [x for x in ticks if t0 < x < t1]
    # ~one tick per 5 ms while the engine runs; with the GIL held there would be none
    assert len(during) >= 0.25 * (t1 - t0) / 0.005, (len(during), t1 - t0)


def test_twin_predict_evaluate_attribute(synth_dataset, tmp_path):
    twin = nt.Twin.load(SYNTH_TWIN)
    assert twin.n_rows == 1282 and not twin.recurrent
    cell = nt.Cell(nt.Morphology.builtin())
    r = cell.paper_input(base_seed=77, index=0, duration_ms=400)
    pred = twin.predict(r)
    assert pred.spike_probability.shape == (400,) and pred.soma_v_mv.shape == (400,)
    assert np.all((pred.spike_probability >= 0) & (pred.spike_probability <= 1))
    # evaluate equals the command line's evaluate on the same dataset
    out = tmp_path / "eval.json"
    cli("evaluate", "--model", str(SYNTH_TWIN), "--data", str(synth_dataset), "--out", str(out), "--ignore-ms", "100")
    ours = twin.evaluate(synth_dataset, ignore_ms=100)
    theirs = json.loads(out.read_text())
    assert ours["all"]["soma"] == theirs["all"]["soma"]
    assert ours["all"]["auc"] == theirs["all"]["auc"] and ours["all"]["at_fpr"] == theirs["all"]["at_fpr"]
    assert ours["all"]["n_bins"] == theirs["all"]["n_bins"] == 3 * 300
    # attribution: rows ranked by their score
    t = int(np.argmax(pred.spike_probability[200:])) + 200
    a = twin.attribute(cell, r, t, top=10)
    scores = [s["score"] for s in a["ranking"]]
    assert len(scores) == 10 and scores == sorted(scores, reverse=True)
    assert a["t_ms"] == t and 0 <= a["probability"] <= 1
    assert twin.threshold() == twin.threshold(0.0025) > twin.threshold(0.01) > 0  # no count-matched one in its metadata
    with pytest.raises(nt.NeurotwinError, match="count-matched"):
        twin.threshold("count")
    hay = nt.Twin.load(HAY_TWIN)
    assert hay.threshold() == hay.threshold("count") == hay.metadata()["spike_thresholds"]["count"]["probability"]


def test_hay_twin_metrics_on_a_simulation():
    """The Hay twin (ELM) on 2 s of the paper's input: predicted with the metrics computed."""
    cell = nt.Cell(nt.Morphology.load(HAY_ASC))
    twin = nt.Twin.load(HAY_TWIN)
    assert twin.recurrent
    r = cell.paper_input(base_seed=4003, index=0, duration_ms=2000)
    run = cell.simulate(r)
    pred = twin.predict(r)
    m = nt.metrics(run.spike_times_ms, run.soma_v_mv[:2000], pred)
    assert m["n_bins"] == 1500
    assert m["soma"]["rmse_mv"] < 3.0
    if m["n_spike_bins"]:
        assert m["auc"] > 0.9
    spikes = pred.spike_times_ms(twin.threshold())
    assert np.all(np.diff(spikes) > 0)


@pytest.mark.parametrize("call, message", [
    (lambda: nt.Morphology.load("/nonexistent/cell.swc"), "loading morphology /nonexistent/cell.swc"),
    (lambda: nt.Cell(nt.Morphology.builtin(), "gaba"), "variant \"gaba\""),
    (lambda: nt.Cell(nt.Morphology.builtin()).paper_input(1, base_seed=2, index=0), "give seed, or base_seed and index"),
    (lambda: nt.Raster.from_dense(np.zeros((3, 10))), "2 rows (exc, inh) per dendritic segment"),
    (lambda: nt.Raster.from_dense(np.zeros(10)), "2-D array"),
    (lambda: nt.Raster.from_spikes(np.array([3]), np.array([20]), 4, 10), "ms[0] = 20"),
    (lambda: nt.simulate(nt.Morphology.builtin(), float("nan")), "tstop_ms = NaN is not finite"),
    (lambda: nt.simulate(nt.Morphology.builtin(), 10.0, synapses=[("ampa", "dend[0]", 0.5, [1.0])]), "kind \"ampa\""),
    (lambda: nt.Twin.load("/nonexistent/model.onnx"), "loading model /nonexistent/model.onnx"),
    (lambda: nt.Twin.load(SYNTH_TWIN).threshold(float("inf")), "not finite"),
])
def test_bad_input_raises(call, message):
    with pytest.raises(nt.NeurotwinError) as e:
        call()
    assert message in str(e.value)


def test_errors_carry_the_cli_message(tmp_path):
    bad = tmp_path / "bad.swc"
    bad.write_text("1 1 0 0 0 5 -1\n2 3 zero 0 0 1 1\n")
    p = cli("--morphology", str(bad), "dataset", "--count", "1", "--duration-ms", "100", "--out", str(tmp_path / "o"), check=False)
    assert p.returncode != 0
    with pytest.raises(nt.NeurotwinError) as e:
        nt.Morphology.load(bad)
    assert str(e.value) in p.stderr


def test_wrong_rows_raise_not_crash():
    cell = nt.Cell(nt.Morphology.builtin())
    twin = nt.Twin.load(HAY_TWIN)
    r = cell.paper_input(1, duration_ms=50)
    with pytest.raises(nt.NeurotwinError):
        twin.predict(r)
    hay = nt.Cell(nt.Morphology.load(HAY_ASC))
    with pytest.raises(nt.NeurotwinError, match="segments"):
        hay.simulate(r)
    with pytest.raises(nt.NeurotwinError):
        nt.Twin.load(SYNTH_SWC)


def test_for_cell_takes_the_twin_of_the_cells_protocol():
    """The Hay cell with AMPA+NMDA synapses gets our NMDA twin, AMPA-only its AMPA twin (both
    shipped in models/; the published ELM, when installed, is NMDA-only and never the default)."""
    morph = nt.Morphology.load(HAY_ASC)
    nmda = nt.Twin.for_cell(nt.Cell(morph, "nmda"), REPO / "models")
    ampa = nt.Twin.for_cell(nt.Cell(morph, "ampa"), REPO / "models")
    assert nmda.name == "l5pc-hay-nmda"
    assert ampa.name == "l5pc-hay-ampa"
    assert ampa.metadata()["dataset_protocol"]["variant"] == "ampa"
    # the synthetic cell has no AMPA twin: its AMPA cell gets the NMDA one
    synth = nt.Morphology.load(SYNTH_SWC)
    assert nt.Twin.for_cell(nt.Cell(synth, "ampa"), REPO / "models").name == "l5pc-synthetic-nmda"
