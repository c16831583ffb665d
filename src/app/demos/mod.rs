//! Teaching demos, one click each: a built-in [`Scenario`] made for the open cell (inputs placed
//! by geometry, see [`sites`]) plus a short text saying what to watch. Starting one resets the
//! simulation, applies the scenario and plays; the short demos play in slow motion (each takes
//! [`DEMO_WALL_S`] on screen), then pause by themselves so the traces stay, and offer Replay.

pub mod panel;
pub mod sites;
mod text;
#[cfg(test)]
mod tests;

use crate::app::live::drives::{BackgroundMode, BackgroundSettings};
use crate::app::live::model::SynapseKind;
use crate::app::scenario::{Scenario, ScenarioBackground, ScenarioClamp, ScenarioSite, ScenarioSynapse, SCENARIO_FORMAT};
use crate::morphology::{Cable, Morphology};
use crate::stimulus::SpikeDrive;
use anyhow::{Context as _, Result};
use sites::SectionX;

/// The six demos of issue #9 ("Why did it spike?").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Demo {
    EpspAttenuation,
    NmdaSpike,
    BacFiring,
    InhibitoryVeto,
    BackgroundTwin,
    AmpaOnly,
}

/// What a demo sets up.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSetup {
    pub scenario: Scenario,
    /// Trace window that shows the whole demo (ms).
    pub trace_window_ms: f64,
    /// Pause when simulation time reaches this (ms); `None`: run on.
    pub stop_ms: Option<f64>,
    /// The deep-network twin should run beside the cell.
    pub twin: bool,
}

// Demo parameters (times are absolute simulation times after the reset). Measured outcomes on
// the built-in cell are in the demo texts, the tests (`demos::tests`) and docs/app-guide.md.

/// Wall-clock time a short demo (one that pauses at its end) takes on screen (s): it plays in
/// slow motion at its length / this, then pauses and offers Replay.
pub const DEMO_WALL_S: f64 = 12.0;

/// (a) Time of the single synaptic input (ms).
pub const EPSP_INPUT_MS: f64 = 50.0;
/// (a) Where on the distal basal tip section the synapse sits.
pub const EPSP_X: f64 = 0.95;
/// (b) Number of clustered excitatory synapses (unit weight each) fired together.
pub const NMDA_CLUSTER_SIZE: usize = 20;
/// (b) Time of the clustered input (ms).
pub const NMDA_INPUT_MS: f64 = 50.0;
/// (c) Somatic current pulse (duration, start) and distal apical input (synapses at the nexus,
/// alone at `BAC_DISTAL_ALONE_MS`, then paired `BAC_DELAY_MS` after the pulse onset).
pub const BAC_PULSE_DUR_MS: f64 = 5.0;
pub const BAC_PULSE_MS: f64 = 300.0;
pub const BAC_DISTAL_ALONE_MS: f64 = 50.0;
pub const BAC_DELAY_MS: f64 = 5.0;
/// (d) Excitatory synapses on the basal stems (mid-way), fired together, twice (a fresh group each time).
pub const VETO_EXC_SYNAPSES: usize = 120;
pub const VETO_EXC_MS: [f64; 2] = [50.0, 300.0];
/// (d) Inhibitory synapses at and around the soma, fired this long before the *first* volley (the
/// cell's after-hyperpolarisation following a spike at 6.3 °C lasts hundreds of ms, so the
/// inhibited volley comes first and the control second).
pub const VETO_INH_SYNAPSES: usize = 60;
pub const VETO_INH_LEAD_MS: f64 = 3.0;

/// (c) Pulse amplitude (nA) and number of distal synapses, per cell: the classic BAC setting, a
/// pulse that fires one somatic AP alone, 50 distal synapses that alone stay subthreshold, and
/// together a Ca spike and a burst. At the paper's 6.3 °C the Hay cell (and any cell other than
/// the built-in one) fires one AP for 1.5-1.6 nA; the built-in cell, calibrated against it, for
/// 1.3-1.4 nA (1.5 nA already gives a doublet), so it gets 1.35 nA.
pub fn bac_parameters(morph: &Morphology) -> (f64, usize) {
    if morph.source == crate::app::session::EMBEDDED_SYNTHETIC_NAME || morph.source.ends_with("l5pc-synthetic.swc") {
        (1.35, 50)
    } else {
        (1.6, 50)
    }
}

