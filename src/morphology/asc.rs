//! Reader for Neurolucida ASCII (V3, `.asc`) reconstructions, producing the sections NEURON's
//! Import3d makes from them (spec §1.1-1.2).
//!
//! Three stages: `sexpr` tokenizes and reads the parenthesised structure, `blocks` picks out the
//! soma outline and the typed trees (ignoring other contours, markers, spines, headers and
//! properties), and `sections` numbers and connects the sections as Import3d does. Every error
//! names the file, the line and what was expected; the reader never panics on any input.
//!
//! What the reader accepts and refuses (beyond the V3 syntax):
//! - the soma is the contour named "CellBody" or any block tagged `(CellBody)`; an outline of
//!   three or more points becomes Import3d's 21-point section (see `soma_contour`); a single
//!   point is read as a sphere of that diameter; an outline of two points, or one without
//!   extent, is refused; several CellBody outlines (a contour stack) are refused;
//! - trees need a type tag, `(Dendrite)`, `(Apical)` or `(Axon)`, and positive diameters;
//! - unknown tags inside a tree or contour are errors; unknown header lists at the top level
//!   are ignored (see `blocks`).

mod blocks;
mod sections;
mod sexpr;

use super::types::{Morphology, MorphologyError};

/// A problem at a line of the file (1-based); turned into `MorphologyError::Parse` with the
/// file name by [`parse_asc`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AscError {
    pub line: usize,
    pub message: String,
}

impl AscError {
    pub(crate) fn new(line: usize, message: impl Into<String>) -> Self {
        AscError { line, message: message.into() }
    }
}

