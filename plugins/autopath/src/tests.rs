//! Option parsing, the after-block check, and the search walk of kubernetes.md §15 (the logic
//! of T106–T111) with a stub search path and a recording next plugin.

use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{A, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use plugin::search_path::SearchPath;
use plugin::test_util::{TestBlock, dispenser, query};
use plugin::{Chain, Error, Failure, Next, Outcome, Plugin, Reply, Request, Response};

use super::*;

/// A resolv.conf in a fresh temp file, removed on drop.
struct ResolvFile(std::path::PathBuf);

impl ResolvFile {
    fn new(text: &str) -> ResolvFile {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "clusterdns-autopath-{}-{}.conf",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::write(&path, text).unwrap();
        ResolvFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for ResolvFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const RESOLV: &str =
    "nameserver 1.2.3.4\ndomain foo.com\nsearch bar.com Baz.com\noptions ndots:5\n";

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn parses_like_coredns() {
    let file = ResolvFile::new(RESOLV);
    let f = file.path();
    let block = strings(&["cluster.local."]);
    let with_file = |zones: &[&str], plugin: Option<&str>| Config {
        zones: strings(zones),
        plugin: plugin.map(str::to_string),
        search: strings(&["bar.com.", "baz.com.", ""]),
    };
    let cases: Vec<(String, Result<Config, String>)> = vec![
        (
            "autopath @kubernetes".into(),
            Ok(Config {
                zones: block.clone(),
                plugin: Some("kubernetes".into()),
                search: vec![],
            }),
        ),
        (
            "autopath example.org @kubernetes".into(),
            Ok(Config {
                zones: strings(&["example.org."]),
                plugin: Some("kubernetes".into()),
                search: vec![],
            }),
        ),
        (
            "autopath Example.ORG. other.test @kubernetes".into(),
            Ok(Config {
                zones: strings(&["example.org.", "other.test."]),
                plugin: Some("kubernetes".into()),
                search: vec![],
            }),
        ),
        (
            format!("autopath {f}"),
            Ok(with_file(&["cluster.local."], None)),
        ),
        // Later lines win: zones of the last line, the last @PLUGIN, the last file.
        (
            format!("autopath @kubernetes\nautopath example.org {f}"),
            Ok(with_file(&["example.org."], Some("kubernetes"))),
        ),
        (
            "autopath @".into(),
            Ok(Config {
                zones: block.clone(),
                plugin: Some(String::new()),
                search: vec![],
            }),
        ),
        (
            "autopath kubernetes".into(),
            Err(
                r#"failed to parse "kubernetes": open kubernetes: no such file or directory"#
                    .into(),
            ),
        ),
        ("autopath".into(), Err("no resolv-conf specified".into())),
        // CoreDNS reads the `{` as the next directive line, which has no arguments.
        (
            "autopath @kubernetes {\n}".into(),
            Err("no resolv-conf specified".into()),
        ),
    ];
    for (corefile, want) in cases {
        let got = parse(&mut dispenser(&corefile), &block).map_err(|e| e.to_string());
        assert_eq!(got, want, "{corefile:?}");
    }
}

/// A search path that knows one pod (client 10.240.0.1, namespace podns) when `verified`,
/// and answers only in cluster.local. (what kubernetes.md §15 makes the kubernetes plugin do).
struct StubPods {
    verified: bool,
}

impl SearchPath for StubPods {
    fn search_path(&self, req: &Request) -> Option<Vec<String>> {
        if !plugin::zones::is_subdomain("cluster.local.", req.qname_lower()) || !self.verified {
            return None;
        }
        (req.client().ip().to_string() == "10.240.0.1").then(|| {
            strings(&[
                "podns.svc.cluster.local.",
                "svc.cluster.local.",
                "cluster.local.",
                "example.internal.",
                "",
            ])
        })
    }
}

/// What the rest of the chain sees and answers: set K of kubernetes.md §18.1 reduced to what
/// T106–T111 need, plus the self-lookup stub (`google.com. 60 A 142.250.0.1`). Names listed
/// in `errors` fail with a plugin error, names in `unwritten` with an unwritten SERVFAIL.
#[derive(Default)]
struct FakeCluster {
    seen: Mutex<Vec<(String, u16, Option<u16>)>>,
    errors: Vec<&'static str>,
    unwritten: Vec<&'static str>,
}

impl FakeCluster {
    fn seen_names(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.0.clone())
            .collect()
    }
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn soa(zone: &str) -> Record {
    Record::from_rdata(
        name(zone),
        5,
        RData::SOA(SOA::new(
            name(&format!("ns.dns.{zone}")),
            name(&format!("hostmaster.{zone}")),
            1,
            7200,
            1800,
            86400,
            5,
        )),
    )
}

impl Plugin for FakeCluster {
    fn name(&self) -> &'static str {
        "fake"
    }

    fn serve<'a>(&'a self, req: &'a Request, _next: Next<'a>) -> Reply<'a> {
        let qname = req.qname_lower().to_string();
        self.seen
            .lock()
            .unwrap()
            .push((qname.clone(), req.id(), req.edns_udp_size()));
        if self.errors.contains(&qname.as_str()) {
            return Reply::fail(Failure::servfail(Error::new("fake", "boom")));
        }
        if self.unwritten.contains(&qname.as_str()) {
            return Reply::fail(Failure::rcode(ResponseCode::ServFail));
        }
        let mut resp = Response::reply_to(req, "fake");
        let a = |ttl, ip: [u8; 4]| {
            Record::from_rdata(
                req.qname(),
                ttl,
                RData::A(A::from(std::net::Ipv4Addr::from(ip))),
            )
        };
        match (qname.as_str(), req.qtype()) {
            ("svc1.testns.svc.cluster.local.", RecordType::A) => {
                resp.answers = vec![a(5, [10, 0, 0, 1])].into();
            }
            ("svc1.testns.svc.cluster.local.", _) => {
                resp.authorities = vec![soa("cluster.local.")].into();
            }
            ("google.com.", RecordType::A) => resp.answers = vec![a(60, [142, 250, 0, 1])].into(),
            _ => {
                resp.rcode = ResponseCode::NXDomain;
                // The SOA owner tells which try this NXDOMAIN answered.
                let mut soa = soa("cluster.local.");
                soa.name = req.qname();
                resp.authorities = vec![soa].into();
            }
        }
        Reply::answer(resp)
    }
}

