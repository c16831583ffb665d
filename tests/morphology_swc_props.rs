//! Property tests for the SWC reader: no input makes it panic, and random valid trees, listed in
//! random order with random ids, round-trip through the writer.

use neurotwin::morphology::{parse_swc, write_swc, Morphology};
use proptest::prelude::*;

const VALID: &str = "\
# a small cell
1 1 0 0 0 5 -1
2 1 0 5 0 6 1
3 1 0 10 0 5 2
10 3 0 -10 0 1 1
12 3 0 -20 0 1 10
13 3 -10 -30 0 0.8 12
20 3 0 -40 0 0.5 12
21 3 10 -45 0 0.4 20
30 4 0 30 0 3 3
31 4 0 60 0 2.5 30
32 4 5 90 0 1 31
33 4 -5 90 0 1 31
40 2 0 -5 2 0.5 2
41 2 0 -30 2 0.5 40
50 9 3 3 3 0.5 -1
51 9 3 9 3 0.5 50
";

/// Parse; if it succeeds the result must be valid and survive a write/parse round trip.
fn check_no_panic_and_consistent(text: &str) -> Result<(), TestCaseError> {
    if let Ok(m) = parse_swc(text, "prop.swc") {
        prop_assert!(m.validate().is_ok());
        let back = parse_swc(&write_swc(&m), "prop2.swc");
        prop_assert!(back.is_ok(), "written SWC does not reload: {:?}", back.err());
        if let Ok(back) = back {
            prop_assert_eq!(&m.sections, &back.sections);
        }
    }
    Ok(())
}

const TOKENS: &[&str] = &["-1", "0", "1", "2", "3", "NaN", "inf", "-0", "1e308", "abc", "1.5", "#", "99", "-2", "4", "7"];

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    ReplaceToken(usize, usize, usize),
    DeleteToken(usize, usize),
    TruncateAt(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<usize>(), 0..7usize, 0..TOKENS.len()).prop_map(|(l, c, t)| Mutation::ReplaceToken(l, c, t)),
        (any::<usize>(), 0..7usize).prop_map(|(l, c)| Mutation::DeleteToken(l, c)),
        any::<usize>().prop_map(Mutation::TruncateAt),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<Vec<String>> = text.lines().map(|l| l.split_whitespace().map(String::from).collect()).collect();
    for m in mutations {
        let n = lines.len().max(1);
        match *m {
            Mutation::DeleteLine(l) if !lines.is_empty() => {
                lines.remove(l % n);
            }
            Mutation::DuplicateLine(l) if !lines.is_empty() => {
                let copy = lines[l % n].clone();
                lines.insert(l % n, copy);
            }
            Mutation::SwapLines(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
            Mutation::ReplaceToken(l, c, t) if !lines.is_empty() => {
                let line = &mut lines[l % n];
                if c < line.len() {
                    line[c] = TOKENS[t].to_string();
                }
            }
            Mutation::DeleteToken(l, c) if !lines.is_empty() => {
                let line = &mut lines[l % n];
                if c < line.len() {
                    line.remove(c);
                }
            }
            Mutation::TruncateAt(l) => lines.truncate(l % (n + 1)),
            _ => {}
        }
    }
    lines.iter().map(|l| l.join(" ")).collect::<Vec<_>>().join("\n")
}

/// A random valid SWC: a soma chain, then neurite samples hanging on earlier samples, written
/// with shuffled lines and scattered ids.
fn random_tree() -> impl Strategy<Value = String> {
    (1..4usize, 1..50usize).prop_flat_map(|(n_soma, n_neurite)| {
        let n = n_soma + n_neurite;
        (
            Just(n_soma),
            proptest::collection::vec((-500i32..500, -500i32..500, -500i32..500, 1u32..50), n),
            proptest::collection::vec((any::<prop::sample::Index>(), prop_oneof![Just(2), Just(3), Just(4), Just(6)]), n),
            Just((0..n).collect::<Vec<usize>>()).prop_shuffle(),
            proptest::collection::vec(1i64..5, n),
        )
    })
    .prop_map(|(n_soma, coords, links, order, id_gaps)| {
        let n = coords.len();
        let mut ids = Vec::with_capacity(n);
        let mut next = 0i64;
        for gap in &id_gaps {
            next += gap;
            ids.push(next);
        }
        let mut lines = vec![String::new(); n];
        for i in 0..n {
            let (x, y, z, r) = coords[i];
            // distinct positions: the index keeps every sample apart from every other
            let (x, y, z) = (f64::from(x) + 1000.0 * i as f64, f64::from(y) * 0.25, f64::from(z) * 0.125);
            let r = f64::from(r) / 10.0;
            let (code, parent) = if i < n_soma {
                (1, if i == 0 { -1 } else { ids[i - 1] })
            } else {
                (links[i].1, ids[links[i].0.index(i)])
            };
            lines[i] = format!("{} {code} {x} {y} {z} {r} {parent}", ids[i]);
        }
        order.iter().map(|&i| lines[i].clone()).collect::<Vec<_>>().join("\n")
    })
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        let _ = parse_swc(&text, "prop.swc");
    }

    #[test]
    fn swc_like_text_never_panics(text in "([0-9 .#eE+-]{0,40}\n){0,12}") {
        check_no_panic_and_consistent(&text)?;
    }

    #[test]
    fn mutated_valid_swc_never_panics(mutations in proptest::collection::vec(mutation(), 1..6)) {
        check_no_panic_and_consistent(&apply(VALID, &mutations))?;
    }

    #[test]
    fn random_valid_trees_round_trip(text in random_tree()) {
        let m = parse_swc(&text, "tree.swc");
        prop_assert!(m.is_ok(), "{:?}\n{}", m.err(), text);
        if let Ok(m) = m {
            let back: Morphology = parse_swc(&write_swc(&m), "back.swc").map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&m.sections, &back.sections);
        }
    }
}

#[test]
fn the_valid_base_file_parses() {
    let m = parse_swc(VALID, "valid.swc").unwrap();
    assert_eq!(m.sections.iter().filter(|s| s.name.starts_with("dend_9")).count(), 1);
}
