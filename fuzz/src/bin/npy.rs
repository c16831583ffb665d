//! Dataset files: an NPY array (`parse_npy`, the reader of every shard array) and, for input that
//! is text, a dataset manifest (`Manifest::parse`).
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = neurotwin::dataset::npy::parse_npy(data, "fuzz.npy");
        if let Some(text) = neurotwin_fuzz::text(data) {
            let _ = neurotwin::dataset::manifest::Manifest::parse(text, "manifest.json");
        }
    });
}
