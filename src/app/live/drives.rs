//! How the app drives its inputs, on top of `stimulus`: per-synapse drives are
//! `stimulus::SpikeDrive`s (silent = an empty explicit list), and the background is the paper's
//! protocol (`stimulus::PaperProtocol`) with either the paper's random rates or fixed rates set in
//! the UI. The worker pulls spikes window by window (`background::BackgroundStream`).

use crate::stimulus::{InputVariant, PaperProtocol, SpikeDrive};
use serde::{Deserialize, Serialize};

/// A placed synapse's drive.
pub type Drive = SpikeDrive;

/// "For ever" for drives that have a stop time (ms; about 11.5 days of simulated time).
pub const FOREVER_MS: f64 = 1e9;

/// A drive with no spikes: the synapse fires only on "Fire now".
pub fn silent() -> Drive {
    SpikeDrive::Explicit { times_ms: Vec::new() }
}

/// The drive given to newly placed synapses: Poisson at `rate_hz` from t = 0, seeded per synapse.
pub fn default_poisson(rate_hz: f64, seed: u64) -> Drive {
    SpikeDrive::Poisson { rate_hz, start_ms: 0.0, stop_ms: FOREVER_MS, seed }
}

/// Short name for lists and the drive picker.
pub fn drive_label(drive: &Drive) -> &'static str {
    match drive {
        SpikeDrive::Explicit { times_ms } if times_ms.is_empty() => "silent",
        SpikeDrive::Explicit { .. } => "spike list",
        SpikeDrive::Poisson { .. } => "Poisson",
        SpikeDrive::Regular { .. } => "regular",
        SpikeDrive::Burst { .. } => "burst",
        SpikeDrive::FireNow { .. } => "fire now",
    }
}

/// Which rates the background protocol uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackgroundMode {
    /// The paper's protocol as in the dataset: tree rates redrawn every T_c ms, smoothed
    /// (the NMDA or AMPA parameter set, following the NMDA switch).
    Paper,
    /// The same protocol with the tree rates held at the values below.
    Fixed,
}

/// The background input settings (spec §6.1): one exc and one inh synapse per dendritic segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackgroundSettings {
    pub mode: BackgroundMode,
    /// Fixed-mode counts per tree per 100 ms.
    pub basal_exc_per_100ms: f64,
    pub basal_inh_per_100ms: f64,
    pub apical_exc_per_100ms: f64,
    pub apical_inh_per_100ms: f64,
    pub seed: u64,
}

impl Default for BackgroundSettings {
    /// Fixed rates at the means of the paper's NMDA draws: N_e ~ U(0, 800) -> 400,
    /// N_i ~ U(N_e - 600, N_e + 200) -> about 400.
    fn default() -> Self {
        BackgroundSettings {
            mode: BackgroundMode::Paper,
            basal_exc_per_100ms: 400.0,
            basal_inh_per_100ms: 400.0,
            apical_exc_per_100ms: 400.0,
            apical_inh_per_100ms: 400.0,
            seed: 20210901,
        }
    }
}

impl BackgroundSettings {
    /// The protocol to generate blocks of `block_ms` with.
    pub fn protocol(&self, nmda: bool, block_ms: u32) -> PaperProtocol {
        let variant = if nmda { InputVariant::Nmda } else { InputVariant::Ampa };
        let mut p = PaperProtocol::for_variant(variant);
        p.duration_ms = block_ms;
        if self.mode == BackgroundMode::Fixed {
            let fixed = |exc: f64, inh: f64| ([exc.max(0.0); 2], [inh.max(0.0) - exc.max(0.0); 2]);
            (p.basal_exc_per_100ms, p.basal_inh_minus_exc_per_100ms) = fixed(self.basal_exc_per_100ms, self.basal_inh_per_100ms);
            (p.apical_exc_per_100ms, p.apical_inh_minus_exc_per_100ms) = fixed(self.apical_exc_per_100ms, self.apical_inh_per_100ms);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_fixed_protocol() {
        assert_eq!(drive_label(&silent()), "silent");
        assert_eq!(drive_label(&default_poisson(5.0, 1)), "Poisson");
        let s = BackgroundSettings { mode: BackgroundMode::Fixed, basal_inh_per_100ms: 100.0, ..BackgroundSettings::default() };
        let p = s.protocol(true, 1000);
        p.validate().expect("valid");
        assert_eq!(p.basal_exc_per_100ms, [400.0, 400.0]);
        assert_eq!(p.basal_inh_minus_exc_per_100ms, [-300.0, -300.0]);
        assert_eq!(p.duration_ms, 1000);
        let paper = BackgroundSettings::default().protocol(false, 6000);
        assert_eq!(paper.variant, InputVariant::Ampa);
    }
}
