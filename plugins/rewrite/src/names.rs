//! Names built from the text the rules produce. hickory's `Name::from_ascii` validates every
//! label for international names and escapes, which was most of a rewritten query's cost;
//! the names rules produce are nearly always plain lower-case host names, built here from
//! their labels directly.

use hickory_proto::rr::Name;
use hickory_proto::serialize::binary::BinDecodable;

/// `text` (presentation form) as a name; `None` when it is not a valid name.
pub fn parse(text: &str) -> Option<Name> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'*');
    let labels = text.strip_suffix('.').unwrap_or(text);
    if text == "." {
        return Some(Name::root());
    }
    let is_plain = !labels.is_empty()
        && labels
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(plain));
    if !is_plain {
        // Escapes (`\.`, `\032`) and other bytes: hickory's parser decides.
        return Name::from_ascii(text).ok();
    }
    // Wire form (RFC 1035 §3.1), decoded by the same reader as query names: the cheapest
    // way hickory offers to build a name.
    let mut wire = [0u8; 256];
    let mut len = 0;
    for label in labels.split('.') {
        let end = len + 1 + label.len();
        if label.len() > 63 || end >= wire.len() {
            return None;
        }
        wire[len] = label.len() as u8;
        wire[len + 1..end].copy_from_slice(label.as_bytes());
        len = end;
    }
    let mut name = Name::from_bytes(&wire[..=len]).ok()?;
    name.set_fqdn(text.ends_with('.'));
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_built_as_hickory_parses_them() {
        for text in [
            "webservice1.com.",
            "a.example",
            "_http._tcp.svc.cluster.local.",
            "*.wild.example.",
            ".",
            "x\\.y.example.",
            "Mixed.Case.",
        ] {
            let ours = parse(text).unwrap();
            let theirs = Name::from_ascii(text).unwrap();
            assert_eq!(ours.to_string(), theirs.to_string(), "{text}");
            assert_eq!(ours.is_fqdn(), theirs.is_fqdn(), "{text}");
            assert!(ours.eq_case(&theirs), "{text}");
        }
    }

    #[test]
    fn invalid_names_are_refused() {
        let long_label = format!("{}.example.", "a".repeat(64));
        let long_name = format!("{}example.", "abcdefghi.".repeat(26));
        for text in ["a..b.", "..", long_label.as_str(), long_name.as_str()] {
            assert!(parse(text).is_none(), "{text}");
        }
    }
}
