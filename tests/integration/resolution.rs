//! Resolution end to end: the real binary in front of scripted upstreams on 127.0.0.1
//! (tests/fake-upstream). The Kubernetes Corefile variants of plugins-resolution.md §10 (V1
//! hosts, V2 forward to an address, V3 rewrite), the §9 cases of rewrite, template and cache
//! that involve forward, forward's cases that only show through a whole server, and the
//! forward/cache metrics of metrics.md §5.
//!
//! Silent upstreams use `read_timeout 250ms` instead of the default 2 s: the behaviour (two
//! failed attempts, then SERVFAIL; §1.5, §1.8) is the same, the suite just waits less.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use fake_upstream::{Action, Proto, Seen, replies};
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::rdata::{A, AAAA, CNAME};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::harness::*;

/// The name `Server::start` asks until the server answers; scripts answer it so a server in
/// front of a silent upstream still comes up.
const ALIVE_PROBE: &str = "alive.probe.";

/// A fake upstream on its own runtime, alive as long as this value.
/// A local fake upstream with the scripts these tests share.
struct Upstream {
    fake: LocalUpstream,
}

impl Upstream {
    fn start(script: impl Fn(&Seen) -> Action + Send + Sync + 'static) -> Upstream {
        Upstream {
            fake: LocalUpstream::start(script),
        }
    }

    /// Answers every A query with `ip` (TTL `ttl`, owner as asked), other types NODATA.
    fn echo_a(ttl: u32, ip: [u8; 4]) -> Upstream {
        Upstream::start(replies::echo_a(ttl, ip.into()))
    }

    /// Never answers, except the server's startup probe.
    fn black_hole() -> Upstream {
        Upstream::start(|seen| {
            if seen.asks(ALIVE_PROBE, RecordType::A) {
                Action::Reply(replies::answer_a(&seen.message, 60, [192, 0, 2, 99].into()))
            } else {
                Action::Drop
            }
        })
    }

    fn addr(&self) -> String {
        self.fake.addr().to_string()
    }

    /// How many queries for `name` (any case) and `qtype` it received.
    fn asked(&self, name: &str, qtype: RecordType) -> usize {
        self.fake
            .seen()
            .iter()
            .filter(|s| s.asks(name, qtype))
            .count()
    }

    /// How many queries for `name` (any case, any type) it received.
    fn asked_any_type(&self, name: &str) -> usize {
        let name = Name::from_ascii(name).unwrap();
        self.fake
            .seen()
            .iter()
            .filter(|s| s.question().is_some_and(|q| q.name() == &name))
            .count()
    }

    /// The names of the `qtype` queries it received, spelled as received, without the
    /// server's startup probe.
    fn names(&self, qtype: RecordType) -> Vec<String> {
        self.fake
            .seen()
            .iter()
            .filter_map(|s| s.question())
            .filter(|q| q.query_type() == qtype)
            .map(|q| q.name().to_string())
            .filter(|n| !n.eq_ignore_ascii_case(ALIVE_PROBE))
            .collect()
    }
}

// ------------------------------------------------------------------------- small helpers

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn question(m: &Message) -> String {
    m.queries[0].name().to_string()
}

fn owners(m: &Message) -> Vec<String> {
    m.answers.iter().map(|r| r.name.to_string()).collect()
}

fn ipv4s(m: &Message) -> BTreeSet<Ipv4Addr> {
    m.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect()
}

fn a_record(owner: &str, ttl: u32, ip: [u8; 4]) -> Record {
    Record::from_rdata(name(owner), ttl, RData::A(A(ip.into())))
}

fn cname_record(owner: &str, ttl: u32, target: &str) -> Record {
    Record::from_rdata(name(owner), ttl, RData::CNAME(CNAME(name(target))))
}

/// A free 127.0.0.1 port for a `prometheus` endpoint.
fn metrics_addr() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// The `/metrics` text, waiting for the endpoint to come up.
fn scrape(addr: &str) -> String {
    let mut body = None;
    assert!(
        wait_until(|| {
            body = http_get(addr, "/metrics")
                .filter(|(status, _)| *status == 200)
                .map(|(_, text)| text);
            body.is_some()
        }),
        "no /metrics on {addr}"
    );
    body.unwrap_or_default()
}

/// A series' value, 0 when it does not exist yet (labelled families appear on first use).
fn metric(text: &str, metric_name: &str, labels: &[(&str, &str)]) -> f64 {
    metric_value(text, metric_name, labels).unwrap_or(0.0)
}

// --------------------------------------------- §10: the Kubernetes Corefile and its variants

const WEBSERVICE1_IP: Ipv4Addr = Ipv4Addr::new(172, 16, 0, 3);
const WEB_SERVICE_CLUSTER_IP: Ipv4Addr = Ipv4Addr::new(10, 96, 0, 50);
const OUTSIDE: [[u8; 4]; 4] = [
    [192, 0, 2, 1],
    [192, 0, 2, 2],
    [192, 0, 2, 3],
    [192, 0, 2, 4],
];

/// A cluster with the namespace `default` and the ClusterIP Service `web-service` in it, as
/// `kubectl get -o json` prints them (the `manifests` option reads it instead of an API).
fn write_cluster_manifest(dir: &std::path::Path) -> String {
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "web-service", "namespace": "default"},
         "spec": {"type": "ClusterIP", "clusterIP": WEB_SERVICE_CLUSTER_IP.to_string(),
                  "clusterIPs": [WEB_SERVICE_CLUSTER_IP.to_string()],
                  "ports": [{"name": "http", "protocol": "TCP", "port": 80}]}}
    ]});
    let path = dir.join("cluster.json");
    std::fs::write(&path, serde_json::to_string_pretty(&list).unwrap()).unwrap();
    path.display().to_string()
}

/// The outside world: `www.example.com.` is a CNAME to four addresses (TTL 300, AA=0),
/// `webservice1.com.` has one address (for the variant without hosts), every other name is
/// NXDOMAIN with the parent's SOA.
fn outside_world(seen: &Seen) -> Action {
    let query = &seen.message;
    let asked = seen
        .question()
        .map(|q| q.name().to_string())
        .unwrap_or_default();
    let asked_type = seen.question().map(|q| q.query_type());
    if seen.asks("www.example.com.", RecordType::A) {
        let mut reply = replies::reply(query);
        reply.add_answer(cname_record(&asked, 300, "edge.example.net."));
        for ip in OUTSIDE {
            reply.add_answer(a_record("edge.example.net.", 300, ip));
        }
        Action::Reply(reply)
    } else if seen.asks("webservice1.com.", RecordType::A) {
        Action::Reply(replies::answer_a(query, 300, [203, 0, 113, 10].into()))
    } else if seen.asks(ALIVE_PROBE, RecordType::A) {
        Action::Reply(replies::answer_a(query, 60, [192, 0, 2, 99].into()))
    } else if asked_type == Some(RecordType::HINFO) {
        // loop's startup probe (§10.1): any answer ends detection.
        Action::Reply(replies::with_rcode(query, ResponseCode::NXDomain))
    } else {
        Action::Reply(replies::nxdomain_with_soa(query, 3600, 60))
    }
}

