//! CPU geometry of a neuron for the 3-D view, built once per morphology: one merged tube mesh
//! (a ring of vertices at every 3-D point, so consecutive frusta of a section share rings and
//! never gap) plus a low-poly sphere at each section end (closing branch points and tips).
//!
//! Vertices are stored as (axis centre, unit normal, radius) rather than positions: the vertex
//! shader places each at `centre + normal · max(radius, minimum on-screen radius)`, so a minimum
//! pixel width costs no geometry rebuild. Each vertex also records the Cable node whose voltage
//! colours it.

use crate::morphology::{Cable, Morphology, SectionKind};
use three_d::{vec3, InnerSpace, Vec3};

/// Sides of each tube ring.
const RING_SIDES: usize = 8;
/// Latitude × longitude bands of the joint spheres.
const SPHERE_BANDS: (usize, usize) = (4, 8);

/// One frustum: a straight piece between two consecutive 3-D points of a section.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    pub section: usize,
    pub p0: Vec3,
    pub p1: Vec3,
    pub r0_um: f32,
    pub r1_um: f32,
    /// Section-relative positions (0..1, by arc length) of the two ends.
    pub x0: f32,
    pub x1: f32,
}

/// Vertex data in the layout the shader takes (see the module docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeshData {
    pub centers: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    pub radii_um: Vec<f32>,
    pub indices: Vec<u32>,
}

impl MeshData {
    pub fn vertex_count(&self) -> usize {
        self.centers.len()
    }

    fn push(&mut self, center: Vec3, normal: Vec3, radius_um: f32) {
        self.centers.push([center.x, center.y, center.z]);
        self.normals.push([normal.x, normal.y, normal.z]);
        self.radii_um.push(radius_um);
    }

    /// Append a UV sphere.
    pub fn push_sphere(&mut self, center: Vec3, radius_um: f32) {
        let (lat, lon) = SPHERE_BANDS;
        let base = self.centers.len() as u32;
        for i in 0..=lat {
            let theta = std::f32::consts::PI * i as f32 / lat as f32;
            for j in 0..lon {
                let phi = std::f32::consts::TAU * j as f32 / lon as f32;
                let n = vec3(theta.sin() * phi.cos(), theta.cos(), theta.sin() * phi.sin());
                self.push(center, n, radius_um);
            }
        }
        for i in 0..lat as u32 {
            for j in 0..lon as u32 {
                let a = base + i * lon as u32 + j;
                let b = base + i * lon as u32 + (j + 1) % lon as u32;
                let (c, d) = (a + lon as u32, b + lon as u32);
                self.indices.extend_from_slice(&[a, c, b, b, c, d]);
            }
        }
    }

    pub fn sphere_vertex_count() -> usize {
        (SPHERE_BANDS.0 + 1) * SPHERE_BANDS.1
    }
}

/// Everything the 3-D view needs about one morphology.
#[derive(Debug, Clone)]
pub struct NeuronGeometry {
    /// Identifies this geometry to the GPU cache (a new one per morphology opened).
    pub id: u64,
    pub pieces: Vec<Piece>,
    pub mesh: std::sync::Arc<MeshData>,
    /// Cable node whose voltage colours each vertex.
    pub vertex_node: Vec<u32>,
    /// Colour of each vertex when not showing voltage (by section kind).
    pub vertex_kind_rgb: Vec<[u8; 3]>,
    pub bounds_min: Vec3,
    pub bounds_max: Vec3,
}

/// Colours for section kinds when the view is idle (blue/orange are told apart by colour-blind
/// viewers; neither is the cyan/magenta reserved for traces).
pub fn kind_rgb(kind: SectionKind) -> [u8; 3] {
    match kind {
        SectionKind::Soma => [235, 235, 235],
        SectionKind::Axon => [140, 140, 150],
        SectionKind::Basal => [80, 150, 235],
        SectionKind::Apical => [240, 160, 60],
        SectionKind::Custom(_) => [170, 200, 120],
    }
}

fn v3(p: &crate::morphology::Point3) -> Vec3 {
    vec3(p.x_um as f32, p.y_um as f32, p.z_um as f32)
}

/// A unit vector perpendicular to `d` (unit).
fn any_perpendicular(d: Vec3) -> Vec3 {
    let helper = if d.x.abs() < 0.9 { vec3(1.0, 0.0, 0.0) } else { vec3(0.0, 1.0, 0.0) };
    d.cross(helper).normalize()
}

