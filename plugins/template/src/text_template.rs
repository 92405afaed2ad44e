//! The subset of Go's `text/template` that CoreDNS template answers use
//! (plugins-resolution.md §6.3 "Template data"): literal text and `{{ … }}` actions made of
//! fields (`.Name`, `.Group.a`, `.Question.Name`), string and number literals, parentheses,
//! pipes, the functions `index`, `len`, `print` and `parseInt`, and the method `.Meta "name"`.
//!
//! A template is parsed once, at setup; a syntax error is a Corefile error there, as Go's
//! `template.Parse` is in CoreDNS. What Go only finds when executing (an unknown field, an index
//! out of range, a bad `parseInt` argument) is an error per query here too: SERVFAIL and
//! `coredns_template_template_failures_total`.
//!
//! Control structures (`if`, `range`, `with`, …), variables (`$x`) and other functions are not
//! supported: they are a Corefile error naming the construct.

use std::fmt::{self, Write as _};

use crate::data::{Data, Value};

/// A template parsed into literal and action parts.
#[derive(Clone, Debug)]
pub struct Template {
    section: &'static str,
    parts: Vec<Part>,
    /// Go's `Tree.Root.String()`: the `template` label of the failure metrics.
    canonical: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Text(String),
    Action(Pipeline),
}

/// Commands separated by `|`; each command's result is the last argument of the next.
#[derive(Clone, Debug, PartialEq)]
struct Pipeline(Vec<Command>);

/// Words separated by spaces; the first is the callee when there are arguments.
#[derive(Clone, Debug, PartialEq)]
struct Command(Vec<Word>);

#[derive(Clone, Debug, PartialEq)]
enum Word {
    /// `.A.B`; empty for `.` itself.
    Field(Vec<String>),
    Func(Func),
    Str(String),
    Int(i64),
    Paren(Pipeline),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Func {
    Index,
    Len,
    Print,
    /// CoreDNS registers `strconv.ParseUint` under this name (§6.3).
    ParseInt,
}

impl Func {
    fn from_ident(ident: &str) -> Option<Func> {
        Some(match ident {
            "index" => Func::Index,
            "len" => Func::Len,
            "print" => Func::Print,
            "parseInt" => Func::ParseInt,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Func::Index => "index",
            Func::Len => "len",
            Func::Print => "print",
            Func::ParseInt => "parseInt",
        }
    }
}

/// Go's other builtins: named in the error so the user knows the name is real but unsupported.
const GO_BUILTINS: &[&str] = &[
    "and", "call", "html", "js", "not", "or", "printf", "println", "slice", "urlquery", "eq", "ne",
    "lt", "le", "gt", "ge",
];
const GO_KEYWORDS: &[&str] = &[
    "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
];

/// A template that does not parse (a Corefile error).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("template: {section}:{line}: {message}")]
pub struct TemplateParseError {
    pub section: &'static str,
    pub line: usize,
    pub message: String,
}

/// A template that fails while rendering (SERVFAIL for the query).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("template: {section}: executing \"{section}\" at <{node}>: {message}")]
pub struct ExecError {
    pub section: &'static str,
    pub node: String,
    pub message: String,
}

impl Template {
    /// Parses `text`; `section` (`answer`, `additional`, `authority`) names the template in
    /// errors, as CoreDNS names its Go templates.
    pub fn parse(section: &'static str, text: &str) -> Result<Template, TemplateParseError> {
        let parts = parse_parts(text).map_err(|(offset, message)| TemplateParseError {
            section,
            line: 1 + text[..offset.min(text.len())].matches('\n').count(),
            message,
        })?;
        let mut canonical = String::new();
        for part in &parts {
            match part {
                Part::Text(t) => canonical.push_str(t),
                Part::Action(p) => {
                    let _ = write!(canonical, "{{{{{p}}}}}");
                }
            }
        }
        Ok(Template {
            section,
            parts,
            canonical,
        })
    }

    /// The template as Go reprints it (`{{.Name}} 60 IN A …`).
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    pub fn section(&self) -> &'static str {
        self.section
    }

    /// Renders into `out` (cleared first).
    pub fn render(&self, data: &Data<'_>, out: &mut String) -> Result<(), ExecError> {
        out.clear();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Action(p) => {
                    let value = eval_pipeline(p, data).map_err(|message| ExecError {
                        section: self.section,
                        node: p.to_string(),
                        message,
                    })?;
                    value.print(out).map_err(|message| ExecError {
                        section: self.section,
                        node: p.to_string(),
                        message,
                    })?;
                }
            }
        }
        Ok(())
    }
}

