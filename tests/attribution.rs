//! "Why did it spike?": occlusion attribution by the twin, what-if re-runs of the engine from a
//! checkpoint, and the deletion-faithfulness test, on the shipped synthetic cell and its twin.

use neurotwin::attribution::faithfulness::{deletion_faithfulness, FaithfulnessOptions};
use neurotwin::attribution::whatif::{simulate, Checkpoint};
use neurotwin::attribution::{attribute, delete_spikes, spike_bin};
use neurotwin::biophysics::recipe::hay2011;
use neurotwin::biophysics::Cell;
use neurotwin::stimulus::{DendriticSegments, InputRaster, PaperProtocol, SynKind, Tree};
use neurotwin::surrogate::{select_tract, LoadOptions, NativeNet, SurrogateModel};
use neurotwin::Discretisation;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A protocol seed whose 6-s input makes the synthetic cell fire 8 somatic spikes (a seed of the
/// twin's training-data generator; most 6-s inputs give 0–2 spikes on this cell).
const SPIKY_SEED: u64 = 1904328322145306098;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Fixture {
    cell: Cell,
    segs: DendriticSegments,
    soma: usize,
    tcn: NativeNet,
}

fn fixture() -> Fixture {
    let morph = neurotwin::morphology::load_hay2011(&root().join("morphologies/l5pc-synthetic.swc")).expect("synthetic cell");
    let cell = hay2011::build_cell(&morph, &Discretisation::default(), Default::default()).expect("cell");
    let segs = DendriticSegments::new(&cell.morphology, &cell.cable).expect("segments");
    let soma = cell.cable.segment_node(0, 0.5);
    select_tract().expect("tract");
    let model = SurrogateModel::load(&root().join("models/l5pc-synthetic-tcn.onnx"), LoadOptions::default()).expect("model");
    let tcn = model.native().cloned().unwrap_or_else(|| panic!("native evaluation: {}", model.native_status()));
    Fixture { cell, segs, soma, tcn }
}

fn protocol_raster(f: &Fixture, seed: u64, duration_ms: u32) -> InputRaster {
    let mut p = PaperProtocol::nmda();
    p.duration_ms = duration_ms;
    p.generate(&f.segs, seed).expect("protocol").raster
}

#[test]
fn an_unedited_rerun_from_a_checkpoint_reproduces_the_run_exactly() {
    let f = fixture();
    let raster = protocol_raster(&f, SPIKY_SEED, 1000);
    // the dataset path (synapses built from the raster at construction) is the reference
    let reference = neurotwin::dataset::paper_sim::simulate_raster(&f.cell, &f.segs, f.soma, &raster, false, false).expect("sim");
    let whole = simulate(&f.cell, &f.segs, f.soma, &raster, 1000.0, false).expect("sim");
    let cp = Checkpoint::new(&f.cell, &f.segs, f.soma, &raster, 400, false, &[]).expect("checkpoint");
    let again = cp.run(&raster, 1000.0).expect("rerun");
    assert_eq!(again.soma_v_mv.len(), whole.soma_v_mv.len());
    let first_diff = again.soma_v_mv.iter().zip(&whole.soma_v_mv).position(|(a, b)| a != b);
    assert_eq!(first_diff, None, "re-run from the checkpoint differs from the uninterrupted run from this ms on");
    assert_eq!(again.spike_times_ms, whole.spike_times_ms);
    assert_eq!(again.spike_times_ms, reference.spike_times_ms);
    for (t, (a, b)) in again.soma_v_mv.iter().zip(&reference.soma_v_1ms).enumerate() {
        assert_eq!(*a as f32, *b, "soma at {t} ms");
    }
    // an edit after the checkpoint changes the trace after it only
    let rows: Vec<usize> = (0..raster.n_segments()).collect();
    let edited = delete_spikes(&raster, &rows, 400, 1000).expect("edit");
    let quiet = cp.run(&edited, 1000.0).expect("edited");
    assert_eq!(quiet.soma_v_mv[..=400], whole.soma_v_mv[..=400]);
    let diff = quiet.soma_v_mv[400..].iter().zip(&whole.soma_v_mv[400..]).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(diff > 1.0, "deleting all excitation after 400 ms changed the soma by only {diff} mV");
}

/// Background input too weak to fire the cell, plus a synchronous burst on a known set of
/// excitatory rows: the twin ranks the burst rows first and deleting them abolishes the spike.
#[test]
fn a_burst_on_known_inputs_is_ranked_first_and_deleting_it_abolishes_the_spike() {
    let f = fixture();
    let duration = 800u32;
    let background = protocol_raster(&f, 1, duration);
    let mut rows: Vec<Vec<u32>> = background.rows().to_vec();
    // thin the background to a third so that it never fires the cell by itself
    for row in rows.iter_mut() {
        let mut k = 0;
        row.retain(|_| {
            k += 1;
            k % 3 == 0
        });
    }
    // the burst: 100 basal segments within 300 µm of the soma, 5 spikes each at 600–604 ms
    let burst: Vec<usize> = f
        .segs
        .segments
        .iter()
        .enumerate()
        .filter(|(_, s)| s.tree == Tree::Basal && s.dist_um < 300.0)
        .map(|(i, _)| i)
        .take(100)
        .collect();
    assert_eq!(burst.len(), 100, "the synthetic cell has enough proximal basal segments");
    let quiet = InputRaster::from_rows(f.segs.len(), duration, rows.clone()).expect("raster");
    for &seg in &burst {
        let r = quiet.row(SynKind::Exc, seg);
        rows[r].retain(|&t| !(595..=605).contains(&t));
        rows[r].extend(600..605);
        rows[r].sort_unstable();
    }
    let raster = InputRaster::from_rows(f.segs.len(), duration, rows).expect("raster");
    let burst_rows: Vec<usize> = burst.iter().map(|&s| raster.row(SynKind::Exc, s)).collect();

    let without_burst = simulate(&f.cell, &f.segs, f.soma, &quiet, f64::from(duration), false).expect("sim");
    assert!(without_burst.spike_times_ms.is_empty(), "the thinned background fires by itself: {:?}", without_burst.spike_times_ms);
    let run = simulate(&f.cell, &f.segs, f.soma, &raster, f64::from(duration), false).expect("sim");
    let peak = |t: &neurotwin::attribution::whatif::EngineTrace| t.soma_v_mv[590..640].iter().copied().fold(f64::MIN, f64::max);
    println!("soma peak 590-640 ms: {:.2} mV without the burst, {:.2} mV with it", peak(&without_burst), peak(&run));
    let spike = *run.spike_times_ms.iter().find(|&&t| (600.0..620.0).contains(&t)).unwrap_or_else(|| panic!("no spike after the burst: {:?}", run.spike_times_ms));

    let attr = attribute(&f.tcn, &raster, &f.segs, spike_bin(spike)).expect("attribution");
    let top: Vec<usize> = attr.top_rows(burst_rows.len());
    let hits = top.iter().filter(|r| burst_rows.contains(r)).count();
    println!(
        "spike at {spike:.2} ms; twin p = {:.3}; {} rows active in the window; {hits} of the top {} are burst rows",
        attr.probability,
        attr.ranking.len(),
        top.len()
    );
    assert!(attr.ranking.len() > 200, "the background is not trivially empty");
    let hits_top20 = top[..20].iter().filter(|r| burst_rows.contains(r)).count();
    println!("{hits_top20} of the top 20 are burst rows");
    assert_eq!(hits_top20, 20, "the top 20 rows are not all the burst's");
    assert!(hits >= 80, "only {hits} of the top {} rows are the burst's", top.len());
    // the order is earned, not a tie broken by row number: every top row lowers the logit
    assert!(attr.ranking[..90].iter().all(|s| s.logit_drop > 0.0 && s.score >= 0.0));
    assert!(burst_rows.contains(&attr.ranking[0].row));

    let cp = Checkpoint::new(&f.cell, &f.segs, f.soma, &raster, attr.window_from_ms as u32, false, &[]).expect("checkpoint");
    let edited = delete_spikes(&raster, &burst_rows, attr.window_from_ms, attr.t_ms).expect("edit");
    let after = cp.run(&edited, spike + 20.0).expect("what-if");
    assert!(!after.has_spike_near(spike, 10.0), "the spike survived deleting the burst: {:?}", after.spike_times_ms);
    assert!(cp.run(&raster, spike + 20.0).expect("rerun").has_spike_near(spike, 0.0));
}

#[test]
fn deleting_the_top_attributed_inputs_abolishes_spikes_far_more_often_than_random_ones() {
    let f = fixture();
    let raster = protocol_raster(&f, SPIKY_SEED, 6000);
    let opts = FaithfulnessOptions::default();
    let (r, original) = deletion_faithfulness(&f.tcn, &f.cell, &f.segs, f.soma, &raster, &opts).expect("faithfulness");
    let (top, random) = (r.top_rate().expect("spikes were found"), r.random_rate().expect("random trials were made"));
    println!(
        "{} spikes; top-{} deletion abolished {:.0} %, random {:.0} % ({} random trials)",
        original.spike_times_ms.len(),
        r.k,
        100.0 * top,
        100.0 * random,
        r.trials.iter().map(|t| t.random_trials).sum::<usize>()
    );
    assert!(original.spike_times_ms.len() >= 6, "{:?}", original.spike_times_ms);
    assert_eq!(r.trials.len(), original.spike_times_ms.len());
    assert!(top >= 0.5, "top-k deletion abolished only {top:.2}");
    assert!(top >= 2.0 * random, "top {top:.2} vs random {random:.2}");
}

fn write_case(f: &Fixture, raster: &InputRaster, path: &Path) {
    let synapses = raster.to_synapses(&f.segs, &Default::default()).expect("synapses");
    let case = serde_json::json!({
        "format": "l5pc-golden-v1",
        "name": "attribution-cli",
        "model": {"name": "l5pc-synthetic"},
        "sim": {"dt": 0.025, "tstop": f64::from(raster.duration_ms()), "celsius": 6.3, "v_init": -76.0},
        "synapses": synapses,
        "recording": {"soma": {"sec": "soma[0]", "x": 0.5}, "soma_dt_ms": 1.0, "sites_dt_ms": 1.0}
    });
    std::fs::write(path, serde_json::to_string(&case).expect("json")).expect("write case");
}

#[test]
fn attribute_cli_writes_a_ranking_equal_to_the_library_and_confirms_in_the_engine() {
    let f = fixture();
    let raster = protocol_raster(&f, SPIKY_SEED, 1400);
    let dir = tempfile::tempdir().expect("tempdir");
    let case = dir.path().join("case.json");
    write_case(&f, &raster, &case);
    let out = dir.path().join("attr.json");
    let t_ms = 1290usize;
    let o = Command::new(env!("CARGO_BIN_EXE_neurotwin"))
        .current_dir(root())
        .args(["--morphology", "morphologies/l5pc-synthetic.swc", "attribute", "--model", "models/l5pc-synthetic-tcn.onnx", "--case"])
        .arg(&case)
        .args(["--t-ms", &t_ms.to_string(), "--top", "5", "--confirm-top", "20", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("what-if"), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("out")).expect("json");
    let ranking = json["ranking"].as_array().expect("ranking");
    let lib = attribute(&f.tcn, &raster, &f.segs, t_ms).expect("attribution");
    assert_eq!(ranking.len(), lib.ranking.len());
    for (j, l) in ranking.iter().zip(&lib.ranking).take(50) {
        assert_eq!(j["row"].as_u64(), Some(l.row as u64));
        assert_eq!(j["segment"].as_u64(), Some(l.segment as u64));
        assert_eq!(j["sec"].as_str(), Some(l.sec.as_str()));
        assert!(matches!(j["kind"].as_str(), Some("exc" | "inh")));
        assert!((j["score"].as_f64().expect("score") - f64::from(l.score)).abs() < 1e-6);
    }
    let scores: Vec<f64> = ranking.iter().map(|r| r["score"].as_f64().expect("score")).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "ranking not sorted by descending score");
    assert!(json["what_if"]["engine_spikes_edited_ms"].is_array());
    // a time outside the case is a clear error
    let bad = Command::new(env!("CARGO_BIN_EXE_neurotwin"))
        .current_dir(root())
        .args(["--morphology", "morphologies/l5pc-synthetic.swc", "attribute", "--case"])
        .arg(&case)
        .args(["--t-ms", "99999"])
        .output()
        .expect("runs");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("outside"), "{}", String::from_utf8_lossy(&bad.stderr));
    // a fractional time is accepted (issue 17): the twin's bin is its floor, and the output says so
    let frac = Command::new(env!("CARGO_BIN_EXE_neurotwin"))
        .current_dir(root())
        .args(["--morphology", "morphologies/l5pc-synthetic.swc", "attribute", "--case"])
        .arg(&case)
        .args(["--t-ms", "1290.5", "--top", "1"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&frac.stdout);
    assert!(frac.status.success(), "{text}\n{}", String::from_utf8_lossy(&frac.stderr));
    assert!(text.contains("explaining bin 1290 ms (the floor)") && text.contains("t = 1290 ms"), "{text}");
}
