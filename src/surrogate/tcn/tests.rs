use super::*;
use crate::dataset::npy::{read_npy, NpyData};
use std::path::PathBuf;

fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
}

fn shipped() -> NativeTcn {
    NativeTcn::load(&models_dir().join("l5pc-synthetic-tcn.onnx")).expect("shipped model loads natively")
}

fn npy_2d(name: &str) -> Array2<f32> {
    let a = read_npy(&models_dir().join(name)).expect("parity npy");
    let NpyData::F32(v) = a.data else { panic!("float32 expected") };
    Array2::from_shape_vec((a.shape[1], a.shape[2]), v).expect("shape")
}

/// A pseudo-random sparse raster (~1 % dense) of `n_rows` rows over `ms`.
fn raster(n_rows: usize, ms: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut x = seed;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n_rows).map(|_| (0..ms as u32).filter(|_| next() % 100 == 0).collect()).collect()
}

#[test]
fn shipped_model_reproduces_its_parity_vector() {
    let tcn = shipped();
    let x = npy_2d("l5pc-synthetic-tcn.parity.input.npy");
    let expected = npy_2d("l5pc-synthetic-tcn.parity.output.npy");
    assert_eq!(tcn.n_rows(), x.nrows());
    assert_eq!(tcn.window_ms(), 100);
    let got = tcn.run(&active_rows_of_dense(x.view())).expect("runs");
    assert_eq!(got.dim(), expected.dim());
    let worst = got.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "native vs PyTorch export: max |diff| {worst}");
}

#[test]
fn streaming_in_any_chunks_equals_one_run() {
    let tcn = shipped();
    let rows = raster(tcn.n_rows(), 700, 7);
    let all = active_rows(&rows, 0, 700);
    let whole = tcn.run(&all).expect("runs");
    let mut st = tcn.new_state();
    let mut parts = Vec::new();
    let mut t = 0;
    for chunk in [1usize, 3, 10, 97, 100, 250, 239] {
        parts.push(tcn.push(&mut st, &all[t..t + chunk]).expect("push"));
        t += chunk;
    }
    assert_eq!(t, 700);
    assert_eq!(st.t_ms(), 700);
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    let streamed = ndarray::concatenate(Axis(1), &views).expect("concat");
    let worst = streamed.iter().zip(&whole).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "streamed vs whole: {worst}");
    // and the input really matters: a silent raster gives other outputs
    let silent = tcn.run(&vec![Vec::new(); 700]).expect("runs");
    assert!(silent.iter().zip(&whole).any(|(a, b)| (a - b).abs() > 1e-3));
}

#[test]
fn occlusion_equals_rerunning_without_the_rows_spikes() {
    let tcn = shipped();
    let rows = raster(tcn.n_rows(), 400, 11);
    for t in [40usize, 250, 399] {
        let occ = tcn.occlude_rows(&rows, t, None).expect("occlusion");
        let full = tcn.run(&active_rows(&rows, 0, t + 1)).expect("runs");
        assert!((occ.probability - full[[0, t]]).abs() < 1e-5, "base probability at {t}");
        assert_eq!(occ.window_from_ms, (t + 1).saturating_sub(100));
        let expected_rows = rows.iter().filter(|r| r.iter().any(|&s| (s as usize) >= occ.window_from_ms && (s as usize) <= t)).count();
        assert_eq!(occ.rows.len(), expected_rows);
        for o in occ.rows.iter().step_by(37) {
            let mut edited = rows.clone();
            edited[o.row].retain(|&s| (s as usize) < occ.window_from_ms || (s as usize) > t);
            let rerun = tcn.run(&active_rows(&edited, 0, t + 1)).expect("runs");
            assert!((o.probability_without - rerun[[0, t]]).abs() < 1e-5, "row {} at {t}: {} vs {}", o.row, o.probability_without, rerun[[0, t]]);
        }
    }
}

#[test]
fn first_layer_weights_are_addressed_by_lag() {
    let tcn = shipped();
    // one spike of row r at ms 0 changes the first-layer pre-activation at ms `lag` by the weight at that lag
    let r = 5;
    let mut z = vec![0.0f32; tcn.k0 * tcn.c0];
    tcn.add_spike(&mut z, 0, tcn.k0, r, 0, 1.0);
    for lag in [0, 1, tcn.k0 - 1] {
        for ch in [0, tcn.c0 - 1] {
            assert_eq!(Some(z[lag * tcn.c0 + ch]), tcn.first_layer_weight(ch, r, lag));
        }
    }
    assert_eq!(tcn.first_layer_weight(tcn.c0, r, 0), None);
    assert_eq!(tcn.first_layer_weight(0, r, tcn.k0), None);
}

#[test]
fn bad_inputs_are_errors() {
    let tcn = shipped();
    assert!(tcn.run(&[vec![tcn.n_rows() as u32]]).unwrap_err().contains("out of range"));
    assert!(tcn.occlude_rows(&[vec![1]], 10, None).unwrap_err().contains("rows"));
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.onnx");
    std::fs::write(&junk, b"this is not protobuf \xff\xff\xff").expect("write");
    let e = NativeTcn::load(&junk).unwrap_err();
    assert!(e.path.ends_with("junk.onnx"), "{e}");
    assert!(NativeTcn::load(&dir.path().join("missing.onnx")).is_err());
}

#[test]
fn the_factorised_first_layer_streams_like_its_dense_equivalent() {
    let tcn = shipped();
    let lr = tcn.low_rank.as_ref().expect("the shipped twin has a factorised first layer");
    assert!(lr.rank < tcn.c0);
    let mut dense = tcn.clone();
    dense.low_rank = None;
    let rows = raster(tcn.n_rows(), 500, 13);
    let all = active_rows(&rows, 0, 500);
    let a = tcn.run(&all).expect("low-rank");
    let b = dense.run(&all).expect("dense");
    let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "factorised vs dense first layer: {worst}");
}
