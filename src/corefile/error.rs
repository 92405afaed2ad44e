//! Errors of the Corefile parser and of server-key inspection, displayed exactly as CoreDNS
//! prints them (corefile.md §11): users and scripts grep for these texts.

use std::sync::Arc;

use plugin::dispenser::{ParseError, ParseErrorKind};

/// A parse error at a token: `FILE:LINE - Error during parsing: …` or
/// `FILE:LINE - Syntax error: …`. The process stops at the first one (corefile.md §1).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line} - {}: {problem}", .problem.category())]
pub struct CorefileError {
    /// The name the Corefile was given (`-conf` path or `Corefile`), or the absolute path of
    /// the imported file the token came from.
    pub file: Arc<str>,
    /// Line of the token the error is about; 0 when the input ended before any token (as
    /// CoreDNS prints it).
    pub line: u32,
    pub problem: ParseProblem,
}

/// What went wrong at that token. The texts are CoreDNS's (Caddy v1 `caddyfile` parser).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseProblem {
    #[error("Unknown directive '{0}'")]
    UnknownDirective(String),
    /// A `}` at depth 0 on the same line as a directive (`. { whoami }`).
    #[error("Unexpected '}}' because no matching opening brace")]
    UnmatchedClosingBrace,
    /// The input ended inside a sub-block, or after a key with a trailing comma.
    #[error("Unexpected EOF")]
    UnexpectedEof,
    /// A trailing comma on the last key before the `{` (`a.org, {`).
    #[error("Expected another address but had '{0}' - check for extra comma")]
    DanglingComma(String),
    /// The only syntax error: a block that does not open or close where it must.
    #[error("Unexpected token '{found}', expecting '{expected}'")]
    Unexpected { found: String, expected: String },
    /// `import` without an argument.
    #[error("Wrong argument count or unexpected line ending after '{0}'")]
    WrongArgumentCount(String),
    #[error("Import requires a non-empty filepath")]
    ImportNeedsPath,
    #[error("Import takes only one argument (glob pattern or file)")]
    ImportTakesOneArgument,
    #[error("File to import not found: {0}")]
    ImportNotFound(String),
    /// CoreDNS issue #2096: patterns with several wildcards can take too long to expand.
    #[error("Glob pattern may only contain one wildcard (*), but has others: {0}")]
    GlobTooComplex(String),
    /// A malformed pattern (an unclosed `[`, a trailing `\`), as Go's `filepath.ErrBadPattern`.
    #[error("Failed to use import pattern {0}: syntax error in pattern")]
    BadImportPattern(String),
    #[error("Could not import {0}: is a directory")]
    ImportIsDirectory(String),
    /// Opening or reading an imported file failed; `reason` reads like Go's
    /// `open PATH: permission denied`.
    #[error("Could not import {path}: {reason}")]
    CouldNotImport { path: String, reason: String },
    /// The directory relative imports are resolved against could not be made absolute.
    #[error("Failed to get absolute path of file: {file}: {reason}")]
    NoBaseDirectory { file: String, reason: String },
    #[error("redeclaration of previously declared snippet {0}")]
    SnippetRedeclared(String),
    /// Too many snippet expansions, or a snippet that imports itself.
    #[error("maximum snippet import depth ({0}) exceeded")]
    SnippetDepth(usize),
    /// Too many file imports (CoreDNS prints the snippet limit here by mistake; we print the
    /// limit that applies).
    #[error("maximum file import depth ({0}) exceeded")]
    FileImportDepth(usize),
    /// Hardening: imports multiplied the token count beyond a sane size.
    #[error("imports expand to more than {0} tokens")]
    TooManyTokens(usize),
    /// Hardening: a variable whose value refers to itself (CoreDNS loops forever).
    #[error("environment variable substitution in '{0}' does not end (self-referencing variable?)")]
    EnvSubstitutionRunaway(String),
    /// Only the fuzz entry point parses with file imports switched off.
    #[error("File imports are disabled: {0}")]
    FileImportsDisabled(String),
}

impl ParseProblem {
    /// The part after `FILE:LINE - `, before the message.
    pub fn category(&self) -> &'static str {
        match self {
            ParseProblem::Unexpected { .. } => "Syntax error",
            _ => "Error during parsing",
        }
    }
}

impl From<CorefileError> for ParseError {
    /// The contract's token error type, for callers that pass parse errors on as plugin
    /// errors; the text stays the same.
    fn from(e: CorefileError) -> Self {
        let kind = match e.problem {
            ParseProblem::Unexpected { found, expected } => {
                ParseErrorKind::Syntax { found, expected }
            }
            other => ParseErrorKind::Parsing(other.to_string()),
        };
        ParseError {
            file: e.file,
            line: e.line,
            kind,
        }
    }
}

