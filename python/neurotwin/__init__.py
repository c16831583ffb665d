"""neurotwin from Python.

The Hay et al. 2011 layer-5 pyramidal cell on neurotwin's engine (NEURON's numerical scheme, checked
against NEURON 9 in the Rust test suite), the input protocol of Beniaguev, Segev & London (2021),
golden-case replay and the deep-network twins (TCN or ELM, neurotwin's or the published one)::

    import neurotwin as nt
    cell = nt.Cell(nt.Morphology.load("morphologies/cell1.asc"))      # or nt.Morphology.builtin()
    raster = cell.paper_input(base_seed=1, index=0, duration_ms=6000)  # = `neurotwin dataset --seed 1`, sim 0
    run = cell.simulate(raster)                                        # soma_v_mv, spike_times_ms (GIL released)
    twin = nt.Twin.load("models/l5pc-hay-nmda.json")
    pred = twin.predict(raster)
    nt.metrics(run.spike_times_ms, run.soma_v_mv, pred)                # AUC, TPR at FPR, RMSE, EV

Units are in the names (``_ms``, ``_mv``, ``_um``). Every error is a :class:`NeurotwinError`
whose message is the command line's.
"""

from ._neurotwin import (  # noqa: F401
    Cell,
    Morphology,
    NeurotwinError,
    Prediction,
    Raster,
    SimResult,
    Twin,
    derive_seed,
    metrics,
    replay,
    simulate,
    version,
)

__version__ = version()
__all__ = ["Cell", "Morphology", "NeurotwinError", "Prediction", "Raster", "SimResult", "Twin", "derive_seed", "metrics", "replay",
           "simulate", "version"]
