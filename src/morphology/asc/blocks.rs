//! From s-expressions to the blocks of a Neurolucida file: the soma outline and the neurite
//! trees (spec §1.1). Everything else (other contours, markers, headers, properties, spines,
//! end markers) is recognised and dropped.
//!
//! Grammar, as written by Neurolucida V3:
//! - a *contour* is a list starting with its name: `("CellBody" (Color ..) (CellBody) (x y z d) ..)`;
//! - a *tree* is a list starting with a list: `( (Color ..) (Dendrite) (x y z d) .. ( branch | branch ) )`;
//! - a *branch* is a sequence of points, optionally ended by one *split*, a list of sibling
//!   branches separated by `|`; end markers such as `Normal` or `Incomplete` close a branch;
//! - a list starting with a word is a header (top level), a property (`(Color ..)`, `(Name ..)`,
//!   `(Resolution ..)`, ...), a type tag (`(Dendrite)`, `(Apical)`, `(Axon)`, `(CellBody)`) or a
//!   marker (`(Cross ..)`, `(Dot ..)`, ...); a list starting with a number is a point.
//!
//! Recovery policy: unknown word-headed lists at the top level are ignored (they are headers such
//! as `(Sections ..)` or `(Description ..)` and cannot hold the cell). Inside a contour or tree an
//! unknown tag is an error, because a corrupted point such as `(x1.0 2 3 4)` would otherwise be
//! dropped silently; the message lists what was expected.

use super::sexpr::Expr;
use super::AscError;
use crate::morphology::types::SectionKind;

/// A point as written in the file (µm), with its line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RawPoint {
    pub xyz_um: [f64; 3],
    pub diam_um: f64,
    pub line: usize,
}

/// An unbranched run of points and the branches that continue from its last point.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Branch {
    pub points: Vec<RawPoint>,
    pub children: Vec<Branch>,
    /// Line where the branch starts (its first element).
    pub line: usize,
}

/// A neurite tree with its type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tree {
    pub kind: SectionKind,
    pub root: Branch,
}

/// A soma outline (`"CellBody"` contour or a block tagged `(CellBody)`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SomaOutline {
    pub points: Vec<RawPoint>,
    pub line: usize,
}

/// The parts of the file that make the cell, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Blocks {
    pub somas: Vec<SomaOutline>,
    pub trees: Vec<Tree>,
}

const PROPERTIES: &[&str] = &[
    "Color", "Name", "Resolution", "Closed", "ImageCoords", "Font", "Description", "GUID", "MBFObjectType",
    "Thumbnail", "Set", "FillDensity", "Sections", "SSM", "SSM2", "Varicosity", "Spine", "Marker",
];

const MARKERS: &[&str] = &[
    "Dot", "OpenCircle", "FilledCircle", "OpenSquare", "FilledSquare", "OpenStar", "FilledStar",
    "OpenUpTriangle", "FilledUpTriangle", "OpenDownTriangle", "FilledDownTriangle", "OpenDiamond",
    "FilledDiamond", "Circle1", "Circle2", "Circle3", "Circle4", "Circle5", "Circle6", "Circle7", "Circle8",
    "Circle9", "Flower", "Flower2", "Flower3", "Cross", "Plus", "Asterisk", "SnowFlake", "OpenQuadStar",
    "FilledQuadStar", "SquareGun", "CircleArrow", "CircleCross", "DoubleCircle", "TriStar", "MalteseCross",
    "Splat", "Pinwheel", "OpenFinial", "FilledFinial", "TexacoStar", "GunSight", "KnightsCross",
];

/// Words that end a branch (Neurolucida's ending codes); they carry no geometry.
const END_MARKERS: &[&str] = &["Normal", "Incomplete", "Low", "Generated", "High", "Midpoint", "Origin"];

const TYPE_TAGS: &[(&str, Option<SectionKind>)] = &[
    ("Dendrite", Some(SectionKind::Basal)),
    ("Apical", Some(SectionKind::Apical)),
    ("Axon", Some(SectionKind::Axon)),
    ("CellBody", None),
];

fn one_of(word: &str, list: &[&str]) -> bool {
    list.iter().any(|w| w.eq_ignore_ascii_case(word))
}

fn is_number(word: &str) -> bool {
    word.parse::<f64>().is_ok()
}

/// The type tag a word names: `Some(Some(kind))` for a neurite, `Some(None)` for CellBody.
fn type_tag(word: &str) -> Option<Option<SectionKind>> {
    TYPE_TAGS.iter().find(|(w, _)| w.eq_ignore_ascii_case(word)).map(|(_, k)| *k)
}

