//! Bytes → tokens (corefile.md §2), as the Caddy v1 lexer CoreDNS uses.
//!
//! Lexing never fails: invalid UTF-8 becomes U+FFFD, an unterminated quote swallows the rest
//! of the input. Each token records the line it starts on (LF counted); a quoted token may
//! span lines, and the dispenser then treats the next token as being on the same line.

use std::sync::Arc;

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_till1, take_while1};
use nom::character::complete::{anychar, char};
use nom::combinator::{eof, recognize, value};
use nom::multi::many0;
use nom::sequence::preceded;
use nom::{IResult, Parser};

use plugin::Token;

/// All tokens of `bytes`, each tagged with `file`.
pub fn lex(bytes: &[u8], file: &Arc<str>) -> Vec<Token> {
    let text = decode(bytes);
    let mut input = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut line: u32 = 1;
    let mut tokens = Vec::new();
    loop {
        let (rest, skipped) = separators(input);
        line = line.saturating_add(count_lines(skipped));
        input = rest;
        if input.is_empty() {
            return tokens;
        }
        let (rest, lexeme) = if input.starts_with('"') {
            quoted(input)
        } else {
            bare(input)
        };
        // Go's lexer makes no token out of an unterminated quote with nothing in it (`"` or
        // `"\` at the very end); a closed `""` is a real, empty argument.
        if lexeme.closed || !lexeme.text.is_empty() {
            tokens.push(Token::new(file.clone(), line, lexeme.text));
        }
        line = line.saturating_add(count_lines(&input[..input.len() - rest.len()]));
        input = rest;
    }
}

/// Go's `bufio.Reader.ReadRune` decoding: every byte that is not part of a valid UTF-8
/// sequence becomes one U+FFFD (Rust's lossy decoding would merge some of them).
fn decode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for _ in chunk.invalid() {
            out.push(char::REPLACEMENT_CHARACTER);
        }
    }
    out
}

fn count_lines(s: &str) -> u32 {
    u32::try_from(s.bytes().filter(|&b| b == b'\n').count()).unwrap_or(u32::MAX)
}

/// Go's `unicode.IsSpace` and Rust's `char::is_whitespace` are the same set (the Unicode
/// White_Space property): NBSP, NEL and the other Unicode spaces separate tokens too.
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Whitespace and comments before the next token. A `#` outside quotes comments out the
/// rest of the line, also right after a token (`foo#bar` → `foo`).
fn separators(input: &str) -> (&str, &str) {
    let comment = recognize(preceded(char('#'), take_till(|c| c == '\n')));
    let result: IResult<&str, &str> =
        recognize(many0(alt((take_while1(is_space), comment)))).parse(input);
    // Both alternatives consume at least one character, so this cannot fail; stay total
    // anyway rather than trust that.
    result.unwrap_or((input, ""))
}

struct Lexeme {
    text: String,
    /// False for a quoted token that ran into the end of the input.
    closed: bool,
}

/// A token that does not begin with `"`: up to whitespace or `#`. A CR inside it is dropped
/// rather than ending it (Go's lexer ignores CR outside quotes), and a `"` inside it is
/// literal (`a"b` stays `a"b`).
fn bare(input: &str) -> (&str, Lexeme) {
    let result: IResult<&str, &str> =
        take_till1(|c| (is_space(c) && c != '\r') || c == '#').parse(input);
    let (rest, word) = result.unwrap_or(("", input));
    let text = word.chars().filter(|&c| c != '\r').collect();
    (rest, Lexeme { text, closed: true })
}

/// One piece of a quoted token's body.
#[derive(Clone)]
enum Piece<'a> {
    Text(&'a str),
    /// `\"`: the only escape.
    Quote,
    /// A backslash before anything else is kept with that character (`\n` stays 2 chars).
    Kept(char),
    /// A backslash at the very end of the input: dropped.
    DanglingBackslash,
    Close,
    End,
}

fn piece(input: &str) -> IResult<&str, Piece<'_>> {
    alt((
        value(Piece::Quote, tag("\\\"")),
        preceded(char('\\'), anychar).map(Piece::Kept),
        value(Piece::DanglingBackslash, preceded(char('\\'), eof)),
        value(Piece::Close, char('"')),
        value(Piece::End, eof),
        take_till1(|c| c == '\\' || c == '"').map(Piece::Text),
    ))
    .parse(input)
}

