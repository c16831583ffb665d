//! The Hay et al. 2011 mechanism placement, biophysics variant 5b as used by Beniaguev et al.
//! 2021 (spec §2-§4): passive properties per region, channel densities per region, the apical Ih
//! exponential gradient, the Ca_LVAst hot zone, and CaDynamics_E2 per region.
//!
//! Works on any morphology: regions come from section kinds (custom SWC types are treated as
//! basal dendrites); the apical gradients use path distance from soma(0.5) and the longest
//! apical path of that morphology.

use crate::biophysics::cell::{CaDynamics, Cell, Channel, NodeMembrane};
use crate::morphology::{Cable, Discretisation, Morphology, SectionKind};

/// Model variants described by the golden files' `variant_flags`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hay2011Variant {
    /// All voltage-gated ḡ = 0 (leaving pas, and Ih if `keep_ih`).
    pub passive: bool,
    /// With `passive`: keep Ih at its normal density.
    pub keep_ih: bool,
}

/// Ih apical gradient (spec §3.3): ḡ(d) = 1e-4·(−0.8696 + 2.0870·exp(3.6161·min(d/maxLength, 0.65))).
pub fn ih_apical_gbar(dist_um: f64, max_length_um: f64) -> f64 {
    let dn = (dist_um / max_length_um).min(0.65);
    1e-4 * (-0.8696 + 2.0870 * (3.6161 * dn).exp())
}

/// Ca_LVAst apical step (spec §3.3): 0.141954·1.6 inside 685 < d < 885 µm (strict), 1 % outside.
pub fn ca_lva_apical_gbar(dist_um: f64) -> f64 {
    let base = 0.141954 * 1.6;
    if dist_um > 685.0 && dist_um < 885.0 {
        base
    } else {
        base * 0.01
    }
}

/// Largest path distance (µm) of the 1 end of a terminal apical section (Hay's "maxLength");
/// `None` if the morphology has no apical dendrite.
pub fn apical_max_length_um(morph: &Morphology, cable: &Cable) -> Option<f64> {
    let children = morph.children();
    morph
        .sections
        .iter()
        .enumerate()
        .filter(|(i, s)| s.kind == SectionKind::Apical && children[*i].is_empty())
        .map(|(i, _)| cable.nodes[cable.section_end_node[i]].dist_um)
        .fold(None, |acc: Option<f64>, d| Some(acc.map_or(d, |a| a.max(d))))
}

/// Regions of the recipe.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Region {
    Soma,
    Axon,
    Basal,
    Apical,
}

fn region(kind: SectionKind) -> Region {
    match kind {
        SectionKind::Soma => Region::Soma,
        SectionKind::Axon => Region::Axon,
        SectionKind::Apical => Region::Apical,
        SectionKind::Basal | SectionKind::Custom(_) => Region::Basal,
    }
}

/// Uniform part of the recipe for one region (spec §2, §3.2, §4.1).
fn region_membrane(region: Region) -> NodeMembrane {
    let mut m = NodeMembrane::empty();
    m.e_pas_mv = -90.0;
    let ca = |gamma: f64, decay_ms: f64| CaDynamics { gamma, decay_ms, depth_um: 0.1, min_cai_mm: 1e-4 };
    match region {
        Region::Soma => {
            m.cm_uf_per_cm2 = 1.0;
            m.g_pas_s_per_cm2 = 3e-5;
            m.set_gbar(Channel::Ih, 0.0001 * 0.75);
            m.set_gbar(Channel::NaTs2T, 0.998912);
            m.set_gbar(Channel::SKv31, 0.338029);
            m.set_gbar(Channel::SkE2, 0.09965);
            m.set_gbar(Channel::Im, 0.000008);
            m.set_gbar(Channel::CaHva, 0.000644);
            m.set_gbar(Channel::CaLvast, 0.000557);
            m.ca_dynamics = Some(ca(0.000509, 294.679571));
        }
        Region::Axon => {
            m.cm_uf_per_cm2 = 1.0;
            m.g_pas_s_per_cm2 = 3e-5;
            m.set_gbar(Channel::Ih, 0.0001 / 2.0);
            m.set_gbar(Channel::NaTaT, 3.89618);
            m.set_gbar(Channel::NapEt2, 0.005834);
            m.set_gbar(Channel::KTst, 0.077274);
            m.set_gbar(Channel::KPst, 0.188851);
            m.set_gbar(Channel::SKv31, 0.473799);
            m.set_gbar(Channel::SkE2, 0.000047);
            m.set_gbar(Channel::Im, 0.013322);
            m.set_gbar(Channel::CaHva, 0.000222);
            m.set_gbar(Channel::CaLvast, 0.000813);
            m.ca_dynamics = Some(ca(0.000525, 277.300774));
        }
        Region::Basal => {
            m.cm_uf_per_cm2 = 2.0;
            m.g_pas_s_per_cm2 = 6e-5;
            m.set_gbar(Channel::Ih, 0.0001 / 2.0);
        }
        Region::Apical => {
            m.cm_uf_per_cm2 = 2.0;
            m.g_pas_s_per_cm2 = 6e-5;
            m.set_gbar(Channel::NaTs2T, 0.021489);
            m.set_gbar(Channel::SKv31, 0.001808);
            m.set_gbar(Channel::SkE2, 0.000002);
            m.set_gbar(Channel::Im, 0.00099);
            m.set_gbar(Channel::CaHva, 0.000701);
            // Ih and Ca_LVAst: distance-dependent, set per node below
            m.set_gbar(Channel::Ih, 0.0);
            m.set_gbar(Channel::CaLvast, 0.0);
            m.ca_dynamics = Some(ca(0.000637, 35.725651));
        }
    }
    m
}

/// Place the Hay 2011 (biophys5b) mechanisms on a morphology discretised with `settings`.
pub fn build_cell(morph: &Morphology, settings: &Discretisation, variant: Hay2011Variant) -> Result<Cell, crate::morphology::cable::CableError> {
    let cable = Cable::new(morph, settings)?;
    let membrane = place(morph, &cable, variant);
    let recipe = format!(
        "hay2011-biophys5b{}",
        if variant.passive { if variant.keep_ih { "-passive-with-ih" } else { "-passive" } } else { "" }
    );
    Ok(Cell { morphology: morph.clone(), cable, membrane, recipe })
}

/// Per-node membranes for an existing discretisation.
pub fn place(morph: &Morphology, cable: &Cable, variant: Hay2011Variant) -> Vec<NodeMembrane> {
    let max_length_um = apical_max_length_um(morph, cable).unwrap_or(1.0);
    cable
        .nodes
        .iter()
        .map(|node| {
            let Some(segment) = node.segment else { return NodeMembrane::empty() };
            let section = &morph.sections[node.section];
            let reg = region(section.kind);
            let mut m = region_membrane(reg);
            if reg == Region::Apical {
                // Hay's distribution routine writes values at x = 0, every centre, then x = 1 into
                // the segment containing x: the last segment ends up with its section's
                // distance(1) value (spec §1.6).
                let nseg = cable.section_nseg[node.section];
                let dist = if segment + 1 == nseg { cable.nodes[cable.section_end_node[node.section]].dist_um } else { node.dist_um };
                m.set_gbar(Channel::Ih, ih_apical_gbar(dist, max_length_um));
                m.set_gbar(Channel::CaLvast, ca_lva_apical_gbar(dist));
            }
            if variant.passive {
                for ch in Channel::ALL {
                    if m.gbar(ch).is_some() && !(variant.keep_ih && ch == Channel::Ih) {
                        m.set_gbar(ch, 0.0);
                    }
                }
            }
            m
        })
        .collect()
}
