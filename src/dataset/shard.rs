//! One shard: a folder of `.npy` arrays holding a run of consecutive simulations (array layout in
//! `manifest::array_descriptions`). Written into `<dir>.partial`, synced, then renamed into place,
//! so a shard folder under its final name is always complete.

use super::manifest::{DendDtype, FileEntry};
use super::npy::{f16_to_f32, f32_to_f16, read_npy, write_npy, NpyData, F16};
use super::DatasetError;
use crate::stimulus::InputRaster;
use std::path::Path;

/// The simulations of one shard, in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardData {
    pub seeds: Vec<u64>,
    pub rasters: Vec<InputRaster>,
    /// Per simulation, soma voltage (mV) at 0, 1, … ms.
    pub soma_v: Vec<Vec<f32>>,
    /// Per simulation, output spike times (ms).
    pub out_spike_times_ms: Vec<Vec<f64>>,
    /// Per simulation, [n_segments × duration_ms] dendritic voltages (mV), segment-major.
    pub dend_v: Option<Vec<Vec<f32>>>,
}

fn offsets<T>(per_sim: &[Vec<T>]) -> Vec<i64> {
    let mut off = Vec::with_capacity(per_sim.len() + 1);
    let mut acc = 0i64;
    off.push(0);
    for v in per_sim {
        acc += v.len() as i64;
        off.push(acc);
    }
    off
}

/// Write `data` as shard folder `final_dir` (via `final_dir.partial`); returns the files written
/// with sizes and hashes, sorted by name.
pub fn write_shard(final_dir: &Path, data: &ShardData, duration_ms: usize, dend: Option<DendDtype>) -> Result<Vec<FileEntry>, DatasetError> {
    let partial = final_dir.with_extension("partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| DatasetError::io(&partial, e))?;
    }
    std::fs::create_dir_all(&partial).map_err(|e| DatasetError::io(&partial, e))?;
    let n = data.seeds.len();

    let (mut rows, mut ms) = (Vec::new(), Vec::new());
    let mut sim_off = vec![0i64];
    for r in &data.rasters {
        for (row, t) in r.iter_spikes() {
            rows.push(row as i32);
            ms.push(t as i32);
        }
        sim_off.push(rows.len() as i64);
    }
    write_npy(&partial.join("spike_rows.npy"), &[rows.len()], &rows)?;
    write_npy(&partial.join("spike_ms.npy"), &[ms.len()], &ms)?;
    write_npy(&partial.join("sim_offsets.npy"), &[n + 1], &sim_off)?;
    let soma: Vec<f32> = data.soma_v.iter().flatten().copied().collect();
    write_npy(&partial.join("soma_v.npy"), &[n, duration_ms], &soma)?;
    let out: Vec<f64> = data.out_spike_times_ms.iter().flatten().copied().collect();
    write_npy(&partial.join("out_spike_times.npy"), &[out.len()], &out)?;
    write_npy(&partial.join("out_spike_offsets.npy"), &[n + 1], &offsets(&data.out_spike_times_ms))?;
    write_npy(&partial.join("seeds.npy"), &[n], &data.seeds)?;
    if let (Some(dtype), Some(dend_v)) = (dend, &data.dend_v) {
        let n_seg = data.rasters.first().map_or(0, InputRaster::n_segments);
        let shape = [n, n_seg, duration_ms];
        let path = partial.join("dend_v.npy");
        match dtype {
            DendDtype::F32 => write_npy(&path, &shape, &dend_v.iter().flatten().copied().collect::<Vec<f32>>())?,
            DendDtype::F16 => write_npy(&path, &shape, &dend_v.iter().flatten().map(|&v| f32_to_f16(v)).collect::<Vec<F16>>())?,
        }
    }
    let files = describe_files(&partial)?;
    if final_dir.exists() {
        // an unverified leftover under the final name: replaced by this complete shard
        std::fs::remove_dir_all(final_dir).map_err(|e| DatasetError::io(final_dir, e))?;
    }
    std::fs::rename(&partial, final_dir).map_err(|e| DatasetError::io(final_dir, e))?;
    Ok(files)
}

