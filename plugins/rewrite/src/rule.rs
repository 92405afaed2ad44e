//! One `rewrite` rule: its parsing (CoreDNS `newRule`) and what it does to a query
//! (plugins-resolution.md §4.1, §4.3, §4.5, §4.7).

use std::str::FromStr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, RecordType};

use crate::answer::{NameMap, ResponseRule};
use crate::edns0::EdnsRule;
use crate::error::RuleError;
use crate::matcher::{Matcher, compile, compile_with_replacement, normalize, substitute};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Stop,
    Continue,
}

/// The automatic reverse mapping of a name rule (§4.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auto {
    None,
    /// New full name → original name (exact always; prefix/substring/regex with `answer auto`).
    Remap,
    /// Suffix swap TO → FROM (suffix with `answer auto`).
    Suffix,
}

#[derive(Clone, Debug)]
pub enum Kind {
    Name {
        matcher: Matcher,
        to: String,
        /// `to` parsed, for exact rules (whose new name is always `to`): parsed once here,
        /// not per query.
        exact_to: Option<hickory_proto::rr::Name>,
        auto: Auto,
        answers: Vec<ResponseRule>,
    },
    Type {
        from: RecordType,
        to: RecordType,
    },
    Class {
        from: DNSClass,
        to: DNSClass,
    },
    Ttl {
        matcher: Matcher,
        min: u32,
        max: u32,
    },
    Rcode {
        matcher: Matcher,
        from: ResponseCode,
        to: ResponseCode,
    },
    Cname(CnameRule),
    Edns0(EdnsRule),
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub mode: Mode,
    pub kind: Kind,
}

/// `cname [MATCH] FROM TO` (§4.7).
#[derive(Clone, Debug)]
pub struct CnameRule {
    pub matcher: Matcher,
    pub to: String,
}

impl CnameRule {
    /// The rewritten target for a CNAME target `target` (as text), `None` if it does not match.
    pub fn rewrite(&self, target: &str) -> Option<String> {
        match &self.matcher {
            Matcher::Exact(from) => (target == from).then(|| self.to.clone()),
            Matcher::Prefix(from) => target
                .strip_prefix(from.as_str())
                .map(|r| format!("{}{r}", self.to)),
            Matcher::Suffix(from) => target
                .strip_suffix(from.as_str())
                .map(|h| format!("{h}{}", self.to)),
            Matcher::Substring(from) => target
                .contains(from.as_str())
                .then(|| target.replace(from.as_str(), &self.to)),
            Matcher::Regex(re) => substitute(re, target, &self.to),
        }
    }
}

impl Rule {
    /// All words of one rule (the line's arguments, or a block's tokens).
    pub fn parse(args: &[String]) -> Result<Rule, RuleError> {
        let first = args
            .first()
            .ok_or(RuleError::NoRuleType)?
            .to_ascii_lowercase();
        let (mode, rest) = match first.as_str() {
            "continue" | "stop" => {
                let mode = if first == "stop" {
                    Mode::Stop
                } else {
                    Mode::Continue
                };
                if args.len() < 2 {
                    let word = if mode == Mode::Stop {
                        "stop"
                    } else {
                        "continue"
                    };
                    return Err(RuleError::ModeWithoutType(word));
                }
                (mode, &args[1..])
            }
            _ => (Mode::Stop, args),
        };
        let rule_type = rest[0].to_ascii_lowercase();
        let params = &rest[1..];
        let kind = match rule_type.as_str() {
            "answer" => return Err(RuleError::AnswerFirst),
            "name" => parse_name(params)?,
            "type" | "class" if params.len() != 2 => {
                return Err(RuleError::TwoArguments(rule_type));
            }
            "type" => Kind::Type {
                from: record_type(&params[0])?,
                to: record_type(&params[1])?,
            },
            "class" => Kind::Class {
                from: class(&params[0])?,
                to: class(&params[1])?,
            },
            "ttl" => parse_ttl(params)?,
            "rcode" => parse_rcode(params)?,
            "cname" => parse_cname(params)?,
            "edns0" => Kind::Edns0(EdnsRule::parse(params)?),
            _ => return Err(RuleError::RuleType(args[0].clone())),
        };
        Ok(Rule { mode, kind })
    }
}

fn record_type(text: &str) -> Result<RecordType, RuleError> {
    let upper = text.to_ascii_uppercase();
    RecordType::from_str(&upper).map_err(|_| RuleError::Type(upper))
}

