//! Dataset manifests: `Manifest::parse` (the format and every shard-list check) on the input, and
//! `Dataset::merge`, which joins the manifests of a partitioned run, as `neurotwin evaluate`,
//! training and `dataset --merge-parts` read a dataset folder. An input holding a NUL byte is
//! split there into the first manifest and a second partition's; otherwise the manifest is merged
//! with itself.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Some(text) = neurotwin_fuzz::text(data) else { return };
        let (a, b) = text.split_once('\0').unwrap_or((text, text));
        let Ok(first) = neurotwin::dataset::manifest::Manifest::parse(a, "manifest.json") else { return };
        let dir = std::path::Path::new("fuzz-dataset");
        let others = match neurotwin::dataset::manifest::Manifest::parse(b, "manifest.part-1-of-2.json") {
            Ok(m) => vec![("manifest.part-1-of-2.json".to_string(), m)],
            Err(_) => vec![],
        };
        if let Ok(ds) = neurotwin::dataset::reader::Dataset::merge(dir, ("manifest.json".to_string(), first), others) {
            let _ = ds.is_complete();
            let _ = ds.done_shards();
        }
    });
}