type ParseResult<T> = Result<T, (usize, String)>;

fn parse_parts(text: &str) -> ParseResult<Vec<Part>> {
    let mut parts = Vec::new();
    let mut rest = 0;
    let mut trim_next_text = false;
    while rest < text.len() {
        let Some(open) = text[rest..].find("{{").map(|i| rest + i) else {
            push_text(&mut parts, &text[rest..], trim_next_text, false);
            break;
        };
        let mut inner_start = open + 2;
        // `{{- ` trims the whitespace before the action (the dash must be followed by space).
        let trim_left = text[inner_start..].starts_with("- ")
            || text[inner_start..].starts_with("-\t")
            || text[inner_start..].starts_with("-\n");
        if trim_left {
            inner_start += 1;
        }
        push_text(&mut parts, &text[rest..open], trim_next_text, trim_left);
        let close = find_close(text, inner_start)?;
        let mut inner_end = close;
        // ` -}}` trims the whitespace after it.
        let inner = &text[inner_start..close];
        trim_next_text = inner.ends_with(" -") || inner.ends_with("\t-") || inner.ends_with("\n-");
        if trim_next_text {
            inner_end -= 1;
        }
        let inner = &text[inner_start..inner_end];
        let trimmed = inner.trim();
        if trimmed.starts_with("/*") {
            if !trimmed.ends_with("*/") {
                return Err((open, "unclosed comment".to_string()));
            }
        } else {
            let tokens = lex(inner, inner_start)?;
            let mut parser = Parser {
                tokens: &tokens,
                pos: 0,
                end: close,
            };
            let pipeline = parser.pipeline()?;
            if let Some(tok) = parser.peek() {
                return Err((tok.offset, format!("unexpected {} in command", tok.kind)));
            }
            parts.push(Part::Action(pipeline));
        }
        rest = close + 2;
    }
    Ok(parts)
}

fn push_text(parts: &mut Vec<Part>, text: &str, trim_start: bool, trim_end: bool) {
    let mut t = text;
    if trim_start {
        t = t.trim_start();
    }
    if trim_end {
        t = t.trim_end();
    }
    if !t.is_empty() {
        parts.push(Part::Text(t.to_string()));
    }
}

/// The offset of the `}}` closing the action whose contents start at `from` (skipping quoted
/// strings, which may contain `}}`).
fn find_close(text: &str, from: usize) -> ParseResult<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => return Ok(i),
            _ => {}
        }
        i += 1;
    }
    Err((from, "unclosed action".to_string()))
}

#[derive(Clone, Debug, PartialEq)]
enum TokenKind {
    Field(Vec<String>),
    Ident(String),
    Str(String),
    Int(i64),
    LParen,
    RParen,
    Pipe,
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenKind::Field(path) => write!(f, "<.{}>", path.join(".")),
            TokenKind::Ident(i) => write!(f, "<{i}>"),
            TokenKind::Str(s) => write!(f, "{s:?}"),
            TokenKind::Int(n) => write!(f, "<{n}>"),
            TokenKind::LParen => f.write_str("\"(\""),
            TokenKind::RParen => f.write_str("\")\""),
            TokenKind::Pipe => f.write_str("\"|\""),
        }
    }
}

#[derive(Clone, Debug)]
struct Token {
    kind: TokenKind,
    offset: usize,
}

