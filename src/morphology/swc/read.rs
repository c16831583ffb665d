//! Lexing SWC text into samples: one sample per data line, every field checked, every error
//! naming the line. Tree structure is checked later (`tree.rs`).

use crate::morphology::MorphologyError;

/// One SWC sample (data line) as written in the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    /// 1-based line number in the file (for messages).
    pub line: usize,
    pub id: i64,
    pub code: i32,
    pub x_um: f64,
    pub y_um: f64,
    pub z_um: f64,
    pub radius_um: f64,
    /// Parent sample id; `None` for a root (written as -1).
    pub parent: Option<i64>,
}

/// What a file holds before tree building: its samples in file order, the ids marked by our
/// `# neurotwin section-breaks:` comment, and its number of lines.
#[derive(Debug, Default)]
pub(crate) struct SwcFile {
    pub samples: Vec<Sample>,
    /// (sample id, line of the comment that names it).
    pub section_breaks: Vec<(i64, usize)>,
    pub n_lines: usize,
}

/// The comment tag by which `write_swc` marks samples that start a new section although their
/// parent has no other child (an unbranched section boundary SWC cannot otherwise express).
pub(crate) const SECTION_BREAK_TAG: &str = "neurotwin section-breaks:";

const COLUMNS: [&str; 7] = ["id", "type", "x", "y", "z", "radius", "parent"];

pub(crate) fn lex(text: &str, source_name: &str) -> Result<SwcFile, MorphologyError> {
    let mut file = SwcFile::default();
    // a UTF-8 byte-order mark (some Windows editors write one) is not data; CRLF ends are
    // handled by `lines`
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw_line) in text.lines().enumerate() {
        let line = i + 1;
        file.n_lines = line;
        let err = |message: String| MorphologyError::Parse { source_name: source_name.to_string(), line, message };
        let (data, comment) = match raw_line.find('#') {
            Some(pos) => (&raw_line[..pos], Some(&raw_line[pos + 1..])),
            None => (raw_line, None),
        };
        if let Some(ids) = comment.and_then(|c| c.trim().strip_prefix(SECTION_BREAK_TAG)) {
            for token in ids.split_whitespace() {
                let id = token
                    .parse::<i64>()
                    .map_err(|_| err(format!("section-break comment: '{token}' is not a sample id")))?;
                file.section_breaks.push((id, line));
            }
        }
        let fields: Vec<&str> = data.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        if fields.len() != COLUMNS.len() {
            return Err(err(format!(
                "expected 7 columns (id type x y z radius parent), found {}",
                fields.len()
            )));
        }
        let int_field = |k: usize| -> Result<i64, MorphologyError> {
            parse_integer(fields[k]).ok_or_else(|| {
                err(format!("column {} ({}) must be an integer, found '{}'", k + 1, COLUMNS[k], fields[k]))
            })
        };
        let num_field = |k: usize| -> Result<f64, MorphologyError> {
            let v: f64 = fields[k].parse().map_err(|_| {
                err(format!("column {} ({}) must be a number, found '{}'", k + 1, COLUMNS[k], fields[k]))
            })?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err(err(format!("column {} ({}) must be finite, found '{}'", k + 1, COLUMNS[k], fields[k])))
            }
        };
        let id = int_field(0)?;
        if id < 0 {
            return Err(err(format!("sample id must be >= 0, found {id}")));
        }
        let code = int_field(1)?;
        let code = i32::try_from(code)
            .ok()
            .filter(|c| *c >= 0)
            .ok_or_else(|| err(format!("type code must be a non-negative integer, found {code}")))?;
        let (x_um, y_um, z_um) = (num_field(2)?, num_field(3)?, num_field(4)?);
        let radius_um = num_field(5)?;
        if radius_um <= 0.0 {
            return Err(err(format!("radius must be > 0 µm, found {radius_um}")));
        }
        let parent = match int_field(6)? {
            -1 => None,
            p if p >= 0 => Some(p),
            p => return Err(err(format!("parent must be a sample id or -1 for a root, found {p}"))),
        };
        if parent == Some(id) {
            return Err(err(format!("sample {id} is its own parent")));
        }
        file.samples.push(Sample { line, id, code, x_um, y_um, z_um, radius_um, parent });
    }
    Ok(file)
}

/// An integer field; integral floats such as `3.0` are accepted because some exporters write them.
fn parse_integer(token: &str) -> Option<i64> {
    if let Ok(v) = token.parse::<i64>() {
        return Some(v);
    }
    let v: f64 = token.parse().ok()?;
    // 2^53: beyond this an f64 no longer holds every integer, so the id would be ambiguous
    (v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_blank_lines_and_trailing_comments_are_skipped() {
        let f = lex("# header\n\n1 1 0 0 0 5 -1 # soma\n  2 3 0 -5 0 1 1\n", "t.swc").unwrap();
        assert_eq!(f.samples.len(), 2);
        assert_eq!(f.samples[1].line, 4);
        assert_eq!(f.samples[1].parent, Some(1));
        assert_eq!(f.n_lines, 4);
    }

    #[test]
    fn integral_floats_are_accepted_as_ids() {
        let f = lex("1.0 1 0 0 0 5 -1.0\n", "t.swc").unwrap();
        assert_eq!(f.samples[0].id, 1);
        assert_eq!(f.samples[0].parent, None);
        assert!(lex("1.5 1 0 0 0 5 -1\n", "t.swc").is_err());
    }

    #[test]
    fn section_break_comment_is_read() {
        let f = lex("# neurotwin section-breaks: 4 9\n1 1 0 0 0 5 -1\n", "t.swc").unwrap();
        assert_eq!(f.section_breaks, vec![(4, 1), (9, 1)]);
        assert!(lex("# neurotwin section-breaks: x\n", "t.swc").is_err());
    }
}
