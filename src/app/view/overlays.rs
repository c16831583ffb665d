//! 2-D overlays drawn by egui over the 3-D picture: the voltage colour bar, the section-kind
//! legend, a µm scale bar, the hover read-out and error banners.

use super::state_colors::nice_step;
use super::colormap::VoltageColors;
use super::geometry::kind_rgb;
use crate::app::live::placements::Location;
use crate::morphology::SectionKind;
use eframe::egui::{self, Align2, Color32, FontId, Mesh, Painter, Pos2, Rect, Stroke, StrokeKind, Vec2};

/// A signed value per Cable node painted instead of the voltage (attribution scores, recent
/// inputs, first-layer weights), on the diverging map over `[−scale, +scale]`.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeOverlay {
    /// Identifies the content (a new value when it changes).
    pub version: u64,
    /// Per node; NaN: no value (drawn dim grey).
    pub values: Vec<f32>,
    /// Magnitude mapped to the ends of the map (> 0).
    pub scale: f32,
    /// Legend title, e.g. "Δ p(spike)".
    pub label: String,
    /// Legend labels for the negative and positive ends.
    pub neg_label: String,
    pub pos_label: String,
}

/// What the pointer is over.
#[derive(Debug, Clone, PartialEq)]
pub struct Hover {
    pub at: Location,
    pub v_mv: Option<f32>,
    /// The state the cell is coloured by, here: (its label with units, value).
    pub state: Option<(String, f32)>,
}

const TEXT: Color32 = Color32::from_gray(220);
const PANEL_FILL: Color32 = Color32::from_rgba_premultiplied(10, 12, 16, 210);

/// A vertical colour bar at the right edge with ticks every 30 mV (or a nicer step for other ranges).
/// A vertical colour gradient in `bar`, bottom (t = 0) to top (t = 1), with a frame.
fn gradient_bar(painter: &Painter, bar: Rect, rgb: impl Fn(f32) -> [u8; 3]) {
    let mut mesh = Mesh::default();
    const STEPS: usize = 48;
    for i in 0..=STEPS {
        let t = i as f32 / STEPS as f32;
        let [r, g, b] = rgb(t);
        let y = bar.bottom() - t * bar.height();
        let c = Color32::from_rgb(r, g, b);
        mesh.colored_vertex(Pos2::new(bar.left(), y), c);
        mesh.colored_vertex(Pos2::new(bar.right(), y), c);
        if i > 0 {
            let k = 2 * i as u32;
            mesh.add_triangle(k - 2, k - 1, k);
            mesh.add_triangle(k - 1, k + 1, k);
        }
    }
    painter.add(egui::Shape::mesh(mesh));
    painter.rect_stroke(bar, 0.0, Stroke::new(1.0, Color32::from_gray(160)), StrokeKind::Outside);
}

/// Legend of a [`NodeOverlay`]: the diverging map from −scale to +scale.
pub fn diverging_bar(painter: &Painter, rect: Rect, o: &NodeOverlay) {
    let height = (rect.height() * 0.45).clamp(80.0, 320.0);
    let bar = Rect::from_min_size(Pos2::new(rect.right() - 62.0, rect.center().y - 0.5 * height), Vec2::new(16.0, height));
    painter.rect_filled(bar.expand2(Vec2::new(56.0, 44.0)).translate(Vec2::new(-26.0, 4.0)), 6.0, PANEL_FILL);
    gradient_bar(painter, bar, |t| super::colormap::diverging_rgb(2.0 * t - 1.0));
    let font = FontId::proportional(12.0);
    for (frac, v) in [(0.0, -o.scale), (0.5, 0.0), (1.0, o.scale)] {
        let y = bar.bottom() - frac * bar.height();
        painter.line_segment([Pos2::new(bar.right(), y), Pos2::new(bar.right() + 4.0, y)], Stroke::new(1.0, TEXT));
        let text = if o.scale >= 0.1 { format!("{v:+.2}") } else if v == 0.0 { "0".to_string() } else { format!("{v:+.1e}") };
        painter.text(Pos2::new(bar.right() + 6.0, y), Align2::LEFT_CENTER, text, font.clone(), TEXT);
    }
    painter.text(Pos2::new(bar.center().x, bar.top() - 8.0), Align2::CENTER_BOTTOM, &o.pos_label, font.clone(), TEXT);
    painter.text(Pos2::new(bar.center().x, bar.bottom() + 8.0), Align2::CENTER_TOP, &o.neg_label, font.clone(), TEXT);
    // right-aligned so long titles stay inside the view
    painter.text(Pos2::new(rect.right() - 8.0, bar.top() - 24.0), Align2::RIGHT_BOTTOM, &o.label, FontId::proportional(13.0), TEXT);
}

