//! Log formats: compiled once at setup into literal and placeholder parts, rendered per query
//! straight into the log line (no intermediate string).

use std::fmt::{self, Display, Write};
use std::net::IpAddr;
use std::time::Duration;

use plugin::classify::ReplyType;
use plugin::{Request, Response};

use plugin::names::{ClassName, RcodeName, TypeName};

macro_rules! common_format {
    () => {
        "{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} {>do} {>bufsize}\" {rcode} {>rflags} {rsize} {duration}"
    };
}

/// The Common Log Format adapted to DNS; also the default.
pub const COMMON: &str = common_format!();
/// Common plus the query's opcode.
pub const COMBINED: &str = concat!(common_format!(), " \"{>opcode}\"");
pub const DEFAULT: &str = COMMON;

/// What a value that is not there prints as.
const EMPTY: &str = "-";

/// Replaces `{common}` and `{combined}` textually, as CoreDNS does for a format argument.
pub fn expand(format: &str) -> String {
    format
        .replace("{common}", COMMON)
        .replace("{combined}", COMBINED)
}

/// A value of one query and its reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Type,
    Name,
    Class,
    Proto,
    Size,
    Remote,
    Local,
    Port,
    Id,
    Opcode,
    Do,
    Bufsize,
    Rcode,
    Rsize,
    Duration,
    Rflags,
    /// `{/log/type}`: the reply's classification (NOERROR, NXDOMAIN, NODATA, ...).
    LogType,
    /// `{/log/class}`: success, denial or error.
    LogClass,
    /// Any other `{/LABEL}`: no metadata plugin here, so always `-`.
    Metadata,
}

impl Field {
    /// The field a `{...}` label names. Labels are case-sensitive.
    fn from_label(label: &str) -> Option<Field> {
        Some(match label {
            "{type}" => Field::Type,
            "{name}" => Field::Name,
            "{class}" => Field::Class,
            "{proto}" => Field::Proto,
            "{size}" => Field::Size,
            "{remote}" => Field::Remote,
            "{local}" => Field::Local,
            "{port}" => Field::Port,
            "{>id}" => Field::Id,
            "{>opcode}" => Field::Opcode,
            "{>do}" => Field::Do,
            "{>bufsize}" => Field::Bufsize,
            "{rcode}" => Field::Rcode,
            "{rsize}" => Field::Rsize,
            "{duration}" => Field::Duration,
            "{>rflags}" => Field::Rflags,
            "{/log/type}" => Field::LogType,
            "{/log/class}" => Field::LogClass,
            _ if label.starts_with("{/") => Field::Metadata,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Literal(Box<str>),
    Field(Field),
}

/// A compiled format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    parts: Vec<Part>,
}

impl Format {
    /// Splits `format` into parts the way CoreDNS's replacer does: find the first `}`, take the
    /// last `{` before it, so `{ {type} }` holds one placeholder; an unknown `{...}` and a `}`
    /// without `{` are literal text.
    pub fn compile(format: &str) -> Format {
        let mut parts = Vec::new();
        let mut rest = format;
        while let Some(close) = rest.find('}') {
            let through_close = &rest[..=close];
            let field = rest[..close]
                .rfind('{')
                .and_then(|open| Some((open, Field::from_label(&rest[open..=close])?)));
            match field {
                Some((open, field)) => {
                    push_literal(&mut parts, &rest[..open]);
                    parts.push(Part::Field(field));
                }
                None => push_literal(&mut parts, through_close),
            }
            rest = &rest[close + 1..];
        }
        push_literal(&mut parts, rest);
        Format { parts }
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The line for one query; display it to render.
    pub fn render<'a>(&'a self, entry: &'a Entry<'a>) -> Line<'a> {
        Line {
            format: self,
            entry,
        }
    }
}

/// Appends literal text, merged with a literal just before it.
fn push_literal(parts: &mut Vec<Part>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Part::Literal(previous)) = parts.last_mut() {
        *previous = format!("{previous}{text}").into_boxed_str();
        return;
    }
    parts.push(Part::Literal(text.into()));
}

/// Everything a line can show about one query.
pub struct Entry<'a> {
    pub req: &'a Request,
    /// The reply as written (or as the server core will write it); None when nothing is.
    pub reply: Option<&'a Response>,
    pub reply_type: ReplyType,
    /// Time since the log plugin received the query.
    pub elapsed: Duration,
}

/// A format applied to an entry.
pub struct Line<'a> {
    format: &'a Format,
    entry: &'a Entry<'a>,
}

impl Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.format.parts {
            match part {
                Part::Literal(text) => f.write_str(text)?,
                Part::Field(field) => self.entry.write_field(*field, f)?,
            }
        }
        Ok(())
    }
}

