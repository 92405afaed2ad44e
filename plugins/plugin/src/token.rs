//! A Corefile token: its text and where it was written.

use std::sync::Arc;

/// One lexed Corefile token. `file` is the path given with `-conf` (or `Corefile`), or the
/// absolute path of the imported file the token came from: error messages print it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub file: Arc<str>,
    /// Line on which the token starts (1-based, LF counted).
    pub line: u32,
    pub text: String,
}

impl Token {
    pub fn new(file: impl Into<Arc<str>>, line: u32, text: impl Into<String>) -> Self {
        Token {
            file: file.into(),
            line,
            text: text.into(),
        }
    }

    /// Newlines inside the token (a quoted token may span lines): the next token on the
    /// physical line of its end counts as being on the same line (corefile.md §2).
    pub fn line_breaks(&self) -> u32 {
        self.text.bytes().filter(|&b| b == b'\n').count() as u32
    }
}
