//! Reading a dataset folder back: merges the manifests of all partitions and loads shards.

use super::manifest::{DatasetDefinition, Manifest, ShardEntry, ShardStatus};
use super::shard::{check_shard, read_shard, verify_shard, ShardData};
use super::DatasetError;
use std::path::{Path, PathBuf};

/// A dataset folder, possibly written by several `--shard I/N` partitions.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub dir: PathBuf,
    pub definition: DatasetDefinition,
    /// Every shard; `Done` if any partition finished it.
    pub shards: Vec<ShardEntry>,
}

impl Dataset {
    pub fn open(dir: &Path) -> Result<Dataset, DatasetError> {
        let paths = Manifest::find_all(dir)?;
        let Some(first) = paths.first() else {
            return Err(DatasetError::Format(format!("{}: no manifest.json or manifest.part-*.json", dir.display())));
        };
        let base = Manifest::load(first)?;
        let mut others = Vec::with_capacity(paths.len().saturating_sub(1));
        for p in &paths[1..] {
            others.push((p.display().to_string(), Manifest::load(p)?));
        }
        Dataset::merge(dir, (first.display().to_string(), base), others)
    }

    /// The dataset described by a first manifest and the other partitions' manifests (each with
    /// the file it came from, for the errors): every manifest must carry the first one's
    /// definition, and a shard finished by any partition is taken from that partition's entry.
    /// No file is read (the fuzz target `manifest` runs this on parsed text).
    pub fn merge(dir: &Path, first: (String, Manifest), others: Vec<(String, Manifest)>) -> Result<Dataset, DatasetError> {
        let (first_name, base) = first;
        let mut shards = base.shards;
        for (name, m) in others {
            if m.definition != base.definition {
                return Err(DatasetError::DefinitionMismatch { path: name, detail: format!("differs from {first_name}") });
            }
            if m.shards.len() != shards.len() {
                return Err(DatasetError::DefinitionMismatch {
                    path: name,
                    detail: format!("lists {} shards, {first_name} lists {}", m.shards.len(), shards.len()),
                });
            }
            for (s, other) in shards.iter_mut().zip(m.shards) {
                if other.status == ShardStatus::Done {
                    *s = other;
                }
            }
        }
        Ok(Dataset { dir: dir.to_path_buf(), definition: base.definition, shards })
    }

    /// True when every shard is done.
    pub fn is_complete(&self) -> bool {
        self.shards.iter().all(|s| s.status == ShardStatus::Done)
    }

    /// Indices of finished shards.
    pub fn done_shards(&self) -> Vec<usize> {
        self.shards.iter().filter(|s| s.status == ShardStatus::Done).map(|s| s.index).collect()
    }

    /// Check a finished shard's files against the sizes and hashes in the manifest.
    pub fn verify(&self, index: usize) -> bool {
        self.shards.get(index).is_some_and(|s| s.status == ShardStatus::Done && verify_shard(&self.dir.join(&s.dir), &s.files))
    }

    /// [`Dataset::verify`] with the reason: which file differs from the manifest, and how.
    pub fn check(&self, index: usize) -> Result<(), DatasetError> {
        let s = self
            .shards
            .get(index)
            .filter(|s| s.status == ShardStatus::Done)
            .ok_or_else(|| DatasetError::Format(format!("shard {index} is not finished or does not exist")))?;
        check_shard(&self.dir.join(&s.dir), &s.files)
    }

    /// Load a finished shard.
    pub fn read_shard(&self, index: usize) -> Result<ShardData, DatasetError> {
        let s = self
            .shards
            .get(index)
            .filter(|s| s.status == ShardStatus::Done)
            .ok_or_else(|| DatasetError::Format(format!("shard {index} is not finished or does not exist")))?;
        let data = read_shard(&self.dir.join(&s.dir), self.definition.n_segments, self.definition.protocol.duration_ms)?;
        if data.seeds != s.seeds {
            return Err(DatasetError::Format(format!("shard {index}: seeds.npy disagrees with the manifest")));
        }
        Ok(data)
    }
}
