//! A loaded surrogate: its metadata and what runs it, either an ONNX graph (the TCN twins, on
//! tract or ONNX Runtime, with the native sparse TCN beside it when it matches) or a recurrent ELM
//! read from its PyTorch state dict and run natively (`elm`). Runs the raw network on dense input
//! spans; windowing and output conversion live in `predict`.

use super::backend::{environment, selected_backend, Backend};
use super::elm::{ElmNetwork, InputConvention};
use super::metadata::ModelMetadata;
use super::native::NativeNet;
use super::parity::ParityCheck;
use super::tcn::{active_rows_of_dense, NativeTcn};
use super::SurrogateError;
use ndarray::{Array2, Array3, ArrayView2};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;
use std::path::{Path, PathBuf};

/// Options for [`SurrogateModel::load`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// Threads inside one inference (1 for the app's worker thread; more for batch evaluation).
    pub intra_threads: usize,
    /// Keep a model whose output differs from its parity vector by more than its tolerance
    /// (refused by default: a damaged file still parses and answers nonsense).
    pub allow_parity_mismatch: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { intra_threads: 1, allow_parity_mismatch: false }
    }
}

/// The ONNX graph of a TCN twin.
struct OnnxNet {
    session: Session,
    input_name: String,
    /// `Some(T)` when the ONNX input has a fixed time length T.
    fixed_time_ms: Option<usize>,
}

/// A network and its metadata, ready to run.
pub struct SurrogateModel {
    /// `None` for a recurrent ELM (it runs on `native` only).
    onnx: Option<OnnxNet>,
    meta: ModelMetadata,
    backend: Backend,
    /// The model file (`.onnx`, or the ELM's `.pt`).
    onnx_path: PathBuf,
    /// The network evaluated natively: the sparse TCN when its graph is a supported TCN and it
    /// reproduced the ONNX outputs at load, or the ELM.
    native: Option<NativeNet>,
    /// Why `native` is what it is (shown by `predict` and the app).
    native_status: String,
    parity: Option<ParityCheck>,
}

impl std::fmt::Debug for SurrogateModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SurrogateModel").field("name", &self.meta.name).field("backend", &self.backend).field("onnx_path", &self.onnx_path).finish()
    }
}

pub use super::metadata::NATIVE_TOLERANCE;
pub use super::parity::pseudo_random_input;


/// `NAME.json` next to `NAME.onnx`.
pub fn metadata_path(onnx_path: &Path) -> PathBuf {
    onnx_path.with_extension("json")
}