/// A server key that cannot be served (corefile.md §6 step 2–4), displayed with CoreDNS's
/// `error inspecting server blocks: ` prefix. The `-dns.port` flag error is the exception:
/// CoreDNS reports it when it opens the listener, without the prefix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// `example.org:` — Go's `%q` quoting of the key (without scheme).
    #[error("error inspecting server blocks: expecting data after last colon: {}", go_quote(.0))]
    NothingAfterColon(String),
    #[error("error inspecting server blocks: specified zone is too long: {0} > 255")]
    ZoneTooLong(usize),
    /// Empty (`:53`) or not a syntactically valid name (`a..b`, a label over 63 octets).
    #[error("error inspecting server blocks: zone is not a valid domain name: {0}")]
    InvalidZone(String),
    /// An IPv6 CIDR starting with `:` or `0` (CoreDNS refuses those, e.g. `::1/128`).
    #[error("error inspecting server blocks: invalid CIDR {0}")]
    InvalidCidr(String),
    /// An explicit port outside 0–65535 (CoreDNS fails later, when it listens).
    #[error("error inspecting server blocks: invalid port {port} in {}", go_quote(.key))]
    InvalidPort { key: String, port: i64 },
    /// `unix://` is recognised by CoreDNS's scheme parser but never served (corefile.md §6).
    #[error("error inspecting server blocks: transport unix is not supported: {0}")]
    UnixTransport(String),
    /// The `-dns.port` value is not a port number, as Go's resolver words it.
    #[error("address tcp/{0}: unknown port")]
    UnknownDefaultPort(String),
    /// The `-dns.port` value is a number outside 0–65535.
    #[error("address {0}: invalid port")]
    DefaultPortOutOfRange(String),
}

/// Go's `strconv.Quote`: double quotes, `\"` and `\\`, Go's short escapes for control
/// characters, `\xNN` for other ASCII controls, `\u`/`\U` for non-printable characters.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_ascii() || is_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `strconv.IsPrint` for non-ASCII characters: controls,
/// separators other than the ASCII space, and the invisible format characters are not.
fn is_printable(c: char) -> bool {
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{206f}' | '\u{feff}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_print_file_line_and_category_like_coredns() {
        let at = |line, problem| CorefileError {
            file: Arc::from("Corefile"),
            line,
            problem,
        };
        let cases = [
            (
                at(3, ParseProblem::UnknownDirective("foo".into())),
                "Corefile:3 - Error during parsing: Unknown directive 'foo'",
            ),
            (
                at(1, ParseProblem::UnmatchedClosingBrace),
                "Corefile:1 - Error during parsing: Unexpected '}' because no matching opening brace",
            ),
            (
                at(
                    2,
                    ParseProblem::Unexpected {
                        found: "whoami".into(),
                        expected: "}".into(),
                    },
                ),
                "Corefile:2 - Syntax error: Unexpected token 'whoami', expecting '}'",
            ),
            (
                at(1, ParseProblem::DanglingComma("{".into())),
                "Corefile:1 - Error during parsing: Expected another address but had '{' - check for extra comma",
            ),
            (
                at(2, ParseProblem::ImportNotFound("custom/x.conf".into())),
                "Corefile:2 - Error during parsing: File to import not found: custom/x.conf",
            ),
            (
                at(1, ParseProblem::SnippetDepth(10000)),
                "Corefile:1 - Error during parsing: maximum snippet import depth (10000) exceeded",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }

    #[test]
    fn parse_errors_convert_to_the_contract_type_with_the_same_text() {
        for problem in [
            ParseProblem::UnexpectedEof,
            ParseProblem::Unexpected {
                found: "x".into(),
                expected: "{".into(),
            },
        ] {
            let error = CorefileError {
                file: Arc::from("/abs/x.conf"),
                line: 7,
                problem,
            };
            let text = error.to_string();
            assert_eq!(ParseError::from(error).to_string(), text);
        }
    }

    #[test]
    fn key_errors_carry_the_inspection_prefix() {
        assert_eq!(
            KeyError::InvalidZone(String::new()).to_string(),
            "error inspecting server blocks: zone is not a valid domain name: "
        );
        assert_eq!(
            KeyError::NothingAfterColon("example.org:".into()).to_string(),
            "error inspecting server blocks: expecting data after last colon: \"example.org:\""
        );
        assert_eq!(
            KeyError::InvalidCidr("::1/128".into()).to_string(),
            "error inspecting server blocks: invalid CIDR ::1/128"
        );
        assert_eq!(
            KeyError::UnknownDefaultPort("abc".into()).to_string(),
            "address tcp/abc: unknown port"
        );
    }

    #[test]
    fn go_quote_escapes_like_strconv_quote() {
        let cases = [
            ("a.org:", r#""a.org:""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("t\tn\nr\r", r#""t\tn\nr\r""#),
            ("\u{1}", r#""\x01""#),
            ("\u{a0}", r#""\u00a0""#),
            ("é", "\"é\""),
        ];
        for (input, quoted) in cases {
            assert_eq!(go_quote(input), quoted, "{input:?}");
        }
    }
}