/// The §10 block (health, ready and reload left out: they are not in the query path, §10.1)
/// with `forward` to `upstream` instead of resolv.conf (V2), cluster.local from a manifest,
/// a `prometheus` endpoint on `metrics`, and `extra` directives (the variant's lines).
/// The §10 block with `extra` lines, its outside world and cluster manifest: what the
/// variant tests start from. The manifest's folder lives as long as the server reads it.
struct Variant {
    upstream: Upstream,
    server: Server,
    metrics: String,
    _dir: TempDir,
}

impl Variant {
    fn start(name: &str, extra: &str) -> Variant {
        let upstream = Upstream::start(outside_world);
        let dir = temp_dir(name);
        let manifest = write_cluster_manifest(&dir);
        let metrics = metrics_addr();
        let server = Server::start(&kubernetes_corefile(
            &manifest,
            &upstream.addr(),
            &metrics,
            extra,
        ));
        Variant {
            upstream,
            server,
            metrics,
            _dir: dir,
        }
    }
}

fn kubernetes_corefile(manifest: &str, upstream: &str, metrics: &str, extra: &str) -> String {
    format!(
        ".:PORT {{
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        manifests {manifest}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    prometheus {metrics}
    forward . {upstream}
    cache 30
    loop
    loadbalance
{extra}}}
"
    )
}

const HOSTS_LINES: &str = "    hosts {
        172.16.0.3 webservice1.com
        fallthrough
    }
";

const REWRITE_LINE: &str = "    rewrite name web-service.cluster.local webservice1.com\n";

/// The IPv4 addresses /etc/hosts gives `localhost` (hosts without a FILE reads it, §10.3).
fn etc_hosts_localhost() -> BTreeSet<Ipv4Addr> {
    let text = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    text.lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let ip: IpAddr = fields.next()?.parse().ok()?;
            let names: Vec<&str> = fields.collect();
            let is_localhost = names
                .iter()
                .any(|n| n.trim_end_matches('.').eq_ignore_ascii_case("localhost"));
            match ip {
                IpAddr::V4(v4) if is_localhost => Some(v4),
                _ => None,
            }
        })
        .collect()
}

/// The success-cache hits so far (metrics.md §5, cache). The loop probe only ever misses, so
/// this counter moves with this test's own queries alone.
fn success_hits(metrics: &str, server: &Server) -> f64 {
    let server_label = format!("dns://:{}", server.port);
    metric(
        &scrape(metrics),
        "coredns_cache_hits_total",
        &[
            ("server", &server_label),
            ("type", "success"),
            ("zones", "."),
            ("view", ""),
        ],
    )
}

#[test]
fn v1_hosts_pins_webservice1_and_every_other_name_falls_through() {
    let Variant {
        upstream,
        server,
        metrics,
        _dir,
    } = Variant::start("v1", HOSTS_LINES);

    // webservice1.com. A: from hosts, TTL 3600 capped to 30 by `cache 30`, AA=1, RA=0.
    let first = server.udp("webservice1.com.", RecordType::A);
    assert_eq!(rcode(&first), ResponseCode::NoError, "{first}");
    assert!(first.metadata.authoritative, "{first}");
    assert!(!first.metadata.recursion_available, "{first}");
    assert_eq!(
        first.answers,
        [a_record("webservice1.com.", 30, [172, 16, 0, 3])]
    );
    // Hits within 30 s count down (§2.4): one whole second later the TTL is lower.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let later = server.udp("webservice1.com.", RecordType::A);
    assert!(later.metadata.authoritative, "{later}");
    assert_eq!(ipv4s(&later), [WEBSERVICE1_IP].into());
    assert!((1..30).contains(&later.answers[0].ttl), "{later}");
    // Any case finds the entry (§3.5); the question keeps the client's spelling, the owner
    // is the lower-cased name hosts produced (§0.3).
    let mixed = server.udp("WebService1.COM.", RecordType::A);
    assert_eq!(question(&mixed), "WebService1.COM.");
    assert_eq!(owners(&mixed), ["webservice1.com."]);
    assert_eq!(ipv4s(&mixed), [WEBSERVICE1_IP].into());

    // Other types of a name hosts knows: NODATA, AA=1, no SOA, cached (5 s), not forwarded.
    for qtype in [RecordType::AAAA, RecordType::MX, RecordType::TXT] {
        let hits_before = success_hits(&metrics, &server);
        for _ in 0..2 {
            let reply = server.udp("webservice1.com.", qtype);
            assert_eq!(rcode(&reply), ResponseCode::NoError, "{qtype}: {reply}");
            assert!(reply.metadata.authoritative, "{qtype}: {reply}");
            assert!(reply.answers.is_empty(), "{qtype}: {reply}");
            assert!(reply.authorities.is_empty(), "no SOA: {reply}");
        }
        assert_eq!(
            success_hits(&metrics, &server) - hits_before,
            1.0,
            "{qtype}: the second NODATA is a cache hit"
        );
    }

    // The PTR hosts builds for its entry (TTL 30 through the cache), ahead of kubernetes.
    let ptr = server.udp("3.0.16.172.in-addr.arpa.", RecordType::PTR);
    assert_eq!(rcode(&ptr), ResponseCode::NoError, "{ptr}");
    assert_eq!(ptr.answers.len(), 1, "{ptr}");
    assert_eq!(ptr.answers[0].ttl, 30);
    match &ptr.answers[0].data {
        RData::PTR(target) => assert_eq!(target.0.to_string(), "webservice1.com."),
        other => panic!("not a PTR: {other:?}"),
    }

    // web-service.cluster.local.: hosts does not know it → kubernetes: NXDOMAIN with the
    // cluster's SOA (TTL 5), never forwarded.
    let nx = server.udp("web-service.cluster.local.", RecordType::A);
    assert_eq!(rcode(&nx), ResponseCode::NXDomain, "{nx}");
    assert!(nx.metadata.authoritative, "{nx}");
    assert_eq!(nx.authorities.len(), 1, "{nx}");
    let soa_record = &nx.authorities[0];
    assert_eq!(soa_record.name.to_string(), "cluster.local.");
    assert_eq!(soa_record.ttl, 5);
    match &soa_record.data {
        RData::SOA(soa) => {
            assert_eq!(soa.mname.to_string(), "ns.dns.cluster.local.");
            assert_eq!(soa.rname.to_string(), "hostmaster.cluster.local.");
        }
        other => panic!("not an SOA: {other:?}"),
    }

    // An external name: hosts miss → kubernetes (out of zone) → forward. TTLs capped to 30,
    // AA as the upstream said on the miss, AA=1 on hits; the CNAME first and the addresses
    // shuffled by loadbalance; the upstream asked once.
    let external = server.udp("www.example.com.", RecordType::A);
    assert_eq!(rcode(&external), ResponseCode::NoError, "{external}");
    assert!(!external.metadata.authoritative, "{external}");
    assert_eq!(external.answers.len(), 5, "{external}");
    assert!(external.answers.iter().all(|r| r.ttl == 30), "{external}");
    let mut leaders = BTreeSet::new();
    for _ in 0..30 {
        let hit = server.udp("www.example.com.", RecordType::A);
        assert!(hit.metadata.authoritative, "{hit}");
        assert_eq!(hit.answers[0].record_type(), RecordType::CNAME, "{hit}");
        assert_eq!(ipv4s(&hit), OUTSIDE.map(Ipv4Addr::from).into());
        if let RData::A(a) = &hit.answers[1].data {
            leaders.insert(a.0);
        }
    }
    assert!(leaders.len() > 1, "loadbalance shuffles: {leaders:?}");
    assert_eq!(upstream.asked("www.example.com.", RecordType::A), 1);

    // localhost. A: answered from /etc/hosts, which hosts reads when given no FILE.
    let localhost = etc_hosts_localhost();
    let reply = server.udp("localhost.", RecordType::A);
    if localhost.is_empty() {
        assert_eq!(upstream.asked("localhost.", RecordType::A), 1, "{reply}");
    } else {
        assert_eq!(rcode(&reply), ResponseCode::NoError, "{reply}");
        assert!(reply.metadata.authoritative, "{reply}");
        assert_eq!(ipv4s(&reply), localhost, "{reply}");
        assert_eq!(upstream.asked_any_type("localhost."), 0);
    }

    // Names hosts or kubernetes answered never reached the upstream.
    assert_eq!(upstream.asked_any_type("webservice1.com."), 0);
    assert_eq!(upstream.asked_any_type("web-service.cluster.local."), 0);
    assert_eq!(upstream.asked_any_type("3.0.16.172.in-addr.arpa."), 0);
}