impl NeuronGeometry {
    pub fn build(morph: &Morphology, cable: &Cable, id: u64) -> NeuronGeometry {
        let mut g = NeuronGeometry {
            id,
            pieces: Vec::new(),
            mesh: std::sync::Arc::default(),
            vertex_node: Vec::new(),
            vertex_kind_rgb: Vec::new(),
            bounds_min: vec3(-1.0, -1.0, -1.0),
            bounds_max: vec3(1.0, 1.0, 1.0),
        };
        let mut mesh = MeshData::default();
        let mut lo = vec3(f32::MAX, f32::MAX, f32::MAX);
        let mut hi = vec3(f32::MIN, f32::MIN, f32::MIN);
        for (si, section) in morph.sections.iter().enumerate() {
            // Drop repeated points: they make zero-length pieces with no direction.
            let mut pts: Vec<(Vec3, f32, f64)> = Vec::with_capacity(section.points.len());
            let mut arc_um = 0.0;
            for (k, p) in section.points.iter().enumerate() {
                if k > 0 {
                    arc_um += section.points[k - 1].distance_um(p);
                }
                let pos = v3(p);
                if pts.last().is_some_and(|(q, _, _)| (pos - *q).magnitude() < 1e-4) {
                    continue;
                }
                pts.push((pos, (0.5 * p.diam_um) as f32, arc_um));
                lo = vec3(lo.x.min(pos.x), lo.y.min(pos.y), lo.z.min(pos.z));
                hi = vec3(hi.x.max(pos.x), hi.y.max(pos.y), hi.z.max(pos.z));
            }
            if pts.len() < 2 || si >= cable.section_nseg.len() {
                continue;
            }
            let total_um = arc_um.max(1e-9);
            let x_of = |arc: f64| (arc / total_um) as f32;
            let node_at = |x: f32| cable.segment_node(si, f64::from(x)) as u32;
            let rgb = kind_rgb(section.kind);

            for w in pts.windows(2) {
                g.pieces.push(Piece {
                    section: si,
                    p0: w[0].0,
                    p1: w[1].0,
                    r0_um: w[0].1,
                    r1_um: w[1].1,
                    x0: x_of(w[0].2),
                    x1: x_of(w[1].2),
                });
            }

            // Tube: one ring per point, in the plane bisecting the adjacent pieces, with the ring's
            // reference direction carried along (parallel transport) so the tube does not twist.
            let dirs: Vec<Vec3> = pts.windows(2).map(|w| (w[1].0 - w[0].0).normalize()).collect();
            let mut u = any_perpendicular(dirs[0]);
            let base = mesh.vertex_count() as u32;
            for (k, &(pos, r, arc)) in pts.iter().enumerate() {
                let d_in = dirs[k.saturating_sub(1)];
                let d_out = dirs[k.min(dirs.len() - 1)];
                let mut axis = d_in + d_out;
                if axis.magnitude2() < 1e-8 {
                    axis = d_out;
                }
                let axis = axis.normalize();
                u = (u - axis * u.dot(axis)).normalize();
                if !u.x.is_finite() {
                    u = any_perpendicular(axis);
                }
                let v = axis.cross(u);
                let node = node_at(x_of(arc));
                for s in 0..RING_SIDES {
                    let a = std::f32::consts::TAU * s as f32 / RING_SIDES as f32;
                    mesh.push(pos, u * a.cos() + v * a.sin(), r);
                    g.vertex_node.push(node);
                    g.vertex_kind_rgb.push(rgb);
                }
            }
            let sides = RING_SIDES as u32;
            for k in 0..(pts.len() - 1) as u32 {
                for s in 0..sides {
                    let a = base + k * sides + s;
                    let b = base + k * sides + (s + 1) % sides;
                    let (c, d) = (a + sides, b + sides);
                    mesh.indices.extend_from_slice(&[a, b, c, b, d, c]);
                }
            }
            // Spheres at both ends close tips and fill branch points.
            for &(pos, r, arc) in [pts[0], pts[pts.len() - 1]].iter() {
                mesh.push_sphere(pos, r);
                let node = node_at(x_of(arc));
                for _ in 0..MeshData::sphere_vertex_count() {
                    g.vertex_node.push(node);
                    g.vertex_kind_rgb.push(rgb);
                }
            }
        }
        if g.pieces.is_empty() {
            lo = vec3(-1.0, -1.0, -1.0);
            hi = vec3(1.0, 1.0, 1.0);
        }
        g.mesh = std::sync::Arc::new(mesh);
        g.bounds_min = lo;
        g.bounds_max = hi;
        g
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::morphology::{Discretisation, NsegRule, Point3, Section};

    /// A soma and one straight dendrite along +y from (0, 10, 0) to (0, 110, 0), diameter 2 µm.
    pub(crate) fn toy_cell() -> (Morphology, Cable) {
        let soma = Section {
            name: "soma[0]".into(),
            kind: SectionKind::Soma,
            parent: None,
            parent_x: 0.0,
            points: vec![Point3::new(0.0, -10.0, 0.0, 20.0), Point3::new(0.0, 10.0, 0.0, 20.0)],
        };
        let dend = Section {
            name: "dend[0]".into(),
            kind: SectionKind::Basal,
            parent: Some(0),
            parent_x: 1.0,
            points: vec![Point3::new(0.0, 10.0, 0.0, 2.0), Point3::new(0.0, 60.0, 0.0, 2.0), Point3::new(0.0, 110.0, 0.0, 2.0)],
        };
        let morph = Morphology { sections: vec![soma, dend], source: "toy".into() };
        let cable = Cable::new(&morph, &Discretisation { nseg_rule: NsegRule::Fixed(5), ra_ohm_cm: 100.0 }).expect("toy cable");
        (morph, cable)
    }

    #[test]
    fn mesh_has_rings_spheres_and_valid_indices() {
        let (morph, cable) = toy_cell();
        let g = NeuronGeometry::build(&morph, &cable, 1);
        assert_eq!(g.pieces.len(), 3);
        let expected = (2 + 3) * RING_SIDES + 4 * MeshData::sphere_vertex_count();
        assert_eq!(g.mesh.vertex_count(), expected);
        assert_eq!(g.vertex_node.len(), expected);
        assert!(g.mesh.indices.iter().all(|&i| (i as usize) < expected));
        assert_eq!(g.mesh.indices.len() % 3, 0);
        assert!((g.bounds_max.y - 110.0).abs() < 1e-4 && (g.bounds_min.y + 10.0).abs() < 1e-4);
        // Normals are unit and perpendicular to the dendrite's axis on its middle ring.
        let mid = 2 * RING_SIDES + 2 * MeshData::sphere_vertex_count() + RING_SIDES;
        let n = g.mesh.normals[mid];
        assert!((vec3(n[0], n[1], n[2]).magnitude() - 1.0).abs() < 1e-5 && n[1].abs() < 1e-5);
        // The middle ring (x = 0.5) is coloured by the dendrite's middle segment.
        assert_eq!(g.vertex_node[mid] as usize, cable.segment_node(1, 0.5));
    }
}
