//! Downloading a published file that neurotwin may not redistribute (the Hay et al. 2011 cell,
//! `cell1.asc`) and checking it against its known SHA-256 before it is written.
//!
//! The download is held in memory (at most [`limits::MAX_FETCH_BYTES`](crate::limits::MAX_FETCH_BYTES)),
//! hashed, and written through [`crate::atomic`] only when the hash matches: an offline machine, a
//! timeout, an HTTP error status, an oversized answer or a checksum mismatch leaves nothing behind
//! (no partial file, no temporary file). A destination that already holds the expected content is
//! not downloaded again; one that holds something else is replaced only when asked
//! ([`FetchOptions::overwrite`]).
//!
//! HTTP and TLS are `ureq` with rustls (no system OpenSSL). Uses `limits`, `atomic`, `locate`.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the Hay et al. 2011 cell is published: the Beniaguev et al. (2021) repository's copy of
/// ModelDB 139653's `cell1.asc`.
pub const HAY_CELL_URL: &str =
    "https://raw.githubusercontent.com/SelfishGene/neuron_as_deep_net/master/L5PC_NEURON_simulation/morphologies/cell1.asc";
/// SHA-256 of that file (lowercase hex), the one the golden tests were made with.
pub const HAY_CELL_SHA256: &str = "a8afc0925afec1dd9241528ee6ccfdcb1c321904d876835990592c2573567383";
/// The file's name in the project's `morphologies/` folder.
pub const HAY_CELL_FILE: &str = "cell1.asc";

/// Default time to open the connection (TCP and TLS), seconds.
pub const DEFAULT_CONNECT_TIMEOUT_S: f64 = 20.0;
/// Default longest wait for any one read (the response's headers, each part of the body),
/// seconds: a server that stops sending fails after this long.
pub const DEFAULT_READ_TIMEOUT_S: f64 = 30.0;

/// Default longest time for the whole download (connection, answer and body), seconds: a server
/// trickling a byte a second, which never trips the per-read timeout, fails after this long.
pub const DEFAULT_DEADLINE_S: f64 = 600.0;

/// What to download and where.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub url: String,
    /// Expected SHA-256, lowercase hex.
    pub sha256: String,
    /// Destination file (its folder must exist or be creatable).
    pub out: PathBuf,
    /// Time to open the connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Longest wait for the response's headers and for each read of the body.
    pub read_timeout: Duration,
    /// Longest time for the whole download, however the server paces it.
    pub deadline: Duration,
    /// Largest answer accepted (bytes).
    pub max_bytes: u64,
    /// Replace a destination whose content differs from the expected file.
    pub overwrite: bool,
}

impl FetchOptions {
    /// The Hay cell from [`HAY_CELL_URL`] to `out`, with the default timeouts and size limit.
    pub fn hay_cell(out: PathBuf) -> FetchOptions {
        FetchOptions {
            url: HAY_CELL_URL.to_string(),
            sha256: HAY_CELL_SHA256.to_string(),
            out,
            connect_timeout: Duration::from_secs_f64(DEFAULT_CONNECT_TIMEOUT_S),
            read_timeout: Duration::from_secs_f64(DEFAULT_READ_TIMEOUT_S),
            deadline: Duration::from_secs_f64(DEFAULT_DEADLINE_S),
            max_bytes: crate::limits::MAX_FETCH_BYTES,
            overwrite: false,
        }
    }
}

/// Progress of a download: bytes received so far and, when the server said it, the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    pub received_bytes: u64,
    pub total_bytes: Option<u64>,
}

/// What [`fetch`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// Downloaded, verified and written.
    Written { path: PathBuf, bytes: u64 },
    /// The destination already held the expected file; nothing was downloaded or written.
    AlreadyPresent { path: PathBuf },
}

impl Fetched {
    pub fn path(&self) -> &Path {
        match self {
            Fetched::Written { path, .. } | Fetched::AlreadyPresent { path } => path,
        }
    }
}