impl SurrogateModel {
    /// Load `NAME.onnx` (or an ELM's `NAME.pt`) with its `NAME.json`, on the process's backend
    /// (tract unless [`super::select_backend`] chose otherwise first). `NAME.json` itself may be
    /// given: the model file is then the one it names.
    pub fn load(model_path: &Path, opts: LoadOptions) -> Result<SurrogateModel, SurrogateError> {
        let resolved;
        let onnx_path = if model_path.extension().is_some_and(|e| e == "json") {
            let meta = ModelMetadata::load(model_path)?;
            resolved = model_path.parent().unwrap_or(Path::new("")).join(meta.model_file_name());
            resolved.as_path()
        } else {
            model_path
        };
        if !onnx_path.is_file() {
            return Err(SurrogateError::ModelMissing(onnx_path.display().to_string()));
        }
        let meta_path = metadata_path(onnx_path);
        if !meta_path.is_file() {
            return Err(SurrogateError::Metadata { path: meta_path.display().to_string(), message: "missing (every model needs its metadata)".into() });
        }
        let meta = ModelMetadata::load(&meta_path)?;
        if let Some(f) = &meta.model_file {
            let dir = onnx_path.parent().unwrap_or(Path::new(""));
            if dir.join(f) != onnx_path {
                return Err(SurrogateError::Metadata {
                    path: meta_path.display().to_string(),
                    message: format!("model_file {f:?} does not name the model loaded, {}", onnx_path.display()),
                });
            }
        }
        if meta.is_elm() {
            return SurrogateModel::load_elm(onnx_path, meta, opts);
        }
        let env = environment()?;
        let backend = selected_backend().map(|c| c.backend).unwrap_or(Backend::Tract);
        let onnx_err = |e: String| SurrogateError::Onnx { model: onnx_path.display().to_string(), message: e };
        let session = Session::builder(env)
            .map_err(|e| onnx_err(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| onnx_err(e.to_string()))?
            .with_intra_threads(opts.intra_threads.max(1))
            .map_err(|e| onnx_err(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| onnx_err(e.to_string()))?
            .commit_from_file(onnx_path)
            .map_err(|e| onnx_err(e.to_string()))?;
        let (input_name, fixed_time_ms) = check_io(&session, &meta).map_err(onnx_err)?;
        let mut model = SurrogateModel {
            onnx: Some(OnnxNet { session, input_name, fixed_time_ms }),
            meta,
            backend,
            onnx_path: onnx_path.to_path_buf(),
            native: None,
            native_status: String::new(),
            parity: None,
        };
        model.attach_native();
        model.verify_parity(opts.allow_parity_mismatch)?;
        Ok(model)
    }

    /// A recurrent ELM: the state dict and its `model_config.json` (the metadata's
    /// `network.config_file`), checked against the metadata's rows; always run natively.
    fn load_elm(path: &Path, meta: ModelMetadata, opts: LoadOptions) -> Result<SurrogateModel, SurrogateError> {
        let dir = path.parent().unwrap_or(Path::new(""));
        let meta_path = metadata_path(path).display().to_string();
        let config_file = meta.network.as_ref().and_then(|n| n.config_file.clone()).ok_or_else(|| SurrogateError::Metadata {
            path: meta_path.clone(),
            message: "network.config_file is missing (an ELM needs its model_config.json)".into(),
        })?;
        let convention = InputConvention::parse(meta.network.as_ref().and_then(|n| n.input_convention.as_deref()))
            .map_err(|e| SurrogateError::Metadata { path: meta_path.clone(), message: e.0 })?;
        let net = ElmNetwork::load(path, &dir.join(&config_file), convention).map_err(|e| SurrogateError::Onnx { model: path.display().to_string(), message: e.0 })?;
        if net.n_rows() != meta.input_rows.n_rows {
            return Err(SurrogateError::Metadata {
                path: meta_path,
                message: format!("input_rows.n_rows is {}, but the ELM's config has num_input {}", meta.input_rows.n_rows, net.n_rows()),
            });
        }
        if !meta.spike_channel_is_logit() {
            return Err(SurrogateError::Metadata { path: meta_path, message: "an ELM's output channel 0 is a logit: output.channels[0].kind must be \"logit\"".into() });
        }
        let native = NativeNet::Elm { net, window_ms: meta.window_ms };
        let native_status = format!("{}, no ONNX graph", native.describe());
        let mut model = SurrogateModel { onnx: None, meta, backend: Backend::Native, onnx_path: path.to_path_buf(), native: Some(native), native_status, parity: None };
        model.verify_parity(opts.allow_parity_mismatch)?;
        Ok(model)
    }

    /// Load the native evaluation of the network and keep it only if it reproduces the ONNX
    /// outputs within [`NATIVE_TOLERANCE`]: on the model's parity vector (the exporting
    /// framework's outputs) when it ships one, else on this backend's own outputs for a
    /// pseudo-random ~1 %-dense input of two windows.
    fn attach_native(&mut self) {
        let tcn = match NativeTcn::load(&self.onnx_path) {
            Ok(t) if t.n_rows() == self.n_rows() && t.window_ms() == self.window_ms() => t,
            Ok(t) => {
                self.native_status = format!(
                    "native evaluation off: the graph has {} rows and a {}-ms window, the metadata {} and {}",
                    t.n_rows(),
                    t.window_ms(),
                    self.n_rows(),
                    self.window_ms()
                );
                return;
            }
            Err(e) => {
                self.native_status = format!("native evaluation off: {}", e.message);
                return;
            }
        };
        let check = match self.parity_arrays() {
            Ok(Some((x, expected))) => Ok((x, expected, "its parity vector")),
            Ok(None) => {
                let x = pseudo_random_input(self.n_rows(), 2 * self.window_ms());
                self.run_raw(x.view()).map(|y| (x, y, "the ONNX backend's output"))
            }
            Err(e) => Err(e),
        };
        match check {
            Ok((x, expected, against)) => match tcn.run(&active_rows_of_dense(x.view())) {
                Ok(got) => {
                    let worst = got.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
                    if got.dim() == expected.dim() && worst <= NATIVE_TOLERANCE {
                        self.native_status = format!("native sparse TCN, matches {against} within {worst:.1e}");
                        self.native = Some(NativeNet::Tcn(tcn));
                    } else {
                        self.native_status = format!("native evaluation off: it differs from {against} by {worst:.2e}");
                    }
                }
                Err(e) => self.native_status = format!("native evaluation off: {e}"),
            },
            Err(e) => self.native_status = format!("native evaluation off: could not check it ({e})"),
        }
    }

    /// Run the parity vector (when the metadata names one) on this backend; refuse the model
    /// when its output differs by more than the tolerance (or is not finite) unless `allow`.
    fn verify_parity(&mut self, allow: bool) -> Result<(), SurrogateError> {
        let Some(check) = self.check_parity()? else {
            return Ok(());
        };
        let diff = f64::from(check.max_abs_diff);
        let tolerance = self.meta.parity_tolerance();
        self.parity = Some(check);
        if !(diff <= tolerance) && !allow {
            return Err(SurrogateError::ParityMismatch { model: self.onnx_path.display().to_string(), diff, tolerance });
        }
        Ok(())
    }

    /// The parity check made at load (`None` when the metadata names no parity vector).
    pub fn parity(&self) -> Option<ParityCheck> {
        self.parity
    }

    /// The native evaluation of this network, when it is available and verified (always, for an
    /// ELM).
    pub fn native(&self) -> Option<&NativeNet> {
        self.native.as_ref()
    }

    /// True for a recurrent twin (an ELM), whose output depends on all earlier input.
    pub fn is_recurrent(&self) -> bool {
        self.onnx.is_none()
    }

    /// Whether streaming runs natively, and why (for the app and `predict`).
    pub fn native_status(&self) -> &str {
        &self.native_status
    }

    pub fn metadata(&self) -> &ModelMetadata {
        &self.meta
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The model file (`.onnx`, or an ELM's `.pt`).
    pub fn onnx_path(&self) -> &Path {
        &self.onnx_path
    }

    /// The model file (`.onnx`, or an ELM's `.pt`).
    pub fn model_path(&self) -> &Path {
        &self.onnx_path
    }

    pub fn n_rows(&self) -> usize {
        self.meta.input_rows.n_rows
    }

    pub fn window_ms(&self) -> usize {
        self.meta.window_ms
    }

    /// The fixed time length of the ONNX input, if it is not dynamic.
    pub fn fixed_time_ms(&self) -> Option<usize> {
        self.onnx.as_ref().and_then(|o| o.fixed_time_ms)
    }

    /// Run the network on one dense input `[rows × time]` (0/1 spikes) and return the raw output
    /// `[2 × time]` (channel 0 spike probability or logit, channel 1 soma in target units). For a
    /// model with a fixed time length T, `time` may be ≤ T: the input is zero-padded on the right,
    /// which leaves the outputs of the real columns unchanged because the network is causal.
    /// An ELM runs the input from a zero state.
    pub fn run_raw(&mut self, input: ArrayView2<'_, f32>) -> Result<Array2<f32>, SurrogateError> {
        let (rows, time) = input.dim();
        if rows != self.n_rows() {
            return Err(SurrogateError::Shape(format!("input has {rows} rows, model {} expects {}", self.meta.name, self.n_rows())));
        }
        if let Some((r, t)) = input.indexed_iter().find(|(_, v)| !v.is_finite()).map(|(ix, _)| ix) {
            return Err(SurrogateError::BadInput(format!("non-finite input at row {r}, ms {t}")));
        }
        let Some(onnx) = self.onnx.as_mut() else {
            let native = self.native.as_ref().ok_or_else(|| SurrogateError::Backend("no evaluation available".into()))?;
            let y = native.run(&active_rows_of_dense(input)).map_err(SurrogateError::BadInput)?;
            return Ok(y);
        };
        let run_len = match onnx.fixed_time_ms {
            Some(fixed) if time > fixed => {
                return Err(SurrogateError::Shape(format!("{time} ms in one run, model {} takes at most {fixed}", self.meta.name)));
            }
            Some(fixed) => fixed,
            None => time,
        };
        if time == 0 {
            return Ok(Array2::zeros((2, 0)));
        }
        let mut x = Array3::<f32>::zeros((1, rows, run_len));
        x.slice_mut(ndarray::s![0, .., ..time]).assign(&input);
        let model = self.onnx_path.display().to_string();
        let onnx_err = |e: ort::Error| SurrogateError::Onnx { model: model.clone(), message: e.to_string() };
        let tensor = TensorRef::from_array_view(&x).map_err(onnx_err)?;
        let outputs = onnx.session.run(ort::inputs![onnx.input_name.as_str() => tensor]).map_err(onnx_err)?;
        let y = outputs[0].try_extract_array::<f32>().map_err(onnx_err)?;
        let shape = y.shape().to_vec();
        if shape.len() != 3 || shape[0] != 1 || shape[1] < 2 || shape[2] != run_len {
            return Err(SurrogateError::Shape(format!("model output has shape {shape:?}, expected [1, 2, {run_len}]")));
        }
        let y = y.slice(ndarray::s![0, 0..2, ..time]).to_owned();
        if y.iter().any(|v| v.is_nan()) {
            return Err(SurrogateError::BadInput("the model produced NaN".into()));
        }
        Ok(y)
    }
}

/// The input name and fixed time length, after checking ranks and the row count.
fn check_io(session: &Session, meta: &ModelMetadata) -> Result<(String, Option<usize>), String> {
    let [input] = session.inputs() else {
        return Err(format!("{} inputs, expected 1", session.inputs().len()));
    };
    let Some(output) = session.outputs().first() else {
        return Err("no outputs".into());
    };
    let dims = |o: &ort::value::Outlet| o.dtype().tensor_shape().map(|s| s.to_vec());
    if let Some(d) = dims(input) {
        if d.len() != 3 {
            return Err(format!("input {} has rank {}, expected 3 (batch, rows, time)", input.name(), d.len()));
        }
        if d[1] > 0 && d[1] as usize != meta.input_rows.n_rows {
            return Err(format!("the ONNX input has {} rows but the metadata says {}", d[1], meta.input_rows.n_rows));
        }
    }
    if let Some(d) = dims(output) {
        if d.len() != 3 || (d[1] > 0 && d[1] < 2) {
            return Err(format!("output {} has shape {d:?}, expected (batch, 2, time)", output.name()));
        }
    }
    let fixed = dims(input).and_then(|d| (d[2] > 0).then_some(d[2] as usize));
    Ok((input.name().to_string(), fixed))
}

/// The parity vector shipped with the model (`parity.rs` reads it).
impl SurrogateModel {
    /// The parity input `[rows × T]` and expected raw output `[2 × T]`; `None` when the metadata
    /// names none.
    pub fn parity_arrays(&self) -> Result<Option<super::parity::ParityArrays>, SurrogateError> {
        let Some(parity) = self.metadata().parity.clone() else {
            return Ok(None);
        };
        let dir = self.onnx_path().parent().unwrap_or(Path::new(".")).to_path_buf();
        super::parity::parity_arrays(&parity, &dir, self.n_rows()).map(Some)
    }

    /// Run the parity vector through the native evaluation (see [`SurrogateModel::native`]).
    pub fn check_native_parity(&self) -> Result<Option<ParityCheck>, SurrogateError> {
        let (Some(native), Some((x, expected))) = (self.native(), self.parity_arrays()?) else {
            return Ok(None);
        };
        let got = native.run(&super::tcn::active_rows_of_dense(x.view())).map_err(SurrogateError::BadInput)?;
        let max_abs_diff = got.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        Ok(Some(ParityCheck { max_abs_diff, n_ms: x.ncols() }))
    }

    /// Run the model's parity vector; `None` when the metadata names none.
    pub fn check_parity(&mut self) -> Result<Option<ParityCheck>, SurrogateError> {
        let Some((x, expected)) = self.parity_arrays()? else {
            return Ok(None);
        };
        let got = self.run_raw(x.view())?;
        let max_abs_diff = got.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        Ok(Some(ParityCheck { max_abs_diff, n_ms: x.ncols() }))
    }
}