struct Setup {
    chain: Chain,
    fake: Arc<FakeCluster>,
    metrics: Arc<AutopathMetrics>,
}

fn autopath_over(fake: FakeCluster, zones: &[&str], search: SearchSource) -> Setup {
    let metrics = Arc::new(plugin::metrics::MetricsHub::new()).get::<AutopathMetrics>();
    let fake = Arc::new(fake);
    let autopath = Autopath::new(strings(zones), search, metrics.clone());
    let chain = Chain::new(vec![Arc::new(autopath), fake.clone()]);
    Setup {
        chain,
        fake,
        metrics,
    }
}

fn pods(verified: bool) -> SearchSource {
    let provider: plugin::extensions::Slot<Arc<dyn SearchPath>> = Default::default();
    let _ = provider.set(Arc::new(StubPods { verified }));
    SearchSource {
        fixed: vec![],
        provider,
    }
}

/// The reply as the client gets it: encoded against the original query.
fn as_sent(req: &Request, outcome: Outcome) -> Message {
    let resp = outcome.expect("a written reply");
    let mut out = Vec::new();
    plugin::wire::encode_reply(req, &resp, &mut out).unwrap();
    Message::from_vec(&out).unwrap()
}

fn answers(message: &Message) -> Vec<String> {
    message.answers.iter().map(|r| r.to_string()).collect()
}

#[tokio::test]
async fn t106_a_service_in_another_namespace_comes_back_behind_a_cname() {
    let s = autopath_over(FakeCluster::default(), &["cluster.local."], pods(true));
    let req = query("svc1.testns.podns.svc.cluster.local.", RecordType::A)
        .edns(1232, false)
        .build();
    let reply = as_sent(&req, s.chain.serve(&req).await);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(
        answers(&reply),
        [
            "svc1.testns.podns.svc.cluster.local. 5 IN CNAME svc1.testns.svc.cluster.local.",
            "svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1",
        ]
    );
    assert_eq!(
        reply.queries[0].name().to_string(),
        "svc1.testns.podns.svc.cluster.local.",
        "question = original name"
    );
    assert_eq!(
        s.fake.seen_names(),
        [
            "svc1.testns.podns.svc.cluster.local.",
            "svc1.testns.svc.cluster.local."
        ]
    );
    // The tries keep the query's ID and EDNS.
    for (_, id, size) in s.fake.seen.lock().unwrap().iter() {
        assert_eq!((*id, *size), (4242, Some(1232)));
    }
    assert_eq!(s.metrics.successes("dns://:53"), 1);
}

