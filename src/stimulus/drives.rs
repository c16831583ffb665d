//! Drives for individual synapses, as the app uses them live, and current-clamp descriptions.
//! Every drive answers "which spikes fall in [t_from, t_to)?" so the app can pull the next chunk
//! as the simulation advances; the answer never depends on how time was chunked (Poisson draws
//! are made per fixed 100-ms block from a block seed derived from the drive's seed).

use crate::rng::{derive_seed, xoshiro, Draw};
use serde::{Deserialize, Serialize};

/// Length of the blocks a Poisson drive draws independently (ms).
const POISSON_BLOCK_MS: f64 = 100.0;

/// Errors from invalid drive or clamp parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DriveError {
    #[error("{what} = {value} must be a finite number")]
    NotFinite { what: &'static str, value: f64 },
    #[error("{what} = {value} must be ≥ 0")]
    Negative { what: &'static str, value: f64 },
    #[error("{what} = {value} Hz must be > 0")]
    NonPositiveFrequency { what: &'static str, value: f64 },
    #[error("time window [{from_ms}, {to_ms}) ms is empty or reversed")]
    BadWindow { from_ms: f64, to_ms: f64 },
    #[error("a burst needs at least one spike")]
    EmptyBurst,
    #[error("clamp location x = {0} is outside [0, 1]")]
    BadLocation(f64),
    #[error("{what} = {value} is above the limit of {limit}")]
    AboveLimit { what: &'static str, value: String, limit: String },
}

fn at_most_count(what: &'static str, value: usize, limit: usize) -> Result<(), DriveError> {
    if value > limit {
        return Err(DriveError::AboveLimit { what, value: value.to_string(), limit: limit.to_string() });
    }
    Ok(())
}

fn at_most(what: &'static str, value: f64, limit: f64) -> Result<f64, DriveError> {
    if value > limit {
        return Err(DriveError::AboveLimit { what, value: crate::limits::fmt_number(value), limit: crate::limits::fmt_number(limit) });
    }
    Ok(value)
}

/// How one synapse is driven. Times in ms, rates and frequencies in Hz.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SpikeDrive {
    /// Homogeneous Poisson process at `rate_hz` on [start_ms, stop_ms).
    Poisson { rate_hz: f64, start_ms: f64, stop_ms: f64, seed: u64 },
    /// Spikes at start_ms + k·1000/rate_hz on [start_ms, stop_ms).
    Regular { rate_hz: f64, start_ms: f64, stop_ms: f64 },
    /// `n_spikes` spikes at `freq_hz` starting at `start_ms`.
    Burst { n_spikes: u32, freq_hz: f64, start_ms: f64 },
    /// Given spike times (kept sorted).
    Explicit { times_ms: Vec<f64> },
    /// One spike now: the app's "fire" button, stamped with the current simulation time.
    FireNow { t_ms: f64 },
}

fn finite(what: &'static str, value: f64) -> Result<f64, DriveError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(DriveError::NotFinite { what, value })
    }
}

fn non_negative(what: &'static str, value: f64) -> Result<f64, DriveError> {
    if finite(what, value)? < 0.0 {
        return Err(DriveError::Negative { what, value });
    }
    Ok(value)
}

fn positive_hz(what: &'static str, value: f64) -> Result<f64, DriveError> {
    if finite(what, value)? <= 0.0 {
        return Err(DriveError::NonPositiveFrequency { what, value });
    }
    Ok(value)
}

impl SpikeDrive {
    pub fn poisson(rate_hz: f64, start_ms: f64, stop_ms: f64, seed: u64) -> Result<SpikeDrive, DriveError> {
        let d = SpikeDrive::Poisson { rate_hz, start_ms, stop_ms, seed };
        d.validate()?;
        Ok(d)
    }

    pub fn regular(rate_hz: f64, start_ms: f64, stop_ms: f64) -> Result<SpikeDrive, DriveError> {
        let d = SpikeDrive::Regular { rate_hz, start_ms, stop_ms };
        d.validate()?;
        Ok(d)
    }

    pub fn burst(n_spikes: u32, freq_hz: f64, start_ms: f64) -> Result<SpikeDrive, DriveError> {
        let d = SpikeDrive::Burst { n_spikes, freq_hz, start_ms };
        d.validate()?;
        Ok(d)
    }

    /// Explicit times; sorted here so that windows can be answered by bisection.
    pub fn explicit(mut times_ms: Vec<f64>) -> Result<SpikeDrive, DriveError> {
        times_ms.sort_by(f64::total_cmp);
        let d = SpikeDrive::Explicit { times_ms };
        d.validate()?;
        Ok(d)
    }

    pub fn fire_now(t_ms: f64) -> Result<SpikeDrive, DriveError> {
        let d = SpikeDrive::FireNow { t_ms };
        d.validate()?;
        Ok(d)
    }

    /// Check the parameters (negative or NaN rates, zero frequencies, NaN times…) and the limits
    /// of `crate::limits` (rates up to [`MAX_DRIVE_RATE_HZ`](crate::limits::MAX_DRIVE_RATE_HZ),
    /// bursts of at most [`MAX_BURST_SPIKES`](crate::limits::MAX_BURST_SPIKES), lists of at most
    /// [`MAX_SPIKE_LIST_LEN`](crate::limits::MAX_SPIKE_LIST_LEN), times up to
    /// [`MAX_DRIVE_TIME_MS`](crate::limits::MAX_DRIVE_TIME_MS)), so that pulling a window of
    /// spikes costs at most rate × window.
    pub fn validate(&self) -> Result<(), DriveError> {
        use crate::limits::{MAX_BURST_SPIKES, MAX_DRIVE_RATE_HZ, MAX_DRIVE_TIME_MS, MAX_SPIKE_LIST_LEN};
        let time = |what: &'static str, t: f64| at_most(what, non_negative(what, t)?, MAX_DRIVE_TIME_MS);
        match *self {
            SpikeDrive::Poisson { rate_hz, start_ms, stop_ms, .. } => {
                at_most("Poisson rate (Hz)", non_negative("Poisson rate (Hz)", rate_hz)?, MAX_DRIVE_RATE_HZ)?;
                time("start (ms)", start_ms)?;
                at_most("stop (ms)", finite("stop (ms)", stop_ms)?, MAX_DRIVE_TIME_MS)?;
            }
            SpikeDrive::Regular { rate_hz, start_ms, stop_ms } => {
                at_most("regular-train rate (Hz)", positive_hz("regular-train rate", rate_hz)?, MAX_DRIVE_RATE_HZ)?;
                time("start (ms)", start_ms)?;
                at_most("stop (ms)", finite("stop (ms)", stop_ms)?, MAX_DRIVE_TIME_MS)?;
            }
            SpikeDrive::Burst { n_spikes, freq_hz, start_ms } => {
                if n_spikes == 0 {
                    return Err(DriveError::EmptyBurst);
                }
                at_most_count("burst n_spikes", n_spikes as usize, MAX_BURST_SPIKES as usize)?;
                at_most("burst frequency (Hz)", positive_hz("burst frequency", freq_hz)?, MAX_DRIVE_RATE_HZ)?;
                time("start (ms)", start_ms)?;
            }
            SpikeDrive::Explicit { ref times_ms } => {
                at_most_count("number of spike times", times_ms.len(), MAX_SPIKE_LIST_LEN)?;
                for &t in times_ms {
                    time("spike time (ms)", t)?;
                }
            }
            SpikeDrive::FireNow { t_ms } => {
                time("fire time (ms)", t_ms)?;
            }
        }
        Ok(())
    }

    /// Spike times (ms, ascending) in [from_ms, to_ms). The union over consecutive windows equals
    /// the answer for their union.
    pub fn spikes_in(&self, from_ms: f64, to_ms: f64) -> Result<Vec<f64>, DriveError> {
        finite("window start (ms)", from_ms)?;
        finite("window end (ms)", to_ms)?;
        if to_ms < from_ms {
            return Err(DriveError::BadWindow { from_ms, to_ms });
        }
        self.validate()?;
        let inside = |t: f64| t >= from_ms && t < to_ms;
        Ok(match *self {
            SpikeDrive::Poisson { rate_hz, start_ms, stop_ms, seed } => {
                poisson_in(rate_hz, start_ms, stop_ms, seed, from_ms.max(start_ms), to_ms.min(stop_ms))
            }
            SpikeDrive::Regular { rate_hz, start_ms, stop_ms } => {
                let period = 1000.0 / rate_hz;
                let lo = from_ms.max(start_ms);
                let hi = to_ms.min(stop_ms);
                if hi <= lo {
                    return Ok(Vec::new());
                }
                // times are start + k·period, computed from k (never accumulated) so that every
                // window agrees on them bit for bit
                let k0 = ((lo - start_ms) / period).floor().max(0.0) as u64;
                (k0..)
                    .map(|k| start_ms + k as f64 * period)
                    .take_while(|&t| t < hi)
                    .filter(|&t| t >= lo)
                    .collect()
            }
            SpikeDrive::Burst { n_spikes, freq_hz, start_ms } => {
                let period = 1000.0 / freq_hz;
                (0..n_spikes).map(|k| start_ms + f64::from(k) * period).filter(|&t| inside(t)).collect()
            }
            SpikeDrive::Explicit { ref times_ms } => {
                let mut v: Vec<f64> = times_ms.iter().copied().filter(|&t| inside(t)).collect();
                v.sort_by(f64::total_cmp);
                v
            }
            SpikeDrive::FireNow { t_ms } => {
                if inside(t_ms) {
                    vec![t_ms]
                } else {
                    Vec::new()
                }
            }
        })
    }
}

/// Poisson spikes on [lo, hi) ⊂ [start, stop): exponential intervals drawn per 100-ms block of
/// absolute time, each block from its own derived seed, so any window gives the same spikes.
fn poisson_in(rate_hz: f64, start_ms: f64, stop_ms: f64, seed: u64, lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    if rate_hz == 0.0 || hi <= lo {
        return out;
    }
    let mean_isi_ms = 1000.0 / rate_hz;
    let first_block = (lo / POISSON_BLOCK_MS).floor() as u64;
    let last_block = ((hi / POISSON_BLOCK_MS).ceil() as u64).max(first_block + 1);
    for block in first_block..last_block {
        let b0 = block as f64 * POISSON_BLOCK_MS;
        let b1 = b0 + POISSON_BLOCK_MS;
        let mut rng = xoshiro(derive_seed(seed, block));
        // memorylessness: a Poisson process restricted to a block is a fresh process from b0
        let mut t = b0 + rng.exponential(mean_isi_ms);
        while t < b1 {
            if t >= lo && t < hi && t >= start_ms && t < stop_ms {
                out.push(t);
            }
            t += rng.exponential(mean_isi_ms);
        }
    }
    out
}

/// Where a current clamp is applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case")]
pub enum ClampSite {
    /// soma[0](0.5).
    Soma,
    /// A dendritic location (NEURON section name and x).
    Dendrite { sec: String, x: f64 },
}

/// A step current (NEURON IClamp): `amp_na` nA, depolarising when positive, on for
/// [delay_ms, delay_ms + dur_ms). The engine applies it (spec / reference README: IClamp on for
/// exactly the steps from delay to delay + dur).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentClamp {
    pub site: ClampSite,
    pub amp_na: f64,
    pub delay_ms: f64,
    pub dur_ms: f64,
}

impl CurrentClamp {
    pub fn new(site: ClampSite, amp_na: f64, delay_ms: f64, dur_ms: f64) -> Result<CurrentClamp, DriveError> {
        let c = CurrentClamp { site, amp_na, delay_ms, dur_ms };
        c.validate()?;
        Ok(c)
    }

    pub fn validate(&self) -> Result<(), DriveError> {
        finite("clamp amplitude (nA)", self.amp_na)?;
        non_negative("clamp delay (ms)", self.delay_ms)?;
        non_negative("clamp duration (ms)", self.dur_ms)?;
        if let ClampSite::Dendrite { x, .. } = self.site {
            if !(0.0..=1.0).contains(&x) {
                return Err(DriveError::BadLocation(x));
            }
        }
        Ok(())
    }

    /// Clamp current (nA) at time t_ms: `amp_na` inside [delay, delay + dur), else 0.
    pub fn current_na(&self, t_ms: f64) -> f64 {
        if t_ms >= self.delay_ms && t_ms < self.delay_ms + self.dur_ms {
            self.amp_na
        } else {
            0.0
        }
    }
}

#[cfg(test)]
#[path = "drives_tests.rs"]
mod tests;
