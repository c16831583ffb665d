//! The engine's error type, shared by the simulation and the recorder (its own module so that
//! neither has to import the other).

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid simulation settings: {0}")]
    Settings(String),
    #[error("invalid stimulus: {0}")]
    Stimulus(String),
    #[error("{mechanism} state `{state}` became non-finite at {section}({x:.6}) at t = {t_ms} ms")]
    NonFinite { mechanism: String, state: String, section: String, x: f64, t_ms: f64 },
}
