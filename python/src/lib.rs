//! Python bindings of neurotwin (`import neurotwin`): the Hay et al. 2011 L5PC engine, the paper's
//! input protocol, golden-case replay and the DNN twins (TCN or ELM, ours or the published one).
//!
//! Arrays go to Python without a copy (NumPy takes ownership of the Rust buffers); dense input
//! rasters are read in place. Every long call (simulating, predicting, evaluating, attributing)
//! releases the GIL, so Python threads run beside it. Errors are `neurotwin.NeurotwinError` with the
//! message the command line prints (the same context chain).

use anyhow::Context as _;
use ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use nt::biophysics::recipe::hay2011;
use nt::dataset::paper_sim;
use nt::stimulus::{DendriticSegments, InputRaster, InputVariant, PaperProtocol};
use nt::surrogate::{self, PredictOptions, SurrogateModel};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pyo3::create_exception!(_neurotwin, NeurotwinError, PyException, "Any error neurotwin reports (bad file, bad value, impossible request): the message names the file or field, as on the command line.");

/// An anyhow error as a Python exception, with the command line's `{:#}` chain.
fn py_err(e: anyhow::Error) -> PyErr {
    NeurotwinError::new_err(format!("{e:#}"))
}

trait OrPy<T> {
    fn or_py(self) -> PyResult<T>;
}

impl<T, E: Into<anyhow::Error>> OrPy<T> for Result<T, E> {
    fn or_py(self) -> PyResult<T> {
        self.map_err(|e| py_err(e.into()))
    }
}

/// Any `Serialize` value as Python objects (through JSON: dicts, lists, floats, None).
fn to_py<'py, T: serde::Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| NeurotwinError::new_err(format!("converting a result: {e}")))?;
    py.import("json")?.call_method1("loads", (text,))
}

// ------------------------------------------------------------------------------------------------
// Morphology

/// A morphology as the Hay et al. 2011 model instantiates it (the traced axon replaced by the
/// two-cylinder stub), as `neurotwin` loads it everywhere.
#[pyclass(module = "neurotwin", frozen)]
pub struct Morphology {
    inner: Arc<nt::Morphology>,
    warnings: Vec<String>,
}

#[pymethods]
impl Morphology {
    /// Load an SWC, Neurolucida ASCII (.asc) or NEURON geometry (.json) file.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Morphology> {
        let (morph, warnings) =
            nt::morphology::load_hay2011_with_warnings(&path).with_context(|| format!("loading morphology {}", path.display())).or_py()?;
        Ok(Morphology { inner: Arc::new(morph), warnings })
    }

    /// The built-in procedural L5 pyramidal cell (the app's default when the Hay cell is absent).
    #[staticmethod]
    fn builtin() -> PyResult<Morphology> {
        let morph = nt::morphology::builtin::synthetic_hay2011().context("reading the built-in cell").or_py()?;
        Ok(Morphology { inner: Arc::new(morph), warnings: Vec::new() })
    }

    /// Where it came from (file path, or the built-in cell's name).
    #[getter]
    fn source(&self) -> String {
        self.inner.source.clone()
    }

    /// Warnings the reader gave (recoveries, soft limits passed).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    #[getter]
    fn n_sections(&self) -> usize {
        self.inner.sections.len()
    }

    /// The figures of `neurotwin morph info` as a dict: sections, compartments, total_area_um2,
    /// by_type (sections, compartments, total_length_um, total_area_um2, stems, tips, max_path_um,
    /// max_reach_um, max_branch_order per type) and the apical main path.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let cable = nt::Cable::new(&self.inner, &nt::Discretisation::default()).or_py()?;
        to_py(py, &nt::morphology::info::MorphInfo::new(&self.inner, &cable))
    }

    fn __repr__(&self) -> String {
        format!("Morphology({:?}, {} sections)", self.inner.source, self.inner.sections.len())
    }
}

// ------------------------------------------------------------------------------------------------
// Raster

/// A raster's row count: even and positive (an exc and an inh row per dendritic segment).
fn check_n_rows(what: &str, rows: usize) -> PyResult<()> {
    if rows % 2 != 0 || rows == 0 {
        return Err(NeurotwinError::new_err(format!("{what}: {rows} rows; a raster has 2 rows (exc, inh) per dendritic segment")));
    }
    Ok(())
}

/// An input raster: one row per synapse kind and dendritic segment (the paper's order: the
/// excitatory rows of all basal then apical segments, then the inhibitory rows in the same order),
/// 1-ms bins.
#[pyclass(module = "neurotwin", frozen)]
#[derive(Clone)]
pub struct Raster {
    inner: Arc<InputRaster>,
}

