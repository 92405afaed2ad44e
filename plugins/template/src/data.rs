//! What a template sees (plugins-resolution.md §6.3 "Template data") and the values its
//! actions compute, printed the way Go's `text/template` prints them.

use std::borrow::Cow;
use std::fmt::Write as _;

use hickory_proto::op::Message;

use plugin::names::{ClassName, TypeName};

/// The data of one matched query.
#[derive(Debug)]
pub struct Data<'a> {
    /// `.Zone`: the template zone that matched.
    pub zone: &'a str,
    /// `.Name`: the query name lower-cased, fully qualified (§0.3).
    pub name: &'a str,
    /// `.Regex`: the regex that matched, as written.
    pub regex: &'a str,
    /// `.Class`, `.Type`: the query's mnemonics, the template's own when the query used ANY.
    pub class: String,
    pub qtype: String,
    /// `.Match`: the whole match, then every group (`""` for a group that did not take part).
    pub matches: Vec<String>,
    /// `.Group`: numeric (`"0"`, `"1"`, …) and named groups.
    pub groups: Vec<(String, String)>,
    /// `.Message` and `.Question` (the first question).
    pub message: &'a Message,
    /// `.Remote`: the client's IP address.
    pub remote: String,
}

/// A value an action computes.
#[derive(Clone, Debug)]
pub enum Value<'d> {
    Str(Cow<'d, str>),
    Int(i64),
    Uint(u64),
    List(&'d [String]),
    Map(&'d [(String, String)]),
    Question(&'d Data<'d>),
    Message(&'d Data<'d>),
    Data(&'d Data<'d>),
    /// A map key that is absent: Go prints `<no value>`.
    Absent,
}

impl<'d> Data<'d> {
    /// Evaluates the field chain `path` (empty: `.` itself); `args` are the arguments of a
    /// method call on its last element (only `.Meta "name"` takes any).
    pub fn field(&'d self, path: &[String], args: Vec<Value<'d>>) -> Result<Value<'d>, String> {
        let mut value = Value::Data(self);
        for (i, name) in path.iter().enumerate() {
            if name == "Meta" && matches!(value, Value::Data(_)) {
                // metadata.md: no plugin of this build publishes metadata, so every
                // `.Meta "name"` is the empty string, as CoreDNS returns for an unknown name.
                if i + 1 != path.len() {
                    return Err("can't evaluate field of a method result".to_string());
                }
                return match args.as_slice() {
                    [Value::Str(_)] => Ok(Value::Str(Cow::Borrowed(""))),
                    _ => Err(format!(
                        "wrong number of args for Meta: want 1 got {}",
                        args.len()
                    )),
                };
            }
            value = value.field(name)?;
        }
        if !args.is_empty() {
            let shown = path.last().map_or(".", String::as_str);
            return Err(format!(
                "{shown} has arguments but cannot be invoked as function"
            ));
        }
        Ok(value)
    }
}

impl<'d> Value<'d> {
    fn field(self, name: &str) -> Result<Value<'d>, String> {
        let missing =
            |v: &Value<'_>| format!("can't evaluate field {name} in type {}", v.type_name());
        match self {
            Value::Data(d) => Ok(match name {
                "Zone" => Value::Str(Cow::Borrowed(d.zone)),
                "Name" => Value::Str(Cow::Borrowed(d.name)),
                "Regex" => Value::Str(Cow::Borrowed(d.regex)),
                "Class" => Value::Str(Cow::Borrowed(&d.class)),
                "Type" => Value::Str(Cow::Borrowed(&d.qtype)),
                "Match" => Value::List(&d.matches),
                "Group" => Value::Map(&d.groups),
                "Message" => Value::Message(d),
                "Question" => Value::Question(d),
                "Remote" => Value::Str(Cow::Borrowed(&d.remote)),
                _ => return Err(missing(&self)),
            }),
            Value::Map(map) => Ok(map
                .iter()
                .find(|(k, _)| k == name)
                .map_or(Value::Absent, |(_, v)| Value::Str(Cow::Borrowed(v)))),
            Value::Question(d) => {
                let q = d.message.queries.first();
                match (name, q) {
                    ("Name", Some(q)) => Ok(Value::Str(Cow::Owned(q.name().to_string()))),
                    ("Qtype", Some(q)) => Ok(Value::Uint(u64::from(u16::from(q.query_type())))),
                    ("Qclass", Some(q)) => Ok(Value::Uint(u64::from(u16::from(q.query_class())))),
                    _ => Err(missing(&self)),
                }
            }
            Value::Message(d) if name == "Id" => Ok(Value::Uint(u64::from(d.message.metadata.id))),
            other => Err(missing(&other)),
        }
    }

    /// `index item key`.
    pub fn index(self, key: &Value<'_>) -> Result<Value<'d>, String> {
        match (self, key) {
            (Value::List(list), Value::Int(_) | Value::Uint(_)) => {
                let i = key.as_int().unwrap_or(-1);
                usize::try_from(i)
                    .ok()
                    .and_then(|i| list.get(i))
                    .map(|s| Value::Str(Cow::Borrowed(s.as_str())))
                    .ok_or_else(|| format!("index out of range: {i}"))
            }
            // Go's index on a map returns the zero value ("") for an absent key.
            (Value::Map(map), Value::Str(k)) => Ok(Value::Str(Cow::Borrowed(
                map.iter()
                    .find(|(name, _)| name == k)
                    .map_or("", |(_, v)| v.as_str()),
            ))),
            (item, key) => Err(format!(
                "cannot index {} with {}",
                item.type_name(),
                key.type_name()
            )),
        }
    }

    pub fn len(&self) -> Option<usize> {
        match self {
            Value::Str(s) => Some(s.len()),
            Value::List(l) => Some(l.len()),
            Value::Map(m) => Some(m.len()),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            Value::Uint(n) => i64::try_from(*n).ok(),
            _ => None,
        }
    }

    /// The Go type name, for errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Int(_) => "int",
            Value::Uint(_) => "uint64",
            Value::List(_) => "[]string",
            Value::Map(_) => "map[string]string",
            Value::Question(_) => "*dns.Question",
            Value::Message(_) => "*dns.Msg",
            Value::Data(_) => "*template.templateData",
            Value::Absent => "<nil>",
        }
    }

    /// Appends the value as Go's `fmt` prints it.
    pub fn print(&self, out: &mut String) -> Result<(), String> {
        match self {
            Value::Str(s) => out.push_str(s),
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Uint(n) => {
                let _ = write!(out, "{n}");
            }
            Value::List(list) => {
                out.push('[');
                out.push_str(&list.join(" "));
                out.push(']');
            }
            Value::Map(map) => {
                // fmt prints maps sorted by key.
                let mut sorted: Vec<_> = map.iter().collect();
                sorted.sort();
                out.push_str("map[");
                for (i, (k, v)) in sorted.into_iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    let _ = write!(out, "{k}:{v}");
                }
                out.push(']');
            }
            // miekg/dns `Question.String()`: `;name.\tIN\t A`.
            Value::Question(d) => {
                if let Some(q) = d.message.queries.first() {
                    let _ = write!(
                        out,
                        ";{}\t{}\t {}",
                        q.name(),
                        ClassName(q.query_class()),
                        TypeName(q.query_type())
                    );
                }
            }
            Value::Message(d) => {
                let _ = write!(out, "{}", d.message);
            }
            Value::Data(_) => return Err("can't print the template data itself".to_string()),
            Value::Absent => out.push_str("<no value>"),
        }
        Ok(())
    }
}
