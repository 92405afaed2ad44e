//! Option parsing: Corefile snippets → rules, or the error text.

use super::*;
use plugin::test_util::dispenser;

fn rule(name: &str, format: &str, classes: &[&str]) -> Rule {
    Rule {
        name: name.to_string(),
        format: format.to_string(),
        classes: if classes.is_empty() {
            ClassSet::ALL
        } else {
            ClassSet::from_words(classes).unwrap()
        },
    }
}

/// Snippet → expected rules or error text (without the `plugin/log: ` prefix).
#[test]
fn parses_like_coredns() {
    use format::{COMBINED, COMMON};
    let cases: Vec<(&str, Result<Vec<Rule>, &str>)> = vec![
        ("log", Ok(vec![rule(".", COMMON, &[])])),
        (
            "log example.org",
            Ok(vec![rule("example.org.", COMMON, &[])]),
        ),
        (
            "log example.org.",
            Ok(vec![rule("example.org.", COMMON, &[])]),
        ),
        // Names keep their case; matching ignores it.
        (
            "log Example.ORG",
            Ok(vec![rule("Example.ORG.", COMMON, &[])]),
        ),
        // One argument is always a name, even a format.
        ("log {common}", Ok(vec![rule("{common}.", COMMON, &[])])),
        ("log {name}", Ok(vec![rule("{name}.", COMMON, &[])])),
        // Not CIDR-expanded.
        ("log 10.0.0.0/8", Ok(vec![rule("10.0.0.0/8.", COMMON, &[])])),
        ("log . {common}", Ok(vec![rule(".", COMMON, &[])])),
        ("log . {combined}", Ok(vec![rule(".", COMBINED, &[])])),
        (
            "log example.org {name}-{common}",
            Ok(vec![rule(
                "example.org.",
                &format!("{{name}}-{COMMON}"),
                &[],
            )]),
        ),
        (
            "log a.org b.org {name}-{rcode}",
            Ok(vec![
                rule("a.org.", "{name}-{rcode}", &[]),
                rule("b.org.", "{name}-{rcode}", &[]),
            ]),
        ),
        // Two or more arguments, none with `{`: all names.
        (
            "log a.org b.org",
            Ok(vec![
                rule("a.org.", COMMON, &[]),
                rule("b.org.", COMMON, &[]),
            ]),
        ),
        (
            "log . {\nclass denial\n}",
            Ok(vec![rule(".", COMMON, &["denial"])]),
        ),
        (
            "log {\nclass denial error\n}",
            Ok(vec![rule(".", COMMON, &["denial", "error"])]),
        ),
        (
            "log {\nclass success\nclass denial\n}",
            Ok(vec![rule(".", COMMON, &["success", "denial"])]),
        ),
        (
            "log {\nclass all denial\n}",
            Ok(vec![rule(".", COMMON, &["all", "denial"])]),
        ),
        ("log {\n}", Ok(vec![rule(".", COMMON, &[])])),
        // Lines accumulate; a class applies to the rules of its own line.
        (
            "log a.org b.org {\nclass error\n}\nlog .",
            Ok(vec![
                rule("a.org.", COMMON, &["error"]),
                rule("b.org.", COMMON, &["error"]),
                rule(".", COMMON, &[]),
            ]),
        ),
        (
            "log example.org {name}\nlog . {rcode}",
            Ok(vec![
                rule("example.org.", "{name}", &[]),
                rule(".", "{rcode}", &[]),
            ]),
        ),
        (
            "log {\nclass\n}",
            Err(
                "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'class'",
            ),
        ),
        ("log {\nclass foo\n}", Err("invalid Class: foo")),
        ("log {\nclass success Error\n}", Err("invalid Class: Error")),
        (
            "log {\nformat x\n}",
            Err("Corefile:2 - Error during parsing: unknown property 'format'"),
        ),
        (
            "log\nlog {\nnope\n}",
            Err("Corefile:3 - Error during parsing: unknown property 'nope'"),
        ),
    ];
    for (corefile, want) in cases {
        let got = parse(&mut dispenser(corefile))
            .map(|c| c.rules)
            .map_err(|e| e.to_string());
        assert_eq!(got, want.map_err(str::to_string), "{corefile:?}");
    }
}

#[test]
fn an_invalid_class_is_typed() {
    let err = parse(&mut dispenser("log {\nclass nope\n}")).unwrap_err();
    let ConfigError::Invalid(inner) = &err else {
        panic!("want ConfigError::Invalid, got {err:?}");
    };
    assert_eq!(
        inner.downcast_ref::<InvalidClass>(),
        Some(&InvalidClass("nope".into()))
    );
}

#[test]
fn fqdn_respects_escaped_dots() {
    for (name, want) in [
        ("example.org", "example.org."),
        ("example.org.", "example.org."),
        (".", "."),
        ("a\\.", "a\\.."),
        ("a\\\\.", "a\\\\."),
    ] {
        assert_eq!(fqdn(name), want, "{name}");
    }
}