#[pymethods]
impl Raster {
    /// From a dense [rows, duration_ms] array (any integer, bool or float dtype; nonzero = a spike
    /// in that ms). rows must be 2 × the cell's dendritic segments.
    #[staticmethod]
    fn from_dense(array: &Bound<'_, PyAny>) -> PyResult<Raster> {
        let np = array.py().import("numpy")?;
        let as_u8 = np.call_method1("asarray", (array,))?.call_method1("astype", ("uint8",))?;
        let dense: PyReadonlyArray2<'_, u8> = as_u8.extract().map_err(|_| NeurotwinError::new_err("Raster.from_dense: expected a 2-D array [rows, duration_ms]"))?;
        let a = dense.as_array();
        let (rows, ms) = a.dim();
        check_n_rows("Raster.from_dense", rows)?;
        let duration_ms = u32::try_from(ms).map_err(|_| NeurotwinError::new_err(format!("Raster.from_dense: {ms} ms is too long")))?;
        nt::limits::check_tstop("Raster.from_dense: duration (ms)", f64::from(duration_ms)).or_py()?;
        let mut lists = vec![Vec::new(); rows];
        for ((r, t), &v) in a.indexed_iter() {
            if v != 0 {
                lists[r].push(t as u32);
            }
        }
        let raster = InputRaster::from_rows(rows / 2, duration_ms, lists).context("Raster.from_dense").or_py()?;
        Ok(Raster { inner: Arc::new(raster) })
    }

    /// From spike coordinates: `rows[i]` fired in ms bin `ms[i]` (the dataset shards' spike_rows /
    /// spike_ms). `n_rows` = 2 × dendritic segments.
    #[staticmethod]
    fn from_spikes(rows: PyReadonlyArray1<'_, i64>, ms: PyReadonlyArray1<'_, i64>, n_rows: usize, duration_ms: u32) -> PyResult<Raster> {
        let (rows, ms) = (rows.as_array(), ms.as_array());
        if rows.len() != ms.len() {
            return Err(NeurotwinError::new_err(format!("Raster.from_spikes: {} rows but {} times", rows.len(), ms.len())));
        }
        check_n_rows("Raster.from_spikes", n_rows)?;
        nt::limits::check_tstop("Raster.from_spikes: duration_ms", f64::from(duration_ms)).or_py()?;
        let mut lists = vec![Vec::new(); n_rows];
        for (i, (&r, &t)) in rows.iter().zip(ms.iter()).enumerate() {
            if r < 0 || r as usize >= n_rows {
                return Err(NeurotwinError::new_err(format!("Raster.from_spikes: rows[{i}] = {r} is outside 0..{n_rows}")));
            }
            if t < 0 || t >= i64::from(duration_ms) {
                return Err(NeurotwinError::new_err(format!("Raster.from_spikes: ms[{i}] = {t} is outside 0..{duration_ms}")));
            }
            lists[r as usize].push(t as u32);
        }
        for l in &mut lists {
            l.sort_unstable();
            l.dedup();
        }
        let raster = InputRaster::from_rows(n_rows / 2, duration_ms, lists).context("Raster.from_spikes").or_py()?;
        Ok(Raster { inner: Arc::new(raster) })
    }

    /// The dense [rows, duration_ms] uint8 array (1 = a spike in that ms).
    fn dense<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<u8>> {
        let r = &self.inner;
        let mut a = Array2::<u8>::zeros((r.n_rows(), r.duration_ms() as usize));
        for (row, t) in r.iter_spikes() {
            a[(row, t as usize)] = 1;
        }
        a.into_pyarray(py)
    }

    /// (rows, ms): int32 arrays of every spike, row-major order (as in the dataset shards).
    fn spikes<'py>(&self, py: Python<'py>) -> (Bound<'py, PyArray1<i32>>, Bound<'py, PyArray1<i32>>) {
        let (rows, ms): (Vec<i32>, Vec<i32>) = self.inner.iter_spikes().map(|(r, t)| (r as i32, t as i32)).unzip();
        (PyArray1::from_vec(py, rows), PyArray1::from_vec(py, ms))
    }

    #[getter]
    fn n_rows(&self) -> usize {
        self.inner.n_rows()
    }
    #[getter]
    fn n_segments(&self) -> usize {
        self.inner.n_segments()
    }
    #[getter]
    fn duration_ms(&self) -> u32 {
        self.inner.duration_ms()
    }
    #[getter]
    fn n_spikes(&self) -> usize {
        self.inner.n_spikes()
    }
    fn __repr__(&self) -> String {
        format!("Raster({} rows, {} ms, {} spikes)", self.inner.n_rows(), self.inner.duration_ms(), self.inner.n_spikes())
    }
}