/// Why a download failed. Each names the URL or the file; none leaves a file behind.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: cannot connect ({message}); is this machine offline?")]
    Connect { url: String, message: String },
    #[error("{url}: timed out after {timeout_s} s {phase}")]
    Timeout { url: String, phase: &'static str, timeout_s: f64 },
    #[error("{url}: the server answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: the answer is larger than the limit of {limit_bytes} bytes")]
    TooLarge { url: String, limit_bytes: u64 },
    #[error("{url}: checksum mismatch: expected SHA-256 {expected}, got {actual} ({bytes} bytes); nothing written")]
    Checksum { url: String, expected: String, actual: String, bytes: u64 },
    #[error("{url}: {message}")]
    Transfer { url: String, message: String },
    #[error("{path} already exists and is not the expected file (SHA-256 {actual}, expected {expected}); remove it or pass --force to replace it")]
    ExistsDifferent { path: String, actual: String, expected: String },
    #[error("{path}: {message}")]
    Write { path: String, message: String },
    #[error("expected SHA-256 {0:?} is not 64 hexadecimal digits")]
    BadHash(String),
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The Hay cell's default destination: `cell1.asc` in the project's `morphologies/` folder found
/// the way [`crate::locate`] finds shipped files (working directory, then beside or above the
/// executable, then the source tree), else `morphologies/cell1.asc` in the working directory.
pub fn default_hay_destination() -> PathBuf {
    crate::locate::morphologies_dir().unwrap_or_else(|_| PathBuf::from("morphologies")).join(HAY_CELL_FILE)
}

/// Download `opts.url`, check its SHA-256, and write it to `opts.out` atomically, calling
/// `progress` as bytes arrive. See the module doc for what is refused.
pub fn fetch(opts: &FetchOptions, progress: &mut dyn FnMut(Progress)) -> Result<Fetched, FetchError> {
    match download_verified(opts, progress)? {
        None => Ok(Fetched::AlreadyPresent { path: opts.out.clone() }),
        Some(bytes) => {
            write_verified(opts, &bytes)?;
            Ok(Fetched::Written { path: opts.out.clone(), bytes: bytes.len() as u64 })
        }
    }
}

/// The first half of [`fetch`]: `None` when `opts.out` already holds the expected file, else the
/// downloaded bytes after their SHA-256 matched (nothing is written). A destination holding
/// something else is an error unless `opts.overwrite`.
pub fn download_verified(opts: &FetchOptions, progress: &mut dyn FnMut(Progress)) -> Result<Option<Vec<u8>>, FetchError> {
    let expected = opts.sha256.trim().to_ascii_lowercase();
    if expected.len() != 64 || !expected.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FetchError::BadHash(opts.sha256.clone()));
    }
    let out_name = opts.out.display().to_string();
    if opts.out.exists() {
        let existing = read_existing(&opts.out, opts.max_bytes).map_err(|message| FetchError::Write { path: out_name.clone(), message })?;
        let actual = existing.as_deref().map(sha256_hex).unwrap_or_else(|| "of a file over the size limit".into());
        if actual == expected {
            return Ok(None);
        }
        if !opts.overwrite {
            return Err(FetchError::ExistsDifferent { path: out_name, actual, expected });
        }
    }
    let bytes = download(opts, progress)?;
    let actual = sha256_hex(&bytes);
    if actual != expected {
        return Err(FetchError::Checksum { url: opts.url.clone(), expected, actual, bytes: bytes.len() as u64 });
    }
    Ok(Some(bytes))
}

/// The second half of [`fetch`]: write verified bytes to `opts.out` atomically (creating its folder).
pub fn write_verified(opts: &FetchOptions, bytes: &[u8]) -> Result<(), FetchError> {
    if let Some(dir) = opts.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| FetchError::Write { path: dir.display().to_string(), message: format!("cannot create the folder: {e}") })?;
    }
    crate::atomic::write(&opts.out, bytes).map_err(|e| FetchError::Write { path: opts.out.display().to_string(), message: e.to_string() })
}

/// An existing destination's content, or `None` when it is larger than `max_bytes`.
fn read_existing(path: &Path, max_bytes: u64) -> Result<Option<Vec<u8>>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    Ok((bytes.len() as u64 <= max_bytes).then_some(bytes))
}

