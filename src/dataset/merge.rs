//! Merging the manifests of a dataset written by `--shard I/N` partitions (a Slurm job array) into
//! the one `manifest.json` a one-machine run writes.
//!
//! The merged manifest is the manifest a one-machine `neurotwin dataset` with the same options
//! writes, byte for byte: part 0's header with the partition set to 0/1 and every shard's entry
//! (status `done`, files with sizes and SHA-256) taken from the part that owns it, saved with the
//! same serializer ([`Manifest::save`]). The shard folders are not touched (a shard's bytes do not
//! depend on which job wrote it). Every part must be there and finished, so a merge never hides a
//! missing or interrupted job; afterwards the parts move into `DIR/parts/`, kept as the record.

use super::lock::DirLock;
use super::manifest::{Manifest, Partition, ShardStatus};
use super::DatasetError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the merged parts go, inside the dataset folder.
pub const PARTS_DIR: &str = "parts";

/// What [`merge_parts`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeReport {
    /// The `manifest.json` written.
    pub manifest_path: PathBuf,
    /// The number of parts merged (N of `--shard I/N`).
    pub parts: usize,
    pub shards: usize,
    /// The folder the part manifests were moved into.
    pub parts_dir: PathBuf,
}

fn merge_error(dir: &Path, message: String) -> DatasetError {
    DatasetError::Merge { dir: dir.display().to_string(), message }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Merge `dir`'s `manifest.part-I-of-N.json` files into `dir/manifest.json` (see the module doc).
/// Refused, with the reason, when `manifest.json` exists already, when a part is missing or
/// unfinished (naming the `--shard I/N` to rerun), when the parts disagree, or when a finished
/// shard's folder lacks a file or holds one of another size than its part recorded.
pub fn merge_parts(dir: &Path) -> Result<MergeReport, DatasetError> {
    if !dir.is_dir() {
        return Err(merge_error(dir, "not a folder".into()));
    }
    // no one-machine run may write manifest.json meanwhile
    let _lock = DirLock::acquire(dir, &Partition::WHOLE.manifest_name())?;
    let whole = dir.join(Partition::WHOLE.manifest_name());
    if whole.exists() {
        return Err(merge_error(
            dir,
            format!("{} exists already (merged before, or written by a one-machine run); nothing to merge", file_name(&whole)),
        ));
    }
    let paths: Vec<PathBuf> = Manifest::find_all(dir)?.into_iter().filter(|p| *p != whole).collect();
    let Some(first_path) = paths.first() else {
        return Err(merge_error(dir, "no manifest.part-I-of-N.json files (written by `neurotwin dataset --shard I/N`)".into()));
    };
    let mut parts: BTreeMap<usize, (PathBuf, Manifest)> = BTreeMap::new();
    let first = Manifest::load(first_path)?;
    let of = first.partition.of;
    for path in &paths {
        let m = Manifest::load(path)?;
        let name = file_name(path);
        if m.partition.of != of {
            return Err(merge_error(dir, format!("{name} is one of {} parts, {} one of {of}; the parts come from different splits", m.partition.of, file_name(first_path))));
        }
        if name != m.partition.manifest_name() {
            return Err(merge_error(dir, format!("{name} holds partition {}/{of}; its name should be {}", m.partition.index, m.partition.manifest_name())));
        }
        let differs = if m.definition != first.definition {
            Some("definition")
        } else if m.neurotwin_version != first.neurotwin_version {
            Some("neurotwin_version")
        } else if m.morphology_source != first.morphology_source {
            Some("morphology_source")
        } else if m.arrays != first.arrays {
            Some("arrays")
        } else {
            None
        };
        if let Some(field) = differs {
            return Err(merge_error(dir, format!("{name}: field {field} differs from {}; the parts come from different runs", file_name(first_path))));
        }
        parts.insert(m.partition.index, (path.clone(), m));
    }
    let missing: Vec<String> = (0..of).filter(|i| !parts.contains_key(i)).map(|i| format!("{i}/{of}")).collect();
    if !missing.is_empty() {
        return Err(merge_error(dir, format!("parts missing: run `neurotwin dataset` with --shard {}", missing.join(", --shard "))));
    }
    let n_shards = first.definition.count.div_ceil(first.definition.sims_per_shard);
    let mut shards = Vec::with_capacity(n_shards);
    let mut unfinished: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for j in 0..n_shards {
        let owner = j % of;
        let Some((path, part)) = parts.get(&owner) else {
            return Err(merge_error(dir, format!("part {owner}/{of} is missing")));
        };
        let Some(entry) = part.shards.get(j) else {
            return Err(merge_error(dir, format!("{}: shard {j} is not listed ({} shards, expected {n_shards})", file_name(path), part.shards.len())));
        };
        if entry.status != ShardStatus::Done {
            unfinished.entry(owner).or_default().push(j);
            continue;
        }
        for f in &entry.files {
            let file = dir.join(&entry.dir).join(&f.name);
            let bytes = std::fs::metadata(&file).map_err(|e| merge_error(dir, format!("{}: {e} (listed as done in {})", file.display(), file_name(path))))?.len();
            if bytes != f.bytes {
                return Err(merge_error(dir, format!("{}: {bytes} bytes, {} says {}", file.display(), file_name(path), f.bytes)));
            }
        }
        shards.push(entry.clone());
    }
    if !unfinished.is_empty() {
        let list: Vec<String> = unfinished
            .iter()
            .map(|(i, js)| format!("part {i}/{of} has shards {js:?} unfinished (rerun it with --shard {i}/{of} to resume)"))
            .collect();
        return Err(merge_error(dir, list.join("; ")));
    }
    let merged = Manifest { partition: Partition::WHOLE, shards, ..first };
    merged.check().map_err(|e| merge_error(dir, format!("merged manifest: {e}")))?;
    let manifest_path = merged.save(dir)?;
    let parts_dir = dir.join(PARTS_DIR);
    std::fs::create_dir_all(&parts_dir).map_err(|e| DatasetError::io(&parts_dir, e))?;
    for (path, _) in parts.values() {
        let to = parts_dir.join(file_name(path));
        std::fs::rename(path, &to).map_err(|e| DatasetError::io(&to, e))?;
    }
    Ok(MergeReport { manifest_path, parts: of, shards: n_shards, parts_dir })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::manifest::{array_descriptions, DatasetDefinition, FileEntry, SegmentTable, ShardEntry, FORMAT, FORMAT_VERSION};
    use crate::stimulus::{InputVariant, PaperProtocol};

    fn manifest(partition: Partition, n_shards: usize) -> Manifest {
        let definition = DatasetDefinition {
            morphology_fingerprint: "sha256:00".into(),
            n_segments: 1,
            protocol: PaperProtocol::for_variant(InputVariant::Nmda),
            base_seed: 1,
            count: n_shards,
            sims_per_shard: 1,
            seed_rule: "test".into(),
            dendritic_dtype: None,
            segments: SegmentTable { section: vec![], x: vec![], tree: vec![], length_um: vec![], dist_um: vec![] },
        };
        let shards = (0..n_shards)
            .map(|j| ShardEntry {
                index: j,
                dir: format!("shard_{j:05}"),
                first_sim: j,
                n_sims: 1,
                seeds: vec![j as u64],
                status: if partition.owns(j) { ShardStatus::Done } else { ShardStatus::OtherPartition },
                files: if partition.owns(j) { vec![FileEntry { name: "a.npy".into(), bytes: 3, sha256: "x".into() }] } else { vec![] },
            })
            .collect();
        Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            neurotwin_version: "0".into(),
            morphology_source: "cell.swc".into(),
            definition,
            partition,
            arrays: array_descriptions(),
            shards,
        }
    }

    fn write_shard_files(dir: &Path, n_shards: usize) {
        for j in 0..n_shards {
            let d = dir.join(format!("shard_{j:05}"));
            std::fs::create_dir_all(&d).expect("mkdir");
            std::fs::write(d.join("a.npy"), b"abc").expect("write");
        }
    }

    #[test]
    fn parts_merge_into_the_one_machine_manifest_bytes_and_move_aside() {
        let (one, cluster) = (tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp"));
        manifest(Partition::WHOLE, 5).save(one.path()).expect("save");
        for index in 0..2 {
            manifest(Partition { index, of: 2 }, 5).save(cluster.path()).expect("save");
        }
        write_shard_files(cluster.path(), 5);
        let report = merge_parts(cluster.path()).expect("merge");
        assert_eq!((report.parts, report.shards), (2, 5));
        let read = |p: &Path| std::fs::read(p).expect("read");
        assert_eq!(read(&one.path().join("manifest.json")), read(&report.manifest_path));
        assert!(cluster.path().join("parts/manifest.part-1-of-2.json").is_file());
        assert!(!cluster.path().join("manifest.part-0-of-2.json").exists());
        // a second merge finds manifest.json and refuses
        let e = merge_parts(cluster.path()).expect_err("merged before").to_string();
        assert!(e.contains("exists already"), "{e}");
    }

    #[test]
    fn a_missing_or_unfinished_part_is_named_with_the_shard_to_rerun() {
        let dir = tempfile::tempdir().expect("tmp");
        manifest(Partition { index: 0, of: 3 }, 6).save(dir.path()).expect("save");
        write_shard_files(dir.path(), 6);
        let e = merge_parts(dir.path()).expect_err("parts missing").to_string();
        assert!(e.contains("--shard 1/3, --shard 2/3"), "{e}");
        let mut unfinished = manifest(Partition { index: 1, of: 3 }, 6);
        unfinished.shards[4].status = ShardStatus::Pending;
        unfinished.save(dir.path()).expect("save");
        manifest(Partition { index: 2, of: 3 }, 6).save(dir.path()).expect("save");
        let e = merge_parts(dir.path()).expect_err("unfinished").to_string();
        assert!(e.contains("part 1/3 has shards [4] unfinished") && e.contains("--shard 1/3"), "{e}");
        assert!(!dir.path().join("manifest.json").exists());
        // a finished shard whose file has another size
        manifest(Partition { index: 1, of: 3 }, 6).save(dir.path()).expect("save");
        std::fs::write(dir.path().join("shard_00002/a.npy"), b"abcd").expect("write");
        let e = merge_parts(dir.path()).expect_err("size").to_string();
        assert!(e.contains("shard_00002") && e.contains("4 bytes"), "{e}");
    }

    #[test]
    fn parts_of_different_runs_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        manifest(Partition { index: 0, of: 2 }, 4).save(dir.path()).expect("save");
        let mut other = manifest(Partition { index: 1, of: 2 }, 4);
        other.morphology_source = "other.swc".into();
        other.save(dir.path()).expect("save");
        write_shard_files(dir.path(), 4);
        let e = merge_parts(dir.path()).expect_err("differs").to_string();
        assert!(e.contains("manifest.part-1-of-2.json: field morphology_source differs"), "{e}");
    }
}