fn lex(inner: &str, base: usize) -> ParseResult<Vec<Token>> {
    let bytes = inner.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let offset = base + i;
        let push = |tokens: &mut Vec<Token>, kind| tokens.push(Token { kind, offset });
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'(' => {
                push(&mut tokens, TokenKind::LParen);
                i += 1;
            }
            b')' => {
                push(&mut tokens, TokenKind::RParen);
                i += 1;
            }
            b'|' => {
                push(&mut tokens, TokenKind::Pipe);
                i += 1;
            }
            b'$' => return Err((offset, "variables are not supported".to_string())),
            b'.' => {
                let mut path = Vec::new();
                while i < bytes.len() && bytes[i] == b'.' {
                    let start = i + 1;
                    let mut end = start;
                    while end < bytes.len() && is_ident_byte(bytes[end]) {
                        end += 1;
                    }
                    if end == start {
                        if path.is_empty() && (end == bytes.len() || !is_ident_byte(bytes[end])) {
                            i = end;
                            break;
                        }
                        return Err((offset, "bad field name".to_string()));
                    }
                    path.push(inner[start..end].to_string());
                    i = end;
                }
                push(&mut tokens, TokenKind::Field(path));
            }
            b'"' => {
                let (s, len) = lex_quoted(&inner[i..])
                    .ok_or((offset, "unterminated quoted string".to_string()))?;
                push(&mut tokens, TokenKind::Str(s));
                i += len;
            }
            b'`' => {
                let end = inner[i + 1..]
                    .find('`')
                    .ok_or((offset, "unterminated raw quoted string".to_string()))?;
                push(
                    &mut tokens,
                    TokenKind::Str(inner[i + 1..i + 1 + end].to_string()),
                );
                i += end + 2;
            }
            b'0'..=b'9' | b'-' | b'+' => {
                let start = i;
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &inner[start..i];
                let n =
                    parse_go_int(word).ok_or((offset, format!("bad number syntax: {word:?}")))?;
                push(&mut tokens, TokenKind::Int(n));
            }
            c if is_ident_byte(c) => {
                let start = i;
                while i < bytes.len() && is_ident_byte(bytes[i]) {
                    i += 1;
                }
                push(&mut tokens, TokenKind::Ident(inner[start..i].to_string()));
            }
            _ => {
                let ch = inner[i..].chars().next().unwrap_or('?');
                return Err((offset, format!("unexpected {ch:?} in command")));
            }
        }
    }
    Ok(tokens)
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A Go interpreted string literal at the start of `s`: its value and its length in `s`.
fn lex_quoted(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => {
                let (_, e) = chars.next()?;
                out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '\\' => '\\',
                    '"' => '"',
                    '\'' => '\'',
                    _ => return None,
                });
            }
            '\n' => return None,
            c => out.push(c),
        }
    }
    None
}

/// A Go integer literal (decimal, `0x`, `0o`, `0b`, leading-zero octal, `_` separators).
fn parse_go_int(word: &str) -> Option<i64> {
    let (negative, digits) = match word.as_bytes().first()? {
        b'-' => (true, &word[1..]),
        b'+' => (false, &word[1..]),
        _ => (false, word),
    };
    let digits = digits.replace('_', "");
    let (radix, body) = radix_and_body(&digits, 10)?;
    let n = i64::from_str_radix(body, radix).ok()?;
    Some(if negative { -n } else { n })
}

/// Splits a Go prefix off `s`: `0x` 16, `0o` 8, `0b` 2, a leading `0` 8, else `default`.
pub(crate) fn radix_and_body(s: &str, default: u32) -> Option<(u32, &str)> {
    let lower = s.get(..2).map(str::to_ascii_lowercase);
    Some(match lower.as_deref() {
        Some("0x") => (16, &s[2..]),
        Some("0o") => (8, &s[2..]),
        Some("0b") => (2, &s[2..]),
        _ if s.len() > 1 && s.starts_with('0') => (8, &s[1..]),
        _ if s.is_empty() => return None,
        _ => (default, s),
    })
}

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    /// Offset of the closing `}}` (for errors at the end of the action).
    end: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn pipeline(&mut self) -> ParseResult<Pipeline> {
        let mut commands = vec![self.command()?];
        while let Some(Token {
            kind: TokenKind::Pipe,
            ..
        }) = self.peek()
        {
            self.pos += 1;
            commands.push(self.command()?);
        }
        Ok(Pipeline(commands))
    }

    fn command(&mut self) -> ParseResult<Command> {
        let mut words = Vec::new();
        while let Some(tok) = self.peek() {
            let offset = tok.offset;
            let word = match &tok.kind {
                TokenKind::Pipe | TokenKind::RParen => break,
                TokenKind::LParen => {
                    self.pos += 1;
                    let inner = self.pipeline()?;
                    match self.peek() {
                        Some(Token {
                            kind: TokenKind::RParen,
                            ..
                        }) => {}
                        _ => return Err((offset, "unclosed left paren".to_string())),
                    }
                    Word::Paren(inner)
                }
                TokenKind::Field(path) => Word::Field(path.clone()),
                TokenKind::Str(s) => Word::Str(s.clone()),
                TokenKind::Int(n) => Word::Int(*n),
                TokenKind::Ident(ident) => match Func::from_ident(ident) {
                    Some(f) => Word::Func(f),
                    None if GO_KEYWORDS.contains(&ident.as_str()) => {
                        return Err((offset, format!("{{{{{ident}}}}} actions are not supported")));
                    }
                    None if GO_BUILTINS.contains(&ident.as_str())
                        || matches!(ident.as_str(), "true" | "false" | "nil") =>
                    {
                        return Err((offset, format!("{ident:?} is not supported")));
                    }
                    None => return Err((offset, format!("function {ident:?} not defined"))),
                },
            };
            self.pos += 1;
            words.push(word);
        }
        if words.is_empty() {
            let offset = self.peek().map_or(self.end, |t| t.offset);
            return Err((offset, "missing value for command".to_string()));
        }
        if words.len() > 1 && matches!(words[0], Word::Str(_) | Word::Int(_)) {
            return Err((self.end, "can't give argument to non-function".to_string()));
        }
        Ok(Command(words))
    }
}

