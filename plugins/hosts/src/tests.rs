//! Option parsing, the H-cases of plugins-resolution.md §9 (with a recording next plugin
//! standing in for `forward`), reload and metrics.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use plugin::test_util::{self, Recorder, TestBlock, query};
use plugin::{Fallthrough, Outcome, Plugin, Request};

use super::*;

/// A hosts file that never exists, so tests do not depend on the machine's /etc/hosts.
const NO_FILE: &str = "/nonexistent/clusterdns-hosts-test";

fn parse_text(text: &str) -> Result<HostsConfig, String> {
    parse(&mut test_util::dispenser(text), &[".".to_string()]).map_err(|e| e.to_string())
}

fn defaults() -> HostsConfig {
    HostsConfig {
        path: PathBuf::from(NO_FILE),
        zones: vec![".".to_string()],
        inline: Vec::new(),
        ttl: DEFAULT_TTL,
        auto_reverse: true,
        reload: DEFAULT_RELOAD,
        fall: Fallthrough::none(),
        fallthrough_unsupported: false,
    }
}

#[test]
fn options_parse_like_coredns() {
    let err = |line: u32, msg: &str| -> Result<HostsConfig, String> {
        Err(format!("Corefile:{line} - Error during parsing: {msg}"))
    };
    let cases: Vec<(String, Result<HostsConfig, String>)> = vec![
        (
            "hosts".into(),
            Ok(HostsConfig {
                path: PathBuf::from(DEFAULT_PATH),
                ..defaults()
            }),
        ),
        (format!("hosts {NO_FILE}"), Ok(defaults())),
        (
            format!("hosts {NO_FILE} Example.ORG net"),
            Ok(HostsConfig {
                zones: vec!["example.org.".into(), "net.".into()],
                ..defaults()
            }),
        ),
        (
            // A CIDR zone is its reverse zones (plugins-resolution.md §0.3).
            format!("hosts {NO_FILE} 10.0.0.0/23 2001:db8::/32"),
            Ok(HostsConfig {
                zones: vec![
                    "0.0.10.in-addr.arpa.".into(),
                    "1.0.10.in-addr.arpa.".into(),
                    "8.b.d.0.1.0.0.2.ip6.arpa.".into(),
                ],
                ..defaults()
            }),
        ),
        (
            format!(
                "hosts {NO_FILE} {{\n10.0.0.1 example.org www.example.org\nttl 60\nno_reverse\nreload 0\n::1 v6.example\nfallthrough in-addr.arpa\nfallthrough_unsupported\n}}"
            ),
            Ok(HostsConfig {
                inline: vec![
                    "10.0.0.1 example.org www.example.org".into(),
                    "::1 v6.example".into(),
                ],
                ttl: 60,
                auto_reverse: false,
                reload: Duration::ZERO,
                fall: Fallthrough::from_args(&["in-addr.arpa".into()]),
                fallthrough_unsupported: true,
                ..defaults()
            }),
        ),
        (
            format!("hosts {NO_FILE} {{\nreload 1m30s\nfallthrough\n}}"),
            Ok(HostsConfig {
                reload: Duration::from_secs(90),
                fall: Fallthrough::from_args(&[]),
                ..defaults()
            }),
        ),
        // H13: an entry after `fallthrough`.
        (
            format!("hosts {NO_FILE} {{\nfallthrough\n10.0.0.1 a.example\n}}"),
            err(3, "unknown property '10.0.0.1'"),
        ),
        (
            format!("hosts {NO_FILE} {{\nfallthrough_unsupported\n}}"),
            err(3, "fallthrough_unsupported requires fallthrough"),
        ),
        (
            format!("hosts {NO_FILE} {{\nfallthrough\nfallthrough_unsupported extra\n}}"),
            err(
                3,
                "Wrong argument count or unexpected line ending after 'extra'",
            ),
        ),
        (
            format!("hosts {NO_FILE} {{\nttl\n}}"),
            err(2, "ttl needs a time in second"),
        ),
        (
            format!("hosts {NO_FILE} {{\nttl abc\n}}"),
            err(2, "ttl needs a number of second"),
        ),
        (
            format!("hosts {NO_FILE} {{\nttl 0\n}}"),
            err(2, "ttl provided is invalid"),
        ),
        (
            format!("hosts {NO_FILE} {{\nttl 65536\n}}"),
            err(2, "ttl provided is invalid"),
        ),
        (
            format!("hosts {NO_FILE} {{\nreload\n}}"),
            err(2, "reload needs a duration (zero seconds to disable)"),
        ),
        (
            format!("hosts {NO_FILE} {{\nreload 1s 2s\n}}"),
            err(2, "reload needs a duration (zero seconds to disable)"),
        ),
        (
            format!("hosts {NO_FILE} {{\nreload soon\n}}"),
            err(2, "invalid duration for reload 'soon'"),
        ),
        (
            format!("hosts {NO_FILE} {{\nreload -1s\n}}"),
            err(2, "invalid negative duration for reload '-1s'"),
        ),
        (
            format!("hosts {NO_FILE}\nhosts {NO_FILE}"),
            Err("this plugin can only be used once per Server Block".into()),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parse_text(&text), want, "{text:?}");
    }
}