/// Parse `(x y z d [section tag])`.
fn read_point(items: &[Expr], line: usize) -> Result<RawPoint, AscError> {
    let mut numbers = [0.0f64; 4];
    let mut count = 0;
    for item in items {
        match item {
            Expr::Word { text, .. } if count < 4 => {
                let v: f64 = text.parse().map_err(|_| {
                    AscError::new(line, format!("coordinate `{text}` is not a number (expected a point (x y z d))"))
                })?;
                if !v.is_finite() {
                    return Err(AscError::new(line, format!("coordinate `{text}` is not a finite number")));
                }
                // NEURON keeps points in float32; larger values would become infinite there
                if v.abs() > f64::from(f32::MAX) {
                    return Err(AscError::new(line, format!("coordinate `{text}` is out of the float32 range")));
                }
                numbers[count] = v;
                count += 1;
            }
            // after the four numbers Neurolucida may add a section tag such as `S1`
            Expr::Word { text, .. } if !is_number(text) => {}
            Expr::Word { text, .. } => {
                return Err(AscError::new(line, format!("extra number `{text}` in a point; expected (x y z d)")))
            }
            other => {
                return Err(AscError::new(
                    other.line(),
                    "unexpected list, string or separator inside a point; expected (x y z d)",
                ))
            }
        }
    }
    if count < 4 {
        return Err(AscError::new(line, format!("point has {count} numbers; expected 4 (x y z d)")));
    }
    Ok(RawPoint { xyz_um: [numbers[0], numbers[1], numbers[2]], diam_um: numbers[3], line })
}

/// Read a branch: points, at most one split, and ignorable extras. Type tags are accepted only
/// at the start level of a block (`tags` is `Some` there) and collected into it.
fn read_branch(
    items: &[Expr],
    line: usize,
    mut tags: Option<&mut Vec<(Option<SectionKind>, usize)>>,
) -> Result<Branch, AscError> {
    let mut branch = Branch { points: Vec::new(), children: Vec::new(), line };
    let mut split_line: Option<usize> = None;
    for item in items {
        match item {
            Expr::List { items: inner, line } => {
                let line = *line;
                match inner.first() {
                    None => {
                        return Err(AscError::new(
                            line,
                            "empty list '()': expected a point (x y z d), a property, a marker or a branch split",
                        ))
                    }
                    Some(Expr::Word { text, .. }) if is_number(text) => {
                        if let Some(at) = split_line {
                            return Err(AscError::new(
                                line,
                                format!("point after the branch split at line {at}; a split must end its branch"),
                            ));
                        }
                        branch.points.push(read_point(inner, line)?);
                    }
                    Some(Expr::Word { text, .. }) => {
                        if let Some(kind) = type_tag(text) {
                            match tags.as_deref_mut() {
                                Some(t) => t.push((kind, line)),
                                None => {
                                    return Err(AscError::new(
                                        line,
                                        format!("type tag ({text}) inside a branch; expected it at the start of a tree"),
                                    ))
                                }
                            }
                        } else if !one_of(text, PROPERTIES) && !one_of(text, MARKERS) {
                            return Err(AscError::new(
                                line,
                                format!(
                                    "unknown tag `{text}`: expected a point (x y z d), a property such as (Color ..), \
                                     a marker such as (Cross ..) or a branch split"
                                ),
                            ));
                        }
                    }
                    Some(Expr::Str { .. }) => {
                        return Err(AscError::new(line, "unexpected named contour inside another block"))
                    }
                    Some(Expr::List { .. } | Expr::Bar { .. } | Expr::Spine { .. }) => {
                        if let Some(at) = split_line {
                            return Err(AscError::new(
                                line,
                                format!("second branch split; the split at line {at} already ended this branch"),
                            ));
                        }
                        split_line = Some(line);
                        branch.children = read_split(inner, line)?;
                    }
                }
            }
            Expr::Word { text, .. } if one_of(text, END_MARKERS) => {}
            Expr::Word { text, line } => {
                return Err(AscError::new(
                    *line,
                    format!("unexpected word `{text}`: expected a point (x y z d), a list or an end marker such as Normal"),
                ))
            }
            Expr::Str { text, line } => {
                return Err(AscError::new(*line, format!("unexpected string \"{text}\" inside a tree or contour")))
            }
            Expr::Bar { line } => return Err(AscError::new(*line, "'|' outside a branch split")),
            Expr::Spine { .. } => {}
        }
    }
    Ok(branch)
}