impl Demo {
    pub const ALL: [Demo; 6] = [Demo::EpspAttenuation, Demo::NmdaSpike, Demo::BacFiring, Demo::InhibitoryVeto, Demo::BackgroundTwin, Demo::AmpaOnly];

    /// Name for `--demo NAME`.
    pub fn cli_name(self) -> &'static str {
        match self {
            Demo::EpspAttenuation => "epsp",
            Demo::NmdaSpike => "nmda",
            Demo::BacFiring => "bac",
            Demo::InhibitoryVeto => "veto",
            Demo::BackgroundTwin => "background",
            Demo::AmpaOnly => "ampa",
        }
    }

    pub fn from_cli_name(name: &str) -> Result<Demo, String> {
        Demo::ALL.into_iter().find(|d| d.cli_name() == name).ok_or_else(|| {
            let names: Vec<&str> = Demo::ALL.iter().map(|d| d.cli_name()).collect();
            format!("unknown demo {name:?}; choose one of {}", names.join(", "))
        })
    }

    pub fn title(self) -> &'static str {
        text::title(self)
    }

    /// What to watch, a few short paragraphs.
    pub fn explanation(self) -> &'static str {
        text::explanation(self)
    }

    /// The state to colour the cell by that shows this demo's point (its text says why), with
    /// the button's label.
    pub fn suggested_color(self) -> Option<(crate::app::view::state_colors::ColorBy, &'static str)> {
        use crate::app::view::state_colors::ColorBy;
        use crate::biophysics::mechanisms::NodeQuantity;
        match self {
            Demo::NmdaSpike => Some((ColorBy::State(NodeQuantity::NmdaGNs), "Colour the cell by NMDA conductance")),
            Demo::BacFiring => Some((ColorBy::State(NodeQuantity::CaiMm), "Colour the cell by calcium")),
            _ => None,
        }
    }

    /// The demo for this cell.
    pub fn setup(self, morph: &Morphology, cable: &Cable) -> Result<DemoSetup> {
        let mut b = Builder::new(morph);
        let (window_ms, stop_ms, twin) = match self {
            Demo::EpspAttenuation => {
                let tip = sites::distal_basal_tip(morph, cable).context("this cell has no basal dendrite")?;
                let at = (tip, EPSP_X);
                b.synapse(at, SynapseKind::Excitatory, vec![EPSP_INPUT_MS]);
                b.site(at);
                b.site(sites::on_path_at_distance(morph, cable, tip, 0.5 * sites::dist_um(cable, at)));
                b.site((0, 0.5));
                (200.0, Some(200.0), false)
            }
            Demo::NmdaSpike => {
                let tip = sites::distal_basal_tip(morph, cable).context("this cell has no basal dendrite")?;
                for k in 0..NMDA_CLUSTER_SIZE {
                    // spread over the outer half of the branch: a few neighbouring compartments
                    let x = 0.5 + 0.45 * k as f64 / (NMDA_CLUSTER_SIZE.max(2) - 1) as f64;
                    b.synapse((tip, x), SynapseKind::Excitatory, vec![NMDA_INPUT_MS]);
                }
                b.site((tip, 0.75));
                (300.0, Some(300.0), false)
            }
            Demo::BacFiring => {
                let nexus = sites::apical_nexus(morph).context("this cell has no apical dendrite")?;
                let mut spots: Vec<SectionX> = vec![(nexus, 0.9)];
                spots.extend(sites::tuft_daughters(morph, nexus).into_iter().map(|d| (d, 0.1)));
                let (pulse_na, n_distal) = bac_parameters(morph);
                for k in 0..n_distal {
                    b.synapse(spots[k % spots.len()], SynapseKind::Excitatory, vec![BAC_DISTAL_ALONE_MS, BAC_PULSE_MS + BAC_DELAY_MS]);
                }
                b.site((nexus, 0.9));
                b.clamp = Some(ScenarioClamp { on: true, amp_na: pulse_na, delay_ms: BAC_PULSE_MS, dur_ms: BAC_PULSE_DUR_MS });
                (500.0, Some(500.0), false)
            }
            Demo::InhibitoryVeto => {
                let stems = sites::basal_stems(morph);
                if stems.is_empty() {
                    anyhow::bail!("this cell has no basal dendrite");
                }
                // one group of synapses per volley: the synapses depress, so a second volley on
                // the same synapses would be weaker and the comparison unfair
                for t_ms in VETO_EXC_MS {
                    for k in 0..VETO_EXC_SYNAPSES {
                        b.synapse((stems[k % stems.len()], 0.5), SynapseKind::Excitatory, vec![t_ms]);
                    }
                }
                let inh_ms = vec![VETO_EXC_MS[0] - VETO_INH_LEAD_MS];
                for k in 0..VETO_INH_SYNAPSES {
                    // half on the soma, half at the base of the stems the excitation travels along
                    let at = if k % 2 == 0 { (0, 0.5) } else { (stems[(k / 2) % stems.len()], 0.05) };
                    b.synapse(at, SynapseKind::Inhibitory, inh_ms.clone());
                }
                b.site((stems[0], 0.5));
                (500.0, Some(500.0), false)
            }
            Demo::BackgroundTwin | Demo::AmpaOnly => {
                b.background = Some(ScenarioBackground { on: true, settings: BackgroundSettings { mode: BackgroundMode::Paper, ..BackgroundSettings::default() } });
                b.nmda = self == Demo::BackgroundTwin;
                b.real_time_factor = 1.0;
                (1000.0, None, true)
            }
        };
        if let Some(stop) = stop_ms {
            // slow motion: the whole demo takes DEMO_WALL_S on screen, whatever its length
            b.real_time_factor = stop / (DEMO_WALL_S * 1000.0);
        }
        Ok(DemoSetup { scenario: b.finish(), trace_window_ms: window_ms, stop_ms, twin })
    }
}

