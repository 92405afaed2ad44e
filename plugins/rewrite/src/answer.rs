//! Rules applied to the reply on its way back (plugins-resolution.md §4.4, §4.5).

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, Record};
use regex::Regex;

use crate::matcher::substitute;

/// How a name in the reply is mapped back.
#[derive(Clone, Debug)]
pub enum NameMap {
    /// `answer name|value REGEX REPL`: a matching name is replaced entirely by REPL.
    Regex(Regex, String),
    /// Exact and `auto` rules: the new full name (or a name ending in `.` + it) gets that part
    /// replaced by the original name (CoreDNS `remapStringRewriter`). The two names are also
    /// kept parsed: a record owned by exactly the new name, the usual answer, is mapped
    /// without text.
    Remap {
        new: String,
        original: String,
        new_name: Option<Name>,
        original_name: Option<Name>,
    },
    /// `auto` for suffix rules: a plain suffix swap on any name.
    Suffix { new: String, original: String },
}

impl NameMap {
    /// The mapped name, or `None` when it does not apply. Case-sensitive on the reply's text (§4.8).
    pub fn apply(&self, src: &str) -> Option<String> {
        match self {
            NameMap::Regex(re, to) => substitute(re, src, to),
            NameMap::Remap { new, original, .. } => {
                if src == new {
                    return Some(original.clone());
                }
                let cut = src.len().checked_sub(new.len())?;
                (cut > 0 && src.as_bytes()[cut - 1] == b'.' && src.get(cut..) == Some(new.as_str()))
                    .then(|| format!("{}{original}", &src[..cut]))
            }
            NameMap::Suffix { new, original } => src
                .strip_suffix(new.as_str())
                .map(|head| format!("{head}{original}")),
        }
    }
}

/// One collected response rule.
#[derive(Clone, Debug)]
pub enum ResponseRule {
    Owner(NameMap),
    Value(NameMap),
    Ttl {
        min: u32,
        max: u32,
    },
    Rcode {
        from: ResponseCode,
        to: ResponseCode,
    },
}

impl ResponseRule {
    /// Applies this rule to one record (and the reply's rcode for rcode rules).
    pub fn apply(&self, record: &mut Record, rcode: &mut ResponseCode) {
        match self {
            ResponseRule::Owner(map) => {
                if let Some(name) = mapped(map, &record.name) {
                    record.name = name;
                }
            }
            ResponseRule::Value(map) => {
                if let Some(target) = value_mut(&mut record.data)
                    && let Some(name) = mapped(map, target)
                {
                    *target = name;
                }
            }
            ResponseRule::Ttl { min, max } => record.ttl = record.ttl.clamp(*min, *max),
            ResponseRule::Rcode { .. } => self.apply_rcode(rcode),
        }
    }

    /// The message-level part, applied once to a reply without records (§4.2 step 4).
    pub fn apply_rcode(&self, rcode: &mut ResponseCode) {
        if let ResponseRule::Rcode { from, to } = self
            && *rcode == *from
        {
            *rcode = *to;
        }
    }
}

/// A name mapped by `map`, kept as is when the result is not a valid name.
fn mapped(map: &NameMap, name: &Name) -> Option<Name> {
    if let NameMap::Remap {
        new_name: Some(new_name),
        original_name: Some(original_name),
        ..
    } = map
        && name.eq_case(new_name)
    {
        return (!new_name.eq_case(original_name)).then(|| original_name.clone());
    }
    let text = name.to_ascii();
    let new = map.apply(&text)?;
    if new == text {
        return None;
    }
    crate::names::parse(&new)
}

/// The name-valued field of the record types §4.4 lists (DNAME has no typed form here; it is
/// carried as unknown data and left alone).
pub fn value_mut(data: &mut RData) -> Option<&mut Name> {
    match data {
        RData::CNAME(c) => Some(&mut c.0),
        RData::NS(ns) => Some(&mut ns.0),
        RData::PTR(p) => Some(&mut p.0),
        RData::MX(mx) => Some(&mut mx.exchange),
        RData::SRV(srv) => Some(&mut srv.target),
        RData::NAPTR(naptr) => Some(&mut naptr.replacement),
        RData::SOA(soa) => Some(&mut soa.mname),
        _ => None,
    }
}
