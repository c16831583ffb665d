//! Soma outline → one NEURON soma section, by the method NEURON's Import3d uses for a closed
//! soma contour (spec §1.2): a section of 21 points along the outline's principal axis, each
//! point's diameter the width of the outline across the axis at that station.
//!
//! The steps (our implementation of the published method, checked against the 21 points of
//! `l5pc-geometry.json`, which it reproduces to float32 rounding for cell1.asc):
//! 1. resample the outline to 101 points equally spaced in x-y arc length along the open
//!    polyline from its first to its last point (Import3d does not walk the closing edge);
//! 2. centre = mean of those samples; principal axis = eigenvector of their 3×3 scatter matrix
//!    with the largest eigenvalue; the width direction = the middle eigenvector projected onto
//!    the x-y plane (outlines are traced in a focal plane);
//! 3. split the samples at their extreme axial positions into two sides and keep, on each side,
//!    only the samples whose axial position increases monotonically towards the far end (this
//!    drops re-entrant wiggles);
//! 4. place 21 equally spaced stations between the second-smallest and the second-largest
//!    axial position of the kept samples; at each, interpolate the transverse position of both
//!    sides; the diameter is their distance;
//! 5. the two end stations would have almost no width, so each takes the mean of itself and its
//!    neighbour.
//!
//! Sign convention: an eigenvector's sign is arbitrary; we orient the axis so that its
//! largest-magnitude component is positive (for cell1.asc this runs along +x, as in NEURON).

use super::types::Point3;

/// Points in the soma section made from an outline.
pub const SOMA_STATIONS: usize = 21;
/// Points the outline is resampled to before fitting.
const RESAMPLED_POINTS: usize = 101;

/// Why an outline cannot be turned into a soma section.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SomaOutlineError {
    #[error("the outline has {0} points; at least 3 are needed")]
    TooFewPoints(usize),
    #[error("the outline has no extent in the x-y plane (its points coincide or lie on a line)")]
    Degenerate,
}

type Vec3 = [f64; 3];

fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Resample the open polyline `outline[0] → outline[n-1]` at equal x-y arc-length steps.
fn resample(outline: &[Vec3]) -> Option<Vec<Vec3>> {
    let mut cum = Vec::with_capacity(outline.len());
    cum.push(0.0);
    for w in outline.windows(2) {
        let step = (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]);
        cum.push(cum[cum.len() - 1] + step);
    }
    let total = *cum.last()?;
    if total.is_nan() || total <= 0.0 {
        return None;
    }
    let last = outline.len() - 1;
    let mut k = 0;
    let mut samples = Vec::with_capacity(RESAMPLED_POINTS);
    for i in 0..RESAMPLED_POINTS {
        let t = total * i as f64 / (RESAMPLED_POINTS - 1) as f64;
        while k + 1 < last && cum[k + 1] <= t {
            k += 1;
        }
        let len = cum[k + 1] - cum[k];
        let f = if len > 0.0 { ((t - cum[k]) / len).clamp(0.0, 1.0) } else { 0.0 };
        let (a, b) = (outline[k], outline[k + 1]);
        samples.push([a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])]);
    }
    Some(samples)
}

/// Eigen-decomposition of a symmetric 3×3 matrix by cyclic Jacobi rotations. Returns the
/// eigenvalues and the eigenvectors as the columns of the second matrix.
pub(crate) fn symmetric_eigen(mut a: [[f64; 3]; 3]) -> (Vec3, [[f64; 3]; 3]) {
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    // Jacobi converges quadratically; 50 sweeps is far more than a 3×3 ever needs
    for _ in 0..50 {
        let off = a[0][1].abs() + a[0][2].abs() + a[1][2].abs();
        let scale = a[0][0].abs() + a[1][1].abs() + a[2][2].abs();
        if off <= 1e-300 || off <= 1e-18 * scale {
            break;
        }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if a[p][q] == 0.0 {
                continue;
            }
            // rotation angle that zeroes a[p][q] (the smaller of the two roots, for stability)
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            for row in a.iter_mut() {
                let (kp, kq) = (row[p], row[q]);
                row[p] = c * kp - s * kq;
                row[q] = s * kp + c * kq;
            }
            let (row_p, row_q) = (a[p], a[q]);
            a[p] = std::array::from_fn(|k| c * row_p[k] - s * row_q[k]);
            a[q] = std::array::from_fn(|k| s * row_p[k] + c * row_q[k]);
            for row in v.iter_mut() {
                let (kp, kq) = (row[p], row[q]);
                row[p] = c * kp - s * kq;
                row[q] = s * kp + c * kq;
            }
        }
    }
    ([a[0][0], a[1][1], a[2][2]], v)
}

