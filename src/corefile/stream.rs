//! The parser's cursor over the token list, with the Caddy dispenser's notion of lines.
//!
//! CoreDNS splices imported tokens into one array and moves an index over it. The parser only
//! ever looks at the current token, the one before it (for "is this a new line") and the one
//! after it (for "is the next token on this line"), and steps back by one at most, so a
//! stack of upcoming tokens plus the previous one behaves the same without copying the rest
//! of the file on every import.

use plugin::Token;

pub struct TokenStream {
    /// Upcoming tokens, the next one last.
    upcoming: Vec<Token>,
    /// The loaded token; `None` before the first and after an import at the very end.
    current: Option<Token>,
    /// The token before `current` in the spliced sequence; `None` when unknown (only right
    /// after [`TokenStream::unread`], which is always followed by [`TokenStream::next`]).
    previous: Option<Token>,
}

impl TokenStream {
    pub fn new(mut tokens: Vec<Token>) -> Self {
        tokens.reverse();
        TokenStream {
            upcoming: tokens,
            current: None,
            previous: None,
        }
    }

    /// Loads the next token, across lines. False (and nothing changes) at the end.
    pub fn next(&mut self) -> bool {
        match self.upcoming.pop() {
            Some(token) => {
                self.previous = self.current.replace(token);
                true
            }
            None => false,
        }
    }

    /// Loads the next token only if it is on the current token's logical line: same file,
    /// and starting on the line where the current token (which may span lines) ends.
    pub fn next_arg(&mut self) -> bool {
        let same_line = match (&self.current, self.upcoming.last()) {
            (Some(current), Some(next)) => {
                current.file == next.file
                    && u64::from(current.line) + u64::from(current.line_breaks())
                        == u64::from(next.line)
            }
            (None, Some(_)) => true,
            _ => false,
        };
        same_line && self.next()
    }

    /// Whether the current token starts a line: no token before it, or the one before ends
    /// on an earlier line or comes from another file. A snippet spliced in below the lines
    /// it was defined on is therefore *not* on a new line (as in CoreDNS).
    pub fn is_new_line(&self) -> bool {
        match (&self.previous, &self.current) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(previous), Some(current)) => {
                previous.file != current.file
                    || u64::from(previous.line) + u64::from(previous.line_breaks())
                        < u64::from(current.line)
            }
        }
    }

    /// Steps back one token (CoreDNS `cursor--`): the current token becomes upcoming again.
    pub fn unread(&mut self) {
        if let Some(token) = self.current.take() {
            self.upcoming.push(token);
        }
        self.current = self.previous.take();
    }

    pub fn current(&self) -> Option<&Token> {
        self.current.as_ref()
    }

    /// The token before the current one (the parser keeps it across an import).
    pub fn previous(&self) -> Option<&Token> {
        self.previous.as_ref()
    }

    /// Text of the current token, "" when none is loaded.
    pub fn val(&self) -> &str {
        self.current.as_ref().map_or("", |t| t.text.as_str())
    }

    /// Replaces `import ARG` (already consumed) with `imported`, which come next. The token
    /// that preceded `import` becomes current again, so the next [`TokenStream::next`] loads
    /// the first imported token and line checks compare against what preceded the import.
    pub fn splice(&mut self, before_import: Option<Token>, imported: Vec<Token>) {
        self.upcoming.extend(imported.into_iter().rev());
        self.current = before_import;
        self.previous = None;
    }

    /// After a [`TokenStream::splice`] in key position CoreDNS does not step: the first
    /// imported token (or what follows the import) is current at once, or nothing at all when
    /// the input ends there.
    pub fn load_spliced(&mut self) {
        let before = self.current.take();
        self.current = self.upcoming.pop();
        self.previous = before;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn stream(spec: &[(&str, u32, &str)]) -> TokenStream {
        TokenStream::new(
            spec.iter()
                .map(|(f, l, t)| Token::new(Arc::<str>::from(*f), *l, *t))
                .collect(),
        )
    }

    #[test]
    fn next_arg_stops_at_line_end_and_follows_multi_line_tokens() {
        let mut s = stream(&[
            ("C", 1, "a"),
            ("C", 1, "b\nc"),
            ("C", 2, "d"),
            ("C", 3, "e"),
        ]);
        assert!(s.next());
        assert!(s.next_arg());
        assert!(s.next_arg(), "d starts on the line where b\\nc ends");
        assert!(!s.next_arg());
        assert!(s.next());
        assert_eq!(s.val(), "e");
        assert!(s.is_new_line());
    }

    #[test]
    fn tokens_from_another_file_are_on_a_new_line() {
        let mut s = stream(&[("C", 1, "a"), ("/x", 1, "b")]);
        s.next();
        assert!(!s.next_arg());
        s.next();
        assert!(s.is_new_line());
    }

    #[test]
    fn unread_then_next_restores_the_same_view() {
        let mut s = stream(&[("C", 1, "a"), ("C", 2, "b")]);
        s.next();
        s.next();
        s.unread();
        assert_eq!(s.val(), "a");
        assert!(s.next());
        assert_eq!(s.val(), "b");
        assert!(s.is_new_line());
    }

    #[test]
    fn splice_puts_imported_tokens_next() {
        let mut s = stream(&[
            ("C", 1, "k"),
            ("C", 2, "import"),
            ("C", 2, "x"),
            ("C", 3, "z"),
        ]);
        s.next();
        s.next();
        let before = s.previous().cloned();
        s.next_arg();
        s.splice(
            before,
            vec![Token::new("/f", 1, "i1"), Token::new("/f", 1, "i2")],
        );
        assert_eq!(s.val(), "k");
        let mut seen = Vec::new();
        while s.next() {
            seen.push(s.val().to_string());
        }
        assert_eq!(seen, vec!["i1", "i2", "z"]);
    }

    #[test]
    fn loading_an_empty_splice_at_the_end_leaves_no_current_token() {
        let mut s = stream(&[("C", 1, "import"), ("C", 1, "x")]);
        s.next();
        let before = s.previous().cloned();
        s.next_arg();
        s.splice(before, Vec::new());
        s.load_spliced();
        assert_eq!(s.val(), "");
        assert!(s.current().is_none());
        assert!(!s.next());
    }
}
