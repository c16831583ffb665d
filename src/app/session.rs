//! One opened morphology: the cell's geometry, its runner and what the user placed on it.
//!
//! Morphologies are opened as the Hay et al. 2011 model instantiates them (traced axon replaced
//! by the two-cylinder stub), so the view shows exactly the compartments that are simulated.

use crate::app::view::geometry::NeuronGeometry;
use crate::app::view::view3d::ViewedCell;
use crate::app::live::model::ModelFactory;
use crate::app::live::placements::Placements;
use crate::app::live::runner::{Runner, RunnerSetup};
use crate::morphology::{Cable, Discretisation, Morphology};
use crate::stimulus::DendriticSegments;
use anyhow::Context as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The shipped procedural L5 pyramidal cell (`morphologies/l5pc-synthetic.swc`), built in.
pub const EMBEDDED_SYNTHETIC_SWC: &str = crate::morphology::builtin::SYNTHETIC_SWC;
pub const EMBEDDED_SYNTHETIC_NAME: &str = crate::morphology::builtin::SYNTHETIC_NAME;

/// Where a morphology comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum MorphologySource {
    File(PathBuf),
    /// The shipped synthetic cell, compiled into the binary.
    EmbeddedSynthetic,
}

impl MorphologySource {
    /// `cell1.asc` in `morphologies/` of the working directory when present, else the shipped
    /// synthetic cell.
    pub fn default_for(working_dir: &Path) -> MorphologySource {
        MorphologySource::default_in(&[working_dir.to_path_buf()])
    }

    /// `morphologies/cell1.asc` under the first of `roots` that has it (see [`crate::locate`]),
    /// else the shipped synthetic cell (compiled in, so it is found wherever the app starts).
    pub fn default_in(roots: &[PathBuf]) -> MorphologySource {
        match crate::locate::find_in(roots, Path::new("morphologies/cell1.asc"), crate::locate::Want::File, "Hay morphology") {
            Ok(hay) => MorphologySource::File(hay),
            Err(_) => MorphologySource::EmbeddedSynthetic,
        }
    }

    /// The default morphology wherever the program was started ([`crate::locate::process_roots`]).
    pub fn default_found() -> MorphologySource {
        MorphologySource::default_in(&crate::locate::process_roots())
    }

    pub fn display(&self) -> String {
        match self {
            MorphologySource::File(p) => p.display().to_string(),
            MorphologySource::EmbeddedSynthetic => EMBEDDED_SYNTHETIC_NAME.to_string(),
        }
    }

    /// Read and build the morphology with the Hay axon stub.
    pub fn load(&self) -> anyhow::Result<Morphology> {
        match self {
            MorphologySource::File(path) => {
                crate::morphology::load_hay2011(path).with_context(|| format!("opening {}", path.display()))
            }
            MorphologySource::EmbeddedSynthetic => crate::morphology::builtin::synthetic_hay2011().context("reading the built-in cell"),
        }
    }
}

pub struct Session {
    pub source: MorphologySource,
    pub morph: Arc<Morphology>,
    pub cable: Arc<Cable>,
    pub geometry: Arc<NeuronGeometry>,
    pub runner: Runner,
    pub placements: Placements,
    pub soma_node: usize,
    /// The deep-network twin (`None` until [`Session::start_twin`], or without a model folder).
    pub twin: Option<crate::app::twin::models::TwinSession>,
    /// Why the twin could not start.
    pub twin_error: Option<String>,
}

impl Session {
    /// What the 3-D view draws and edits of this cell.
    pub fn viewed(&mut self) -> ViewedCell<'_> {
        ViewedCell { morph: &self.morph, cable: &self.cable, geometry: &self.geometry, runner: &mut self.runner, placements: &mut self.placements }
    }

    /// Load `source`, discretise it as the Hay 2011 template does, build the 3-D geometry and
    /// start a runner with the model from `factory` (or none, with the reason shown in the UI).
    pub fn open(source: &MorphologySource, factory: Option<&ModelFactory>, geometry_id: u64) -> anyhow::Result<Session> {
        let morph = source.load()?;
        let mut session = Session::from_morphology(morph, factory, geometry_id)?;
        session.source = source.clone();
        Ok(session)
    }

    pub fn from_morphology(morph: Morphology, factory: Option<&ModelFactory>, geometry_id: u64) -> anyhow::Result<Session> {
        let cable = Cable::new(&morph, &Discretisation::default()).with_context(|| format!("discretising {}", morph.source))?;
        let geometry = NeuronGeometry::build(&morph, &cable, geometry_id);
        let soma_node = cable.segment_node(0, 0.5);
        let setup = RunnerSetup {
            soma_node,
            background_segments: DendriticSegments::new(&morph, &cable).ok().map(Arc::new),
            window_ms: 1000.0,
        };
        let runner = match factory {
            Some(f) => match f(&morph, &cable) {
                Ok(model) => Runner::spawn(model, setup)?,
                Err(e) => Runner::without_model(format!("the simulation model failed to start: {e:#}")),
            },
            None => Runner::without_model("no simulation model is connected: showing the morphology only"),
        };
        Ok(Session {
            source: MorphologySource::File(PathBuf::from(&morph.source)),
            morph: Arc::new(morph),
            cable: Arc::new(cable),
            geometry: Arc::new(geometry),
            runner,
            placements: Placements::default(),
            soma_node,
            twin: None,
            twin_error: None,
        })
    }

    /// Offer the twins in `models_dir` that fit this cell and run the best one next to the engine.
    pub fn start_twin(&mut self, models_dir: &Path) {
        if !self.runner.has_model() {
            self.twin_error = Some("the twin runs on the simulation's input, and no simulation runs".into());
            return;
        }
        match crate::app::twin::models::TwinSession::start(models_dir, &self.morph, &self.cable, &mut self.runner) {
            Ok(t) => self.twin = Some(t),
            Err(e) => self.twin_error = Some(format!("the twin could not start: {e:#}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell1_has_the_datasets_639_segments() {
        let path = PathBuf::from("../shared/morphologies/cell1.asc");
        if !path.exists() {
            eprintln!("SKIPPED: {} is absent", path.display());
            return;
        }
        let morph = MorphologySource::File(path).load().expect("load");
        let cable = Cable::new(&morph, &Discretisation::default()).expect("cable");
        assert_eq!(DendriticSegments::new(&morph, &cable).expect("segments").len(), 639);
    }

    #[test]
    fn the_default_is_the_built_in_cell_unless_cell1_is_there() {
        let dir = tempfile::tempdir().expect("tmp");
        assert_eq!(MorphologySource::default_for(dir.path()), MorphologySource::EmbeddedSynthetic);
        let morph = MorphologySource::EmbeddedSynthetic.load().expect("built-in cell");
        assert!(morph.sections.iter().filter(|s| s.name.starts_with("axon")).count() == 2, "Hay axon stub");
        std::fs::create_dir(dir.path().join("morphologies")).expect("mkdir");
        std::fs::write(dir.path().join("morphologies/cell1.asc"), "").expect("write");
        assert!(matches!(MorphologySource::default_for(dir.path()), MorphologySource::File(_)));
    }
}
