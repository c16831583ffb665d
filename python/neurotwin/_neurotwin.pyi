"""Type stubs of neurotwin's Rust extension (units in the names: _ms, _mv, _um, _nA)."""

from os import PathLike
from typing import Any, Iterable, Literal, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

_Path = Union[str, "PathLike[str]"]

class NeurotwinError(Exception):
    """Any error neurotwin reports; the message names the file or field, as on the command line."""

class Morphology:
    """A morphology as the Hay 2011 model instantiates it (traced axon replaced by the stub)."""
    @staticmethod
    def load(path: _Path) -> Morphology:
        """Load an .swc, .asc (Neurolucida) or NEURON geometry .json file."""
    @staticmethod
    def builtin() -> Morphology:
        """The built-in procedural L5 pyramidal cell."""
    @property
    def source(self) -> str: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def n_sections(self) -> int: ...
    def info(self) -> dict[str, Any]:
        """`neurotwin morph info`: sections, compartments, total_area_um2, by_type, apical_main_path."""

class Raster:
    """Input raster: rows = 2 × dendritic segments (exc rows, then inh rows; the paper's order), 1-ms bins."""
    @staticmethod
    def from_dense(array: npt.ArrayLike) -> Raster:
        """From a [rows, duration_ms] array; nonzero = a spike in that ms."""
    @staticmethod
    def from_spikes(rows: npt.NDArray[np.int64], ms: npt.NDArray[np.int64], n_rows: int, duration_ms: int) -> Raster: ...
    def dense(self) -> npt.NDArray[np.uint8]:
        """[rows, duration_ms] uint8."""
    def spikes(self) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """(rows, ms) of every spike, row-major order."""
    @property
    def n_rows(self) -> int: ...
    @property
    def n_segments(self) -> int: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def n_spikes(self) -> int: ...

class SimResult:
    sample_ms: float
    soma_v_mv: npt.NDArray[np.float64]
    """Soma voltage (mV) at t = 0, sample_ms, … up to the duration (inclusive)."""
    spike_times_ms: npt.NDArray[np.float64]
    """Somatic spikes: upward crossings of −20 mV (ms)."""
    segment_v_mv: Optional[npt.NDArray[np.float64]]
    """[n_segments, samples] dendritic voltages (mV) when record_segments=True."""
    def t_ms(self) -> npt.NDArray[np.float64]: ...
    def soma_v_1ms_f32(self) -> npt.NDArray[np.float32]:
        """The soma trace exactly as `neurotwin dataset` stores it (sample_ms = 1 only)."""

class Cell:
    """The Hay 2011 cell on a morphology, one exc and one inh synapse per dendritic segment."""
    def __init__(self, morphology: Morphology, variant: Literal["nmda", "ampa"] = "nmda") -> None: ...
    @property
    def variant(self) -> str: ...
    @property
    def n_segments(self) -> int: ...
    @property
    def n_rows(self) -> int: ...
    @property
    def n_compartments(self) -> int: ...
    @property
    def fingerprint(self) -> str:
        """The morphology fingerprint of dataset manifests and twin metadata."""
    def segments(self) -> dict[str, Any]:
        """The segment table (row order) as in a dataset manifest."""
    def paper_input(self, seed: Optional[int] = None, *, base_seed: Optional[int] = None, index: Optional[int] = None,
                    duration_ms: int = 6000) -> Raster:
        """The paper's background input: `seed`, or simulation `index` of `neurotwin dataset --seed base_seed`."""
    def simulate(self, raster: Raster, *, record_segments: bool = False, sample_ms: float = 1.0) -> SimResult:
        """The paper's settings (dt 0.025 ms, 6.3 °C, v_init −76 mV); releases the GIL."""
    def simulate_many(self, rasters: Iterable[Raster], *, threads: Optional[int] = None, record_segments: bool = False,
                      sample_ms: float = 1.0) -> list[SimResult]:
        """In parallel, one simulation per thread (default: all cores); results in order."""

class Prediction:
    spike_probability: npt.NDArray[np.float32]
    """Per 1-ms bin, the probability of a somatic spike."""
    soma_v_mv: npt.NDArray[np.float32]
    """Per 1-ms bin, the predicted soma voltage (mV; clipped as the twin's training target)."""
    def spike_times_ms(self, threshold: float) -> npt.NDArray[np.float64]:
        """Runs of bins with probability ≥ threshold, one spike each (ms)."""

class Twin:
    @staticmethod
    def load(path: _Path, *, threads: int = 1) -> Twin:
        """NAME.onnx, NAME.pt or NAME.json (metadata); the parity check runs at load."""
    @staticmethod
    def for_cell(cell: Cell, models_dir: _Path) -> Twin:
        """The best-fitting twin for the cell in models_dir, trained on the cell's protocol when
        there is one (an "ampa" cell gets its AMPA twin, e.g. l5pc-hay-ampa)."""
    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def n_rows(self) -> int: ...
    @property
    def window_ms(self) -> int: ...
    @property
    def recurrent(self) -> bool: ...
    @property
    def backend(self) -> str: ...
    def metadata(self) -> dict[str, Any]: ...
    def threshold(self, kind: Union[Literal["count"], float, None] = None) -> float:
        """Probability threshold: "count" (count-matched), or the one for a false-positive rate; default:
        count-matched when the metadata has it, else FPR 0.25 %."""
    def predict(self, raster: Raster, *, chunk_ms: Optional[int] = None) -> Prediction: ...
    def evaluate(self, dataset: _Path, *, max_sims: Optional[int] = None, first_sim: int = 0, ignore_ms: int = 500,
                 fprs: Sequence[float] = (0.0025, 0.01), verify: bool = True) -> dict[str, Any]:
        """`neurotwin evaluate` on a dataset folder (AUC, TPR at FPR, soma RMSE, EV, count-matched threshold)."""
    def attribute(self, cell: Cell, raster: Raster, t_ms: int, *, top: Optional[int] = None) -> dict[str, Any]:
        """Which input rows made the spike probability at t_ms (occlusion), best first."""

def simulate(morphology: Morphology, tstop_ms: float, *, iclamps: Sequence[tuple[str, float, float, float, float]] = (),
             synapses: Sequence[tuple[str, str, float, Sequence[float]]] = (), record: Sequence[tuple[str, float]] = (),
             dt_ms: Optional[float] = None, celsius: Optional[float] = None, v_init_mv: Optional[float] = None,
             record_dt_ms: Optional[float] = None, nmda: bool = True) -> dict[str, Any]:
    """`neurotwin simulate`: iclamps (sec, x, delay_ms, dur_ms, amp_nA), synapses ("exc"|"inh", sec, x, times_ms),
    record (sec, x). Returns t_ms, soma_v_mv, spike_times_ms, sites_v_mv."""

def replay(case_path: _Path, morphology: Morphology) -> dict[str, Any]:
    """`neurotwin replay`: a golden case; with NEURON's results also `reference` and `comparison`."""

def metrics(spike_times_ms: npt.NDArray[np.float64], soma_v_mv: npt.NDArray[np.float64], prediction: Prediction, *,
            ignore_ms: int = 500, fprs: Sequence[float] = (0.0025, 0.01), clip_mv: float = -55.0) -> dict[str, Any]:
    """AUC, TPR at FPR, soma RMSE and explained variance of one prediction (bins from ignore_ms on)."""

def version() -> str: ...
def derive_seed(base_seed: int, index: int) -> int:
    """The input seed of simulation `index` of `neurotwin dataset --seed base_seed`."""