impl fmt::Display for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            for (j, w) in c.0.iter().enumerate() {
                if j > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{w}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Word::Field(path) if path.is_empty() => f.write_str("."),
            Word::Field(path) => {
                for p in path {
                    write!(f, ".{p}")?;
                }
                Ok(())
            }
            Word::Func(func) => f.write_str(func.name()),
            Word::Str(s) => write!(f, "{s:?}"),
            Word::Int(n) => write!(f, "{n}"),
            Word::Paren(p) => write!(f, "({p})"),
        }
    }
}

type EvalResult<'d> = Result<Value<'d>, String>;

fn eval_pipeline<'d>(p: &Pipeline, data: &'d Data<'d>) -> EvalResult<'d> {
    let mut piped: Option<Value<'d>> = None;
    for command in &p.0 {
        piped = Some(eval_command(command, data, piped.take())?);
    }
    piped.ok_or_else(|| "empty pipeline".to_string())
}

fn eval_command<'d>(c: &Command, data: &'d Data<'d>, piped: Option<Value<'d>>) -> EvalResult<'d> {
    let (head, rest) = c.0.split_first().ok_or("empty command")?;
    let mut args = rest
        .iter()
        .map(|w| eval_word(w, data))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(v) = piped {
        args.push(v);
    }
    match head {
        Word::Func(f) => call(*f, args),
        Word::Field(path) => data.field(path, args),
        _ if args.is_empty() => eval_word(head, data),
        _ => Err("can't give argument to non-function".to_string()),
    }
}

fn eval_word<'d>(w: &Word, data: &'d Data<'d>) -> EvalResult<'d> {
    match w {
        Word::Field(path) => data.field(path, Vec::new()),
        Word::Func(f) => call(*f, Vec::new()),
        Word::Str(s) => Ok(Value::Str(s.clone().into())),
        Word::Int(n) => Ok(Value::Int(*n)),
        Word::Paren(p) => eval_pipeline(p, data),
    }
}

