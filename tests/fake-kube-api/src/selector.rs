//! `labelSelector` and `fieldSelector` query parameters: parsed once per request, matched
//! against stored objects (list items and every watch event).
//!
//! Grammar as in k8s.io/apimachinery `labels.Parse` and `fields.ParseSelector`: comma-joined
//! requirements; labels support `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`,
//! `!k`, `k>n`, `k<n`; fields support `f=v`, `f==v`, `f!=v` with backslash escapes.
//!
//! Written apart from the kubernetes plugin's `source::selector` on purpose: the fake API is
//! the oracle its client is tested against, so it must not share the code under test.

use std::collections::BTreeMap;

use crate::{object::StoredObject, resource::ResourceKind};

/// A selector the API server refuses (answered 400 BadRequest).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelRequirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
    GreaterThan(String, i64),
    LessThan(String, i64),
}

impl LabelRequirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            LabelRequirement::Equals(k, v) => labels.get(k) == Some(v),
            // Like Kubernetes: an object without the label matches `!=` and `notin`.
            LabelRequirement::NotEquals(k, v) => labels.get(k) != Some(v),
            LabelRequirement::In(k, set) => labels.get(k).is_some_and(|v| set.contains(v)),
            LabelRequirement::NotIn(k, set) => labels.get(k).is_none_or(|v| !set.contains(v)),
            LabelRequirement::Exists(k) => labels.contains_key(k),
            LabelRequirement::DoesNotExist(k) => !labels.contains_key(k),
            LabelRequirement::GreaterThan(k, n) => labels
                .get(k)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > *n),
            LabelRequirement::LessThan(k, n) => labels
                .get(k)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v < *n),
        }
    }
}

/// A parsed `labelSelector`; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<LabelRequirement>);

impl LabelSelector {
    /// Parses a label selector as the API server does.
    pub fn parse(text: &str) -> Result<LabelSelector, SelectorError> {
        let mut requirements = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                if text.trim().is_empty() {
                    continue;
                }
                return Err(SelectorError(format!(
                    "unable to parse requirement: empty requirement in {text:?}"
                )));
            }
            requirements.push(parse_label_requirement(part)?);
        }
        Ok(LabelSelector(requirements))
    }

    /// Whether labels satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| r.matches(labels))
    }
}

/// Splits at commas outside parentheses (`a in (x,y),b` is two requirements).
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_label_requirement(part: &str) -> Result<LabelRequirement, SelectorError> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok(LabelRequirement::DoesNotExist(label_key(key.trim())?));
    }
    for (operator, build) in [
        (
            "!=",
            LabelRequirement::NotEquals as fn(String, String) -> LabelRequirement,
        ),
        ("==", LabelRequirement::Equals),
        ("=", LabelRequirement::Equals),
    ] {
        if let Some((key, value)) = part.split_once(operator) {
            return Ok(build(label_key(key.trim())?, label_value(value.trim())?));
        }
    }
    for (operator, greater) in [(">", true), ("<", false)] {
        if let Some((key, value)) = part.split_once(operator) {
            let key = label_key(key.trim())?;
            let number = value.trim().parse::<i64>().map_err(|_| {
                SelectorError(format!(
                    "for 'gt', 'lt' operators, the value must be an integer: {value:?}"
                ))
            })?;
            return Ok(if greater {
                LabelRequirement::GreaterThan(key, number)
            } else {
                LabelRequirement::LessThan(key, number)
            });
        }
    }
    let key_end = part.find(|c: char| c.is_whitespace()).unwrap_or(part.len());
    let key = label_key(&part[..key_end])?;
    let rest = part[key_end..].trim_start();
    if rest.is_empty() {
        return Ok(LabelRequirement::Exists(key));
    }
    let (negated, set) = if let Some(set) = rest.strip_prefix("notin") {
        (true, set)
    } else if let Some(set) = rest.strip_prefix("in") {
        (false, set)
    } else {
        return Err(SelectorError(format!(
            "unable to parse requirement: unknown operator in {part:?}"
        )));
    };
    let set = set.trim();
    let inner = set
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| {
            SelectorError(format!(
                "unable to parse requirement: expected '(' ... ')' in {part:?}"
            ))
        })?;
    let values = inner
        .split(',')
        .map(|v| label_value(v.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if negated {
        LabelRequirement::NotIn(key, values)
    } else {
        LabelRequirement::In(key, values)
    })
}

