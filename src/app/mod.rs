//! The desktop GUI (eframe/egui + three-d + egui_plot): a 3-D view of the cell coloured by
//! membrane potential, controls to place and drive synapses and clamps, voltage traces, and the
//! deep-network twin's prediction beside the cell's.
//!
//! The shape, lowest layer first (a module may use the ones above it, never one below):
//!
//! ```text
//! live/     the engine side: the runner's worker thread, the LiveModel trait and its engine adapter,
//!           drives, the background protocol, engine what-ifs, what the user placed
//! twin/     the twin side: the twin's thread, its models, agreement, "why did it spike?"
//! view/     the 3-D view: geometry, camera, picking, colours, GL drawing, overlays
//! session   one opened cell: morphology, cable, geometry, runner, placements, twin
//! panels/   the side and bottom panels (controls, synapses, traces, twin, why)
//! scenario  what the user set up, saved and loaded as JSON
//! demos/    the teaching demos and their panel
//! shell/    the eframe App: window layout, shortcuts, automation, export
//! ```
//!
//! Owns nothing physical: the engine (`biophysics`, in `live::engine_model` only) and the twin
//! (`surrogate`, `attribution`, in `twin/` only) do the work on their own threads; the UI draws
//! their latest snapshots. ARCHITECTURE.md has the threads and what crosses between them.

pub mod audio;
pub mod demos;
pub mod live;
pub mod record;
pub mod panels;
pub mod scenario;
pub mod session;
pub mod shell;
pub mod twin;
pub mod view;

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