#[test]
fn v1_without_fallthrough_hosts_answers_servfail_for_every_other_name() {
    // §10.3: cluster names and external names alike, none of them forwarded.
    let Variant {
        upstream,
        server,
        metrics: _,
        _dir,
    } = Variant::start(
        "v1-no-fallthrough",
        "    hosts {\n        172.16.0.3 webservice1.com\n    }\n",
    );
    assert_eq!(
        ipv4s(&server.udp("webservice1.com.", RecordType::A)),
        [WEBSERVICE1_IP].into()
    );
    for name in ["web-service.default.svc.cluster.local.", "www.example.com."] {
        let reply = server.udp(name, RecordType::A);
        assert_eq!(rcode(&reply), ResponseCode::ServFail, "{name}: {reply}");
        assert_eq!(upstream.asked_any_type(name), 0, "{name}");
    }
}

#[test]
fn v1_fallthrough_before_the_entries_is_a_corefile_error() {
    let stderr = crate::startup_errors::start_error(
        ".:PORT {\n    hosts {\n        fallthrough\n        172.16.0.3 webservice1.com\n    }\n}\n",
    );
    assert!(stderr.contains("unknown property"), "{stderr}");
}

#[test]
fn v2_external_names_go_to_the_upstream_address_over_the_clients_transport() {
    let Variant {
        upstream,
        server,
        metrics: _,
        _dir,
    } = Variant::start("v2", HOSTS_LINES);

    // Unchanged from V1: hosts and kubernetes answer, forward is never reached.
    assert_eq!(
        ipv4s(&server.udp("webservice1.com.", RecordType::A)),
        [WEBSERVICE1_IP].into()
    );
    assert_eq!(
        rcode(&server.udp("web-service.cluster.local.", RecordType::A)),
        ResponseCode::NXDomain
    );

    // A TCP client: forward asks over TCP; TTLs capped at 30; the answer is cached, so a
    // UDP client gets it without another upstream query.
    let over_tcp = server.tcp("www.example.com.", RecordType::A);
    assert_eq!(rcode(&over_tcp), ResponseCode::NoError, "{over_tcp}");
    assert_eq!(ipv4s(&over_tcp), OUTSIDE.map(Ipv4Addr::from).into());
    assert!(over_tcp.answers.iter().all(|r| r.ttl == 30), "{over_tcp}");
    let over_udp = server.udp("www.example.com.", RecordType::A);
    assert_eq!(ipv4s(&over_udp), OUTSIDE.map(Ipv4Addr::from).into());
    assert!(over_udp.metadata.authoritative, "a cache hit: {over_udp}");
    let www: Vec<Proto> = upstream
        .fake
        .seen()
        .iter()
        .filter(|s| s.asks("www.example.com.", RecordType::A))
        .map(|s| s.proto)
        .collect();
    assert_eq!(www, [Proto::Tcp]);

    // A UDP client: forward asks over UDP. An NXDOMAIN with an SOA is cached too (≤ 30 s).
    let nx = server.udp("nothing.example.com.", RecordType::A);
    assert_eq!(rcode(&nx), ResponseCode::NXDomain, "{nx}");
    assert_eq!(nx.authorities.len(), 1, "{nx}");
    assert_eq!(nx.authorities[0].ttl, 30, "{nx}");
    let again = server.udp("nothing.example.com.", RecordType::A);
    assert_eq!(rcode(&again), ResponseCode::NXDomain, "{again}");
    let nothing: Vec<Proto> = upstream
        .fake
        .seen()
        .iter()
        .filter(|s| s.asks("nothing.example.com.", RecordType::A))
        .map(|s| s.proto)
        .collect();
    assert_eq!(nothing, [Proto::Udp]);
}

#[test]
fn v2_a_second_forward_line_for_the_same_zone_is_never_reached() {
    // §10.4: the forward line written first takes every query; the second is only reached
    // through `next`/`next_on_nodata` (F15 below).
    let first = Upstream::echo_a(60, [192, 0, 2, 1]);
    let second = Upstream::echo_a(60, [192, 0, 2, 2]);
    let server = Server::start(&format!(
        ".:PORT {{\n    forward . {}\n    forward . {}\n}}\n",
        first.addr(),
        second.addr()
    ));
    for name in ["a.example.", "b.example.", "c.example."] {
        let reply = server.udp(name, RecordType::A);
        assert_eq!(
            ipv4s(&reply),
            [Ipv4Addr::new(192, 0, 2, 1)].into(),
            "{reply}"
        );
    }
    assert_eq!(first.names(RecordType::A).len(), 3);
    assert_eq!(second.fake.count(), 0, "{:?}", second.fake.seen());
}

