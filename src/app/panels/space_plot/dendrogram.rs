//! The dendrogram of the whole tree: every section a vertical line from its start to its end
//! (path distance from the soma; apical up, basal and axon down), its tips spread evenly along
//! the horizontal axis in the tree's depth-first order, each parent centred over its children,
//! coloured segment by segment like the 3-D view.

use crate::morphology::{Cable, Morphology, SectionKind};

/// Where each section is drawn: horizontal position (0..1) and its signed direction (+1 up for
/// apical, −1 down for the rest).
#[derive(Debug, Clone, PartialEq)]
pub struct DendrogramLayout {
    /// Per section: x in [0, 1].
    pub x: Vec<f32>,
    /// Per section: +1 (drawn upwards) or −1 (downwards); 0 for the soma.
    pub direction: Vec<f32>,
    /// Largest path distance upwards and downwards (µm), for the scale.
    pub max_up_um: f64,
    pub max_down_um: f64,
}

impl DendrogramLayout {
    pub fn new(morph: &Morphology, cable: &Cable) -> DendrogramLayout {
        let n = morph.sections.len();
        let children = morph.children();
        let mut x = vec![0.0f32; n];
        let mut direction = vec![0.0f32; n];
        for (i, s) in morph.sections.iter().enumerate() {
            direction[i] = match s.kind {
                SectionKind::Soma => 0.0,
                SectionKind::Apical => 1.0,
                _ => -1.0,
            };
        }
        // tips in depth-first order, apical trees and the rest laid out separately (each side
        // uses the full width)
        for side in [1.0f32, -1.0] {
            let mut order = vec![];
            let roots: Vec<usize> = (0..n).filter(|&i| direction[i] == side && morph.sections[i].parent.is_none_or(|p| direction[p] != side)).collect();
            let mut stack: Vec<usize> = roots.iter().rev().copied().collect();
            while let Some(s) = stack.pop() {
                order.push(s);
                stack.extend(children[s].iter().rev());
            }
            let tips: Vec<usize> = order.iter().copied().filter(|&s| children[s].is_empty()).collect();
            let slots = tips.len().max(1) as f32;
            for (k, &t) in tips.iter().enumerate() {
                x[t] = (k as f32 + 0.5) / slots;
            }
            // parents after children: the depth-first order reversed
            for &s in order.iter().rev() {
                if !children[s].is_empty() {
                    let xs: Vec<f32> = children[s].iter().map(|&c| x[c]).collect();
                    x[s] = 0.5 * (xs.iter().copied().fold(f32::MAX, f32::min) + xs.iter().copied().fold(f32::MIN, f32::max));
                }
            }
        }
        x[0] = 0.5;
        let end = |i: usize| cable.section_dist0_um.get(i).copied().unwrap_or(0.0) + cable.section_length_um.get(i).copied().unwrap_or(0.0);
        let max_up_um = (0..n).filter(|&i| direction[i] > 0.0).map(end).fold(1.0, f64::max);
        let max_down_um = (0..n).filter(|&i| direction[i] < 0.0).map(end).fold(1.0, f64::max);
        DendrogramLayout { x, direction, max_up_um, max_down_um }
    }
}
