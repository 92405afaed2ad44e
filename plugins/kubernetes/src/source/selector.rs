//! Kubernetes label selectors, parsed and matched on our side.
//!
//! The API server applies `labels` and `namespace_labels` itself (kubernetes.md §10); this parser
//! checks the strings at setup (a selector the server would reject would otherwise fail every
//! list forever) and lets the manifest source select exactly what the server would.
//!
//! Grammar (apimachinery's `labels.Parse`; whitespace between tokens is ignored):
//!
//! ```text
//! selector    = [ requirement { "," requirement } ]        (empty: everything)
//! requirement = key                                        the label exists
//!             | "!" key                                    the label does not exist
//!             | key ( "=" | "==" ) value                   present and equal
//!             | key "!=" value                             absent or different
//!             | key "in" "(" value { "," value } ")"       present and one of
//!             | key "notin" "(" value { "," value } ")"    absent or none of
//!             | key ( ">" | "<" ) integer                  present, an integer, greater/less
//! key         = [ prefix "/" ] name    prefix: DNS subdomain (≤ 253), name: see value (not empty)
//! value       = "" | 1–63 of [A-Za-z0-9._-], starting and ending alphanumeric
//! ```
//!
//! Every requirement must hold (AND). `in`/`notin` sets must not be empty.

use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Requirement {
    Exists(String),
    NotExists(String),
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    GreaterThan(String, i64),
    LessThan(String, i64),
}

/// Why a selector string is not a selector; the text is what the user sees.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(String);

impl LabelSelector {
    pub fn parse(text: &str) -> Result<LabelSelector, SelectorError> {
        let tokens = tokenize(text)?;
        let mut parser = Parser { tokens, at: 0 };
        let mut requirements = Vec::new();
        if parser.peek().is_none() {
            return Ok(LabelSelector { requirements });
        }
        loop {
            requirements.push(parser.requirement()?);
            match parser.next() {
                None => break,
                Some(Token::Comma) => continue,
                Some(other) => {
                    return Err(SelectorError(format!(
                        "found '{}', expected: ',' or 'end of string'",
                        other.text()
                    )));
                }
            }
        }
        Ok(LabelSelector { requirements })
    }

    /// Whether an object with these labels is selected.
    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let get = |key: &str| labels.and_then(|l| l.get(key)).map(String::as_str);
        self.requirements.iter().all(|r| match r {
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, set) => get(k).is_some_and(|v| set.iter().any(|s| s == v)),
            Requirement::NotIn(k, set) => !get(k).is_some_and(|v| set.iter().any(|s| s == v)),
            Requirement::GreaterThan(k, n) => get(k)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > *n),
            Requirement::LessThan(k, n) => get(k)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v < *n),
        })
    }

    pub fn is_everything(&self) -> bool {
        self.requirements.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Not,
    Equals,
    DoubleEquals,
    NotEquals,
    Greater,
    Less,
    Comma,
    Open,
    Close,
}

impl Token {
    fn text(&self) -> &str {
        match self {
            Token::Word(w) => w,
            Token::Not => "!",
            Token::Equals => "=",
            Token::DoubleEquals => "==",
            Token::NotEquals => "!=",
            Token::Greater => ">",
            Token::Less => "<",
            Token::Comma => ",",
            Token::Open => "(",
            Token::Close => ")",
        }
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '!' | '=' | '>' | '<' | ',' | '(' | ')') || c.is_whitespace()
}

