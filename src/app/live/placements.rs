//! What the user has placed on the cell: synapses (with their drives) and recording sites.
//! The UI owns this list and mirrors every change to the runner as a command.

use super::drives::{default_poisson, Drive};
use super::model::SynapseKind;
use super::runner::{Command, Runner, SiteKey, SynKey};
use crate::morphology::{point_at, Cable, Morphology};
use eframe::egui::Color32;

/// A point on the cell: section, position along it, and what follows from those.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub section: usize,
    pub section_name: String,
    pub x: f64,
    /// The compartment (Cable segment node) containing the location.
    pub node: usize,
    /// Path distance from soma(0.5) (µm).
    pub dist_um: f64,
    /// 3-D position (µm).
    pub position_um: [f32; 3],
}

impl Location {
    pub fn new(morph: &Morphology, cable: &Cable, section: usize, x: f64) -> Option<Location> {
        let s = morph.sections.get(section)?;
        let x = x.clamp(0.0, 1.0);
        let p = point_at(s, x);
        Some(Location {
            section,
            section_name: s.name.clone(),
            x,
            node: cable.segment_node(section, x),
            dist_um: cable.section_dist0_um.get(section).copied().unwrap_or(0.0)
                + x * cable.section_length_um.get(section).copied().unwrap_or(0.0),
            position_um: [p.x_um as f32, p.y_um as f32, p.z_um as f32],
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlacedSynapse {
    pub key: SynKey,
    pub kind: SynapseKind,
    pub drive: Drive,
    pub at: Location,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordingSite {
    pub key: SiteKey,
    pub color: Color32,
    pub at: Location,
}

/// What a click on the cell does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClickMode {
    /// Select markers; nothing is added.
    #[default]
    Inspect,
    Excitatory,
    Inhibitory,
    Record,
}

impl ClickMode {
    pub const ALL: [ClickMode; 4] = [ClickMode::Inspect, ClickMode::Excitatory, ClickMode::Inhibitory, ClickMode::Record];

    pub fn label(self) -> &'static str {
        match self {
            ClickMode::Inspect => "Inspect",
            ClickMode::Excitatory => "+ Exc",
            ClickMode::Inhibitory => "+ Inh",
            ClickMode::Record => "Record",
        }
    }

    /// The keyboard shortcut that selects this mode (shown in tooltips and the help).
    pub fn key(self) -> eframe::egui::Key {
        use eframe::egui::Key;
        match self {
            ClickMode::Inspect => Key::I,
            ClickMode::Excitatory => Key::E,
            ClickMode::Inhibitory => Key::N,
            ClickMode::Record => Key::C,
        }
    }

    /// What a click on the cell does in this mode, e.g. for the hover hint.
    pub fn click_does(self) -> &'static str {
        match self {
            ClickMode::Inspect => "select the synapse or recording site here",
            ClickMode::Excitatory => "add an excitatory synapse here (Poisson 10 Hz)",
            ClickMode::Inhibitory => "add an inhibitory synapse here (Poisson 10 Hz)",
            ClickMode::Record => "record the membrane potential here",
        }
    }

    /// Tooltip of the mode's button: what a click does, and the shortcut.
    pub fn tooltip(self) -> String {
        let what = match self {
            ClickMode::Inspect => "Inspect: a click selects a synapse or recording site; nothing is added",
            ClickMode::Excitatory => "+ Exc: a click on a dendrite adds an excitatory synapse (Poisson 10 Hz)",
            ClickMode::Inhibitory => "+ Inh: a click on a dendrite adds an inhibitory synapse (Poisson 10 Hz)",
            ClickMode::Record => "Record: a click adds a recording site (its trace joins the voltage plot)",
        };
        format!("{what}  [key {}]", self.key().name())
    }
}

/// A selected marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    Synapse(SynKey),
    Site(SiteKey),
}

/// Colours of excitatory and inhibitory inputs, everywhere (markers, raster).
pub const EXC_COLOR: Color32 = Color32::from_rgb(255, 120, 70);
pub const INH_COLOR: Color32 = Color32::from_rgb(80, 160, 255);

/// Recording-site colours: distinct from the soma's cyan and the DNN's magenta.
const SITE_PALETTE: [Color32; 6] = [
    Color32::from_rgb(255, 214, 10),
    Color32::from_rgb(120, 220, 90),
    Color32::from_rgb(255, 150, 200),
    Color32::from_rgb(250, 250, 250),
    Color32::from_rgb(190, 140, 255),
    Color32::from_rgb(255, 170, 60),
];

#[derive(Debug, Default)]
pub struct Placements {
    pub synapses: Vec<PlacedSynapse>,
    pub sites: Vec<RecordingSite>,
    pub mode: ClickMode,
    pub selected: Option<Selection>,
    /// Drive given to newly placed synapses.
    pub new_drive: Option<Drive>,
    next_key: u64,
    /// Bumped on every change, so the 3-D markers are rebuilt only when needed.
    pub version: u64,
}

impl Placements {
    fn next_key(&mut self) -> u64 {
        self.next_key += 1;
        self.version += 1;
        self.next_key
    }

