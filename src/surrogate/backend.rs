//! Which ONNX runtime executes the model. `ort`'s API table is process-global and can be set once,
//! so the choice is made once per process (the first call of [`select_backend`] wins; later calls
//! return the same choice, with a warning if they asked for something else).
//!
//! - default: tract (pure Rust, through `ort-tract`), so a fresh machine needs nothing else;
//! - native ONNX Runtime (`ort`'s `load-dynamic`) when `--onnxruntime PATH` is given or
//!   `ORT_DYLIB_PATH` is set: the full path of e.g. the pip wheel's
//!   `onnxruntime/capi/libonnxruntime.so.1.32.0` (ONNX Runtime ≥ 1.24). Faster.
//!
//! A native library that fails to load falls back to tract, and the caller gets the reason as a
//! warning in [`BackendChoice::warning`] to show.

use super::SurrogateError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The runtime executing the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// tract through `ort-tract` (pure Rust).
    Tract,
    /// ONNX Runtime loaded from this shared library.
    OnnxRuntime { library: PathBuf },
    /// No ONNX graph: neurotwin's own evaluation (a recurrent ELM).
    Native,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Tract => write!(f, "tract (pure Rust, via ort-tract)"),
            Backend::OnnxRuntime { library } => write!(f, "ONNX Runtime ({})", library.display()),
            Backend::Native => write!(f, "neurotwin's native recurrent evaluation"),
        }
    }
}

/// The backend of this process and, if it is not what was asked for, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendChoice {
    pub backend: Backend,
    /// E.g. "could not load ONNX Runtime from …: …; using tract". Show it to the user.
    pub warning: Option<String>,
}

struct Selected {
    choice: BackendChoice,
    env: ort::environment::Environment,
}

static SELECTED: OnceLock<Selected> = OnceLock::new();
/// Serialises first selection so two threads cannot both try to set the API.
static SELECTING: Mutex<()> = Mutex::new(());

/// The environment variable `ort` reads for the native library's path.
pub const ORT_DYLIB_PATH: &str = "ORT_DYLIB_PATH";

/// Choose the backend for this process: native ONNX Runtime from `onnxruntime` (or, if `None`, from
/// `ORT_DYLIB_PATH` when set and non-empty), else tract. Idempotent: once chosen, every call
/// returns the first choice.
pub fn select_backend(onnxruntime: Option<&Path>) -> Result<BackendChoice, SurrogateError> {
    let requested: Option<PathBuf> = onnxruntime
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os(ORT_DYLIB_PATH).filter(|s| !s.is_empty()).map(PathBuf::from));
    select(requested)
}

/// Choose tract for this process whatever `ORT_DYLIB_PATH` says (idempotent like
/// [`select_backend`]).
pub fn select_tract() -> Result<BackendChoice, SurrogateError> {
    select(None)
}

fn select(requested: Option<PathBuf>) -> Result<BackendChoice, SurrogateError> {
    if let Some(sel) = SELECTED.get() {
        return Ok(already_selected(&sel.choice, requested.as_deref()));
    }
    // a poisoned lock only means another selecting thread panicked; the OnceLock stays consistent
    let _guard = SELECTING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(sel) = SELECTED.get() {
        return Ok(already_selected(&sel.choice, requested.as_deref()));
    }
    let selected = match requested {
        Some(library) => match native(&library) {
            Ok(env) => Selected { choice: BackendChoice { backend: Backend::OnnxRuntime { library }, warning: None }, env },
            Err(reason) => {
                let env = tract()?;
                let warning = Some(format!("could not load ONNX Runtime from {}: {reason}; using tract instead", library.display()));
                Selected { choice: BackendChoice { backend: Backend::Tract, warning }, env }
            }
        },
        None => Selected { choice: BackendChoice { backend: Backend::Tract, warning: None }, env: tract()? },
    };
    let choice = selected.choice.clone();
    // cannot fail: we hold the lock and checked that nothing was set
    let _ = SELECTED.set(selected);
    Ok(choice)
}

/// The backend chosen so far, if any.
pub fn selected_backend() -> Option<BackendChoice> {
    SELECTED.get().map(|s| s.choice.clone())
}

/// The environment of the chosen backend (choosing the default if none was chosen yet).
pub(crate) fn environment() -> Result<&'static ort::environment::Environment, SurrogateError> {
    if SELECTED.get().is_none() {
        select_backend(None)?;
    }
    SELECTED.get().map(|s| &s.env).ok_or_else(|| SurrogateError::Backend("no backend selected".into()))
}

fn already_selected(choice: &BackendChoice, requested: Option<&Path>) -> BackendChoice {
    let differs = match (&choice.backend, requested) {
        (Backend::OnnxRuntime { library }, Some(r)) => library != r,
        (Backend::Tract, Some(_)) => choice.warning.is_none(),
        (Backend::OnnxRuntime { .. }, None) => true,
        (Backend::Tract, None) => false,
        (Backend::Native, _) => false,
    };
    let mut out = choice.clone();
    if differs {
        let asked = requested.map_or("tract".to_string(), |p| format!("ONNX Runtime from {}", p.display()));
        let note = format!("the ONNX backend is chosen once per process and is already {}; {asked} was not loaded", choice.backend);
        out.warning = Some(match &choice.warning {
            Some(w) => format!("{w}; {note}"),
            None => note,
        });
    }
    out
}

fn native(library: &Path) -> Result<ort::environment::Environment, String> {
    if !library.is_file() {
        return Err("no such file".into());
    }
    let builder = ort::init_from(library).map_err(|e| e.to_string())?;
    builder.with_name("neurotwin").build().map_err(|e| e.to_string())
}

fn tract() -> Result<ort::environment::Environment, SurrogateError> {
    if !ort::set_api(ort_tract::api()) {
        return Err(SurrogateError::Backend("the ort API was already initialised outside neurotwin's backend selection".into()));
    }
    ort::init().with_name("neurotwin").build().map_err(|e| SurrogateError::Backend(format!("tract environment: {e}")))
}
