//! dnsperf's query file ("name type" per line, `;` or `#` comments) turned into wire queries,
//! encoded once before the run so the measured loop only patches the message ID.

use std::str::FromStr;

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum QueryFileError {
    #[error("line {line}: expected \"name type\", found {text:?}")]
    Malformed { line: usize, text: String },
    #[error("line {line}: {name:?} is not a domain name")]
    BadName { line: usize, name: String },
    #[error("line {line}: {kind:?} is not a record type")]
    BadType { line: usize, kind: String },
    #[error("the query file has no queries")]
    Empty,
}

/// Every query of the file as a UDP payload, ID 0, RD set (dnsperf's default), no EDNS.
pub fn parse(text: &str) -> Result<Vec<Vec<u8>>, QueryFileError> {
    let mut queries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim();
        if content.is_empty() || content.starts_with(';') || content.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = content.split_whitespace().collect();
        let [name, kind] = fields[..] else {
            return Err(QueryFileError::Malformed {
                line,
                text: content.to_string(),
            });
        };
        queries.push(encode(line, name, kind)?);
    }
    if queries.is_empty() {
        return Err(QueryFileError::Empty);
    }
    Ok(queries)
}

fn encode(line: usize, name: &str, kind: &str) -> Result<Vec<u8>, QueryFileError> {
    let name = Name::from_ascii(name).map_err(|_| QueryFileError::BadName {
        line,
        name: name.to_string(),
    })?;
    let kind =
        RecordType::from_str(&kind.to_ascii_uppercase()).map_err(|_| QueryFileError::BadType {
            line,
            kind: kind.to_string(),
        })?;
    let mut message = Message::new(0, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name, kind));
    // Encoding a one-question query cannot fail: the name was parsed above.
    Ok(message.to_vec().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_queries_with_rd_and_the_named_type() {
        let queries = parse("; comment\nwww1.bench.example A\n\n  _http._tcp.x.example srv \n")
            .expect("two queries");
        assert_eq!(queries.len(), 2);
        let first = Message::from_vec(&queries[0]).unwrap();
        assert!(first.metadata.recursion_desired);
        assert_eq!(first.queries[0].name().to_ascii(), "www1.bench.example.");
        assert_eq!(first.queries[0].query_type(), RecordType::A);
        let second = Message::from_vec(&queries[1]).unwrap();
        assert_eq!(second.queries[0].query_type(), RecordType::SRV);
    }

    #[test]
    fn bad_lines_are_errors_with_their_line_number() {
        let cases = [
            (
                "www.example\n",
                QueryFileError::Malformed {
                    line: 1,
                    text: "www.example".into(),
                },
            ),
            (
                "a.example A\nb.example NOPE\n",
                QueryFileError::BadType {
                    line: 2,
                    kind: "NOPE".into(),
                },
            ),
            (
                "a..example A\n",
                QueryFileError::BadName {
                    line: 1,
                    name: "a..example".into(),
                },
            ),
            ("# only comments\n", QueryFileError::Empty),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), Err(expected), "{text:?}");
        }
    }
}
