//! `template CLASS TYPE [ZONE…] { … }` → [`Config`] (plugins-resolution.md §6.1).

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, RecordType};
use regex::Regex;

use plugin::{Dispenser, Fallthrough, ParseError};

use crate::mnemonics;
use crate::rr_text::parse_class;
use crate::text_template::Template;

/// CoreDNS's `maxRegexpLen`: a longer pattern is refused before it is compiled.
pub const MAX_REGEX_LEN: usize = 10_000;

/// Every `template` line of a block: one handler (§0.1).
#[derive(Debug)]
pub struct Config {
    /// The union of the templates' zones: a name outside it goes to the next plugin.
    pub zones: Vec<String>,
    /// In written order.
    pub rules: Vec<Rule>,
}

/// One `template` line and its block.
#[derive(Debug)]
pub struct Rule {
    pub class: DNSClass,
    pub qtype: RecordType,
    pub zones: Vec<String>,
    /// `.*` when no `match` is given.
    pub regexes: Vec<Regex>,
    pub answer: Vec<Template>,
    pub additional: Vec<Template>,
    pub authority: Vec<Template>,
    pub rcode: ResponseCode,
    pub ederror: Option<ExtendedError>,
    pub fall: Fallthrough,
}

/// `ederror CODE [REASON]` (RFC 8914).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtendedError {
    pub code: u16,
    pub reason: String,
}

/// Reads every `template` occurrence; `block_zones` are the default zones.
pub fn parse(d: &mut Dispenser, block_zones: &[String]) -> Result<Config, ParseError> {
    let mut config = Config {
        zones: Vec::new(),
        rules: Vec::new(),
    };
    while d.next() {
        let rule = parse_rule(d, block_zones)?;
        for zone in &rule.zones {
            if !config.zones.contains(zone) {
                config.zones.push(zone.clone());
            }
        }
        config.rules.push(rule);
    }
    Ok(config)
}

fn parse_rule(d: &mut Dispenser, block_zones: &[String]) -> Result<Rule, ParseError> {
    if !d.next_arg() {
        return Err(d.arg_err());
    }
    // miekg/dns StringToClass has no CLASSnnn form.
    let class = parse_class(d.val())
        .filter(|_| !d.val().starts_with("CLASS"))
        .ok_or_else(|| d.err(format!("invalid query class {}", d.val())))?;
    if !d.next_arg() {
        return Err(d.arg_err());
    }
    // CoreDNS's text says "RR class" for a bad type; kept so the message is the same.
    let qtype = mnemonics::record_type(d.val())
        .ok_or_else(|| d.err(format!("invalid RR class {}", d.val())))?;

    // Zones may come quoted as one argument (`" a.example b.example "`).
    let mut zones: Vec<String> = d
        .remaining_args()
        .iter()
        .flat_map(|arg| {
            arg.trim_matches(|c| c == '\'' || c == '"')
                .split_whitespace()
                // A CIDR stands for its reverse zones (plugins-resolution.md §0.3).
                .flat_map(plugin::reverse_zones::expand)
                .collect::<Vec<_>>()
        })
        .collect();
    if zones.is_empty() {
        zones = block_zones.to_vec();
    }

    let mut rule = Rule {
        class,
        qtype,
        zones,
        regexes: Vec::new(),
        answer: Vec::new(),
        additional: Vec::new(),
        authority: Vec::new(),
        rcode: ResponseCode::NoError,
        ederror: None,
        fall: Fallthrough::none(),
    };

    while d.next_block() {
        match d.val() {
            "match" => {
                let args = d.remaining_args();
                if args.is_empty() {
                    return Err(d.arg_err());
                }
                for pattern in args {
                    if pattern.len() > MAX_REGEX_LEN {
                        return Err(d.err(format!(
                            "regex pattern too long: {} > {MAX_REGEX_LEN}",
                            pattern.len()
                        )));
                    }
                    let regex = Regex::new(&pattern)
                        .map_err(|e| d.err(format!("could not parse regex: {pattern}, {e}")))?;
                    rule.regexes.push(regex);
                }
            }
            section @ ("answer" | "additional" | "authority") => {
                let section: &'static str = match section {
                    "answer" => "answer",
                    "additional" => "additional",
                    _ => "authority",
                };
                let args = d.remaining_args();
                if args.is_empty() {
                    return Err(d.arg_err());
                }
                for text in args {
                    let template = Template::parse(section, &text).map_err(|e| {
                        d.err(format!("could not compile template: {}, {e}", d.val()))
                    })?;
                    match section {
                        "answer" => rule.answer.push(template),
                        "additional" => rule.additional.push(template),
                        _ => rule.authority.push(template),
                    }
                }
            }
            "rcode" => {
                if !d.next_arg() {
                    return Err(d.arg_err());
                }
                rule.rcode = mnemonics::rcode(d.val())
                    .ok_or_else(|| d.err(format!("unknown rcode {}", d.val())))?;
            }
            "ederror" => {
                let args = d.remaining_args();
                if args.is_empty() || args.len() > 2 {
                    return Err(d.arg_err());
                }
                let code = args[0].parse::<u16>().map_err(|_| {
                    d.err(format!(
                        "error parsing extended DNS error code {}, strconv.ParseUint: parsing {:?}: {}",
                        d.val(),
                        args[0],
                        if args[0].bytes().all(|b| b.is_ascii_digit()) && !args[0].is_empty() {
                            "value out of range"
                        } else {
                            "invalid syntax"
                        }
                    ))
                })?;
                rule.ederror = Some(ExtendedError {
                    code,
                    reason: args.get(1).cloned().unwrap_or_default(),
                });
            }
            "fallthrough" => rule.fall = Fallthrough::from_args(&d.remaining_args()),
            // Deprecated: CNAME targets are always looked up (§6.1).
            "upstream" => {
                d.remaining_args();
            }
            "var" | "expr" => {
                return Err(d.err(format!(
                    "{} is not supported by this build (plugins-resolution.md §6.1: post-1.14.7)",
                    d.val()
                )));
            }
            _ => return Err(d.arg_err()),
        }
    }
    if rule.regexes.is_empty() {
        rule.regexes
            .push(Regex::new(".*").map_err(|e| d.err(e.to_string()))?);
    }
    Ok(rule)
}
