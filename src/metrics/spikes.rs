//! Matching a predicted spike train to a reference one within a time tolerance (e.g. ±5 ms):
//! each reference spike can be hit by at most one predicted spike and vice versa.

use serde::Serialize;

/// Result of [`match_spikes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SpikeMatch {
    /// Reference spikes with a predicted spike within the tolerance.
    pub hits: usize,
    /// Reference spikes without one.
    pub misses: usize,
    /// Predicted spikes matched to no reference spike.
    pub false_alarms: usize,
}

/// Greedy matching in time order of two sorted spike-time lists (ms): each reference spike takes
/// the earliest unmatched predicted spike within `tolerance_ms`. For sorted trains this greedy
/// choice gives the maximum number of hits (an interval-scheduling argument).
pub fn match_spikes(reference_ms: &[f64], predicted_ms: &[f64], tolerance_ms: f64) -> SpikeMatch {
    let mut hits = 0;
    let mut j = 0;
    for &r in reference_ms {
        // predicted spikes too early for this (and so every later) reference spike are false alarms
        while j < predicted_ms.len() && predicted_ms[j] < r - tolerance_ms {
            j += 1;
        }
        if j < predicted_ms.len() && predicted_ms[j] <= r + tolerance_ms {
            hits += 1;
            j += 1;
        }
    }
    SpikeMatch { hits, misses: reference_ms.len() - hits, false_alarms: predicted_ms.len() - hits }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let m = match_spikes(&[100.0, 200.0, 300.0], &[103.0, 250.0, 296.0, 299.0], 5.0);
        assert_eq!(m, SpikeMatch { hits: 2, misses: 1, false_alarms: 2 });
        // the tolerance is inclusive
        assert_eq!(match_spikes(&[10.0], &[15.0], 5.0).hits, 1);
        // two reference spikes cannot share one prediction
        assert_eq!(match_spikes(&[10.0, 12.0], &[11.0], 5.0), SpikeMatch { hits: 1, misses: 1, false_alarms: 0 });
        // greedy takes the earliest candidate so the next reference spike still finds its own
        assert_eq!(match_spikes(&[10.0, 16.0], &[12.0, 14.0], 5.0).hits, 2);
        assert_eq!(match_spikes(&[], &[1.0], 5.0), SpikeMatch { hits: 0, misses: 0, false_alarms: 1 });
    }
}
