//! corefile.md §12 (parse and key cases) and §13 (real-world Corefiles), end to end through
//! [`parse`] and [`inspect_keys`]. Behaviour that needs plugin setup or a running server is
//! the assembler's; here we check the parser-level part of those cases.

use std::sync::Arc;

use plugin::Dispenser;

use super::parser::Limits;
use super::test_dir::TestDir;
use super::{
    CorefileError, KeyError, ParseProblem, ServerBlock, Source, inspect_keys, parse,
    parse_with_limits,
};

fn env(name: &str) -> Option<String> {
    let value = match name {
        "ZONE" => "example.org",
        "UP" => "1.1.1.1 8.8.8.8",
        "D" => "whoami",
        "SNIP" => "common",
        "NAME" => "named",
        "SELF" => "x{$SELF}",
        _ => return None,
    };
    Some(value.to_string())
}

fn known(name: &str) -> bool {
    matches!(
        name,
        "whoami"
            | "log"
            | "errors"
            | "forward"
            | "hosts"
            | "rewrite"
            | "cache"
            | "health"
            | "ready"
            | "kubernetes"
            | "prometheus"
            | "loop"
            | "reload"
            | "loadbalance"
            | "bind"
    )
}

fn source_in(dir: &TestDir, text: &str) -> Source {
    Source {
        name: Arc::from("Corefile"),
        text: text.as_bytes().to_vec(),
        dir: dir.path().to_path_buf(),
    }
}

/// Parses `text` as `Corefile` in a fresh empty folder, with directive checking.
fn parse_text(text: &str) -> Result<Vec<ServerBlock>, CorefileError> {
    let dir = TestDir::new("spec");
    parse(&source_in(&dir, text), &env, Some(&known))
}

