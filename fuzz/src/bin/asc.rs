//! Neurolucida ASCII reader (`parse_asc`), then the parsed cell through the Hay axon, `Cable` and `Cell`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Some(text) = neurotwin_fuzz::text(data) {
            if let Ok(morph) = neurotwin::morphology::parse_asc(text, "fuzz.asc") {
                neurotwin_fuzz::exercise_morphology(morph);
            }
        }
    });
}
