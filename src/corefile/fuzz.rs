//! The fuzz target's body (fuzz/fuzz_targets/corefile.rs): arbitrary bytes through every
//! step of this module. It must never panic, hang or touch the file system, so file imports
//! are off (snippet imports still run), the environment is a fixed table that includes
//! self-referencing variables, and the import budget is small.

use std::sync::Arc;

use super::parser::Limits;
use super::{Source, digest, inspect_keys, parse_with_limits};

const FUZZ_LIMITS: Limits = Limits {
    snippet_expansions: 10_000,
    file_imports: 100_000,
    imported_tokens: 200_000,
    files_allowed: false,
};

/// Lexes, parses (with and without directive checking), inspects the keys of every block and
/// digests the result. Errors are fine; panics are the bugs this looks for.
pub fn fuzz_parse(data: &[u8]) {
    let source = Source {
        name: Arc::from("Corefile"),
        text: data.to_vec(),
        // Never read: file imports are disabled.
        dir: std::env::temp_dir(),
    };
    let known = |name: &str| matches!(name, "whoami" | "log" | "errors" | "forward" | "cache");
    let checked: Option<&dyn Fn(&str) -> bool> = Some(&known);
    for is_known in [None, checked] {
        if let Ok(blocks) = parse_with_limits(&source, &fuzz_env, is_known, FUZZ_LIMITS) {
            for block in &blocks {
                let _ = inspect_keys(block, "53");
                let _ = inspect_keys(block, "abc");
                for directive in &block.directives {
                    let _ = block.tokens_of(&directive.name);
                }
            }
            let _ = digest(&blocks);
        }
    }
}

fn fuzz_env(name: &str) -> Option<String> {
    let value = match name {
        "ZONE" => "example.org",
        "PORT" => "1053",
        "SPACE" => "a b",
        "BRACE" => "{",
        "IMPORT" => "import",
        "SELF" => "{$SELF}",
        "GROW" => "{$GROW}{$GROW}",
        "MIXED" => "{%SELF%}{$ZONE}",
        _ => return None,
    };
    Some(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nasty_inputs_neither_panic_nor_hang() {
        let deep = "{".repeat(10_000);
        let deep_block = format!(". {{\nforward {}\n{}", "{".repeat(5_000), "}".repeat(5_000));
        let closers = "}".repeat(10_000);
        let snippet_bomb = {
            let mut s = String::from("(a) {\nwhoami\n}\n");
            for level in ["b", "c", "d", "e", "f"] {
                let previous = (b'a' + (level.as_bytes()[0] - b'b')) as char;
                s.push_str(&format!("({level}) {{\n"));
                for _ in 0..10 {
                    s.push_str(&format!("import {previous}\n"));
                }
                s.push_str("}\n");
            }
            s.push_str(". {\nimport f\n}\n");
            s
        };
        let inputs: Vec<Vec<u8>> = vec![
            deep.into_bytes(),
            deep_block.into_bytes(),
            closers.into_bytes(),
            b"\"unterminated { quote\n. {\n whoami\n}".to_vec(),
            b". {\n log \"a\\".to_vec(),
            b"{$SELF} {\n whoami {$GROW}\n}".to_vec(),
            b". {\n log {%SELF%} {$MIXED}\n}".to_vec(),
            b"{$IMPORT} x\n{$BRACE}\n".to_vec(),
            b"(a) {\nimport a\n}".to_vec(),
            b"(a) {\nimport b\n}\n(b) {\nimport a\n}\n. {\nimport a\n}".to_vec(),
            b"import /etc/passwd\nimport ../../*".to_vec(),
            b"\xef\xbb\xbf\xff\xfe. {\r\nwhoami\xc2\xa0extra\r\n}".to_vec(),
            b"a,\nb,\n".to_vec(),
            b"::1/128 10.0.0.0/1 8000::/1 .:99999999999999999999 :".to_vec(),
            snippet_bomb.into_bytes(),
            Vec::new(),
        ];
        for input in inputs {
            fuzz_parse(&input);
        }
    }

    /// Deterministic token soup: fragments that exercise every rule, glued at random.
    #[test]
    fn random_token_soup_never_panics() {
        const FRAGMENTS: &[&str] = &[
            "{",
            "}",
            "\n",
            " ",
            "\"",
            "\\",
            "#",
            "import",
            "import a",
            "import b",
            "(a)",
            "(b)",
            "a",
            ",",
            "{$SELF}",
            "{$GROW}",
            "{$BRACE}",
            "{$IMPORT}",
            "{$ZONE}",
            "{%PORT%}",
            ":53",
            ":",
            "10.0.0.0/17",
            "::1/128",
            "fd00::/7",
            "tls://",
            "unix://",
            "\r",
            "\u{a0}",
            "whoami",
            "log",
            "forward",
            ".",
            "\u{feff}",
            "x.org,",
            "\"\"",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..ROUNDS {
            let len = next() % 40;
            let mut input = String::new();
            for _ in 0..len {
                input.push_str(FRAGMENTS[(next() % FRAGMENTS.len() as u64) as usize]);
            }
            fuzz_parse(input.as_bytes());
        }
    }

    const ROUNDS: usize = 1000;
}
