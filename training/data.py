"""Reading the neurotwin dataset format (written by the Rust side, `src/dataset/`) and turning it
into training windows.

On disk (see `src/dataset/manifest.rs` and `shard.rs`)::

    DIR/manifest.json  (or manifest.part-I-of-N.json, one per `--shard I/N` partition)
    DIR/shard_00000/spike_rows.npy   int32 [n_spikes]  input row of each input spike
                   /spike_ms.npy     int32 [n_spikes]  1-ms bin of each input spike
                   /sim_offsets.npy  int64 [n_sims+1]  CSR offsets of the spikes per simulation
                   /soma_v.npy       float32 [n_sims, duration_ms]  soma voltage (mV) at t = 0, 1, … ms
                   /out_spike_times.npy   float64 [n_out]  output spike times (ms)
                   /out_spike_offsets.npy int64 [n_sims+1]
                   /seeds.npy        uint64 [n_sims]
                   /dend_v.npy       optional, [n_sims, n_segments, duration_ms]

Rows: 0..n_segments are excitatory inputs of the segments in `definition.segments` order (basal,
then apical, the paper's order), n_segments..2·n_segments the inhibitory inputs of the same
segments.

Targets (the paper's conventions, see `SomaTransform` and `spike_bins`):

* spike target: 1 in the 1-ms bin ``int(t − 0.5)`` of each output spike time t (ms), else 0;
* soma target: ``(min(v, −55 mV) − offset) / scale`` with offset −67.7 mV and scale 1 mV by default.

Everything a simulation needs for training is kept in memory in sparse form (a 6-s NMDA
simulation has ~90 k input spikes ≈ 0.7 MB), so windows are cut without touching the disk.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
from dataclasses import dataclass, field

import numpy as np

FORMAT = "neurotwin-dataset"
FORMAT_VERSION = 1


class DatasetFormatError(ValueError):
    """The folder is not a readable neurotwin dataset."""


# ---------------------------------------------------------------------------------------------
# targets


@dataclass(frozen=True)
class SomaTransform:
    """Somatic-voltage target: ``y = (min(v_mV, clip_mV) − offset_mV) / scale_mV``.

    The inverse (for the model's output channel 1) is ``v_mV = y · scale_mV + offset_mV``; it is
    only the clipped voltage, spikes above ``clip_mV`` are represented by the spike channel.
    Paper: clip at −55 mV, offset −67.7 mV (the resting level of the paper's cell), scale 1.
    """

    clip_mV: float = -55.0
    offset_mV: float = -67.7
    scale_mV: float = 1.0

    def forward(self, v_mV: np.ndarray) -> np.ndarray:
        """Voltage (mV) → target units."""
        return ((np.minimum(v_mV, self.clip_mV) - self.offset_mV) / self.scale_mV).astype(np.float32)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        """Target units → clipped voltage (mV)."""
        return (np.asarray(y, dtype=np.float64) * self.scale_mV + self.offset_mV)

    def to_json(self) -> dict:
        return {
            "clip_max_mV": self.clip_mV,
            "offset_mV": self.offset_mV,
            "scale_mV": self.scale_mV,
            "forward": "y = (min(v_mV, clip_max_mV) - offset_mV) / scale_mV",
            "inverse": "v_mV = y * scale_mV + offset_mV",
        }


SPIKE_BINNING = "output spike at t ms -> bin int(t - 0.5) (truncation, the paper's rule), clamped to [0, duration_ms - 1]"


def index_dtype(n: int) -> type:
    """The narrowest unsigned-or-int32 dtype that holds indices 0..n-1 (rows or ms of a raster)."""
    return np.uint16 if n <= 65536 else np.int32


def spike_bins(times_ms: np.ndarray, duration_ms: int) -> np.ndarray:
    """1-ms bins of output spike times (ms): ``int(t − 0.5)`` (truncation toward 0), clamped to
    ``[0, duration_ms − 1]`` (see `SPIKE_BINNING`)."""
    t = np.asarray(times_ms, dtype=np.float64)
    b = np.trunc(t - 0.5).astype(np.int64)
    return np.clip(b, 0, max(duration_ms - 1, 0))


# ---------------------------------------------------------------------------------------------
# the dataset folder


@dataclass
class Simulation:
    """One simulation in sparse form. ``rows``/``ms`` are the input spikes (sorted by row, then
    ms, as written); ``soma_v`` is mV at 1-ms steps; ``out_spikes_ms`` the output spike times."""

    seed: int
    rows: np.ndarray  # uint16 (int32 past 65535 rows) [n_spikes]
    ms: np.ndarray  # uint16 (int32 past 65535 ms) [n_spikes]
    soma_v: np.ndarray  # float32 [duration_ms]
    out_spikes_ms: np.ndarray  # float64 [n_out]
    dend_v: np.ndarray | None = None  # [n_segments, duration_ms] mV (memory-mapped), if loaded

    def dense_input(self, n_rows: int, start: int = 0, length: int | None = None) -> np.ndarray:
        """Dense binary raster float32 [n_rows, length] of the window [start, start + length) ms."""
        length = len(self.soma_v) - start if length is None else length
        x = np.zeros((n_rows, length), dtype=np.float32)
        sel = (self.ms >= start) & (self.ms < start + length)
        x[self.rows[sel], self.ms[sel] - start] = 1.0
        return x

    def spike_target(self) -> np.ndarray:
        """float32 [duration_ms]: 1 in the bin of each output spike."""
        y = np.zeros(len(self.soma_v), dtype=np.float32)
        y[spike_bins(self.out_spikes_ms, len(self.soma_v))] = 1.0
        return y


class Dataset:
    """A dataset folder (all partition manifests merged; only finished shards are used).

    Attributes: ``definition`` (the manifest's dataset definition), ``n_segments``, ``n_rows``
    (= 2·n_segments), ``duration_ms``, ``shards`` (finished shard entries, by index).
    """

    def __init__(self, root: str, verify: bool = True):
        self.root = root
        # each shard's files are checked against the manifest's sizes and SHA-256 when read
        self.verify = verify
        paths = sorted(glob.glob(os.path.join(root, "manifest.json")) + glob.glob(os.path.join(root, "manifest.part-*.json")))
        if not paths:
            raise DatasetFormatError(f"{root}: no manifest.json or manifest.part-*.json")
        manifests = []
        for p in paths:
            with open(p) as f:
                m = json.load(f)
            if m.get("format") != FORMAT or m.get("format_version") != FORMAT_VERSION:
                raise DatasetFormatError(f"{p}: format {m.get('format')} v{m.get('format_version')}, expected {FORMAT} v{FORMAT_VERSION}")
            manifests.append(m)
        self.manifest = manifests[0]
        self.definition = manifests[0]["definition"]
        for p, m in zip(paths[1:], manifests[1:]):
            if m["definition"] != self.definition:
                raise DatasetFormatError(f"{p}: describes a different dataset than {paths[0]}")
        self.shards: dict[int, dict] = {}
        dirs: dict[str, int] = {}
        for p, m in zip(paths, manifests):
            for s in m["shards"]:
                if s["status"] == "done":
                    if s["index"] in self.shards and self.shards[s["index"]] != s:
                        raise DatasetFormatError(f"{p}: shard {s['index']} is listed twice, differently")
                    d = os.path.normpath(s["dir"])
                    if dirs.get(d, s["index"]) != s["index"]:
                        raise DatasetFormatError(f"{p}: shards {dirs[d]} and {s['index']} both name the folder {s['dir']}")
                    dirs[d] = s["index"]
                    self.shards[s["index"]] = s
        self.n_segments = int(self.definition["n_segments"])
        self.n_rows = 2 * self.n_segments
        self.duration_ms = int(self.definition["protocol"]["duration_ms"])

    @property
    def fingerprint(self) -> str:
        return self.definition["morphology_fingerprint"]

    @property
    def sim_indices(self) -> list[int]:
        """Global indices of the simulations in finished shards, ascending."""
        out = []
        for i in sorted(self.shards):
            s = self.shards[i]
            out.extend(range(s["first_sim"], s["first_sim"] + s["n_sims"]))
        return out

    def row_description(self) -> dict:
        """The input row order, copied from the manifest (for the model metadata)."""
        return {
            "n_rows": self.n_rows,
            "n_segments": self.n_segments,
            "rule": "row r < n_segments: excitatory synapses of segment r; row n_segments + r: inhibitory synapses of segment r",
            "segments": self.definition["segments"],
        }

    @property
    def has_dendritic(self) -> bool:
        return self.definition.get("dendritic_dtype") is not None

    def _read_checked(self, folder: str, entry: dict | None, name: str) -> np.ndarray:
        """One array of a shard; with ``verify``, its size and SHA-256 checked against the manifest."""
        path = os.path.join(folder, name)
        if not self.verify:
            return np.load(path)
        if entry is None:
            raise DatasetFormatError(f"{path}: the manifest lists no size and SHA-256 for it (read with verify=False to skip the check)")
        with open(path, "rb") as f:
            data = f.read(int(entry["bytes"]) + 1)
        if len(data) != int(entry["bytes"]):
            raise DatasetFormatError(f"{path}: {len(data)} bytes, the manifest says {entry['bytes']}")
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise DatasetFormatError(f"{path}: SHA-256 differs from the manifest's (the file was changed after it was written)")
        return np.load(io.BytesIO(data))

    def load_shard(self, index: int, dendritic: bool = False) -> list[Simulation]:
        """Read one finished shard; checks every file's size and SHA-256 against the manifest
        (unless the dataset was opened with ``verify=False``), the shapes and offsets, and refuses
        non-finite voltages and spike times, naming the file and the index. ``dendritic``: also
        attach the dendritic voltages (memory-mapped) when the dataset has them."""
        s = self.shards[index]
        folder = os.path.join(self.root, s["dir"])
        files = {f["name"]: f for f in s.get("files", [])}
        load = lambda name: self._read_checked(folder, files.get(name), name)  # noqa: E731
        rows, ms, off = load("spike_rows.npy"), load("spike_ms.npy"), load("sim_offsets.npy")
        soma, out, out_off = load("soma_v.npy"), load("out_spike_times.npy"), load("out_spike_offsets.npy")
        seeds = load("seeds.npy")
        n = s["n_sims"]
        if off.shape != (n + 1,) or off[0] != 0 or off[-1] != len(rows) or len(ms) != len(rows):
            raise DatasetFormatError(f"{folder}: bad sim_offsets or spike arrays")
        if soma.shape != (n, self.duration_ms) or out_off.shape != (n + 1,) or out_off[-1] != len(out):
            raise DatasetFormatError(f"{folder}: bad soma_v or output spike offsets")
        if len(rows) and (rows.min() < 0 or rows.max() >= self.n_rows or ms.min() < 0 or ms.max() >= self.duration_ms):
            raise DatasetFormatError(f"{folder}: input spike outside the raster")
        bad = np.flatnonzero(~np.isfinite(soma.reshape(-1)))
        if len(bad):
            k, t = divmod(int(bad[0]), self.duration_ms)
            raise DatasetFormatError(f"{os.path.join(folder, 'soma_v.npy')}: non-finite value at [{k}, {t}] ({len(bad)} in all)")
        bad = np.flatnonzero(~np.isfinite(out) | (out < 0))
        if len(bad):
            raise DatasetFormatError(f"{os.path.join(folder, 'out_spike_times.npy')}: invalid spike time {out[bad[0]]} at index {bad[0]}")
        dend = None
        if dendritic and os.path.exists(os.path.join(folder, "dend_v.npy")):
            dend = np.load(os.path.join(folder, "dend_v.npy"), mmap_mode="r")
            if dend.shape != (n, self.n_segments, self.duration_ms):
                raise DatasetFormatError(f"{folder}: dend_v shape {dend.shape}")
        # input spikes are most of a simulation's memory (~85 k per 6-s Hay simulation): keep
        # them in 2 bytes each where the raster allows, so a campaign holds twice the simulations
        rows, ms = rows.astype(index_dtype(self.n_rows)), ms.astype(index_dtype(self.duration_ms))
        sims = []
        for k in range(n):
            a, b = off[k], off[k + 1]
            sims.append(Simulation(
                seed=int(seeds[k]),
                rows=rows[a:b].copy(),
                ms=ms[a:b].copy(),
                soma_v=soma[k].astype(np.float32),
                out_spikes_ms=out[out_off[k]:out_off[k + 1]].astype(np.float64),
                dend_v=None if dend is None else dend[k],
            ))
        return sims

    def load_sims(self, sim_indices: list[int] | None = None, dendritic: bool = False) -> dict[int, Simulation]:
        """Load simulations by global index (all finished ones if None)."""
        want = None if sim_indices is None else set(sim_indices)
        out = {}
        for i in sorted(self.shards):
            s = self.shards[i]
            idx = range(s["first_sim"], s["first_sim"] + s["n_sims"])
            if want is not None and not want.intersection(idx):
                continue
            for k, sim in zip(idx, self.load_shard(i, dendritic)):
                if want is None or k in want:
                    out[k] = sim
        return out


@dataclass
class DendriticPCA:
    """Principal components of the dendritic voltages (the paper's optional third head predicts
    the projections). ``mean`` [n_segments] mV, ``components`` [n_pcs, n_segments] (orthonormal
    rows); target = components · (v − mean), in mV."""

    mean: np.ndarray
    components: np.ndarray

    @staticmethod
    def fit(sims: list[Simulation], n_pcs: int, samples_per_sim: int = 500, seed: int = 0) -> "DendriticPCA":
        """Fit on ``samples_per_sim`` random ms of each simulation (SVD of the centred samples)."""
        rng = np.random.default_rng(seed)
        rows = []
        for s in sims:
            t = np.sort(rng.choice(s.dend_v.shape[1], size=min(samples_per_sim, s.dend_v.shape[1]), replace=False))
            rows.append(np.asarray(s.dend_v[:, t], dtype=np.float64).T)
        x = np.concatenate(rows)
        mean = x.mean(axis=0)
        _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
        if n_pcs > vt.shape[0]:
            raise ValueError(f"{n_pcs} components requested, at most {vt.shape[0]} available")
        return DendriticPCA(mean=mean.astype(np.float32), components=vt[:n_pcs].astype(np.float32))

    def project(self, dend_v: np.ndarray) -> np.ndarray:
        """[n_segments, T] mV → [n_pcs, T]."""
        return (self.components @ (np.asarray(dend_v, dtype=np.float32) - self.mean[:, None])).astype(np.float32)


def split_sims(sim_indices: list[int], valid_fraction: float = 0.05, test_fraction: float = 0.1) -> dict[str, list[int]]:
    """Deterministic split by simulation: the last ``test_fraction`` of the simulations (by global
    index) are the test set, the ``valid_fraction`` before them the validation set, the rest is
    for training. Each held-out set has at least one simulation when there are ≥ 3."""
    s = sorted(sim_indices)
    n = len(s)
    n_test = max(1, round(n * test_fraction)) if n >= 3 else 0
    n_valid = max(1, round(n * valid_fraction)) if n >= 3 else 0
    n_train = n - n_test - n_valid
    if n_train < 1:
        raise ValueError(f"{n} simulations are too few to split")
    return {"train": s[:n_train], "valid": s[n_train:n_train + n_valid], "test": s[n_train + n_valid:]}


# ---------------------------------------------------------------------------------------------
# batches


@dataclass
class SparseInput:
    """A batch of binary input windows in embedding-bag form: bag ``b·length + t`` (window b,
    ms t) holds the rows active at that ms; ``rows`` lists them bag after bag and ``offsets`` [B·T]
    is where each bag starts. Equivalent to the dense (B, n_rows, length) 0/1 tensor."""

    rows: np.ndarray  # int64 [n_active]
    offsets: np.ndarray  # int64 [batch·length]
    batch: int
    length: int
    n_rows: int

    def to_dense(self) -> np.ndarray:
        """float32 [batch, n_rows, length]."""
        x = np.zeros((self.batch, self.n_rows, self.length), dtype=np.float32)
        counts = np.diff(np.append(self.offsets, len(self.rows)))
        bag = np.repeat(np.arange(self.batch * self.length), counts)
        x[bag // self.length, self.rows, bag % self.length] = 1.0
        return x


@dataclass
class Batch:
    """Inputs and targets of B windows of `length` ms. ``spike`` and ``soma`` are float32
    [B, length] (soma in target units, see `SomaTransform`)."""

    x: SparseInput
    spike: np.ndarray
    soma: np.ndarray
    dend: np.ndarray | None = None  # float32 [B, n_pcs, length] if the source has a `DendriticPCA`
    sims: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)


class WindowSource:
    """Cuts windows out of in-memory simulations and builds `Batch`es.

    Targets are precomputed per simulation; a window is [start, start + length) ms.
    """

    def __init__(self, sims: dict[int, Simulation], n_rows: int, transform: SomaTransform,
                 dend_pca: DendriticPCA | None = None):
        self.sims = sims
        self.n_rows = n_rows
        self.transform = transform
        self.ids = sorted(sims)
        self.duration_ms = len(next(iter(sims.values())).soma_v) if sims else 0
        self._spike = {k: s.spike_target() for k, s in sims.items()}
        self._soma = {k: transform.forward(s.soma_v) for k, s in sims.items()}
        self._dend = {k: dend_pca.project(s.dend_v) for k, s in sims.items()} if dend_pca is not None else None
        # per simulation, spikes sorted by (ms, row) so a window is one contiguous slice
        self._by_time = {}
        for k, s in sims.items():
            self._by_time[k] = self._time_sorted(s)

    @staticmethod
    def _time_sorted(s: Simulation) -> tuple[np.ndarray, np.ndarray]:
        """The input spikes sorted by (ms, row), in the simulation's own compact dtypes."""
        order = np.lexsort((s.rows, s.ms))
        return s.ms[order], s.rows[order]

    def add(self, sims: dict[int, Simulation]) -> None:
        """Take more simulations (e.g. shards that a running `neurotwin dataset` finished since
        training started); ids already present are replaced."""
        if self._dend is not None:
            raise ValueError("a source with a dendritic PCA cannot grow")
        for k, s in sims.items():
            if self.duration_ms and len(s.soma_v) != self.duration_ms:
                raise ValueError(f"simulation {k}: {len(s.soma_v)} ms, the source's are {self.duration_ms} ms")
            self.duration_ms = len(s.soma_v)
            self.sims[k] = s
            self._spike[k] = s.spike_target()
            self._soma[k] = self.transform.forward(s.soma_v)
            self._by_time[k] = self._time_sorted(s)
        self.ids = sorted(self.sims)

    def remove(self, ids) -> None:
        """Drop simulations (a rolling buffer of live ones)."""
        for k in ids:
            for d in (self.sims, self._spike, self._soma, self._by_time):
                d.pop(k, None)
        self.ids = sorted(self.sims)

    def batch(self, sims: list[int], starts: list[int], length: int) -> Batch:
        """The windows [starts[i], starts[i] + length) of simulations sims[i]."""
        rows_all, bags_all = [], []
        for b, (k, t0) in enumerate(zip(sims, starts)):
            ms, rows = self._by_time[k]
            lo, hi = np.searchsorted(ms, t0), np.searchsorted(ms, t0 + length)
            rows_all.append(rows[lo:hi])
            bags_all.append(b * length + ms[lo:hi].astype(np.int64) - t0)
        rows = np.concatenate(rows_all).astype(np.int64) if rows_all else np.zeros(0, np.int64)
        bags = np.concatenate(bags_all).astype(np.int64) if bags_all else np.zeros(0, np.int64)
        counts = np.bincount(bags, minlength=len(sims) * length)
        offsets = np.zeros(len(sims) * length, dtype=np.int64)
        np.cumsum(counts[:-1], out=offsets[1:])
        x = SparseInput(rows=rows, offsets=offsets, batch=len(sims), length=length, n_rows=self.n_rows)
        spike = np.stack([self._spike[k][t0:t0 + length] for k, t0 in zip(sims, starts)])
        soma = np.stack([self._soma[k][t0:t0 + length] for k, t0 in zip(sims, starts)])
        dend = None
        if self._dend is not None:
            dend = np.stack([self._dend[k][:, t0:t0 + length] for k, t0 in zip(sims, starts)])
        return Batch(x=x, spike=spike, soma=soma, dend=dend, sims=list(sims), starts=list(starts))

    def start_range(self, length: int, ignore_ms: int) -> tuple[int, int]:
        """Inclusive range of window starts: windows end at ≥ ignore_ms (the paper samples window
        ends in [500, duration) ms) and lie inside the simulation."""
        hi = self.duration_ms - length
        if hi < 0:
            raise ValueError(f"window {length} ms is longer than the simulations ({self.duration_ms} ms)")
        return min(max(0, ignore_ms - length), hi), hi

    def random_batch(self, rng: np.random.Generator, batch_size: int, length: int, ignore_ms: int) -> Batch:
        """The paper's sampling: a random simulation (with replacement) and a random window."""
        lo, hi = self.start_range(length, ignore_ms)
        sims = [self.ids[i] for i in rng.integers(0, len(self.ids), size=batch_size)]
        starts = [int(s) for s in rng.integers(lo, hi + 1, size=batch_size)]
        return self.batch(sims, starts, length)

    def fixed_batches(self, batch_size: int, length: int, ignore_ms: int, per_sim: int = 4) -> list[Batch]:
        """A deterministic set of windows (``per_sim`` evenly spaced per simulation), for validation."""
        lo, hi = self.start_range(length, ignore_ms)
        pairs = [(k, int(t)) for k in self.ids for t in np.linspace(lo, hi, per_sim).round().astype(int)]
        return [self.batch([p[0] for p in pairs[i:i + batch_size]], [p[1] for p in pairs[i:i + batch_size]], length)
                for i in range(0, len(pairs), batch_size)]
