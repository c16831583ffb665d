//! What every fuzz target shares: the input as text (the readers take UTF-8 text, as the
//! library's file loaders hand it to them after their size check), and one morphology checked
//! the way `neurotwin::morphology::load_hay2011_with_warnings` checks a file, then discretised
//! and built into the Hay 2011 cell when it is small enough to be cheap.

use neurotwin::morphology::{replace_axon_hay2011, size_warnings, Morphology};

/// The input as UTF-8 text, or `None` (the file loaders refuse non-UTF-8 files before parsing).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Most compartments a fuzz input is built into a cell with (larger ones only get the count).
const MAX_FUZZ_COMPARTMENTS: f64 = 5_000.0;

/// What the app and the command line do with a parsed morphology: the soft-limit warnings, the
/// Hay axon stub, validation, the compartment count, `Cable` and the Hay 2011 `Cell`.
/// Errors are fine; a panic, hang or unbounded allocation is what the fuzzer looks for.
pub fn exercise_morphology(mut morph: Morphology) {
    let _ = size_warnings(&morph);
    replace_axon_hay2011(&mut morph);
    if morph.validate().is_err() {
        return;
    }
    let settings = neurotwin::Discretisation::default();
    let n = neurotwin::morphology::cable::compartment_count(&morph, &settings);
    if !(n <= MAX_FUZZ_COMPARTMENTS) {
        return;
    }
    if let Ok(cable) = neurotwin::Cable::new(&morph, &settings) {
        let _ = neurotwin::morphology::info::MorphInfo::new(&morph, &cable).table();
        let _ = neurotwin::stimulus::DendriticSegments::new(&morph, &cable);
        let _ = neurotwin::biophysics::recipe::hay2011::build_cell(&morph, &settings, Default::default());
    }
}