impl Entry<'_> {
    fn write_field(&self, field: Field, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let req = self.req;
        match field {
            Field::Type => write!(f, "{}", TypeName(req.qtype())),
            Field::Name => f.write_str(req.qname_lower()),
            Field::Class => write!(f, "{}", ClassName(req.qclass())),
            Field::Proto => f.write_str(req.transport().as_str()),
            Field::Size => write!(f, "{}", req.len()),
            Field::Remote => write_ip(f, req.client().ip()),
            Field::Local => write_ip(f, req.local().ip()),
            Field::Port => write!(f, "{}", req.client().port()),
            Field::Id => write!(f, "{}", req.id()),
            Field::Opcode => write!(f, "{}", u8::from(req.opcode())),
            Field::Do => write!(f, "{}", req.do_bit()),
            Field::Bufsize => write!(f, "{}", req.max_reply_size()),
            Field::Rcode => match self.reply {
                Some(reply) => write!(f, "{}", RcodeName(reply.rcode)),
                None => f.write_str(EMPTY),
            },
            // Measured as the plugin handed the reply over: uncompressed, before truncation.
            Field::Rsize => write!(
                f,
                "{}",
                self.reply
                    .map_or(0, |reply| plugin::wire::uncompressed_len(req, reply))
            ),
            Field::Duration => write!(f, "{}", Seconds(self.elapsed)),
            Field::Rflags => match self.reply {
                Some(reply) => write_flags(f, reply),
                None => f.write_str(EMPTY),
            },
            Field::LogType => f.write_str(self.reply_type.as_str()),
            Field::LogClass => f.write_str(self.reply_type.class().as_str()),
            Field::Metadata => f.write_str(EMPTY),
        }
    }
}

/// An IP as CoreDNS prints an address: IPv6 in brackets (RFC 3986 §3.2.2), an IPv4-mapped
/// IPv6 address as plain IPv4 (Go's `net.IP.String`).
fn write_ip(f: &mut fmt::Formatter<'_>, ip: IpAddr) -> fmt::Result {
    match ip {
        IpAddr::V4(v4) => write!(f, "{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => write!(f, "{v4}"),
            None => write!(f, "[{v6}]"),
        },
    }
}

/// The reply's set header flags in the order `qr,aa,tc,rd,ra,z,ad,cd`. QR is set on every
/// reply; Z is never set by this server.
fn write_flags(f: &mut fmt::Formatter<'_>, reply: &Response) -> fmt::Result {
    let flags = &reply.flags;
    f.write_str("qr")?;
    for (set, name) in [
        (flags.authoritative, "aa"),
        (flags.truncated, "tc"),
        (flags.recursion_desired, "rd"),
        (flags.recursion_available, "ra"),
        (flags.authentic_data, "ad"),
        (flags.checking_disabled, "cd"),
    ] {
        if set {
            f.write_char(',')?;
            f.write_str(name)?;
        }
    }
    Ok(())
}

/// Seconds as Go's `strconv.FormatFloat(s, 'f', -1, 64)` prints them: the shortest decimal
/// that reads back as the same float, never an exponent (`0.000231456s`, `1.5s`, `2s`).
/// Rust's `Display` for `f64` has the same two properties.
pub struct Seconds(pub Duration);

impl Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.0.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::Field::*;
    use super::*;

    fn lit(s: &str) -> Part {
        Part::Literal(s.into())
    }

    fn field(f: Field) -> Part {
        Part::Field(f)
    }

    /// Format text → parts, including CoreDNS's odd cases.
    #[test]
    fn compiles_like_coredns_replacer() {
        let cases: Vec<(&str, Vec<Part>)> = vec![
            ("", vec![]),
            ("plain", vec![lit("plain")]),
            ("{type}", vec![field(Type)]),
            ("A {type} B", vec![lit("A "), field(Type), lit(" B")]),
            ("{name}{class}", vec![field(Name), field(Class)]),
            (
                "{>id} {>opcode} {>do} {>bufsize} {>rflags}",
                vec![
                    field(Id),
                    lit(" "),
                    field(Opcode),
                    lit(" "),
                    field(Do),
                    lit(" "),
                    field(Bufsize),
                    lit(" "),
                    field(Rflags),
                ],
            ),
            // Unknown and wrongly-cased labels are literal text.
            ("{foo} {TYPE}", vec![lit("{foo} {TYPE}")]),
            ("A } {type}", vec![lit("A } "), field(Type)]),
            // Nested braces: the innermost label counts.
            ("{ {type} }", vec![lit("{ "), field(Type), lit(" }")]),
            ("{{rcode}}", vec![lit("{"), field(Rcode), lit("}")]),
            ("{unclosed", vec![lit("{unclosed")]),
            // Metadata.
            (
                "{/log/type} {/log/class} {/kubernetes/pod} {/}",
                vec![
                    field(LogType),
                    lit(" "),
                    field(LogClass),
                    lit(" "),
                    field(Metadata),
                    lit(" "),
                    field(Metadata),
                ],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(Format::compile(text).parts(), want.as_slice(), "{text:?}");
        }
    }

    #[test]
    fn common_and_combined_expand_textually() {
        assert_eq!(expand("{common}"), COMMON);
        assert_eq!(
            expand("x {combined} y"),
            format!("x {COMMON} \"{{>opcode}}\" y")
        );
        assert_eq!(expand("{name}"), "{name}");
        assert!(COMMON.ends_with("{rcode} {>rflags} {rsize} {duration}"));
    }

    #[test]
    fn seconds_print_like_go() {
        let cases = [
            (std::time::Duration::from_nanos(231_456), "0.000231456s"),
            (std::time::Duration::from_nanos(1), "0.000000001s"),
            (std::time::Duration::from_millis(1500), "1.5s"),
            (std::time::Duration::from_secs(2), "2s"),
            (std::time::Duration::ZERO, "0s"),
            (std::time::Duration::from_secs(100_000), "100000s"),
        ];
        for (d, want) in cases {
            assert_eq!(Seconds(d).to_string(), want, "{d:?}");
        }
    }
}
