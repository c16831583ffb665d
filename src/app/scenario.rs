//! Scenarios: what the user set up, saved and loaded as JSON: synapses (section, x, kind,
//! drive), recording sites, the somatic clamp, the background protocol, NMDA and the speed.
//! Locations are (NEURON section name, x), so a scenario also opens on another morphology that
//! has the same section names.

use crate::app::live::drives::{BackgroundSettings, Drive};
use crate::app::live::model::SynapseKind;
use crate::app::panels::ControlPanel;
use crate::app::live::placements::{Location, Placements};
use crate::app::live::runner::{ClampSettings, Command, Runner};
use crate::morphology::{Cable, Morphology};
use anyhow::{bail, Context as _, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const SCENARIO_FORMAT: &str = "neurotwin-scenario-v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioSynapse {
    pub section: String,
    pub x: f64,
    pub kind: SynapseKind,
    pub drive: Drive,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioSite {
    pub section: String,
    pub x: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioClamp {
    pub on: bool,
    pub amp_na: f64,
    pub delay_ms: f64,
    pub dur_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioBackground {
    pub on: bool,
    #[serde(flatten)]
    pub settings: BackgroundSettings,
}

fn default_true() -> bool {
    true
}

fn default_speed() -> f64 {
    1.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub format: String,
    /// The morphology it was made on (information only).
    #[serde(default)]
    pub morphology: Option<String>,
    #[serde(default)]
    pub synapses: Vec<ScenarioSynapse>,
    #[serde(default)]
    pub recording_sites: Vec<ScenarioSite>,
    #[serde(default)]
    pub clamp: Option<ScenarioClamp>,
    #[serde(default)]
    pub background: Option<ScenarioBackground>,
    #[serde(default = "default_true")]
    pub nmda: bool,
    /// Requested speed as a multiple of real time.
    #[serde(default = "default_speed")]
    pub real_time_factor: f64,
    /// As fast as the model goes (overrides `real_time_factor`).
    #[serde(default)]
    pub max_speed: bool,
}

impl Scenario {
    /// What is set up now.
    pub fn capture(controls: &ControlPanel, placements: &Placements, morphology: &str) -> Scenario {
        Scenario {
            format: SCENARIO_FORMAT.into(),
            morphology: Some(morphology.to_string()),
            synapses: placements
                .synapses
                .iter()
                .map(|s| ScenarioSynapse { section: s.at.section_name.clone(), x: s.at.x, kind: s.kind, drive: s.drive.clone() })
                .collect(),
            recording_sites: placements.sites.iter().map(|s| ScenarioSite { section: s.at.section_name.clone(), x: s.at.x }).collect(),
            clamp: Some(ScenarioClamp {
                on: controls.clamp_on,
                amp_na: controls.clamp.amp_na,
                delay_ms: controls.clamp.delay_ms,
                dur_ms: controls.clamp.dur_ms,
            }),
            background: Some(ScenarioBackground { on: controls.background_on, settings: controls.background.clone() }),
            nmda: controls.nmda,
            real_time_factor: 10f64.powf(controls.speed_log10),
            max_speed: controls.max_speed,
        }
    }

    pub fn load(path: &Path) -> Result<Scenario> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading scenario {}", path.display()))?;
        let s: Scenario = serde_json::from_str(&text).with_context(|| format!("scenario {} is not valid", path.display()))?;
        if s.format != SCENARIO_FORMAT {
            bail!("scenario {}: format {:?}, expected {SCENARIO_FORMAT:?}", path.display(), s.format);
        }
        Ok(s)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing scenario {}", path.display()))
    }

    /// Replace the current set-up with this scenario. Every location and drive is checked first:
    /// on any error nothing changes.
    pub fn apply(&self, morph: &Morphology, cable: &Cable, controls: &mut ControlPanel, placements: &mut Placements, runner: &mut Runner) -> Result<()> {
        let locate = |section: &str, x: f64| -> Result<Location> {
            let si = morph.section_index(section).with_context(|| format!("scenario: this cell has no section {section}"))?;
            if !(0.0..=1.0).contains(&x) {
                bail!("scenario: {section}({x}) is outside the section");
            }
            Location::new(morph, cable, si, x).with_context(|| format!("scenario: cannot place at {section}({x})"))
        };
        let mut synapses = Vec::new();
        for s in &self.synapses {
            s.drive.validate().with_context(|| format!("scenario: drive of the synapse at {}({})", s.section, s.x))?;
            synapses.push((locate(&s.section, s.x)?, s.kind, s.drive.clone()));
        }
        let sites = self.recording_sites.iter().map(|s| locate(&s.section, s.x)).collect::<Result<Vec<_>>>()?;
        if !(self.real_time_factor.is_finite() && self.real_time_factor > 0.0) {
            bail!("scenario: real_time_factor must be > 0, got {}", self.real_time_factor);
        }

        placements.clear(runner);
        for (at, kind, drive) in synapses {
            placements.add_synapse_with(runner, at, kind, drive);
        }
        for at in sites {
            placements.add_site(runner, at);
        }
        placements.selected = None;
        controls.nmda = self.nmda;
        runner.send(Command::SetNmda(self.nmda));
        if let Some(c) = &self.clamp {
            controls.clamp = ClampSettings { amp_na: c.amp_na, delay_ms: c.delay_ms, dur_ms: c.dur_ms };
            controls.clamp_on = c.on;
        } else {
            controls.clamp_on = false;
        }
        runner.send(Command::SetClamp(controls.clamp_on.then_some(controls.clamp)));
        match &self.background {
            Some(b) => {
                controls.background_on = b.on;
                controls.background = b.settings.clone();
            }
            None => controls.background_on = false,
        }
        runner.send(Command::SetBackground(controls.background_on.then(|| controls.background.clone())));
        controls.speed_log10 = self.real_time_factor.log10().clamp(crate::app::panels::controls::SPEED_LOG_MIN, crate::app::panels::controls::SPEED_LOG_MAX);
        controls.max_speed = self.max_speed;
        runner.send(Command::SetSpeed(controls.speed()));
        Ok(())
    }
}
