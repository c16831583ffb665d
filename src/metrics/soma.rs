//! Somatic-voltage metrics: RMSE, explained variance, and the paper's rescaling of the
//! prediction to the target's global mean and std (`evaluate_CNN_test.py`; the published RMSE of
//! the paper and of later NeuronIO work includes that affine calibration).

use serde::Serialize;

fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        f64::NAN
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}

/// Population variance (divide by n, as NumPy's `var`).
fn variance(x: &[f64]) -> f64 {
    let m = mean(x);
    mean(&x.iter().map(|v| (v - m) * (v - m)).collect::<Vec<_>>())
}

/// Root-mean-square error (NaN for empty or unequal-length inputs).
pub fn rmse(target: &[f64], pred: &[f64]) -> f64 {
    if target.len() != pred.len() || target.is_empty() {
        return f64::NAN;
    }
    mean(&target.iter().zip(pred).map(|(t, p)| (t - p) * (t - p)).collect::<Vec<_>>()).sqrt()
}

/// Explained variance `1 − Var(target − pred) / Var(target)` (scikit-learn's
/// `explained_variance_score`); NaN when the target is constant or lengths differ.
pub fn explained_variance(target: &[f64], pred: &[f64]) -> f64 {
    if target.len() != pred.len() || target.is_empty() {
        return f64::NAN;
    }
    let vt = variance(target);
    if vt <= 0.0 {
        return f64::NAN;
    }
    let resid: Vec<f64> = target.iter().zip(pred).map(|(t, p)| t - p).collect();
    1.0 - variance(&resid) / vt
}

/// The prediction z-scored and given the target's mean and std (all samples pooled).
pub fn rescale_to_target(pred: &[f64], target: &[f64]) -> Vec<f64> {
    let (mp, sp) = (mean(pred), variance(pred).sqrt());
    let (mt, st) = (mean(target), variance(target).sqrt());
    pred.iter().map(|p| if sp > 0.0 { (p - mp) / sp * st + mt } else { mt }).collect()
}

/// RMSE (mV) and explained variance, raw and after [`rescale_to_target`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SomaMetrics {
    pub rmse_mv: f64,
    pub explained_variance: f64,
    pub rmse_rescaled_mv: f64,
    pub explained_variance_rescaled: f64,
}

impl SomaMetrics {
    pub fn new(target_mv: &[f64], pred_mv: &[f64]) -> SomaMetrics {
        let r = rescale_to_target(pred_mv, target_mv);
        SomaMetrics {
            rmse_mv: rmse(target_mv, pred_mv),
            explained_variance: explained_variance(target_mv, pred_mv),
            rmse_rescaled_mv: rmse(target_mv, &r),
            explained_variance_rescaled: explained_variance(target_mv, &r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        // errors 1, −1, 1, −1 → RMSE 1
        assert_eq!(rmse(&[0.0, 2.0, 4.0, 6.0], &[1.0, 1.0, 5.0, 5.0]), 1.0);
        // target var = 5, residual (−1, 1, −1, 1) var = 1 → EV = 0.8
        assert!((explained_variance(&[0.0, 2.0, 4.0, 6.0], &[1.0, 1.0, 5.0, 5.0]) - 0.8).abs() < 1e-15);
        // a constant offset is not penalised by EV
        assert_eq!(explained_variance(&[1.0, 2.0, 3.0], &[11.0, 12.0, 13.0]), 1.0);
        assert!(explained_variance(&[1.0, 1.0], &[0.0, 2.0]).is_nan());
        assert!(rmse(&[1.0], &[]).is_nan());
    }

    #[test]
    fn rescaling_removes_affine_error() {
        let t = [-70.0, -65.0, -60.0, -68.0];
        let p: Vec<f64> = t.iter().map(|v| 0.5 * v + 3.0).collect();
        let m = SomaMetrics::new(&t, &p);
        assert!(m.rmse_mv > 1.0);
        assert!(m.rmse_rescaled_mv < 1e-12);
        assert!((m.explained_variance_rescaled - 1.0).abs() < 1e-12);
        // constant prediction → the target's mean
        assert_eq!(rescale_to_target(&[2.0, 2.0], &[1.0, 3.0]), vec![2.0, 2.0]);
    }
}