#[test]
fn v3_rewrite_serves_web_service_cluster_local_from_the_hosts_entry() {
    let Variant {
        upstream,
        server,
        metrics,
        _dir,
    } = Variant::start("v3", &format!("{HOSTS_LINES}{REWRITE_LINE}"));

    // Rewritten to webservice1.com., answered by hosts, mapped back: the client sees its own
    // name in the question and the answer, TTL 30, AA=1.
    let reply = server.udp("web-service.cluster.local.", RecordType::A);
    assert_eq!(rcode(&reply), ResponseCode::NoError, "{reply}");
    assert!(reply.metadata.authoritative, "{reply}");
    assert_eq!(question(&reply), "web-service.cluster.local.");
    assert_eq!(
        reply.answers,
        [a_record("web-service.cluster.local.", 30, [172, 16, 0, 3])]
    );

    // The question keeps the client's case; the owner is the lower-cased name. The entry
    // stored under webservice1.com./A serves it (a cache hit), and a direct query for
    // webservice1.com. shares it too (§4.8).
    let hits_before = success_hits(&metrics, &server);
    let mixed = server.udp("Web-Service.Cluster.Local.", RecordType::A);
    assert_eq!(question(&mixed), "Web-Service.Cluster.Local.");
    assert_eq!(owners(&mixed), ["web-service.cluster.local."]);
    assert_eq!(ipv4s(&mixed), [WEBSERVICE1_IP].into());
    let direct = server.udp("webservice1.com.", RecordType::A);
    assert_eq!(question(&direct), "webservice1.com.");
    assert_eq!(owners(&direct), ["webservice1.com."]);
    assert_eq!(ipv4s(&direct), [WEBSERVICE1_IP].into());
    assert!((1..=30).contains(&direct.answers[0].ttl), "{direct}");
    assert_eq!(
        success_hits(&metrics, &server) - hits_before,
        2.0,
        "both served from the entry the rewritten query stored"
    );

    // AAAA: rewritten, hosts NODATA, question restored.
    let aaaa = server.udp("web-service.cluster.local.", RecordType::AAAA);
    assert_eq!(rcode(&aaaa), ResponseCode::NoError, "{aaaa}");
    assert!(aaaa.answers.is_empty(), "{aaaa}");
    assert_eq!(question(&aaaa), "web-service.cluster.local.");

    // The exact rule does not touch the Service's real name: kubernetes answers it.
    let svc = server.udp("web-service.default.svc.cluster.local.", RecordType::A);
    assert_eq!(rcode(&svc), ResponseCode::NoError, "{svc}");
    assert_eq!(ipv4s(&svc), [WEB_SERVICE_CLUSTER_IP].into());
    assert_eq!(svc.answers[0].ttl, 5, "kubernetes' TTL 5 under cache 30");

    // A pod in namespace `other` resolving the short name `web-service` with the usual
    // search list: two NXDOMAINs from kubernetes, then the rewritten name.
    for name in [
        "web-service.other.svc.cluster.local.",
        "web-service.svc.cluster.local.",
    ] {
        let nx = server.udp(name, RecordType::A);
        assert_eq!(rcode(&nx), ResponseCode::NXDomain, "{name}: {nx}");
    }
    assert_eq!(
        ipv4s(&server.udp("web-service.cluster.local.", RecordType::A)),
        [WEBSERVICE1_IP].into()
    );

    // External names as in V2.
    let external = server.udp("www.example.com.", RecordType::A);
    assert_eq!(ipv4s(&external), OUTSIDE.map(Ipv4Addr::from).into());
    assert!(external.answers.iter().all(|r| r.ttl == 30), "{external}");

    // Nothing of the cluster names or the pinned name reached the upstream.
    for name in [
        "web-service.cluster.local.",
        "webservice1.com.",
        "web-service.default.svc.cluster.local.",
        "web-service.svc.cluster.local.",
    ] {
        assert_eq!(upstream.asked_any_type(name), 0, "{name}");
    }
}

#[test]
fn v3_without_hosts_the_rewritten_name_is_forwarded_and_mapped_back() {
    // §10.5, last paragraph: base + rewrite. webservice1.com. goes upstream; a positive answer
    // comes back under web-service.cluster.local.; an NXDOMAIN keeps the upstream's SOA owner.
    let Variant {
        upstream,
        server,
        metrics: _,
        _dir,
    } = Variant::start("v3-no-hosts", REWRITE_LINE);

    let reply = server.udp("web-service.cluster.local.", RecordType::A);
    assert_eq!(rcode(&reply), ResponseCode::NoError, "{reply}");
    assert_eq!(question(&reply), "web-service.cluster.local.");
    assert_eq!(
        reply.answers,
        [a_record(
            "web-service.cluster.local.",
            30,
            [203, 0, 113, 10]
        )]
    );
    assert_eq!(upstream.names(RecordType::A), ["webservice1.com."]);

    // The upstream has no AAAA data for it (outside_world: NXDOMAIN, SOA owned by `com.`).
    let nx = server.udp("web-service.cluster.local.", RecordType::AAAA);
    assert_eq!(rcode(&nx), ResponseCode::NXDomain, "{nx}");
    assert_eq!(question(&nx), "web-service.cluster.local.");
    assert_eq!(nx.authorities.len(), 1, "{nx}");
    assert_eq!(nx.authorities[0].name.to_string(), "com.");
    assert_eq!(nx.authorities[0].ttl, 30, "{nx}");
    assert_eq!(upstream.names(RecordType::AAAA), ["webservice1.com."]);
}

// ------------------------------------------------------------------ §9 rewrite through forward

/// `forward . U1` behind `rules`, U1 echoing an A record for any name (§9 rewrite).
fn rewrite_server(rules: &str, upstream: &Upstream) -> Server {
    Server::start(&format!(
        ".:PORT {{\n{rules}\n    forward . {}\n}}\n",
        upstream.addr()
    ))
}