fn call(f: Func, args: Vec<Value<'_>>) -> EvalResult<'_> {
    let name = f.name();
    match f {
        Func::Index => {
            let mut args = args.into_iter();
            let mut item = args
                .next()
                .ok_or_else(|| format!("wrong number of args for {name}: want at least 1 got 0"))?;
            for key in args {
                item = item
                    .index(&key)
                    .map_err(|e| format!("error calling index: {e}"))?;
            }
            Ok(item)
        }
        Func::Len => match args.as_slice() {
            [v] => v
                .len()
                .map(|n| Value::Int(n as i64))
                .ok_or_else(|| format!("error calling len: len of type {}", v.type_name())),
            _ => Err(format!(
                "wrong number of args for len: want 1 got {}",
                args.len()
            )),
        },
        Func::Print => {
            // fmt.Sprint: a space between operands when neither side is a string.
            let mut out = String::new();
            let mut previous_is_string = true;
            for (i, v) in args.iter().enumerate() {
                let is_string = matches!(v, Value::Str(_));
                if i > 0 && !is_string && !previous_is_string {
                    out.push(' ');
                }
                v.print(&mut out)?;
                previous_is_string = is_string;
            }
            Ok(Value::Str(out.into()))
        }
        Func::ParseInt => match args.as_slice() {
            [s, base, bits] => {
                let s = s.as_str().ok_or_else(|| {
                    format!(
                        "wrong type for value; expected string; got {}",
                        s.type_name()
                    )
                })?;
                let base = base.as_int().ok_or("wrong type for value; expected int")?;
                let bits = bits.as_int().ok_or("wrong type for value; expected int")?;
                parse_uint(s, base, bits).map(Value::Uint).map_err(|e| {
                    format!("error calling parseInt: strconv.ParseUint: parsing {s:?}: {e}")
                })
            }
            _ => Err(format!(
                "wrong number of args for parseInt: want 3 got {}",
                args.len()
            )),
        },
    }
}

/// `strconv.ParseUint(s, base, bitSize)`: base 0 reads Go prefixes, bitSize 0 means 64.
pub(crate) fn parse_uint(s: &str, base: i64, bits: i64) -> Result<u64, &'static str> {
    let bits = if bits == 0 { 64 } else { bits };
    if !(1..=64).contains(&bits) {
        return Err("invalid bit size");
    }
    let (radix, body) = match base {
        0 => {
            let cleaned = s.replace('_', "");
            let (radix, body) = radix_and_body(&cleaned, 10).ok_or("invalid syntax")?;
            return finish_uint(body, radix, bits);
        }
        2..=36 => (base as u32, s),
        _ => return Err("invalid base"),
    };
    finish_uint(body, radix, bits)
}

