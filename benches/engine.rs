//! Criterion benchmark of the engine: a 500 ms slice of the paper-input case (the 6 s figure in
//! CPU seconds per simulated second comes from `neurotwin bench`). Needs `../shared`.

use criterion::{criterion_group, criterion_main, Criterion};
use neurotwin::golden::bench::BenchCase;
use std::path::PathBuf;
use std::time::Duration;

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared").join(rel)
}

fn engine(c: &mut Criterion) {
    let (case_path, morph_path) = (shared("reference/paper_input_nmda_seed1001.json"), shared("morphologies/cell1.asc"));
    let (Ok(case), Ok(morph)) = (neurotwin::golden::case::Case::load(&case_path), neurotwin::morphology::load_hay2011(&morph_path)) else {
        eprintln!("skipping: {} or {} not readable", case_path.display(), morph_path.display());
        return;
    };
    let bench = match BenchCase::new(case, &morph) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("skipping: {e}");
            return;
        }
    };
    let mut group = c.benchmark_group("engine");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    group.bench_function("paper_input_500ms", |b| b.iter(|| bench.run(500.0).map(|r| r.spike_times_ms().len())));
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