pub fn color_bar(painter: &Painter, rect: Rect, colors: &VoltageColors) {
    let height = (rect.height() * 0.45).clamp(80.0, 320.0);
    let bar = Rect::from_min_size(Pos2::new(rect.right() - 62.0, rect.center().y - 0.5 * height), Vec2::new(16.0, height));
    painter.rect_filled(bar.expand2(Vec2::new(44.0, 30.0)).translate(Vec2::new(-14.0, 4.0)), 6.0, PANEL_FILL);
    gradient_bar(painter, bar, |t| colors.map.rgb(t));
    let span = colors.max_mv - colors.min_mv;
    let step = nice_step(span.abs() / 4.0);
    if step > 0.0 {
        let mut v = (colors.min_mv / step).ceil() * step;
        while v <= colors.max_mv + 1e-3 {
            let y = bar.bottom() - colors.fraction(v) * bar.height();
            painter.line_segment([Pos2::new(bar.right(), y), Pos2::new(bar.right() + 4.0, y)], Stroke::new(1.0, TEXT));
            painter.text(Pos2::new(bar.right() + 6.0, y), Align2::LEFT_CENTER, format!("{v:.0}"), FontId::proportional(12.0), TEXT);
            v += step;
        }
    }
    painter.text(Pos2::new(bar.center().x + 8.0, bar.top() - 8.0), Align2::CENTER_BOTTOM, "Vm (mV)", FontId::proportional(13.0), TEXT);
}

/// The colour bar of a state quantity: its title with units, ticks in its units (decades on a
/// log scale); `missing` says the model cannot report it.
pub fn state_bar(painter: &Painter, rect: Rect, title: &str, scale: &super::state_colors::StateScale, map: super::colormap::ColorMap, missing: bool) {
    let height = (rect.height() * 0.45).clamp(80.0, 320.0);
    let bar = Rect::from_min_size(Pos2::new(rect.right() - 62.0, rect.center().y - 0.5 * height), Vec2::new(16.0, height));
    painter.rect_filled(bar.expand2(Vec2::new(44.0, 30.0)).translate(Vec2::new(-14.0, 4.0)), 6.0, PANEL_FILL);
    gradient_bar(painter, bar, |t| map.rgb(t));
    for v in scale.ticks() {
        let f = scale.fraction(v);
        if !f.is_finite() {
            continue;
        }
        let y = bar.bottom() - f * bar.height();
        painter.line_segment([Pos2::new(bar.right(), y), Pos2::new(bar.right() + 4.0, y)], Stroke::new(1.0, TEXT));
        let label = super::state_colors::tick_label(v, scale);
        painter.text(Pos2::new(bar.right() + 6.0, y), Align2::LEFT_CENTER, label, FontId::proportional(12.0), TEXT);
    }
    // right-aligned so long titles stay inside the view
    painter.text(Pos2::new(rect.right() - 8.0, bar.top() - 8.0), Align2::RIGHT_BOTTOM, title, FontId::proportional(13.0), TEXT);
    if missing {
        painter.text(Pos2::new(rect.right() - 8.0, bar.bottom() + 24.0), Align2::RIGHT_TOP, "this model does not report it", FontId::proportional(12.0), Color32::from_rgb(230, 180, 60));
    }
}

/// A path over the cell (points in µm), projected with `clip_from_world` and drawn as a thin
/// translucent white line (the colours of a thick trunk still show beside it), with a ring at its
/// far end.
pub fn path_line(painter: &Painter, rect: Rect, clip_from_world: three_d::Mat4, path_um: &[[f32; 3]]) {
    let to_screen = |p: &[f32; 3]| {
        let c = clip_from_world * three_d::vec4(p[0], p[1], p[2], 1.0);
        (c.w > 1e-6).then(|| Pos2::new(rect.left() + 0.5 * (c.x / c.w + 1.0) * rect.width(), rect.top() + 0.5 * (1.0 - c.y / c.w) * rect.height()))
    };
    let points: Vec<Pos2> = path_um.iter().filter_map(to_screen).collect();
    if points.len() < 2 {
        return;
    }
    painter.add(egui::Shape::line(points.clone(), Stroke::new(1.2, Color32::from_rgba_unmultiplied(255, 255, 255, 150))));
    if let Some(end) = points.last() {
        painter.circle_stroke(*end, 6.0, Stroke::new(2.0, Color32::WHITE));
    }
}


