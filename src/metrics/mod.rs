//! Metrics of the paper's evaluation (Beniaguev et al. 2021; spec paper-dnn.md §5), the same
//! definitions as `training/metrics.py`: ROC over 1-ms bins with exact bin matching (ties handled
//! as one step, as scikit-learn's `roc_curve`), TPR at a fixed false-positive rate, somatic RMSE
//! and explained variance (raw and after the paper's rescaling to the target's mean and std), and
//! spike-train matching within a tolerance. Pure functions over slices; depends on nothing else in
//! the crate.

pub mod roc;
pub mod soma;
pub mod spikes;

pub use roc::{roc_auc, roc_curve, tpr_at_fpr, OperatingPoint, RocCurve};
pub use soma::{explained_variance, rescale_to_target, rmse, SomaMetrics};
pub use spikes::{match_spikes, SpikeMatch};

/// Errors of metric computations (inputs that make a metric undefined).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    #[error("labels and scores differ in length ({labels} vs {scores})")]
    LengthMismatch { labels: usize, scores: usize },
    #[error("ROC needs both classes ({positives} positive, {negatives} negative bins)")]
    OneClass { positives: usize, negatives: usize },
    #[error("score {index} is NaN")]
    NanScore { index: usize },
    #[error("false-positive rate {0} outside [0, 1]")]
    BadRate(f64),
}