fn rasters_of(list: &Bound<'_, PyAny>) -> PyResult<Vec<Arc<InputRaster>>> {
    let mut out = Vec::new();
    for item in list.try_iter()? {
        let r: PyRef<'_, Raster> = item?.extract().map_err(|_| NeurotwinError::new_err("simulate_many: expected a list of Raster"))?;
        out.push(r.inner.clone());
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------------------
// Cell

/// The Hay et al. 2011 cell (biophys5b) built on a morphology, with one excitatory (AMPA+NMDA, or
/// AMPA only) and one inhibitory (GABA-A) synapse per dendritic segment as in the paper.
#[pyclass(module = "neurotwin", frozen)]
pub struct Cell {
    cell: Arc<nt::biophysics::Cell>,
    segs: Arc<DendriticSegments>,
    soma_node: usize,
    variant: InputVariant,
}

fn parse_variant(variant: &str) -> PyResult<InputVariant> {
    match variant {
        "nmda" => Ok(InputVariant::Nmda),
        "ampa" => Ok(InputVariant::Ampa),
        other => Err(NeurotwinError::new_err(format!("variant {other:?}: expected \"nmda\" (AMPA+NMDA synapses) or \"ampa\" (AMPA only)"))),
    }
}

/// The simulation's outputs.
#[pyclass(module = "neurotwin", frozen, get_all)]
pub struct SimResult {
    /// Sampling interval (ms).
    sample_ms: f64,
    /// Soma voltage (mV), float64, at t = 0, sample_ms, … up to the duration (inclusive).
    soma_v_mv: Py<PyArray1<f64>>,
    /// Somatic spike times (ms): upward crossings of −20 mV.
    spike_times_ms: Py<PyArray1<f64>>,
    /// Every dendritic segment's voltage (mV) [n_segments, samples] on the same grid, or None.
    segment_v_mv: Option<Py<PyArray2<f64>>>,
}

#[pymethods]
impl SimResult {
    /// Sample times (ms) of soma_v_mv.
    fn t_ms<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        let n = self.soma_v_mv.bind(py).len();
        PyArray1::from_vec(py, (0..n).map(|k| k as f64 * self.sample_ms).collect())
    }

    /// The soma trace as `neurotwin dataset` stores it: float32 at t = 0 … duration − 1 ms (only
    /// for sample_ms = 1).
    fn soma_v_1ms_f32<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        if self.sample_ms != 1.0 {
            return Err(NeurotwinError::new_err(format!("soma_v_1ms_f32 needs sample_ms = 1 (this run sampled every {} ms)", self.sample_ms)));
        }
        let v = self.soma_v_mv.bind(py).readonly();
        let a = v.as_array();
        let n = a.len().saturating_sub(1);
        Ok(PyArray1::from_vec(py, a.iter().take(n).map(|&x| x as f32).collect()))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!("SimResult({} samples every {} ms, {} spikes)", self.soma_v_mv.bind(py).len(), self.sample_ms, self.spike_times_ms.bind(py).len())
    }
}

fn sim_result(py: Python<'_>, run: paper_sim::SampledRun) -> PyResult<SimResult> {
    let segment_v_mv = if run.segment_v_mv.is_empty() {
        None
    } else {
        let n = run.segment_v_mv[0].len();
        let rows = run.segment_v_mv.len();
        let flat: Vec<f64> = run.segment_v_mv.into_iter().flatten().collect();
        let a = Array2::from_shape_vec((rows, n), flat).map_err(|e| NeurotwinError::new_err(format!("segment voltages: {e}")))?;
        Some(a.into_pyarray(py).unbind())
    };
    Ok(SimResult {
        sample_ms: run.sample_ms,
        soma_v_mv: PyArray1::from_vec(py, run.soma_v_mv).unbind(),
        spike_times_ms: PyArray1::from_vec(py, run.spike_times_ms).unbind(),
        segment_v_mv,
    })
}

fn check_sample_ms(sample_ms: f64) -> PyResult<()> {
    let steps = sample_ms / 0.025;
    if !(sample_ms.is_finite() && sample_ms >= 0.025 && (steps - steps.round()).abs() < 1e-9) {
        return Err(NeurotwinError::new_err(format!("sample_ms = {sample_ms}: must be a positive multiple of dt = 0.025 ms")));
    }
    Ok(())
}

