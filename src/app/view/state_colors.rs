//! "Colour by state": what the 3-D view colours the cell by (membrane potential, a state
//! quantity of the engine, or the section kind), and the scale of each state quantity (its
//! range, linear or logarithmic, in the quantity's own units) for the colour map and colour bar.
//! The values themselves come from the engine (`biophysics::mechanisms::NodeQuantity`, published
//! in the runner's snapshot).

use crate::biophysics::mechanisms::NodeQuantity;
use crate::biophysics::Channel;

/// What the cell is coloured by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ColorBy {
    #[default]
    Voltage,
    State(NodeQuantity),
    SectionKind,
}

impl ColorBy {
    /// Names for `--color-by`: voltage, calcium, nmda, ampa, ih, ica, kind, or
    /// gate:CHANNEL:m|h with NEURON's channel name (e.g. gate:Ca_HVA:m).
    pub fn from_cli_name(name: &str) -> Result<ColorBy, String> {
        Ok(match name {
            "voltage" => ColorBy::Voltage,
            "calcium" => ColorBy::State(NodeQuantity::CaiMm),
            "nmda" => ColorBy::State(NodeQuantity::NmdaGNs),
            "ampa" => ColorBy::State(NodeQuantity::AmpaGNs),
            "ih" => ColorBy::State(NodeQuantity::IhInwardUaPerCm2),
            "ica" => ColorBy::State(NodeQuantity::ICaInwardUaPerCm2),
            "kind" => ColorBy::SectionKind,
            other => {
                let bad = || format!("unknown --color-by {other:?}; choose voltage, calcium, nmda, ampa, ih, ica, kind or gate:CHANNEL:m|h (e.g. gate:Ca_HVA:m)");
                let mut parts = other.split(':');
                let (Some("gate"), Some(channel), Some(gate), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
                gate_choices()
                    .into_iter()
                    .find(|q| matches!(q, NodeQuantity::Gate { channel: c, h } if c.neuron_name() == channel && (if *h { "h" } else { "m" }) == gate))
                    .map(ColorBy::State)
                    .ok_or_else(bad)?
            }
        })
    }
}

/// The state quantities offered in the View panel, in menu order (the gates follow).
pub const STATES: [NodeQuantity; 5] = [
    NodeQuantity::CaiMm,
    NodeQuantity::NmdaGNs,
    NodeQuantity::AmpaGNs,
    NodeQuantity::IhInwardUaPerCm2,
    NodeQuantity::ICaInwardUaPerCm2,
];

/// Range of a state quantity on the colour map, in its units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StateScale {
    pub min: f32,
    pub max: f32,
    /// Logarithmic (then `min` > 0).
    pub log: bool,
}

impl StateScale {
    /// The default range of `q`, chosen from what the Hay cell does in the demos at the paper's
    /// 6.3 °C (README, "For the lecture hall"): calcium from its initial 5e-5 mM up to the
    /// ~2e-3 mM of the hot zone after BAC firing (log; the apical trunk rests near 4e-4),
    /// conductances of a few co-active synapses, inward Ih up to the ~2 µA/cm² of the distal
    /// tuft at rest (tested), a guess for the Ca current of the hot zone during a Ca spike (the
    /// View panel's "Fit to the present values" adjusts any of them).
    pub fn default_for(q: NodeQuantity) -> StateScale {
        match q {
            NodeQuantity::CaiMm => StateScale { min: 5e-5, max: 3e-3, log: true },
            NodeQuantity::NmdaGNs | NodeQuantity::AmpaGNs => StateScale { min: 0.0, max: 0.5, log: false },
            NodeQuantity::IhInwardUaPerCm2 => StateScale { min: 0.0, max: 3.0, log: false },
            NodeQuantity::ICaInwardUaPerCm2 => StateScale { min: 0.0, max: 100.0, log: false },
            NodeQuantity::Gate { .. } => StateScale { min: 0.0, max: 1.0, log: false },
        }
    }

    /// Fraction of the range at `value`, clamped to [0, 1]; NaN stays NaN (no value).
    pub fn fraction(&self, value: f32) -> f32 {
        if value.is_nan() {
            return f32::NAN;
        }
        let (lo, hi, x) = if self.log {
            if !(self.min > 0.0 && self.max > 0.0) {
                return f32::NAN;
            }
            (self.min.log10(), self.max.log10(), value.max(f32::MIN_POSITIVE).log10())
        } else {
            (self.min, self.max, value)
        };
        let span = hi - lo;
        if span.abs() < f32::EPSILON || !span.is_finite() {
            return 0.5;
        }
        ((x - lo) / span).clamp(0.0, 1.0)
    }

    /// Values for the ticks of the colour bar: decades on a log scale, a round step otherwise.
    pub fn ticks(&self) -> Vec<f32> {
        if self.log {
            if !(self.min > 0.0 && self.max > self.min) {
                return vec![];
            }
            let (a, b) = (self.min.log10().ceil() as i32, self.max.log10().floor() as i32);
            (a..=b).map(|e| 10f32.powi(e)).collect()
        } else {
            let step = nice_step((self.max - self.min).abs() / 4.0);
            if step <= 0.0 {
                return vec![];
            }
            let mut v = (self.min / step).ceil() * step;
            let mut out = vec![];
            while v <= self.max + 1e-6 * step && out.len() < 20 {
                out.push(v);
                v += step;
            }
            out
        }
    }
}

