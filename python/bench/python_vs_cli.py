"""What the Python bindings cost over the command line on the paper's 6-s simulation.

    python3 python/bench/python_vs_cli.py [--morphology ../shared/morphologies/cell1.asc] [--sims 3] [--rounds 3]

Each round runs the same simulations (`neurotwin dataset --seed S`, one thread) once through the
executable and once through `import neurotwin` in a fresh interpreter, alternating, and takes each
child's whole-process CPU time (getrusage of the children: start-up, loading the cell, generating
the input, simulating; the executable also writes its shards). Prints the medians and the ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PY = """
import sys, neurotwin as nt
cell = nt.Cell(nt.Morphology.load(sys.argv[1]))
for k in range(int(sys.argv[3])):
    cell.simulate(cell.paper_input(base_seed=int(sys.argv[2]), index=k, duration_ms=6000))
"""


def child_cpu(cmd: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--morphology", default=str(REPO.parent / "shared" / "morphologies" / "cell1.asc"))
    ap.add_argument("--bin", default=os.environ.get("NEUROTWIN_BIN", str(REPO / "target" / "release" / "neurotwin")))
    ap.add_argument("--sims", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=5151)
    a = ap.parse_args()
    cli, py = [], []
    for r in range(a.rounds):
        with tempfile.TemporaryDirectory() as d:
            cli.append(child_cpu([a.bin, "--morphology", a.morphology, "dataset", "--count", str(a.sims), "--duration-ms", "6000",
                                  "--seed", str(a.seed), "--out", os.path.join(d, "ds"), "--threads", "1", "--quiet"]))
        py.append(child_cpu([sys.executable, "-c", PY, a.morphology, str(a.seed), str(a.sims)]))
        print(f"round {r + 1}: command line {cli[-1] / a.sims:.2f} CPU s per 6-s simulation, Python {py[-1] / a.sims:.2f}")
    c, p = statistics.median(cli) / a.sims, statistics.median(py) / a.sims
    load = os.getloadavg()[0]
    print(f"median over {a.rounds} rounds of {a.sims} simulations: command line {c:.3f}, Python {p:.3f} CPU s per 6-s "
          f"simulation: Python costs {100 * (p / c - 1):+.1f} % (load average {load:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