#[test]
fn r1_r2_exact_name_rewrite_restores_question_and_owner() {
    let upstream = Upstream::echo_a(60, [192, 0, 2, 10]);
    let server = rewrite_server("    rewrite name a.example b.example", &upstream);

    let r1 = server.udp("a.example.", RecordType::A);
    assert_eq!(rcode(&r1), ResponseCode::NoError, "{r1}");
    assert_eq!(question(&r1), "a.example.");
    assert_eq!(owners(&r1), ["a.example."]);
    assert_eq!(upstream.names(RecordType::A), ["b.example."]);

    // R2: the client's case stays in the question; the owner is the lower-cased name, and
    // the upstream is asked the lower-cased rewritten name (§4.8).
    let r2 = server.udp("A.Example.", RecordType::A);
    assert_eq!(question(&r2), "A.Example.");
    assert_eq!(owners(&r2), ["a.example."]);
    assert_eq!(upstream.names(RecordType::A), ["b.example.", "b.example."]);
}

#[test]
fn r3_suffix_rewrite_with_answer_auto() {
    let upstream = Upstream::echo_a(60, [192, 0, 2, 10]);
    let server = rewrite_server(
        "    rewrite name suffix .svc.example .svc.internal answer auto",
        &upstream,
    );
    let reply = server.udp("x.svc.example.", RecordType::A);
    assert_eq!(rcode(&reply), ResponseCode::NoError, "{reply}");
    assert_eq!(question(&reply), "x.svc.example.");
    assert_eq!(owners(&reply), ["x.svc.example."]);
    assert_eq!(upstream.names(RecordType::A), ["x.svc.internal."]);
}

#[test]
fn r4_regex_rewrite_with_answer_name_in_block_form() {
    let upstream = Upstream::echo_a(60, [192, 0, 2, 10]);
    let server = rewrite_server(
        r"    rewrite stop {
        name regex (.*)-(west)\.example {1}.{2}.internal
        answer name (.*)\.(west)\.internal {1}-{2}.example
    }",
        &upstream,
    );
    let reply = server.udp("ftp-west.example.", RecordType::A);
    assert_eq!(rcode(&reply), ResponseCode::NoError, "{reply}");
    assert_eq!(question(&reply), "ftp-west.example.");
    assert_eq!(owners(&reply), ["ftp-west.example."]);
    assert_eq!(upstream.names(RecordType::A), ["ftp.west.internal."]);
}

#[test]
fn r6_continue_chains_rules_and_maps_back_through_both() {
    let upstream = Upstream::echo_a(60, [192, 0, 2, 10]);
    let server = rewrite_server(
        "    rewrite continue name a.example b.example\n    rewrite name b.example c.example",
        &upstream,
    );
    let reply = server.udp("a.example.", RecordType::A);
    assert_eq!(rcode(&reply), ResponseCode::NoError, "{reply}");
    assert_eq!(question(&reply), "a.example.");
    assert_eq!(owners(&reply), ["a.example."]);
    assert_eq!(upstream.names(RecordType::A), ["c.example."]);
}

#[test]
fn r11_rcode_rule_turns_forwards_timeout_servfail_into_noerror() {
    // §4.5: the SERVFAIL forward only returns after its attempts failed is rewritten too.
    let upstream = Upstream::black_hole();
    let server = Server::start(&format!(
        ".:PORT {{
    rewrite rcode exact x.example SERVFAIL NOERROR
    forward . {} {{
        read_timeout 250ms
    }}
}}
",
        upstream.addr()
    ));
    let reply = server.udp("x.example.", RecordType::A);
    assert_eq!(rcode(&reply), ResponseCode::NoError, "{reply}");
    assert!(reply.answers.is_empty(), "{reply}");
    assert_eq!(question(&reply), "x.example.");
    assert!(upstream.asked("x.example.", RecordType::A) >= 1);
    // A name the rule does not match keeps forward's SERVFAIL.
    let other = server.udp("y.example.", RecordType::A);
    assert_eq!(rcode(&other), ResponseCode::ServFail, "{other}");
}

#[test]
fn r14_edns0_local_adds_an_opt_upstream_and_the_client_gets_one() {
    let upstream = Upstream::echo_a(60, [192, 0, 2, 10]);
    let server = rewrite_server("    rewrite edns0 local set 0xffee abcd", &upstream);
    let query = query_message("a.example.", RecordType::A, rand_id());
    assert!(query.edns.is_none());
    let reply = udp(server.addr(), &query);
    assert_eq!(rcode(&reply), ResponseCode::NoError, "{reply}");
    assert!(reply.edns.is_some(), "the reply carries an OPT: {reply}");

    let seen = upstream.fake.seen();
    let sent = seen
        .iter()
        .find(|s| s.asks("a.example.", RecordType::A))
        .expect("a.example. reached the upstream");
    let edns = sent.message.edns.as_ref().expect("an OPT was added (§4.6)");
    assert_eq!(edns.max_payload(), 4096);
    assert!(!edns.flags().dnssec_ok);
    let option: Vec<&EdnsOption> = edns
        .options()
        .options
        .iter()
        .filter(|(code, _)| u16::from(*code) == 0xffee)
        .map(|(_, option)| option)
        .collect();
    assert_eq!(option.len(), 1, "{edns:?}");
    match option[0] {
        EdnsOption::Unknown(65518, data) => assert_eq!(data.as_slice(), b"abcd"),
        other => panic!("option 65518: {other:?}"),
    }
}

#[test]
fn r17_cname_target_rewrite_is_resolved_again_through_the_server() {
    let upstream = Upstream::start(|seen| {
        let query = &seen.message;
        if seen.asks("a.example.", RecordType::A) {
            let mut reply = replies::reply(query);
            reply.add_answer(cname_record("a.example.", 60, "t.cdn.example."));
            reply.add_answer(a_record("t.cdn.example.", 60, [1, 1, 1, 1]));
            Action::Reply(reply)
        } else if seen.asks("t.other.example.", RecordType::A) {
            Action::Reply(replies::answer_a(query, 60, [2, 2, 2, 2].into()))
        } else {
            Action::Reply(replies::answer_a(query, 60, [192, 0, 2, 99].into()))
        }
    });
    let server = rewrite_server(
        "    rewrite cname exact t.cdn.example. t.other.example.",
        &upstream,
    );
    let reply = server.udp("a.example.", RecordType::A);
    assert_eq!(rcode(&reply), ResponseCode::NoError, "{reply}");
    assert_eq!(question(&reply), "a.example.");
    assert_eq!(
        reply.answers,
        [
            cname_record("a.example.", 60, "t.other.example."),
            a_record("t.other.example.", 60, [2, 2, 2, 2]),
        ],
        "{reply}"
    );
    // The new target was looked up as a query of its own, through the server to forward.
    assert_eq!(upstream.asked("t.other.example.", RecordType::A), 1);
}

