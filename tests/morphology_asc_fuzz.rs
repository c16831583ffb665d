//! The Neurolucida reader must never panic: arbitrary text and damaged versions of a small valid
//! file give either a morphology or an error (spec: errors name the file and line).

use neurotwin::morphology::{parse_asc, MorphologyError};
use proptest::prelude::*;

const VALID: &str = r#";	V3 text file
(ImageCoords)
("CellBody"
  (Color RGB (0, 255, 64))
  (CellBody)
  ( -5 -2 0 0.2 S1) (  0 -3 0 0.2 S1) (  5 -2 0 0.2 S1)
  (  5  2 0 0.2 S1) (  0  3 0 0.2 S1) ( -5  2 0 0.2 S1)
)
( (Color DarkRed)
  (Dendrite)
  ( 5 0 0 2 S1)  ; Root
  ( 10 0 0 2 S1)
  (
    ( 12 2 0 1 S1)
    (Cross (Color Red) (Name "Marker 3") (13 3 0 0.5 S1))
    <( 14 5 0 0.3 S1)>
     Normal
  |
    ( 12 -2 0 1.5 S1)
    ( (15 -5 0 1 S1) | (15 -3 0 1 S1) Incomplete )
  )
)
( (Color Orange) (Apical) (0 3 0 3 S1) (0 20 0 2.5 S1) High )
"#;

/// Characters that matter to the grammar, to make random text reach deeper into the parser.
const ALPHABET: &[char] = &[
    '(', ')', '(', ')', '|', '<', '>', '"', ';', '\n', ' ', ',', '0', '1', '5', '.', '-', 'e', 'S', 'N', 'a', 'n',
];

fn check(text: &str) {
    match parse_asc(text, "fuzz.asc") {
        Ok(m) => assert!(m.validate().is_ok()),
        Err(MorphologyError::Parse { source_name, line, .. }) => {
            assert_eq!(source_name, "fuzz.asc");
            assert!(line >= 1 && line <= text.lines().count().max(1), "line {line} outside the text");
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.asc"), "{e}"),
    }
}

#[test]
fn the_valid_sample_parses() {
    let m = parse_asc(VALID, "fuzz.asc").expect("valid sample");
    assert_eq!(m.sections.len(), 7);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        check(&text);
    }

    #[test]
    fn grammar_soup_never_panics(chars in prop::collection::vec(prop::sample::select(ALPHABET), 0..400)) {
        check(&chars.into_iter().collect::<String>());
    }

    #[test]
    fn truncated_files_never_panic(cut in 0usize..VALID.len()) {
        check(&VALID[..cut]);
    }

    #[test]
    fn byte_flips_never_panic(edits in prop::collection::vec((0usize..VALID.len(), any::<u8>()), 1..6)) {
        let mut bytes = VALID.as_bytes().to_vec();
        for (at, byte) in edits {
            bytes[at] = byte;
        }
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn grammar_edits_never_panic(
        edits in prop::collection::vec((0usize..VALID.len(), prop::sample::select(ALPHABET), any::<bool>()), 1..6)
    ) {
        let mut text: Vec<char> = VALID.chars().collect();
        for (at, c, insert) in edits {
            let at = at.min(text.len().saturating_sub(1));
            if insert { text.insert(at, c) } else { text[at] = c }
        }
        check(&text.into_iter().collect::<String>());
    }
}

#[test]
fn deep_nesting_parses_or_errors_without_overflow() {
    // one split per level: a chain of 500 single-child branches, near the reader's nesting cap
    let soma = "(\"CellBody\" (0 0 0 1) (1 0 0 1) (1 1 0 1) (0 1 0 1))\n";
    let depth = 500;
    let mut text = format!("{soma}( (Dendrite) (0 0 0 1) (1 0 0 1)\n");
    for k in 0..depth {
        text.push_str(&format!("( ({} 0 0 1)\n", k + 2));
    }
    text.push_str(&")".repeat(depth + 1));
    let m = parse_asc(&text, "deep.asc").expect("500 nested branches");
    assert_eq!(m.sections.len(), depth + 2);
    assert_eq!(m.sections[depth + 1].name, format!("dend[{depth}]"));
    // past the cap: an error naming the line, not a stack overflow
    let too_deep = format!("{soma}{}", "( (1 0 0 1)\n".repeat(2000));
    match parse_asc(&too_deep, "deep.asc") {
        Err(MorphologyError::Parse { line, message, .. }) => {
            assert!(message.contains("nested deeper"), "{message}");
            assert!(line > 500, "line {line}");
        }
        other => panic!("expected a nesting error, got {other:?}"),
    }
}