/// Collects a demo's scenario.
struct Builder<'a> {
    morph: &'a Morphology,
    synapses: Vec<ScenarioSynapse>,
    sites: Vec<ScenarioSite>,
    clamp: Option<ScenarioClamp>,
    background: Option<ScenarioBackground>,
    nmda: bool,
    real_time_factor: f64,
}

impl<'a> Builder<'a> {
    fn new(morph: &'a Morphology) -> Builder<'a> {
        // slow enough to follow an EPSP or a plateau in the 3-D colours
        Builder { morph, synapses: Vec::new(), sites: Vec::new(), clamp: None, background: None, nmda: true, real_time_factor: 0.1 }
    }

    fn name(&self, si: usize) -> String {
        self.morph.sections.get(si).map_or_else(String::new, |s| s.name.clone())
    }

    fn synapse(&mut self, (si, x): SectionX, kind: SynapseKind, times_ms: Vec<f64>) {
        self.synapses.push(ScenarioSynapse { section: self.name(si), x, kind, drive: SpikeDrive::Explicit { times_ms } });
    }

    fn site(&mut self, (si, x): SectionX) {
        self.sites.push(ScenarioSite { section: self.name(si), x });
    }

    fn finish(self) -> Scenario {
        Scenario {
            format: SCENARIO_FORMAT.into(),
            morphology: Some(self.morph.source.clone()),
            synapses: self.synapses,
            recording_sites: self.sites,
            clamp: self.clamp,
            background: self.background,
            nmda: self.nmda,
            real_time_factor: self.real_time_factor,
            max_speed: false,
        }
    }
}
