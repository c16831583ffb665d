//! A `Cell`: a discretised morphology with membrane mechanisms placed on every node.

use crate::morphology::{Cable, Morphology};
use serde::{Deserialize, Serialize};

/// The voltage- and calcium-gated channels of the Hay et al. 2011 model (spec §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Channel {
    Ih,
    NaTs2T,
    NaTaT,
    NapEt2,
    KTst,
    KPst,
    SKv31,
    SkE2,
    Im,
    CaHva,
    CaLvast,
}

impl Channel {
    /// Every channel, in NEURON's state-update (registration) order after CaDynamics_E2
    /// (spec §7.2): Ca_HVA, Ca_LVAst, Ih, Im, K_Pst, K_Tst, NaTa_t, NaTs2_t, Nap_Et2, SK_E2, SKv3_1.
    pub const ALL: [Channel; 11] = [
        Channel::CaHva,
        Channel::CaLvast,
        Channel::Ih,
        Channel::Im,
        Channel::KPst,
        Channel::KTst,
        Channel::NaTaT,
        Channel::NaTs2T,
        Channel::NapEt2,
        Channel::SkE2,
        Channel::SKv31,
    ];

    /// Index into per-node arrays of channel densities.
    pub const fn index(self) -> usize {
        match self {
            Channel::CaHva => 0,
            Channel::CaLvast => 1,
            Channel::Ih => 2,
            Channel::Im => 3,
            Channel::KPst => 4,
            Channel::KTst => 5,
            Channel::NaTaT => 6,
            Channel::NaTs2T => 7,
            Channel::NapEt2 => 8,
            Channel::SkE2 => 9,
            Channel::SKv31 => 10,
        }
    }

    /// The NEURON mechanism name (`NaTs2_t`, `Ca_LVAst`, ...).
    pub fn neuron_name(self) -> &'static str {
        match self {
            Channel::Ih => "Ih",
            Channel::NaTs2T => "NaTs2_t",
            Channel::NaTaT => "NaTa_t",
            Channel::NapEt2 => "Nap_Et2",
            Channel::KTst => "K_Tst",
            Channel::KPst => "K_Pst",
            Channel::SKv31 => "SKv3_1",
            Channel::SkE2 => "SK_E2",
            Channel::Im => "Im",
            Channel::CaHva => "Ca_HVA",
            Channel::CaLvast => "Ca_LVAst",
        }
    }

    /// Whether the channel carries calcium current (feeds CaDynamics_E2).
    pub fn is_calcium(self) -> bool {
        matches!(self, Channel::CaHva | Channel::CaLvast)
    }
}

pub const N_CHANNELS: usize = 11;

/// CaDynamics_E2 parameters of one node (spec §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CaDynamics {
    /// Fraction of calcium current that is not buffered.
    pub gamma: f64,
    pub decay_ms: f64,
    pub depth_um: f64,
    pub min_cai_mm: f64,
}

/// Membrane mechanisms on one node. End (zero-area) nodes carry nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeMembrane {
    pub cm_uf_per_cm2: f64,
    pub g_pas_s_per_cm2: f64,
    pub e_pas_mv: f64,
    /// ḡ of each channel in `Channel::ALL` order (S/cm²); `None` where the channel is absent.
    pub gbar_s_per_cm2: [Option<f64>; N_CHANNELS],
    pub ca_dynamics: Option<CaDynamics>,
    pub ena_mv: f64,
    pub ek_mv: f64,
    /// Ih reversal (mV).
    pub eh_mv: f64,
}

impl NodeMembrane {
    /// A node with no mechanisms (zero-area end nodes).
    pub fn empty() -> NodeMembrane {
        NodeMembrane {
            cm_uf_per_cm2: 0.0,
            g_pas_s_per_cm2: 0.0,
            e_pas_mv: 0.0,
            gbar_s_per_cm2: [None; N_CHANNELS],
            ca_dynamics: None,
            ena_mv: 50.0,
            ek_mv: -85.0,
            eh_mv: -45.0,
        }
    }

    pub fn gbar(&self, channel: Channel) -> Option<f64> {
        self.gbar_s_per_cm2[channel.index()]
    }

    pub fn set_gbar(&mut self, channel: Channel, gbar_s_per_cm2: f64) {
        self.gbar_s_per_cm2[channel.index()] = Some(gbar_s_per_cm2);
    }
}

/// A cell ready to simulate: morphology, its discretisation and per-node membranes
/// (`membrane[i]` belongs to `cable.nodes[i]`).
#[derive(Debug, Clone)]
pub struct Cell {
    pub morphology: Morphology,
    pub cable: Cable,
    pub membrane: Vec<NodeMembrane>,
    /// Name of the recipe and variant that placed the mechanisms, for metadata.
    pub recipe: String,
}