#[test]
fn r18_rewritten_query_and_direct_query_share_one_cache_entry() {
    let upstream = Upstream::echo_a(60, [192, 0, 2, 10]);
    let server = rewrite_server("    rewrite name a.example b.example\n    cache", &upstream);
    let rewritten = server.udp("a.example.", RecordType::A);
    assert_eq!(owners(&rewritten), ["a.example."]);
    let direct = server.udp("b.example.", RecordType::A);
    assert_eq!(rcode(&direct), ResponseCode::NoError, "{direct}");
    assert_eq!(owners(&direct), ["b.example."]);
    assert!(direct.metadata.authoritative, "a cache hit: {direct}");
    assert_eq!(upstream.names(RecordType::A), ["b.example."]);
}

// ------------------------------------------------------- §9 template with cache and forward

#[test]
fn t1_template_nxdomain_is_cached() {
    let metrics = metrics_addr();
    let server = Server::start(&format!(
        r#".:PORT {{
    template ANY ANY invalid {{
        rcode NXDOMAIN
        authority "invalid. 60 {{{{ .Class }}}} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)"
    }}
    cache
    prometheus {metrics}
}}
"#
    ));
    for round in 0..2 {
        let reply = server.udp("x.invalid.", RecordType::A);
        assert_eq!(rcode(&reply), ResponseCode::NXDomain, "{round}: {reply}");
        assert!(reply.metadata.authoritative, "{round}: {reply}");
        assert!(reply.answers.is_empty(), "{reply}");
        assert_eq!(reply.authorities.len(), 1, "{reply}");
        let soa = &reply.authorities[0];
        assert_eq!(soa.name.to_string(), "invalid.");
        assert_eq!(soa.record_type(), RecordType::SOA);
        if round == 0 {
            assert_eq!(soa.ttl, 60);
        } else {
            assert!((1..=60).contains(&soa.ttl), "{reply}");
        }
    }
    let text = scrape(&metrics);
    let server_label = format!("dns://:{}", server.port);
    assert_eq!(
        metric(
            &text,
            "coredns_cache_hits_total",
            &[
                ("server", &server_label),
                ("type", "denial"),
                ("zones", ".")
            ]
        ),
        1.0,
        "the second reply came from the denial cache\n{text}"
    );
    assert_eq!(
        metric(
            &text,
            "coredns_template_matches_total",
            &[("class", "IN"), ("type", "A")]
        ),
        1.0,
        "the template ran once\n{text}"
    );
}

const IP_TEMPLATE: &str = r#"    template IN A example {
        match "^ip-(?P<a>[0-9]+)-(?P<b>[0-9]+)-(?P<c>[0-9]+)-(?P<d>[0-9]+)[.]example[.]$"
        answer "{{ .Name }} 60 IN A {{ .Group.a }}.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
FALLTHROUGH    }
"#;

/// A: 192.0.2.7, AAAA: 2001:db8::7, for any name.
fn a_and_aaaa_upstream() -> Upstream {
    Upstream::start(|seen| {
        let query = &seen.message;
        if seen
            .question()
            .is_some_and(|q| q.query_type() == RecordType::AAAA)
        {
            let mut reply = replies::reply(query);
            let owner = query.queries[0].name().clone();
            let ip = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7);
            reply.add_answer(Record::from_rdata(owner, 60, RData::AAAA(AAAA(ip))));
            Action::Reply(reply)
        } else {
            Action::Reply(replies::answer_a(query, 60, [192, 0, 2, 7].into()))
        }
    })
}

fn ip_template_server(upstream: &Upstream, fallthrough: bool) -> Server {
    let template = IP_TEMPLATE.replace(
        "FALLTHROUGH",
        if fallthrough {
            "        fallthrough\n"
        } else {
            ""
        },
    );
    Server::start(&format!(
        ".:PORT {{\n{template}    forward . {}\n}}\n",
        upstream.addr()
    ))
}

#[test]
fn t2_t3_t4_template_answers_matches_and_passes_other_types_on() {
    let upstream = a_and_aaaa_upstream();
    let server = ip_template_server(&upstream, false);

    // T2: the template's answer, owner lower-cased, question as asked; not forwarded.
    let t2 = server.udp("IP-10-1-2-3.example.", RecordType::A);
    assert_eq!(rcode(&t2), ResponseCode::NoError, "{t2}");
    assert!(t2.metadata.authoritative, "{t2}");
    assert_eq!(question(&t2), "IP-10-1-2-3.example.");
    assert_eq!(
        t2.answers,
        [a_record("ip-10-1-2-3.example.", 60, [10, 1, 2, 3])]
    );
    assert_eq!(upstream.asked_any_type("ip-10-1-2-3.example."), 0);

    // T3: type mismatch passes on to forward even without fallthrough.
    let t3 = server.udp("ip-10-1-2-3.example.", RecordType::AAAA);
    assert_eq!(rcode(&t3), ResponseCode::NoError, "{t3}");
    assert_eq!(t3.answers.len(), 1, "{t3}");
    assert_eq!(
        t3.answers[0].data,
        RData::AAAA(AAAA(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7)))
    );
    assert_eq!(upstream.asked("ip-10-1-2-3.example.", RecordType::AAAA), 1);

    // T4: a regex miss without fallthrough is SERVFAIL, never forwarded.
    let t4 = server.udp("foo.example.", RecordType::A);
    assert_eq!(rcode(&t4), ResponseCode::ServFail, "{t4}");
    assert!(t4.answers.is_empty(), "{t4}");
    assert_eq!(upstream.asked_any_type("foo.example."), 0);
}

#[test]
fn t5_template_regex_miss_with_fallthrough_is_forwarded() {
    let upstream = a_and_aaaa_upstream();
    let server = ip_template_server(&upstream, true);
    let t5 = server.udp("foo.example.", RecordType::A);
    assert_eq!(rcode(&t5), ResponseCode::NoError, "{t5}");
    assert_eq!(t5.answers, [a_record("foo.example.", 60, [192, 0, 2, 7])]);
    assert_eq!(upstream.asked("foo.example.", RecordType::A), 1);
    // A match is still the template's.
    let matched = server.udp("ip-10-1-2-3.example.", RecordType::A);
    assert_eq!(ipv4s(&matched), [Ipv4Addr::new(10, 1, 2, 3)].into());
}

