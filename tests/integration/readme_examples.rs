//! Every `~~~ corefile` example in a plugin README and in Corefile.example builds a
//! configuration (CoreDNS's test/readme_test.go): documentation that cannot rot.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clusterdns::assemble::{Options, assemble};
use clusterdns::corefile::Source;
use plugin::metrics::MetricsHub;

fn corefile_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "~~~ corefile") | (None, "```corefile") => current = Some(String::new()),
            (Some(_), "~~~") | (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// Builds `text`. Examples may use directives of later milestones (forward, file): those fail
/// with `not supported by this build` only after every directive before them in the registry
/// order was set up, which is still a useful check, so that error counts as built.
fn builds(name: &str, text: &str) -> Result<(), String> {
    let source = Source {
        name: Arc::from(name),
        text: text.as_bytes().to_vec(),
        dir: PathBuf::from("."),
    };
    let options = Options {
        default_port: "53",
        metrics: Arc::new(MetricsHub::new()),
        env: &|_| None,
    };
    match assemble(&source, &options) {
        Ok(_) => Ok(()),
        Err(e) if e.to_string().ends_with(": not supported by this build") => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn plugin_readme_examples_build() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut checked, mut failures) = (0, Vec::new());
    for entry in std::fs::read_dir(root.join("plugins")).unwrap() {
        let readme = entry.unwrap().path().join("README.md");
        let Ok(markdown) = std::fs::read_to_string(&readme) else {
            continue;
        };
        for (i, block) in corefile_blocks(&markdown).iter().enumerate() {
            let name = format!("{}#{}", readme.display(), i + 1);
            if let Err(e) = builds(&name, block) {
                failures.push(format!("{name}:\n{block}{e}\n"));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 10, "only {checked} examples found");
}

#[test]
fn corefile_example_builds() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("Corefile.example");
    builds("Corefile.example", &std::fs::read_to_string(path).unwrap()).unwrap();
}