fn class(text: &str) -> Result<DNSClass, RuleError> {
    let upper = text.to_ascii_uppercase();
    DNSClass::from_str(&upper).map_err(|_| RuleError::Class(upper))
}

/// `name [MATCH] FROM TO [answer …]` (§4.3, §4.4; CoreDNS `newNameRule`).
fn parse_name(args: &[String]) -> Result<Kind, RuleError> {
    if args.len() < 2 {
        return Err(RuleError::NameTooFew);
    }
    let (kind, from, to) = if args.len() == 2 {
        ("exact".to_string(), args[0].as_str(), args[1].as_str())
    } else {
        (
            args[0].to_ascii_lowercase(),
            args[1].as_str(),
            args[2].as_str(),
        )
    };
    let (auto_requested, answers) = if args.len() > 3 {
        parse_answers(&kind, &args[3..])?
    } else {
        (false, Vec::new())
    };
    let (matcher, to, auto) = match kind.as_str() {
        "exact" => (Matcher::Exact(normalize(from)), normalize(to), Auto::Remap),
        "prefix" | "suffix" | "substring" => {
            let matcher = Matcher::parse(&kind, from, "name")?;
            let auto = match (auto_requested, kind.as_str()) {
                (false, _) => Auto::None,
                (true, "suffix") => Auto::Suffix,
                (true, _) => Auto::Remap,
            };
            (matcher, normalize(to), auto)
        }
        "regex" => {
            let re = compile_with_replacement(from, to)?;
            (
                Matcher::Regex(re),
                normalize(to),
                if auto_requested {
                    Auto::Remap
                } else {
                    Auto::None
                },
            )
        }
        _ => return Err(RuleError::NameMatchType(kind)),
    };
    let exact_to = match &matcher {
        Matcher::Exact(_) => crate::names::parse(&to),
        _ => None,
    };
    Ok(Kind::Name {
        matcher,
        to,
        exact_to,
        auto,
        answers,
    })
}

/// The `answer auto|name|value …` parts (CoreDNS `parseAnswerRules`). Returns whether `auto`
/// was given and the static rules.
fn parse_answers(rule: &str, args: &[String]) -> Result<(bool, Vec<ResponseRule>), RuleError> {
    if args.len() < 2 {
        return Err(RuleError::AnswerArguments(rule.to_string()));
    }
    let (mut auto, mut name_rules, mut rules) = (false, 0, Vec::new());
    let mut i = 0;
    let mut last = String::new();
    while i < args.len() {
        if last.is_empty() && args[i] != "answer" {
            return Err(RuleError::NotAnAnswer(rule.to_string()));
        }
        if args[i] == "answer" {
            i += 1;
        }
        let Some(kind) = args.get(i) else {
            return Err(RuleError::AnswerTypeMissing(rule.to_string()));
        };
        last = kind.clone();
        i += 1;
        match kind.as_str() {
            "auto" => auto = true,
            "name" | "value" => {
                let (Some(from), Some(to)) = (args.get(i), args.get(i + 1)) else {
                    return Err(RuleError::AnswerTwoArguments {
                        kind: kind.clone(),
                        rule: rule.to_string(),
                    });
                };
                let re =
                    compile_with_replacement(from, to).map_err(|e| RuleError::AnswerRegex {
                        kind: kind.clone(),
                        rule: rule.to_string(),
                        source: Box::new(e),
                    })?;
                let map = NameMap::Regex(re, normalize(to));
                if kind == "name" {
                    name_rules += 1;
                    rules.push(ResponseRule::Owner(map));
                } else {
                    rules.push(ResponseRule::Value(map));
                }
                i += 2;
            }
            _ => {
                return Err(RuleError::AnswerType {
                    kind: kind.clone(),
                    rule: rule.to_string(),
                });
            }
        }
    }
    if auto && name_rules > 0 {
        return Err(RuleError::AutoWithName);
    }
    Ok((auto, rules))
}

/// `[MATCH] NAME` of ttl and rcode rules: exact when the match type is omitted.
fn name_condition(
    kind: Option<&str>,
    name: &str,
    rule: &'static str,
) -> Result<Matcher, RuleError> {
    match kind {
        None => Ok(Matcher::Exact(normalize(name))),
        Some(kind) if kind.eq_ignore_ascii_case("regex") => {
            Ok(Matcher::Regex(compile(name, rule)?))
        }
        Some(kind) => Matcher::parse(kind, name, rule),
    }
}

