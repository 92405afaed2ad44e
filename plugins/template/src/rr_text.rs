//! One resource record in zone-file syntax, as a rendered template produces it
//! (plugins-resolution.md §6.3; miekg/dns `NewRR` with origin `.`): `OWNER [TTL] [CLASS] TYPE
//! RDATA`, TTL and class in either order, TTL 3600 and class IN when omitted, names without a
//! trailing dot made absolute, `( … )` spanning lines, `;` comments, quoted TXT strings.
//!
//! The types answers are built from are supported: A, AAAA, CNAME, PTR, NS, MX, SRV, TXT, SOA.
//! Any other type is a clear error (SERVFAIL for the query, rr failure metric).

use std::net::{Ipv4Addr, Ipv6Addr};

use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

/// miekg/dns's default TTL for a record without one (§6.3, T9).
pub const DEFAULT_TTL: u32 = 3600;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RrError {
    #[error("empty record")]
    Empty,
    #[error("unbalanced parentheses")]
    Parentheses,
    #[error("unterminated quoted string")]
    Quote,
    #[error("no record type after {0:?}")]
    MissingType(String),
    #[error("unknown RR type {0:?}")]
    UnknownType(String),
    #[error(
        "RR type {0} is not supported in templates (A, AAAA, CNAME, PTR, NS, MX, SRV, TXT, SOA)"
    )]
    UnsupportedType(String),
    #[error("bad owner name {0:?}")]
    Owner(String),
    #[error("bad {what} {value:?} in {rtype} record")]
    Field {
        rtype: &'static str,
        what: &'static str,
        value: String,
    },
    #[error("missing {what} in {rtype} record")]
    Missing {
        rtype: &'static str,
        what: &'static str,
    },
    #[error("extra data {0:?} after the record")]
    Extra(String),
    #[error("TXT string longer than 255 bytes")]
    LongTxt,
}

/// Parses `text` into a record.
pub fn parse_rr(text: &str) -> Result<Record, RrError> {
    let tokens = tokenize(text)?;
    let mut tokens = tokens.into_iter();
    let owner_text = tokens.next().ok_or(RrError::Empty)?.text;
    let owner = parse_name(&owner_text).ok_or(RrError::Owner(owner_text.clone()))?;

    let mut ttl = None;
    let mut class = None;
    let mut rtype_text = None;
    for token in tokens.by_ref() {
        let t = token.text;
        if ttl.is_none() && t.starts_with(|c: char| c.is_ascii_digit()) && !token.quoted {
            ttl = Some(parse_ttl(&t).ok_or(RrError::Field {
                rtype: "any",
                what: "TTL",
                value: t.clone(),
            })?);
        } else if let (None, Some(c)) = (class, parse_class(&t)) {
            class = Some(c);
        } else {
            rtype_text = Some(t);
            break;
        }
    }
    let rtype_text = rtype_text.ok_or(RrError::MissingType(owner_text))?;
    let mut rdata = Rdata {
        tokens: tokens.collect(),
        pos: 0,
        rtype: "",
    };
    let data = rdata.parse(&rtype_text)?;
    if let Some(extra) = rdata.tokens.get(rdata.pos) {
        return Err(RrError::Extra(extra.text.clone()));
    }
    let mut record = Record::from_rdata(owner, ttl.unwrap_or(DEFAULT_TTL), data);
    record.dns_class = class.unwrap_or(DNSClass::IN);
    Ok(record)
}

#[derive(Clone, Debug)]
struct Token {
    text: String,
    quoted: bool,
}