    /// Place a synapse with the drive for new synapses (Poisson 10 Hz unless `new_drive` is set).
    /// `None` (and the reason on the status line) when [`crate::limits::MAX_SYNAPSES`] are placed.
    pub fn add_synapse(&mut self, runner: &mut Runner, at: Location, kind: SynapseKind) -> Option<SynKey> {
        let drive = self.new_drive.clone().unwrap_or_else(|| default_poisson(10.0, self.next_key + 1));
        self.add_synapse_with(runner, at, kind, drive)
    }

    /// [`Placements::add_synapse`] with this drive (refused, with the reason on the status line,
    /// when the drive breaks a limit or the synapse count is at its limit).
    pub fn add_synapse_with(&mut self, runner: &mut Runner, at: Location, kind: SynapseKind, drive: Drive) -> Option<SynKey> {
        let check = crate::limits::check_synapse_count("the number of synapses", self.synapses.len() + 1)
            .map_err(|e| e.to_string())
            .and_then(|()| drive.validate().map_err(|e| format!("synapse drive: {e}")));
        if let Err(e) = check {
            runner.report_error(format!("not placed: {e}"));
            return None;
        }
        let key = SynKey(self.next_key());
        runner.send(Command::AddSynapse { key, node: at.node, kind, drive: drive.clone() });
        self.synapses.push(PlacedSynapse { key, kind, drive, at });
        self.selected = Some(Selection::Synapse(key));
        Some(key)
    }

    /// Add a recording site (refused, with the reason on the status line, at
    /// [`crate::limits::MAX_RECORDING_SITES`]).
    pub fn add_site(&mut self, runner: &mut Runner, at: Location) -> Option<SiteKey> {
        use crate::limits::{check_count, MAX_RECORDING_SITES};
        if let Err(e) = check_count("the number of recording sites", self.sites.len() + 1, MAX_RECORDING_SITES, None) {
            runner.report_error(format!("not placed: {e}"));
            return None;
        }
        let key = SiteKey(self.next_key());
        let color = SITE_PALETTE[(key.0 as usize) % SITE_PALETTE.len()];
        runner.send(Command::AddSite { key, node: at.node });
        self.sites.push(RecordingSite { key, color, at });
        self.selected = Some(Selection::Site(key));
        Some(key)
    }