fn thread_pool(threads: Option<usize>) -> PyResult<rayon::ThreadPool> {
    let n = match threads {
        Some(0) => return Err(NeurotwinError::new_err("threads must be ≥ 1")),
        Some(t) => nt::limits::cap_threads(t).0,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    rayon::ThreadPoolBuilder::new().num_threads(n).build().map_err(|e| NeurotwinError::new_err(format!("starting {n} threads: {e}")))
}

#[pymethods]
impl Cell {
    /// Build the Hay 2011 cell on `morphology`; variant "nmda" (the paper's AMPA+NMDA synapses)
    /// or "ampa" (AMPA only).
    #[new]
    #[pyo3(signature = (morphology, variant = "nmda"))]
    fn new(morphology: &Morphology, variant: &str) -> PyResult<Cell> {
        let variant = parse_variant(variant)?;
        let cell = hay2011::build_cell(&morphology.inner, &nt::Discretisation::default(), Default::default())
            .with_context(|| format!("building the Hay 2011 cell on {}", morphology.inner.source))
            .or_py()?;
        let segs = DendriticSegments::new(&cell.morphology, &cell.cable).or_py()?;
        let soma_node = cell.cable.segment_node(0, 0.5);
        Ok(Cell { cell: Arc::new(cell), segs: Arc::new(segs), soma_node, variant })
    }

    /// "nmda" or "ampa".
    #[getter]
    fn variant(&self) -> &'static str {
        match self.variant {
            InputVariant::Nmda => "nmda",
            InputVariant::Ampa => "ampa",
        }
    }
    /// Dendritic segments (one exc and one inh synapse each).
    #[getter]
    fn n_segments(&self) -> usize {
        self.segs.len()
    }
    /// Input rows: 2 × n_segments.
    #[getter]
    fn n_rows(&self) -> usize {
        2 * self.segs.len()
    }
    /// Compartments (nodes) of the discretised cell.
    #[getter]
    fn n_compartments(&self) -> usize {
        self.cell.cable.nodes.len()
    }

    /// The morphology fingerprint a dataset manifest and a twin's metadata carry (SHA-256 of the
    /// sections, parents, nseg and 3-D points).
    #[getter]
    fn fingerprint(&self) -> String {
        nt::dataset::manifest::morphology_fingerprint(&self.cell.morphology, &self.cell.cable)
    }

    /// Per dendritic segment (the raster's segment order): a dict of sec, x, tree ("basal" or
    /// "apical"), length_um and distance_um from the soma.
    fn segments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &nt::dataset::manifest::SegmentTable::new(&self.segs))
    }

    /// The paper's background input protocol (this cell's variant) for one simulation: the same
    /// raster `neurotwin dataset` draws. Give either `seed` (the input seed itself) or
    /// `base_seed` and `index` (simulation `index` of a dataset made with `--seed base_seed`).
    #[pyo3(signature = (seed = None, *, base_seed = None, index = None, duration_ms = 6000))]
    fn paper_input(&self, seed: Option<u64>, base_seed: Option<u64>, index: Option<u64>, duration_ms: u32) -> PyResult<Raster> {
        let seed = match (seed, base_seed, index) {
            (Some(s), None, None) => s,
            (None, Some(b), Some(k)) => nt::rng::derive_seed(b, k),
            _ => return Err(NeurotwinError::new_err("paper_input: give seed, or base_seed and index")),
        };
        nt::limits::check_tstop("paper_input: duration_ms", f64::from(duration_ms)).or_py()?;
        let protocol = PaperProtocol { duration_ms, ..PaperProtocol::for_variant(self.variant) };
        protocol.validate().or_py()?;
        let input = protocol.generate(&self.segs, seed).or_py()?;
        Ok(Raster { inner: Arc::new(input.raster) })
    }

    /// Simulate one raster with the paper's settings (dt 0.025 ms, 6.3 °C, v_init −76 mV, one
    /// synapse pair per segment driven by its rows), sampling every `sample_ms`; with
    /// `record_segments` also every dendritic segment's voltage. At sample_ms = 1 the soma trace,
    /// as float32 without its last sample, and the spikes are bit for bit what `neurotwin
    /// dataset` stores. The GIL is released while it runs.
    #[pyo3(signature = (raster, *, record_segments = false, sample_ms = 1.0))]
    fn simulate(&self, py: Python<'_>, raster: &Raster, record_segments: bool, sample_ms: f64) -> PyResult<SimResult> {
        check_sample_ms(sample_ms)?;
        let (cell, segs, soma, ampa, r) = (self.cell.clone(), self.segs.clone(), self.soma_node, self.variant == InputVariant::Ampa, raster.inner.clone());
        let run = py
            .detach(move || paper_sim::simulate_raster_sampled(&cell, &segs, soma, &r, ampa, record_segments, sample_ms))
            .context("simulating")
            .or_py()?;
        sim_result(py, run)
    }

    /// Simulate many rasters in parallel (one per thread; default: all cores), in order.
    #[pyo3(signature = (rasters, *, threads = None, record_segments = false, sample_ms = 1.0))]
    fn simulate_many(
        &self,
        py: Python<'_>,
        rasters: &Bound<'_, PyAny>,
        threads: Option<usize>,
        record_segments: bool,
        sample_ms: f64,
    ) -> PyResult<Vec<SimResult>> {
        check_sample_ms(sample_ms)?;
        let rasters = rasters_of(rasters)?;
        let pool = thread_pool(threads)?;
        let (cell, segs, soma, ampa) = (self.cell.clone(), self.segs.clone(), self.soma_node, self.variant == InputVariant::Ampa);
        let runs: Vec<Result<paper_sim::SampledRun, nt::biophysics::simulation::SimError>> = py.detach(move || {
            use rayon::prelude::*;
            pool.install(|| rasters.par_iter().map(|r| paper_sim::simulate_raster_sampled(&cell, &segs, soma, r, ampa, record_segments, sample_ms)).collect())
        });
        runs.into_iter()
            .enumerate()
            .map(|(k, run)| sim_result(py, run.with_context(|| format!("simulating raster {k}")).or_py()?))
            .collect()
    }

    fn __repr__(&self) -> String {
        format!("Cell({:?}, {}, {} segments, {} compartments)", self.cell.morphology.source, self.variant(), self.segs.len(), self.cell.cable.nodes.len())
    }
}

