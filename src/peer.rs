//! Published third-party twins that neurotwin runs but may not redistribute: the Branch-ELM neuron
//! of Spieler et al. (ICLR 2024, "The Expressive Leaky Memory Neuron"), trained by its authors on
//! the Beniaguev et al. (2021) NEURON dataset of the Hay cell (MIT licence).
//!
//! `neurotwin fetch elm` (and the app's button) downloads the authors' files at a pinned commit,
//! checks each SHA-256, and only when all three are verified writes them into the user's
//! `models/` folder beside two files of ours: the metadata `elm-neuronio-best.json` (source,
//! citation, the soma transform, spike thresholds measured on neurotwin's own validation
//! simulations) and its parity vector's expected output (from an independent NumPy forward pass of
//! the published weights). The weights are then loaded like any twin and must pass that parity
//! check. Uses `fetch` for each download.

use crate::fetch::{self, FetchError, FetchOptions, Fetched, Progress};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The authors' repository and the commit whose files are pinned.
pub const ELM_REPOSITORY: &str = "AaronSpieler/elmneuron";
pub const ELM_COMMIT: &str = "52e68a6d39523ac6613a586699b116e8e606dda3";
/// Base URL of the pinned files (each file's path below is appended).
pub const ELM_BASE_URL: &str = "https://raw.githubusercontent.com/AaronSpieler/elmneuron/52e68a6d39523ac6613a586699b116e8e606dda3/";
/// The model's name in `models/` (file stem of every file written).
pub const ELM_NAME: &str = "elm-neuronio-best";

/// One published file: its path under [`ELM_BASE_URL`], the suffix of its local name
/// (`ELM_NAME` + suffix), its SHA-256 and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerFile {
    pub remote_path: &'static str,
    pub local_suffix: &'static str,
    pub sha256: &'static str,
    pub bytes: u64,
}

/// The authors' files, written in this order (the weights last, so the catalog, which lists
/// `.pt` files, never sees a model whose other files are missing).
pub const ELM_FILES: [PeerFile; 3] = [
    PeerFile { remote_path: "LICENSE", local_suffix: ".LICENSE", sha256: "f2cd28ca797d7802ce379358bfae68bad846d9f0f555c3a330331e783ae90fbb", bytes: 1070 },
    PeerFile {
        remote_path: "models/best_elm_neuron/model_config.json",
        local_suffix: ".model_config.json",
        sha256: "3c54bb31199cdd4c814ffc2965827c2c7cc62802aa1330ae32806e9b5377b51a",
        bytes: 296,
    },
    PeerFile {
        remote_path: "models/best_elm_neuron/neuronio_best_model_state.pt",
        local_suffix: ".pt",
        sha256: "ee1252616cd2ad7dd60786e304a56e6d9d13b4f85ce9974fbef909efa9f43812",
        bytes: 278_148,
    },
];

/// Our metadata for the published model (written as `ELM_NAME.json`).
pub const ELM_METADATA_JSON: &str = include_str!("../models/peers/elm-neuronio-best.json");
/// The parity vector's expected raw output, float32 (1, 2, T) `.npy` (written as
/// `ELM_NAME.parity.output.npy`; its input is generated, see the metadata's `parity`).
pub const ELM_PARITY_OUTPUT_NPY: &[u8] = include_bytes!("../models/peers/elm-neuronio-best.parity.output.npy");
const ELM_PARITY_OUTPUT_SUFFIX: &str = ".parity.output.npy";

/// Options of [`fetch_elm`].
#[derive(Debug, Clone)]
pub struct ElmFetchOptions {
    /// Base URL the authors' file paths are appended to (a mirror; hashes are still checked).
    pub base_url: String,
    /// The models folder to write into.
    pub dir: PathBuf,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// Replace files that exist and differ from the expected ones.
    pub overwrite: bool,
}

impl ElmFetchOptions {
    pub fn new(dir: PathBuf) -> ElmFetchOptions {
        ElmFetchOptions {
            base_url: ELM_BASE_URL.to_string(),
            dir,
            connect_timeout: Duration::from_secs_f64(fetch::DEFAULT_CONNECT_TIMEOUT_S),
            read_timeout: Duration::from_secs_f64(fetch::DEFAULT_READ_TIMEOUT_S),
            overwrite: false,
        }
    }

    fn file_options(&self, f: &PeerFile) -> FetchOptions {
        let mut o = FetchOptions::hay_cell(self.dir.join(format!("{ELM_NAME}{}", f.local_suffix)));
        o.url = format!("{}/{}", self.base_url.trim_end_matches('/'), f.remote_path);
        o.sha256 = f.sha256.to_string();
        o.connect_timeout = self.connect_timeout;
        o.read_timeout = self.read_timeout;
        o.overwrite = self.overwrite;
        o.max_bytes = (f.bytes * 4).max(1 << 20);
        o
    }
}

