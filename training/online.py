"""Training fed live: simulations of the paper's input on fresh seeds, run by neurotwin's Python
bindings (``import neurotwin``, ``pip install ./python``) in background threads while the optimiser
trains, so no dataset is written.

The bindings release the GIL while they simulate, so a worker thread runs the engine on one core
while the main thread runs PyTorch on another. Simulation ``k`` uses the input seed
``derive_seed(base_seed, k)``: exactly simulation ``k`` of ``neurotwin dataset --seed base_seed``
(the bindings' tests check this bit for bit), so the campaign ledger records online simulations as
seed ranges like any other.

Throughput is measured, not assumed: simulations per CPU-minute of the workers (their own thread
CPU time) and the fraction of the optimiser's wall time spent waiting for simulations (it waits
when it has taken ``steps_per_sim`` steps per simulation received, so each simulation is used a
bounded number of times).
"""

from __future__ import annotations

import queue
import threading
import time

import numpy as np

from .data import Simulation


def _bindings():
    try:
        import neurotwin
    except ImportError as e:  # pragma: no cover - the message is the point
        raise SystemExit("online training needs neurotwin's Python bindings: python3 -m pip install ./python "
                         f"(from the project root) ({e})")
    return neurotwin


class OnlineSimulations:
    """Simulates ``derive_seed(base_seed, k)`` for k = first_index, first_index + 1, … in
    ``threads`` background threads, at most ``ahead`` finished simulations waiting."""

    def __init__(self, morphology: str, base_seed: int, duration_ms: int = 6000, variant: str = "nmda", threads: int = 1,
                 ahead: int = 8, first_index: int = 0, skip: set[int] | None = None):
        nt = _bindings()
        self.nt = nt
        morph = nt.Morphology.builtin() if morphology == "builtin" else nt.Morphology.load(morphology)
        self.cell = nt.Cell(morph, variant)
        self.base_seed, self.duration_ms = int(base_seed), int(duration_ms)
        self.queue: queue.Queue = queue.Queue(maxsize=max(1, ahead))
        self._next = int(first_index)
        self._skip = skip or set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.cpu_s = 0.0  # summed thread CPU of the workers (simulating and converting)
        self.done = 0
        self.errors: list[str] = []
        self.t0 = time.time()
        self._threads = [threading.Thread(target=self._work, name=f"neurotwin-sim-{i}", daemon=True) for i in range(max(1, threads))]
        for t in self._threads:
            t.start()

    @property
    def n_rows(self) -> int:
        return self.cell.n_rows

    @property
    def fingerprint(self) -> str:
        return self.cell.fingerprint

    def _take_index(self) -> int:
        with self._lock:
            while self._next in self._skip:
                self._next += 1
            k = self._next
            self._next += 1
            return k

    def simulate_one(self, k: int) -> Simulation:
        """Simulation ``k`` in the training package's form (what a dataset shard would hold)."""
        raster = self.cell.paper_input(base_seed=self.base_seed, index=k, duration_ms=self.duration_ms)
        run = self.cell.simulate(raster)
        rows, ms = raster.spikes()
        return Simulation(seed=int(self.nt.derive_seed(self.base_seed, k)), rows=rows, ms=ms, soma_v=run.soma_v_1ms_f32(),
                          out_spikes_ms=np.asarray(run.spike_times_ms, dtype=np.float64))

    def _work(self) -> None:
        while not self._stop.is_set():
            k = self._take_index()
            c0 = time.thread_time()
            try:
                sim = self.simulate_one(k)
            except Exception as e:  # a bindings error: reported by take(), never silently dropped
                self.errors.append(f"simulation {k} (seed base {self.base_seed}): {e}")
                self._stop.set()
                return
            with self._lock:
                self.cpu_s += time.thread_time() - c0
                self.done += 1
            while not self._stop.is_set():
                try:
                    self.queue.put((k, sim), timeout=0.5)
                    break
                except queue.Full:
                    continue

    def take(self, at_least: int = 0, timeout_s: float | None = None) -> list[tuple[int, Simulation]]:
        """Every finished simulation waiting; blocks until ``at_least`` are there."""
        out = []
        deadline = None if timeout_s is None else time.time() + timeout_s
        while True:
            if self.errors:
                raise RuntimeError(self.errors[0])
            try:
                if len(out) < at_least:
                    left = None if deadline is None else max(0.0, deadline - time.time())
                    out.append(self.queue.get(timeout=0.5 if left is None else min(0.5, left)))
                else:
                    out.append(self.queue.get_nowait())
            except queue.Empty:
                if len(out) >= at_least or (deadline is not None and time.time() >= deadline):
                    return out

    def sims_per_cpu_min(self) -> float:
        return 60.0 * self.done / self.cpu_s if self.cpu_s > 0 else 0.0

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)


class OnlineFeed:
    """The optimiser's side: moves finished simulations into a `WindowSource` (keeping at most
    ``buffer_sims``, oldest out first) and makes the optimiser wait when it is ``steps_per_sim``
    steps per simulation ahead of the simulators."""

    def __init__(self, sims: OnlineSimulations, src, steps_per_sim: float, buffer_sims: int, tag: str = "online"):
        self.sims, self.src, self.tag = sims, src, tag
        self.steps_per_sim, self.buffer_sims = float(steps_per_sim), int(buffer_sims)
        self.received: list[int] = []
        self.wait_s = 0.0
        self.t0 = time.time()
        self.steps = 0

    def _add(self, got) -> None:
        if not got:
            return
        self.src.add({(self.tag, k): s for k, s in got})
        self.received.extend(k for k, _ in got)
        online_ids = [i for i in self.src.ids if i[0] == self.tag]
        if len(online_ids) > self.buffer_sims:
            self.src.remove(sorted(online_ids, key=lambda i: i[1])[: len(online_ids) - self.buffer_sims])

    def before_step(self) -> None:
        """Take what is finished; wait while the optimiser is too far ahead."""
        self._add(self.sims.take())
        while self.steps >= self.steps_per_sim * max(1, len(self.received)) or not self.src.ids:
            t = time.time()
            self._add(self.sims.take(at_least=1, timeout_s=5.0))
            self.wait_s += time.time() - t
        self.steps += 1

    def wait_fraction(self) -> float:
        wall = time.time() - self.t0
        return self.wait_s / wall if wall > 0 else 0.0

    def summary(self) -> dict:
        return {"sims_received": len(self.received), "sims_per_worker_cpu_min": round(self.sims.sims_per_cpu_min(), 2),
                "optimizer_wait_fraction": round(self.wait_fraction(), 4), "steps": self.steps,
                "steps_per_sim": self.steps_per_sim, "buffer_sims": self.buffer_sims, "worker_cpu_s": round(self.sims.cpu_s, 1)}