/// `ttl [MATCH] NAME TTLSPEC` (§4.5).
fn parse_ttl(args: &[String]) -> Result<Kind, RuleError> {
    if args.len() < 2 {
        return Err(RuleError::TooFew {
            rule: "ttl",
            count: args.len(),
        });
    }
    let spec = args.last().map(String::as_str).unwrap_or_default();
    let (min, max) = ttl_range(spec).ok_or_else(|| RuleError::Ttl(spec.to_string()))?;
    let matcher = match args.len() {
        2 => name_condition(None, &args[0], "ttl")?,
        3 => name_condition(Some(&args[0]), &args[1], "ttl")?,
        _ => return Err(RuleError::TooMany("ttl")),
    };
    Ok(Kind::Ttl { matcher, min, max })
}

/// TTLSPEC: `N`, `MIN-MAX`, `-MAX`, `MIN-` (§4.5).
pub fn ttl_range(spec: &str) -> Option<(u32, u32)> {
    let Some((low, high)) = spec.split_once('-') else {
        let n = spec.parse::<u32>().ok()?;
        return Some((n, n));
    };
    if low.is_empty() && high.is_empty() {
        return None;
    }
    let min = if low.is_empty() {
        0
    } else {
        low.parse::<u32>().ok()?
    };
    let max = if high.is_empty() {
        2_147_483_647
    } else {
        high.parse::<u32>().ok()?
    };
    (min <= max).then_some((min, max))
}

/// `rcode [MATCH] NAME FROM TO` (§4.5).
fn parse_rcode(args: &[String]) -> Result<Kind, RuleError> {
    if args.len() < 3 {
        return Err(RuleError::TooFew {
            rule: "rcode",
            count: args.len(),
        });
    }
    let n = args.len();
    let from = rcode(&args[n - 2]).ok_or_else(|| RuleError::RcodeFrom(args[n - 2].clone()))?;
    let to = rcode(&args[n - 1]).ok_or_else(|| RuleError::RcodeTo(args[n - 1].clone()))?;
    let matcher = match n {
        3 => name_condition(None, &args[0], "rcode")?,
        4 => name_condition(Some(&args[0]), &args[1], "rcode")?,
        _ => return Err(RuleError::TooMany("rcode")),
    };
    Ok(Kind::Rcode { matcher, from, to })
}

/// An rcode name (case-insensitive) or a number 0–23 (§4.5).
pub fn rcode(text: &str) -> Option<ResponseCode> {
    const NAMES: [&str; 24] = [
        "NOERROR",
        "FORMERR",
        "SERVFAIL",
        "NXDOMAIN",
        "NOTIMP",
        "REFUSED",
        "YXDOMAIN",
        "YXRRSET",
        "NXRRSET",
        "NOTAUTH",
        "NOTZONE",
        "",
        "",
        "",
        "",
        "",
        "BADSIG",
        "BADKEY",
        "BADTIME",
        "BADMODE",
        "BADNAME",
        "BADALG",
        "BADTRUNC",
        "BADCOOKIE",
    ];
    let upper = text.to_ascii_uppercase();
    let code = match NAMES.iter().position(|n| !n.is_empty() && *n == upper) {
        Some(code) => code as u16,
        None => text.parse::<u16>().ok().filter(|c| *c <= 23)?,
    };
    Some(<ResponseCode as From<u16>>::from(code))
}

/// `cname [MATCH] FROM TO` (§4.7): exact FROM/TO normalised; others lower-cased only.
fn parse_cname(args: &[String]) -> Result<Kind, RuleError> {
    let (kind, from, to) = match args {
        [from, to] => (
            "exact".to_string(),
            from.to_ascii_lowercase(),
            to.to_ascii_lowercase(),
        ),
        [kind, from, to] => (
            kind.to_ascii_lowercase(),
            from.to_ascii_lowercase(),
            to.to_ascii_lowercase(),
        ),
        _ => {
            return Err(RuleError::TooFew {
                rule: "cname",
                count: args.len(),
            });
        }
    };
    let matcher = match kind.as_str() {
        "exact" => Matcher::Exact(normalize(&from)),
        "prefix" => Matcher::Prefix(from),
        "suffix" => Matcher::Suffix(from),
        "substring" => Matcher::Substring(from),
        "regex" => Matcher::Regex(compile(&from, "cname")?),
        _ => return Err(RuleError::CnameType(kind)),
    };
    let to = if kind == "exact" { normalize(&to) } else { to };
    Ok(Kind::Cname(CnameRule { matcher, to }))
}
