//! Model metadata JSON (`ModelMetadata::parse` and its consistency checks).
fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Some(text) = neurotwin_fuzz::text(data) {
            if let Ok(meta) = neurotwin::surrogate::metadata::ModelMetadata::parse(text, "fuzz.json") {
                let _ = meta.training_protocol();
                let _ = meta.parity_tolerance();
            }
        }
    });
}
