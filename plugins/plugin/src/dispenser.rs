//! The cursor plugins read their Corefile tokens with.
//!
//! The primitives and their quirks are CoreDNS's (the Caddy v1 `Dispenser`, corefile.md §10), so
//! a plugin's option parser written "the CoreDNS way" accepts and rejects the same Corefiles.

use std::fmt;
use std::sync::Arc;

use crate::token::Token;

/// A Corefile syntax error with its location, displayed exactly as CoreDNS prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub file: Arc<str>,
    pub line: u32,
    pub kind: ParseErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// `FILE:LINE - Error during parsing: MESSAGE`
    Parsing(String),
    /// `FILE:LINE - Syntax error: Unexpected token 'FOUND', expecting 'EXPECTED'`
    Syntax { found: String, expected: String },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ParseErrorKind::Parsing(msg) => {
                write!(
                    f,
                    "{}:{} - Error during parsing: {}",
                    self.file, self.line, msg
                )
            }
            ParseErrorKind::Syntax { found, expected } => write!(
                f,
                "{}:{} - Syntax error: Unexpected token '{}', expecting '{}'",
                self.file, self.line, found, expected
            ),
        }
    }
}

impl std::error::Error for ParseError {}

/// A second occurrence of a once-per-block directive (becomes `ConfigError::Once`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Once;

/// A cursor over the tokens of one directive in one server block (all its occurrences, in
/// file order). It starts *before* the first token: the first [`Dispenser::next`] lands on the
/// directive's name.
#[derive(Clone, Debug)]
pub struct Dispenser {
    file: Arc<str>,
    tokens: Vec<Token>,
    /// Index of the current token; -1 before the first `next`.
    cursor: isize,
    nesting: usize,
}

impl Dispenser {
    /// The tokens of a Corefile snippet with one directive or option per line and no quoting
    /// (tests and fuzz entry points; the server's tokens come from its Corefile lexer).
    pub fn from_snippet(text: &str) -> Self {
        let file: Arc<str> = Arc::from("Corefile");
        let tokens = text
            .lines()
            .enumerate()
            .flat_map(|(i, line)| {
                let file = file.clone();
                let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
                line.split_whitespace()
                    .map(move |w| Token::new(file.clone(), number, w))
            })
            .collect();
        Dispenser::new(file, tokens)
    }

    pub fn new(file: impl Into<Arc<str>>, tokens: Vec<Token>) -> Self {
        Dispenser {
            file: file.into(),
            tokens,
            cursor: -1,
            nesting: 0,
        }
    }

    /// Lexes nothing: builds a dispenser from whitespace-separated words on one line, for tests
    /// and for plugins that re-read a sub-option.
    pub fn from_words(file: &str, line: u32, words: &[&str]) -> Self {
        let file: Arc<str> = Arc::from(file);
        let tokens = words
            .iter()
            .map(|w| Token::new(file.clone(), line, *w))
            .collect();
        Dispenser::new(file, tokens)
    }

    fn token(&self, index: isize) -> Option<&Token> {
        usize::try_from(index).ok().and_then(|i| self.tokens.get(i))
    }

    fn has_following(&self) -> bool {
        self.cursor + 1 < self.tokens.len() as isize
    }

    /// Advances to the next token, across lines. False at the end. (Named after CoreDNS's
    /// `Next`, which plugin parsers are ported from; not an iterator.)
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> bool {
        if self.has_following() {
            self.cursor += 1;
            true
        } else {
            false
        }
    }

    /// Advances only if the next token is on the same logical line as the current one.
    pub fn next_arg(&mut self) -> bool {
        if self.cursor < 0 {
            self.cursor += 1;
            return !self.tokens.is_empty();
        }
        if !self.has_following() {
            return false;
        }
        let (cur, next) = (
            &self.tokens[self.cursor as usize],
            &self.tokens[self.cursor as usize + 1],
        );
        if cur.file == next.file && cur.line + cur.line_breaks() == next.line {
            self.cursor += 1;
            true
        } else {
            false
        }
    }

    /// Advances only if the next token starts a new line.
    pub fn next_line(&mut self) -> bool {
        if self.cursor < 0 {
            self.cursor += 1;
            return !self.tokens.is_empty();
        }
        if !self.has_following() {
            return false;
        }
        let (cur, next) = (
            &self.tokens[self.cursor as usize],
            &self.tokens[self.cursor as usize + 1],
        );
        if cur.file != next.file || cur.line + cur.line_breaks() < next.line {
            self.cursor += 1;
            true
        } else {
            false
        }
    }

    /// Walks a `{ ... }` block one token per call. Outside a block it succeeds only when the
    /// next token on the same line is `{` followed by something other than `}`, and lands on
    /// the first inner token. Inside, it advances and returns false (leaving the block) on `}`.
    pub fn next_block(&mut self) -> bool {
        if self.nesting > 0 {
            self.next();
            if self.val() == "}" {
                self.nesting -= 1;
                return false;
            }
            return true;
        }
        if !self.next_arg() {
            return false;
        }
        if self.val() != "{" {
            self.cursor -= 1;
            return false;
        }
        self.next();
        if self.val() == "}" {
            // Opened and closed right away: an empty block.
            return false;
        }
        self.nesting += 1;
        true
    }

    /// Text of the current token ("" before the first or past the last).
    pub fn val(&self) -> &str {
        self.token(self.cursor).map_or("", |t| t.text.as_str())
    }

    /// Line of the current token (0 before the first token).
    pub fn line(&self) -> u32 {
        self.token(self.cursor).map_or(0, |t| t.line)
    }

    /// File of the current token, else the dispenser's file.
    pub fn file(&self) -> &str {
        self.token(self.cursor).map_or(&self.file, |t| &t.file)
    }