fn parse_ok(text: &str) -> Vec<ServerBlock> {
    parse_text(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

fn parse_err(text: &str) -> CorefileError {
    match parse_text(text) {
        Ok(blocks) => panic!("{text:?} should fail, got {blocks:?}"),
        Err(e) => e,
    }
}

/// `(keys, [(directive, [token texts])])` per block.
type Summary = Vec<(Vec<String>, Vec<(String, Vec<String>)>)>;

fn summary(blocks: &[ServerBlock]) -> Summary {
    blocks
        .iter()
        .map(|b| {
            let directives = b
                .directives
                .iter()
                .map(|d| {
                    let texts = d.tokens.iter().map(|t| t.text.clone()).collect();
                    (d.name.clone(), texts)
                })
                .collect();
            (b.keys.clone(), directives)
        })
        .collect()
}

fn block(
    keys: &[&str],
    directives: &[(&str, &[&str])],
) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    (
        keys.iter().map(|k| k.to_string()).collect(),
        directives
            .iter()
            .map(|(name, tokens)| {
                (
                    name.to_string(),
                    tokens.iter().map(|t| t.to_string()).collect(),
                )
            })
            .collect(),
    )
}

fn zones(blocks: &[ServerBlock], default_port: &str) -> Result<Vec<String>, KeyError> {
    let mut out = Vec::new();
    for b in blocks {
        out.extend(
            inspect_keys(b, default_port)?
                .iter()
                .map(ToString::to_string),
        );
    }
    Ok(out)
}

#[test]
fn parses_the_block_structure_cases() {
    let cases: Vec<(&str, &str, Summary)> = vec![
        (
            "#1 basic block",
            ". {\nwhoami\n}",
            vec![block(&["."], &[("whoami", &["whoami"])])],
        ),
        (
            "#3 brace on the next line",
            "example.org\n{\nwhoami\n}",
            vec![block(&["example.org"], &[("whoami", &["whoami"])])],
        ),
        (
            "#4 braceless block",
            "example.org\nwhoami\nlog",
            vec![block(
                &["example.org"],
                &[("whoami", &["whoami"]), ("log", &["log"])],
            )],
        ),
        (
            "#5 keys only",
            "example.org",
            vec![block(&["example.org"], &[])],
        ),
        (
            "#6 {} glued is a key",
            ". {}",
            vec![block(&[".", "{}"], &[])],
        ),
        (
            "#7 brace glued to the key",
            "example.org{\nwhoami\n}",
            vec![block(&["example.org{"], &[("whoami", &["whoami"])])],
        ),
        (
            "#8 comma without space",
            "example.org,example.com:1053 {\nwhoami\n}",
            vec![block(
                &["example.org,example.com:1053"],
                &[("whoami", &["whoami"])],
            )],
        ),
        (
            "#9 comma and space",
            "example.org, example.com:1053 {\nwhoami\n}",
            vec![block(
                &["example.org", "example.com:1053"],
                &[("whoami", &["whoami"])],
            )],
        ),
        (
            "#11 trailing comma continues the keys",
            "a.org,\nb.org {\nwhoami\n}",
            vec![block(&["a.org", "b.org"], &[("whoami", &["whoami"])])],
        ),
        (
            "#38 last } closes both",
            ". {\nforward . 1.1.1.1 {\nmax_fails 3\n}",
            vec![block(
                &["."],
                &[(
                    "forward",
                    &["forward", ".", "1.1.1.1", "{", "max_fails", "3", "}"],
                )],
            )],
        ),
        (
            "#39 extra } is a key",
            ". {\nwhoami\n} }",
            vec![
                block(&["."], &[("whoami", &["whoami"])]),
                block(&["}"], &[]),
            ],
        ),
        (
            "#40 next block after } on the same line",
            ". {\nwhoami\n} example.net {\nwhoami\n}",
            vec![
                block(&["."], &[("whoami", &["whoami"])]),
                block(&["example.net"], &[("whoami", &["whoami"])]),
            ],
        ),
        ("#41 empty key dropped", "\"\" {\nwhoami\n}", vec![]),
        ("#42 empty file", "", vec![]),
        ("#42 comments only", "# nothing\n   # here\n", vec![]),
        (
            "#43 BOM and CRLF",
            "\u{feff}. {\r\n  whoami\r\n}\r\n",
            vec![block(&["."], &[("whoami", &["whoami"])])],
        ),
        (
            "#44 NBSP separates",
            ". {\nwhoami\u{a0}extra\n}",
            vec![block(&["."], &[("whoami", &["whoami", "extra"])])],
        ),
        ("empty body on one line", ". { }", vec![block(&["."], &[])]),
        (
            "empty body on two lines",
            ". {\n}",
            vec![block(&["."], &[])],
        ),
        (
            "(a) (b) is two keys, not a snippet",
            "(a) (b) {\n}",
            vec![block(&["(a)", "(b)"], &[])],
        ),
        (
            "lone comma leaves an empty key",
            "a.org , b.org {\n}",
            vec![block(&["a.org", "", "b.org"], &[])],
        ),
        (
            "nested sub-blocks of any depth",
            ". {\nlog {\nclass {\nx\n}\n}\n}",
            vec![block(
                &["."],
                &[("log", &["log", "{", "class", "{", "x", "}", "}"])],
            )],
        ),
        (
            "sub-block on one line",
            ". {\nforward . 1.1.1.1 { max_fails 3 }\n}",
            vec![block(
                &["."],
                &[(
                    "forward",
                    &["forward", ".", "1.1.1.1", "{", "max_fails", "3", "}"],
                )],
            )],
        ),
        (
            "multi-line quoted token keeps its line",
            ". {\nlog \"a\nb\" c\nerrors\n}",
            vec![block(
                &["."],
                &[("log", &["log", "a\nb", "c"]), ("errors", &["errors"])],
            )],
        ),
        (
            "stray } ends a braceless block",
            "a.org\nwhoami\n}\nb.org {\nlog\n}",
            vec![
                block(&["a.org"], &[("whoami", &["whoami"])]),
                block(&["b.org"], &[("log", &["log"])]),
            ],
        ),
    ];
    for (name, text, expected) in cases {
        assert_eq!(summary(&parse_ok(text)), expected, "{name}");
    }
}

#[test]
fn parses_the_token_cases() {
    let cases: Vec<(&str, &str, &str, &[&str])> = vec![
        (
            "#22 value with spaces is one argument",
            ". {\nforward . {$UP}\n}",
            "forward",
            &["forward", ".", "1.1.1.1 8.8.8.8"],
        ),
        (
            "#23 no default syntax",
            ". {\nhosts {$ZONE:default}\n}",
            "hosts",
            &["hosts", ""],
        ),
        (
            "#24 unset variable is an empty argument",
            ". {\nwhoami {$UNSET}\n}",
            "whoami",
            &["whoami", ""],
        ),
        (
            "#25 comment glued to the directive",
            ". {\nwhoami#comment\n}",
            "whoami",
            &["whoami"],
        ),
        (
            "#26 # in quotes and mid-token",
            ". {\nlog \"a#b\" c#d\n}",
            "log",
            &["log", "a#b", "c"],
        ),
        (
            "#27 backslashes kept in quotes",
            ". {\nlog . \"{name} \\\"q\\\" \\\\ \\n\"\n}",
            "log",
            &["log", ".", "{name} \"q\" \\\\ \\n"],
        ),
        (
            "#28 quote inside a word",
            ". {\nrewrite name a\"b c\"d\n}",
            "rewrite",
            &["rewrite", "name", "a\"b", "c\"d"],
        ),
        (
            "#36 import as a plain argument",
            ". {\nrewrite name import foo\n}",
            "rewrite",
            &["rewrite", "name", "import", "foo"],
        ),
        (
            "env substituted at any depth",
            ". {\nforward . 1.1.1.1 {\nexcept {$ZONE}\n}\n}",
            "forward",
            &["forward", ".", "1.1.1.1", "{", "except", "example.org", "}"],
        ),
        (
            "occurrences concatenated in file order",
            ". {\nlog a\nwhoami\nlog b\n}",
            "log",
            &["log", "a", "log", "b"],
        ),
        (
            "directive name from the environment",
            ". {\n{$D} extra\n}",
            "whoami",
            &["whoami", "extra"],
        ),
    ];
    for (name, text, directive, expected) in cases {
        let blocks = parse_ok(text);
        let texts: Vec<String> = blocks[0]
            .tokens_of(directive)
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(texts, *expected, "{name}");
    }
}

#[test]
fn rejects_the_syntax_error_cases() {
    let cases: Vec<(&str, &str, u32, ParseProblem, &str)> = vec![
        (
            "#2 } on the directive's line",
            ". { whoami }",
            1,
            ParseProblem::UnmatchedClosingBrace,
            "Corefile:1 - Error during parsing: Unexpected '}' because no matching opening brace",
        ),
        (
            "#10 key on the next line without comma",
            "a.org\nb.org {\nwhoami\n}",
            2,
            ParseProblem::UnknownDirective("b.org".into()),
            "Corefile:2 - Error during parsing: Unknown directive 'b.org'",
        ),
        (
            "#12 dangling comma",
            "a.org, {\n}",
            1,
            ParseProblem::DanglingComma("{".into()),
            "Corefile:1 - Error during parsing: Expected another address but had '{' - check for extra comma",
        ),
        (
            "#30 snippet used before it is defined",
            ". {\nimport c\n}\n(c) {\nwhoami\n}",
            2,
            ParseProblem::ImportNotFound("c".into()),
            "Corefile:2 - Error during parsing: File to import not found: c",
        ),
        (
            "#31 snippet imports itself",
            "(a) {\nimport a\n}",
            3,
            ParseProblem::SnippetDepth(10000),
            "Corefile:3 - Error during parsing: maximum snippet import depth (10000) exceeded",
        ),
        (
            "#35 import with two arguments",
            "import a b",
            1,
            ParseProblem::ImportTakesOneArgument,
            "Corefile:1 - Error during parsing: Import takes only one argument (glob pattern or file)",
        ),
        (
            "#37 snippet inside a block",
            ". {\n(x) {\nlog\n}\n}",
            2,
            ParseProblem::UnknownDirective("(x)".into()),
            "Corefile:2 - Error during parsing: Unknown directive '(x)'",
        ),
        (
            "body not closed",
            ". {\nwhoami",
            2,
            ParseProblem::Unexpected {
                found: "whoami".into(),
                expected: "}".into(),
            },
            "Corefile:2 - Syntax error: Unexpected token 'whoami', expecting '}'",
        ),
        (
            "empty body not closed",
            ". {",
            1,
            ParseProblem::Unexpected {
                found: "{".into(),
                expected: "}".into(),
            },
            "Corefile:1 - Syntax error: Unexpected token '{', expecting '}'",
        ),
        (
            "EOF inside a sub-block",
            ". {\nforward . 1.1.1.1 {\nmax_fails 3",
            3,
            ParseProblem::UnexpectedEof,
            "Corefile:3 - Error during parsing: Unexpected EOF",
        ),
        (
            "EOF after a trailing comma",
            "a.org,",
            1,
            ParseProblem::UnexpectedEof,
            "Corefile:1 - Error during parsing: Unexpected EOF",
        ),
        (
            "unknown directive",
            ". {\nwhoami\nfoo\n}",
            3,
            ParseProblem::UnknownDirective("foo".into()),
            "Corefile:3 - Error during parsing: Unknown directive 'foo'",
        ),
        (
            "import without argument",
            ". {\nimport\n}",
            2,
            ParseProblem::WrongArgumentCount("import".into()),
            "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'import'",
        ),
        (
            "import of an empty name",
            ". {\nimport \"\"\n}",
            2,
            ParseProblem::ImportNeedsPath,
            "Corefile:2 - Error during parsing: Import requires a non-empty filepath",
        ),
        (
            "snippet redeclared",
            "(a) {\n}\n(a) {\n}",
            3,
            ParseProblem::SnippetRedeclared("a".into()),
            "Corefile:3 - Error during parsing: redeclaration of previously declared snippet a",
        ),
        (
            "snippet without braces",
            "(a)\nwhoami",
            2,
            ParseProblem::Unexpected {
                found: "whoami".into(),
                expected: "{".into(),
            },
            "Corefile:2 - Syntax error: Unexpected token 'whoami', expecting '{'",
        ),
        (
            "snippet not closed",
            "(a) {\nwhoami",
            2,
            ParseProblem::Unexpected {
                found: "whoami".into(),
                expected: "}".into(),
            },
            "Corefile:2 - Syntax error: Unexpected token 'whoami', expecting '}'",
        ),
        (
            "self-referencing variable",
            ". {\nlog {$SELF}\n}",
            2,
            ParseProblem::EnvSubstitutionRunaway("{$SELF}".into()),
            "Corefile:2 - Error during parsing: environment variable substitution in '{$SELF}' does not end (self-referencing variable?)",
        ),
    ];
    for (name, text, line, problem, message) in cases {
        let error = parse_err(text);
        assert_eq!((error.line, &error.problem), (line, &problem), "{name}");
        assert_eq!(error.to_string(), message, "{name}");
    }
}

#[test]
fn without_a_directive_check_any_name_is_accepted() {
    let dir = TestDir::new("spec-nocheck");
    let blocks = parse(&source_in(&dir, ". {\nfoo bar\n}"), &env, None).expect("parses");
    assert_eq!(
        summary(&blocks),
        vec![block(&["."], &[("foo", &["foo", "bar"])])]
    );
}

#[test]
fn normalises_the_key_cases() {
    // (case, Corefile, -dns.port, zones)
    type KeyCase<'a> = (&'a str, &'a str, &'a str, Result<Vec<&'a str>, KeyError>);
    let cases: Vec<KeyCase> = vec![
        ("#1", ". {\nwhoami\n}", "53", Ok(vec!["dns://.:53"])),
        ("#6", ". {}", "53", Ok(vec!["dns://.:53", "dns://{}.:53"])),
        (
            "#7",
            "example.org{\nwhoami\n}",
            "53",
            Ok(vec!["dns://example.org{.:53"]),
        ),
        (
            "#8",
            "example.org,example.com:1053 {\n}",
            "53",
            Ok(vec!["dns://example.org,example.com.:1053"]),
        ),
        (
            "#9",
            "example.org, example.com:1053 {\n}",
            "53",
            Ok(vec!["dns://example.org.:53", "dns://example.com.:1053"]),
        ),
        (
            "#11",
            "a.org,\nb.org {\n}",
            "53",
            Ok(vec!["dns://a.org.:53", "dns://b.org.:53"]),
        ),
        (
            "#13",
            ":53 {\nwhoami\n}",
            "53",
            Err(KeyError::InvalidZone(String::new())),
        ),
        (
            "#14 explicit port",
            ".:1053 {\n}",
            "5300",
            Ok(vec!["dns://.:1053"]),
        ),
        ("#14 flag port", ". {\n}", "5300", Ok(vec!["dns://.:5300"])),
        (
            "#15 both are the same listener zone",
            ". {\n}\n.:53 {\n}",
            "53",
            Ok(vec!["dns://.:53", "dns://.:53"]),
        ),
        (
            "#16 case and dot normalised",
            "example.org {\n}\nEXAMPLE.ORG. {\n}",
            "53",
            Ok(vec!["dns://example.org.:53", "dns://example.org.:53"]),
        ),
        (
            "#17",
            "10.0.0.0/24 172.16.0.0/15 {\n}",
            "53",
            Ok(vec![
                "dns://0.0.10.in-addr.arpa.:53",
                "dns://16.172.in-addr.arpa.:53",
                "dns://17.172.in-addr.arpa.:53",
            ]),
        ),
        (
            "#18",
            "::1/128 {\n}",
            "53",
            Err(KeyError::InvalidCidr("::1/128".into())),
        ),
        (
            "#19",
            "tls://example.org grpc://example.org {\n}",
            "53",
            Ok(vec!["tls://example.org.:853", "grpc://example.org.:443"]),
        ),
        (
            "#20",
            "{$ZONE}:1053 {\n}",
            "53",
            Ok(vec!["dns://example.org.:1053"]),
        ),
        (
            "#39",
            ". {\nwhoami\n} }",
            "53",
            Ok(vec!["dns://.:53", "dns://}.:53"]),
        ),
        (
            "lone comma key is refused",
            "a.org , b.org {\n}",
            "53",
            Err(KeyError::InvalidZone(String::new())),
        ),
    ];
    for (name, text, port, expected) in cases {
        let expected = expected.map(|v| v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(zones(&parse_ok(text), port), expected, "{name}");
    }
}

#[test]
fn all_keys_empty_after_substitution_drops_the_block() {
    // §12 #21
    assert_eq!(parse_ok("{$UNSET} {\nwhoami\n}"), vec![]);
}

#[test]
fn snippet_is_spliced_in_place() {
    // §12 #29
    let blocks = parse_ok("(c) {\nerrors\n}\n. {\nimport c\nwhoami\n}");
    assert_eq!(
        summary(&blocks),
        vec![block(
            &["."],
            &[("errors", &["errors"]), ("whoami", &["whoami"])]
        )]
    );
    // The spliced tokens keep where the snippet was written.
    assert_eq!(blocks[0].tokens_of("errors")[0].line, 2);
}

#[test]
fn snippet_name_and_import_argument_are_substituted() {
    let blocks = parse_ok(
        "({$NAME}) {\nlog\n}\n(common) {\nerrors\n}\n. {\nimport named\nimport {$SNIP}\n}",
    );
    assert_eq!(
        summary(&blocks),
        vec![block(&["."], &[("log", &["log"]), ("errors", &["errors"])])]
    );
}

#[test]
fn import_at_line_start_inside_a_sub_block_is_expanded() {
    let blocks = parse_ok(
        "(opts) {\nmax_fails 3\n}\n. {\nforward . 1.1.1.1 {\nimport opts\nexpire 10s\n}\n}",
    );
    let forward: Vec<String> = blocks[0]
        .tokens_of("forward")
        .into_iter()
        .map(|t| t.text)
        .collect();
    assert_eq!(
        forward,
        vec![
            "forward",
            ".",
            "1.1.1.1",
            "{",
            "max_fails",
            "3",
            "expire",
            "10s",
            "}"
        ]
    );
}

#[test]
fn top_level_snippet_import_defines_whole_blocks() {
    let blocks = parse_ok("(server) {\na.org {\nwhoami\n}\n}\nimport server\nb.org {\nlog\n}");
    assert_eq!(
        summary(&blocks),
        vec![
            block(&["a.org"], &[("whoami", &["whoami"])]),
            block(&["b.org"], &[("log", &["log"])]),
        ]
    );
}

#[test]
fn mutually_recursive_snippets_hit_the_expansion_limit() {
    let error = parse_err("(a) {\nimport b\n}\n(b) {\nimport a\n}\n. {\nimport a\n}");
    assert_eq!(error.problem, ParseProblem::SnippetDepth(10_000));
}

#[test]
fn every_occurrence_of_a_directive_is_kept_in_file_order() {
    // §12 #45: the "only once" error is the errors plugin's; the parser keeps both.
    let blocks = parse_ok(". {\nerrors\nerrors\n}");
    let errors = blocks[0].tokens_of("errors");
    assert_eq!(errors.len(), 2);
    assert_eq!((errors[0].line, errors[1].line), (2, 3));
    // §12 #46: both directives' tokens keep their own lines; setup order is the assembler's.
    let text = ". {\nwhoami\nforward . bad!\nlog\nlog\nlog\nlog\nlog\nerrors bad\n}";
    let blocks = parse_ok(text);
    assert_eq!(blocks[0].tokens_of("forward")[0].line, 3);
    assert_eq!(blocks[0].tokens_of("errors")[0].line, 9);
    assert_eq!(blocks[0].tokens_of("log").len(), 5);
}

#[test]
fn brace_on_the_line_after_a_directive_is_grouped_with_it() {
    // §12 #47: the parser swallows the `{`; the plugin's cursor then refuses it.
    let blocks = parse_ok(". {\nforward . 1.1.1.1\n{\nmax_fails 3\n}\n}");
    let tokens = blocks[0].tokens_of("forward");
    let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(
        texts,
        vec!["forward", ".", "1.1.1.1", "{", "max_fails", "3", "}"]
    );
    let mut d = Dispenser::new("Corefile", tokens);
    assert!(d.next());
    assert_eq!(d.remaining_args(), vec![".", "1.1.1.1"]);
    assert!(!d.next_block());
    assert!(d.next());
    assert_eq!(
        d.arg_err().to_string(),
        "Corefile:3 - Error during parsing: Unexpected token '{', expecting argument"
    );
}

const KUBEADM: &str = ".:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
";

#[test]
fn kubeadm_default_corefile_parses() {
    // §13
    let blocks = parse_ok(KUBEADM);
    assert_eq!(blocks.len(), 1);
    let names: Vec<&str> = blocks[0]
        .directives
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(
        names,
        vec![
            "errors",
            "health",
            "ready",
            "kubernetes",
            "prometheus",
            "forward",
            "cache",
            "loop",
            "reload",
            "loadbalance"
        ]
    );
    let kubernetes = blocks[0].tokens_of("kubernetes");
    assert_eq!(kubernetes.len(), 13);
    assert_eq!(
        kubernetes.last().map(|t| (t.line, t.text.as_str())),
        Some((11, "}"))
    );
    assert_eq!(zones(&blocks, "53"), Ok(vec!["dns://.:53".to_string()]));
}

#[test]
fn managed_cluster_variant_with_imports_that_match_nothing_parses() {
    // §13: `import custom/*.override` inside, `import custom/*.server` at top level.
    let dir = TestDir::new("spec-managed");
    dir.mkdir("custom");
    let text = KUBEADM.replacen(
        "    errors\n",
        "    errors\n    import custom/*.override\n",
        1,
    ) + "import custom/*.server\nexample.internal:53 {\n    errors\n    cache 30\n    forward . 10.0.0.10\n}\n";
    let blocks = parse(&source_in(&dir, &text), &env, Some(&known)).expect("parses");
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[1].keys, vec!["example.internal:53"]);
    assert_eq!(
        zones(&blocks, "53"),
        Ok(vec![
            "dns://.:53".to_string(),
            "dns://example.internal.:53".to_string()
        ])
    );
}

#[test]
fn glob_import_inserts_server_blocks_at_its_position() {
    // §12 #32
    let dir = TestDir::new("spec-glob");
    let a = dir.write("custom/a.server", "a.org {\n    whoami\n}\n");
    dir.write("custom/b.server", "b.org {\n    log\n}\n");
    let text = ". {\nwhoami\n}\nimport custom/*.server\nz.org {\nerrors\n}\n";
    let blocks = parse(&source_in(&dir, text), &env, Some(&known)).expect("parses");
    let keys: Vec<&str> = blocks.iter().map(|b| b.keys[0].as_str()).collect();
    assert_eq!(keys, vec![".", "a.org", "b.org", "z.org"]);
    let whoami = &blocks[1].tokens_of("whoami")[0];
    assert_eq!((&*whoami.file, whoami.line), (a.as_str(), 2));
    assert_eq!(&*blocks[3].tokens_of("errors")[0].file, "Corefile");
}

#[test]
fn glob_without_match_is_only_a_warning() {
    // §12 #33
    let dir = TestDir::new("spec-nomatch");
    let text = "import custom/*.nomatch\n. {\nwhoami\n}\n";
    let blocks = parse(&source_in(&dir, text), &env, Some(&known)).expect("parses");
    assert_eq!(
        summary(&blocks),
        vec![block(&["."], &[("whoami", &["whoami"])])]
    );
}

#[test]
fn glob_with_two_wildcards_is_refused() {
    // §12 #34
    let dir = TestDir::new("spec-2wild");
    let error =
        parse(&source_in(&dir, "import */*.conf"), &env, Some(&known)).expect_err("refused");
    let pattern = format!("{}/*/*.conf", dir.path_str());
    assert_eq!(error.problem, ParseProblem::GlobTooComplex(pattern.clone()));
    assert_eq!(
        error.to_string(),
        format!(
            "Corefile:1 - Error during parsing: Glob pattern may only contain one wildcard (*), but has others: {pattern}"
        )
    );
}

#[test]
fn import_of_a_directive_file_and_errors_inside_it_name_the_file() {
    let dir = TestDir::new("spec-file");
    dir.write("custom/ok.override", "log\n");
    let bad = dir.write("custom/bad.override", "\nfoo\n");
    let blocks = parse(
        &source_in(&dir, ". {\nimport custom/ok.override\nwhoami\n}"),
        &env,
        Some(&known),
    )
    .expect("parses");
    assert_eq!(
        summary(&blocks),
        vec![block(&["."], &[("log", &["log"]), ("whoami", &["whoami"])])]
    );
    let error = parse(
        &source_in(&dir, ". {\nimport custom/bad.override\n}"),
        &env,
        Some(&known),
    )
    .expect_err("unknown directive");
    assert_eq!(
        error.to_string(),
        format!("{bad}:2 - Error during parsing: Unknown directive 'foo'")
    );
}

#[test]
fn nested_imports_resolve_relative_to_the_importing_file() {
    let dir = TestDir::new("spec-nested");
    dir.write("conf/outer.conf", "import inner/*.conf\n");
    dir.write("conf/inner/x.conf", "errors\n");
    let blocks = parse(
        &source_in(&dir, ". {\nimport conf/outer.conf\n}"),
        &env,
        Some(&known),
    )
    .expect("parses");
    assert_eq!(
        summary(&blocks),
        vec![block(&["."], &[("errors", &["errors"])])]
    );
}

#[test]
fn import_errors_for_files() {
    let dir = TestDir::new("spec-file-errors");
    let sub = dir.mkdir("sub");
    let cases = [
        (
            ". {\nimport custom/x.conf\n}",
            2,
            ParseProblem::ImportNotFound("custom/x.conf".into()),
        ),
        (
            ". {\nimport sub\n}",
            2,
            ParseProblem::ImportIsDirectory(sub),
        ),
    ];
    for (text, line, problem) in cases {
        let error = parse(&source_in(&dir, text), &env, Some(&known)).expect_err(text);
        assert_eq!((error.line, error.problem), (line, problem), "{text}");
    }
}

#[test]
fn a_file_importing_itself_hits_the_file_import_limit() {
    let dir = TestDir::new("spec-self-file");
    dir.write("loop.conf", "import loop.conf\n");
    let limits = Limits {
        file_imports: 10,
        ..Limits::COREDNS
    };
    let error = parse_with_limits(
        &source_in(&dir, ". {\nimport loop.conf\n}"),
        &env,
        Some(&known),
        limits,
    )
    .expect_err("limit");
    assert_eq!(error.problem, ParseProblem::FileImportDepth(10));
}

#[test]
fn imports_that_multiply_tokens_hit_the_token_budget() {
    let limits = Limits {
        imported_tokens: 5,
        ..Limits::COREDNS
    };
    let dir = TestDir::new("spec-budget");
    let error = parse_with_limits(
        &source_in(&dir, "(s) {\nlog a b c\n}\n. {\nimport s\nimport s\n}"),
        &env,
        Some(&known),
        limits,
    )
    .expect_err("budget");
    assert_eq!(
        (error.line, error.problem),
        (6, ParseProblem::TooManyTokens(5))
    );
}
