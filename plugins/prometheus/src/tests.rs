//! The directive's options, and what a scrape shows after queries went through the chain,
//! read back with a strict parser of the text format 0.0.4.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use plugin::http::HttpRole;
use plugin::metrics::MetricsHub;
use plugin::test_util::{Recorder, TestBlock, dispenser, query};
use plugin::{Chain, Error, Failure, Plugin, Reply, Request, Response};

use super::*;

// ---------------------------------------------------------------- text format 0.0.4 parser

#[derive(Clone, Debug, PartialEq)]
struct Sample {
    name: String,
    /// In printed order.
    labels: Labels,
    value: f64,
}

impl Sample {
    fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s.parse().map_err(|_| format!("bad value {s:?}")),
    }
}

type Labels = Vec<(String, String)>;

/// Parses `{k="v",...}` at the start of `s`; returns the labels and the rest.
fn parse_labels(s: &str) -> Result<(Labels, &str), String> {
    let mut rest = s.strip_prefix('{').ok_or("no '{'")?;
    let mut labels = Vec::new();
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let eq = rest.find('=').ok_or("label without '='")?;
        let key = &rest[..eq];
        if !valid_name(key) {
            return Err(format!("bad label name {key:?}"));
        }
        let mut chars = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or("unquoted label value")?
            .char_indices();
        let mut value = String::new();
        let end = loop {
            match chars.next().ok_or("unterminated label value")? {
                (i, '"') => break i,
                (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    'n' => value.push('\n'),
                    c => return Err(format!("bad escape \\{c}")),
                },
                (_, c) => value.push(c),
            }
        };
        labels.push((key.to_string(), value));
        rest = &rest[eq + 1..][1 + end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

/// Every line must be a HELP, a TYPE or a sample of a declared family; no `# EOF`.
fn parse_exposition(text: &str) -> Result<Vec<Sample>, String> {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            let (kind, name, rest) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
            match (kind, name) {
                (Some("HELP"), Some(name)) if valid_name(name) => {}
                (Some("TYPE"), Some(name)) if valid_name(name) => {
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&rest) {
                        return Err(format!("bad type in {line:?}"));
                    }
                    if types.insert(name.to_string(), rest.to_string()).is_some() {
                        return Err(format!("TYPE twice: {line:?}"));
                    }
                }
                _ => return Err(format!("not a 0.0.4 comment: {line:?}")),
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).ok_or(format!("no value: {line:?}"))?;
        let name = &line[..name_end];
        if !valid_name(name) {
            return Err(format!("bad name in {line:?}"));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..]).map_err(|e| format!("{e} in {line:?}"))?
        } else {
            (Vec::new(), &line[name_end..])
        };
        let mut fields = rest
            .strip_prefix(' ')
            .ok_or(format!("no space: {line:?}"))?
            .split(' ');
        let value = parse_value(fields.next().unwrap_or(""))?;
        if let Some(ts) = fields.next() {
            ts.parse::<i64>()
                .map_err(|_| format!("bad timestamp in {line:?}"))?;
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                let base = name.strip_suffix(suffix)?;
                (types.get(base).map(String::as_str) == Some("histogram")).then_some(base)
            })
            .unwrap_or(name);
        if !types.contains_key(family) {
            return Err(format!("sample before its TYPE: {line:?}"));
        }
        samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    Ok(samples)
}

fn scrape(hub: &MetricsHub) -> Vec<Sample> {
    let text = hub.encode_text().unwrap();
    assert!(!text.contains("# EOF"), "0.0.4 has no EOF marker");
    parse_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The samples of `name` whose labels include `want`.
fn find<'s>(samples: &'s [Sample], name: &str, want: &[(&str, &str)]) -> Vec<&'s Sample> {
    samples
        .iter()
        .filter(|s| s.name == name && want.iter().all(|(k, v)| s.label(k) == Some(v)))
        .collect()
}