/// The whole answer to a GET of `opts.url`, within the size limit and timeouts.
fn download(opts: &FetchOptions, progress: &mut dyn FnMut(Progress)) -> Result<Vec<u8>, FetchError> {
    let url = opts.url.as_str();
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(opts.connect_timeout))
        .timeout_recv_response(Some(opts.read_timeout))
        .timeout_per_read(Some(opts.read_timeout))
        .timeout_global(Some(opts.deadline))
        .http_status_as_error(false)
        .user_agent(concat!("neurotwin/", env!("CARGO_PKG_VERSION")))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let mut response = agent.get(url).call().map_err(|e| request_error(url, opts, e))?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(FetchError::Status { url: url.to_string(), status });
    }
    let total_bytes = response.body().content_length();
    if total_bytes.is_some_and(|n| n > opts.max_bytes) {
        return Err(FetchError::TooLarge { url: url.to_string(), limit_bytes: opts.max_bytes });
    }
    let capacity = total_bytes.unwrap_or(0).min(opts.max_bytes) as usize;
    let mut bytes = Vec::with_capacity(capacity);
    let mut reader = response.body_mut().as_reader();
    let mut chunk = vec![0u8; 64 * 1024];
    progress(Progress { received_bytes: 0, total_bytes });
    let started = std::time::Instant::now();
    loop {
        if started.elapsed() > opts.deadline {
            return Err(FetchError::Timeout { url: url.to_string(), phase: "in all (the download's overall deadline)", timeout_s: opts.deadline.as_secs_f64() });
        }
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(request_error(url, opts, ureq::Error::from(e))),
        };
        if bytes.len() as u64 + n as u64 > opts.max_bytes {
            return Err(FetchError::TooLarge { url: url.to_string(), limit_bytes: opts.max_bytes });
        }
        bytes.extend_from_slice(&chunk[..n]);
        progress(Progress { received_bytes: bytes.len() as u64, total_bytes });
    }
    if let Some(total) = total_bytes.filter(|&t| t != bytes.len() as u64) {
        return Err(FetchError::Transfer { url: url.to_string(), message: format!("the connection closed after {} of {total} bytes", bytes.len()) });
    }
    Ok(bytes)
}

/// A `ureq` error as a [`FetchError`] naming the URL and, for a timeout, the phase and limit.
fn request_error(url: &str, opts: &FetchOptions, e: ureq::Error) -> FetchError {
    use ureq::Timeout as T;
    let url = url.to_string();
    match e {
        ureq::Error::StatusCode(status) => FetchError::Status { url, status },
        ureq::Error::Timeout(T::Connect | T::Resolve) => {
            FetchError::Timeout { url, phase: "connecting", timeout_s: opts.connect_timeout.as_secs_f64() }
        }
        ureq::Error::Timeout(T::Global) => {
            FetchError::Timeout { url, phase: "in all (the download's overall deadline)", timeout_s: opts.deadline.as_secs_f64() }
        }
        ureq::Error::Timeout(T::RecvResponse) => {
            FetchError::Timeout { url, phase: "waiting for the answer", timeout_s: opts.read_timeout.as_secs_f64() }
        }
        ureq::Error::Timeout(_) => FetchError::Timeout { url, phase: "waiting for data", timeout_s: opts.read_timeout.as_secs_f64() },
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => FetchError::Connect { url, message: e.to_string() },
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::NetworkUnreachable
                    | std::io::ErrorKind::HostUnreachable
                    | std::io::ErrorKind::AddrNotAvailable
            ) =>
        {
            FetchError::Connect { url, message: io.to_string() }
        }
        ureq::Error::Io(io) if matches!(io.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => {
            FetchError::Timeout { url, phase: "waiting for data", timeout_s: opts.read_timeout.as_secs_f64() }
        }
        ureq::Error::BodyExceedsLimit(_) => FetchError::TooLarge { url, limit_bytes: opts.max_bytes },
        other => FetchError::Transfer { url, message: other.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_text() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn a_bad_expected_hash_is_refused_before_any_connection() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = FetchOptions::hay_cell(dir.path().join("x.asc"));
        o.url = "http://127.0.0.1:9/never".into();
        o.sha256 = "abc".into();
        assert!(matches!(fetch(&o, &mut |_| {}), Err(FetchError::BadHash(_))));
    }

    #[test]
    fn an_existing_matching_file_is_not_downloaded_again_and_a_different_one_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("f.txt");
        std::fs::write(&out, b"abc").unwrap();
        let mut o = FetchOptions::hay_cell(out.clone());
        o.url = "http://127.0.0.1:9/never".into(); // discard port: nothing listens
        o.sha256 = sha256_hex(b"abc");
        assert_eq!(fetch(&o, &mut |_| {}).unwrap(), Fetched::AlreadyPresent { path: out.clone() });
        o.sha256 = sha256_hex(b"other");
        let e = fetch(&o, &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("already exists") && e.contains("--force"), "{e}");
        assert_eq!(std::fs::read(&out).unwrap(), b"abc");
    }
}