/// Splits on blanks and newlines, dropping `(`, `)` (checked for balance) and `;` comments;
/// `"…"` is one token with `\"`, `\\` and `\DDD` escapes resolved.
fn tokenize(text: &str) -> Result<Vec<Token>, RrError> {
    let mut tokens = Vec::new();
    let mut depth = 0u32;
    let mut chars = text.chars().peekable();
    let mut current = String::new();
    let flush = |current: &mut String, tokens: &mut Vec<Token>| {
        if !current.is_empty() {
            tokens.push(Token {
                text: std::mem::take(current),
                quoted: false,
            });
        }
    };
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => flush(&mut current, &mut tokens),
            '(' => {
                flush(&mut current, &mut tokens);
                depth += 1;
            }
            ')' => {
                flush(&mut current, &mut tokens);
                depth = depth.checked_sub(1).ok_or(RrError::Parentheses)?;
            }
            ';' => {
                flush(&mut current, &mut tokens);
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                flush(&mut current, &mut tokens);
                let mut bytes = Vec::new();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => match chars.next() {
                            Some(d) if d.is_ascii_digit() => {
                                let mut code = d.to_digit(10).unwrap_or(0);
                                for _ in 0..2 {
                                    let digit = chars
                                        .next()
                                        .and_then(|c| c.to_digit(10))
                                        .ok_or(RrError::Quote)?;
                                    code = code * 10 + digit;
                                }
                                bytes.push(u8::try_from(code).map_err(|_| RrError::Quote)?);
                            }
                            Some(e) => {
                                let mut buf = [0; 4];
                                bytes.extend_from_slice(e.encode_utf8(&mut buf).as_bytes());
                            }
                            None => return Err(RrError::Quote),
                        },
                        c => {
                            let mut buf = [0; 4];
                            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                    }
                }
                if !closed {
                    return Err(RrError::Quote);
                }
                tokens.push(Token {
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                    quoted: true,
                });
            }
            c => current.push(c),
        }
    }
    flush(&mut current, &mut tokens);
    if depth != 0 {
        return Err(RrError::Parentheses);
    }
    Ok(tokens)
}

/// A domain name relative to the root origin: `@` is `.`, a missing trailing dot is added.
fn parse_name(text: &str) -> Option<Name> {
    if text == "@" {
        return Some(Name::root());
    }
    let mut name = Name::from_ascii(text).ok()?;
    name.set_fqdn(true);
    Some(name)
}

/// A TTL: seconds, or a sum of numbers with `s`, `m`, `h`, `d`, `w` units (miekg/dns
/// `stringToTTL`), up to 2^32-1.
pub fn parse_ttl(text: &str) -> Option<u32> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let mut total: u64 = 0;
    let mut number: u64 = 0;
    let mut have_number = false;
    for b in text.bytes() {
        match b {
            b'0'..=b'9' => {
                number = number.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
                have_number = true;
            }
            _ => {
                let unit = match b.to_ascii_lowercase() {
                    b's' => 1,
                    b'm' => 60,
                    b'h' => 3600,
                    b'd' => 86400,
                    b'w' => 604800,
                    _ => return None,
                };
                if !have_number {
                    return None;
                }
                total = total.checked_add(number.checked_mul(unit)?)?;
                number = 0;
                have_number = false;
            }
        }
    }
    total = total.checked_add(number)?;
    u32::try_from(total).ok()
}

/// miekg/dns `StringToClass` (exact upper case) plus `CLASSnnn`.
pub fn parse_class(text: &str) -> Option<DNSClass> {
    Some(match text {
        "IN" => DNSClass::IN,
        "CH" => DNSClass::CH,
        "HS" => DNSClass::HS,
        "NONE" => DNSClass::NONE,
        "ANY" => DNSClass::ANY,
        "CS" => DNSClass::from(2),
        _ => {
            let n: u16 = text.strip_prefix("CLASS")?.parse().ok()?;
            DNSClass::from(n)
        }
    })
}

struct Rdata {
    tokens: Vec<Token>,
    pos: usize,
    rtype: &'static str,
}

