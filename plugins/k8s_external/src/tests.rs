//! Setup: errors as the assembler reports them, and the check for the block's kubernetes.

use std::sync::Arc;

use clusterdns_kubernetes::{Environment, setup_with};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use plugin::test_util::{self, Recorder, TestBlock, check_chain_setup, query};

use super::*;

#[test]
fn setup_adds_one_plugin_or_fails_with_coredns_texts() {
    check_chain_setup(
        &[
            ("k8s_external", Ok(())),
            ("k8s_external example.com {\nheadless\nttl 10\n}", Ok(())),
            (
                "k8s_external {\nttl 4000\n}",
                Err("Corefile:2 - Error during parsing: ttl must be in range [0, 3600]: 4000"),
            ),
            (
                "k8s_external {\nbogus\n}",
                Err("Corefile:2 - Error during parsing: unknown property 'bogus'"),
            ),
            (
                "k8s_external {\napex bad..apex\n}",
                Err("invalid apex \"bad..apex\": empty label"),
            ),
        ],
        setup,
    );
}

fn kubernetes(block: &mut TestBlock) {
    let env = Environment {
        own_addresses: Vec::new(),
        resolv_search: Vec::new(),
        start_sources: false,
    };
    block
        .setup("kubernetes cluster.local", |s| {
            setup_with(s, env).map(|_| ())
        })
        .unwrap();
}

#[test]
fn the_block_needs_kubernetes() {
    let mut t = TestBlock::new(&["example.com."]);
    t.setup("k8s_external", setup).unwrap();
    let (directive, error) = t.block.run_after_block().unwrap_err();
    assert_eq!(directive, "", "the assembler fills in the directive");
    assert_eq!(error.to_string(), "kubernetes plugin not loaded");

    let mut t = TestBlock::new(&["example.com."]);
    t.setup("k8s_external", setup).unwrap();
    kubernetes(&mut t);
    t.block.run_after_block().unwrap();
}

#[tokio::test]
async fn without_a_view_queries_pass_on() {
    // A plugin whose block never published a view (only possible outside the assembler).
    let mut t = TestBlock::new(&["example.com."]);
    t.setup("k8s_external", setup).unwrap();
    let next = Recorder::new();
    let req = query("svc.ns.example.com.", RecordType::A).build();
    let got = test_util::serve(t.block.plugins[0].clone(), next.clone(), &req)
        .await
        .unwrap();
    assert_eq!(next.calls(), 1);
    assert_eq!(got.plugin, "recorder");
}

#[tokio::test]
async fn the_view_published_after_setup_is_read_per_query() {
    let mut t = TestBlock::new(&["example.com."]);
    t.setup("k8s_external", setup).unwrap();
    kubernetes(&mut t);
    t.block.run_after_block().unwrap();
    let next: Arc<Recorder> = Recorder::new();
    let req = query("example.com.", RecordType::SOA).build();
    let got = test_util::serve(t.block.plugins[0].clone(), next.clone(), &req)
        .await
        .unwrap();
    assert_eq!(next.calls(), 0);
    assert_eq!(got.rcode, ResponseCode::NoError);
    assert!(got.flags.authoritative);
    assert_eq!(got.answers.len(), 1);
}

/// The `k8s_external` stanzas of the README's corefile examples parse, and each example has
/// the `kubernetes` stanza the plugin needs (the whole examples are built by the server's
/// `readme_examples` integration test).
#[test]
fn readme_examples_parse() {
    let examples = plugin::test_util::readme_examples(include_str!("../README.md"), "k8s_external");
    for example in &examples {
        assert!(
            example
                .block
                .lines()
                .any(|l| l.trim_start().starts_with("kubernetes")),
            "{}",
            example.block
        );
        let text = &example.stanza;
        let config = parse(
            &mut plugin::test_util::dispenser(text),
            &["example.org.".to_string()],
        )
        .unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(config.zones.contains(&"example.org.".to_string()));
    }
    assert_eq!(examples.len(), 2);
}
