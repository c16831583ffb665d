//! Every error the window shows also goes to standard error, once when it first appears, so a
//! scripted or remote run (`--scenario`, `--autoplay`, screenshots under Xvfb) sees it too.

use std::collections::BTreeSet;

/// The errors shown at the last frame; a new one is printed to stderr.
#[derive(Debug, Default)]
pub struct ErrorEcho {
    shown: BTreeSet<String>,
}

impl ErrorEcho {
    /// The errors the window shows now: those not shown at the last call go to stderr. Returns
    /// the ones printed.
    pub fn show(&mut self, errors: impl IntoIterator<Item = String>) -> Vec<String> {
        let now: BTreeSet<String> = errors.into_iter().collect();
        let new: Vec<String> = now.difference(&self.shown).cloned().collect();
        for e in &new {
            eprintln!("neurotwin: error: {e}");
        }
        self.shown = now;
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_is_printed_once_while_shown_and_again_when_it_returns() {
        let mut echo = ErrorEcho::default();
        assert_eq!(echo.show(["a".to_string()]), vec!["a".to_string()]);
        assert!(echo.show(["a".to_string()]).is_empty());
        assert_eq!(echo.show(["a".to_string(), "b".to_string()]), vec!["b".to_string()]);
        assert!(echo.show(Vec::new()).is_empty());
        assert_eq!(echo.show(["a".to_string()]), vec!["a".to_string()]);
    }
}
