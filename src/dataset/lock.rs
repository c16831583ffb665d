//! The lock a `neurotwin dataset` run holds on its output folder while it writes it: a file
//! `.PARTITION-MANIFEST.lock` (e.g. `.manifest.json.lock`) created exclusively, holding the
//! writer's PID. A second writer of the same partition is refused with that PID; a lock whose
//! process no longer runs (a crash, a kill -9) is taken over. Partitions (`--shard I/N`) have one
//! lock each, so they may still run side by side. Removed when the run ends.

use super::DatasetError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A held lock; dropping it removes the lock file.
#[derive(Debug)]
pub struct DirLock {
    path: PathBuf,
}

/// True when a process with this PID runs (or exists under another user).
fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

impl DirLock {
    /// Lock `dir` for the partition writing `manifest_name`.
    pub fn acquire(dir: &Path, manifest_name: &str) -> Result<DirLock, DatasetError> {
        let path = dir.join(format!(".{manifest_name}.lock"));
        for _ in 0..3 {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    writeln!(f, "{}", std::process::id()).and_then(|()| f.sync_all()).map_err(|e| DatasetError::io(&path, e))?;
                    return Ok(DirLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = crate::input::read_text_limited(&path, 64, "-").unwrap_or_default();
                    match text.trim().parse::<i32>() {
                        Ok(pid) if alive(pid) => {
                            return Err(DatasetError::Locked { dir: dir.display().to_string(), pid, lock: path.display().to_string() });
                        }
                        // a dead writer's (or an unreadable) lock: take it over
                        _ => {
                            eprintln!("taking over the stale lock {} (its process {:?} no longer runs)", path.display(), text.trim());
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(e) => return Err(DatasetError::io(&path, e)),
            }
        }
        Err(DatasetError::Io { path: path.display().to_string(), message: "could not take the lock (another writer keeps taking it)".into() })
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let ours = std::fs::read_to_string(&self.path).is_ok_and(|t| t.trim() == std::process::id().to_string());
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_pid_and_a_stale_lock_is_taken_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lock = DirLock::acquire(dir.path(), "manifest.json").expect("first");
        let e = DirLock::acquire(dir.path(), "manifest.json").expect_err("second").to_string();
        assert!(e.contains(&format!("process {}", std::process::id())), "{e}");
        // another partition has its own lock
        let other = DirLock::acquire(dir.path(), "manifest.part-1-of-2.json").expect("other partition");
        drop(lock);
        drop(other);
        assert!(!dir.path().join(".manifest.json.lock").exists(), "removed when done");
        // a lock left by a process that no longer runs
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let dead = child.id();
        child.wait().expect("wait");
        std::fs::write(dir.path().join(".manifest.json.lock"), format!("{dead}\n")).expect("write");
        let taken = DirLock::acquire(dir.path(), "manifest.json").expect("stale lock taken over");
        let text = std::fs::read_to_string(dir.path().join(".manifest.json.lock")).expect("read");
        assert_eq!(text.trim(), std::process::id().to_string());
        drop(taken);
    }
}
