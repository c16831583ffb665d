"""The cell and its twin from Python: simulate the paper's input on the Hay cell, run the DNN twin on
the same input, plot both, and ask which inputs caused a spike.

    python3 -m pip install ./python              # once: builds and installs `neurotwin`
    python3 examples/cell_vs_twin.py [--morphology morphologies/cell1.asc] [--seed 3] [--out cell_vs_twin.png]

Without the Hay cell (`neurotwin fetch hay`) it uses the built-in cell and its twin.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import neurotwin as nt

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--morphology", type=Path, default=REPO / "morphologies" / "cell1.asc")
    ap.add_argument("--model", type=Path, help="twin (default: the best fit for the cell in models/)")
    ap.add_argument("--seed", type=int, default=3, help="input seed (simulation 0 of `neurotwin dataset --seed SEED`)")
    ap.add_argument("--duration-ms", type=int, default=3000)
    ap.add_argument("--top", type=int, default=20, help="inputs removed in the what-if test")
    ap.add_argument("--out", type=Path, default=Path("cell_vs_twin.png"))
    a = ap.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    morph = nt.Morphology.load(a.morphology) if a.morphology.is_file() else nt.Morphology.builtin()
    cell = nt.Cell(morph, "nmda")
    twin = nt.Twin.load(a.model) if a.model else nt.Twin.for_cell(cell, REPO / "models")
    print(f"cell: {morph.source} ({cell.n_segments} dendritic segments, {cell.n_compartments} compartments)")
    print(f"twin: {twin.name} ({'ELM' if twin.recurrent else 'TCN'}, window {twin.window_ms} ms)")

    raster = cell.paper_input(base_seed=a.seed, index=0, duration_ms=a.duration_ms)
    run = cell.simulate(raster)                       # the biophysical cell (GIL released)
    pred = twin.predict(raster)                       # the twin on the same input
    threshold = twin.threshold()
    # the first 500 ms are scored by no one (the paper's protocol): the twin starts from rest there
    ignore = min(500, a.duration_ms // 2)
    twin_spikes = pred.spike_times_ms(threshold)
    twin_spikes = twin_spikes[twin_spikes >= ignore]
    m = nt.metrics(run.spike_times_ms, run.soma_v_mv[: a.duration_ms], pred, ignore_ms=ignore)
    print(f"cell spikes: {len(run.spike_times_ms)}, twin spikes: {len(twin_spikes)} (threshold p >= {threshold:.3f})")
    auc = "n/a (no spikes)" if m["auc"] is None else f"{m['auc']:.4f}"
    print(f"AUC {auc}, soma RMSE {m['soma']['rmse_mv']:.2f} mV, explained variance {m['soma']['explained_variance']:.3f}")

    # which inputs caused a spike? the twin's occlusion ranking at the first spike it also predicts
    target = next((t for t in run.spike_times_ms if t > ignore and np.any(np.abs(twin_spikes - t) <= 5)), None)
    if target is None and len(run.spike_times_ms):
        target = next((t for t in run.spike_times_ms if t > ignore), None)
    removed_abolishes = None
    if target is not None:
        t_bin = int(target - 0.5)
        attr = twin.attribute(cell, raster, t_bin, top=a.top)
        print(f"spike at {target:.1f} ms: twin p = {attr['probability']:.3f}; its {a.top} most important inputs:")
        for s in attr["ranking"][:5]:
            print(f"  row {s['row']:5d} {s['kind']} {s['sec']}({s['x']:.2f}) {s['distance_um']:6.0f} um from the soma: "
                  f"{s['n_spikes']} spikes, p drops by {s['score']:.3f}")
        # what-if on the real cell: delete those rows' spikes in the window and simulate again
        dense = raster.dense()
        rows = [s["row"] for s in attr["ranking"]]
        dense[rows, attr["window_from_ms"]: t_bin + 1] = 0
        again = cell.simulate(nt.Raster.from_dense(dense))
        removed_abolishes = not np.any(np.abs(again.spike_times_ms - target) <= 5)
        print(f"the cell without them: spike {'abolished' if removed_abolishes else 'still there'} "
              f"({len(again.spike_times_ms)} spikes in all)")

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    t = run.t_ms()[: a.duration_ms]
    ax1.plot(t, run.soma_v_mv[: a.duration_ms], color="tab:cyan", lw=0.8, label="cell (neurotwin engine)")
    ax1.plot(np.arange(a.duration_ms), pred.soma_v_mv, color="magenta", lw=0.8, label=f"twin {twin.name}")
    ax1.plot(twin_spikes, np.full(len(twin_spikes), 25.0), "v", color="magenta", ms=4, label="twin spikes")
    if target is not None:
        ax1.axvline(target, color="grey", ls=":", lw=1)
    for ax in (ax1, ax2):
        ax.axvspan(0, ignore, color="0.92", lw=0)  # not scored
    ax1.set_ylabel("soma (mV)")
    ax1.legend(loc="upper right", fontsize=8)
    ax2.plot(np.arange(a.duration_ms), pred.spike_probability, color="magenta", lw=0.8)
    ax2.axhline(threshold, color="k", ls="--", lw=0.6)
    ax2.set_ylabel("p(spike)")
    ax2.set_xlabel("time (ms)")
    fig.suptitle(f"{morph.source}: the paper's input, seed {a.seed}")
    fig.tight_layout()
    fig.savefig(a.out, dpi=100)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
