//! Option parsing (plugins-resolution.md §2.1) as a table of Corefile snippets, C24 included,
//! and the README examples.

use std::time::Duration;

use plugin::test_util::{self, check_chain_setup};

use crate::{CacheConfig, PrefetchConfig, ServeStaleConfig, StaleMode, parse};

fn parsed(text: &str) -> Result<CacheConfig, String> {
    parse(&mut test_util::dispenser(text), &[".".to_string()]).map_err(|e| e.to_string())
}

fn defaults() -> CacheConfig {
    CacheConfig::defaults(&[".".to_string()])
}

fn with(f: impl FnOnce(&mut CacheConfig)) -> Result<CacheConfig, String> {
    let mut config = defaults();
    f(&mut config);
    Ok(config)
}

fn stale(up_to: u64, mode: StaleMode, response_ttl: u32, recheck: u64) -> Option<ServeStaleConfig> {
    Some(ServeStaleConfig {
        up_to: Duration::from_secs(up_to),
        mode,
        response_ttl,
        recheck: Duration::from_secs(recheck),
    })
}

const VERIFY: StaleMode = StaleMode::Verify {
    timeout: Duration::ZERO,
};

#[test]
fn options_parse_like_coredns() {
    let arg_err = |line: u32, after: &str| -> Result<CacheConfig, String> {
        Err(format!(
            "Corefile:{line} - Error during parsing: Wrong argument count or unexpected line ending after '{after}'"
        ))
    };
    let plain = |msg: &str| -> Result<CacheConfig, String> { Err(msg.to_string()) };
    let cases: Vec<(&str, Result<CacheConfig, String>)> = vec![
        ("cache", Ok(defaults())),
        (
            "cache 30",
            with(|c| {
                c.success.max_ttl = 30;
                c.denial.max_ttl = 30;
            }),
        ),
        (
            "cache aaa Example.NL",
            with(|c| c.zones = vec!["aaa.".into(), "example.nl.".into()]),
        ),
        (
            "cache 10 example.org 10.0.0.0/8",
            with(|c| {
                c.success.max_ttl = 10;
                c.denial.max_ttl = 10;
                c.zones = vec!["example.org.".into(), "10.in-addr.arpa.".into()];
            }),
        ),
        (
            "cache {\nsuccess 100\n}",
            with(|c| c.success.capacity = 100),
        ),
        (
            "cache {\nsuccess 20000 600 10\ndenial 5 60 0\n}",
            with(|c| {
                c.success.capacity = 20000;
                c.success.max_ttl = 600;
                c.success.min_ttl = 10;
                c.denial.capacity = 5;
                c.denial.max_ttl = 60;
                c.denial.min_ttl = 0;
            }),
        ),
        (
            "cache {\nprefetch 10 2m 20%\n}",
            with(|c| {
                c.prefetch = PrefetchConfig {
                    amount: 10,
                    window: Duration::from_secs(120),
                    percentage: 20,
                }
            }),
        ),
        ("cache {\nprefetch 2\n}", with(|c| c.prefetch.amount = 2)),
        (
            "cache {\nserve_stale\n}",
            with(|c| c.serve_stale = stale(3600, StaleMode::Immediate, 0, 0)),
        ),
        (
            "cache {\nserve_stale 20m VERIFY\n}",
            with(|c| c.serve_stale = stale(1200, VERIFY, 0, 0)),
        ),
        (
            "cache {\nserve_stale 1h immediate 30s 1m\n}",
            with(|c| c.serve_stale = stale(3600, StaleMode::Immediate, 30, 60)),
        ),
        (
            "cache {\nserve_stale 1h verify 2s 10s 5m\n}",
            with(|c| {
                c.serve_stale = stale(
                    3600,
                    StaleMode::Verify {
                        timeout: Duration::from_secs(2),
                    },
                    10,
                    300,
                )
            }),
        ),
        (
            "cache {\nserve_stale 1h\nserve_stale_policy prefer_positive\n}",
            with(|c| {
                c.serve_stale = stale(3600, StaleMode::Immediate, 0, 0);
                c.prefer_positive = true;
            }),
        ),
        (
            "cache {\nservfail 0\n}",
            with(|c| c.servfail = Duration::ZERO),
        ),
        (
            "cache {\nservfail 5m\n}",
            with(|c| c.servfail = Duration::from_secs(300)),
        ),
        (
            "cache {\ndisable success\ndisable denial Cluster.Local example.org\n}",
            with(|c| {
                c.disable_success = vec![".".into()];
                c.disable_denial = vec!["cluster.local.".into(), "example.org.".into()];
            }),
        ),
        (
            "cache {\ndisable denial a.org\ndisable denial b.org\n}",
            with(|c| c.disable_denial = vec!["b.org.".into()]),
        ),
        ("cache {\nkeepttl\n}", with(|c| c.keepttl = true)),
        // C24 and the other errors.
        ("cache 0", plain("cache TTL can not be zero or negative: 0")),
        (
            "cache -1",
            plain("cache TTL can not be zero or negative: -1"),
        ),
        (
            "cache {\nprefetch 1 1m 5%\n}",
            plain("percentage should fall in range [10, 90]: 5"),
        ),
        (
            "cache {\nprefetch 1 1m 50\n}",
            plain("last character of percentage should be `%`, but is: '0'"),
        ),
        (
            "cache {\nprefetch -1\n}",
            plain("prefetch amount should be positive: -1"),
        ),
        ("cache {\nprefetch\n}", arg_err(2, "prefetch")),
        ("cache {\nprefetch 1 1m 10% x\n}", arg_err(2, "x")),
        (
            "cache {\nprefetch x\n}",
            plain("strconv.Atoi: parsing \"x\": invalid syntax"),
        ),
        (
            "cache {\nprefetch 1 1x\n}",
            plain("time: unknown unit \"x\" in duration \"1x\""),
        ),
        (
            "cache {\nservfail 6m\n}",
            plain("caching SERVFAIL responses over 5 minutes is not permitted"),
        ),
        (
            "cache {\nservfail -1s\n}",
            plain("invalid negative ttl for servfail"),
        ),
        ("cache {\nservfail\n}", arg_err(2, "servfail")),
        ("cache {\nsuccess\n}", arg_err(2, "success")),
        (
            "cache {\nsuccess 10 0\n}",
            plain("cache TTL can not be zero or negative: 0"),
        ),
        (
            "cache {\ndenial 10 60 -1\n}",
            plain("cache min TTL can not be negative: -1"),
        ),
        (
            "cache {\nsuccess 99999999999999999999\n}",
            plain("strconv.Atoi: parsing \"99999999999999999999\": value out of range"),
        ),
        (
            "cache {\nserve_stale -1s\n}",
            plain("invalid negative duration for serve_stale"),
        ),
        (
            "cache {\nserve_stale 1h later\n}",
            plain("invalid value for serve_stale refresh mode: later"),
        ),
        (
            "cache {\nserve_stale 1h immediate 1s 1s x\n}",
            arg_err(2, "x"),
        ),
        (
            "cache {\nserve_stale 1h verify 1s 1s 1s x\n}",
            arg_err(2, "x"),
        ),
        (
            "cache {\nserve_stale 1h verify -1s\n}",
            plain("invalid negative timeout for serve_stale verify"),
        ),
        (
            "cache {\nserve_stale 1h verify x\n}",
            plain("invalid serve_stale verify timeout: time: invalid duration \"x\""),
        ),
        (
            "cache {\nserve_stale 1h immediate 1500ms\n}",
            plain("serve_stale response TTL must be a whole number of seconds"),
        ),
        (
            "cache {\nserve_stale 1h immediate -1s\n}",
            plain("invalid negative response TTL for serve_stale"),
        ),
        (
            "cache {\nserve_stale 1h immediate 1s 6m\n}",
            plain("serve_stale failure recheck cannot exceed 5 minutes"),
        ),
        (
            "cache {\nserve_stale 1h immediate 1s -1s\n}",
            plain("invalid negative failure recheck for serve_stale"),
        ),
        (
            "cache {\nserve_stale_policy prefer_positive\n}",
            plain("serve_stale_policy requires serve_stale"),
        ),
        (
            "cache {\nserve_stale\nserve_stale_policy prefer_negative\n}",
            plain("invalid serve_stale_policy: prefer_negative"),
        ),
        (
            "cache {\nserve_stale\nserve_stale_policy prefer_positive\nserve_stale_policy prefer_positive\n}",
            plain("serve_stale_policy can only be specified once"),
        ),
        (
            "cache {\nserve_stale_policy\n}",
            arg_err(2, "serve_stale_policy"),
        ),
        ("cache {\ndisable\n}", arg_err(2, "disable")),
        (
            "cache {\ndisable all\n}",
            plain("cache type for disable must be \"success\" or \"denial\""),
        ),
        ("cache {\nkeepttl 1\n}", arg_err(2, "1")),
        ("cache {\nunknown\n}", arg_err(2, "unknown")),
        (
            "cache\ncache",
            plain("this plugin can only be used once per Server Block"),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parsed(text), want, "{text:?}");
    }
}