#[test]
fn t7_template_cname_is_followed_by_the_upstreams_addresses() {
    let upstream = Upstream::start(|seen| {
        let query = &seen.message;
        if seen.asks("google.com.", RecordType::A) {
            let mut reply = replies::reply(query);
            reply.add_answer(a_record("google.com.", 300, [142, 250, 0, 1]));
            reply.add_answer(a_record("google.com.", 300, [142, 250, 0, 2]));
            Action::Reply(reply)
        } else {
            Action::Reply(replies::nxdomain_with_soa(query, 3600, 60))
        }
    });
    let server = Server::start(&format!(
        r#".:PORT {{
    template IN ANY foogle.com {{
        match "^foogle\.com\.$"
        answer "foogle.com 60 IN CNAME google.com"
    }}
    forward . {}
}}
"#,
        upstream.addr()
    ));
    let reply = server.udp("foogle.com.", RecordType::A);
    assert_eq!(rcode(&reply), ResponseCode::NoError, "{reply}");
    assert_eq!(reply.answers.len(), 3, "{reply}");
    assert_eq!(
        reply.answers[0],
        cname_record("foogle.com.", 60, "google.com.")
    );
    assert_eq!(owners(&reply)[1..], ["google.com.", "google.com."]);
    assert_eq!(
        ipv4s(&reply),
        [Ipv4Addr::new(142, 250, 0, 1), Ipv4Addr::new(142, 250, 0, 2)].into()
    );
    assert_eq!(upstream.asked("google.com.", RecordType::A), 1);
    assert_eq!(upstream.asked_any_type("foogle.com."), 0);
}

// ---------------------------------------------------------------- §9 cache in front of forward

fn cache_server(cache: &str, forward_block: &str, upstream: &Upstream) -> Server {
    Server::start(&format!(
        ".:PORT {{\n    {cache}\n    forward . {}{forward_block}\n}}\n",
        upstream.addr()
    ))
}

#[test]
fn c1_ttl_capped_then_counting_down_aa_set_on_hits_upstream_hit_once() {
    let upstream = Upstream::echo_a(300, [192, 0, 2, 1]);
    let server = cache_server("cache 30", "", &upstream);
    let first = server.udp("a.example.", RecordType::A);
    assert_eq!(rcode(&first), ResponseCode::NoError, "{first}");
    assert_eq!(first.answers, [a_record("a.example.", 30, [192, 0, 2, 1])]);
    assert!(
        !first.metadata.authoritative,
        "the upstream's AA=0 on the miss"
    );
    assert!(first.metadata.recursion_available);
    // One whole second later the hit shows a lower TTL.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let hit = server.udp("a.example.", RecordType::A);
    assert_eq!(ipv4s(&hit), [Ipv4Addr::new(192, 0, 2, 1)].into());
    assert!((1..30).contains(&hit.answers[0].ttl), "{hit}");
    assert!(hit.metadata.authoritative, "AA=1 on a hit: {hit}");
    assert!(hit.metadata.recursion_available, "RA from the stored reply");
    assert_eq!(upstream.asked("a.example.", RecordType::A), 1);
}

#[test]
fn c7_servfail_relayed_from_the_upstream_is_cached() {
    let upstream = Upstream::start(|seen| {
        if seen.asks(ALIVE_PROBE, RecordType::A) {
            Action::Reply(replies::answer_a(&seen.message, 60, [192, 0, 2, 99].into()))
        } else {
            Action::Reply(replies::with_rcode(&seen.message, ResponseCode::ServFail))
        }
    });
    let server = cache_server("cache", "", &upstream);
    let first = server.udp("a.example.", RecordType::A);
    assert_eq!(rcode(&first), ResponseCode::ServFail, "{first}");
    let second = server.udp("a.example.", RecordType::A);
    assert_eq!(rcode(&second), ResponseCode::ServFail, "{second}");
    assert!(second.metadata.authoritative, "from the cache: {second}");
    assert_eq!(upstream.asked("a.example.", RecordType::A), 1);
}

#[test]
fn c9_forwards_own_servfail_for_a_silent_upstream_is_not_cached() {
    let upstream = Upstream::black_hole();
    let server = cache_server("cache", " {\n        read_timeout 250ms\n    }", &upstream);
    let first = udp(
        server.addr(),
        &query_message("a.example.", RecordType::A, 4242),
    );
    assert_eq!(rcode(&first), ResponseCode::ServFail, "{first}");
    // The server's own error reply (§0.2): ID and question copied, AA=0, RA=0, no records.
    assert_eq!(first.metadata.id, 4242, "{first}");
    assert_eq!(question(&first), "a.example.");
    assert!(!first.metadata.authoritative, "{first}");
    assert!(!first.metadata.recursion_available, "{first}");
    assert!(
        first.answers.is_empty() && first.authorities.is_empty(),
        "{first}"
    );
    let after_first = upstream.asked("a.example.", RecordType::A);
    assert!(after_first >= 1);
    let second = server.udp("a.example.", RecordType::A);
    assert_eq!(rcode(&second), ResponseCode::ServFail, "{second}");
    assert!(!second.metadata.authoritative, "not a cache hit: {second}");
    assert!(
        upstream.asked("a.example.", RecordType::A) > after_first,
        "the second query went upstream again"
    );
}

// ------------------------------------------------------------------------------ §9 forward

#[test]
fn f8_a_reply_to_another_question_is_formerr() {
    let upstream = Upstream::start(|seen| {
        if seen.asks(ALIVE_PROBE, RecordType::A) {
            Action::Reply(replies::answer_a(&seen.message, 60, [192, 0, 2, 99].into()))
        } else {
            Action::Reply(replies::wrong_question(&seen.message, &name("b.example.")))
        }
    });
    let server = Server::start(&format!(
        ".:PORT {{\n    forward . {}\n}}\n",
        upstream.addr()
    ));
    let reply = udp(
        server.addr(),
        &query_message("a.example.", RecordType::A, 4242),
    );
    assert_eq!(rcode(&reply), ResponseCode::FormErr, "{reply}");
    assert_eq!(reply.metadata.id, 4242, "{reply}");
    assert_eq!(reply.metadata.message_type, MessageType::Response);
    assert_eq!(question(&reply), "a.example.");
    assert!(reply.answers.is_empty(), "{reply}");
    assert_eq!(upstream.asked("a.example.", RecordType::A), 1);
}

#[test]
fn f13_failover_servfail_tries_the_next_upstream() {
    let failing = Upstream::start(|seen| {
        Action::Reply(replies::with_rcode(&seen.message, ResponseCode::ServFail))
    });
    let answering = Upstream::echo_a(60, [192, 0, 2, 2]);
    let server = Server::start(&format!(
        ".:PORT {{
    forward . {} {} {{
        policy sequential
        failover SERVFAIL
    }}
}}
",
        failing.addr(),
        answering.addr()
    ));
    let reply = server.udp("a.example.", RecordType::A);
    assert_eq!(rcode(&reply), ResponseCode::NoError, "{reply}");
    assert_eq!(reply.answers, [a_record("a.example.", 60, [192, 0, 2, 2])]);
    assert_eq!(failing.asked("a.example.", RecordType::A), 1);
    assert_eq!(answering.asked("a.example.", RecordType::A), 1);
}