fn value(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> Option<f64> {
    match find(samples, name, want).as_slice() {
        [one] => Some(one.value),
        [] => None,
        many => panic!("{name} {want:?} matches {many:?}"),
    }
}

#[test]
fn the_parser_rejects_what_prometheus_rejects() {
    let bad = [
        "x 1\n",                                 // no TYPE
        "# TYPE x counter\nx{a=b} 1\n",          // unquoted
        "# TYPE x counter\nx 1\n# EOF\n",        // OpenMetrics marker
        "# TYPE x counter\nx one\n",             // value
        "# TYPE x gauge\n# TYPE x gauge\nx 1\n", // TYPE twice
        "# TYPE x counter\nx{a=\"\\q\"} 1\n",    // escape
    ];
    for text in bad {
        assert!(parse_exposition(text).is_err(), "{text:?}");
    }
    let good = "# HELP x_total Help.\n# TYPE x_total counter\nx_total{a=\"q\\\"\",b=\"\"} 1.5\n";
    let samples = parse_exposition(good).unwrap();
    assert_eq!(samples[0].label("a"), Some("q\""));
    assert_eq!(samples[0].value, 1.5);
}

// ---------------------------------------------------------------- options

fn config(addr: &str, runtime_metrics: bool, tls: Option<&str>) -> PrometheusConfig {
    PrometheusConfig {
        addr: addr.to_string(),
        runtime_metrics,
        tls: tls.map(str::to_string),
    }
}

/// Corefile snippet → config or the error text (without the `plugin/prometheus: ` prefix).
#[test]
fn parses_like_coredns() {
    let cases: &[(&str, Result<PrometheusConfig, &str>)] = &[
        ("prometheus", Ok(config("localhost:9153", false, None))),
        ("prometheus :9153", Ok(config(":9153", false, None))),
        (
            "prometheus [::1]:9153",
            Ok(config("[::1]:9153", false, None)),
        ),
        (
            "prometheus {\nruntime_metrics\n}",
            Ok(config("localhost:9153", true, None)),
        ),
        (
            "prometheus :9153 {\ntls /etc/web.yml\n}",
            Ok(config(":9153", false, Some("/etc/web.yml"))),
        ),
        (
            "prometheus 9153",
            Err("address 9153: missing port in address"),
        ),
        (
            "prometheus :9153 :9154",
            Err(
                "Corefile:1 - Error during parsing: Wrong argument count or unexpected line ending after ':9154'",
            ),
        ),
        (
            "prometheus\nprometheus :9154",
            Err("this plugin can only be used once per Server Block"),
        ),
        (
            "prometheus {\nruntime_metrics yes\n}",
            Err(
                "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'yes'",
            ),
        ),
        (
            "prometheus {\ntls\n}",
            Err(
                "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'tls'",
            ),
        ),
        (
            "prometheus {\ntls a b\n}",
            Err(
                "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'b'",
            ),
        ),
        (
            "prometheus {\ntls a\ntls b\n}",
            Err("Corefile:3 - Error during parsing: tls block already specified"),
        ),
        (
            "prometheus {\nfoo\n}",
            Err("Corefile:2 - Error during parsing: unknown option: foo"),
        ),
    ];
    for (corefile, want) in cases {
        let got = parse(&mut dispenser(corefile)).map_err(|e| e.to_string());
        assert_eq!(got, want.clone().map_err(str::to_string), "{corefile:?}");
    }
}

#[test]
fn a_second_line_is_the_once_error() {
    assert!(matches!(
        parse(&mut dispenser("prometheus\nprometheus")),
        Err(ConfigError::Once)
    ));
}

#[test]
fn setup_declares_route_flag_plugin_and_build_info() {
    let mut t = TestBlock::new(&["example.org."]);
    t.setup("prometheus :9153", setup).unwrap();
    assert!(t.block.metrics);
    assert_eq!(
        t.block.plugins.iter().map(|p| p.name()).collect::<Vec<_>>(),
        ["prometheus"]
    );
    let routes = &t.services.routes;
    assert_eq!(routes.len(), 1);
    assert_eq!(
        (routes[0].addr.as_str(), routes[0].path, routes[0].role),
        (":9153", "/metrics", HttpRole::Metrics)
    );
    let samples = scrape(&t.services.metrics);
    let info = find(&samples, "coredns_build_info", &[]);
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].value, 1.0);
    assert_eq!(info[0].label("version"), Some("1.14.7"));
    assert!(info[0].label("goversion").unwrap().starts_with("rustc "));
    assert!(info[0].label("revision").is_some());
}

#[test]
fn tls_is_parsed_but_not_served() {
    let mut t = TestBlock::new(&["."]);
    t.setup("prometheus :9153 {\ntls /etc/web.yml\n}", setup)
        .unwrap();
    assert!(t.services.routes.is_empty(), "no plain-HTTP fallback");
    assert_eq!(t.block.plugins.len(), 1, "queries are still counted");
}

