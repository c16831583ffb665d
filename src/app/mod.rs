//! The desktop GUI (eframe/egui + three-d + egui_plot): a 3-D view of the cell coloured by
//! membrane potential, controls to place and drive synapses and clamps, and voltage traces.
//!
//! Owns nothing physical: a [`runner::Runner`] worker thread advances a [`model::LiveModel`]
//! (the engine, through an adapter) and the UI draws its latest [`runner::Snapshot`].
//! Depends on `morphology` (geometry, compartments), `stimulus` (drives, the paper's background
//! protocol) and, in `engine_model` only, `biophysics`.

pub mod agreement;
pub mod automation;
pub mod background;
pub mod camera;
pub mod colormap;
pub mod demos;
pub mod drives;
pub mod engine_model;
pub mod export;
#[cfg(any(test, feature = "dev-fake-model"))]
pub mod fake_model;
pub mod geometry;
mod gl_scene;
pub mod model;
mod overlays;
pub mod panels;
pub mod picking;
pub mod placements;
pub mod runner;
pub mod scenario;
pub mod session;
mod shortcuts;
pub mod shell;
mod teaching;
#[cfg(test)]
mod tests;
pub mod twin;
pub mod twin_feed;
pub mod twin_models;
#[cfg(test)]
mod twin_tests;
pub mod view3d;
pub mod whatif_engine;
pub mod why;
#[cfg(test)]
mod why_tests;
pub mod worker;

pub use shell::{AppOptions, NeuroTwinApp};

/// Open the GUI window and run until it is closed. `multisampling` is the MSAA sample count
/// (0 is fastest on software GL).
pub fn run(options: AppOptions, multisampling: u16) -> anyhow::Result<()> {
    let native = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        // three-d needs a depth buffer in the default framebuffer (stack.md §1).
        depth_buffer: 24,
        multisampling,
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("neurotwin")
            .with_inner_size([1500.0, 950.0])
            .with_min_inner_size([900.0, 600.0]),
        ..Default::default()
    };
    eframe::run_native(
        "neurotwin",
        native,
        Box::new(move |cc| {
            cc.egui_ctx.set_theme(eframe::egui::Theme::Dark);
            Ok(Box::new(NeuroTwinApp::new(options)))
        }),
    )
    .map_err(|e| anyhow::anyhow!("the window could not be opened: {e}"))
}
