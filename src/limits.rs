//! Every size limit of the crate, in one place. A limit turns an input that would take unbounded
//! time or memory (a coordinate of 1e9 µm, `tstop` 1e9 ms, `--count 4000000000`, reading
//! `/dev/zero`) into a clear error before anything large is allocated. The README's "Limits"
//! section lists them; keep the two in step.
//!
//! Limits a user may legitimately need to raise read an environment variable (named beside each
//! constant) holding the new value; the others are far beyond any real neuron or run.
//! Soft limits (`WARN_*`) only produce a warning.

/// Largest morphology file read (bytes): 32 MiB (80 times the Hay cell's ASC file; parsing an
/// ASC file takes up to ~40 times its size in memory, so this keeps it under ~1.3 GB). Raise with
/// `NEUROTWIN_MAX_MORPHOLOGY_MB`.
pub const MAX_MORPHOLOGY_FILE_BYTES: u64 = 32 << 20;
/// Environment variable raising [`MAX_MORPHOLOGY_FILE_BYTES`] (value in MiB).
pub const ENV_MAX_MORPHOLOGY_MB: &str = "NEUROTWIN_MAX_MORPHOLOGY_MB";

/// Largest JSON input read (golden case, simulate config, model metadata, scenario; bytes):
/// 512 MiB. Raise with `NEUROTWIN_MAX_JSON_MB`.
pub const MAX_JSON_FILE_BYTES: u64 = 512 << 20;
/// Environment variable raising [`MAX_JSON_FILE_BYTES`] (value in MiB).
pub const ENV_MAX_JSON_MB: &str = "NEUROTWIN_MAX_JSON_MB";

/// Largest absolute coordinate of a morphology point (µm): 1 m, far beyond any neuron; keeps
/// every length and area finite. Fixed.
pub const MAX_COORDINATE_UM: f64 = 1.0e6;
/// Largest diameter of a morphology point (µm). Fixed.
pub const MAX_DIAMETER_UM: f64 = 1.0e4;
/// Above this extent (largest distance between two points along x, y or z, µm) a morphology is
/// loaded with a warning (a neuron spans a few mm at most; check the units are µm).
pub const WARN_EXTENT_UM: f64 = 10_000.0;

/// Below this soma membrane area (µm²) a morphology is loaded with a warning (a real soma has
/// hundreds to thousands).
pub const WARN_SOMA_AREA_UM2: f64 = 1.0;

/// Most 3-D points in one section: 1,000,000. Fixed (a file under the size limit holds fewer).
pub const MAX_POINTS_PER_SECTION: usize = 1_000_000;

/// Most compartments of a discretised cell (checked before allocating): 200,000 (the Hay 2011
/// cell has 642). Raise with `NEUROTWIN_MAX_COMPARTMENTS`.
pub const MAX_COMPARTMENTS: usize = 200_000;
/// Environment variable raising [`MAX_COMPARTMENTS`].
pub const ENV_MAX_COMPARTMENTS: &str = "NEUROTWIN_MAX_COMPARTMENTS";
/// Above this many compartments a cell is discretised with a warning (slow to simulate).
pub const WARN_COMPARTMENTS: usize = 20_000;

/// Longest simulated time of `simulate`, `replay`, `predict` and `dataset --duration-ms`
/// (ms): 100 s (the paper's simulations are 6 s). Raise with `NEUROTWIN_MAX_TSTOP_MS`.
pub const MAX_TSTOP_MS: f64 = 100_000.0;
/// Environment variable raising [`MAX_TSTOP_MS`].
pub const ENV_MAX_TSTOP_MS: &str = "NEUROTWIN_MAX_TSTOP_MS";
/// Smallest time step (ms). Fixed.
pub const MIN_DT_MS: f64 = 1.0e-4;
/// Largest time step (ms). Fixed.
pub const MAX_DT_MS: f64 = 1.0;
/// Most time steps of one simulation (tstop / dt): 10 million (250 s at dt 0.025 ms).
/// Raise with `NEUROTWIN_MAX_STEPS`.
pub const MAX_STEPS: f64 = 1.0e7;
/// Environment variable raising [`MAX_STEPS`].
pub const ENV_MAX_STEPS: &str = "NEUROTWIN_MAX_STEPS";

/// Most simulations of one dataset (`dataset --count`): 1,000,000. Raise with
/// `NEUROTWIN_MAX_DATASET_COUNT`.
pub const MAX_DATASET_COUNT: usize = 1_000_000;
/// Environment variable raising [`MAX_DATASET_COUNT`].
pub const ENV_MAX_DATASET_COUNT: &str = "NEUROTWIN_MAX_DATASET_COUNT";
/// Most simulations per shard (`dataset --sims-per-shard`; a shard is held in memory): 256. Fixed.
pub const MAX_SIMS_PER_SHARD: usize = 256;

