//! Perceptually uniform colour maps (matplotlib's viridis, inferno, magma), interpolated linearly
//! in sRGB between nine control points sampled at 0, 1/8, …, 1 of each map. Nine points keep the
//! interpolation error below what the eye separates on a neuron a few pixels wide.

/// A colour map for membrane potential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorMap {
    #[default]
    Viridis,
    Inferno,
    Magma,
}

const VIRIDIS: [[u8; 3]; 9] = [
    [0x44, 0x01, 0x54],
    [0x47, 0x2d, 0x7b],
    [0x3b, 0x52, 0x8b],
    [0x2c, 0x72, 0x8e],
    [0x21, 0x91, 0x8c],
    [0x28, 0xae, 0x80],
    [0x5e, 0xc9, 0x62],
    [0xad, 0xdc, 0x30],
    [0xfd, 0xe7, 0x25],
];

const INFERNO: [[u8; 3]; 9] = [
    [0x00, 0x00, 0x04],
    [0x1f, 0x0c, 0x48],
    [0x55, 0x0f, 0x6d],
    [0x88, 0x22, 0x6a],
    [0xba, 0x36, 0x55],
    [0xe3, 0x59, 0x33],
    [0xf9, 0x8e, 0x09],
    [0xf9, 0xcb, 0x35],
    [0xfc, 0xff, 0xa4],
];

const MAGMA: [[u8; 3]; 9] = [
    [0x00, 0x00, 0x04],
    [0x1c, 0x10, 0x44],
    [0x4f, 0x12, 0x7b],
    [0x81, 0x25, 0x81],
    [0xb5, 0x36, 0x7a],
    [0xe5, 0x50, 0x64],
    [0xfb, 0x87, 0x61],
    [0xfe, 0xc2, 0x87],
    [0xfc, 0xfd, 0xbf],
];

impl ColorMap {
    pub const ALL: [ColorMap; 3] = [ColorMap::Viridis, ColorMap::Inferno, ColorMap::Magma];

    pub fn name(self) -> &'static str {
        match self {
            ColorMap::Viridis => "viridis",
            ColorMap::Inferno => "inferno",
            ColorMap::Magma => "magma",
        }
    }

    fn control_points(self) -> &'static [[u8; 3]; 9] {
        match self {
            ColorMap::Viridis => &VIRIDIS,
            ColorMap::Inferno => &INFERNO,
            ColorMap::Magma => &MAGMA,
        }
    }

    /// sRGB colour at `t` in [0, 1] (clamped; NaN maps to 0).
    pub fn rgb(self, t: f32) -> [u8; 3] {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let table = self.control_points();
        let pos = t * (table.len() - 1) as f32;
        let i = (pos.floor() as usize).min(table.len() - 2);
        let f = pos - i as f32;
        let (a, b) = (table[i], table[i + 1]);
        let mix = |k: usize| (f32::from(a[k]) + f * (f32::from(b[k]) - f32::from(a[k]))).round() as u8;
        [mix(0), mix(1), mix(2)]
    }
}

/// Maps a membrane potential (mV) onto a colour map over an adjustable range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VoltageColors {
    pub map: ColorMap,
    pub min_mv: f32,
    pub max_mv: f32,
}

impl Default for VoltageColors {
    /// −85 to −25 mV: subthreshold activity around the rest (about −76 mV in the paper's settings)
    /// spans the map; spikes saturate at the top colour (adjustable in the View panel).
    fn default() -> Self {
        VoltageColors { map: ColorMap::Viridis, min_mv: -85.0, max_mv: -25.0 }
    }
}

impl VoltageColors {
    /// Fraction of the range at `v_mv`, clamped to [0, 1].
    pub fn fraction(&self, v_mv: f32) -> f32 {
        let span = self.max_mv - self.min_mv;
        if span.abs() < f32::EPSILON {
            return 0.5;
        }
        ((v_mv - self.min_mv) / span).clamp(0.0, 1.0)
    }