/// The default folder: the project's `models/` (found like the shipped models).
pub fn default_models_dir() -> PathBuf {
    crate::locate::models_dir().unwrap_or_else(|_| PathBuf::from("models"))
}

/// The path of the published ELM's weights in `dir`.
pub fn elm_model_path(dir: &Path) -> PathBuf {
    dir.join(format!("{ELM_NAME}.pt"))
}

/// Download the published ELM's three files, verify every SHA-256, then write them with our
/// metadata and parity output into `opts.dir` (each file atomically). Nothing is written unless
/// all three downloads verified. `progress(file, p)` reports each download.
pub fn fetch_elm(opts: &ElmFetchOptions, progress: &mut dyn FnMut(&str, Progress)) -> Result<Vec<Fetched>, FetchError> {
    let mut verified = Vec::new();
    for f in &ELM_FILES {
        let o = opts.file_options(f);
        let bytes = fetch::download_verified(&o, &mut |p| progress(f.remote_path, p))?;
        verified.push((o, bytes));
    }
    let ours: [(&str, &[u8]); 2] = [(".json", ELM_METADATA_JSON.as_bytes()), (ELM_PARITY_OUTPUT_SUFFIX, ELM_PARITY_OUTPUT_NPY)];
    let mut out = Vec::new();
    for (suffix, bytes) in ours {
        let path = opts.dir.join(format!("{ELM_NAME}{suffix}"));
        if crate::input::read_bytes_limited(&path, 1 << 24, None).is_ok_and(|b| b == bytes) {
            out.push(Fetched::AlreadyPresent { path });
            continue;
        }
        let mut o = FetchOptions::hay_cell(path.clone());
        o.sha256 = fetch::sha256_hex(bytes);
        fetch::write_verified(&o, bytes)?;
        out.push(Fetched::Written { path, bytes: bytes.len() as u64 });
    }
    for (o, bytes) in verified {
        match bytes {
            None => out.push(Fetched::AlreadyPresent { path: o.out.clone() }),
            Some(b) => {
                fetch::write_verified(&o, &b)?;
                out.push(Fetched::Written { path: o.out.clone(), bytes: b.len() as u64 });
            }
        }
    }
    Ok(out)
}

/// Install the published ELM from a local folder holding the authors' files under their own
/// names (`neuronio_best_model_state.pt`, `model_config.json`, `LICENSE`), e.g. a copy made by
/// hand; the same checks and files as [`fetch_elm`].
pub fn install_elm_from_dir(src: &Path, dir: &Path) -> Result<(), FetchError> {
    // every file read and verified before anything is written
    let mut verified = Vec::new();
    for f in &ELM_FILES {
        let name = f.remote_path.rsplit('/').next().unwrap_or(f.remote_path);
        let from = src.join(name);
        let bytes = crate::input::read_bytes_limited(&from, f.bytes * 4 + (1 << 20), None)
            .map_err(|e| FetchError::Write { path: from.display().to_string(), message: e.to_string() })?;
        let actual = fetch::sha256_hex(&bytes);
        if actual != f.sha256 {
            return Err(FetchError::Checksum { url: from.display().to_string(), expected: f.sha256.to_string(), actual, bytes: bytes.len() as u64 });
        }
        verified.push((f, bytes));
    }
    for (suffix, bytes) in [(".json", ELM_METADATA_JSON.as_bytes()), (ELM_PARITY_OUTPUT_SUFFIX, ELM_PARITY_OUTPUT_NPY)] {
        let mut o = FetchOptions::hay_cell(dir.join(format!("{ELM_NAME}{suffix}")));
        o.sha256 = fetch::sha256_hex(bytes);
        fetch::write_verified(&o, bytes)?;
    }
    for (f, bytes) in verified {
        let mut o = FetchOptions::hay_cell(dir.join(format!("{ELM_NAME}{}", f.local_suffix)));
        o.sha256 = f.sha256.to_string();
        fetch::write_verified(&o, &bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_metadata_for_the_published_elm_is_valid_and_points_at_its_files() {
        let m = crate::surrogate::ModelMetadata::parse(ELM_METADATA_JSON, "elm-neuronio-best.json").expect("valid metadata");
        assert!(m.is_elm());
        assert_eq!(m.model_file_name(), format!("{ELM_NAME}.pt"));
        assert_eq!(m.network.as_ref().and_then(|n| n.config_file.clone()).as_deref(), Some("elm-neuronio-best.model_config.json"));
        assert_eq!(m.input_rows.n_rows, 1278);
        assert!(m.spike_channel_is_logit());
        let p = m.parity.clone().expect("parity");
        assert_eq!(p.output_file, format!("{ELM_NAME}{ELM_PARITY_OUTPUT_SUFFIX}"));
        for fpr in [0.0025, 0.01] {
            assert!(m.threshold_for_fpr(fpr).is_some(), "threshold for {fpr}");
        }
    }
}
