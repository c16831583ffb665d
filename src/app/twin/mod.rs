//! The deep-network twin in the app: its own thread ([`thread::Twin`]) that receives the engine's
//! input raster from the runner's worker (`live::twin_feed`), predicts in chunks and publishes a
//! [`thread::TwinSnapshot`] the UI draws (the magenta trace); which models fit the open cell
//! (`models`); how well the twin agrees with the cell (`agreement`); and "Why did it spike?" on
//! the twin's side (`why`: attribution and the twin's half of a what-if).
//!
//! May use `surrogate`, `attribution`, `metrics`, `stimulus`, `morphology` and, from the app,
//! `live` (the feed's messages, the runner to connect to); nothing of the view, the panels or the
//! shell (its tests drive the whole app).

pub mod agreement;
pub mod elm_download;
pub mod models;
pub mod messages;
pub mod thread;
mod worker;
pub mod why;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod why_tests;
