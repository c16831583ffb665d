//! Which twins fit the open morphology: the models in the models folder (`models/` unless
//! `--models DIR`) that `surrogate::models_for` accepts, best first, and the twin thread of a
//! session connected to its engine worker.

use crate::app::live::runner::{Command, Runner};
use super::elm_download::ElmDownload;
use super::thread::{ThresholdChoice, Twin};
use crate::morphology::{Cable, Morphology};
use crate::stimulus::{DendriticSegments, InputVariant};
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

    /// Read the folder again (new files, e.g. after "Get the published ELM twin").
    pub fn refresh(&mut self) {
        let Ok(cell) = &self.cell else { return };
        match models_for(&self.dir, cell) {
            Ok(c) => {
                self.problem = if c.is_empty() { default_model(&self.dir, cell).err().map(|e| e.to_string()) } else { None };
                self.candidates = c;
            }
            Err(e) => self.problem = Some(e.to_string()),
        }
    }

    /// True when the published ELM (its metadata's morphology fingerprint) fits this cell and is
    /// not in the folder yet: the app offers to download it.
    pub fn could_get_published_elm(&self) -> bool {
        let Ok(cell) = &self.cell else { return false };
        let fits = crate::surrogate::ModelMetadata::parse(crate::peer::ELM_METADATA_JSON, crate::peer::ELM_NAME)
            .is_ok_and(|m| m.morphology_fingerprint == cell.fingerprint && m.input_rows.n_rows == cell.n_rows);
        fits && !self.candidates.iter().any(|c| c.metadata.name == crate::peer::ELM_NAME)
    }

    /// Label of a candidate in the model list.
    pub fn label(c: &Candidate) -> String {
        match c.fit {
            Fit::Exact => c.metadata.name.clone(),
            Fit::RowsOnly => format!("{} (other morphology, same rows)", c.metadata.name),
        }
    }
}

/// A session's twins: the twin (magenta), a second twin compared with it (its own thread, off
/// until picked), and the models offered.
pub struct TwinSession {
    pub twin: Twin,
    pub second: Twin,
    pub models: TwinModels,
    /// "Get the published ELM twin" (into `models.dir`).
    pub elm_download: ElmDownload,
    /// The last download's message (or error).
    pub elm_message: Option<Result<String, String>>,
    /// The threshold both twins mark predicted spikes with.
    pub threshold: ThresholdChoice,
    /// The synapse mode (NMDA on) the twin's model was last matched to ([`Self::follow_nmda`]).
    pub nmda_seen: bool,
    /// What the last match did, for the twin panel: the switch to a model trained on the other
    /// protocol, or why the twin still runs a model trained on the other one.
    pub synapse_note: Option<String>,
}

impl TwinSession {
    /// Scan `dir`, start both twin threads, connect them to `runner` and select the defaults: the
    /// best fitting model of our own as the twin and, when a published third-party twin fits too
    /// (the ELM of Spieler et al. on the Hay cell), that one as the second twin.
    pub fn start(dir: &Path, morph: &Morphology, cable: &Cable, runner: &mut Runner) -> anyhow::Result<TwinSession> {
        let models = TwinModels::scan(dir, morph, cable);
        let segments = Arc::new(DendriticSegments::new(morph, cable)?);
        let (mut twin, link) = Twin::spawn(segments.clone())?;
        runner.send(Command::SetTwin { slot: 0, link: Some(link) });
        let (mut second, link2) = Twin::spawn(segments)?;
        runner.send(Command::SetTwin { slot: 1, link: Some(link2) });
        let (first, other) = default_pair(&models.candidates, true);
        if let Some(p) = first {
            twin.select(Some(p));
        }
        if let Some(p) = other {
            second.select(Some(p));
        }
        let elm_download = ElmDownload::new(crate::peer::ElmFetchOptions::new(models.dir.clone()));
        Ok(TwinSession {
            twin,
            second,
            models,
            threshold: ThresholdChoice::default(),
            elm_download,
            elm_message: None,
            nmda_seen: true,
            synapse_note: None,
        })
    }

