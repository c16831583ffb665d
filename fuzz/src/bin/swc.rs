//! SWC reader (`parse_swc_with_warnings`), then the parsed cell through the Hay axon, `Cable` and `Cell`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Some(text) = neurotwin_fuzz::text(data) {
            if let Ok((morph, _warnings)) = neurotwin::morphology::swc::parse_swc_with_warnings(text, "fuzz.swc") {
                neurotwin_fuzz::exercise_morphology(morph);
            }
        }
    });
}
