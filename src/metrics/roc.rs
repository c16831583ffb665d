//! ROC curve, its area and operating points over 1-ms bins (exact bin matching, no tolerance).

use super::MetricsError;

/// ROC curve points for "positive when score ≥ threshold", thresholds descending; the first point
/// is (0, 0) at threshold +∞. One point per distinct score, so tied scores form one step.
#[derive(Debug, Clone, PartialEq)]
pub struct RocCurve {
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
    pub thresholds: Vec<f64>,
    pub n_positive: usize,
    pub n_negative: usize,
}

/// One ROC point: the TPR reached at the largest FPR not above a target, and its threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OperatingPoint {
    pub target_fpr: f64,
    pub tpr: f64,
    /// The FPR actually reached (≤ target).
    pub fpr: f64,
    /// Predict a spike where score ≥ threshold (+∞: nothing is predicted).
    pub threshold: f64,
}

/// The ROC curve of binary labels against real scores.
pub fn roc_curve(labels: &[bool], scores: &[f64]) -> Result<RocCurve, MetricsError> {
    if labels.len() != scores.len() {
        return Err(MetricsError::LengthMismatch { labels: labels.len(), scores: scores.len() });
    }
    if let Some(index) = scores.iter().position(|s| s.is_nan()) {
        return Err(MetricsError::NanScore { index });
    }
    let n_positive = labels.iter().filter(|&&l| l).count();
    let n_negative = labels.len() - n_positive;
    if n_positive == 0 || n_negative == 0 {
        return Err(MetricsError::OneClass { positives: n_positive, negatives: n_negative });
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut fpr, mut tpr, mut thresholds) = (vec![0.0], vec![0.0], vec![f64::INFINITY]);
    let (mut tp, mut fp) = (0usize, 0usize);
    for (k, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        // close a step at the last bin of each group of equal scores
        let last_of_group = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_group {
            tpr.push(tp as f64 / n_positive as f64);
            fpr.push(fp as f64 / n_negative as f64);
            thresholds.push(scores[i]);
        }
    }
    Ok(RocCurve { fpr, tpr, thresholds, n_positive, n_negative })
}

impl RocCurve {
    /// Area under the curve by the trapezoidal rule (ties count half, as the Mann–Whitney U).
    pub fn auc(&self) -> f64 {
        self.fpr.windows(2).zip(self.tpr.windows(2)).map(|(f, t)| (f[1] - f[0]) * (t[1] + t[0]) / 2.0).sum()
    }

    /// The point with the largest FPR ≤ `target_fpr`.
    pub fn at_fpr(&self, target_fpr: f64) -> Result<OperatingPoint, MetricsError> {
        if !(0.0..=1.0).contains(&target_fpr) {
            return Err(MetricsError::BadRate(target_fpr));
        }
        // fpr is non-decreasing and starts at 0, so this index exists
        let i = self.fpr.partition_point(|&f| f <= target_fpr).saturating_sub(1);
        Ok(OperatingPoint { target_fpr, tpr: self.tpr[i], fpr: self.fpr[i], threshold: self.thresholds[i] })
    }
}

/// ROC AUC over bins.
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> Result<f64, MetricsError> {
    Ok(roc_curve(labels, scores)?.auc())
}

/// TPR at a fixed false-positive rate (with the threshold that reaches it).
pub fn tpr_at_fpr(labels: &[bool], scores: &[f64], target_fpr: f64) -> Result<OperatingPoint, MetricsError> {
    roc_curve(labels, scores)?.at_fpr(target_fpr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_inverted_and_random() {
        let y = [false, false, true, true];
        assert_eq!(roc_auc(&y, &[0.1, 0.2, 0.8, 0.9]).unwrap(), 1.0);
        assert_eq!(roc_auc(&y, &[0.9, 0.8, 0.2, 0.1]).unwrap(), 0.0);
        // all tied: one diagonal step
        assert_eq!(roc_auc(&y, &[0.5; 4]).unwrap(), 0.5);
    }

    #[test]
    fn hand_computed_with_ties() {
        // positives 0.8, 0.4; negatives 0.6, 0.4, 0.2. Pairs (pos > neg = 1, tie = ½):
        // 0.8 beats all 3; 0.4 beats 0.2, ties 0.4, loses to 0.6 → (3 + 1.5) / 6 = 0.75
        let y = [true, false, true, false, false];
        let s = [0.8, 0.6, 0.4, 0.4, 0.2];
        let c = roc_curve(&y, &s).unwrap();
        assert_eq!(c.thresholds, vec![f64::INFINITY, 0.8, 0.6, 0.4, 0.2]);
        assert_eq!(c.tpr, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
        assert!((c.auc() - 0.75).abs() < 1e-15);
        // FPR 1/3 reachable at threshold 0.6 with TPR ½; a target of 0.3 only reaches FPR 0
        let p = c.at_fpr(1.0 / 3.0).unwrap();
        assert_eq!((p.tpr, p.threshold), (0.5, 0.6));
        let p = c.at_fpr(0.3).unwrap();
        assert_eq!((p.tpr, p.fpr, p.threshold), (0.5, 0.0, 0.8));
        let p = c.at_fpr(0.0).unwrap();
        assert_eq!(p.threshold, 0.8);
    }

    #[test]
    fn errors() {
        assert!(matches!(roc_auc(&[true, true], &[0.1, 0.2]), Err(MetricsError::OneClass { .. })));
        assert!(matches!(roc_auc(&[true], &[0.1, 0.2]), Err(MetricsError::LengthMismatch { .. })));
        assert!(matches!(roc_auc(&[true, false], &[f64::NAN, 0.2]), Err(MetricsError::NanScore { index: 0 })));
        assert!(tpr_at_fpr(&[true, false], &[0.3, 0.2], 1.5).is_err());
    }
}
