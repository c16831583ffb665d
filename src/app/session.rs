//! One opened morphology: the cell's geometry, its runner and what the user placed on it.

use super::geometry::NeuronGeometry;
use super::model::ModelFactory;
use super::placements::Placements;
use super::runner::{Runner, RunnerSetup};
use super::worker::BackgroundSegment;
use crate::morphology::{Cable, Discretisation, Morphology, SectionKind};
use anyhow::Context as _;
use std::path::Path;
use std::sync::Arc;

pub struct Session {
    pub morph: Arc<Morphology>,
    pub cable: Arc<Cable>,
    pub geometry: Arc<NeuronGeometry>,
    pub runner: Runner,
    pub placements: Placements,
    pub soma_node: usize,
}

impl Session {
    /// Load `path`, discretise it as the Hay 2011 template does, build the 3-D geometry and start
    /// a runner with the model from `factory` (or none, with the reason shown in the UI).
    pub fn open(path: &Path, factory: Option<&ModelFactory>, geometry_id: u64) -> anyhow::Result<Session> {
        let morph = crate::morphology::load(path).with_context(|| format!("opening {}", path.display()))?;
        Session::from_morphology(morph, factory, geometry_id)
    }

    pub fn from_morphology(morph: Morphology, factory: Option<&ModelFactory>, geometry_id: u64) -> anyhow::Result<Session> {
        let cable = Cable::new(&morph, &Discretisation::default()).with_context(|| format!("discretising {}", morph.source))?;
        let geometry = NeuronGeometry::build(&morph, &cable, geometry_id);
        let soma_node = cable.segment_node(0, 0.5);
        let setup = RunnerSetup {
            soma_node,
            background_segments: background_segments(&morph, &cable),
            window_ms: 1000.0,
            seed: 20210901,
        };
        let runner = match factory {
            Some(f) => match f(&morph, &cable) {
                Ok(model) => Runner::spawn(model, setup)?,
                Err(e) => Runner::without_model(format!("the simulation model failed to start: {e:#}")),
            },
            None => Runner::without_model("no simulation engine is connected yet: showing the morphology only"),
        };
        Ok(Session {
            morph: Arc::new(morph),
            cable: Arc::new(cable),
            geometry: Arc::new(geometry),
            runner,
            placements: Placements::default(),
            soma_node,
        })
    }
}

/// Every basal then apical segment, sections in order and segments by increasing x: the
/// dataset's segment order (spec §6.1).
pub fn background_segments(morph: &Morphology, cable: &Cable) -> Vec<BackgroundSegment> {
    let mut out = Vec::new();
    for kind in [SectionKind::Basal, SectionKind::Apical] {
        for si in (0..morph.sections.len()).filter(|&i| morph.sections[i].kind == kind) {
            let (Some(&nseg), Some(&first), Some(&len)) =
                (cable.section_nseg.get(si), cable.section_first_node.get(si), cable.section_length_um.get(si))
            else {
                continue;
            };
            for j in 0..nseg {
                out.push(BackgroundSegment {
                    node: first + j,
                    apical: kind == SectionKind::Apical,
                    adjusted_length_um: len / nseg as f64 + 10.0,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn cell1_has_the_datasets_639_segments() {
        let path = PathBuf::from("../shared/morphologies/cell1_neuron_geometry.json");
        if !path.exists() {
            eprintln!("SKIPPED: {} is absent", path.display());
            return;
        }
        let morph = crate::morphology::load(&path).expect("load");
        let cable = Cable::new(&morph, &Discretisation::default()).expect("cable");
        assert_eq!(background_segments(&morph, &cable).len(), 639);
    }
}