/// Sizes and SHA-256 of every file in a shard folder, sorted by name.
pub fn describe_files(dir: &Path) -> Result<Vec<FileEntry>, DatasetError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| DatasetError::io(dir, e))? {
        let path = entry.map_err(|e| DatasetError::io(dir, e))?.path();
        let (bytes, sha256) = crate::input::sha256_file(&path, crate::limits::MAX_ARRAY_FILE_BYTES)
            .map_err(|e| DatasetError::Io { path: path.display().to_string(), message: e.to_string() })?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        files.push(FileEntry { name, bytes, sha256 });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// True if `dir` holds exactly `expected` (names, sizes, hashes).
pub fn verify_shard(dir: &Path, expected: &[FileEntry]) -> bool {
    check_shard(dir, expected).is_ok()
}

/// Check that `dir` holds exactly `expected` (names, sizes, hashes); the error names the first
/// file that differs and how.
pub fn check_shard(dir: &Path, expected: &[FileEntry]) -> Result<(), DatasetError> {
    let bad = |m: String| DatasetError::Format(format!("{}: {m}", dir.display()));
    if !dir.is_dir() {
        return Err(bad("the shard folder is missing".into()));
    }
    if expected.is_empty() {
        return Err(bad("the manifest lists no files for this shard".into()));
    }
    let found = describe_files(dir)?;
    for e in expected {
        let Some(f) = found.iter().find(|f| f.name == e.name) else {
            return Err(bad(format!("{} is missing", e.name)));
        };
        if f.bytes != e.bytes {
            return Err(bad(format!("{} has {} bytes, the manifest says {}", e.name, f.bytes, e.bytes)));
        }
        if f.sha256 != e.sha256 {
            return Err(bad(format!("{}: SHA-256 {} differs from the manifest's {} (the file was changed)", e.name, f.sha256, e.sha256)));
        }
    }
    if let Some(extra) = found.iter().find(|f| !expected.iter().any(|e| e.name == f.name)) {
        return Err(bad(format!("{} is not listed in the manifest", extra.name)));
    }
    Ok(())
}

fn ints(data: NpyData, what: &str) -> Result<Vec<i64>, DatasetError> {
    match data {
        NpyData::I32(v) => Ok(v.into_iter().map(i64::from).collect()),
        NpyData::I64(v) => Ok(v),
        _ => Err(DatasetError::Format(format!("{what}: expected an integer array"))),
    }
}

fn split<T: Clone>(flat: &[T], off: &[i64], what: &str) -> Result<Vec<Vec<T>>, DatasetError> {
    let bad = || DatasetError::Format(format!("{what}: offsets inconsistent with {} values", flat.len()));
    if off.first() != Some(&0) || off.last().copied() != Some(flat.len() as i64) || off.windows(2).any(|w| w[0] > w[1]) {
        return Err(bad());
    }
    Ok(off.windows(2).map(|w| flat[w[0] as usize..w[1] as usize].to_vec()).collect())
}

/// Load a shard folder back.
pub fn read_shard(dir: &Path, n_segments: usize, duration_ms: u32) -> Result<ShardData, DatasetError> {
    let load = |name: &str| read_npy(&dir.join(name));
    let seeds = match load("seeds.npy")?.data {
        NpyData::U64(v) => v,
        _ => return Err(DatasetError::Format("seeds.npy: expected uint64".into())),
    };
    let n = seeds.len();
    let rows = ints(load("spike_rows.npy")?.data, "spike_rows.npy")?;
    let ms = ints(load("spike_ms.npy")?.data, "spike_ms.npy")?;
    let off = ints(load("sim_offsets.npy")?.data, "sim_offsets.npy")?;
    if rows.len() != ms.len() || off.len() != n + 1 {
        return Err(DatasetError::Format(format!("{}: spike arrays or offsets have the wrong length", dir.display())));
    }
    let mut rasters = Vec::with_capacity(n);
    for (r_sim, t_sim) in split(&rows, &off, "spike_rows")?.into_iter().zip(split(&ms, &off, "spike_ms")?) {
        let mut per_row = vec![Vec::new(); 2 * n_segments];
        for (r, t) in r_sim.into_iter().zip(t_sim) {
            let slot = per_row
                .get_mut(usize::try_from(r).unwrap_or(usize::MAX))
                .ok_or_else(|| DatasetError::Format(format!("spike row {r} outside 0..{}", 2 * n_segments)))?;
            slot.push(u32::try_from(t).map_err(|_| DatasetError::Format(format!("negative spike time {t}")))?);
        }
        rasters.push(InputRaster::from_rows(n_segments, duration_ms, per_row).map_err(|e| DatasetError::Format(e.to_string()))?);
    }
    let d = duration_ms as usize;
    let soma = load("soma_v.npy")?;
    let NpyData::F32(soma_flat) = soma.data else {
        return Err(DatasetError::Format("soma_v.npy: expected float32".into()));
    };
    if soma.shape != [n, d] {
        return Err(DatasetError::Format(format!("soma_v.npy: shape {:?}, expected [{n}, {d}]", soma.shape)));
    }
    if let Some(k) = soma_flat.iter().position(|v| !v.is_finite()) {
        return Err(DatasetError::Format(format!(
            "{}: value {} at index {k} (simulation {}, {} ms) is not a finite voltage",
            dir.join("soma_v.npy").display(),
            soma_flat[k],
            k / d.max(1),
            k % d.max(1)
        )));
    }
    let soma_v = soma_flat.chunks(d.max(1)).map(<[f32]>::to_vec).collect();
    let NpyData::F64(out) = load("out_spike_times.npy")?.data else {
        return Err(DatasetError::Format("out_spike_times.npy: expected float64".into()));
    };
    if let Some(k) = out.iter().position(|t| !(t.is_finite() && (0.0..=d as f64).contains(t))) {
        return Err(DatasetError::Format(format!(
            "{}: spike time {} at index {k} is not a time within the simulation (0 to {d} ms)",
            dir.join("out_spike_times.npy").display(),
            out[k]
        )));
    }
    let out_off = ints(load("out_spike_offsets.npy")?.data, "out_spike_offsets.npy")?;
    let out_spike_times_ms = split(&out, &out_off, "out_spike_times")?;
    let dend_v = if dir.join("dend_v.npy").exists() {
        let a = load("dend_v.npy")?;
        let flat: Vec<f32> = match a.data {
            NpyData::F32(v) => v,
            NpyData::F16(v) => v.into_iter().map(f16_to_f32).collect(),
            _ => return Err(DatasetError::Format("dend_v.npy: expected float16 or float32".into())),
        };
        if a.shape != [n, n_segments, d] {
            return Err(DatasetError::Format(format!("dend_v.npy: shape {:?}", a.shape)));
        }
        Some(flat.chunks((n_segments * d).max(1)).map(<[f32]>::to_vec).collect())
    } else {
        None
    };
    Ok(ShardData { seeds, rasters, soma_v, out_spike_times_ms, dend_v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(soma: Vec<f32>, spikes: Vec<f64>) -> ShardData {
        ShardData { seeds: vec![7], rasters: vec![InputRaster::new(2, 4)], soma_v: vec![soma], out_spike_times_ms: vec![spikes], dend_v: None }
    }

    #[test]
    fn invalid_values_are_refused_naming_the_file_and_the_index() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().join("shard_00000");
        write_shard(&d, &shard(vec![-70.0; 4], vec![1.5]), 4, None).expect("write");
        assert_eq!(read_shard(&d, 2, 4).expect("valid").out_spike_times_ms, vec![vec![1.5]]);
        for (soma, spikes, needle) in [
            (vec![-70.0, -70.0, f32::NAN, -70.0], vec![1.5], "soma_v.npy: value NaN at index 2 (simulation 0, 2 ms)"),
            (vec![-70.0; 4], vec![1.0, f64::NAN], "out_spike_times.npy: spike time NaN at index 1"),
            (vec![-70.0; 4], vec![-3.0], "out_spike_times.npy: spike time -3 at index 0"),
            (vec![-70.0; 4], vec![f64::INFINITY], "out_spike_times.npy: spike time inf at index 0"),
        ] {
            write_shard(&d, &shard(soma, spikes), 4, None).expect("write");
            let e = read_shard(&d, 2, 4).expect_err("invalid").to_string();
            assert!(e.contains(needle), "{needle:?} not in {e}");
        }
    }

    #[test]
    fn check_shard_says_which_file_differs() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().join("shard_00000");
        let files = write_shard(&d, &shard(vec![-70.0; 4], vec![]), 4, None).expect("write");
        check_shard(&d, &files).expect("as written");
        let p = d.join("seeds.npy");
        let mut b = std::fs::read(&p).expect("read");
        let last = b.len() - 1;
        b[last] ^= 1;
        std::fs::write(&p, &b).expect("write");
        let e = check_shard(&d, &files).expect_err("changed").to_string();
        assert!(e.contains("seeds.npy: SHA-256") && e.contains("the file was changed"), "{e}");
        std::fs::write(d.join("extra.npy"), b"x").expect("write");
        std::fs::remove_file(&p).expect("rm");
        assert!(check_shard(&d, &files).expect_err("missing").to_string().contains("seeds.npy is missing"));
    }
}