    /// Collects the arguments left on this line, stopping before a `{`.
    pub fn remaining_args(&mut self) -> Vec<String> {
        let mut args = Vec::new();
        while self.next_arg() {
            if self.val() == "{" {
                self.cursor -= 1;
                break;
            }
            args.push(self.val().to_string());
        }
        args
    }

    /// Moves onto the directive's name for a directive allowed once per server block: false
    /// when there is none, [`Once`] when this is a second occurrence (the first must have been
    /// read whole).
    pub fn next_once(&mut self) -> Result<bool, Once> {
        let first = self.cursor < 0;
        if !self.next() {
            return Ok(false);
        }
        if first { Ok(true) } else { Err(Once) }
    }

    /// Moves onto the next occurrence's directive name and rejects any argument on its line
    /// (ARGERR, or "Unexpected token '{'" for a block): the whole parser of a directive that
    /// takes no arguments. False when there is no further occurrence.
    pub fn no_args(&mut self) -> Result<bool, ParseError> {
        if !self.next() {
            return Ok(false);
        }
        if self.next_arg() {
            return Err(self.arg_err());
        }
        Ok(true)
    }

    /// `FILE:LINE - Error during parsing: MESSAGE` at the current token.
    pub fn err(&self, msg: impl Into<String>) -> ParseError {
        ParseError {
            file: Arc::from(self.file()),
            line: self.line(),
            kind: ParseErrorKind::Parsing(msg.into()),
        }
    }

    /// The wrong-argument-count error at the current token.
    pub fn arg_err(&self) -> ParseError {
        if self.val() == "{" {
            return self.err("Unexpected token '{', expecting argument");
        }
        self.err(format!(
            "Wrong argument count or unexpected line ending after '{}'",
            self.val()
        ))
    }

    /// `FILE:LINE - Syntax error: Unexpected token 'VAL', expecting 'EXPECTED'`.
    pub fn syntax_err(&self, expected: impl Into<String>) -> ParseError {
        ParseError {
            file: Arc::from(self.file()),
            line: self.line(),
            kind: ParseErrorKind::Syntax {
                found: self.val().to_string(),
                expected: expected.into(),
            },
        }
    }

    /// All tokens, for plugins that need to look at them whole (e.g. the reload digest).
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(spec: &[(u32, &str)]) -> Dispenser {
        let file: Arc<str> = Arc::from("Corefile");
        Dispenser::new(
            file.clone(),
            spec.iter()
                .map(|(l, t)| Token::new(file.clone(), *l, *t))
                .collect(),
        )
    }

    #[test]
    fn next_arg_stays_on_the_line() {
        let mut d = tokens(&[(1, "log"), (1, "a"), (2, "b")]);
        assert!(d.next());
        assert_eq!(d.remaining_args(), vec!["a"]);
        assert!(!d.next_arg());
        assert!(d.next_line());
        assert_eq!(d.val(), "b");
    }

    #[test]
    fn remaining_args_stop_before_a_brace() {
        let mut d = tokens(&[
            (1, "forward"),
            (1, "."),
            (1, "1.1.1.1"),
            (1, "{"),
            (2, "max_fails"),
            (2, "3"),
            (3, "}"),
        ]);
        d.next();
        assert_eq!(d.remaining_args(), vec![".", "1.1.1.1"]);
        assert!(d.next_block());
        assert_eq!(d.val(), "max_fails");
        assert_eq!(d.remaining_args(), vec!["3"]);
        assert!(!d.next_block());
        assert!(!d.next());
    }

    #[test]
    fn empty_block_is_no_block() {
        let mut d = tokens(&[(1, "health"), (1, "{"), (2, "}")]);
        d.next();
        assert!(!d.next_block());
    }

    #[test]
    fn brace_on_next_line_is_not_a_block() {
        let mut d = tokens(&[
            (2, "forward"),
            (2, "."),
            (2, "1.1.1.1"),
            (3, "{"),
            (4, "max_fails"),
        ]);
        d.next();
        assert_eq!(d.remaining_args().len(), 2);
        assert!(!d.next_block());
        assert!(d.next());
        assert_eq!(
            d.arg_err().to_string(),
            "Corefile:3 - Error during parsing: Unexpected token '{', expecting argument"
        );
    }

    #[test]
    fn multi_line_token_keeps_following_token_on_its_line() {
        let mut d = tokens(&[(1, "log"), (1, "a\nb"), (2, "c")]);
        d.next();
        assert_eq!(d.remaining_args(), vec!["a\nb", "c"]);
    }

    #[test]
    fn errors_print_like_coredns() {
        let mut d = tokens(&[(2, "whoami"), (2, "extra")]);
        d.next();
        d.next();
        assert_eq!(
            d.arg_err().to_string(),
            "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'extra'"
        );
        assert_eq!(
            d.syntax_err("Unknown field x").to_string(),
            "Corefile:2 - Syntax error: Unexpected token 'extra', expecting 'Unknown field x'"
        );
    }

    #[test]
    fn next_once_rejects_a_second_occurrence() {
        let mut d = tokens(&[(1, "ready"), (1, ":8181"), (2, "ready")]);
        assert_eq!(d.next_once(), Ok(true));
        d.remaining_args();
        assert_eq!(d.next_once(), Err(Once));
        assert_eq!(tokens(&[]).next_once(), Ok(false));
    }

    #[test]
    fn no_args_reads_each_occurrence() {
        let mut d = tokens(&[(1, "debug"), (2, "debug"), (3, "debug"), (3, "x")]);
        assert_eq!(d.no_args(), Ok(true));
        assert_eq!(d.no_args(), Ok(true));
        assert_eq!(
            d.no_args().unwrap_err().to_string(),
            "Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'x'"
        );
    }
}