/// A tick label: decades as 1e-3, linear values with as many decimals as the step needs.
pub fn tick_label(v: f32, scale: &StateScale) -> String {
    if scale.log {
        format!("1e{}", v.log10().round() as i32)
    } else if (scale.max - scale.min).abs() >= 4.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The gates offered in the menu: every voltage gate of the engine (Ih m, NaTs2_t m and h, …).
pub fn gate_choices() -> Vec<NodeQuantity> {
    NodeQuantity::gates()
}

/// The gate the menu proposes first: Ca_HVA's m (the calcium spike of the hot zone).
pub const DEFAULT_GATE: NodeQuantity = NodeQuantity::Gate { channel: Channel::CaHva, h: false };


/// 1, 2, 2.5, 3 or 5 times a power of ten, at least `raw`.
pub fn nice_step(raw: f32) -> f32 {
    if !(raw > 0.0) || !raw.is_finite() {
        return 0.0;
    }
    let p = 10f32.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 3.0, 5.0, 10.0].iter().map(|m| m * p).find(|s| *s >= raw * 0.999).unwrap_or(10.0 * p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_scale_maps_decades_evenly() {
        let s = StateScale { min: 1e-4, max: 1e-2, log: true };
        assert!((s.fraction(1e-3) - 0.5).abs() < 1e-5);
        assert_eq!(s.fraction(1e-6), 0.0);
        assert_eq!(s.fraction(1.0), 1.0);
        assert!(s.fraction(f32::NAN).is_nan());
        let t = s.ticks();
        assert_eq!(t.len(), 3);
        assert!((t[1] - 1e-3).abs() < 1e-9);
        assert_eq!(tick_label(t[0], &s), "1e-4");
    }

    /// The default ranges use the colour map on the built-in cell: at rest the largest inward
    /// Ih (distal apical tuft) lies in the upper half of its range, calcium at rest in the lower
    /// half of its log range.
    #[test]
    fn default_ranges_fit_the_cell_at_rest() {
        use crate::biophysics::recipe::hay2011::{build_cell, Hay2011Variant};
        use crate::biophysics::{Simulation, Stimulus};
        let morph = crate::morphology::synthesize_l5pc(4).expect("synth").morphology;
        let cell = build_cell(&morph, &crate::morphology::Discretisation::default(), Hay2011Variant::default()).expect("cell");
        let settings = crate::app::live::engine_model::PAPER_SETTINGS;
        let mut sim = Simulation::new(&cell, settings, &Stimulus::default()).expect("sim");
        for _ in 0..4000 {
            sim.step().expect("step");
        }
        let max_of = |q: NodeQuantity| {
            let mut out = vec![];
            sim.node_quantity(q, &mut out);
            out.iter().copied().filter(|v| v.is_finite()).fold(f64::MIN, f64::max) as f32
        };
        let ih = max_of(NodeQuantity::IhInwardUaPerCm2);
        let f = StateScale::default_for(NodeQuantity::IhInwardUaPerCm2).fraction(ih);
        assert!((0.5..1.0).contains(&f), "largest inward Ih at rest {ih} µA/cm² sits at {f} of the default range");
        let cai = max_of(NodeQuantity::CaiMm);
        let f = StateScale::default_for(NodeQuantity::CaiMm).fraction(cai);
        assert!((0.0..0.6).contains(&f), "calcium at rest up to {cai} mM sits at {f} of the default range");
    }

    #[test]
    fn cli_names() {
        assert_eq!(ColorBy::from_cli_name("calcium"), Ok(ColorBy::State(NodeQuantity::CaiMm)));
        assert_eq!(ColorBy::from_cli_name("gate:Ca_HVA:m"), Ok(ColorBy::State(DEFAULT_GATE)));
        assert_eq!(ColorBy::from_cli_name("gate:Ih:m"), Ok(ColorBy::State(NodeQuantity::Gate { channel: Channel::Ih, h: false })));
        assert!(ColorBy::from_cli_name("gate:Ih:h").is_err(), "Ih has no h gate");
        assert!(ColorBy::from_cli_name("glutamate").is_err());
    }

    #[test]
    fn linear_scale_and_ticks() {
        let s = StateScale { min: 0.0, max: 1.0, log: false };
        assert_eq!(s.fraction(0.25), 0.25);
        assert_eq!(s.fraction(-3.0), 0.0);
        let t = s.ticks();
        assert_eq!(t.first().copied(), Some(0.0));
        assert!((t.last().copied().unwrap_or(0.0) - 1.0).abs() < 1e-6, "{t:?}");
        let bad = StateScale { min: 0.0, max: 1.0, log: true };
        assert!(bad.fraction(0.5).is_nan(), "a log scale needs a positive minimum");
        for q in STATES.iter().copied().chain(gate_choices()) {
            let d = StateScale::default_for(q);
            assert!(d.max > d.min && (!d.log || d.min > 0.0), "{q:?}");
        }
    }
}
