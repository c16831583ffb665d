//! Finding the project's shipped files (`models/`, `morphologies/…`) wherever the program is
//! started: relative to the working directory first, then to the executable's folder and each of
//! its ancestors (so `target/release/neurotwin` finds the project root), then to the folder the
//! crate was compiled in (`CARGO_MANIFEST_DIR`). A miss names every place looked at.
//!
//! A lowest-layer module: it uses nothing of the crate.

use std::path::{Path, PathBuf};

/// A project path that is in none of the places looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no {what} found (looked in: {})", looked_in.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
pub struct NotFound {
    /// What was looked for, e.g. "models folder".
    pub what: String,
    /// Every candidate path, in the order tried.
    pub looked_in: Vec<PathBuf>,
}

/// The folders to look in, in order, without repeats: `working_dir`, the executable's folder and
/// its ancestors, then `manifest_dir`.
pub fn search_roots(working_dir: Option<&Path>, exe: Option<&Path>, manifest_dir: Option<&Path>) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    let mut add = |p: &Path| {
        if !p.as_os_str().is_empty() && !roots.iter().any(|r| r == p) {
            roots.push(p.to_path_buf());
        }
    };
    if let Some(w) = working_dir {
        add(w);
    }
    if let Some(folder) = exe.and_then(Path::parent) {
        for a in folder.ancestors() {
            add(a);
        }
    }
    if let Some(m) = manifest_dir {
        add(m);
    }
    roots
}

/// What [`find_in`] looks for at each root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    File,
    Folder,
}

/// `relative` under the first of `roots` where it exists as `want`.
pub fn find_in(roots: &[PathBuf], relative: &Path, want: Want, what: &str) -> Result<PathBuf, NotFound> {
    let candidates: Vec<PathBuf> = roots.iter().map(|r| r.join(relative)).collect();
    candidates
        .iter()
        .find(|c| match want {
            Want::File => c.is_file(),
            Want::Folder => c.is_dir(),
        })
        .cloned()
        .ok_or_else(|| NotFound { what: what.to_string(), looked_in: candidates })
}

/// The roots of this process: the working directory, the running executable and the folder this
/// crate was compiled in.
pub fn process_roots() -> Vec<PathBuf> {
    let cwd = std::env::current_dir().ok();
    let exe = std::env::current_exe().ok();
    search_roots(cwd.as_deref(), exe.as_deref(), Some(Path::new(env!("CARGO_MANIFEST_DIR"))))
}

/// The project's `models/` folder, wherever the program was started.
pub fn models_dir() -> Result<PathBuf, NotFound> {
    find_in(&process_roots(), Path::new("models"), Want::Folder, "models folder")
}

/// The project's `morphologies/` folder, wherever the program was started.
pub fn morphologies_dir() -> Result<PathBuf, NotFound> {
    find_in(&process_roots(), Path::new("morphologies"), Want::Folder, "morphologies folder")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_models_folder_above_the_executable() {
        let project = tempfile::tempdir().expect("tmp");
        let elsewhere = tempfile::tempdir().expect("tmp");
        std::fs::create_dir(project.path().join("models")).expect("mkdir");
        let exe_dir = project.path().join("target").join("release");
        std::fs::create_dir_all(&exe_dir).expect("mkdir");
        let exe = exe_dir.join("neurotwin");
        let roots = search_roots(Some(elsewhere.path()), Some(&exe), None);
        assert_eq!(roots[0], elsewhere.path(), "the working directory comes first");
        let found = find_in(&roots, Path::new("models"), Want::Folder, "models folder").expect("found");
        assert_eq!(found, project.path().join("models"));
        // the working directory wins when it has one
        std::fs::create_dir(elsewhere.path().join("models")).expect("mkdir");
        assert_eq!(find_in(&roots, Path::new("models"), Want::Folder, "models folder"), Ok(elsewhere.path().join("models")));
        // a file is not a folder, and a miss names every place looked at
        let empty = tempfile::tempdir().expect("tmp");
        std::fs::write(empty.path().join("models"), "").expect("write");
        let e = find_in(&[empty.path().to_path_buf()], Path::new("models"), Want::Folder, "models folder").expect_err("a file");
        assert_eq!(e.looked_in, vec![empty.path().join("models")]);
        assert!(e.to_string().starts_with("no models folder found (looked in: "), "{e}");
    }

    #[test]
    fn roots_are_ordered_and_unique() {
        let roots = search_roots(Some(Path::new("/p")), Some(Path::new("/p/target/release/x")), Some(Path::new("/p")));
        assert_eq!(roots, vec![PathBuf::from("/p"), PathBuf::from("/p/target/release"), PathBuf::from("/p/target"), PathBuf::from("/")]);
    }
}
