//! The dataset manifest (`manifest.json`, or `manifest.part-I-of-N.json` for a `--shard I/N`
//! partition) and the morphology fingerprint.
//!
//! Morphology fingerprint (format version 1): `sha256:` + hex SHA-256 of this byte stream, per
//! section in `Morphology` order: the name's UTF-8 bytes, a 0 byte, the parent index as i64 LE
//! (−1 for the root), parent_x as f64 LE, nseg as u64 LE, the number of 3-D points as u64 LE, then
//! each point's x, y, z, diameter (µm) as f64 LE. It changes when names, topology, geometry or
//! discretisation change — exactly what a DNN trained on the raster's row order depends on — and
//! can be recomputed in Python with `struct.pack`.

use super::DatasetError;
use crate::morphology::{Cable, Morphology};
use crate::stimulus::{DendriticSegments, PaperProtocol, Tree};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "neurotwin-dataset";
pub const FORMAT_VERSION: u32 = 1;

/// Lower-case hex of a SHA-256 digest.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The morphology fingerprint described in the module doc.
pub fn morphology_fingerprint(morph: &Morphology, cable: &Cable) -> String {
    let mut h = Sha256::new();
    for (i, s) in morph.sections.iter().enumerate() {
        h.update(s.name.as_bytes());
        h.update([0u8]);
        h.update(s.parent.map_or(-1i64, |p| p as i64).to_le_bytes());
        h.update(s.parent_x.to_le_bytes());
        h.update((cable.section_nseg.get(i).copied().unwrap_or(0) as u64).to_le_bytes());
        h.update((s.points.len() as u64).to_le_bytes());
        for p in &s.points {
            for v in [p.x_um, p.y_um, p.z_um, p.diam_um] {
                h.update(v.to_le_bytes());
            }
        }
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Storage type of the optional dendritic voltages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DendDtype {
    F16,
    F32,
}

/// The dendritic segments (raster rows n and n + n_segments belong to segment n), column-wise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentTable {
    pub section: Vec<String>,
    pub x: Vec<f64>,
    pub tree: Vec<Tree>,
    pub length_um: Vec<f64>,
    /// Path distance from soma(0.5) (µm).
    pub dist_um: Vec<f64>,
}

impl SegmentTable {
    pub fn new(segs: &DendriticSegments) -> SegmentTable {
        let s = &segs.segments;
        SegmentTable {
            section: s.iter().map(|d| d.section_name.clone()).collect(),
            x: s.iter().map(|d| d.x).collect(),
            tree: s.iter().map(|d| d.tree).collect(),
            length_um: s.iter().map(|d| d.length_um).collect(),
            dist_um: s.iter().map(|d| d.dist_um).collect(),
        }
    }
}

/// Everything that defines the dataset's content: two runs (or partitions) may only share an
/// output folder if these are equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetDefinition {
    pub morphology_fingerprint: String,
    pub n_segments: usize,
    pub protocol: PaperProtocol,
    pub base_seed: u64,
    pub count: usize,
    pub sims_per_shard: usize,
    /// How simulation k's seed is made (it seeds the input protocol and is passed to the
    /// simulator).
    pub seed_rule: String,
    pub dendritic_dtype: Option<DendDtype>,
    pub segments: SegmentTable,
}

/// Which shards this process writes: shard j belongs to partition j mod `of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    pub index: usize,
    pub of: usize,
}

impl Partition {
    pub const WHOLE: Partition = Partition { index: 0, of: 1 };

    /// Parse `I/N` (0 ≤ I < N).
    pub fn parse(text: &str) -> Result<Partition, DatasetError> {
        let bad = || DatasetError::Options(format!("--shard {text:?}: expected I/N with 0 ≤ I < N"));
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index = i.trim().parse::<usize>().map_err(|_| bad())?;
        let of = n.trim().parse::<usize>().map_err(|_| bad())?;
        if of == 0 || index >= of {
            return Err(bad());
        }
        Ok(Partition { index, of })
    }

    pub fn owns(&self, shard: usize) -> bool {
        shard % self.of == self.index
    }