/// Largest NPY array read (dataset shard arrays, parity vectors; bytes): 16 GiB (the largest
/// shard array, `dend_v.npy` in float32 for 256 simulations of 6 s, is 3.9 GB). Only the bytes
/// its header announces are read. Fixed.
pub const MAX_ARRAY_FILE_BYTES: u64 = 16 << 30;
/// Largest model graph read (ONNX; bytes): 2 GiB, protobuf's own limit. Fixed.
pub const MAX_MODEL_FILE_BYTES: u64 = 2 << 30;

/// Largest download accepted by `neurotwin fetch` (bytes): 64 MiB (the Hay cell's file is
/// 0.4 MB). Fixed.
pub const MAX_FETCH_BYTES: u64 = 64 << 20;

// ---- What a scenario or a control of the app may ask for (checked before anything is applied;
// refused above the limit, never clamped). The app's controls use the same numbers as their ranges.

/// Highest rate of a synapse drive (Poisson, regular train, frequency within a burst; Hz): 1 kHz,
/// a presynaptic neuron's ceiling (~1 ms refractory period). The worker pulls at most rate × window
/// spikes per synapse, so this bounds its work and memory per step. Fixed.
pub const MAX_DRIVE_RATE_HZ: f64 = 1000.0;
/// Most spikes of one burst drive: 100 (a real burst has 2–10). Fixed.
pub const MAX_BURST_SPIKES: u32 = 100;
/// Most spike times of one explicit spike list: 100,000. Fixed.
pub const MAX_SPIKE_LIST_LEN: usize = 100_000;
/// Latest time a drive may name (start, stop, spike or fire time; ms): 1e9 ms (about 11.5 days,
/// the app's "for ever"). Fixed.
pub const MAX_DRIVE_TIME_MS: f64 = 1.0e9;
/// Most synapses placed in the app (clicks, scenario, demo): 1000 (each one is simulated and
/// listed; the paper's background adds its own 1278 inside the engine). Raise with
/// `NEUROTWIN_MAX_SYNAPSES`.
pub const MAX_SYNAPSES: usize = 1000;
/// Environment variable raising [`MAX_SYNAPSES`].
pub const ENV_MAX_SYNAPSES: &str = "NEUROTWIN_MAX_SYNAPSES";
/// Most recording sites in the app: 32 (each is a trace in the voltage plot, recorded every
/// step; more are unreadable and slow the window). Fixed.
pub const MAX_RECORDING_SITES: usize = 32;
/// Largest somatic clamp or pulse amplitude in the app, either sign (nA): 5 nA, the control's
/// range (the Hay cell fires repetitively from about 0.5 nA). Fixed.
pub const MAX_CLAMP_AMP_NA: f64 = 5.0;
/// Latest clamp start and longest clamp duration in the app (ms): 1e6 ms, the controls' range.
/// Fixed.
pub const MAX_CLAMP_TIME_MS: f64 = 1.0e6;
/// Highest fixed background count per tree and 100 ms (the paper draws 0–800): 5000, the
/// control's range. Fixed.
pub const MAX_BACKGROUND_PER_100MS: f64 = 5000.0;
/// Slowest and fastest requested speed (multiples of real time): 0.01× to 10×, the speed
/// slider's range (faster: `max_speed`). Fixed.
pub const MIN_REAL_TIME_FACTOR: f64 = 0.01;
/// See [`MIN_REAL_TIME_FACTOR`].
pub const MAX_REAL_TIME_FACTOR: f64 = 10.0;

/// A limit broken, or an environment variable that should raise one and cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LimitError {
    #[error("{what} is {value}, above the limit of {limit}{raise}")]
    Exceeded { what: String, value: String, limit: String, raise: String },
    #[error("{what} is {value}, outside the allowed range {range}")]
    OutOfRange { what: String, value: String, range: String },
    #[error("environment variable {name}={value:?} is not a positive number")]
    BadEnv { name: &'static str, value: String },
}

impl LimitError {
    /// `what` is `value`, over `limit`; `env` names the variable that raises it, if any.
    pub fn exceeded(what: impl Into<String>, value: impl std::fmt::Display, limit: impl std::fmt::Display, env: Option<&str>) -> Self {
        LimitError::Exceeded {
            what: what.into(),
            value: value.to_string(),
            limit: limit.to_string(),
            raise: env.map(|e| format!(" (set {e} to raise it)")).unwrap_or_default(),
        }
    }
}