#[test]
fn unlabelled_families_exist_right_after_registration() {
    let hub = MetricsHub::new();
    register_metrics(&hub);
    let samples = scrape(&hub);
    assert_eq!(value(&samples, "coredns_panics_total", &[]), Some(0.0));
    assert!(find(&samples, "coredns_build_info", &[]).is_empty());
    assert!(find(&samples, "coredns_dns_requests_total", &[]).is_empty());
}

// ---------------------------------------------------------------- recording

/// A block for `zones` with `prometheus` and `next` after it.
fn chain(zones: &[&str], next: Arc<dyn Plugin>) -> (Chain, Arc<MetricsHub>) {
    let mut t = TestBlock::new(zones);
    t.setup("prometheus", setup).unwrap();
    let mut plugins = std::mem::take(&mut t.block.plugins);
    plugins.push(next);
    (Chain::new(plugins), t.services.metrics.clone())
}

async fn run(chain: &Chain, req: &Request) {
    let _ = chain.serve(req).await;
}

const TIME_LE: [&str; 17] = [
    "0.00025", "0.0005", "0.001", "0.002", "0.004", "0.008", "0.016", "0.032", "0.064", "0.128",
    "0.256", "0.512", "1.024", "2.048", "4.096", "8.192", "+Inf",
];
const SIZE_LE: [&str; 15] = [
    "0", "100", "200", "300", "400", "511", "1023", "2047", "4095", "8291", "16000", "32000",
    "48000", "64000", "+Inf",
];

fn le_values(samples: &[Sample], name: &str) -> Vec<String> {
    find(samples, name, &[])
        .iter()
        .map(|s| s.label("le").unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn one_query_records_every_family() {
    let (chain, hub) = chain(&["example.org."], Recorder::new());
    let req = query("www.example.org.", RecordType::A).build();
    run(&chain, &req).await;
    let s = scrape(&hub);

    let zone = [
        ("server", "dns://:53"),
        ("view", ""),
        ("zone", "example.org."),
    ];
    let mut request = zone.to_vec();
    request.extend([("proto", "udp"), ("family", "1"), ("type", "A")]);
    assert_eq!(value(&s, "coredns_dns_requests_total", &request), Some(1.0));

    let mut response = zone.to_vec();
    response.extend([("rcode", "NOERROR"), ("plugin", "recorder")]);
    assert_eq!(
        value(&s, "coredns_dns_responses_total", &response),
        Some(1.0)
    );

    assert_eq!(
        le_values(&s, "coredns_dns_request_duration_seconds_bucket"),
        TIME_LE
    );
    assert_eq!(
        value(&s, "coredns_dns_request_duration_seconds_count", &zone),
        Some(1.0)
    );
    assert_eq!(
        le_values(&s, "coredns_dns_request_size_bytes_bucket"),
        SIZE_LE
    );
    assert_eq!(
        le_values(&s, "coredns_dns_response_size_bytes_bucket"),
        SIZE_LE
    );

    let mut sized = zone.to_vec();
    sized.push(("proto", "udp"));
    assert_eq!(
        value(&s, "coredns_dns_request_size_bytes_sum", &sized),
        Some(req.len() as f64)
    );
    let answer = Response::reply_to(&req, "recorder");
    assert_eq!(
        value(&s, "coredns_dns_response_size_bytes_sum", &sized),
        Some(plugin::wire::uncompressed_len(&req, &answer) as f64)
    );
    // A query of a few dozen bytes lands in the `le="100"` bucket, not in `le="0"`.
    let mut bucket = sized.clone();
    bucket.push(("le", "0"));
    assert_eq!(
        value(&s, "coredns_dns_request_size_bytes_bucket", &bucket),
        Some(0.0)
    );
    bucket.pop();
    bucket.push(("le", "100"));
    assert_eq!(
        value(&s, "coredns_dns_request_size_bytes_bucket", &bucket),
        Some(1.0)
    );

    assert!(
        find(&s, "coredns_dns_do_requests_total", &[]).is_empty(),
        "no DO query yet"
    );
}

#[tokio::test]
async fn labels_print_in_alphabetical_order_with_le_last() {
    let (chain, hub) = chain(&["."], Recorder::new());
    run(&chain, &query("a.", RecordType::A).edns(1232, true).build()).await;
    for sample in scrape(&hub)
        .iter()
        .filter(|s| s.name.starts_with("coredns_dns_"))
    {
        let names: Vec<&str> = sample
            .labels
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| *k != "le")
            .collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "{sample:?}");
        if sample.label("le").is_some() {
            assert_eq!(sample.labels.last().unwrap().0, "le", "{sample:?}");
        }
    }
}