    /// Keep the twin's model on the cell's synapse mode: when NMDA is switched off (or on) and the
    /// running model was trained on the other protocol, run our own model for this cell trained
    /// on this one (`l5pc-hay-ampa` for the Hay cell without NMDA), as the paper compares them.
    /// Acts only when the mode changes, so a model picked by hand afterwards stays. Call once
    /// per frame with the controls' NMDA switch.
    pub fn follow_nmda(&mut self, nmda: bool) {
        if self.nmda_seen == nmda {
            return;
        }
        self.nmda_seen = nmda;
        let wanted = if nmda { InputVariant::Nmda } else { InputVariant::Ampa };
        let current = self.twin.selected.as_deref().and_then(|p| self.models.candidates.iter().find(|c| c.onnx_path == p));
        let Some(current) = current else {
            self.synapse_note = None;
            return;
        };
        if current.variant() == wanted {
            self.synapse_note = None;
            return;
        }
        let (from, mode) = (current.metadata.name.clone(), variant_words(wanted));
        match model_for_variant(&self.models.candidates, wanted) {
            Some(c) => {
                self.synapse_note = Some(format!("{mode}: the twin now runs {}, trained on that protocol (was {from})", c.metadata.name));
                self.twin.select(Some(c.onnx_path.clone()));
            }
            None => {
                self.synapse_note = Some(format!(
                    "{mode}, but {from} was trained with {} and no twin of this cell was trained on this protocol: its predictions are for the other synapses",
                    variant_words(current.variant())
                ));
            }
        }
    }

    /// After a finished "Get the published ELM twin": read the folder again and start the ELM as
    /// the second twin when it fits and the second twin is off. Call once per frame.
    pub fn poll_elm_download(&mut self) {
        let Some(outcome) = self.elm_download.poll() else { return };
        if let Err(e) = &outcome {
            eprintln!("neurotwin: error: {e}");
        }
        if outcome.is_ok() {
            self.models.refresh();
            let (first, second) = default_pair(&self.models.candidates, self.nmda_seen);
            if self.twin.selected.is_none() {
                // nothing ran (no model of our own fits): the ELM becomes the twin
                if let Some(p) = first {
                    self.twin.select(Some(p));
                }
            } else if self.second.selected.is_none() {
                if let Some(p) = second {
                    self.second.select(Some(p));
                }
            }
        }
        self.elm_message = Some(outcome);
    }

    /// Use `choice` on both twins.
    pub fn set_threshold(&mut self, choice: ThresholdChoice) {
        self.threshold = choice;
        self.twin.set_threshold(choice);
        self.second.set_threshold(choice);
    }
}

/// True for a published third-party twin (its metadata names a source: `network.source`).
pub fn is_published(c: &Candidate) -> bool {
    c.is_published()
}

fn variant_words(v: InputVariant) -> &'static str {
    match v {
        InputVariant::Nmda => "NMDA on (AMPA+NMDA synapses)",
        InputVariant::Ampa => "NMDA off (AMPA-only synapses)",
    }
}

/// Our own model for exactly this cell trained on `variant`'s protocol, from candidates sorted
/// best first.
pub fn model_for_variant(candidates: &[Candidate], variant: InputVariant) -> Option<&Candidate> {
    candidates.iter().find(|c| !is_published(c) && c.fit == Fit::Exact && c.variant() == variant)
}

/// The default twin (the best fitting model of our own trained on the synapse mode's protocol,
/// else our best fitting one, else the best fit) and second twin (the best fitting published
/// model that is not the first, on the mode's protocol if there is one), from candidates sorted
/// best first.
pub fn default_pair(candidates: &[Candidate], nmda: bool) -> (Option<PathBuf>, Option<PathBuf>) {
    let wanted = if nmda { InputVariant::Nmda } else { InputVariant::Ampa };
    let first = model_for_variant(candidates, wanted).or_else(|| candidates.iter().find(|c| !is_published(c))).or(candidates.first());
    let published = |c: &&Candidate| is_published(c) && Some(&c.onnx_path) != first.map(|f| &f.onnx_path) && c.fit == Fit::Exact;
    let second = candidates.iter().filter(published).find(|c| c.variant() == wanted).or_else(|| candidates.iter().find(published));
    (first.map(|c| c.onnx_path.clone()), second.map(|c| c.onnx_path.clone()))
}