/// Builds the plugin through `setup` in a `.` block (or `zones`).
fn build(corefile: &str, zones: &[&str]) -> (Arc<dyn Plugin>, TestBlock) {
    let mut t = TestBlock::new(zones);
    t.setup(corefile, setup)
        .unwrap_or_else(|e| panic!("{corefile}: {e}"));
    let plugin = t.block.plugins[0].clone();
    (plugin, t)
}

/// What the client observes, reduced to what the H-cases state.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// Written by hosts: rcode, AA, answer records as `owner TTL TYPE data`.
    Answer {
        aa: bool,
        ra: bool,
        answers: Vec<String>,
        authority: usize,
    },
    /// Not written: the server core answers with this rcode.
    Fail(ResponseCode),
    /// Handed to the next plugin.
    Next,
}

async fn ask(plugin: &Arc<dyn Plugin>, req: &Request) -> Seen {
    let next = Recorder::answering(|req| Ok(plugin::Response::reply_to(req, "recorder")));
    let outcome: Outcome = test_util::serve(plugin.clone(), next.clone(), req).await;
    if next.calls() > 0 {
        return Seen::Next;
    }
    match outcome {
        Ok(resp) => {
            assert_eq!(resp.rcode, ResponseCode::NoError);
            assert_eq!(resp.plugin, NAME);
            assert!(resp.additionals.is_empty());
            Seen::Answer {
                aa: resp.flags.authoritative,
                ra: resp.flags.recursion_available,
                answers: resp
                    .answers
                    .iter()
                    .map(|r| format!("{} {} {} {}", r.name, r.ttl, r.record_type(), r.data))
                    .collect(),
                authority: resp.authorities.len(),
            }
        }
        Err(failure) => Seen::Fail(failure.rcode),
    }
}

/// Asks without a next plugin at all (the H-cases with nothing after hosts).
async fn ask_alone(plugin: &Arc<dyn Plugin>, req: &Request) -> Seen {
    let chain = plugin::Chain::new(vec![plugin.clone()]);
    match chain.serve(req).await {
        Ok(resp) => Seen::Answer {
            aa: resp.flags.authoritative,
            ra: resp.flags.recursion_available,
            answers: resp
                .answers
                .iter()
                .map(|r| format!("{} {} {} {}", r.name, r.ttl, r.record_type(), r.data))
                .collect(),
            authority: resp.authorities.len(),
        },
        Err(failure) => Seen::Fail(failure.rcode),
    }
}

fn answer(records: &[&str]) -> Seen {
    Seen::Answer {
        aa: true,
        ra: false,
        answers: records.iter().map(|r| r.to_string()).collect(),
        authority: 0,
    }
}

const H1: &str =
    "hosts /nonexistent/clusterdns-hosts-test {\n10.0.0.1 example.org www.example.org\n}";