#[tokio::test]
async fn request_labels_follow_the_query() {
    struct Case {
        req: Request,
        zone: &'static str,
        proto: &'static str,
        family: &'static str,
        qtype: &'static str,
    }
    let cases = [
        Case {
            req: query("a.example.org.", RecordType::AAAA).build(),
            zone: "example.org.",
            proto: "udp",
            family: "1",
            qtype: "AAAA",
        },
        Case {
            req: query("a.b.example.org.", RecordType::SRV).tcp().build(),
            zone: "b.example.org.",
            proto: "tcp",
            family: "1",
            qtype: "SRV",
        },
        Case {
            req: query("WWW.Example.ORG.", RecordType::CAA)
                .client("[2001:db8::1]:5353")
                .build(),
            zone: "example.org.",
            proto: "udp",
            family: "2",
            qtype: "other",
        },
        Case {
            req: query("x.example.org.", RecordType::SVCB)
                .client("[::ffff:10.0.0.1]:5353")
                .build(),
            zone: "example.org.",
            proto: "udp",
            family: "1",
            qtype: "SVCB",
        },
        Case {
            req: query("example.com.", RecordType::A).build(),
            zone: ".",
            proto: "udp",
            family: "1",
            qtype: "A",
        },
        Case {
            req: query("badexample.org.", RecordType::A).build(),
            zone: ".",
            proto: "udp",
            family: "1",
            qtype: "A",
        },
    ];
    for case in cases {
        let (chain, hub) = chain(&["example.org.", "b.example.org."], Recorder::new());
        run(&chain, &case.req).await;
        let s = scrape(&hub);
        let want = [
            ("zone", case.zone),
            ("proto", case.proto),
            ("family", case.family),
            ("type", case.qtype),
        ];
        assert_eq!(
            value(&s, "coredns_dns_requests_total", &want),
            Some(1.0),
            "{want:?} in {:?}",
            find(&s, "coredns_dns_requests_total", &[])
        );
    }
}

#[tokio::test]
async fn do_queries_are_counted() {
    let (chain, hub) = chain(&["."], Recorder::new());
    run(&chain, &query("a.", RecordType::A).edns(1232, true).build()).await;
    run(
        &chain,
        &query("a.", RecordType::A).edns(1232, false).build(),
    )
    .await;
    run(&chain, &query("a.", RecordType::A).edns(4096, true).build()).await;
    let s = scrape(&hub);
    assert_eq!(
        value(&s, "coredns_dns_do_requests_total", &[("zone", ".")]),
        Some(2.0)
    );
    assert_eq!(
        value(&s, "coredns_dns_requests_total", &[("zone", ".")]),
        Some(3.0)
    );
}

#[tokio::test]
async fn rcode_and_plugin_labels_follow_the_outcome() {
    let cases: Vec<(Arc<Recorder>, &str, &str, bool)> = vec![
        (
            Recorder::answering(|req| {
                Ok(Response::reply_to(req, "kubernetes").with_rcode(ResponseCode::NXDomain))
            }),
            "NXDOMAIN",
            "kubernetes",
            true,
        ),
        (
            Recorder::answering(|_| {
                Err(Failure::servfail(Error::new(
                    "forward",
                    std::io::Error::other("no healthy proxies"),
                )))
            }),
            "SERVFAIL",
            "",
            false,
        ),
        (
            Recorder::answering(|_| Err(Failure::rcode(ResponseCode::Refused))),
            "REFUSED",
            "",
            false,
        ),
        // Nothing written and not an rcode the core answers: CoreDNS's recorder keeps its
        // initial rcode 0.
        (
            Recorder::answering(|_| Err(Failure::rcode(ResponseCode::NXDomain))),
            "NOERROR",
            "",
            false,
        ),
        (
            Recorder::answering(|req| {
                Ok(Response::reply_to(req, "x").with_rcode(ResponseCode::Unknown(12)))
            }),
            "RCODE12",
            "x",
            true,
        ),
    ];
    for (next, rcode, plugin, written) in cases {
        let (chain, hub) = chain(&["."], next);
        run(&chain, &query("a.", RecordType::A).build()).await;
        let s = scrape(&hub);
        assert_eq!(
            value(
                &s,
                "coredns_dns_responses_total",
                &[("rcode", rcode), ("plugin", plugin)]
            ),
            Some(1.0),
            "{rcode} {plugin:?} in {:?}",
            find(&s, "coredns_dns_responses_total", &[])
        );
        let size = value(&s, "coredns_dns_response_size_bytes_sum", &[]).unwrap();
        assert_eq!(size > 0.0, written, "{rcode}: response size {size}");
    }
}

