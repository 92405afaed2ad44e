//! The reload digest (cli-and-endpoints.md §8.1): SHA-512 over the parsed blocks — keys, and
//! each directive's tokens with file and line — so that edits in imported files count, a
//! shifted line counts, and whitespace inside a line or an end-of-line comment does not.
//!
//! The serialisation has the shape CoreDNS hashes (Go's JSON of
//! `[{"Keys":[…],"Tokens":{"dir":[{"File":…,"Line":…,"Text":…}]}}]`, directive names sorted),
//! with Go's string escaping. It is not bit-identical to CoreDNS's: CoreDNS leaves `File`
//! empty for the main Corefile's tokens, we write the name they carry.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sha2::{Digest, Sha512};

use super::ServerBlock;

/// 128 lowercase hex characters.
pub fn digest(blocks: &[ServerBlock]) -> String {
    hex::encode(Sha512::digest(serialize(blocks).as_bytes()))
}

fn serialize(blocks: &[ServerBlock]) -> String {
    let mut out = String::from("[");
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"Keys\":[");
        for (k, key) in block.keys.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            push_json_string(&mut out, key);
        }
        out.push_str("],\"Tokens\":{");
        // Go's map of directive → tokens, every occurrence concatenated, keys sorted.
        let mut by_name: BTreeMap<&str, Vec<&plugin::Token>> = BTreeMap::new();
        for directive in &block.directives {
            by_name
                .entry(directive.name.as_str())
                .or_default()
                .extend(directive.tokens.iter());
        }
        for (d, (name, tokens)) in by_name.iter().enumerate() {
            if d > 0 {
                out.push(',');
            }
            push_json_string(&mut out, name);
            out.push_str(":[");
            for (t, token) in tokens.iter().enumerate() {
                if t > 0 {
                    out.push(',');
                }
                out.push_str("{\"File\":");
                push_json_string(&mut out, &token.file);
                let _ = write!(out, ",\"Line\":{},\"Text\":", token.line);
                push_json_string(&mut out, &token.text);
                out.push('}');
            }
            out.push(']');
        }
        out.push_str("}}");
    }
    out.push(']');
    out
}

/// Go's `encoding/json` string encoding (HTML-safe, as `json.Marshal` writes it).
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corefile::{Source, parse};
    use std::sync::Arc;

    fn digest_of(text: &str) -> String {
        let source = Source {
            name: Arc::from("Corefile"),
            text: text.as_bytes().to_vec(),
            dir: std::env::temp_dir(),
        };
        let blocks = parse(&source, &|_| None, None).expect("parses");
        digest(&blocks)
    }

    const BASE: &str = ". {\n    whoami\n    log\n}\n";

    #[test]
    fn digest_is_128_lowercase_hex() {
        let d = digest_of(BASE);
        assert_eq!(d.len(), 128);
        assert!(
            d.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }

    #[test]
    fn digest_ignores_what_does_not_change_the_tokens() {
        let same = [
            ". {\n  whoami\n\tlog   \n}\n",
            ". {\n    whoami # says who\n    log\n}\n",
            ". {\r\n    whoami\r\n    log\r\n}\r\n",
            ". {\n    whoami\n    log\n}",
        ];
        for text in same {
            assert_eq!(digest_of(text), digest_of(BASE), "{text:?}");
        }
    }

    #[test]
    fn digest_changes_with_lines_keys_and_tokens() {
        let different = [
            "\n. {\n    whoami\n    log\n}\n",
            "# header\n. {\n    whoami\n    log\n}\n",
            ". {\n    whoami\n\n    log\n}\n",
            ".:1053 {\n    whoami\n    log\n}\n",
            ". {\n    whoami\n    log stdout\n}\n",
            ". {\n    whoami\n}\n",
        ];
        for text in different {
            assert_ne!(digest_of(text), digest_of(BASE), "{text:?}");
        }
    }

    #[test]
    fn serialization_has_the_coredns_json_shape() {
        let source = Source {
            name: Arc::from("Corefile"),
            text: b". {\n log \"<a&b>\"\n errors\n}\n".to_vec(),
            dir: std::env::temp_dir(),
        };
        let blocks = parse(&source, &|_| None, None).expect("parses");
        assert_eq!(
            serialize(&blocks),
            r#"[{"Keys":["."],"Tokens":{"errors":[{"File":"Corefile","Line":3,"Text":"errors"}],"log":[{"File":"Corefile","Line":2,"Text":"log"},{"File":"Corefile","Line":2,"Text":"\u003ca\u0026b\u003e"}]}}]"#
        );
    }
}
