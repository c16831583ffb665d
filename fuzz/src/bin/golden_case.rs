//! Golden case JSON (`Case::parse`: format, reference-result checks), then the checks `replay`
//! and `predict` make before simulating (tstop/dt limits).
fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Some(text) = neurotwin_fuzz::text(data) {
            if let Ok(case) = neurotwin::golden::case::Case::parse(text, "fuzz.json") {
                let _ = neurotwin::limits::check_tstop_dt("sim.", case.sim.tstop, case.sim.dt.unwrap_or(0.025));
            }
        }
    });
}