fn label_key(key: &str) -> Result<String, SelectorError> {
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if valid {
        Ok(key.to_string())
    } else {
        Err(SelectorError(format!("invalid label key {key:?}")))
    }
}

fn label_value(value: &str) -> Result<String, SelectorError> {
    if value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Ok(value.to_string())
    } else {
        Err(SelectorError(format!("invalid label value {value:?}")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldRequirement {
    field: String,
    value: String,
    negated: bool,
}

/// A parsed `fieldSelector`; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<FieldRequirement>);

impl FieldSelector {
    /// Parses a field selector and checks that `kind` supports every field it names.
    pub fn parse(text: &str, kind: ResourceKind) -> Result<FieldSelector, SelectorError> {
        let mut requirements = Vec::new();
        for term in split_unescaped_commas(text) {
            if term.is_empty() {
                continue;
            }
            let (field, value, negated) = if let Some((f, v)) = split_unescaped(&term, "!=") {
                (f, v, true)
            } else if let Some((f, v)) = split_unescaped(&term, "==") {
                (f, v, false)
            } else if let Some((f, v)) = split_unescaped(&term, "=") {
                (f, v, false)
            } else {
                return Err(SelectorError(format!(
                    "invalid selector: '{text}'; can't understand '{term}'"
                )));
            };
            let field = field.trim().to_string();
            if !kind.field_labels().contains(&field.as_str()) {
                return Err(SelectorError(format!("field label not supported: {field}")));
            }
            requirements.push(FieldRequirement {
                field,
                value: unescape(&value),
                negated,
            });
        }
        Ok(FieldSelector(requirements))
    }

    /// Whether the object's field labels satisfy every requirement.
    pub fn matches(&self, object: &StoredObject) -> bool {
        self.0.iter().all(|r| {
            let actual = object.field(&r.field).unwrap_or("");
            (actual == r.value) != r.negated
        })
    }
}

fn split_unescaped_commas(text: &str) -> Vec<String> {
    let mut terms = vec![String::new()];
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            if let Some(last) = terms.last_mut() {
                last.push('\\');
                last.push(c);
            }
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' {
            terms.push(String::new());
        } else if let Some(last) = terms.last_mut() {
            last.push(c);
        }
    }
    terms
}

/// Splits at the first `operator` not preceded by a backslash.
fn split_unescaped(term: &str, operator: &str) -> Option<(String, String)> {
    let bytes = term.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if term[i..].starts_with(operator) {
            return Some((
                term[..i].to_string(),
                term[i + operator.len()..].to_string(),
            ));
        }
        i += 1;
    }
    None
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selector_table() {
        let app_web = labels(&[("app", "web"), ("tier", "front")]);
        let app_db = labels(&[("app", "db")]);
        let none = labels(&[]);
        let cases: &[(&str, [bool; 3])] = &[
            ("", [true, true, true]),
            ("app=web", [true, false, false]),
            ("app==web", [true, false, false]),
            ("app!=web", [false, true, true]),
            ("app", [true, true, false]),
            ("!app", [false, false, true]),
            ("!tier", [false, true, true]),
            ("app in (web, db)", [true, true, false]),
            ("app in (db)", [false, true, false]),
            ("app notin (db)", [true, false, true]),
            ("app,tier=front", [true, false, false]),
            ("app in (web,db),!tier", [false, true, false]),
        ];
        for (text, expected) in cases {
            let selector = LabelSelector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let got = [
                selector.matches(&app_web),
                selector.matches(&app_db),
                selector.matches(&none),
            ];
            assert_eq!(&got, expected, "{text}");
        }
    }

    #[test]
    fn bad_label_selectors_are_errors() {
        for text in ["app in web", "a b", "app=(x)", "app,,b", "app>x", "!"] {
            assert!(LabelSelector::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn field_selector_rejects_unsupported_fields() {
        let err = FieldSelector::parse("spec.foo=1", ResourceKind::Service);
        assert_eq!(
            err,
            Err(SelectorError("field label not supported: spec.foo".into()))
        );
        assert!(
            FieldSelector::parse("metadata.name=a,status.phase!=Failed", ResourceKind::Pod).is_ok()
        );
        assert!(FieldSelector::parse("metadata.name", ResourceKind::Pod).is_err());
    }
}