#[tokio::test]
async fn h_cases() {
    struct Case {
        id: &'static str,
        corefile: String,
        name: &'static str,
        qtype: RecordType,
        /// With a recording next plugin (standing in for `forward . U1`).
        with_next: Option<Seen>,
        /// With nothing after hosts.
        alone: Option<Seen>,
    }
    let servfail = || Seen::Fail(ResponseCode::ServFail);
    let h4 = format!("hosts {NO_FILE} {{\n10.0.0.1 example.org www.example.org\nfallthrough\n}}");
    let h10 = format!(
        "hosts {NO_FILE} {{\n10.0.0.10 *.example.com\n10.0.0.11 a.example.com\nfallthrough\n}}"
    );
    let cases = [
        Case {
            id: "H1 A",
            corefile: H1.into(),
            name: "example.org.",
            qtype: RecordType::A,
            with_next: None,
            alone: Some(answer(&["example.org. 3600 A 10.0.0.1"])),
        },
        Case {
            id: "H1 PTR",
            corefile: H1.into(),
            name: "1.0.0.10.in-addr.arpa.",
            qtype: RecordType::PTR,
            with_next: None,
            alone: Some(answer(&[
                "1.0.0.10.in-addr.arpa. 3600 PTR example.org.",
                "1.0.0.10.in-addr.arpa. 3600 PTR www.example.org.",
            ])),
        },
        Case {
            id: "H2",
            corefile: H1.into(),
            name: "WWW.Example.ORG.",
            qtype: RecordType::A,
            with_next: None,
            alone: Some(answer(&["www.example.org. 3600 A 10.0.0.1"])),
        },
        Case {
            id: "H3",
            corefile: H1.into(),
            name: "other.org.",
            qtype: RecordType::A,
            // No fallthrough: SERVFAIL even with a plugin behind.
            with_next: Some(servfail()),
            alone: Some(servfail()),
        },
        Case {
            id: "H4",
            corefile: h4.clone(),
            name: "other.org.",
            qtype: RecordType::A,
            with_next: Some(Seen::Next),
            alone: None,
        },
        Case {
            id: "H5 AAAA",
            corefile: H1.into(),
            name: "example.org.",
            qtype: RecordType::AAAA,
            with_next: Some(answer(&[])),
            alone: Some(answer(&[])),
        },
        Case {
            id: "H5 MX",
            corefile: H1.into(),
            name: "example.org.",
            qtype: RecordType::MX,
            with_next: Some(answer(&[])),
            alone: None,
        },
        // §3.5: NODATA is not forwarded even with fallthrough.
        Case {
            id: "H5 AAAA fallthrough",
            corefile: h4.clone(),
            name: "example.org.",
            qtype: RecordType::AAAA,
            with_next: Some(answer(&[])),
            alone: None,
        },
        Case {
            id: "H6",
            corefile: format!(
                "hosts {NO_FILE} {{\n10.0.0.1 example.org\nfallthrough\nfallthrough_unsupported\n}}"
            ),
            name: "example.org.",
            qtype: RecordType::TXT,
            with_next: Some(Seen::Next),
            alone: None,
        },
        Case {
            id: "H7",
            corefile: H1.into(),
            name: "9.9.9.9.in-addr.arpa.",
            qtype: RecordType::PTR,
            with_next: Some(Seen::Next),
            alone: Some(servfail()),
        },
        Case {
            id: "H8 AAAA",
            corefile: format!("hosts {NO_FILE} {{\n2001:db8::1 v6.example\n}}"),
            name: "v6.example.",
            qtype: RecordType::AAAA,
            with_next: None,
            alone: Some(answer(&["v6.example. 3600 AAAA 2001:db8::1"])),
        },
        Case {
            id: "H8 PTR",
            corefile: format!("hosts {NO_FILE} {{\n2001:db8::1 v6.example\n}}"),
            name: "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
            qtype: RecordType::PTR,
            with_next: None,
            alone: Some(answer(&[
                "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 3600 PTR v6.example.",
            ])),
        },
        Case {
            id: "H9 A",
            corefile: format!("hosts {NO_FILE} {{\n::ffff:10.0.0.2 m.example\n}}"),
            name: "m.example.",
            qtype: RecordType::A,
            with_next: None,
            alone: Some(answer(&["m.example. 3600 A 10.0.0.2"])),
        },
        Case {
            id: "H9 AAAA",
            corefile: format!("hosts {NO_FILE} {{\n::ffff:10.0.0.2 m.example\n}}"),
            name: "m.example.",
            qtype: RecordType::AAAA,
            with_next: None,
            alone: Some(answer(&[])),
        },
        Case {
            id: "H10 wildcard",
            corefile: h10.clone(),
            name: "x.example.com.",
            qtype: RecordType::A,
            with_next: Some(answer(&["x.example.com. 3600 A 10.0.0.10"])),
            alone: None,
        },
        Case {
            id: "H10 exact",
            corefile: h10.clone(),
            name: "a.example.com.",
            qtype: RecordType::A,
            with_next: Some(answer(&["a.example.com. 3600 A 10.0.0.11"])),
            alone: None,
        },
        Case {
            id: "H10 two labels",
            corefile: h10.clone(),
            name: "x.y.example.com.",
            qtype: RecordType::A,
            with_next: Some(Seen::Next),
            alone: None,
        },
        Case {
            id: "H10 apex",
            corefile: h10.clone(),
            name: "example.com.",
            qtype: RecordType::A,
            with_next: Some(Seen::Next),
            alone: None,
        },
        Case {
            id: "H12 out of zone",
            corefile: format!(
                "hosts {NO_FILE} example.org {{\n10.0.0.1 a.example.org\n10.0.0.2 b.example.net\n}}"
            ),
            name: "b.example.net.",
            qtype: RecordType::A,
            with_next: Some(Seen::Next),
            alone: Some(servfail()),
        },
        Case {
            id: "H12 PTR",
            corefile: format!(
                "hosts {NO_FILE} example.org {{\n10.0.0.1 a.example.org\n10.0.0.2 b.example.net\n}}"
            ),
            name: "2.0.0.10.in-addr.arpa.",
            qtype: RecordType::PTR,
            with_next: Some(Seen::Next),
            alone: Some(servfail()),
        },
        // PTR works outside the hosts zones.
        Case {
            id: "H12 PTR in data",
            corefile: format!("hosts {NO_FILE} example.org {{\n10.0.0.1 a.example.org\n}}"),
            name: "1.0.0.10.in-addr.arpa.",
            qtype: RecordType::PTR,
            with_next: Some(answer(&["1.0.0.10.in-addr.arpa. 3600 PTR a.example.org."])),
            alone: None,
        },
        Case {
            id: "H14",
            corefile: format!("hosts {NO_FILE} {{\n10.0.0.1 a.example\nno_reverse\n}}"),
            name: "1.0.0.10.in-addr.arpa.",
            qtype: RecordType::PTR,
            with_next: Some(Seen::Next),
            alone: Some(servfail()),
        },
        // fallthrough with zones: only names inside them go on.
        Case {
            id: "fallthrough zones",
            corefile: format!(
                "hosts {NO_FILE} {{\n10.0.0.1 a.example\nfallthrough example.net\n}}"
            ),
            name: "b.example.org.",
            qtype: RecordType::A,
            with_next: Some(servfail()),
            alone: None,
        },
        Case {
            id: "ttl",
            corefile: format!(
                "hosts {NO_FILE} {{\n10.0.0.1 a.example\n10.0.0.2 a.example\nttl 60\n}}"
            ),
            name: "A.example.",
            qtype: RecordType::A,
            with_next: Some(answer(&[
                "a.example. 60 A 10.0.0.1",
                "a.example. 60 A 10.0.0.2",
            ])),
            alone: None,
        },
    ];
    for case in cases {
        let (plugin, _t) = build(&case.corefile, &["."]);
        let req = query(case.name, case.qtype).build();
        if let Some(want) = &case.with_next {
            assert_eq!(&ask(&plugin, &req).await, want, "{} with next", case.id);
        }
        if let Some(want) = &case.alone {
            assert_eq!(&ask_alone(&plugin, &req).await, want, "{} alone", case.id);
        }
    }
}