impl Rdata {
    fn parse(&mut self, rtype_text: &str) -> Result<RData, RrError> {
        let rtype = match rtype_text.parse::<RecordType>() {
            Ok(t) if !rtype_text.starts_with("TYPE") => t,
            _ => return Err(RrError::UnknownType(rtype_text.to_string())),
        };
        Ok(match rtype {
            RecordType::A => {
                self.rtype = "A";
                RData::A(A(self.parsed::<Ipv4Addr>("address")?))
            }
            RecordType::AAAA => {
                self.rtype = "AAAA";
                RData::AAAA(AAAA(self.parsed::<Ipv6Addr>("address")?))
            }
            RecordType::CNAME => {
                self.rtype = "CNAME";
                RData::CNAME(CNAME(self.name("target")?))
            }
            RecordType::PTR => {
                self.rtype = "PTR";
                RData::PTR(PTR(self.name("target")?))
            }
            RecordType::NS => {
                self.rtype = "NS";
                RData::NS(NS(self.name("name server")?))
            }
            RecordType::MX => {
                self.rtype = "MX";
                let preference = self.parsed::<u16>("preference")?;
                RData::MX(MX::new(preference, self.name("exchange")?))
            }
            RecordType::SRV => {
                self.rtype = "SRV";
                let priority = self.parsed::<u16>("priority")?;
                let weight = self.parsed::<u16>("weight")?;
                let port = self.parsed::<u16>("port")?;
                RData::SRV(SRV::new(priority, weight, port, self.name("target")?))
            }
            RecordType::TXT => {
                self.rtype = "TXT";
                let strings: Vec<String> = self.tokens[self.pos..]
                    .iter()
                    .map(|t| t.text.clone())
                    .collect();
                if strings.is_empty() {
                    return Err(RrError::Missing {
                        rtype: "TXT",
                        what: "text",
                    });
                }
                if strings.iter().any(|s| s.len() > 255) {
                    return Err(RrError::LongTxt);
                }
                self.pos = self.tokens.len();
                RData::TXT(TXT::new(strings))
            }
            RecordType::SOA => {
                self.rtype = "SOA";
                let mname = self.name("mname")?;
                let rname = self.name("rname")?;
                let serial = self.parsed::<u32>("serial")?;
                let refresh = self.timer("refresh")?;
                let retry = self.timer("retry")?;
                let expire = self.timer("expire")?;
                let minimum = self.ttl_value("minimum")?;
                RData::SOA(SOA::new(
                    mname, rname, serial, refresh, retry, expire, minimum,
                ))
            }
            _ => return Err(RrError::UnsupportedType(rtype_text.to_string())),
        })
    }

    fn next(&mut self, what: &'static str) -> Result<String, RrError> {
        let token = self.tokens.get(self.pos).ok_or(RrError::Missing {
            rtype: self.rtype,
            what,
        })?;
        self.pos += 1;
        Ok(token.text.clone())
    }

    fn bad(&self, what: &'static str, value: String) -> RrError {
        RrError::Field {
            rtype: self.rtype,
            what,
            value,
        }
    }

    fn parsed<T: std::str::FromStr>(&mut self, what: &'static str) -> Result<T, RrError> {
        let text = self.next(what)?;
        text.parse().map_err(|_| self.bad(what, text))
    }

    fn name(&mut self, what: &'static str) -> Result<Name, RrError> {
        let text = self.next(what)?;
        parse_name(&text).ok_or_else(|| self.bad(what, text))
    }