    /// Replace every synapse and recording site with these, and send `then` after them, all in one
    /// command: the worker gets all of it or (when its queue is full or it has stopped) none, and
    /// then nothing changes here either. Counts are checked against the limits first.
    pub fn replace_all(&mut self, runner: &mut Runner, synapses: Vec<(Location, SynapseKind, Drive)>, sites: Vec<Location>, then: Vec<Command>) -> Result<(), String> {
        use crate::limits::{check_count, check_synapse_count, MAX_RECORDING_SITES};
        check_synapse_count("synapses", synapses.len()).map_err(|e| e.to_string())?;
        check_count("recording_sites", sites.len(), MAX_RECORDING_SITES, None).map_err(|e| e.to_string())?;
        let mut commands: Vec<Command> = self.synapses.iter().map(|s| Command::RemoveSynapse(s.key)).collect();
        commands.extend(self.sites.iter().map(|s| Command::RemoveSite(s.key)));
        let mut next = self.next_key;
        let mut new_synapses = Vec::with_capacity(synapses.len());
        for (at, kind, drive) in synapses {
            next += 1;
            let key = SynKey(next);
            commands.push(Command::AddSynapse { key, node: at.node, kind, drive: drive.clone() });
            new_synapses.push(PlacedSynapse { key, kind, drive, at });
        }
        let mut new_sites = Vec::with_capacity(sites.len());
        for at in sites {
            next += 1;
            let key = SiteKey(next);
            commands.push(Command::AddSite { key, node: at.node });
            new_sites.push(RecordingSite { key, color: SITE_PALETTE[(next as usize) % SITE_PALETTE.len()], at });
        }
        commands.extend(then);
        runner.send_all(commands)?;
        self.synapses = new_synapses;
        self.sites = new_sites;
        self.next_key = next;
        self.selected = None;
        self.version += 1;
        Ok(())
    }

    /// Change a synapse's drive (refused, with the reason on the status line, when it breaks a
    /// limit).
    pub fn set_drive(&mut self, runner: &mut Runner, key: SynKey, drive: Drive) {
        if let Err(e) = drive.validate() {
            runner.report_error(format!("drive not changed: {e}"));
            return;
        }
        if let Some(s) = self.synapses.iter_mut().find(|s| s.key == key) {
            s.drive = drive.clone();
            runner.send(Command::SetDrive { key, drive });
        }
    }

    pub fn remove(&mut self, runner: &mut Runner, which: Selection) {
        match which {
            Selection::Synapse(key) => {
                self.synapses.retain(|s| s.key != key);
                runner.send(Command::RemoveSynapse(key));
            }
            Selection::Site(key) => {
                self.sites.retain(|s| s.key != key);
                runner.send(Command::RemoveSite(key));
            }
        }
        if self.selected == Some(which) {
            self.selected = None;
        }
        self.version += 1;
    }

    /// Remove every synapse and recording site.
    pub fn clear(&mut self, runner: &mut Runner) {
        let all: Vec<Selection> = self
            .synapses
            .iter()
            .map(|s| Selection::Synapse(s.key))
            .chain(self.sites.iter().map(|s| Selection::Site(s.key)))
            .collect();
        for which in all {
            self.remove(runner, which);
        }
    }

    /// Handle a click on the cell at `at` according to the current mode.
    pub fn click(&mut self, runner: &mut Runner, at: Location) {
        match self.mode {
            ClickMode::Inspect => {
                self.selected = self.nearest_marker(&at);
                self.version += 1;
            }
            ClickMode::Excitatory => {
                self.add_synapse(runner, at, SynapseKind::Excitatory);
            }
            ClickMode::Inhibitory => {
                self.add_synapse(runner, at, SynapseKind::Inhibitory);
            }
            ClickMode::Record => {
                self.add_site(runner, at);
            }
        }
    }

    /// The marker on the same section closest to `at` (within 10 % of the section).
    pub fn nearest_marker(&self, at: &Location) -> Option<Selection> {
        let syn = self.synapses.iter().map(|s| (Selection::Synapse(s.key), &s.at));
        let sites = self.sites.iter().map(|s| (Selection::Site(s.key), &s.at));
        syn.chain(sites)
            .filter(|(_, l)| l.section == at.section && (l.x - at.x).abs() < 0.1)
            .min_by(|a, b| (a.1.x - at.x).abs().total_cmp(&(b.1.x - at.x).abs()))
            .map(|(sel, _)| sel)
    }

    pub fn site_color(&self, key: SiteKey) -> Option<Color32> {
        self.sites.iter().find(|s| s.key == key).map(|s| s.color)
    }
}
