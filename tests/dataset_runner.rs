//! The dataset runner and shard format with a stand-in simulator (a deterministic function of the
//! input raster) on a small synthetic cell: byte-identical reruns, resume after interruption,
//! `--shard I/N` partitions, the reader, and NumPy reading the shards.

use neurotwin::dataset::{
    run_dataset_for_cell, Dataset, DatasetError, DatasetOptions, DendDtype, Manifest, Partition, ShardStatus, SimOutput,
};
use neurotwin::morphology::{Cable, Discretisation, Morphology, Point3, Section, SectionKind};
use neurotwin::stimulus::{DendriticSegments, InputRaster, InputVariant, SynKind};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

const DURATION_MS: u32 = 300;

fn section(name: &str, kind: SectionKind, parent: Option<usize>, parent_x: f64, from: [f64; 3], to: [f64; 3], d: f64) -> Section {
    Section {
        name: name.into(),
        kind,
        parent,
        parent_x,
        points: vec![Point3::new(from[0], from[1], from[2], d), Point3::new(to[0], to[1], to[2], d * 0.8)],
    }
}

/// soma + 2 basal + 2 apical sections: nseg 5, 3, 7, 1 → 16 segments, 32 raster rows.
fn small_cell() -> (Morphology, Cable) {
    let sections = vec![
        section("soma[0]", SectionKind::Soma, None, 0.0, [0.0, -10.0, 0.0], [0.0, 10.0, 0.0], 20.0),
        section("dend[0]", SectionKind::Basal, Some(0), 0.5, [0.0, 0.0, 0.0], [-100.0, 0.0, 0.0], 2.0),
        section("dend[1]", SectionKind::Basal, Some(1), 1.0, [-100.0, 0.0, 0.0], [-150.0, -10.0, 0.0], 1.0),
        section("apic[0]", SectionKind::Apical, Some(0), 0.5, [0.0, 0.0, 0.0], [0.0, 150.0, 0.0], 3.0),
        section("apic[1]", SectionKind::Apical, Some(3), 1.0, [0.0, 150.0, 0.0], [20.0, 170.0, 5.0], 1.0),
    ];
    let morph = Morphology { sections, source: "synthetic test cell".into() };
    let cable = Cable::new(&morph, &Discretisation::default()).expect("cable");
    (morph, cable)
}

/// Stand-in simulator: soma v follows net excitation; an output spike whenever a bin has ≥ 3 more
/// excitatory than inhibitory inputs; dendritic v = soma v + 0.37·segment (f32 arithmetic).
fn fake_simulate(raster: &InputRaster, seed: u64) -> Result<SimOutput, String> {
    let d = raster.duration_ms() as usize;
    let mut net = vec![0i32; d];
    for (row, t) in raster.iter_spikes() {
        net[t as usize] += if raster.kind_and_segment(row).0 == SynKind::Exc { 1 } else { -1 };
    }
    let soma: Vec<f32> = net.iter().enumerate().map(|(t, &n)| -70.0 + 1.25 * n as f32 + (seed % 7) as f32 * 0.01 + t as f32 * 1e-3).collect();
    let spikes = net.iter().enumerate().filter(|(_, &n)| n >= 3).map(|(t, _)| t as f64 + 0.375).collect();
    let n_seg = raster.n_segments();
    let dend = (0..n_seg).flat_map(|s| soma.iter().map(move |&v| v + s as f32 * 0.37f32)).collect();
    Ok(SimOutput { soma_v_1ms: soma, spike_times_ms: spikes, dend_v_1ms: Some(dend) })
}

fn options(dir: &Path, seed: u64) -> DatasetOptions {
    let mut o = DatasetOptions::new(PathBuf::from("unused.json"), dir.to_path_buf(), 10, seed, InputVariant::Nmda, DURATION_MS);
    o.sims_per_shard = 3;
    o.progress = false;
    o.threads = Some(2);
    o.dendritic = Some(DendDtype::F16);
    o
}