/// plugins-resolution.md §10.3 (V1), the hosts part: known name answered, other types NODATA
/// and not passed on, PTR generated, every unknown name handed to the next plugin.
#[tokio::test]
async fn v1_hosts_with_fallthrough() {
    // `hosts { 172.16.0.3 webservice1.com; fallthrough }`.
    let (plugin, _t) = build(
        &format!("hosts {NO_FILE} {{\n172.16.0.3 webservice1.com\nfallthrough\n}}"),
        &["."],
    );
    let a = query("webservice1.com.", RecordType::A).build();
    assert_eq!(
        ask(&plugin, &a).await,
        answer(&["webservice1.com. 3600 A 172.16.0.3"])
    );
    for qtype in [RecordType::AAAA, RecordType::MX, RecordType::TXT] {
        let req = query("webservice1.com.", qtype).build();
        assert_eq!(ask(&plugin, &req).await, answer(&[]), "{qtype}");
    }
    let ptr = query("3.0.16.172.in-addr.arpa.", RecordType::PTR).build();
    assert_eq!(
        ask(&plugin, &ptr).await,
        answer(&["3.0.16.172.in-addr.arpa. 3600 PTR webservice1.com."])
    );
    for name in ["web-service.cluster.local.", "www.example.com."] {
        let req = query(name, RecordType::A).build();
        assert_eq!(ask(&plugin, &req).await, Seen::Next, "{name}");
    }
}

static TEMP: AtomicUsize = AtomicUsize::new(0);

/// A fresh path in the temp dir (removed by the test).
fn temp_path() -> PathBuf {
    let n = TEMP.fetch_add(1, Ordering::SeqCst);
    std::env::temp_dir().join(format!("clusterdns-hosts-{}-{n}", std::process::id()))
}

/// Writes `text` and moves the modification time forward, so the change is seen even when
/// two writes fall within the file system's timestamp granularity.
fn write(path: &PathBuf, text: &str, generation: u64) {
    std::fs::write(path, text).unwrap();
    let file = std::fs::File::options().write(true).open(path).unwrap();
    let when = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + generation * 10);
    file.set_modified(when).unwrap();
}