// ------------------------------------------------------------------------------------------------
// Ad-hoc runs and golden cases (the command line's `simulate` and `replay`)

/// Golden-format results as a dict of NumPy arrays.
fn results_dict<'py>(py: Python<'py>, r: nt::golden::case::Results, dt_ms: f64) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let n = r.soma_v.len();
    d.set_item("t_ms", PyArray1::from_vec(py, (0..n).map(|k| k as f64 * dt_ms).collect()))?;
    d.set_item("soma_v_mv", PyArray1::from_vec(py, r.soma_v))?;
    d.set_item("spike_times_ms", PyArray1::from_vec(py, r.spike_times_ms))?;
    let sites: Vec<Bound<'py, PyArray1<f64>>> = r.sites_v.into_iter().map(|v| PyArray1::from_vec(py, v)).collect();
    d.set_item("sites_v_mv", sites)?;
    Ok(d)
}

/// An ad-hoc run, as `neurotwin simulate` does it: current clamps `(sec, x, delay_ms, dur_ms,
/// amp_nA)`, synapses `("exc"|"inh", sec, x, [spike times ms])`, extra recording sites
/// `(sec, x)`. Defaults are the Hay protocols' (dt 0.025 ms, 34 °C, v_init −80 mV, samples every
/// 0.1 ms). Returns a dict: t_ms, soma_v_mv, spike_times_ms, sites_v_mv (one array per site).
#[pyfunction]
#[pyo3(signature = (morphology, tstop_ms, *, iclamps = Vec::new(), synapses = Vec::new(), record = Vec::new(), dt_ms = None, celsius = None, v_init_mv = None, record_dt_ms = None, nmda = true))]
#[allow(clippy::too_many_arguments)]
fn simulate<'py>(
    py: Python<'py>,
    morphology: &Morphology,
    tstop_ms: f64,
    iclamps: Vec<(String, f64, f64, f64, f64)>,
    synapses: Vec<(String, String, f64, Vec<f64>)>,
    record: Vec<(String, f64)>,
    dt_ms: Option<f64>,
    celsius: Option<f64>,
    v_init_mv: Option<f64>,
    record_dt_ms: Option<f64>,
    nmda: bool,
) -> PyResult<Bound<'py, PyDict>> {
    use nt::golden::adhoc::SimulateConfig;
    use nt::golden::case::{IClampEntry, Location, SynapseEntry};
    let finite = |name: &str, v: f64| {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(NeurotwinError::new_err(format!("{name} = {v} is not finite")))
        }
    };
    let mut cfg = SimulateConfig {
        tstop_ms: Some(finite("tstop_ms", tstop_ms)?),
        dt_ms: dt_ms.map(|v| finite("dt_ms", v)).transpose()?,
        celsius: celsius.map(|v| finite("celsius", v)).transpose()?,
        v_init_mv: v_init_mv.map(|v| finite("v_init_mv", v)).transpose()?,
        record_dt_ms: record_dt_ms.map(|v| finite("record_dt_ms", v)).transpose()?,
        ..Default::default()
    };
    if !nmda {
        cfg.variant_flags.ampa_only = Some(true);
    }
    for (i, (sec, x, delay_ms, dur_ms, amp_na)) in iclamps.into_iter().enumerate() {
        for (name, v) in [("x", x), ("delay_ms", delay_ms), ("dur_ms", dur_ms), ("amp_nA", amp_na)] {
            finite(&format!("iclamps[{i}].{name}"), v)?;
        }
        cfg.iclamps.push(IClampEntry { sec, x, delay_ms, dur_ms, amp_na });
    }
    for (i, (kind, sec, x, spikes_ms)) in synapses.into_iter().enumerate() {
        let kind = match kind.as_str() {
            "exc" => nt::biophysics::SynapseKind::Exc,
            "inh" => nt::biophysics::SynapseKind::Inh,
            other => return Err(NeurotwinError::new_err(format!("synapses[{i}]: kind {other:?} is not exc or inh"))),
        };
        finite(&format!("synapses[{i}].x"), x)?;
        for t in &spikes_ms {
            finite(&format!("synapses[{i}] spike time"), *t)?;
        }
        cfg.synapses.push(SynapseEntry { kind, sec, x, spikes_ms, paper_seg_index: None });
    }
    for (i, (sec, x)) in record.into_iter().enumerate() {
        finite(&format!("record[{i}].x"), x)?;
        cfg.record.push(Location { sec, x });
    }
    let case = cfg.to_case().or_py()?;
    nt::limits::check_tstop("tstop_ms", case.sim.tstop).or_py()?;
    let dt = case.recording.soma_dt_ms;
    let morph = morphology.inner.clone();
    let results = py.detach(move || nt::golden::replay::replay(&case, &morph)).context("simulating").or_py()?;
    results_dict(py, results, dt)
}