/// A token that begins with `"`: up to the next unescaped `"`, whitespace, `#`, braces and
/// newlines included. The closing quote ends the token even inside a word (`"abc"def` is two
/// tokens).
fn quoted(input: &str) -> (&str, Lexeme) {
    let mut rest = &input[1..];
    let mut text = String::new();
    loop {
        let Ok((after, piece)) = piece(rest) else {
            // Every input matches one alternative; should it not, end the token here.
            return (
                "",
                Lexeme {
                    text,
                    closed: false,
                },
            );
        };
        rest = after;
        match piece {
            Piece::Text(s) => text.push_str(s),
            Piece::Quote => text.push('"'),
            Piece::Kept(c) => {
                text.push('\\');
                text.push(c);
            }
            Piece::DanglingBackslash | Piece::End => {
                return (
                    rest,
                    Lexeme {
                        text,
                        closed: false,
                    },
                );
            }
            Piece::Close => return (rest, Lexeme { text, closed: true }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(input: &str) -> Vec<(u32, String)> {
        lex(input.as_bytes(), &Arc::from("Corefile"))
            .into_iter()
            .map(|t| (t.line, t.text))
            .collect()
    }

    fn texts(input: &str) -> Vec<String> {
        words(input).into_iter().map(|(_, t)| t).collect()
    }

    #[test]
    fn lexes_each_rule_of_section_2() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "words split on whitespace",
                "a b\tc\nd",
                &["a", "b", "c", "d"],
            ),
            (
                "braces are only special alone",
                "example.org{ {}",
                &["example.org{", "{}"],
            ),
            ("comment mid-token (§12 #25)", "whoami#comment", &["whoami"]),
            ("comment ends at LF", "a # b c\nd", &["a", "d"]),
            (
                "quoted keeps # (§12 #26)",
                "log \"a#b\" c#d",
                &["log", "a#b", "c"],
            ),
            (
                "quote mid-token is literal (§12 #28)",
                "rewrite name a\"b c\"d",
                &["rewrite", "name", "a\"b", "c\"d"],
            ),
            (
                "closing quote ends the token",
                "\"abc\"def",
                &["abc", "def"],
            ),
            ("empty quoted token is real", "whoami \"\"", &["whoami", ""]),
            (
                "only \\\" is an escape",
                r#""a\"b\nc\\d""#,
                &[r#"a"b\nc\\d"#],
            ),
            ("backslash outside quotes is plain", r"a\b", &[r"a\b"]),
            (
                "unterminated quote swallows the rest",
                "\"C:\\dir\\\" x\ny",
                &["C:\\dir\" x\ny"],
            ),
            ("lone unterminated quote is no token", "a \"", &["a"]),
            ("dangling backslash in quote is dropped", "\"ab\\", &["ab"]),
            (
                "NBSP separates (§12 #44)",
                "whoami\u{a0}extra",
                &["whoami", "extra"],
            ),
            (
                "NEL and ideographic space separate",
                "a\u{85}b\u{3000}c",
                &["a", "b", "c"],
            ),
            (
                "CR is ignored even inside a word",
                "a\rb c\r\n",
                &["ab", "c"],
            ),
            ("CR is kept inside quotes", "\"a\rb\"", &["a\rb"]),
            (
                "comment inside quotes is text",
                "\"# not a comment\"",
                &["# not a comment"],
            ),
            ("empty input", "", &[]),
            ("only comments", "# one\n  # two\n", &[]),
        ];
        for (name, input, expected) in cases {
            assert_eq!(texts(input), *expected, "{name}");
        }
    }

    #[test]
    fn byte_order_mark_is_skipped_and_crlf_ignored() {
        // §12 #43
        let got = words("\u{feff}. {\r\n  whoami\r\n}\r\n");
        assert_eq!(
            got,
            vec![
                (1, ".".to_string()),
                (1, "{".to_string()),
                (2, "whoami".to_string()),
                (3, "}".to_string()),
            ]
        );
    }

    #[test]
    fn byte_order_mark_only_counts_at_the_start() {
        assert_eq!(texts("a \u{feff}"), vec!["a", "\u{feff}"]);
    }

    #[test]
    fn invalid_utf8_becomes_one_replacement_per_byte() {
        let tokens = lex(b"a\xff\xfeb \xe2\x82", &Arc::from("Corefile"));
        let got: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(got, vec!["a\u{fffd}\u{fffd}b", "\u{fffd}\u{fffd}"]);
    }

    #[test]
    fn lines_are_counted_by_lf_only_and_a_quoted_token_starts_where_its_quote_is() {
        let got = words("a\n\n\"x\ny\" b\nc\r\rd");
        assert_eq!(
            got,
            vec![
                (1, "a".to_string()),
                (3, "x\ny".to_string()),
                (4, "b".to_string()),
                (5, "cd".to_string()),
            ]
        );
    }

    #[test]
    fn escaped_newline_in_quotes_still_counts_a_line() {
        let got = words("\"a\\\nb\" c");
        assert_eq!(got, vec![(1, "a\\\nb".to_string()), (2, "c".to_string())]);
    }

    #[test]
    fn tokens_carry_the_file_name() {
        let file: Arc<str> = Arc::from("/abs/x.conf");
        let tokens = lex(b"whoami", &file);
        assert_eq!(tokens[0].file, file);
    }

    #[test]
    fn log_format_keeps_backslashes() {
        // §12 #27: `log . "{name} \"q\" \\ \n"` → `{name} "q" \\ \n`
        assert_eq!(
            texts(r#"log . "{name} \"q\" \\ \n""#),
            vec!["log", ".", r#"{name} "q" \\ \n"#]
        );
    }
}