/// The value of a limit: `default`, or the positive number in environment variable `name`.
pub fn limit_f64(name: &'static str, default: f64) -> Result<f64, LimitError> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(text) => match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
            _ => Err(LimitError::BadEnv { name, value: text }),
        },
    }
}

/// [`limit_f64`] for a count.
pub fn limit_usize(name: &'static str, default: usize) -> Result<usize, LimitError> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(v) if v > 0 => Ok(v),
            _ => Err(LimitError::BadEnv { name, value: text }),
        },
    }
}

/// The morphology file size limit in bytes ([`MAX_MORPHOLOGY_FILE_BYTES`] or the environment's).
pub fn max_morphology_file_bytes() -> Result<u64, LimitError> {
    Ok((limit_f64(ENV_MAX_MORPHOLOGY_MB, (MAX_MORPHOLOGY_FILE_BYTES >> 20) as f64)? * 1048576.0) as u64)
}

/// The JSON file size limit in bytes ([`MAX_JSON_FILE_BYTES`] or the environment's).
pub fn max_json_file_bytes() -> Result<u64, LimitError> {
    Ok((limit_f64(ENV_MAX_JSON_MB, (MAX_JSON_FILE_BYTES >> 20) as f64)? * 1048576.0) as u64)
}


/// Check a simulation's `tstop` and `dt` (ms): finite, 0 ≤ tstop ≤ [`MAX_TSTOP_MS`],
/// [`MIN_DT_MS`] ≤ dt ≤ [`MAX_DT_MS`], tstop/dt ≤ [`MAX_STEPS`]. `what` prefixes the names
/// (e.g. "sim." for a golden case's fields).
pub fn check_tstop_dt(what: &str, tstop_ms: f64, dt_ms: f64) -> Result<(), LimitError> {
    check_tstop(&format!("{what}tstop (ms)"), tstop_ms)?;
    if !(dt_ms.is_finite() && (MIN_DT_MS..=MAX_DT_MS).contains(&dt_ms)) {
        return Err(LimitError::OutOfRange {
            what: format!("{what}dt (ms)"),
            value: dt_ms.to_string(),
            range: format!("[{MIN_DT_MS}, {MAX_DT_MS}]"),
        });
    }
    let max_steps = limit_f64(ENV_MAX_STEPS, MAX_STEPS)?;
    let steps = tstop_ms / dt_ms;
    if steps > max_steps {
        return Err(LimitError::exceeded(format!("the number of time steps ({what}tstop / {what}dt)"), format!("{steps:.0}"), max_steps, Some(ENV_MAX_STEPS)));
    }
    Ok(())
}

/// Check a simulated duration (ms): finite, 0 ≤ t ≤ [`MAX_TSTOP_MS`] (or the environment's).
pub fn check_tstop(what: &str, tstop_ms: f64) -> Result<(), LimitError> {
    if !(tstop_ms.is_finite() && tstop_ms >= 0.0) {
        return Err(LimitError::OutOfRange { what: what.into(), value: tstop_ms.to_string(), range: "finite and ≥ 0".into() });
    }
    let max = limit_f64(ENV_MAX_TSTOP_MS, MAX_TSTOP_MS)?;
    if tstop_ms > max {
        return Err(LimitError::exceeded(what, tstop_ms, max, Some(ENV_MAX_TSTOP_MS)));
    }
    Ok(())
}

/// Check `dataset --count` and `--sims-per-shard`.
pub fn check_dataset(count: usize, sims_per_shard: usize) -> Result<(), LimitError> {
    let max = limit_usize(ENV_MAX_DATASET_COUNT, MAX_DATASET_COUNT)?;
    if count > max {
        return Err(LimitError::exceeded("--count", count, max, Some(ENV_MAX_DATASET_COUNT)));
    }
    if sims_per_shard > MAX_SIMS_PER_SHARD {
        return Err(LimitError::exceeded("--sims-per-shard", sims_per_shard, MAX_SIMS_PER_SHARD, None));
    }
    Ok(())
}

/// A number for a message: plain, or in exponent form when huge or tiny (1e300, not 301 digits).
pub fn fmt_number(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e9).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

/// Check `value` is finite and in `[min, max]`, naming `what` and the range otherwise.
pub fn check_range(what: &str, value: f64, min: f64, max: f64) -> Result<(), LimitError> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(LimitError::OutOfRange { what: what.into(), value: fmt_number(value), range: format!("[{}, {}]", fmt_number(min), fmt_number(max)) })
    }
}

/// Check a count against a limit, naming `what`.
pub fn check_count(what: &str, count: usize, max: usize, env: Option<&str>) -> Result<(), LimitError> {
    if count > max {
        return Err(LimitError::exceeded(what, count, max, env));
    }
    Ok(())
}

