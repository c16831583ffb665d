//! Opening an input file, the one way every reader of the crate does it: scenario, morphology,
//! golden case, model metadata and graph, dataset manifest and shards, parity vectors. Only a
//! regular file is read (a FIFO, a device such as `/dev/zero`, a socket or a folder is refused at
//! once: the file is opened non-blocking, so even opening a FIFO with no writer never waits), and
//! never more than a size limit (checked against the file's size before reading, and again while
//! reading, for a file that grows). Also here: refusing an output that is one of the command's
//! inputs (the same file after canonicalising, or a hard link to it).

use crate::limits::LimitError;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Limit(#[from] LimitError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a regular file ({0}); only regular files are read")]
    NotRegular(&'static str),
    #[error("the file is not UTF-8 text")]
    NotUtf8,
}

fn kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Open `path` for reading if it is a regular file of at most `max_bytes` bytes (`env` names the
/// environment variable that raises the limit, for the message). Returns the file and its size.
/// Never blocks: a FIFO is opened with `O_NONBLOCK` and refused by its type.
pub fn open_regular(path: &Path, max_bytes: u64, env: Option<&str>) -> Result<(File, u64), ReadError> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC).open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind(&meta)));
    }
    if meta.len() > max_bytes {
        return Err(LimitError::exceeded("the file's size", format!("{} bytes", meta.len()), format!("{max_bytes} bytes"), env).into());
    }
    // back to blocking reads (a regular file never blocks; this only keeps the flags ordinary)
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this function owns, with flags read from it.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
    Ok((file, meta.len()))
}

/// The bytes of a regular file of at most `max_bytes` ([`open_regular`]); a file that grows past
/// the limit while read is refused after `max_bytes + 1` bytes.
pub fn read_bytes_limited(path: &Path, max_bytes: u64, env: Option<&str>) -> Result<Vec<u8>, ReadError> {
    let (file, len) = open_regular(path, max_bytes, env)?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(LimitError::exceeded("the file's size", format!("over {max_bytes} bytes"), format!("{max_bytes} bytes"), env).into());
    }
    Ok(bytes)
}

/// [`read_bytes_limited`] for UTF-8 text.
pub fn read_text_limited(path: &Path, max_bytes: u64, env: &str) -> Result<String, ReadError> {
    String::from_utf8(read_bytes_limited(path, max_bytes, Some(env))?).map_err(|_| ReadError::NotUtf8)
}

/// A JSON input (scenario, manifest, case, metadata, config): [`read_text_limited`] under
/// [`crate::limits::max_json_file_bytes`].
pub fn read_json_text(path: &Path) -> Result<String, ReadError> {
    read_text_limited(path, crate::limits::max_json_file_bytes()?, crate::limits::ENV_MAX_JSON_MB)
}

/// Size and lower-case hex SHA-256 of a regular file of at most `max_bytes`, read in blocks
/// (never whole in memory).
pub fn sha256_file(path: &Path, max_bytes: u64) -> Result<(u64, String), ReadError> {
    use sha2::{Digest, Sha256};
    let (file, _) = open_regular(path, max_bytes, None)?;
    let mut reader = file.take(max_bytes.saturating_add(1));
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        hash.update(&buf[..n]);
    }
    if total > max_bytes {
        return Err(LimitError::exceeded("the file's size", format!("over {max_bytes} bytes"), format!("{max_bytes} bytes"), None).into());
    }
    Ok((total, hash.finalize().iter().map(|b| format!("{b:02x}")).collect()))
}

/// True when `a` and `b` name the same file: equal after canonicalising, or the same device and
/// inode (a hard link). False when either does not exist.
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    if let (Ok(ca), Ok(cb)) = (a.canonicalize(), b.canonicalize()) {
        if ca == cb {
            return true;
        }
    }
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(ma), Ok(mb)) => ma.dev() == mb.dev() && ma.ino() == mb.ino(),
        _ => false,
    }
}

/// An output path that is one of the command's inputs.
#[derive(Debug, thiserror::Error)]
#[error("{out} is the same file as the input {input} ({what}); writing it would destroy the input. Choose another output, or pass --force to overwrite it")]
pub struct OutputIsInput {
    pub out: String,
    pub input: String,
    pub what: String,
}

/// Refuse writing `out` when it is one of `inputs` (`(what, path)`), unless `force`.
pub fn check_output_not_input(out: &Path, inputs: &[(&str, &Path)], force: bool) -> Result<(), OutputIsInput> {
    if force {
        return Ok(());
    }
    for (what, input) in inputs {
        if same_file(out, input) {
            return Err(OutputIsInput { out: out.display().to_string(), input: input.display().to_string(), what: what.to_string() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn mkfifo(path: &Path) {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    }

    #[test]
    fn fifos_devices_and_folders_are_refused_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("f.json");
        mkfifo(&fifo);
        let t = Instant::now();
        let e = read_bytes_limited(&fifo, 1000, None).expect_err("fifo").to_string();
        assert!(e.contains("FIFO"), "{e}");
        let e = read_bytes_limited(Path::new("/dev/zero"), 1 << 30, None).expect_err("device").to_string();
        assert!(e.contains("character device"), "{e}");
        let e = read_bytes_limited(dir.path(), 1000, None).expect_err("folder").to_string();
        assert!(e.contains("folder"), "{e}");
        assert!(t.elapsed().as_secs_f64() < 1.0, "{:?}", t.elapsed());
    }

    #[test]
    fn size_is_capped_before_reading() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("big.txt");
        std::fs::write(&p, vec![b'x'; 2000]).expect("write");
        let e = read_text_limited(&p, 1000, "X_MB").expect_err("too big").to_string();
        assert!(e.contains("2000 bytes") && e.contains("1000 bytes") && e.contains("X_MB"), "{e}");
        assert_eq!(read_text_limited(&p, 2000, "X_MB").expect("fits").len(), 2000);
        std::fs::write(&p, [0xff, 0xfe]).expect("write");
        assert!(matches!(read_text_limited(&p, 10, "X"), Err(ReadError::NotUtf8)));
    }

    #[test]
    fn sha256_is_streamed_and_matches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("abc");
        std::fs::write(&p, b"abc").expect("write");
        let (n, hex) = sha256_file(&p, 10).expect("hash");
        assert_eq!((n, hex.as_str()), (3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        assert!(sha256_file(&p, 2).is_err());
    }

    #[test]
    fn outputs_that_are_inputs_are_refused_unless_forced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.json");
        std::fs::write(&a, "{}").expect("write");
        let link = dir.path().join("hard.json");
        std::fs::hard_link(&a, &link).expect("hard link");
        let dotted = dir.path().join(".").join("a.json");
        let other = dir.path().join("b.json");
        for out in [&a, &link, &dotted] {
            let e = check_output_not_input(out, &[("case", &a)], false).expect_err("same file").to_string();
            assert!(e.contains("--force") && e.contains("case"), "{e}");
            assert!(check_output_not_input(out, &[("case", &a)], true).is_ok());
        }
        assert!(check_output_not_input(&other, &[("case", &a)], false).is_ok());
        std::fs::write(&other, "{}").expect("write");
        assert!(check_output_not_input(&other, &[("case", &a)], false).is_ok(), "a different file with the same content");
    }
}
