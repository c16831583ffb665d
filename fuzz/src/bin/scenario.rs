//! App scenarios: `app::scenario::Scenario::parse` (the format) and `check_limits` (every value a
//! scenario can ask for: drives, counts, clamp, background, speed), as `--scenario` does before
//! the window opens.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Some(text) = neurotwin_fuzz::text(data) {
            if let Ok(s) = neurotwin::app::scenario::Scenario::parse(text, "fuzz.json") {
                let _ = s.check_limits();
            }
        }
    });
}