    /// An SOA timer: seconds or a TTL with units, at most 2^31-1 (hickory stores i32).
    fn timer(&mut self, what: &'static str) -> Result<i32, RrError> {
        let text = self.next(what)?;
        parse_ttl(&text)
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| self.bad(what, text))
    }

    fn ttl_value(&mut self, what: &'static str) -> Result<u32, RrError> {
        let text = self.next(what)?;
        parse_ttl(&text).ok_or_else(|| self.bad(what, text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_common_types() {
        let cases: &[(&str, &str)] = &[
            ("a.example. 60 IN A 10.1.2.3", "a.example. 60 IN A 10.1.2.3"),
            ("a.example A 10.1.2.3", "a.example. 3600 IN A 10.1.2.3"),
            (
                "a.example. IN 60 AAAA 2001:db8::1",
                "a.example. 60 IN AAAA 2001:db8::1",
            ),
            ("a. 1h CH A 1.1.1.1", "a. 3600 CH A 1.1.1.1"),
            ("a. 1h30m CNAME b.example", "a. 5400 IN CNAME b.example."),
            (
                "3.2.1.10.in-addr.arpa. 5 PTR host.example.",
                "3.2.1.10.in-addr.arpa. 5 IN PTR host.example.",
            ),
            (
                "example. 60 NS ns1.example.",
                "example. 60 IN NS ns1.example.",
            ),
            ("example. 60 MX 10 mail", "example. 60 IN MX 10 mail."),
            (
                "_dns._udp.example. 60 SRV 0 100 53 ns.example.",
                "_dns._udp.example. 60 IN SRV 0 100 53 ns.example.",
            ),
            ("@ 60 A 1.1.1.1", ". 60 IN A 1.1.1.1"),
            (
                "invalid. 60 IN SOA ns.invalid. hostmaster.invalid. (\n 1 ; serial\n 60 60 60 60 )",
                "invalid. 60 IN SOA ns.invalid. hostmaster.invalid. 1 60 60 60 60",
            ),
            (
                "x. 60 SOA ns. h. (2024 1h 10m 1w 1d)",
                "x. 60 IN SOA ns. h. 2024 3600 600 604800 86400",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(
                parse_rr(text).map(|r| r.to_string()).as_deref(),
                Ok(*want),
                "{text}"
            );
        }
    }

    #[test]
    fn parses_txt_strings() {
        let r = parse_rr(r#"t. 60 TXT "a b" plain "q\"\\" "\065""#).unwrap();
        let RData::TXT(txt) = r.data else {
            panic!("not TXT")
        };
        let strings: Vec<_> = txt.txt_data.iter().map(|s| s.to_vec()).collect();
        assert_eq!(
            strings,
            [
                b"a b".to_vec(),
                b"plain".to_vec(),
                b"q\"\\".to_vec(),
                b"A".to_vec()
            ]
        );
    }

    #[test]
    fn rejects_bad_records_clearly() {
        let long = format!("t. TXT \"{}\"", "x".repeat(256));
        let cases: Vec<(&str, RrError)> = vec![
            ("", RrError::Empty),
            ("   ", RrError::Empty),
            ("a. 60 IN", RrError::MissingType("a.".into())),
            ("a. 60 IN FOO 1", RrError::UnknownType("FOO".into())),
            ("a. 60 IN TYPE1 1", RrError::UnknownType("TYPE1".into())),
            (
                "a. 60 IN HINFO a b",
                RrError::UnsupportedType("HINFO".into()),
            ),
            (
                "a. 60 IN A 300.1.1.1",
                RrError::Field {
                    rtype: "A",
                    what: "address",
                    value: "300.1.1.1".into(),
                },
            ),
            (
                "a. 60 IN A",
                RrError::Missing {
                    rtype: "A",
                    what: "address",
                },
            ),
            ("a. 60 IN A 1.1.1.1 extra", RrError::Extra("extra".into())),
            (
                "a. 60 IN MX x mail.",
                RrError::Field {
                    rtype: "MX",
                    what: "preference",
                    value: "x".into(),
                },
            ),
            ("a. 60 IN SOA ns. h. (1 2 3 4", RrError::Parentheses),
            ("a. 60 IN A 1.1.1.1)", RrError::Parentheses),
            ("a. 60 TXT \"open", RrError::Quote),
            (
                "a. 99999999999 A 1.1.1.1",
                RrError::Field {
                    rtype: "any",
                    what: "TTL",
                    value: "99999999999".into(),
                },
            ),
            ("a..b. A 1.1.1.1", RrError::Owner("a..b.".into())),
            (
                "a. TXT",
                RrError::Missing {
                    rtype: "TXT",
                    what: "text",
                },
            ),
            (&long, RrError::LongTxt),
        ];
        for (text, want) in cases {
            assert_eq!(parse_rr(text).unwrap_err(), want, "{text:?}");
        }
    }

    #[test]
    fn ttls_take_units() {
        assert_eq!(parse_ttl("0"), Some(0));
        assert_eq!(
            parse_ttl("1W2d3H4m5s"),
            Some(604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5)
        );
        assert_eq!(parse_ttl("4294967295"), Some(u32::MAX));
        assert_eq!(parse_ttl("4294967296"), None);
        assert_eq!(parse_ttl("1x"), None);
        assert_eq!(parse_ttl("h"), None);
    }
}