fn column(m: &[[f64; 3]; 3], j: usize) -> Vec3 {
    [m[0][j], m[1][j], m[2][j]]
}

/// Linear interpolation in a strictly increasing, non-empty table, clamped to its end values.
fn interp(x: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len();
    if n < 2 || x.is_nan() || x <= xs[0] {
        return ys[0];
    }
    if x >= xs[n - 1] {
        return ys[n - 1];
    }
    let j = xs.partition_point(|&v| v <= x).saturating_sub(1).min(n - 2);
    let f = (x - xs[j]) / (xs[j + 1] - xs[j]);
    ys[j] + f * (ys[j + 1] - ys[j])
}

/// Keep the samples whose axial position, read from the far end back, strictly decreases, so
/// that the side is a function of axial position. Returns (axial, transverse) tables.
fn monotone_side(side: &[(f64, f64)]) -> (Vec<f64>, Vec<f64>) {
    let mut kept: Vec<(f64, f64)> = Vec::with_capacity(side.len());
    for &(a, b) in side.iter().rev() {
        if kept.last().is_none_or(|&(last, _)| a < last) {
            kept.push((a, b));
        }
    }
    kept.reverse();
    kept.into_iter().unzip()
}

/// Convert a soma outline (points in µm, in drawing order; the outline is implicitly closed)
/// into the 21 points of NEURON's soma section, coordinates and diameters rounded to float32 as
/// NEURON stores them.
pub fn outline_to_soma_points(outline: &[Vec3]) -> Result<Vec<Point3>, SomaOutlineError> {
    if outline.len() < 3 {
        return Err(SomaOutlineError::TooFewPoints(outline.len()));
    }
    let samples = resample(outline).ok_or(SomaOutlineError::Degenerate)?;
    let n = samples.len() as f64;
    let mut centre = [0.0; 3];
    for s in &samples {
        for c in 0..3 {
            centre[c] += s[c] / n;
        }
    }
    let rel: Vec<Vec3> = samples.iter().map(|s| [s[0] - centre[0], s[1] - centre[1], s[2] - centre[2]]).collect();
    let mut scatter = [[0.0; 3]; 3];
    for r in &rel {
        for i in 0..3 {
            for j in 0..3 {
                scatter[i][j] += r[i] * r[j];
            }
        }
    }
    let (values, vectors) = symmetric_eigen(scatter);
    let mut order = [0usize, 1, 2];
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    let mut major = column(&vectors, order[2]);
    let biggest = major.iter().copied().fold(0.0f64, |m, c| if c.abs() > m.abs() { c } else { m });
    if biggest < 0.0 {
        major = major.map(|c| -c);
    }
    let middle = column(&vectors, order[1]);
    let mut minor = [middle[0], middle[1], 0.0];
    if minor[0].hypot(minor[1]) < 1e-9 {
        minor = [-major[1], major[0], 0.0];
    }
    let norm = minor[0].hypot(minor[1]);
    if norm < 1e-9 {
        return Err(SomaOutlineError::Degenerate);
    }
    minor = minor.map(|c| c / norm);

    let proj: Vec<(f64, f64)> = rel.iter().map(|r| (dot(*r, major), dot(*r, minor))).collect();
    let first_extreme = |better: &dyn Fn(f64, f64) -> bool, seq: &[(f64, f64)]| {
        (0..seq.len()).fold(0, |best, i| if better(seq[i].0, seq[best].0) { i } else { best })
    };
    let imax = first_extreme(&|a, b| a > b, &proj);
    let rotated: Vec<(f64, f64)> = proj[imax..].iter().chain(&proj[..imax]).copied().collect();
    let imin = first_extreme(&|a, b| a < b, &rotated);
    if imin == 0 {
        return Err(SomaOutlineError::Degenerate);
    }
    let side_a: Vec<(f64, f64)> = rotated[..imin].iter().rev().copied().collect();
    let (a_ax, a_tr) = monotone_side(&side_a);
    let (b_ax, b_tr) = monotone_side(&rotated[imin..]);
    let mut all: Vec<f64> = a_ax.iter().chain(&b_ax).copied().collect();
    all.sort_by(f64::total_cmp);
    if all.len() < 4 {
        return Err(SomaOutlineError::Degenerate);
    }
    let (lo, hi) = (all[1], all[all.len() - 2]);
    if hi.is_nan() || lo.is_nan() || hi <= lo {
        return Err(SomaOutlineError::Degenerate);
    }
    let stations: Vec<f64> =
        (0..SOMA_STATIONS).map(|i| lo + (hi - lo) * i as f64 / (SOMA_STATIONS - 1) as f64).collect();
    let mut diams: Vec<f64> =
        stations.iter().map(|&s| (interp(s, &a_ax, &a_tr) - interp(s, &b_ax, &b_tr)).abs()).collect();
    let last = SOMA_STATIONS - 1;
    diams[0] = 0.5 * (diams[0] + diams[1]);
    diams[last] = 0.5 * (diams[last] + diams[last - 1]);
    if !diams.iter().all(|&d| d > 0.0 && d.is_finite()) {
        return Err(SomaOutlineError::Degenerate);
    }
    // NEURON keeps 3-D points in float32 (spec §1.2)
    let f32_round = |v: f64| (v as f32) as f64;
    Ok(stations
        .iter()
        .zip(&diams)
        .map(|(&s, &d)| {
            Point3::new(
                f32_round(centre[0] + s * major[0]),
                f32_round(centre[1] + s * major[1]),
                f32_round(centre[2] + s * major[2]),
                f32_round(d),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_gives_eigenpairs() {
        let m = [[4.0, 1.0, 0.5], [1.0, 3.0, -0.2], [0.5, -0.2, 1.0]];
        let (vals, vecs) = symmetric_eigen(m);
        for (j, &val) in vals.iter().enumerate() {
            let v = column(&vecs, j);
            for (row, vi) in m.iter().zip(v) {
                assert!((dot(*row, v) - val * vi).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn ellipse_outline_gives_its_axes() {
        // ellipse with semi-axes 10 (along x) and 4 (along y), traced with 40 points
        let outline: Vec<Vec3> = (0..40)
            .map(|k| {
                let t = std::f64::consts::TAU * k as f64 / 40.0;
                [5.0 + 10.0 * t.cos(), -3.0 + 4.0 * t.sin(), 2.0]
            })
            .collect();
        let pts = outline_to_soma_points(&outline).unwrap();
        assert_eq!(pts.len(), SOMA_STATIONS);
        let mid = pts[10];
        assert!((mid.x_um - 5.0).abs() < 0.3 && (mid.y_um + 3.0).abs() < 0.3, "{mid:?}");
        assert!((mid.diam_um - 8.0).abs() < 0.2, "{}", mid.diam_um);
        assert!(pts.iter().all(|p| p.diam_um > 0.0 && p.z_um == 2.0));
        assert!(pts[0].x_um < pts[20].x_um, "axis oriented along +x");
    }

    #[test]
    fn degenerate_outlines_are_rejected() {
        assert_eq!(outline_to_soma_points(&[[0.0; 3]; 2]), Err(SomaOutlineError::TooFewPoints(2)));
        assert_eq!(outline_to_soma_points(&[[1.0, 1.0, 0.0]; 5]), Err(SomaOutlineError::Degenerate));
        let line: Vec<Vec3> = (0..5).map(|k| [k as f64, 0.0, 0.0]).collect();
        assert!(outline_to_soma_points(&line).is_err());
    }
}