/// Section-kind swatches (shown when not colouring by voltage).
pub fn kind_legend(painter: &Painter, rect: Rect) {
    let kinds = [
        (SectionKind::Soma, "soma"),
        (SectionKind::Basal, "basal"),
        (SectionKind::Apical, "apical"),
        (SectionKind::Axon, "axon"),
    ];
    let top_left = Pos2::new(rect.right() - 110.0, rect.top() + 12.0);
    painter.rect_filled(Rect::from_min_size(top_left, Vec2::new(98.0, 88.0)), 6.0, PANEL_FILL);
    for (i, (kind, name)) in kinds.iter().enumerate() {
        let y = top_left.y + 14.0 + 20.0 * i as f32;
        let [r, g, b] = kind_rgb(*kind);
        painter.circle_filled(Pos2::new(top_left.x + 14.0, y), 6.0, Color32::from_rgb(r, g, b));
        painter.text(Pos2::new(top_left.x + 28.0, y), Align2::LEFT_CENTER, *name, FontId::proportional(13.0), TEXT);
    }
}

/// A horizontal bar of a round length at the bottom left; `px_per_um` at the camera target.
pub fn scale_bar(painter: &Painter, rect: Rect, px_per_um: f32) {
    if !(px_per_um > 0.0) || !px_per_um.is_finite() {
        return;
    }
    let length_um = nice_step(120.0 / px_per_um);
    let length_px = length_um * px_per_um;
    let y = rect.bottom() - 22.0;
    let x0 = rect.left() + 20.0;
    let stroke = Stroke::new(3.0, TEXT);
    painter.line_segment([Pos2::new(x0, y), Pos2::new(x0 + length_px, y)], stroke);
    for x in [x0, x0 + length_px] {
        painter.line_segment([Pos2::new(x, y - 5.0), Pos2::new(x, y + 5.0)], Stroke::new(1.5, TEXT));
    }
    painter.text(Pos2::new(x0 + 0.5 * length_px, y - 8.0), Align2::CENTER_BOTTOM, format!("{length_um} µm"), FontId::proportional(13.0), TEXT);
}

/// Section, x, distance and voltage next to the pointer, and what a click will do there.
pub fn hover_readout(painter: &Painter, rect: Rect, pointer: Option<Pos2>, hover: &Hover, click_does: &str) {
    let Some(p) = pointer else { return };
    let v = hover.v_mv.map(|v| format!("{v:.1} mV")).unwrap_or_else(|| "–".into());
    let state = hover.state.as_ref().map_or(String::new(), |(label, x)| format!("\n{label}: {}", if x.is_finite() { format!("{x:.3e}") } else { "none here".into() }));
    let text = format!(
        "{}({:.3})\n{:.0} µm from soma\nV = {v}{state}\nclick: {click_does}",
        hover.at.section_name, hover.at.x, hover.at.dist_um
    );
    let galley = painter.layout_no_wrap(text, FontId::proportional(13.0), TEXT);
    let mut pos = p + Vec2::new(16.0, 16.0);
    if pos.x + galley.size().x + 12.0 > rect.right() {
        pos.x = p.x - galley.size().x - 20.0;
    }
    if pos.y + galley.size().y + 12.0 > rect.bottom() {
        pos.y = p.y - galley.size().y - 20.0;
    }
    let bg = Rect::from_min_size(pos, galley.size()).expand(6.0);
    painter.rect_filled(bg, 4.0, PANEL_FILL);
    painter.rect_stroke(bg, 4.0, Stroke::new(1.0, Color32::from_gray(90)), StrokeKind::Inside);
    painter.galley(pos, galley, TEXT);
}

/// A red banner across the top of the view.
pub fn error_banner(painter: &Painter, rect: Rect, message: &str) {
    let band = Rect::from_min_size(rect.min, Vec2::new(rect.width(), 28.0));
    painter.rect_filled(band, 0.0, Color32::from_rgb(120, 20, 20));
    painter.text(band.left_center() + Vec2::new(10.0, 0.0), Align2::LEFT_CENTER, message, FontId::proportional(14.0), Color32::WHITE);
}

#[cfg(test)]
mod tests {
    use super::super::state_colors::nice_step;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(30.0), 30.0);
        assert_eq!(nice_step(25.0), 25.0);
        assert_eq!(nice_step(120.0), 200.0);
        assert_eq!(nice_step(0.0), 0.0);
        assert_eq!(nice_step(0.9), 1.0);
    }
}