/// Read the sibling branches of a split `( branch | branch | ... )`.
fn read_split(items: &[Expr], line: usize) -> Result<Vec<Branch>, AscError> {
    let mut children = Vec::new();
    let mut part_start = 0;
    // line of the '|' before the current part (the split's own line for the first part)
    let mut bar_line = line;
    for end in 0..=items.len() {
        let next_bar = match items.get(end) {
            Some(Expr::Bar { line }) => Some(*line),
            Some(_) => continue,
            None => None,
        };
        let part = &items[part_start..end];
        let Some(first) = part.first() else {
            let at = next_bar.unwrap_or(bar_line);
            return Err(AscError::new(at, "empty branch in a split (nothing between '(' or '|' and '|' or ')')"));
        };
        let child = read_branch(part, first.line(), None)?;
        if child.points.is_empty() {
            return Err(AscError::new(child.line, "branch without points; expected at least one point (x y z d)"));
        }
        children.push(child);
        part_start = end + 1;
        bar_line = next_bar.unwrap_or(bar_line);
    }
    Ok(children)
}

/// Tree points must have positive diameters (contour line widths are not diameters).
fn check_diameters(branch: &Branch) -> Result<(), AscError> {
    for p in &branch.points {
        if p.diam_um <= 0.0 {
            return Err(AscError::new(p.line, format!("diameter {} µm; a neurite point needs a positive diameter", p.diam_um)));
        }
    }
    branch.children.iter().try_for_each(check_diameters)
}

/// Classify the top-level elements of a file.
pub(crate) fn interpret(top: &[Expr]) -> Result<Blocks, AscError> {
    let mut blocks = Blocks::default();
    for element in top {
        let (items, line) = match element {
            Expr::List { items, line } => (items, *line),
            Expr::Word { text, line } => {
                return Err(AscError::new(*line, format!("unexpected word `{text}` outside any list")))
            }
            Expr::Str { text, line } => {
                return Err(AscError::new(*line, format!("unexpected string \"{text}\" outside any list")))
            }
            Expr::Bar { line } => return Err(AscError::new(*line, "'|' outside a branch split")),
            Expr::Spine { line } => return Err(AscError::new(*line, "spine '<( .. )>' outside a tree")),
        };
        match items.first() {
            // headers and free-standing markers: (Sections ..), (ImageCoords), (Cross ..), ...
            None | Some(Expr::Word { .. }) => {}
            Some(Expr::Bar { line }) => return Err(AscError::new(*line, "'|' at the start of a block")),
            Some(Expr::Str { text, .. }) => {
                let mut tags = Vec::new();
                let body = read_branch(&items[1..], line, Some(&mut tags))?;
                if !body.children.is_empty() {
                    return Err(AscError::new(line, format!("contour \"{text}\" branches; a contour is a closed outline")));
                }
                let tagged_soma = tags.iter().any(|(k, _)| k.is_none());
                // only the soma outline matters; other contours (e.g. "Section_1Contour") are
                // drawing aids and contribute nothing to the cell (spec §1.1)
                if text.eq_ignore_ascii_case("CellBody") || tagged_soma {
                    blocks.somas.push(SomaOutline { points: body.points, line });
                }
            }
            Some(Expr::List { .. } | Expr::Spine { .. }) => {
                let mut tags = Vec::new();
                let root = read_branch(items, line, Some(&mut tags))?;
                let kind = match tags.as_slice() {
                    [] => {
                        return Err(AscError::new(
                            line,
                            "tree without a type tag; expected (Dendrite), (Apical), (Axon) or (CellBody)",
                        ))
                    }
                    [(kind, _)] => *kind,
                    [_, (_, second), ..] => {
                        return Err(AscError::new(*second, "second type tag in the same tree; expected only one"))
                    }
                };
                match kind {
                    None => {
                        if !root.children.is_empty() {
                            return Err(AscError::new(line, "a (CellBody) block cannot branch"));
                        }
                        blocks.somas.push(SomaOutline { points: root.points, line });
                    }
                    Some(kind) => {
                        if root.points.is_empty() {
                            return Err(AscError::new(line, "tree without points; expected points (x y z d) after its tags"));
                        }
                        check_diameters(&root)?;
                        blocks.trees.push(Tree { kind, root });
                    }
                }
            }
        }
    }
    Ok(blocks)
}
