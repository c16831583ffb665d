//! Headless UI tests with egui_kittest (no renderer: the 3-D paint callback is simply not run).