    /// The manifest file this partition writes.
    pub fn manifest_name(&self) -> String {
        if self.of == 1 {
            "manifest.json".into()
        } else {
            format!("manifest.part-{}-of-{}.json", self.index, self.of)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShardStatus {
    /// Written, renamed into place, sizes and hashes recorded.
    Done,
    /// Owned by this partition, not (yet) complete.
    Pending,
    /// Written by another partition (see its manifest).
    OtherPartition,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardEntry {
    pub index: usize,
    /// Folder name inside the dataset folder.
    pub dir: String,
    pub first_sim: usize,
    pub n_sims: usize,
    /// Per simulation of the shard, its seed.
    pub seeds: Vec<u64>,
    pub status: ShardStatus,
    #[serde(default)]
    pub files: Vec<FileEntry>,
}

/// The manifest. Deterministic for given options (no timestamps), so reruns are byte-identical.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub neurotwin_version: String,
    pub morphology_source: String,
    pub definition: DatasetDefinition,
    pub partition: Partition,
    /// What each array in a shard holds (names, dtypes, shapes, units).
    pub arrays: Vec<(String, String)>,
    pub shards: Vec<ShardEntry>,
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest, DatasetError> {
        let text = crate::input::read_json_text(path).map_err(|e| DatasetError::Io { path: path.display().to_string(), message: e.to_string() })?;
        Manifest::parse(&text, &path.display().to_string())
    }

    /// Parse a manifest from its JSON text; `name` (the file) prefixes every error.
    pub fn parse(text: &str, name: &str) -> Result<Manifest, DatasetError> {
        let m: Manifest = serde_json::from_str(text).map_err(|e| DatasetError::Format(format!("{name}: not a dataset manifest: {e}")))?;
        if m.format != FORMAT || m.format_version != FORMAT_VERSION {
            return Err(DatasetError::Format(format!("{name}: format {} v{} (this build reads {FORMAT} v{FORMAT_VERSION})", m.format, m.format_version)));
        }
        m.check().map_err(|e| DatasetError::Format(format!("{name}: {e}")))?;
        Ok(m)
    }

    /// Consistency of the shard list: each shard listed once (index and folder), shard `k` at
    /// position `k`, its folder a plain name inside the dataset folder, one seed per simulation,
    /// each file listed once, and the shards' simulations contiguous from 0 and as many as
    /// `definition.count`.
    pub fn check(&self) -> Result<(), String> {
        let mut dirs = std::collections::BTreeSet::new();
        // the next shard's first simulation
        let mut next_sim: usize = 0;
        for (pos, s) in self.shards.iter().enumerate() {
            if s.index != pos {
                let again = self.shards[..pos].iter().any(|o| o.index == s.index);
                return Err(if again {
                    format!("shards[{pos}]: shard {} is listed twice", s.index)
                } else {
                    format!("shards[{pos}]: index {}, expected {pos}", s.index)
                });
            }
            let plain = Path::new(&s.dir).components().count() == 1
                && matches!(Path::new(&s.dir).components().next(), Some(std::path::Component::Normal(_)));
            if !plain {
                return Err(format!("shards[{pos}].dir {:?} is not a folder name inside the dataset folder", s.dir));
            }
            if !dirs.insert(s.dir.as_str()) {
                return Err(format!("shards[{pos}]: folder {} is listed twice", s.dir));
            }
            if s.seeds.len() != s.n_sims {
                return Err(format!("shards[{pos}]: {} seeds for n_sims {}", s.seeds.len(), s.n_sims));
            }
            let mut names = std::collections::BTreeSet::new();
            if let Some(f) = s.files.iter().find(|f| !names.insert(f.name.as_str())) {
                return Err(format!("shards[{pos}]: file {} is listed twice", f.name));
            }
            if s.first_sim != next_sim {
                return Err(format!("shards[{pos}].first_sim is {}, expected {next_sim} (the simulations before it)", s.first_sim));
            }
            next_sim = next_sim.checked_add(s.n_sims).ok_or_else(|| format!("shards[{pos}].n_sims {} overflows the simulation count", s.n_sims))?;
        }
        if next_sim != self.definition.count {
            return Err(format!("the shards hold {next_sim} simulations, definition.count is {}", self.definition.count));
        }
        Ok(())
    }

    /// Write atomically ([`crate::atomic`]: temporary file, fsync, rename).
    pub fn save(&self, dir: &Path) -> Result<PathBuf, DatasetError> {
        let path = dir.join(self.partition.manifest_name());
        let mut text = serde_json::to_string_pretty(self).map_err(|e| DatasetError::Format(e.to_string()))?;
        text.push('\n');
        crate::atomic::write(&path, text).map_err(|e| DatasetError::io(&path, e))?;
        Ok(path)
    }

    /// All manifests in a dataset folder (`manifest.json` and `manifest.part-*.json`), sorted.
    pub fn find_all(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| DatasetError::io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n == "manifest.json" || (n.starts_with("manifest.part-") && n.ends_with(".json"))
                })
            })
            .collect();
        out.sort();
        Ok(out)
    }
}

/// Description of the shard arrays (also written into the manifest).
pub fn array_descriptions() -> Vec<(String, String)> {
    [
        ("spike_rows.npy", "int32 [n_spikes]: raster row of each input spike (rows 0..n_segments excitatory, n_segments..2·n_segments inhibitory, segment order = definition.segments)"),
        ("spike_ms.npy", "int32 [n_spikes]: 1-ms bin of each input spike (delivered at t = bin ms); per simulation sorted by row, then time"),
        ("sim_offsets.npy", "int64 [n_sims + 1]: simulation k's input spikes are [sim_offsets[k], sim_offsets[k+1])"),
        ("soma_v.npy", "float32 [n_sims, duration_ms]: soma(0.5) voltage (mV) at t = 0, 1, … ms"),
        ("out_spike_times.npy", "float64 [n_out]: somatic output spike times (ms)"),
        ("out_spike_offsets.npy", "int64 [n_sims + 1]: simulation k's output spikes are [out_spike_offsets[k], out_spike_offsets[k+1])"),
        ("seeds.npy", "uint64 [n_sims]: each simulation's seed"),
        ("dend_v.npy", "float16 or float32 [n_sims, n_segments, duration_ms], optional: voltage (mV) of every dendritic segment at 1-ms steps"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}
