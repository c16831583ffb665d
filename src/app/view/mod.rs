//! The central 3-D view of the cell: [`view3d::View3d`] (camera interaction, hover and click
//! picking, colouring by voltage or by an overlay), built from the CPU mesh of `geometry`, drawn by
//! `gl_scene` (three-d, on the GL thread), with `camera`, `picking`, `colormap` and the 2-D
//! `overlays` (colour bars, scale bar, hover read-out) and the `tools` strip (what a click does) beside it.
//!
//! May use `morphology` and, from the app, `live` (the runner's snapshot, placements, synapse
//! kinds); nothing of the twin, the panels or the shell. The cell it draws comes in as a
//! [`view3d::ViewedCell`] lent by the session.

pub mod camera;
pub mod colormap;
pub mod geometry;
mod gl_scene;
mod overlays;
pub mod picking;
pub mod tools;
pub mod state_colors;
pub mod view3d;