/// Polls (bounded) until `name` A answers `want`.
async fn wait_for(plugin: &Arc<dyn Plugin>, name: &str, want: &Seen) {
    let req = query(name, RecordType::A).build();
    let mut last = ask_alone(plugin, &req).await;
    for _ in 0..200 {
        if &last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        last = ask_alone(plugin, &req).await;
    }
    panic!("never saw {want:?}; last {last:?}");
}

#[tokio::test]
async fn h11_reload_follows_changes_and_keeps_data_of_a_deleted_file() {
    let path = temp_path();
    write(&path, "10.0.0.1 a.example\n", 1);
    let (plugin, t) = build(
        &format!("hosts {} {{\nttl 60\nreload 10ms\n}}", path.display()),
        &["."],
    );
    let req = query("a.example.", RecordType::A).build();
    assert_eq!(
        ask_alone(&plugin, &req).await,
        answer(&["a.example. 60 A 10.0.0.1"])
    );
    write(&path, "10.0.0.22 a.example\n", 2);
    wait_for(
        &plugin,
        "a.example.",
        &answer(&["a.example. 60 A 10.0.0.22"]),
    )
    .await;
    std::fs::remove_file(&path).unwrap();
    // Give the task several rounds to (not) drop anything: a later change must still be seen,
    // so recreate the file with new data and wait for it; before that the old answer stays.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            ask_alone(&plugin, &req).await,
            answer(&["a.example. 60 A 10.0.0.22"])
        );
    }
    write(&path, "10.0.0.33 a.example\n", 3);
    wait_for(
        &plugin,
        "a.example.",
        &answer(&["a.example. 60 A 10.0.0.33"]),
    )
    .await;
    t.services.tasks.stop().await;
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn metrics_follow_the_file() {
    let path = temp_path();
    write(&path, "10.0.0.1 a.example b.example\n::1 a.example\n", 4);
    let hub = Arc::new(MetricsHub::new());
    register_metrics(&hub);
    // Label-less and registered at start: exported as 0 before any parse.
    let text = hub.encode_text().unwrap();
    assert!(
        text.contains("coredns_hosts_reload_timestamp_seconds 0"),
        "{text}"
    );
    assert!(!text.contains("coredns_hosts_entries{"), "{text}");

    let mut t = TestBlock::new(&["."]);
    t.services.metrics = hub.clone();
    t.setup(
        &format!(
            "hosts {} {{\n10.0.0.9 c.example\nno_reverse\n}}",
            path.display()
        ),
        setup,
    )
    .unwrap();
    let text = hub.encode_text().unwrap();
    // File: 3 addresses; inline: 1 (no PTR data with no_reverse).
    let entries = format!(
        "coredns_hosts_entries{{hostsfile=\"{}\"}} 4",
        path.display()
    );
    assert!(text.contains(&entries), "{text}");
    assert!(
        text.contains("coredns_hosts_reload_timestamp_seconds 1700000040"),
        "{text}"
    );
    t.services.tasks.stop().await;
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn no_entries_metric_without_a_file() {
    let hub = Arc::new(MetricsHub::new());
    let mut t = TestBlock::new(&["."]);
    t.services.metrics = hub.clone();
    t.setup(
        &format!("hosts {NO_FILE} {{\n10.0.0.9 c.example\n}}"),
        setup,
    )
    .unwrap();
    let text = hub.encode_text().unwrap();
    assert!(!text.contains("coredns_hosts_entries{"), "{text}");
    t.services.tasks.stop().await;
}

#[test]
fn fuzz_entry_survives_garbage() {
    for data in [
        &b""[..],
        b"\xff\xfe\n\x00 \x00",
        b"10.0.0.1 *. * *.* .. a..b \\. x\\.y",
        b"::ffff:1.2.3.4%zone%more m",
        b"1.2.3.4 a.b\n1.2.3.4 *.b\n1.2.3.4 A.B\n",
    ] {
        fuzz_hosts_file(data);
    }
    let long = "a.".repeat(200);
    fuzz_hosts_file(format!("10.0.0.1 {long}\n10.0.0.1 *.{long}").as_bytes());
}

/// Every `hosts` stanza of the README's corefile examples parses (the whole examples are
/// built by the server's `readme_examples` integration test).
#[test]
fn readme_examples_parse() {
    let examples = test_util::readme_examples(include_str!("../README.md"), "hosts");
    for example in &examples {
        let text = &example.stanza;
        parse(&mut test_util::dispenser(text), &[".".to_string()])
            .unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    assert!(examples.len() >= 4, "{}", examples.len());
}
