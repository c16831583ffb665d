//! Which twins fit the open morphology: the models in the models folder (`models/` unless
//! `--models DIR`) that `surrogate::models_for` accepts, best first, and the twin thread of a
//! session connected to its engine worker.

use crate::app::live::runner::{Command, Runner};
use super::thread::Twin;
use crate::morphology::{Cable, Morphology};
use crate::stimulus::DendriticSegments;
use crate::surrogate::{default_model, models_for, Candidate, CellInputs, Fit};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The models that fit a cell.
#[derive(Debug, Clone)]
pub struct TwinModels {
    pub dir: PathBuf,
    /// The cell as the models see it (fingerprint, rows), or why it could not be described.
    pub cell: Result<CellInputs, String>,
    pub candidates: Vec<Candidate>,
    /// Why none fits (empty folder, other morphologies), when `candidates` is empty.
    pub problem: Option<String>,
}

impl TwinModels {
    pub fn scan(dir: &Path, morph: &Morphology, cable: &Cable) -> TwinModels {
        let mut out = TwinModels { dir: dir.to_path_buf(), cell: Err(String::new()), candidates: Vec::new(), problem: None };
        // the same fingerprint as `neurotwin dataset` computes: the morphology after the Hay axon
        // replacement, discretised with the default (Hay 2011) rule
        let cell = match CellInputs::new(morph, cable) {
            Ok(c) => c,
            Err(e) => {
                out.problem = Some(format!("this morphology cannot drive a twin: {e}"));
                out.cell = Err(e.to_string());
                return out;
            }
        };
        match models_for(dir, &cell) {
            Ok(c) if !c.is_empty() => out.candidates = c,
            Ok(_) => out.problem = default_model(dir, &cell).err().map(|e| e.to_string()),
            Err(e) => out.problem = Some(e.to_string()),
        }
        out.cell = Ok(cell);
        out
    }

    /// Label of a candidate in the model list.
    pub fn label(c: &Candidate) -> String {
        match c.fit {
            Fit::Exact => c.metadata.name.clone(),
            Fit::RowsOnly => format!("{} (other morphology, same rows)", c.metadata.name),
        }
    }
}

/// A session's twin: its thread and the models offered.
pub struct TwinSession {
    pub twin: Twin,
    pub models: TwinModels,
}

impl TwinSession {
    /// Scan `dir`, start the twin thread, connect it to `runner` and select the default model.
    pub fn start(dir: &Path, morph: &Morphology, cable: &Cable, runner: &mut Runner) -> anyhow::Result<TwinSession> {
        let models = TwinModels::scan(dir, morph, cable);
        let segments = Arc::new(DendriticSegments::new(morph, cable)?);
        let (mut twin, link) = Twin::spawn(segments)?;
        runner.send(Command::SetTwin(Some(link)));
        if let Some(best) = models.candidates.first() {
            twin.select(Some(best.onnx_path.clone()));
        }
        Ok(TwinSession { twin, models })
    }
}
