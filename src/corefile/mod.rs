//! The Corefile: bytes → tokens → server blocks → normalised server keys (corefile.md §1
//! steps 2–4), plus the digest the reload check compares (cli-and-endpoints.md §8.1).
//!
//! The grammar and its quirks are CoreDNS's (its fork of the Caddy v1 `caddyfile` package),
//! so every Corefile CoreDNS accepts parses here into the same blocks and tokens, and every
//! one it rejects fails with the same message.
//!
//! * `lexer`: bytes → tokens with file and line.
//! * `env`: `{$VAR}` / `{%VAR%}` substitution in a token.
//! * `parser` (with `stream`, `imports`, `glob`, `path_text`): blocks, directives, snippets,
//!   `import`.
//! * `keys` (with `dns_name`, `cidr`): `[SCHEME://]ZONE[:PORT]` → [`plugin::ServerKey`].
//! * `digest`: SHA-512 of the parsed blocks.

use std::path::PathBuf;
use std::sync::Arc;

mod cidr;
mod digest;
mod dns_name;
mod env;
mod error;
mod fuzz;
mod glob;
mod imports;
mod keys;
mod lexer;
mod parser;
mod path_text;
#[cfg(test)]
mod spec_tests;
mod stream;
#[cfg(test)]
mod test_dir;

pub use digest::digest;
pub use error::{CorefileError, KeyError, ParseProblem};
pub use fuzz::fuzz_parse;
pub use keys::{Scheme, inspect_keys};

/// A Corefile to parse.
#[derive(Clone, Debug)]
pub struct Source {
    /// What error messages print as FILE: the `-conf` path as given, or `Corefile`.
    pub name: Arc<str>,
    pub text: Vec<u8>,
    /// The directory relative imports in this file are resolved against.
    pub dir: PathBuf,
}

/// One server block: its keys as written (after env substitution) and its directives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerBlock {
    /// Raw key texts; empty keys are dropped (a `,` on its own leaves an empty key, which
    /// [`inspect_keys`] refuses, as CoreDNS does).
    pub keys: Vec<String>,
    /// One entry per occurrence, in file order.
    pub directives: Vec<Directive>,
}

/// One occurrence of a directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
    /// The directive-name token, then everything up to the end of its line or its matching
    /// `}`, braces included, env-substituted.
    pub tokens: Vec<plugin::Token>,
}

impl ServerBlock {
    /// All tokens of every occurrence of `name`, concatenated in file order (what a plugin's
    /// Dispenser gets).
    pub fn tokens_of(&self, name: &str) -> Vec<plugin::Token> {
        self.directives
            .iter()
            .filter(|d| d.name == name)
            .flat_map(|d| d.tokens.iter().cloned())
            .collect()
    }
}

/// Lexes and parses `source`: imports expanded, env substituted through `env`, directive
/// names checked with `is_known` (None: no check, as the reload digest parses).
pub fn parse(
    source: &Source,
    env: &dyn Fn(&str) -> Option<String>,
    is_known: Option<&dyn Fn(&str) -> bool>,
) -> Result<Vec<ServerBlock>, CorefileError> {
    parse_with_limits(source, env, is_known, parser::Limits::COREDNS)
}

fn parse_with_limits(
    source: &Source,
    env: &dyn Fn(&str) -> Option<String>,
    is_known: Option<&dyn Fn(&str) -> bool>,
    limits: parser::Limits,
) -> Result<Vec<ServerBlock>, CorefileError> {
    let tokens = lexer::lex(&source.text, &source.name);
    parser::Parser::new(source, tokens, env, is_known, limits).parse_all()
}