#[test]
fn setup_adds_the_plugin_exactly_when_the_stanza_is_valid() {
    check_chain_setup(
        &[
            ("cache", Ok(())),
            ("cache 30 {\ndisable success cluster.local\n}", Ok(())),
            ("cache 0", Err("cache TTL can not be zero or negative: 0")),
            (
                "cache {\nservfail 6m\n}",
                Err("caching SERVFAIL responses over 5 minutes is not permitted"),
            ),
            (
                "cache\ncache",
                Err("this plugin can only be used once per Server Block"),
            ),
        ],
        crate::setup,
    );
}

#[test]
fn zones_default_to_the_server_block() {
    let zones = vec!["cluster.local.".to_string(), "example.org.".to_string()];
    let config = parse(&mut test_util::dispenser("cache"), &zones).unwrap();
    assert_eq!(config.zones, zones);
}

/// Every ```corefile example of the README has a cache stanza that parses (the whole
/// examples are built by the server's `readme_examples` integration test).
#[test]
fn readme_examples_parse() {
    let examples = test_util::readme_examples(include_str!("../../README.md"), "cache");
    for example in &examples {
        let text = &example.stanza;
        parse(&mut test_util::dispenser(text), &[".".to_string()])
            .unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    assert!(examples.len() >= 5, "{}", examples.len());
}