/// Parse a Neurolucida ASCII file from its text. `source_name` names the file in errors and
/// becomes `Morphology::source`. The axon is kept as traced; see
/// [`replace_axon_hay2011`](super::hay_axon::replace_axon_hay2011) for the Hay et al. stub.
pub fn parse_asc(text: &str, source_name: &str) -> Result<Morphology, MorphologyError> {
    let to_parse_error =
        |e: AscError| MorphologyError::Parse { source_name: source_name.to_string(), line: e.line, message: e.message };
    // a UTF-8 byte-order mark is not data (CR of CRLF line ends is whitespace to the reader)
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let top = sexpr::read(text).map_err(to_parse_error)?;
    let found = blocks::interpret(&top).map_err(to_parse_error)?;
    let sections = sections::build(&found).map_err(to_parse_error)?;
    let morph = Morphology { sections, source: source_name.to_string() };
    morph.validate()?;
    Ok(morph)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::morphology::SectionKind;

    /// A small cell: a square soma outline, a basal tree with one split, an apical stub, an axon,
    /// plus the clutter a real file carries.
    pub(crate) const SMALL: &str = r#";	V3 text file written for MicroBrightField products.
(Sections S1 "x.DAT" 0 0 0)
(ImageCoords)
("Section_1Contour" (Color Yellow) (Closed) (Resolution 0.8)
  (100 100 0 1 S1)  (110 100 0 1 S1)  (110 110 0 1 S1)
)
("CellBody"
  (Color RGB (0, 255, 64))
  (CellBody)
  ( -5 -2 0 0.2 S1)
  (  0 -3 0 0.2 S1)
  (  5 -2 0 0.2 S1)
  (  5  2 0 0.2 S1)
  (  0  3 0 0.2 S1)
  ( -5  2 0 0.2 S1)
)
( (Color DarkRed)
  (Dendrite)
  ( 5 0 0 2 S1)  ; Root
  ( 10 0 0 2 S1)
  (
    ( 12 2 0 1 S1)
    ( 14 4 0 1 S1)
    (Cross (Color Red) (Name "Marker 3") (13 3 0 0.5 S1))
    <( 14 5 0 0.3 S1)>
     Normal
  |
    ( 12 -2 0 1.5 S1)
    ( 14 -4 0 1.5 S1)
    (
      (15 -5 0 1 S1)
    |
      (15 -3 0 1 S1)
       Incomplete
    )
  )
)
( (Color Orange) (Apical)
  (0 3 0 3 S1) (0 20 0 2.5 S1)
   High
)
( (Color Blue) (Axon)
  (0 -3 0 1 S1) (0 -10 0 1 S1)
)
"#;

    fn parse(text: &str) -> Result<Morphology, MorphologyError> {
        parse_asc(text, "test.asc")
    }

    #[test]
    fn small_cell_sections_in_neuron_order() {
        let m = parse(SMALL).unwrap();
        let names: Vec<&str> = m.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["soma[0]", "axon[0]", "dend[0]", "dend[1]", "dend[2]", "dend[3]", "dend[4]", "apic[0]"]);
        let parent = |i: usize| m.sections[i].parent.map(|p| m.sections[p].name.clone());
        assert_eq!(parent(1).as_deref(), Some("soma[0]"));
        assert_eq!(parent(3).as_deref(), Some("dend[0]"));
        assert_eq!(parent(5).as_deref(), Some("dend[2]"));
        assert_eq!(parent(7).as_deref(), Some("soma[0]"));
        assert_eq!(m.sections[2].parent_x, 0.5);
        assert_eq!(m.sections[3].parent_x, 1.0);
        // child starts at the parent's last point with its own first diameter
        let d1 = &m.sections[3];
        assert_eq!(d1.points.len(), 3);
        assert_eq!((d1.points[0].x_um, d1.points[0].y_um, d1.points[0].diam_um), (10.0, 0.0, 1.0));
        assert_eq!(m.sections[4].points[0].diam_um, 1.5);
        assert_eq!(m.sections[0].kind, SectionKind::Soma);
        assert_eq!(m.sections[0].points.len(), 21);
        // root sections start at the tree's first point
        assert_eq!(m.sections[2].points[0], crate::morphology::Point3::new(5.0, 0.0, 0.0, 2.0));
    }

    #[test]
    fn points_are_rounded_to_float32() {
        let text = "(\"CellBody\" (0 0 0 1) (1 0 0 1) (1 1 0 1) (0 1 0 1))\n( (Dendrite) (0.1 0.2 0.3 0.7) (1.1 2.2 3.3 0.7) )";
        let m = parse(text).unwrap();
        let p = m.sections[1].points[0];
        assert_eq!(p.x_um, 0.1f32 as f64);
        assert_eq!(p.diam_um, 0.7f32 as f64);
    }

    #[test]
    fn single_point_soma_is_a_sphere_equivalent_cylinder() {
        let m = parse("(\"CellBody\" (1 2 3 10))\n( (Axon) (1 -3 3 1) (1 -8 3 1) )").unwrap();
        let soma = &m.sections[0];
        assert!((soma.length_um() - 10.0).abs() < 1e-9);
        assert!((soma.area_um2() - std::f64::consts::PI * 100.0).abs() < 1e-6);
    }

    #[test]
    fn tagged_soma_block_and_hay_axon() {
        let text = "( (Color Red) (CellBody)\n (0 0 0 0.1) (4 0 0 0.1) (4 2 0 0.1) (0 2 0 0.1) )\n\
                    ( (Axon) (2 0 0 1) (2 -5 0 1) ( (2 -6 0 1) | (3 -6 0 1) ) )\n( (Apical) (2 2 0 2) (2 9 0 2) )";
        let mut m = parse(text).unwrap();
        assert_eq!(m.sections.len(), 5);
        assert!((m.sections[0].length_um() - 4.0).abs() < 0.5, "soma along x");
        crate::morphology::replace_axon_hay2011(&mut m);
        let names: Vec<&str> = m.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["soma[0]", "axon[0]", "axon[1]", "apic[0]"]);
        assert_eq!(m.sections[3].parent, Some(0));
        m.validate().unwrap();
    }

    fn parse_err(text: &str) -> (usize, String) {
        match parse(text) {
            Err(MorphologyError::Parse { source_name, line, message }) => {
                assert_eq!(source_name, "test.asc");
                (line, message)
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_line_and_problem() {
        let soma = "(\"CellBody\" (0 0 0 1) (1 0 0 1) (1 1 0 1) (0 1 0 1))\n";
        let cases: &[(&str, usize, &str)] = &[
            ("", 1, "no CellBody"),
            ("; only a comment\n(ImageCoords)\n", 1, "no CellBody"),
            ("( (Dendrite)\n (0 0 0 1) (1 0 0 1))", 1, "no CellBody"),
            (&format!("{soma}( (Dendrite)\n (0 0 0 1)\n (1 x 0 1))"), 4, "`x` is not a number"),
            (&format!("{soma}( (Dendrite)\n (0 0 0 1)\n (1 NaN 0 1))"), 4, "not a finite"),
            (&format!("{soma}( (Dendrite)\n (0 0 0 1)\n (1 0 0 0))"), 4, "positive diameter"),
            (&format!("{soma}( (Dendrite)\n (0 0 0 1)\n (1 0 0 -2))"), 4, "positive diameter"),
            (&format!("{soma}( (Dendrite)\n (0 0 0 1)\n (1 0 0))"), 4, "expected 4"),
            (&format!("{soma}( (Dendrite)\n (0 0 0 1)\n (1 0 0 1)\n"), 4, "opened at line 2"),
            (&format!("{soma}( (Dendrite)\n (0 0 0 1)\n (1 0 0 1)))"), 4, "unexpected ')'"),
            (&format!("{soma}( (Dendrite)\n (0 0 0 1)\n (Wobble 3)\n (1 0 0 1))"), 4, "unknown tag `Wobble`"),
            (&format!("{soma}( (Color Red)\n (0 0 0 1)\n (1 0 0 1))"), 2, "without a type tag"),
            (&format!("{soma}( (Dendrite)\n (0 0 0 1)\n Sideways\n (1 0 0 1))"), 4, "unexpected word `Sideways`"),
            (&format!("{soma}( (Dendrite)\n (0 0 0 1) (1 0 0 1)\n ( (2 0 0 1)\n |\n ))"), 5, "empty branch"),
            (&format!("{soma}( (Dendrite)\n (0 0 0 1) (1 0 0 1)\n ( (2 0 0 1) )\n (3 0 0 1))"), 5, "after the branch split"),
            (&format!("{soma}{soma}"), 2, "second CellBody"),
            ("(\"CellBody\"\n (0 0 0 1) (1 0 0 1))", 1, "at least 3"),
            ("(\"CellBody\"\n (0 0 0 1) (1 0 0 1) (2 0 0 1))", 1, "no extent"),
            (&format!("{soma}( (Dendrite)\n (0 0 0 1) (1 0 0 1e39))"), 3, "float32 range"),
            (&format!("{soma}( (Dendrite)\n (0 0 0 1)\n ( (Apical) (1 0 0 1) ))"), 4, "type tag (Apical) inside"),
        ];
        for (text, line, needle) in cases {
            let (got_line, message) = parse_err(text);
            assert!(message.contains(needle), "{text:?}: message {message:?} lacks {needle:?}");
            assert_eq!(got_line, *line, "{text:?}: {message}");
        }
    }
}
