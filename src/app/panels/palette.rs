//! The colours that mean the same thing in every panel: the cell cyan, our twin magenta, the
//! compared twin amber.

use eframe::egui::Color32;

/// The biophysical cell's colour, everywhere.
pub const BIOPHYSICAL_CYAN: Color32 = Color32::from_rgb(0, 220, 255);

/// The cell's colour under the name the twin panel uses.
pub const CELL_CYAN: Color32 = BIOPHYSICAL_CYAN;

/// The twin's colour, everywhere (the biophysical cell is cyan).
pub const DNN_MAGENTA: Color32 = Color32::from_rgb(255, 60, 220);

/// The second twin's colour (compared with the first): amber, apart from cyan and magenta.
pub const SECOND_TWIN_AMBER: Color32 = Color32::from_rgb(255, 176, 0);
