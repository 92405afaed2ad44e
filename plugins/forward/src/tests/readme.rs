//! Every ```corefile example of the README parses.

use plugin::test_util::{dispenser, readme_examples};

#[test]
fn readme_examples_parse() {
    let examples = readme_examples(include_str!("../../README.md"), "forward");
    assert!(examples.len() >= 5);
    for example in examples {
        if example.stanza.is_empty() {
            continue;
        }
        crate::parse(&mut dispenser(&example.stanza))
            .unwrap_or_else(|e| panic!("{}: {e}", example.block));
    }
}