fn tokenize(text: &str) -> Result<Vec<Token>, SelectorError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            ',' => Token::Comma,
            '(' => Token::Open,
            ')' => Token::Close,
            '>' => Token::Greater,
            '<' => Token::Less,
            '=' => {
                if chars.next_if(|&(_, c)| c == '=').is_some() {
                    Token::DoubleEquals
                } else {
                    Token::Equals
                }
            }
            '!' => {
                if chars.next_if(|&(_, c)| c == '=').is_some() {
                    Token::NotEquals
                } else {
                    Token::Not
                }
            }
            _ => {
                let mut end = start + c.len_utf8();
                while let Some(&(i, c)) = chars.peek() {
                    if is_special(c) {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                Token::Word(text[start..end].to_owned())
            }
        };
        tokens.push(token);
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        if self.peek() == Some(&Token::Not) {
            self.at += 1;
            let key = self.key()?;
            return Ok(Requirement::NotExists(key));
        }
        let key = self.key()?;
        let operator = match self.peek() {
            None | Some(Token::Comma) => return Ok(Requirement::Exists(key)),
            Some(_) => self.next(),
        };
        match operator {
            Some(Token::Equals | Token::DoubleEquals) => {
                Ok(Requirement::Equals(key, self.single_value()?))
            }
            Some(Token::NotEquals) => Ok(Requirement::NotEquals(key, self.single_value()?)),
            Some(Token::Greater) => Ok(Requirement::GreaterThan(key, self.integer()?)),
            Some(Token::Less) => Ok(Requirement::LessThan(key, self.integer()?)),
            Some(Token::Word(w)) if w == "in" => Ok(Requirement::In(key, self.value_set()?)),
            Some(Token::Word(w)) if w == "notin" => Ok(Requirement::NotIn(key, self.value_set()?)),
            Some(other) => Err(SelectorError(format!(
                "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                other.text()
            ))),
            None => Err(SelectorError("unexpected end of selector".into())),
        }
    }

    fn key(&mut self) -> Result<String, SelectorError> {
        match self.next() {
            Some(Token::Word(w)) => {
                validate_key(&w)?;
                Ok(w)
            }
            Some(other) => Err(SelectorError(format!(
                "found '{}', expected: !, identifier, or 'end of string'",
                other.text()
            ))),
            None => Err(SelectorError(
                "found 'end of string', expected: identifier".into(),
            )),
        }
    }

    /// A value after `=`, `==` or `!=`: may be empty (`tier=`).
    fn single_value(&mut self) -> Result<String, SelectorError> {
        match self.peek() {
            None | Some(Token::Comma) => Ok(String::new()),
            Some(Token::Word(_)) => {
                let Some(Token::Word(w)) = self.next() else {
                    unreachable!("peeked a word")
                };
                validate_value(&w)?;
                Ok(w)
            }
            Some(other) => Err(SelectorError(format!(
                "found '{}', expected: identifier",
                other.text()
            ))),
        }
    }

    fn integer(&mut self) -> Result<i64, SelectorError> {
        match self.next() {
            Some(Token::Word(w)) => w.parse::<i64>().map_err(|_| {
                SelectorError(format!(
                    "for 'Gt', 'Lt' operators, the value must be an integer: {w}"
                ))
            }),
            _ => Err(SelectorError(
                "for 'Gt', 'Lt' operators, exactly one value is required".into(),
            )),
        }
    }

    fn value_set(&mut self) -> Result<Vec<String>, SelectorError> {
        if self.next() != Some(Token::Open) {
            return Err(SelectorError("found no '(', expected: '('".into()));
        }
        let mut values = Vec::new();
        loop {
            match self.next() {
                Some(Token::Word(w)) => {
                    validate_value(&w)?;
                    values.push(w);
                    match self.next() {
                        Some(Token::Comma) => continue,
                        Some(Token::Close) => break,
                        Some(other) => {
                            return Err(SelectorError(format!(
                                "found '{}', expected: ',' or ')'",
                                other.text()
                            )));
                        }
                        None => return Err(SelectorError("missing ')'".into())),
                    }
                }
                Some(Token::Close) => break,
                Some(other) => {
                    return Err(SelectorError(format!(
                        "found '{}', expected: identifier",
                        other.text()
                    )));
                }
                None => return Err(SelectorError("missing ')'".into())),
            }
        }
        if values.is_empty() {
            return Err(SelectorError(
                "for 'in', 'notin' operators, values set can't be empty".into(),
            ));
        }
        Ok(values)
    }
}

fn validate_key(key: &str) -> Result<(), SelectorError> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let valid = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !valid {
            return Err(SelectorError(format!(
                "invalid label key \"{key}\": prefix part must be a DNS subdomain"
            )));
        }
    }
    if name.is_empty() || !is_label_value(name) {
        return Err(SelectorError(format!(
            "invalid label key \"{key}\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        )));
    }
    Ok(())
}

fn validate_value(value: &str) -> Result<(), SelectorError> {
    if value.is_empty() || is_label_value(value) {
        Ok(())
    } else {
        Err(SelectorError(format!(
            "invalid label value: \"{value}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        )))
    }
}

fn is_label_value(s: &str) -> bool {
    let bytes = s.as_bytes();
    s.len() <= 63
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
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
    fn matching_table() {
        let app_web = labels(&[("app", "web"), ("tier", "front"), ("gen", "3")]);
        let none = labels(&[]);
        let cases: &[(&str, &BTreeMap<String, String>, bool)] = &[
            ("", &app_web, true),
            ("", &none, true),
            ("app", &app_web, true),
            ("app", &none, false),
            ("!app", &app_web, false),
            ("!app", &none, true),
            ("app=web", &app_web, true),
            ("app==web", &app_web, true),
            ("app = web", &app_web, true),
            ("app=db", &app_web, false),
            ("app!=db", &app_web, true),
            ("app!=db", &none, true),
            ("app!=web", &app_web, false),
            ("app in (web, db)", &app_web, true),
            ("app in (db)", &app_web, false),
            ("app in (web)", &none, false),
            ("app notin (db)", &app_web, true),
            ("app notin (web,db)", &app_web, false),
            ("app notin (web)", &none, true),
            ("gen>2", &app_web, true),
            ("gen>3", &app_web, false),
            ("gen<4", &app_web, true),
            ("app>1", &app_web, false),
            ("app=web,tier=front", &app_web, true),
            ("app=web,tier=back", &app_web, false),
            ("environment in (staging, qa),app=nginx", &app_web, false),
            ("example.com/team", &none, false),
            ("tier=", &none, false),
            ("tier!=", &app_web, true),
        ];
        for (text, labels, expected) in cases {
            let selector =
                LabelSelector::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"));
            assert_eq!(selector.matches(Some(labels)), *expected, "{text:?}");
        }
        let selector = LabelSelector::parse("app!=db").expect("parses");
        assert!(selector.matches(None), "absent labels satisfy !=");
    }

    #[test]
    fn invalid_selectors_are_errors() {
        for text in [
            "=web",
            "app in ()",
            "app in (web",
            "app in web",
            "app=web,",
            "app web",
            "app=-web",
            "gen>x",
            "Example.com/team",
            "a/b/c",
            "!",
            "app=(web)",
        ] {
            assert!(
                LabelSelector::parse(text).is_err(),
                "{text:?} should be rejected"
            );
        }
    }
}
