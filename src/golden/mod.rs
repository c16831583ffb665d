//! The engine against NEURON: the `l5pc-golden-v1` case format of the reference runs in
//! `../shared/reference` (`case`), replaying a case on the Hay 2011 cell and comparing with its
//! results (`replay`, used by `tests/golden.rs`, `neurotwin replay` and `neurotwin simulate`), the
//! engine benchmark that replays a case single-threaded (`bench`, used by `neurotwin bench` and
//! `benches/engine.rs`) and process CPU time for reporting engine cost (`timing`).
//!
//! Depends on `biophysics` and `morphology` only.

pub mod adhoc;
pub mod bench;
pub mod case;
pub mod replay;
pub mod timing;
