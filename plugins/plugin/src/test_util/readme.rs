//! The `corefile` examples of a plugin README, for a test that parses the plugin's own stanza
//! of each (the whole examples are built by the server's `readme_examples` integration test).

/// One ```` ```corefile ```` / `~~~ corefile` example of a README.
#[derive(Debug)]
pub struct ReadmeExample {
    /// The whole example, one line per line.
    pub block: String,
    /// Every stanza of the directive in it (its line, and the lines of its `{ … }` block),
    /// trimmed, one per line: what the plugin's own `parse` reads.
    pub stanza: String,
}

/// The examples of `markdown` with the stanzas of `directive`.
pub fn readme_examples(markdown: &str, directive: &str) -> Vec<ReadmeExample> {
    let mut examples = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        if !matches!(line.trim_end(), "```corefile" | "~~~ corefile") {
            continue;
        }
        let block: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !matches!(l.trim_end(), "```" | "~~~"))
            .collect();
        let mut stanza = Vec::new();
        let mut in_block = false;
        for l in block.iter().map(|l| l.trim()) {
            if in_block {
                stanza.push(l);
                in_block = l != "}";
            } else if l == directive || l.starts_with(&format!("{directive} ")) {
                stanza.push(l);
                in_block = l.ends_with('{');
            }
        }
        examples.push(ReadmeExample {
            block: block.join("\n"),
            stanza: stanza.join("\n"),
        });
    }
    examples
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_of_one_directive_are_taken_from_each_example() {
        let markdown = "text\n~~~ corefile\n. {\n    hosts {\n        10.0.0.1 a\n        fallthrough\n    }\n    hostsx\n    whoami\n}\n~~~\n```corefile\n. {\n    hosts /etc/hosts\n}\n```\n";
        let examples = readme_examples(markdown, "hosts");
        assert_eq!(examples.len(), 2);
        assert_eq!(examples[0].stanza, "hosts {\n10.0.0.1 a\nfallthrough\n}");
        assert!(examples[0].block.contains("whoami"));
        assert_eq!(examples[1].stanza, "hosts /etc/hosts");
    }
}