/// Every file under `dir` (relative path → bytes).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("prefix").display().to_string();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

#[test]
fn same_seed_gives_byte_identical_output_whatever_the_thread_count() {
    let (morph, cable) = small_cell();
    let (a, b, c) = (tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp"));
    let mut oa = options(a.path(), 7);
    oa.threads = Some(1);
    let report = run_dataset_for_cell(&oa, &morph, &cable, fake_simulate).expect("run");
    assert_eq!((report.shards_written, report.sims_run), (vec![0, 1, 2, 3], 10));
    run_dataset_for_cell(&options(b.path(), 7), &morph, &cable, fake_simulate).expect("run");
    let (sa, sb) = (snapshot(a.path()), snapshot(b.path()));
    assert_eq!(sa.len(), 1 + 4 * 8, "manifest + 4 shards × 8 arrays: {:?}", sa.keys().collect::<Vec<_>>());
    assert!(sa == sb, "same options must give byte-identical files");
    run_dataset_for_cell(&options(c.path(), 8), &morph, &cable, fake_simulate).expect("run");
    let sc = snapshot(c.path());
    assert_ne!(sa["shard_00000/spike_ms.npy"], sc["shard_00000/spike_ms.npy"], "another seed, other inputs");
}

#[test]
fn reader_returns_the_generated_inputs_and_simulator_outputs() {
    let (morph, cable) = small_cell();
    let dir = tempfile::tempdir().expect("tmp");
    let opts = options(dir.path(), 11);
    run_dataset_for_cell(&opts, &morph, &cable, fake_simulate).expect("run");
    let ds = Dataset::open(dir.path()).expect("open");
    assert!(ds.is_complete());
    assert_eq!(ds.definition.n_segments, 16);
    let segs = DendriticSegments::new(&morph, &cable).expect("segments");
    let mut seen = 0;
    for j in ds.done_shards() {
        assert!(ds.verify(j));
        let shard = ds.read_shard(j).expect("read");
        for (i, seed) in shard.seeds.iter().enumerate() {
            let input = opts.protocol.generate(&segs, *seed).expect("generate");
            assert_eq!(shard.rasters[i], input.raster);
            let expected = fake_simulate(&input.raster, *seed).expect("simulate");
            assert_eq!(shard.soma_v[i], expected.soma_v_1ms);
            assert_eq!(shard.out_spike_times_ms[i], expected.spike_times_ms);
            let dend = &shard.dend_v.as_ref().expect("dendritic voltages stored")[i];
            let worst = dend.iter().zip(expected.dend_v_1ms.as_ref().expect("dend")).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(worst <= 0.0625, "float16 near −70 mV has a 1/16 mV step: error {worst}");
            seen += 1;
        }
    }
    assert_eq!(seen, 10);
}

#[test]
fn resume_keeps_finished_shards_and_redoes_partial_and_corrupt_ones() {
    let (morph, cable) = small_cell();
    let (full, dir) = (tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp"));
    run_dataset_for_cell(&options(full.path(), 3), &morph, &cable, fake_simulate).expect("run");
    // interrupted run: simulation 7 (shard 2) fails
    let failing = |r: &InputRaster, seed: u64| {
        if seed == neurotwin::rng::derive_seed(3, 7) {
            return Err("simulated crash".to_string());
        }
        fake_simulate(r, seed)
    };
    let mut opts = options(dir.path(), 3);
    opts.threads = Some(1);
    let err = run_dataset_for_cell(&opts, &morph, &cable, failing).expect_err("sim 7 fails");
    assert!(matches!(err, DatasetError::Simulation { sim: 7, .. }), "{err}");
    let m = Manifest::load(&dir.path().join("manifest.json")).expect("manifest");
    let status: Vec<ShardStatus> = m.shards.iter().map(|s| s.status).collect();
    assert_eq!(status, [ShardStatus::Done, ShardStatus::Done, ShardStatus::Pending, ShardStatus::Pending]);
    // a half-written shard from the crash, and a shard folder that never made it into the manifest
    std::fs::create_dir_all(dir.path().join("shard_00002.partial")).expect("mkdir");
    std::fs::write(dir.path().join("shard_00002.partial/soma_v.npy"), b"garbage").expect("write");
    std::fs::create_dir_all(dir.path().join("shard_00003")).expect("mkdir");
    std::fs::write(dir.path().join("shard_00003/soma_v.npy"), b"stale").expect("write");

    let calls = AtomicUsize::new(0);
    let counting = |r: &InputRaster, seed: u64| {
        calls.fetch_add(1, Ordering::SeqCst);
        fake_simulate(r, seed)
    };
    let report = run_dataset_for_cell(&opts, &morph, &cable, counting).expect("resume");
    assert_eq!((report.shards_kept, report.shards_written), (vec![0, 1], vec![2, 3]));
    assert_eq!(calls.load(Ordering::SeqCst), 4, "only shards 2 (3 sims) and 3 (1 sim) are simulated");
    assert!(snapshot(dir.path()) == snapshot(full.path()), "resumed output equals an uninterrupted run");

    // a finished shard whose file was damaged is detected and redone
    let victim = dir.path().join("shard_00001/spike_ms.npy");
    let mut bytes = std::fs::read(&victim).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&victim, bytes).expect("write");
    let report = run_dataset_for_cell(&opts, &morph, &cable, fake_simulate).expect("resume");
    assert_eq!((report.shards_kept, report.shards_written), (vec![0, 2, 3], vec![1]));
    assert!(snapshot(dir.path()) == snapshot(full.path()));
}

#[test]
fn partitions_write_disjoint_shards_that_merge_into_the_whole_dataset() {
    let (morph, cable) = small_cell();
    let (whole, split) = (tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp"));
    run_dataset_for_cell(&options(whole.path(), 5), &morph, &cable, fake_simulate).expect("run");
    for index in 0..2 {
        let mut o = options(split.path(), 5);
        o.partition = Partition::parse(&format!("{index}/2")).expect("parse");
        let report = run_dataset_for_cell(&o, &morph, &cable, fake_simulate).expect("run");
        let expected: Vec<usize> = (0..4).filter(|j| j % 2 == index).collect();
        assert_eq!(report.shards_written, expected);
        if index == 0 {
            assert!(!Dataset::open(split.path()).expect("open").is_complete(), "half the shards are missing");
        }
    }
    let ds = Dataset::open(split.path()).expect("open");
    assert!(ds.is_complete());
    let (sw, ss) = (snapshot(whole.path()), snapshot(split.path()));
    for (name, bytes) in sw.iter().filter(|(n, _)| n.starts_with("shard_")) {
        assert!(ss.get(name) == Some(bytes), "{name} differs between the whole run and the partitions");
    }
    assert!(ss.contains_key("manifest.part-0-of-2.json") && ss.contains_key("manifest.part-1-of-2.json"));
    for bad in ["2/2", "1", "a/3", "0/0", "-1/2"] {
        assert!(Partition::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn mismatched_reruns_and_bad_simulator_output_are_clear_errors() {
    let (morph, cable) = small_cell();
    let dir = tempfile::tempdir().expect("tmp");
    run_dataset_for_cell(&options(dir.path(), 1), &morph, &cable, fake_simulate).expect("run");
    let err = run_dataset_for_cell(&options(dir.path(), 2), &morph, &cable, fake_simulate).expect_err("other seed");
    assert!(matches!(err, DatasetError::DefinitionMismatch { .. }), "{err}");
    let other = tempfile::tempdir().expect("tmp");
    let short = |r: &InputRaster, s: u64| {
        fake_simulate(r, s).map(|mut o| {
            o.soma_v_1ms.pop();
            o
        })
    };
    let err = run_dataset_for_cell(&options(other.path(), 1), &morph, &cable, short).expect_err("short trace");
    assert!(err.to_string().contains("soma samples"), "{err}");
    let mut o = options(other.path(), 1);
    o.count = 0;
    assert!(matches!(run_dataset_for_cell(&o, &morph, &cable, fake_simulate), Err(DatasetError::Options(_))));
}

/// Needs python3 with NumPy: one of the Python-backed suites.
#[cfg(feature = "python-suites")]
#[test]
fn numpy_reads_the_shards_without_neurotwin() {
    let (morph, cable) = small_cell();
    let dir = tempfile::tempdir().expect("tmp");
    run_dataset_for_cell(&options(dir.path(), 9), &morph, &cable, fake_simulate).expect("run");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("training/check_dataset.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(dir.path())
        .output()
        .expect("python3 with numpy is required (CI has it)");
    assert!(out.status.success(), "check_dataset.py failed: {}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(summary["complete"], true);
    let ds = Dataset::open(dir.path()).expect("open");
    for (j, py) in summary["shards"].as_array().expect("shards").iter().enumerate() {
        let shard = ds.read_shard(j).expect("read");
        let n_in: Vec<u64> = shard.rasters.iter().map(|r| r.n_spikes() as u64).collect();
        let n_out: Vec<u64> = shard.out_spike_times_ms.iter().map(|v| v.len() as u64).collect();
        assert_eq!(py["n_input_spikes"], serde_json::json!(n_in));
        assert_eq!(py["n_output_spikes"], serde_json::json!(n_out));
        assert_eq!(py["dend_v_dtype"], "float16");
        for (i, v) in shard.soma_v.iter().enumerate() {
            let ours: f64 = v.iter().map(|&x| f64::from(x)).sum();
            let theirs = py["soma_v_sum"][i].as_f64().expect("sum");
            assert!((ours - theirs).abs() < 1e-9 * ours.abs(), "soma sum {ours} vs numpy {theirs}");
        }
    }
    // our float16 rounding equals NumPy's astype(float16) of the same float32 values
    let check = "import sys, numpy as np; d = sys.argv[1]\n\
                 s = np.load(d + '/shard_00000/soma_v.npy'); v = np.load(d + '/shard_00000/dend_v.npy')\n\
                 seg = np.arange(v.shape[1], dtype=np.float32)[None, :, None] * np.float32(0.37)\n\
                 exp = (s[:, None, :] + seg).astype(np.float16)\n\
                 assert v.dtype == np.float16 and np.array_equal(v.view(np.uint16), exp.view(np.uint16)), 'float16 bits differ'";
    let out = std::process::Command::new("python3").arg("-c").arg(check).arg(dir.path()).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn morphology_fingerprint_tracks_geometry_topology_and_nseg() {
    use neurotwin::dataset::morphology_fingerprint;
    use neurotwin::morphology::NsegRule;
    let (morph, cable) = small_cell();
    let fp = morphology_fingerprint(&morph, &cable);
    assert!(fp.starts_with("sha256:") && fp.len() == 7 + 64, "{fp}");
    assert_eq!(fp, morphology_fingerprint(&morph, &Cable::new(&morph, &Discretisation::default()).expect("cable")));
    let mut moved = morph.clone();
    moved.sections[2].points[1].x_um += 1e-9;
    assert_ne!(fp, morphology_fingerprint(&moved, &Cable::new(&moved, &Discretisation::default()).expect("cable")));
    let fixed = Cable::new(&morph, &Discretisation { nseg_rule: NsegRule::Fixed(1), ra_ohm_cm: 100.0 }).expect("cable");
    assert_ne!(fp, morphology_fingerprint(&morph, &fixed));
    let mut renamed = morph.clone();
    renamed.sections[1].name = "dend[9]".into();
    assert_ne!(fp, morphology_fingerprint(&renamed, &cable));
}