#[tokio::test]
async fn t107_an_existing_name_without_data_is_nodata_without_cname() {
    let s = autopath_over(FakeCluster::default(), &["cluster.local."], pods(true));
    let req = query("svc1.testns.podns.svc.cluster.local.", RecordType::AAAA).build();
    let reply = as_sent(&req, s.chain.serve(&req).await);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert!(reply.answers.is_empty());
    assert_eq!(reply.authorities.len(), 1, "SOA(cluster.local.)");
    assert_eq!(s.metrics.successes("dns://:53"), 1);
}

#[tokio::test]
async fn t108_an_external_name_is_found_at_the_end_of_the_list() {
    let s = autopath_over(FakeCluster::default(), &["cluster.local."], pods(true));
    let req = query("google.com.podns.svc.cluster.local.", RecordType::A).build();
    let reply = as_sent(&req, s.chain.serve(&req).await);
    assert_eq!(
        answers(&reply),
        [
            "google.com.podns.svc.cluster.local. 60 IN CNAME google.com.",
            "google.com. 60 IN A 142.250.0.1",
        ]
    );
    assert_eq!(
        s.fake.seen_names(),
        [
            "google.com.podns.svc.cluster.local.",
            "google.com.svc.cluster.local.",
            "google.com.cluster.local.",
            "google.com.example.internal.",
            "google.com.",
        ]
    );
}

#[tokio::test]
async fn t109_t110_without_a_search_list_the_query_passes_untouched() {
    // T109: the client is not a known pod. T110: pods not verified.
    for (verified, client) in [(true, "10.99.0.1:5353"), (false, "10.240.0.1:5353")] {
        let s = autopath_over(FakeCluster::default(), &["cluster.local."], pods(verified));
        let req = query("svc1.testns.podns.svc.cluster.local.", RecordType::A)
            .client(client)
            .build();
        let reply = as_sent(&req, s.chain.serve(&req).await);
        assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
        assert!(reply.answers.is_empty());
        assert_eq!(
            s.fake.seen_names(),
            ["svc1.testns.podns.svc.cluster.local."]
        );
        assert_eq!(s.metrics.successes("dns://:53"), 0);
    }
}

#[tokio::test]
async fn t111_a_name_not_below_the_first_element_passes_untouched() {
    let s = autopath_over(FakeCluster::default(), &["cluster.local."], pods(true));
    let req = query("svc1.testns.svc.cluster.local.", RecordType::A).build();
    let reply = as_sent(&req, s.chain.serve(&req).await);
    assert_eq!(
        answers(&reply),
        ["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]
    );
    assert_eq!(s.fake.seen_names(), ["svc1.testns.svc.cluster.local."]);
    assert_eq!(s.metrics.successes("dns://:53"), 0);
}

#[tokio::test]
async fn when_every_try_fails_the_first_reply_is_sent() {
    let s = autopath_over(FakeCluster::default(), &["cluster.local."], pods(true));
    let req = query("nothing.podns.svc.cluster.local.", RecordType::A).build();
    let reply = as_sent(&req, s.chain.serve(&req).await);
    assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(
        reply.authorities[0].name.to_string(),
        "nothing.podns.svc.cluster.local.",
        "the first try's reply"
    );
    assert_eq!(s.fake.seen_names().len(), 5);
    assert_eq!(s.metrics.successes("dns://:53"), 0);
}

#[tokio::test]
async fn unwritten_failures_are_skipped_and_plugin_errors_abort() {
    let fake = FakeCluster {
        unwritten: vec!["svc1.testns.podns.svc.cluster.local."],
        ..FakeCluster::default()
    };
    let s = autopath_over(fake, &["cluster.local."], pods(true));
    let req = query("svc1.testns.podns.svc.cluster.local.", RecordType::A).build();
    let reply = as_sent(&req, s.chain.serve(&req).await);
    assert_eq!(
        answers(&reply).len(),
        2,
        "found after skipping the unwritten first try"
    );

    let fake = FakeCluster {
        errors: vec!["svc1.testns.svc.cluster.local."],
        ..FakeCluster::default()
    };
    let s = autopath_over(fake, &["cluster.local."], pods(true));
    let failure = s.chain.serve(&req).await.unwrap_err();
    assert_eq!(failure.rcode, ResponseCode::ServFail);
    assert_eq!(failure.error.unwrap().to_string(), "plugin/fake: boom");
    assert_eq!(s.fake.seen_names().len(), 2, "no try after the error");

    // Every try unwritten: the first try's failure, as it was.
    let fake = FakeCluster {
        unwritten: vec![
            "x.podns.svc.cluster.local.",
            "x.svc.cluster.local.",
            "x.cluster.local.",
            "x.example.internal.",
            "x.",
        ],
        ..FakeCluster::default()
    };
    let s = autopath_over(fake, &["cluster.local."], pods(true));
    let req = query("x.podns.svc.cluster.local.", RecordType::A).build();
    let failure = s.chain.serve(&req).await.unwrap_err();
    assert_eq!(failure.rcode, ResponseCode::ServFail);
    assert!(failure.error.is_none());
}

#[tokio::test]
async fn the_first_element_itself_is_servfail_as_in_coredns() {
    let s = autopath_over(FakeCluster::default(), &["cluster.local."], pods(true));
    let req = query("PodNS.svc.cluster.local.", RecordType::A).build();
    let failure = s.chain.serve(&req).await.unwrap_err();
    assert_eq!(failure.rcode, ResponseCode::ServFail);
    assert_eq!(
        failure.error.unwrap().to_string(),
        "trimzone: overshot qname: PodNS.svc.cluster.local.for zone podns.svc.cluster.local."
    );
    assert!(s.fake.seen_names().is_empty());
}

#[tokio::test]
async fn queries_outside_the_zones_pass_untouched() {
    let s = autopath_over(FakeCluster::default(), &["example.org."], pods(true));
    let req = query("svc1.testns.podns.svc.cluster.local.", RecordType::A).build();
    let reply = as_sent(&req, s.chain.serve(&req).await);
    assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(s.fake.seen_names().len(), 1);
}

#[tokio::test]
async fn a_file_search_list_is_walked_with_the_bare_name_last_keeping_case() {
    let search = SearchSource {
        fixed: strings(&["example.internal.", "other.test.", ""]),
        provider: Default::default(),
    };
    let s = autopath_over(FakeCluster::default(), &["."], search);
    let req = query("Google.COM.example.internal.", RecordType::A).build();
    let reply = as_sent(&req, s.chain.serve(&req).await);
    assert_eq!(
        answers(&reply),
        [
            "Google.COM.example.internal. 60 IN CNAME Google.COM.",
            "Google.COM. 60 IN A 142.250.0.1",
        ]
    );
    assert_eq!(
        s.fake.seen_names(),
        [
            "google.com.example.internal.",
            "google.com.other.test.",
            "google.com."
        ]
    );
}

/// A plugin that only has a name (stands for whoami or kubernetes in a block).
struct Named(&'static str);

impl Plugin for Named {
    fn name(&self) -> &'static str {
        self.0
    }

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        next.serve(req)
    }
}

