//! Atomic file writes: the content goes to a temporary file in the destination's folder, is
//! flushed and synced to disk, then renamed over the destination. A reader (or a crash, a full
//! disk, a killed process) sees the previous file or the complete new one, never a half file;
//! on failure the temporary file is removed. Every output file of the crate is written this way
//! (`dataset` shards and manifests, and every `--out` of the command line).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The temporary name used for `path`: `.NAME.tmp.PID` beside it.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    dir.join(format!(".{name}.tmp.{}", std::process::id()))
}

/// Write `path` atomically with `fill`, which writes the content to a buffered writer.
pub fn write_with(path: &Path, fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>) -> std::io::Result<()> {
    let tmp = temporary_path(path);
    let result = (|| {
        let mut w = BufWriter::new(File::create(&tmp)?);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        // best effort: the temporary file is ours and useless now
        let _ = std::fs::remove_file(&tmp);
    } else if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // make the rename itself durable where the platform allows syncing a folder
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    result
}

/// Write `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    write_with(path, |w| w.write_all(bytes.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_and_leaves_the_old_file_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.txt");
        write(&p, "first\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "first\n");
        let e = write_with(&p, |w| {
            w.write_all(b"half a li")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(e.is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "first\n", "the previous file is kept");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
        write(&p, "second\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "second\n");
        // a missing folder fails and creates nothing
        assert!(write(&dir.path().join("no/such/out.txt"), "x").is_err());
    }
}