/// Check the number of synapses placed in the app ([`MAX_SYNAPSES`] or the environment's).
pub fn check_synapse_count(what: &str, count: usize) -> Result<(), LimitError> {
    check_count(what, count, limit_usize(ENV_MAX_SYNAPSES, MAX_SYNAPSES)?, Some(ENV_MAX_SYNAPSES))
}

/// Check the app's somatic clamp: |amplitude| ≤ [`MAX_CLAMP_AMP_NA`], 0 ≤ start, duration ≤
/// [`MAX_CLAMP_TIME_MS`]. `what` prefixes the field names (e.g. "clamp.").
pub fn check_clamp(what: &str, amp_na: f64, delay_ms: f64, dur_ms: f64) -> Result<(), LimitError> {
    check_range(&format!("{what}amp_na (nA)"), amp_na, -MAX_CLAMP_AMP_NA, MAX_CLAMP_AMP_NA)?;
    check_range(&format!("{what}delay_ms (ms)"), delay_ms, 0.0, MAX_CLAMP_TIME_MS)?;
    check_range(&format!("{what}dur_ms (ms)"), dur_ms, 0.0, MAX_CLAMP_TIME_MS)
}

/// Worker threads for a requested count: at most the machine's cores. Returns the count to use
/// and, when the request was capped, a message saying so.
pub fn cap_threads(requested: usize) -> (usize, Option<String>) {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    if requested > cores {
        (cores, Some(format!("--threads {requested} is more than the {cores} cores of this machine; using {cores}")))
    } else {
        (requested, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tstop_and_dt_ranges() {
        assert!(check_tstop_dt("", 600.0, 0.025).is_ok());
        assert!(check_tstop_dt("", 0.0, 0.025).is_ok());
        let e = check_tstop_dt("sim.", 1e9, 0.025).unwrap_err().to_string();
        assert!(e.contains("sim.tstop") && e.contains("NEUROTWIN_MAX_TSTOP_MS"), "{e}");
        let e = check_tstop_dt("", 100.0, 1e-9).unwrap_err().to_string();
        assert!(e.contains("dt (ms) is 0.000000001, outside"), "{e}");
        assert!(check_tstop_dt("", 100.0, 0.0).is_err());
        assert!(check_tstop_dt("", 100.0, -0.025).is_err());
        assert!(check_tstop_dt("", f64::NAN, 0.025).is_err());
        let e = check_tstop_dt("", 90_000.0, 0.001).unwrap_err().to_string();
        assert!(e.contains("time steps"), "{e}");
    }

    #[test]
    fn dataset_and_threads() {
        assert!(check_dataset(100, 32).is_ok());
        assert!(check_dataset(4_000_000_000, 32).unwrap_err().to_string().contains("--count"));
        assert!(check_dataset(usize::MAX, 32).is_err());
        assert!(check_dataset(10, 100_000).unwrap_err().to_string().contains("--sims-per-shard"));
        let (n, msg) = cap_threads(100_000);
        assert!(n >= 1 && n < 100_000);
        assert!(msg.unwrap_or_default().contains("cores"));
        assert_eq!(cap_threads(1), (1, None));
    }

    #[test]
    fn app_limits_name_the_field_and_the_limit() {
        assert!(check_clamp("clamp.", 0.8, 100.0, 200.0).is_ok());
        assert!(check_clamp("clamp.", -5.0, 0.0, 1e6).is_ok());
        let e = check_clamp("clamp.", 1e300, 0.0, 5.0).unwrap_err().to_string();
        assert!(e.contains("clamp.amp_na (nA) is 1e300") && e.contains("[-5, 5]"), "{e}");
        let e = check_clamp("clamp.", 1.0, -5.0, 5.0).unwrap_err().to_string();
        assert!(e.contains("clamp.delay_ms") && e.contains("-5"), "{e}");
        assert!(check_clamp("", f64::NAN, 0.0, 1.0).is_err());
        assert!(check_clamp("", 1.0, 0.0, f64::INFINITY).is_err());
        assert!(check_synapse_count("synapses", MAX_SYNAPSES).is_ok());
        let e = check_synapse_count("synapses", 20_000).unwrap_err().to_string();
        assert!(e.contains("synapses is 20000, above the limit of 1000") && e.contains(ENV_MAX_SYNAPSES), "{e}");
        let e = check_count("recording_sites", 10_000, MAX_RECORDING_SITES, None).unwrap_err().to_string();
        assert!(e.contains("recording_sites is 10000, above the limit of 32"), "{e}");
    }
}