#[test]
fn at_plugin_must_provide_a_search_path_when_it_is_in_the_block() {
    // In the block and providing one: bound.
    let mut t = TestBlock::new(&["cluster.local."]);
    t.setup("autopath @kubernetes", setup).unwrap();
    t.block.plugins.push(Arc::new(Named("kubernetes")));
    let search: Arc<dyn SearchPath> = Arc::new(StubPods { verified: true });
    let _ = t.block.extensions.slot::<Arc<dyn SearchPath>>().set(search);
    t.block.run_after_block().unwrap();

    // In the block but without a search path: CoreDNS's error.
    let mut t = TestBlock::new(&["cluster.local."]);
    t.setup("autopath @whoami", setup).unwrap();
    t.block.plugins.push(Arc::new(Named("whoami")));
    let (directive, error) = t.block.run_after_block().unwrap_err();
    assert_eq!(directive, "", "the assembler fills in the directive");
    assert_eq!(
        error.to_string(),
        "whoami does not implement the AutoPather interface"
    );

    // Not in the block at all: accepted (CoreDNS), nothing to take.
    let mut t = TestBlock::new(&["cluster.local."]);
    t.setup("autopath @kubernetes", setup).unwrap();
    t.block.run_after_block().unwrap();
}

#[tokio::test]
async fn the_search_path_is_taken_after_the_block_and_read_per_query() {
    let mut t = TestBlock::new(&["cluster.local."]);
    t.setup("autopath @kubernetes", setup).unwrap();
    let autopath = t.block.plugins[0].clone();
    t.block.plugins.push(Arc::new(Named("kubernetes")));
    let search: Arc<dyn SearchPath> = Arc::new(StubPods { verified: true });
    let _ = t.block.extensions.slot::<Arc<dyn SearchPath>>().set(search);
    t.block.run_after_block().unwrap();

    let fake = Arc::new(FakeCluster::default());
    let chain = Chain::new(vec![autopath, fake.clone()]);
    let req = query("svc1.testns.podns.svc.cluster.local.", RecordType::A).build();
    let reply = as_sent(&req, chain.serve(&req).await);
    assert_eq!(answers(&reply).len(), 2);
    let metrics = t.services.metrics.get::<AutopathMetrics>();
    assert_eq!(metrics.successes("dns://:53"), 1);
}