/// Replay a golden case (NEURON's reference format) on `morphology`, as `neurotwin replay` does.
/// Returns a dict: t_ms, soma_v_mv, spike_times_ms, sites_v_mv, and when the case carries
/// NEURON's results, `reference` (the same arrays) and `comparison` (soma_rmse_mv, site_rmse_mv,
/// spikes_ours, spikes_reference, worst_spike_dt_ms).
#[pyfunction]
fn replay<'py>(py: Python<'py>, case_path: PathBuf, morphology: &Morphology) -> PyResult<Bound<'py, PyDict>> {
    use nt::golden::case::Case;
    let case = Case::load(&case_path).or_py()?;
    let dt = case.recording.soma_dt_ms;
    let morph = morphology.inner.clone();
    let case2 = case.clone();
    let ours = py.detach(move || nt::golden::replay::replay(&case2, &morph)).with_context(|| format!("replaying {}", case_path.display())).or_py()?;
    let comparison = case.results.as_ref().map(|reference| nt::golden::replay::compare(&ours, reference));
    let d = results_dict(py, ours, dt)?;
    if let (Some(reference), Some(c)) = (case.results, comparison) {
        d.set_item("reference", results_dict(py, reference, dt)?)?;
        let cd = PyDict::new(py);
        cd.set_item("soma_rmse_mv", c.soma_rmse_mv)?;
        cd.set_item("site_rmse_mv", c.site_rmse_mv)?;
        cd.set_item("spikes_ours", c.spikes_ours)?;
        cd.set_item("spikes_reference", c.spikes_reference)?;
        cd.set_item("worst_spike_dt_ms", c.worst_spike_dt_ms)?;
        d.set_item("comparison", cd)?;
    }
    Ok(d)
}

// ------------------------------------------------------------------------------------------------
// Twins

/// The twin's prediction: per 1-ms bin, the spike probability and the soma voltage (mV).
#[pyclass(module = "neurotwin", frozen, get_all)]
pub struct Prediction {
    spike_probability: Py<PyArray1<f32>>,
    soma_v_mv: Py<PyArray1<f32>>,
}

#[pymethods]
impl Prediction {
    /// Predicted spike times (ms): bins at or over `threshold` (a probability), runs of
    /// consecutive bins counted once, as the app and `neurotwin evaluate` count them.
    fn spike_times_ms<'py>(&self, py: Python<'py>, threshold: f64) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let p = self.spike_probability.bind(py).readonly();
        let pred = surrogate::Prediction { spike_probability: p.as_array().to_vec(), soma_v_mv: Vec::new(), start_ms: 0 };
        Ok(PyArray1::from_vec(py, pred.spike_times_ms(threshold)))
    }
}

/// A DNN twin (the TCN in ONNX or an ELM in PyTorch's format, ours or the published one), run by
/// neurotwin's native Rust paths.
#[pyclass(module = "neurotwin", frozen)]
pub struct Twin {
    model: Mutex<SurrogateModel>,
    path: PathBuf,
}

impl Twin {
    /// The model, for a call that runs without the GIL (anyhow errors).
    fn model(&self) -> anyhow::Result<std::sync::MutexGuard<'_, SurrogateModel>> {
        self.model.lock().map_err(|_| anyhow::anyhow!("the twin was poisoned by an earlier failure; load it again"))
    }

    fn lock(&self) -> PyResult<std::sync::MutexGuard<'_, SurrogateModel>> {
        self.model().or_py()
    }
}

#[pymethods]
impl Twin {
    /// Load a twin: a model file (NAME.onnx, NAME.pt) or its metadata NAME.json. The model's
    /// parity check runs at load.
    #[staticmethod]
    #[pyo3(signature = (path, *, threads = 1))]
    fn load(py: Python<'_>, path: PathBuf, threads: usize) -> PyResult<Twin> {
        let (threads, _) = nt::limits::cap_threads(threads.max(1));
        let p = path.clone();
        let model = py
            .detach(move || SurrogateModel::load(&p, surrogate::model::LoadOptions { intra_threads: threads, allow_parity_mismatch: false }))
            .with_context(|| format!("loading model {}", path.display()))
            .or_py()?;
        Ok(Twin { model: Mutex::new(model), path })
    }

    /// The best-fitting twin for `cell` in `models_dir` (as the app and the command line choose),
    /// trained on the cell's protocol when there is one (an "ampa" cell gets its AMPA twin).
    #[staticmethod]
    #[pyo3(signature = (cell, models_dir))]
    fn for_cell(py: Python<'_>, cell: &Cell, models_dir: PathBuf) -> PyResult<Twin> {
        let inputs = surrogate::CellInputs::new(&cell.cell.morphology, &cell.cell.cable).or_py()?;
        let candidate = surrogate::default_model_for_variant(&models_dir, &inputs, cell.variant).or_py()?;
        Twin::load(py, candidate.onnx_path, 1)
    }

