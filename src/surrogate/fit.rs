//! Does a model fit a morphology? The rows of the input raster are (kind, dendritic segment) in
//! the dataset's segment order, so a model is only meaningful on the morphology it was trained on
//! (same fingerprint), possibly usable on one with the same number of rows (same segment count,
//! e.g. the same cell from another file format), and unusable otherwise.

use super::metadata::{short_fingerprint, ModelMetadata};
use super::SurrogateError;
use crate::dataset::morphology_fingerprint;
use crate::morphology::{Cable, Morphology};
use crate::stimulus::DendriticSegments;

/// What a model needs to know about the cell it is applied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellInputs {
    /// `dataset::morphology_fingerprint` of the morphology and its discretisation.
    pub fingerprint: String,
    /// Raster rows: 2 per dendritic segment.
    pub n_rows: usize,
}

impl CellInputs {
    pub fn new(morph: &Morphology, cable: &Cable) -> Result<CellInputs, SurrogateError> {
        let segs = DendriticSegments::new(morph, cable).map_err(|e| SurrogateError::Morphology(e.to_string()))?;
        Ok(CellInputs { fingerprint: morphology_fingerprint(morph, cable), n_rows: 2 * segs.len() })
    }
}

/// How well a model fits a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fit {
    /// Same morphology fingerprint: trained on this cell.
    Exact,
    /// Different fingerprint, same number of rows: runs, but rows may mean other segments.
    RowsOnly,
}

impl ModelMetadata {
    /// Check this model against a cell: `Exact`, `RowsOnly` (usable, warn), or an error naming the
    /// mismatch.
    pub fn fit(&self, cell: &CellInputs) -> Result<Fit, SurrogateError> {
        if self.morphology_fingerprint == cell.fingerprint {
            if self.input_rows.n_rows != cell.n_rows {
                return Err(SurrogateError::Mismatch(format!(
                    "model {} has this morphology's fingerprint ({}) but expects {} input rows, the morphology gives {}",
                    self.name, self.short_fingerprint(), self.input_rows.n_rows, cell.n_rows
                )));
            }
            return Ok(Fit::Exact);
        }
        if self.input_rows.n_rows == cell.n_rows {
            return Ok(Fit::RowsOnly);
        }
        Err(SurrogateError::Mismatch(format!(
            "model {} expects {} input rows (fingerprint {}) but this morphology has {} rows (fingerprint {})",
            self.name,
            self.input_rows.n_rows,
            self.short_fingerprint(),
            cell.n_rows,
            short_fingerprint(&cell.fingerprint)
        )))
    }

    /// The warning to show for a [`Fit::RowsOnly`] model.
    pub fn rows_only_warning(&self, cell: &CellInputs) -> String {
        format!(
            "model {} was trained on morphology {} but this one is {} (both {} input rows): outputs are only meaningful if the segments are the same",
            self.name,
            self.short_fingerprint(),
            short_fingerprint(&cell.fingerprint),
            cell.n_rows
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(fp: &str, rows: usize) -> ModelMetadata {
        serde_json::from_value(serde_json::json!({
            "format": "neurotwin-dnn", "format_version": 1, "name": "hay-nmda", "morphology_fingerprint": fp,
            "input_rows": {"n_rows": rows, "n_segments": rows / 2}, "window_ms": 5,
            "target_transforms": {"soma": {"clip_max_mV": -55.0, "offset_mV": -67.7, "scale_mV": 1.0}}
        }))
        .unwrap()
    }

    #[test]
    fn fit_levels_and_message() {
        let cell = CellInputs { fingerprint: "sha256:cd34ffff".into(), n_rows: 1290 };
        assert_eq!(meta("sha256:cd34ffff", 1290).fit(&cell).unwrap(), Fit::Exact);
        assert_eq!(meta("sha256:ab12eeee", 1290).fit(&cell).unwrap(), Fit::RowsOnly);
        let e = meta("sha256:ab12eeee", 1278).fit(&cell).unwrap_err().to_string();
        assert!(e.contains("model hay-nmda expects 1278 input rows (fingerprint ab12eeee…) but this morphology has 1290 rows (fingerprint cd34ffff…)"), "{e}");
        assert!(meta("sha256:cd34ffff", 1278).fit(&cell).is_err());
    }
}
