//! Tokenizer and s-expression reader for Neurolucida ASCII (V3) files.
//!
//! The format is a sequence of parenthesised lists. Besides `(` and `)` it uses `|` to separate
//! sibling branches inside a split, `<( ... )>` for spines, `"..."` for names and `;` for comments
//! running to the end of the line. Commas (as in `(Color RGB (0, 255, 64))`) are separators.
//! Everything else is a bare word (numbers, `S1`, `Normal`, tag names).
//!
//! The reader keeps the line of every element so that later stages can say where a problem is.
//! It uses an explicit stack rather than recursion, and caps the nesting depth, so that no input
//! can exhaust the call stack (here or in the recursive stages after it).

use super::AscError;

/// Deepest nesting of lists accepted. Real reconstructions nest one level per branch order
/// (cell1.asc reaches about 20); the cap only guards the recursive stages against hostile input.
pub(crate) const MAX_DEPTH: usize = 512;

/// One element of the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// `( ... )`; `line` is where its `(` stands.
    List { items: Vec<Expr>, line: usize },
    /// A bare word or number, e.g. `Normal`, `S1`, `12.5`.
    Word { text: String, line: usize },
    /// A quoted string, e.g. `"CellBody"`.
    Str { text: String, line: usize },
    /// The sibling-branch separator `|`.
    Bar { line: usize },
    /// A spine `<( ... )>`; its contents are not needed for sections.
    Spine { line: usize },
}

impl Expr {
    /// Line (1-based) where the element starts.
    pub(crate) fn line(&self) -> usize {
        match self {
            Expr::List { line, .. }
            | Expr::Word { line, .. }
            | Expr::Str { line, .. }
            | Expr::Bar { line }
            | Expr::Spine { line } => *line,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Bar,
    SpineOpen,
    SpineClose,
    Word(String),
    Str(String),
}

/// Split the text into tokens, each with its 1-based line.
fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, AscError> {
    let mut tokens = Vec::new();
    let mut line = 1usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            ';' => {
                // comment to end of line; the newline itself is counted by the next iteration
                while let Some(&n) = chars.peek() {
                    if n == '\n' {
                        break;
                    }
                    chars.next();
                }
            }
            '(' => tokens.push((Token::Open, line)),
            ')' => tokens.push((Token::Close, line)),
            '|' => tokens.push((Token::Bar, line)),
            '<' => tokens.push((Token::SpineOpen, line)),
            '>' => tokens.push((Token::SpineClose, line)),
            '"' => {
                let start = line;
                let mut s = String::new();
                let mut closed = false;
                for n in chars.by_ref() {
                    if n == '"' {
                        closed = true;
                        break;
                    }
                    if n == '\n' {
                        line += 1;
                    }
                    s.push(n);
                }
                if !closed {
                    return Err(AscError::new(start, "string opened here never ends (missing closing '\"')"));
                }
                tokens.push((Token::Str(s), start));
            }
            c if c.is_whitespace() || c == ',' => {}
            c => {
                let mut w = String::new();
                w.push(c);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || matches!(n, '(' | ')' | '|' | '<' | '>' | '"' | ';' | ',') {
                        break;
                    }
                    w.push(n);
                    chars.next();
                }
                tokens.push((Token::Word(w), line));
            }
        }
    }
    Ok(tokens)
}

/// An open `(` or `<` waiting for its closing partner.
struct Frame {
    spine: bool,
    line: usize,
    items: Vec<Expr>,
}

/// Read the whole file into its top-level elements.
pub(crate) fn read(text: &str) -> Result<Vec<Expr>, AscError> {
    let tokens = tokenize(text)?;
    let last_line = text.lines().count().max(1);
    let mut top: Vec<Expr> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    for (token, line) in tokens {
        let finished = match token {
            Token::Open | Token::SpineOpen => {
                if stack.len() >= MAX_DEPTH {
                    return Err(AscError::new(line, format!("lists nested deeper than {MAX_DEPTH} levels")));
                }
                stack.push(Frame { spine: token == Token::SpineOpen, line, items: Vec::new() });
                continue;
            }
            Token::Close => match stack.pop() {
                None => return Err(AscError::new(line, "unexpected ')' with no matching '('")),
                Some(f) if f.spine => {
                    return Err(AscError::new(
                        line,
                        format!("expected '>' to close the spine '<' opened at line {}, found ')'", f.line),
                    ))
                }
                Some(f) => Expr::List { items: f.items, line: f.line },
            },
            Token::SpineClose => match stack.pop() {
                Some(f) if f.spine => Expr::Spine { line: f.line },
                Some(f) => {
                    return Err(AscError::new(
                        line,
                        format!("unexpected '>': expected ')' to close the '(' opened at line {}", f.line),
                    ))
                }
                None => return Err(AscError::new(line, "unexpected '>' with no matching '<'")),
            },
            Token::Bar => Expr::Bar { line },
            Token::Word(text) => Expr::Word { text, line },
            Token::Str(text) => Expr::Str { text, line },
        };
        match stack.last_mut() {
            Some(parent) => parent.items.push(finished),
            None => top.push(finished),
        }
    }
    if let Some(open) = stack.last() {
        let (opener, closer) = if open.spine { ("spine '<'", "'>'") } else { ("'('", "')'") };
        return Err(AscError::new(
            last_line,
            format!("file ends inside the {opener} opened at line {} (missing {closer}; truncated file?)", open.line),
        ));
    }
    Ok(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_lists_words_strings_and_spines() {
        let text = "; comment (ignored\n(\"CellBody\" (Color RGB (0, 255, 64))\n (1 2 3 4 S1) <(5 6 7 8)> | Normal)";
        let top = read(text).unwrap();
        assert_eq!(top.len(), 1);
        let Expr::List { items, line } = &top[0] else { panic!("expected a list") };
        assert_eq!(*line, 2);
        assert_eq!(items[0], Expr::Str { text: "CellBody".into(), line: 2 });
        assert!(matches!(&items[2], Expr::List { line: 3, items } if items.len() == 5));
        assert_eq!(items[3], Expr::Spine { line: 3 });
        assert_eq!(items[4], Expr::Bar { line: 3 });
        assert_eq!(items[5], Expr::Word { text: "Normal".into(), line: 3 });
    }

    #[test]
    fn reports_unbalanced_input_with_lines() {
        let e = read("(1 2 3 4)\n)").unwrap_err();
        assert_eq!(e.line, 2);
        let e = read("(\n(1 2 3 4)\n").unwrap_err();
        assert!(e.message.contains("opened at line 1"), "{}", e.message);
        let e = read("(a \"unterminated\n)").unwrap_err();
        assert_eq!(e.line, 1);
        let e = read("<(1 2 3 4))").unwrap_err();
        assert!(e.message.contains("expected '>'"), "{}", e.message);
    }

    #[test]
    fn caps_nesting_depth() {
        let deep = "(".repeat(MAX_DEPTH + 1);
        let e = read(&deep).unwrap_err();
        assert!(e.message.contains("nested deeper"), "{}", e.message);
    }
}