fn finish_uint(body: &str, radix: u32, bits: i64) -> Result<u64, &'static str> {
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return Err("invalid syntax");
    }
    let n = u64::from_str_radix(body, radix).map_err(|_| "value out of range")?;
    if bits < 64 && n >> bits != 0 {
        return Err("value out of range");
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Message, MessageType, OpCode, Query};
    use hickory_proto::rr::{Name, RecordType};

    fn message() -> Message {
        let mut m = Message::new(42, MessageType::Query, OpCode::Query);
        m.add_query(Query::query(
            Name::from_ascii("Ip-10-1-2-3.Example.").unwrap(),
            RecordType::A,
        ));
        m
    }

    fn render(text: &str) -> Result<String, String> {
        let message = message();
        let data = Data {
            zone: "example.",
            name: "ip-10-1-2-3.example.",
            regex: "^ip-(?P<a>[0-9]+)-([0-9]+)",
            class: "IN".into(),
            qtype: "A".into(),
            matches: vec!["ip-10-1".into(), "10".into(), "1".into()],
            groups: vec![
                ("0".into(), "ip-10-1".into()),
                ("1".into(), "10".into()),
                ("2".into(), "1".into()),
                ("a".into(), "10".into()),
            ],
            message: &message,
            remote: "192.0.2.1".into(),
        };
        let template = Template::parse("answer", text).map_err(|e| e.to_string())?;
        let mut out = String::from("stale");
        template
            .render(&data, &mut out)
            .map_err(|e| e.to_string())?;
        Ok(out)
    }

    #[test]
    fn renders_fields_functions_and_literals() {
        let cases: &[(&str, &str)] = &[
            ("plain text", "plain text"),
            ("{{ .Name }} 60 IN A", "ip-10-1-2-3.example. 60 IN A"),
            (
                "{{.Zone}}|{{.Class}}|{{.Type}}|{{.Remote}}|{{.Regex}}",
                "example.|IN|A|192.0.2.1|^ip-(?P<a>[0-9]+)-([0-9]+)",
            ),
            ("{{ .Group.a }}.{{ .Group.1 }}", "10.10"),
            ("{{ index .Match 2 }}", "1"),
            (
                "{{ index .Group \"a\" }}/{{ index .Group \"zz\" }}/",
                "10//",
            ),
            ("{{ .Group.zz }}", "<no value>"),
            ("{{ .Match }}", "[ip-10-1 10 1]"),
            ("{{ .Group }}", "map[0:ip-10-1 1:10 2:1 a:10]"),
            ("{{ .Question }}", ";Ip-10-1-2-3.Example.\tIN\t A"),
            (
                "{{ .Question.Name }} {{ .Question.Qtype }} {{ .Question.Qclass }}",
                "Ip-10-1-2-3.Example. 1 1",
            ),
            ("{{ .Message.Id }}", "42"),
            ("{{ .Meta \"kubernetes/client-namespace\" }}", ""),
            ("{{ parseInt .Group.a 16 8 }}", "16"),
            ("{{ parseInt \"0b101\" 0 0 }}", "5"),
            ("{{ parseInt .Group.a 10 64 | print \"n=\" }}", "n=10"),
            ("{{ print 1 2 \"x\" 3 }}", "1 2x3"),
            ("{{ len .Match }}", "3"),
            ("{{ (index .Match 1) }}", "10"),
            ("{{ `raw \"q\"` }}", "raw \"q\""),
            ("a {{- .Zone -}} b", "aexample.b"),
            ("a {{/* comment */}}b", "a b"),
            ("{{ \"}}\" }}", "}}"),
        ];
        for (text, want) in cases {
            assert_eq!(render(text).as_deref(), Ok(*want), "{text}");
        }
    }

    #[test]
    fn reports_parse_errors_at_setup() {
        let cases: &[(&str, &str)] = &[
            ("{{", "template: answer:1: unclosed action"),
            ("{{ }}", "template: answer:1: missing value for command"),
            (
                "{{ .Name | }}",
                "template: answer:1: missing value for command",
            ),
            (
                "{{ $x }}",
                "template: answer:1: variables are not supported",
            ),
            (
                "{{ printf \"%s\" .Name }}",
                "template: answer:1: \"printf\" is not supported",
            ),
            (
                "{{ range .Match }}{{ end }}",
                "template: answer:1: {{range}} actions are not supported",
            ),
            (
                "{{ \"a\" \"b\" }}",
                "template: answer:1: can't give argument to non-function",
            ),
            (
                "{{ (index .Match 1 }}",
                "template: answer:1: unclosed left paren",
            ),
            (
                "{{ .Name ) }}",
                "template: answer:1: unexpected \")\" in command",
            ),
            ("{{ \"open }}", "template: answer:1: unclosed action"),
            (
                "{{ 12x }}",
                "template: answer:1: bad number syntax: \"12x\"",
            ),
            ("{{/* open }}", "template: answer:1: unclosed comment"),
            (
                "line\n{{ # }}",
                "template: answer:2: unexpected '#' in command",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(render(text), Err(want.to_string()), "{text}");
        }
    }

    #[test]
    fn reports_execution_errors_per_query() {
        let cases: &[(&str, &str)] = &[
            (
                "{{ .Grup.d }}",
                "can't evaluate field Grup in type *template.templateData",
            ),
            (
                "{{ .Var.x }}",
                "can't evaluate field Var in type *template.templateData",
            ),
            (
                "{{ index .Match 5 }}",
                "error calling index: index out of range: 5",
            ),
            ("{{ .Name.x }}", "can't evaluate field x in type string"),
            (
                "{{ parseInt .Name 10 8 }}",
                "error calling parseInt: strconv.ParseUint: parsing \"ip-10-1-2-3.example.\": invalid syntax",
            ),
            (
                "{{ parseInt \"300\" 10 8 }}",
                "error calling parseInt: strconv.ParseUint: parsing \"300\": value out of range",
            ),
            (
                "{{ parseInt \"1\" 10 }}",
                "wrong number of args for parseInt: want 3 got 2",
            ),
            (
                "{{ parseInt \"1\" 1 8 }}",
                "error calling parseInt: strconv.ParseUint: parsing \"1\": invalid base",
            ),
            (
                "{{ .Name \"x\" }}",
                "Name has arguments but cannot be invoked as function",
            ),
            ("{{ . }}", "can't print the template data itself"),
            // A piped value is the last argument, as in Go: here parseInt's `s` is 10.
            (
                "{{ .Group.a | parseInt 10 64 }}",
                "wrong type for value; expected string; got int",
            ),
        ];
        for (text, want) in cases {
            let got = render(text).unwrap_err();
            assert!(got.ends_with(want), "{text}: {got}");
            assert!(
                got.starts_with("template: answer: executing \"answer\" at <"),
                "{got}"
            );
        }
    }

    #[test]
    fn reprints_like_go_for_the_metric_label() {
        let t = Template::parse(
            "answer",
            "{{ .Name }} 60 IN A {{ index .Match 1 }} {{ parseInt \"7\" 10 8 | print }}",
        )
        .unwrap();
        assert_eq!(
            t.canonical(),
            "{{.Name}} 60 IN A {{index .Match 1}} {{parseInt \"7\" 10 8 | print}}"
        );
    }
}
