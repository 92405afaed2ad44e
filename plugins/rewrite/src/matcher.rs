//! How a rule's name condition matches and rewrites a name (plugins-resolution.md §4.3, match
//! types; CoreDNS `rewrite/name.go`).

use regex::Regex;

use crate::error::RuleError;

/// CoreDNS's cap on a pattern's length, against huge compiled programs (§4.3).
pub const MAX_REGEX_LEN: usize = 10000;

/// The match types of `name`, `ttl`, `rcode` and `cname` rules.
#[derive(Clone, Debug)]
pub enum Matcher {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Substring(String),
    Regex(Regex),
}

impl Matcher {
    /// `MATCH` keyword (case-insensitive) and its FROM argument. Non-regex FROM values are
    /// lower-cased and fully qualified (§4.3 normalisation); `rule` names the rule in errors.
    pub fn parse(kind: &str, from: &str, rule: &'static str) -> Result<Matcher, RuleError> {
        Ok(match kind.to_ascii_lowercase().as_str() {
            "exact" => Matcher::Exact(normalize(from)),
            "prefix" => Matcher::Prefix(normalize(from)),
            "suffix" => Matcher::Suffix(normalize(from)),
            "substring" => Matcher::Substring(normalize(from)),
            "regex" => Matcher::Regex(compile(from, rule)?),
            _ => return Err(RuleError::MatchType { rule }),
        })
    }

    /// True when `name` (lower-cased FQDN) satisfies the condition.
    pub fn is_match(&self, name: &str) -> bool {
        match self {
            Matcher::Exact(from) => name == from,
            Matcher::Prefix(from) => name.starts_with(from.as_str()),
            Matcher::Suffix(from) => name.ends_with(from.as_str()),
            Matcher::Substring(from) => name.contains(from.as_str()),
            Matcher::Regex(re) => re.is_match(name),
        }
    }

    /// The rewritten name, or `None` when the condition does not hold. `to` is the rule's
    /// normalised TO (with `{N}` group references for regex).
    pub fn rewrite(&self, name: &str, to: &str) -> Option<String> {
        match self {
            Matcher::Exact(from) => (name == from).then(|| to.to_string()),
            Matcher::Prefix(from) => name
                .strip_prefix(from.as_str())
                .map(|rest| format!("{to}{rest}")),
            Matcher::Suffix(from) => name
                .strip_suffix(from.as_str())
                .map(|head| format!("{head}{to}")),
            Matcher::Substring(from) => name
                .contains(from.as_str())
                .then(|| name.replace(from.as_str(), to)),
            Matcher::Regex(re) => substitute(re, name, to),
        }
    }
}

/// `to` with `{0}`…`{n}` replaced by the groups of `re`'s first match in `src`; `None` when it
/// does not match. Unmatched optional groups count as empty (Go's FindStringSubmatch).
pub fn substitute(re: &Regex, src: &str, to: &str) -> Option<String> {
    let caps = re.captures(src)?;
    let mut out = to.to_string();
    for (i, group) in caps.iter().enumerate() {
        let key = format!("{{{i}}}");
        if out.contains(&key) {
            out = out.replace(&key, group.map_or("", |m| m.as_str()));
        }
    }
    Some(out)
}

/// A regex with CoreDNS's limits and texts (§4.8: a bad pattern is a Corefile error).
pub fn compile(pattern: &str, rule: &'static str) -> Result<Regex, RuleError> {
    if pattern.len() > MAX_REGEX_LEN {
        return Err(RuleError::RegexTooLong {
            rule,
            len: pattern.len(),
        });
    }
    Regex::new(pattern).map_err(|_| RuleError::BadRegex {
        rule,
        pattern: pattern.to_string(),
    })
}

/// A regex whose replacement may use no more groups than it has (CoreDNS
/// `isValidRegexPattern`, used by name rules and `answer` parts).
pub fn compile_with_replacement(pattern: &str, to: &str) -> Result<Regex, RuleError> {
    if pattern.len() > MAX_REGEX_LEN {
        return Err(RuleError::RegexTooLong {
            rule: "name",
            len: pattern.len(),
        });
    }
    let re = Regex::new(pattern).map_err(|_| RuleError::InvalidPattern(pattern.to_string()))?;
    // CoreDNS counts distinct `{i}` references for i in 0..=100 and compares with the number
    // of groups (not counting group 0).
    let used = (0..=100)
        .filter(|i| to.contains(&format!("{{{i}}}")))
        .count();
    if used > re.captures_len() - 1 {
        return Err(RuleError::TooManyGroups {
            to: to.to_string(),
            from: pattern.to_string(),
        });
    }
    Ok(re)
}

/// Lower-cased, fully qualified (CoreDNS `plugin.Name(s).Normalize()`).
pub fn normalize(s: &str) -> String {
    let mut out = s.to_ascii_lowercase();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
