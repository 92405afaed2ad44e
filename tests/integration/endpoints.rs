//! `/health`, `/ready` and `/metrics` as a Deployment's probes and a Prometheus scrape see them.

use hickory_proto::rr::RecordType;

use crate::harness::*;

struct Ports {
    health: String,
    ready: String,
    metrics: String,
}

fn ports() -> Ports {
    Ports {
        health: format!("127.0.0.1:{}", free_port()),
        ready: format!("127.0.0.1:{}", free_port()),
        metrics: format!("127.0.0.1:{}", free_port()),
    }
}

fn corefile(p: &Ports) -> String {
    format!(
        ".:PORT {{\n    errors\n    health {}\n    ready {}\n    prometheus {}\n    whoami\n}}\nexample.org:PORT {{\n    whoami\n}}\n",
        p.health, p.ready, p.metrics
    )
}

#[test]
fn health_and_ready_answer_ok() {
    let p = ports();
    let _server = Server::start(&corefile(&p));
    assert_eq!(
        http_get(&p.health, "/health"),
        Some((200, "OK".to_string()))
    );
    assert_eq!(http_get(&p.ready, "/ready"), Some((200, "OK".to_string())));
    // Exact paths only, Go's 404 text.
    assert_eq!(http_get(&p.health, "/health/").map(|r| r.0), Some(404));
    assert_eq!(http_get(&p.health, "/health?x=1").map(|r| r.0), Some(200));
}

#[test]
fn metrics_count_queries_with_coredns_names_and_labels() {
    let p = ports();
    let server = Server::start(&corefile(&p));
    let port = server.port;
    // The harness's start-up probes (A queries) were counted already: compare with a scrape
    // taken before this test's queries.
    let (_, before) = http_get(&p.metrics, "/metrics").expect("metrics endpoint");
    let delta = |text: &str, name: &str, labels: &[(&str, &str)]| {
        metric_value(text, name, labels).unwrap_or(0.0)
            - metric_value(&before, name, labels).unwrap_or(0.0)
    };
    for _ in 0..3 {
        server.udp("www.example.net.", RecordType::AAAA);
    }
    server.tcp("www.example.net.", RecordType::MX);
    // example.org's block has no prometheus: its queries are not counted.
    server.udp("www.example.org.", RecordType::TXT);
    let (status, text) = http_get(&p.metrics, "/metrics").expect("metrics endpoint");
    assert_eq!(status, 200);
    let server_label = format!("dns://:{port}");
    let requests = |proto, qtype| {
        metric_value(
            &text,
            "coredns_dns_requests_total",
            &[
                ("server", &server_label),
                ("zone", "."),
                ("view", ""),
                ("proto", proto),
                ("family", "1"),
                ("type", qtype),
            ],
        )
    };
    assert_eq!(requests("udp", "AAAA"), Some(3.0), "{text}");
    assert_eq!(requests("tcp", "MX"), Some(1.0));
    assert_eq!(requests("udp", "TXT"), None);
    let responses = [("rcode", "NOERROR"), ("plugin", "whoami"), ("zone", ".")];
    assert_eq!(delta(&text, "coredns_dns_responses_total", &responses), 4.0);
    let inf_bucket = [("zone", "."), ("le", "+Inf")];
    assert_eq!(
        delta(
            &text,
            "coredns_dns_request_duration_seconds_bucket",
            &inf_bucket
        ),
        4.0
    );
    assert!(text.contains("le=\"0.00025\""));
    assert!(
        text.contains("le=\"8291.0\"") || text.contains("le=\"8291\""),
        "size buckets"
    );
    assert_eq!(metric_value(&text, "coredns_panics_total", &[]), Some(0.0));
    assert_eq!(
        metric_value(&text, "coredns_reload_failed_total", &[]),
        Some(0.0)
    );
    assert_eq!(
        metric_value(&text, "coredns_health_request_failures_total", &[]),
        Some(0.0)
    );
    assert_eq!(
        metric_value(
            &text,
            "coredns_plugin_enabled",
            &[("name", "whoami"), ("server", &server_label), ("zone", ".")]
        ),
        Some(1.0)
    );
    assert_eq!(
        metric_value(&text, "coredns_plugin_enabled", &[("name", "health")]),
        None
    );
    assert!(metric_value(&text, "coredns_build_info", &[("version", "1.14.7")]).is_some());
    assert!(metric_value(&text, "process_resident_memory_bytes", &[]).unwrap_or(0.0) > 0.0);
}

#[test]
fn refused_queries_are_counted_as_dropped() {
    let p = ports();
    let server = Server::start(&format!(
        "example.org:PORT {{\n    prometheus {}\n    whoami\n}}\n",
        p.metrics
    ));
    let refused = || {
        let (_, text) = http_get(&p.metrics, "/metrics").unwrap();
        let labels = [("zone", "dropped"), ("rcode", "REFUSED"), ("plugin", "")];
        metric_value(&text, "coredns_dns_responses_total", &labels)
    };
    // The harness's start-up probe was refused already; one more query adds one.
    let before = refused().expect("dropped series");
    server.udp("www.example.com.", RecordType::A);
    assert_eq!(refused(), Some(before + 1.0));
}