#[test]
fn f15_next_nxdomain_hands_the_query_to_the_following_forward() {
    let first = Upstream::start(|seen| {
        if seen.asks(ALIVE_PROBE, RecordType::A) {
            Action::Reply(replies::answer_a(&seen.message, 60, [192, 0, 2, 99].into()))
        } else {
            Action::Reply(replies::nxdomain_with_soa(&seen.message, 3600, 60))
        }
    });
    let second = Upstream::echo_a(60, [192, 0, 2, 2]);
    let server = Server::start(&format!(
        ".:PORT {{
    forward . {} {{
        next NXDOMAIN
    }}
    forward . {}
}}
",
        first.addr(),
        second.addr()
    ));
    let reply = server.udp("a.example.", RecordType::A);
    assert_eq!(rcode(&reply), ResponseCode::NoError, "{reply}");
    assert_eq!(reply.answers, [a_record("a.example.", 60, [192, 0, 2, 2])]);
    assert_eq!(first.asked("a.example.", RecordType::A), 1);
    assert_eq!(second.asked("a.example.", RecordType::A), 1);
}

#[test]
fn f24_two_forward_lines_split_by_zone() {
    let org = Upstream::echo_a(60, [192, 0, 2, 1]);
    let rest = Upstream::echo_a(60, [192, 0, 2, 2]);
    let server = Server::start(&format!(
        ".:PORT {{\n    forward example.org {}\n    forward . {}\n}}\n",
        org.addr(),
        rest.addr()
    ));
    let in_org = server.udp("www.example.org.", RecordType::A);
    assert_eq!(
        in_org.answers,
        [a_record("www.example.org.", 60, [192, 0, 2, 1])]
    );
    let elsewhere = server.udp("www.example.net.", RecordType::A);
    assert_eq!(
        elsewhere.answers,
        [a_record("www.example.net.", 60, [192, 0, 2, 2])]
    );
    assert_eq!(org.names(RecordType::A), ["www.example.org."]);
    assert_eq!(rest.names(RecordType::A), ["www.example.net."]);
}

#[test]
fn forward_uses_the_clients_transport() {
    // §1.6: a plain upstream without force_tcp/prefer_udp is asked over the transport the
    // client used.
    let upstream = Upstream::echo_a(60, [192, 0, 2, 1]);
    let server = Server::start(&format!(
        ".:PORT {{\n    forward . {}\n}}\n",
        upstream.addr()
    ));
    let over_tcp = server.tcp("tcp.example.", RecordType::A);
    assert_eq!(owners(&over_tcp), ["tcp.example."]);
    let over_udp = server.udp("udp.example.", RecordType::A);
    assert_eq!(owners(&over_udp), ["udp.example."]);
    let protos = |name: &str| -> Vec<Proto> {
        upstream
            .fake
            .seen()
            .iter()
            .filter(|s| s.asks(name, RecordType::A))
            .map(|s| s.proto)
            .collect()
    };
    assert_eq!(protos("tcp.example."), [Proto::Tcp]);
    assert_eq!(protos("udp.example."), [Proto::Udp]);
}

// --------------------------------------------------------------- metrics.md §5: forward, cache

#[test]
fn forward_and_cache_metrics_are_exported_with_the_contracts_labels() {
    let upstream = Upstream::echo_a(60, [192, 0, 2, 1]);
    let metrics = metrics_addr();
    let server = Server::start(&format!(
        ".:PORT {{\n    prometheus {metrics}\n    forward . {}\n    cache\n}}\n",
        upstream.addr()
    ));
    let to = upstream.addr();
    let server_label = format!("dns://:{}", server.port);
    let exchanges = |text: &str| {
        metric(
            text,
            "coredns_proxy_request_duration_seconds_count",
            &[("proxy_name", "forward"), ("to", &to), ("rcode", "NOERROR")],
        )
    };
    let conn = |text: &str, which: &str| {
        metric(
            text,
            which,
            &[("proxy_name", "forward"), ("to", &to), ("proto", "udp")],
        )
    };
    let cache_labels = [
        ("server", server_label.as_str()),
        ("zones", "."),
        ("view", ""),
    ];
    let with_type = |kind: &'static str| {
        let mut labels = cache_labels.to_vec();
        labels.push(("type", kind));
        labels
    };

    // Label-less forward counters exist at 0 from startup (metrics.md §1).
    let before = scrape(&metrics);
    for counter in [
        "coredns_forward_healthcheck_broken_total",
        "coredns_forward_max_concurrent_rejects_total",
    ] {
        assert_eq!(
            metric_value(&before, counter, &[]),
            Some(0.0),
            "{counter}\n{before}"
        );
    }
    // The startup probes' exchanges have all been recorded before the baseline is taken.
    let mut before = before;
    assert!(wait_until(|| {
        before = scrape(&metrics);
        exchanges(&before) == upstream.fake.count() as f64
    }));

    // Two misses, then one hit, over one pooled UDP socket.
    server.udp("m1.example.", RecordType::A);
    server.udp("m2.example.", RecordType::A);
    server.udp("m1.example.", RecordType::A);
    let after = scrape(&metrics);
    let delta = |f: &dyn Fn(&str) -> f64| f(&after) - f(&before);

    assert_eq!(delta(&exchanges), 2.0, "{after}");
    assert_eq!(
        delta(&|t| conn(t, "coredns_proxy_conn_cache_hits_total")),
        2.0,
        "the pooled socket was reused\n{after}"
    );
    assert_eq!(
        delta(&|t| conn(t, "coredns_proxy_conn_cache_misses_total")),
        0.0,
        "{after}"
    );
    assert!(conn(&after, "coredns_proxy_conn_cache_misses_total") >= 1.0);
    assert_eq!(
        delta(&|t| metric(t, "coredns_cache_requests_total", &cache_labels)),
        3.0,
        "{after}"
    );
    assert_eq!(
        delta(&|t| metric(t, "coredns_cache_misses_total", &cache_labels)),
        2.0,
        "{after}"
    );
    assert_eq!(
        delta(&|t| metric(t, "coredns_cache_hits_total", &with_type("success"))),
        1.0,
        "{after}"
    );
    assert_eq!(
        delta(&|t| metric(t, "coredns_cache_entries", &with_type("success"))),
        2.0,
        "{after}"
    );
    assert!(
        metric_value(&after, "coredns_cache_entries", &with_type("denial")).is_some(),
        "both caches' sizes are set together\n{after}"
    );
    for counter in [
        "coredns_forward_healthcheck_broken_total",
        "coredns_forward_max_concurrent_rejects_total",
    ] {
        assert_eq!(metric_value(&after, counter, &[]), Some(0.0), "{counter}");
    }
}
