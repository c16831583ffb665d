//! Ray picking against the neuron's frusta on the CPU: a piece is hit when the ray passes within
//! the piece's radius (at the closest point along its axis) of the axis segment. The radius is
//! widened to the same minimum on-screen size the renderer uses, plus a few pixels of slack, so
//! whatever is visible can be clicked.

use super::camera::Ray;
use super::geometry::Piece;
use three_d::{InnerSpace, Vec3};

/// Where a ray met the neuron.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PickHit {
    pub piece: usize,
    pub section: usize,
    /// Position along the section (0..1).
    pub x: f32,
    /// Distance from the ray origin (µm).
    pub ray_distance_um: f32,
    /// The point on the section's axis.
    pub axis_point: Vec3,
}

/// Closest approach of a ray and a segment: (ray parameter s ≥ 0, segment parameter u in [0, 1]).
pub fn closest_ray_segment(ray: &Ray, p0: Vec3, p1: Vec3) -> (f32, f32) {
    let d = p1 - p0;
    let w = ray.origin - p0;
    let a = d.dot(d);
    let b = d.dot(ray.dir);
    let c = d.dot(w);
    let e = ray.dir.dot(w);
    // ray.dir is unit: |dir|² = 1.
    let denom = a - b * b;
    let mut u = if a < 1e-12 { 0.0 } else if denom.abs() < 1e-9 * a { 0.0 } else { ((c - b * e) / denom).clamp(0.0, 1.0) };
    let mut s = (b * u - e).max(0.0);
    // Re-project onto the segment for the clamped ray parameter.
    if a >= 1e-12 {
        u = ((ray.origin + ray.dir * s - p0).dot(d) / a).clamp(0.0, 1.0);
        s = ((p0 + d * u - ray.origin).dot(ray.dir)).max(0.0);
    }
    (s, u)
}

/// The nearest piece along `ray`. `min_radius_per_um_depth` is the minimum radius (µm) per µm of
/// distance from the eye (the renderer's minimum pixel radius divided by the focal length in pixels).
pub fn pick(pieces: &[Piece], ray: &Ray, min_radius_per_um_depth: f32) -> Option<PickHit> {
    let mut best: Option<PickHit> = None;
    for (i, piece) in pieces.iter().enumerate() {
        let (s, u) = closest_ray_segment(ray, piece.p0, piece.p1);
        let axis_point = piece.p0 + (piece.p1 - piece.p0) * u;
        let miss_um = (ray.origin + ray.dir * s - axis_point).magnitude();
        let radius_um = (piece.r0_um + u * (piece.r1_um - piece.r0_um)).max(min_radius_per_um_depth * s);
        if miss_um <= radius_um {
            // Distance to the surface, not the axis, so a thick trunk in front wins over its own axis.
            let along = (s - (radius_um * radius_um - miss_um * miss_um).max(0.0).sqrt()).max(0.0);
            if best.is_none_or(|b| along < b.ray_distance_um) {
                best = Some(PickHit {
                    piece: i,
                    section: piece.section,
                    x: piece.x0 + u * (piece.x1 - piece.x0),
                    ray_distance_um: along,
                    axis_point,
                });
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use three_d::vec3;

    fn piece(section: usize, p0: Vec3, p1: Vec3, r: f32) -> Piece {
        Piece { section, p0, p1, r0_um: r, r1_um: r, x0: 0.0, x1: 1.0 }
    }

    #[test]
    fn ray_hits_a_known_frustum_at_the_right_x() {
        // A dendrite along +x from 0 to 100 µm, radius 1 µm; the ray comes down -z through x = 25.
        let pieces = [piece(3, vec3(0.0, 0.0, 0.0), vec3(100.0, 0.0, 0.0), 1.0)];
        let ray = Ray { origin: vec3(25.0, 0.5, 50.0), dir: vec3(0.0, 0.0, -1.0) };
        let hit = pick(&pieces, &ray, 0.0).expect("hit");
        assert_eq!(hit.section, 3);
        assert!((hit.x - 0.25).abs() < 1e-5);
        // Surface at z = sqrt(1 - 0.25) above the axis.
        assert!((hit.ray_distance_um - (50.0 - 0.75f32.sqrt())).abs() < 1e-3);
    }

    #[test]
    fn misses_outside_the_radius_unless_widened() {
        let pieces = [piece(0, vec3(0.0, 0.0, 0.0), vec3(100.0, 0.0, 0.0), 1.0)];
        let ray = Ray { origin: vec3(50.0, 3.0, 100.0), dir: vec3(0.0, 0.0, -1.0) };
        assert!(pick(&pieces, &ray, 0.0).is_none());
        // 0.04 µm per µm depth at 100 µm away = 4 µm minimum radius.
        assert!(pick(&pieces, &ray, 0.04).is_some());
    }

    #[test]
    fn tapered_piece_and_nearest_wins() {
        let cone = Piece { section: 1, p0: vec3(0.0, 0.0, 0.0), p1: vec3(100.0, 0.0, 0.0), r0_um: 5.0, r1_um: 1.0, x0: 0.5, x1: 1.0 };
        let ray = Ray { origin: vec3(10.0, 4.0, 100.0), dir: vec3(0.0, 0.0, -1.0) };
        assert!(pick(&[cone], &ray, 0.0).is_some());
        let ray_far_end = Ray { origin: vec3(90.0, 4.0, 100.0), dir: vec3(0.0, 0.0, -1.0) };
        assert!(pick(&[cone], &ray_far_end, 0.0).is_none());
        let behind = piece(2, vec3(0.0, 0.0, -20.0), vec3(100.0, 0.0, -20.0), 5.0);
        let hit = pick(&[behind, cone], &ray, 0.0).expect("hit");
        assert_eq!(hit.section, 1);
        assert!((hit.x - (0.5 + 0.1 * 0.5)).abs() < 1e-5);
    }

    #[test]
    fn ray_pointing_away_does_not_hit() {
        let pieces = [piece(0, vec3(0.0, 0.0, 0.0), vec3(100.0, 0.0, 0.0), 1.0)];
        let ray = Ray { origin: vec3(50.0, 0.0, 100.0), dir: vec3(0.0, 0.0, 1.0) };
        assert!(pick(&pieces, &ray, 0.0).is_none());
    }
}