    pub fn rgb(&self, v_mv: f32) -> [u8; 3] {
        self.map.rgb(self.fraction(v_mv))
    }
}

/// Diverging blue–grey–red map for signed values: `t` in [−1, 1] (clamped), 0 a neutral grey;
/// negative blue (inhibition, opposing a spike), positive red (excitation, supporting it).
pub fn diverging_rgb(t: f32) -> [u8; 3] {
    let t = if t.is_finite() { t.clamp(-1.0, 1.0) } else { 0.0 };
    const MID: [f32; 3] = [0.80, 0.80, 0.80];
    const NEG: [f32; 3] = [0.13, 0.40, 0.95];
    const POS: [f32; 3] = [0.90, 0.15, 0.12];
    let (end, a) = if t < 0.0 { (NEG, -t) } else { (POS, t) };
    let mix = |i: usize| ((MID[i] + (end[i] - MID[i]) * a) * 255.0).round() as u8;
    [mix(0), mix(1), mix(2)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_map_is_signed_and_neutral_at_zero() {
        let [r0, g0, b0] = diverging_rgb(0.0);
        assert!(r0 == g0 && g0 == b0, "zero is grey");
        let [r, _, b] = diverging_rgb(1.0);
        assert!(r > 200 && b < 60, "positive is red");
        let [r, _, b] = diverging_rgb(-1.0);
        assert!(b > 200 && r < 60, "negative is blue");
        assert_eq!(diverging_rgb(5.0), diverging_rgb(1.0));
        assert_eq!(diverging_rgb(f32::NAN), diverging_rgb(0.0));
        // monotone: more positive is redder and less blue
        assert!(diverging_rgb(0.5)[2] > diverging_rgb(0.9)[2]);
    }

    /// Relative luminance (Rec. 709 weights on linearised sRGB).
    fn luminance(c: [u8; 3]) -> f32 {
        let lin = |u: u8| {
            let s = f32::from(u) / 255.0;
            if s <= 0.04045 { s / 12.92 } else { ((s + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
    }

    #[test]
    fn endpoints_match_the_tables() {
        assert_eq!(ColorMap::Viridis.rgb(0.0), [0x44, 0x01, 0x54]);
        assert_eq!(ColorMap::Viridis.rgb(1.0), [0xfd, 0xe7, 0x25]);
        assert_eq!(ColorMap::Inferno.rgb(1.0), [0xfc, 0xff, 0xa4]);
        assert_eq!(ColorMap::Viridis.rgb(-3.0), ColorMap::Viridis.rgb(0.0));
        assert_eq!(ColorMap::Viridis.rgb(f32::NAN), ColorMap::Viridis.rgb(0.0));
    }

    #[test]
    fn midpoints_interpolate_between_control_points() {
        let c = ColorMap::Viridis.rgb(0.0625);
        assert_eq!(c, [0x46, 0x17, 0x68]);
    }

    #[test]
    fn luminance_rises_monotonically() {
        for map in ColorMap::ALL {
            let mut last = -1.0;
            for i in 0..=100 {
                let l = luminance(map.rgb(i as f32 / 100.0));
                assert!(l >= last - 1e-3, "{} not monotonic at {i}: {l} < {last}", map.name());
                last = l;
            }
        }
    }

    #[test]
    fn voltage_range_maps_to_fraction() {
        let vc = VoltageColors { min_mv: -90.0, max_mv: 30.0, ..VoltageColors::default() };
        assert_eq!(vc.fraction(-90.0), 0.0);
        assert_eq!(vc.fraction(30.0), 1.0);
        assert!((vc.fraction(-30.0) - 0.5).abs() < 1e-6);
        assert_eq!(vc.fraction(100.0), 1.0);
        let flat = VoltageColors { min_mv: 1.0, max_mv: 1.0, ..vc };
        assert_eq!(flat.fraction(5.0), 0.5);
    }
}