#[tokio::test]
async fn counts_accumulate_on_the_same_series() {
    let (chain, hub) = chain(&["."], Recorder::new());
    for _ in 0..5 {
        run(&chain, &query("a.", RecordType::A).build()).await;
    }
    run(&chain, &query("a.", RecordType::A).tcp().build()).await;
    let s = scrape(&hub);
    assert_eq!(
        value(&s, "coredns_dns_requests_total", &[("proto", "udp")]),
        Some(5.0)
    );
    assert_eq!(
        value(&s, "coredns_dns_requests_total", &[("proto", "tcp")]),
        Some(1.0)
    );
    assert_eq!(value(&s, "coredns_dns_responses_total", &[]), Some(6.0));
    assert_eq!(
        value(&s, "coredns_dns_request_duration_seconds_count", &[]),
        Some(6.0)
    );
    assert_eq!(
        value(
            &s,
            "coredns_dns_request_size_bytes_count",
            &[("proto", "tcp")]
        ),
        Some(1.0)
    );
}

/// A plugin that answers only after being polled: the reply is a future.
struct Later;

impl Plugin for Later {
    fn name(&self) -> &'static str {
        "forward"
    }

    fn serve<'a>(&'a self, req: &'a Request, _next: plugin::Next<'a>) -> Reply<'a> {
        Reply::pending(async move {
            tokio::task::yield_now().await;
            Ok(Response::reply_to(req, "forward"))
        })
    }
}

#[tokio::test]
async fn pending_replies_are_recorded_when_they_complete() {
    let (chain, hub) = chain(&["."], Arc::new(Later));
    let req = query("a.", RecordType::A).build();
    let reply = chain.serve(&req);
    assert!(!reply.is_ready());
    assert!(
        find(&scrape(&hub), "coredns_dns_requests_total", &[]).is_empty(),
        "not before the outcome"
    );
    let _ = reply.await;
    let s = scrape(&hub);
    assert_eq!(value(&s, "coredns_dns_requests_total", &[]), Some(1.0));
    assert_eq!(
        value(&s, "coredns_dns_responses_total", &[("plugin", "forward")]),
        Some(1.0)
    );
}

#[tokio::test]
async fn ready_replies_stay_ready() {
    let (chain, _hub) = chain(&["."], Recorder::new());
    let req = query("a.", RecordType::A).build();
    assert!(
        chain.serve(&req).is_ready(),
        "no boxing for an answer available now"
    );
}

#[tokio::test]
async fn several_listeners_get_their_own_server_label() {
    let (chain, hub) = chain(&["."], Recorder::new());
    let wire = bytes::Bytes::from(query("a.", RecordType::A).build().wire().to_vec());
    for server in ["dns://:53", "dns://127.0.0.1:1053"] {
        let req = Request::decode(
            wire.clone(),
            "10.0.0.1:1234".parse().unwrap(),
            "127.0.0.1:53".parse().unwrap(),
            plugin::Transport::Udp,
            Arc::from(server),
            std::time::Instant::now(),
        )
        .unwrap();
        run(&chain, &req).await;
    }
    let s = scrape(&hub);
    let servers: BTreeMap<&str, f64> = find(&s, "coredns_dns_requests_total", &[])
        .iter()
        .map(|x| (x.label("server").unwrap(), x.value))
        .collect();
    assert_eq!(
        servers,
        BTreeMap::from([("dns://127.0.0.1:1053", 1.0), ("dns://:53", 1.0)])
    );
}