    #[getter]
    fn name(&self) -> PyResult<String> {
        Ok(self.lock()?.metadata().name.clone())
    }
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }
    #[getter]
    fn n_rows(&self) -> PyResult<usize> {
        Ok(self.lock()?.n_rows())
    }
    /// The receptive field (ms).
    #[getter]
    fn window_ms(&self) -> PyResult<usize> {
        Ok(self.lock()?.window_ms())
    }
    /// True for the ELM (a recurrent twin), False for the TCN.
    #[getter]
    fn recurrent(&self) -> PyResult<bool> {
        Ok(self.lock()?.is_recurrent())
    }
    #[getter]
    fn backend(&self) -> PyResult<String> {
        Ok(self.lock()?.backend().to_string())
    }
    /// The model's metadata (the NAME.json) as a dict.
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, self.lock()?.metadata())
    }

    /// The spike-probability threshold: "count" (count-matched on the model's validation set, the
    /// app's default) or a false-positive rate such as 0.0025 or 0.01. Without an argument: the
    /// count-matched one when the metadata has it, else the one for FPR 0.25 %.
    #[pyo3(signature = (kind = None))]
    fn threshold(&self, kind: Option<&Bound<'_, PyAny>>) -> PyResult<f64> {
        let m = self.lock()?;
        match kind {
            None => match m.metadata().count_matched_threshold() {
                Some(t) => Ok(t.probability),
                None => surrogate::threshold_for_fpr(m.metadata(), 0.0025).or_py(),
            },
            Some(k) => {
                if let Ok(s) = k.extract::<String>() {
                    if s == "count" {
                        return m.metadata().count_matched_threshold().map(|t| t.probability).ok_or_else(|| NeurotwinError::new_err("the model's metadata has no count-matched threshold"));
                    }
                    return Err(NeurotwinError::new_err(format!("threshold kind {s:?}: expected \"count\" or a false-positive rate")));
                }
                let fpr: f64 = k.extract().map_err(|_| NeurotwinError::new_err("threshold: expected \"count\" or a false-positive rate"))?;
                if !fpr.is_finite() {
                    return Err(NeurotwinError::new_err(format!("threshold: the false-positive rate {fpr} is not finite")));
                }
                surrogate::threshold_for_fpr(m.metadata(), fpr).or_py()
            }
        }
    }

    /// Predict a raster (its rows must match the twin's). `chunk_ms`: new ms per network run
    /// (default: the whole raster at once where the model allows). The GIL is released.
    #[pyo3(signature = (raster, *, chunk_ms = None))]
    fn predict(&self, py: Python<'_>, raster: &Raster, chunk_ms: Option<usize>) -> PyResult<Prediction> {
        let r = raster.inner.clone();
        let pred = py
            .detach(|| -> anyhow::Result<surrogate::Prediction> {
                let mut m = self.model()?;
                Ok(m.predict_raster(&r, &PredictOptions { chunk_ms })?)
            })
            .or_py()?;
        Ok(Prediction {
            spike_probability: PyArray1::from_vec(py, pred.spike_probability).unbind(),
            soma_v_mv: PyArray1::from_vec(py, pred.soma_v_mv).unbind(),
        })
    }

    /// `neurotwin evaluate` on a dataset folder: AUC, TPR at the given false-positive rates, soma
    /// RMSE and explained variance (bins after ignore_ms), the count-matched threshold. Shards are
    /// verified against the manifest's SHA-256 unless verify=False. Returns a dict.
    #[pyo3(signature = (dataset, *, max_sims = None, first_sim = 0, ignore_ms = 500, fprs = vec![0.0025, 0.01], verify = true))]
    #[allow(clippy::too_many_arguments)]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        dataset: PathBuf,
        max_sims: Option<usize>,
        first_sim: usize,
        ignore_ms: usize,
        fprs: Vec<f64>,
        verify: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Some(f) = fprs.iter().find(|f| !(f.is_finite() && **f > 0.0 && **f < 1.0)) {
            return Err(NeurotwinError::new_err(format!("fprs: {f} is not a rate in (0, 1)")));
        }
        let opts = surrogate::evaluate::EvalOptions { ignore_first_ms: ignore_ms, first_sim, max_sims, fprs, verify, ..Default::default() };
        let d = dataset.clone();
        let eval = py
            .detach(|| -> anyhow::Result<surrogate::evaluate::Evaluation> {
                let ds = nt::dataset::reader::Dataset::open(&d).with_context(|| format!("opening dataset {}", d.display()))?;
                let mut m = self.model()?;
                Ok(surrogate::evaluate::evaluate_dataset(&mut m, &ds, &opts)?)
            })
            .or_py()?;
        to_py(py, &eval)
    }

    /// Which inputs made the twin's spike probability at `t_ms`: every input row with spikes in
    /// the receptive field, scored by occlusion (the drop in probability without its spikes), best
    /// first; `top` limits the list. Returns a dict (t_ms, window_from_ms, probability, ranking).
    #[pyo3(signature = (cell, raster, t_ms, *, top = None))]
    fn attribute<'py>(&self, py: Python<'py>, cell: &Cell, raster: &Raster, t_ms: usize, top: Option<usize>) -> PyResult<Bound<'py, PyAny>> {
        let r = raster.inner.clone();
        let segs = cell.segs.clone();
        let mut a = py
            .detach(|| -> anyhow::Result<nt::attribution::Attribution> {
                let m = self.model()?;
                let net = m.native().ok_or_else(|| anyhow::anyhow!("attribution needs the twin's native path: {}", m.native_status()))?;
                Ok(nt::attribution::attribute(net, &r, &segs, t_ms)?)
            })
            .or_py()?;
        if let Some(k) = top {
            a.ranking.truncate(k);
        }
        to_py(py, &a)
    }

    fn __repr__(&self) -> String {
        match self.model.lock() {
            Ok(m) => format!("Twin({:?}, {} rows, window {} ms, {})", m.metadata().name, m.n_rows(), m.window_ms(), m.backend()),
            Err(_) => "Twin(<poisoned>)".into(),
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Metrics

/// The paper's metrics of one prediction against the cell: spike AUC and TPR at the given
/// false-positive rates over 1-ms bins from `ignore_ms` on (spike at t → bin int(t − 0.5)), soma
/// RMSE (mV; the cell's trace clipped at `clip_mv` as the twin's target is) and explained
/// variance. `soma_v_mv`: the cell's trace at 1 ms. Returns a dict.
#[pyfunction]
#[pyo3(signature = (spike_times_ms, soma_v_mv, prediction, *, ignore_ms = 500, fprs = vec![0.0025, 0.01], clip_mv = -55.0))]
fn metrics<'py>(
    py: Python<'py>,
    spike_times_ms: PyReadonlyArray1<'py, f64>,
    soma_v_mv: PyReadonlyArray1<'py, f64>,
    prediction: &Prediction,
    ignore_ms: usize,
    fprs: Vec<f64>,
    clip_mv: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let prob = prediction.spike_probability.bind(py).readonly();
    let vpred = prediction.soma_v_mv.bind(py).readonly();
    let (prob, vpred) = (prob.as_array(), vpred.as_array());
    let n = prob.len().min(soma_v_mv.len());
    if n <= ignore_ms {
        return Err(NeurotwinError::new_err(format!("metrics: {n} ms of prediction and trace, not more than ignore_ms = {ignore_ms}")));
    }
    let labels = surrogate::evaluate::spike_labels(spike_times_ms.as_slice()?, n);
    let scores: Vec<f64> = prob.iter().take(n).map(|&p| f64::from(p)).collect();
    let v = soma_v_mv.as_array();
    let target: Vec<f64> = v.iter().take(n).skip(ignore_ms).map(|&x| x.min(clip_mv)).collect();
    let pred: Vec<f64> = vpred.iter().take(n).skip(ignore_ms).map(|&x| f64::from(x)).collect();
    if target.iter().chain(&pred).chain(&scores).any(|x| !x.is_finite()) {
        return Err(NeurotwinError::new_err("metrics: the trace or the prediction holds NaN or infinite values"));
    }
    let d = PyDict::new(py);
    let (lab, sc) = (&labels[ignore_ms..], &scores[ignore_ms..]);
    d.set_item("n_bins", lab.len())?;
    d.set_item("n_spike_bins", lab.iter().filter(|&&y| y).count())?;
    d.set_item("auc", nt::metrics::roc_auc(lab, sc).ok())?;
    let tpr = PyDict::new(py);
    for f in &fprs {
        tpr.set_item(*f, nt::metrics::tpr_at_fpr(lab, sc, *f).ok().map(|p| p.tpr))?;
    }
    d.set_item("tpr_at_fpr", tpr)?;
    let sm = nt::metrics::SomaMetrics::new(&target, &pred);
    d.set_item("soma", to_py(py, &sm)?)?;
    Ok(d)
}

/// The input seed of simulation `index` in a dataset made with `--seed base_seed`.
#[pyfunction]
fn derive_seed(base_seed: u64, index: u64) -> u64 {
    nt::rng::derive_seed(base_seed, index)
}

/// The crate's version.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _neurotwin(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("NeurotwinError", m.py().get_type::<NeurotwinError>())?;
    m.add_class::<Morphology>()?;
    m.add_class::<Raster>()?;
    m.add_class::<Cell>()?;
    m.add_class::<SimResult>()?;
    m.add_class::<Twin>()?;
    m.add_class::<Prediction>()?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(replay, m)?)?;
    m.add_function(wrap_pyfunction!(metrics, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(derive_seed, m)?)?;
    Ok(())
}
