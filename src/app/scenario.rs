//! Scenarios: what the user set up, saved and loaded as JSON: synapses (section, x, kind,
//! drive), recording sites, the somatic clamp, the background protocol, NMDA and the speed.
//! Locations are (NEURON section name, x), so a scenario also opens on another morphology that
//! has the same section names.

use crate::app::live::drives::{BackgroundSettings, Drive};
use crate::app::live::model::SynapseKind;
use crate::app::panels::ControlPanel;
use crate::app::live::placements::{Location, Placements};
use crate::app::live::runner::{ClampSettings, Command, Runner, Speed};
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

    /// Read a scenario file: a regular file under the JSON size limit ([`crate::input`]; a FIFO
    /// or `/dev/zero` is refused at once), of this format.
    pub fn load(path: &Path) -> Result<Scenario> {
        let text = crate::input::read_json_text(path).with_context(|| format!("reading scenario {}", path.display()))?;
        Scenario::parse(&text, &path.display().to_string())
    }

    /// Parse a scenario from its JSON text (format checked; limits by [`Scenario::check_limits`]);
    /// `name` (the file) prefixes every error.
    pub fn parse(text: &str, name: &str) -> Result<Scenario> {
        let s: Scenario = serde_json::from_str(text).with_context(|| format!("scenario {name} is not valid"))?;
        if s.format != SCENARIO_FORMAT {
            bail!("scenario {name}: format {:?}, expected {SCENARIO_FORMAT:?}", s.format);
        }
        Ok(s)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        crate::atomic::write(path, text + "\n").with_context(|| format!("writing scenario {}", path.display()))
    }

    /// Every limit of `crate::limits` a scenario can break, checked before anything is applied;
    /// each error names the field (`synapses[3].drive`, `clamp.amp_na`, …) and the limit.
    /// Nothing is clamped: a value the controls could not show is refused.
    pub fn check_limits(&self) -> Result<()> {
        use crate::limits::{check_clamp, check_count, check_range, check_synapse_count};
        use crate::limits::{MAX_BACKGROUND_PER_100MS, MAX_RECORDING_SITES, MAX_REAL_TIME_FACTOR, MIN_REAL_TIME_FACTOR};
        check_synapse_count("scenario: the number of synapses", self.synapses.len())?;
        check_count("scenario: the number of recording_sites", self.recording_sites.len(), MAX_RECORDING_SITES, None)?;
        for (i, s) in self.synapses.iter().enumerate() {
            s.drive.validate().with_context(|| format!("scenario: synapses[{i}].drive (at {}({}))", s.section, s.x))?;
        }
        if let Some(c) = &self.clamp {
            check_clamp("scenario: clamp.", c.amp_na, c.delay_ms, c.dur_ms)?;
        }
        if let Some(b) = &self.background {
            let s = &b.settings;
            for (name, v) in [
                ("basal_exc_per_100ms", s.basal_exc_per_100ms),
                ("basal_inh_per_100ms", s.basal_inh_per_100ms),
                ("apical_exc_per_100ms", s.apical_exc_per_100ms),
                ("apical_inh_per_100ms", s.apical_inh_per_100ms),
            ] {
                check_range(&format!("scenario: background.{name}"), v, 0.0, MAX_BACKGROUND_PER_100MS)?;
            }
        }
        // the slider's range, with room for the rounding of 10^log10
        let rtf = self.real_time_factor;
        if !(rtf.is_finite() && (MIN_REAL_TIME_FACTOR * (1.0 - 1e-9)..=MAX_REAL_TIME_FACTOR * (1.0 + 1e-9)).contains(&rtf)) {
            bail!("scenario: real_time_factor is {rtf}, outside the allowed range [{MIN_REAL_TIME_FACTOR}, {MAX_REAL_TIME_FACTOR}] (use \"max_speed\": true for faster)");
        }
        Ok(())
    }

    /// Replace the current set-up with this scenario. Every limit, location and drive is checked
    /// first, and the engine gets the whole scenario as one command: on any error (a limit, an
    /// unknown section, a busy simulation) nothing changes.
    pub fn apply(&self, morph: &Morphology, cable: &Cable, controls: &mut ControlPanel, placements: &mut Placements, runner: &mut Runner) -> Result<()> {
        self.check_limits()?;
        let locate = |what: String, section: &str, x: f64| -> Result<Location> {
            let si = morph.section_index(section).with_context(|| format!("scenario: {what}: this cell has no section {section}"))?;
            if !(0.0..=1.0).contains(&x) {
                bail!("scenario: {what}: {section}({x}) is outside the section (x must be in [0, 1])");
            }
            Location::new(morph, cable, si, x).with_context(|| format!("scenario: {what}: cannot place at {section}({x})"))
        };
        let mut synapses = Vec::with_capacity(self.synapses.len());
        for (i, s) in self.synapses.iter().enumerate() {
            synapses.push((locate(format!("synapses[{i}]"), &s.section, s.x)?, s.kind, s.drive.clone()));
        }
        let sites = self.recording_sites.iter().enumerate().map(|(i, s)| locate(format!("recording_sites[{i}]"), &s.section, s.x)).collect::<Result<Vec<_>>>()?;

        let clamp = self.clamp.as_ref().map(|c| ClampSettings { amp_na: c.amp_na, delay_ms: c.delay_ms, dur_ms: c.dur_ms });
        let clamp_on = self.clamp.as_ref().is_some_and(|c| c.on);
        let background_on = self.background.as_ref().is_some_and(|b| b.on);
        let speed_log10 = self.real_time_factor.log10().clamp(crate::app::panels::controls::SPEED_LOG_MIN, crate::app::panels::controls::SPEED_LOG_MAX);
        let speed = if self.max_speed { Speed::Max } else { Speed::RealTimeFactor(10f64.powf(speed_log10)) };
        let then = vec![
            Command::SetNmda(self.nmda),
            Command::SetClamp(clamp.filter(|_| clamp_on)),
            Command::SetBackground(self.background.as_ref().filter(|b| b.on).map(|b| b.settings.clone())),
            Command::SetSpeed(speed),
        ];
        placements.replace_all(runner, synapses, sites, then).map_err(|e| anyhow::anyhow!("scenario not applied: {e}"))?;

        // the engine has it all: now the controls show it
        controls.nmda = self.nmda;
        if let Some(c) = clamp {
            controls.clamp = c;
        }
        controls.clamp_on = clamp_on;
        if let Some(b) = &self.background {
            controls.background = b.settings.clone();
        }
        controls.background_on = background_on;
        controls.speed_log10 = speed_log10;
        controls.max_speed = self.max_speed;
        Ok(())
    }
}

#[cfg(test)]
#[path = "scenario_tests.rs"]
mod tests;
