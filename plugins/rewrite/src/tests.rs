//! Option parsing (every rule type, CoreDNS's errors) and behaviour R1–R18 with an echoing
//! next plugin (plugins-resolution.md §9, "U1").

use std::sync::{Arc, Mutex};

use hickory_proto::op::{Edns, ResponseCode};
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType, rdata};
use plugin::test_util::{TestBlock, dispenser, query};
use plugin::{Chain, Next, Outcome, Plugin, Reply, Request, Response, Upstream};

use crate::{Rewrite, parse, setup};

fn err_of(corefile: &str) -> String {
    let mut t = TestBlock::new(&["."]);
    t.setup(corefile, setup)
        .map_err(|e| e.to_string())
        .expect_err(corefile)
}

#[test]
fn parses_every_rule_type() {
    for corefile in [
        "rewrite name a.example b.example",
        "rewrite stop name exact a.example b.example",
        "rewrite continue name prefix foo bar",
        "rewrite name suffix .svc.example .svc.internal answer auto",
        "rewrite name substring svc-a svc-b answer auto",
        "rewrite name regex (.*)-(west)\\.example {1}.{2}.internal answer name (.*)\\.(west)\\.internal {1}-{2}.example answer value (.*)\\.(west)\\.internal {1}-{2}.example",
        "rewrite stop {\nname regex (.*)\\.a {1}.b\nanswer name (.*)\\.b {1}.a\n}",
        "rewrite type ANY HINFO",
        "rewrite class CH IN",
        "rewrite ttl a.example 10",
        "rewrite ttl regex .* 30-300",
        "rewrite ttl suffix example -300",
        "rewrite ttl prefix a 5-",
        "rewrite rcode exact x.example SERVFAIL NOERROR",
        "rewrite rcode x.example 2 0",
        "rewrite cname exact t.cdn.example. t.other.example.",
        "rewrite cname regex (.*)\\.cdn\\.example {1}.other.example",
        "rewrite edns0 local set 0xffee abcd",
        "rewrite edns0 local append 65518 0xabcd revert",
        "rewrite edns0 local replace 0xffee {client_ip}",
        "rewrite edns0 local unset 0xffee",
        "rewrite edns0 nsid set",
        "rewrite edns0 nsid unset",
        "rewrite edns0 subnet set 24 56 revert",
        "rewrite edns0 subnet unset",
    ] {
        let mut d = dispenser(corefile);
        let rules = parse(&mut d).unwrap_or_else(|e| panic!("{corefile}: {e}"));
        assert_eq!(rules.len(), 1, "{corefile}");
    }
    let mut d = dispenser("rewrite name a b\nrewrite ttl a 1\nrewrite stop {\nname c d\n}");
    assert_eq!(parse(&mut d).map(|r| r.len()).ok(), Some(3));
}

#[test]
fn rejects_like_coredns() {
    let p = "Corefile:1 - Error during parsing: ";
    for (corefile, want) in [
        ("rewrite", "no rule type specified for rewrite"),
        (
            "rewrite continue",
            "continue rule must begin with a rule type",
        ),
        (
            "rewrite answer name a b",
            "response rewrites must begin with a name rule",
        ),
        (
            "rewrite name a.com b.com c.com",
            "name rule supports only exact, prefix, suffix, substring, and regex name matching, received: a.com",
        ),
        (
            "rewrite name exact a.com b.com c.com",
            "invalid arguments for exact rule",
        ),
        (
            "rewrite name exact a.com b.com c.com d.com",
            "exceeded the number of arguments for a non-answer rule argument for exact rule",
        ),
        (
            "rewrite name regex (.*)\\.example {1}.{2}.x",
            "the rewrite regex pattern ({1}.{2}.x) uses more subexpressions than its corresponding matching regex pattern ((.*)\\.example)",
        ),
        (
            "rewrite name regex (.*\\.example x",
            "invalid regex matching pattern: (.*\\.example",
        ),
        (
            "rewrite name bogus a b",
            "name rule supports only exact, prefix, suffix, substring, and regex name matching, received: bogus",
        ),
        ("rewrite name a", "too few arguments for a name rule"),
        (
            "rewrite name suffix a b answer auto answer name (.*) {1}",
            "auto name answer rule cannot be combined with explicit name anwer rules",
        ),
        (
            "rewrite name suffix a b answer",
            "invalid arguments for suffix rule",
        ),
        (
            "rewrite name suffix a b answer foo x y",
            "invalid type \"foo\" for answer rule for suffix rule",
        ),
        (
            "rewrite type A",
            "type rules must have exactly two arguments",
        ),
        ("rewrite type A BOGUS", "invalid type \"BOGUS\""),
        ("rewrite class IN XX", "invalid class \"XX\""),
        (
            "rewrite ttl a.example",
            "too few (1) arguments for a ttl rule",
        ),
        ("rewrite ttl a.example -", "invalid TTL '-' for a ttl rule"),
        (
            "rewrite ttl a.example 20-10",
            "invalid TTL '20-10' for a ttl rule",
        ),
        (
            "rewrite ttl regex ( 10",
            "invalid regex pattern in a ttl rule: (",
        ),
        (
            "rewrite rcode a.example BOGUS NOERROR",
            "invalid matching RCODE 'BOGUS' for a rcode rule",
        ),
        (
            "rewrite rcode a.example SERVFAIL 24",
            "invalid replacement RCODE '24' for a rcode rule",
        ),
        (
            "rewrite cname bogus a b",
            "unknown cname rewrite type: bogus",
        ),
        ("rewrite edns0 local", "too few arguments for an EDNS0 rule"),
        ("rewrite edns0 local bogus 1 2", "invalid action: \"bogus\""),
        (
            "rewrite edns0 local set 1",
            "EDNS0 local rules require three or four args",
        ),
        (
            "rewrite edns0 nsid set x",
            "EDNS0 NSID rules can accept no more than one arg",
        ),
        (
            "rewrite edns0 subnet set 33 56",
            "invalid IPv4 bit mask length 33",
        ),
        (
            "rewrite edns0 subnet set 24 129",
            "invalid IPv6 bit mask length 129",
        ),
        (
            "rewrite edns0 local set 1 {bogus}",
            "unsupported variable name \"{bogus}\"",
        ),
        ("rewrite bogus a b", "invalid rule type \"bogus\""),
    ] {
        assert_eq!(err_of(corefile), format!("{p}{want}"), "{corefile}");
    }
    // The error carries the line of the bad rule.
    assert!(err_of("rewrite name a b\nrewrite name regex ( x").starts_with("Corefile:2 - "));
}

/// What the echo plugin saw: question name as sent, type, class, OPT.
type Seen = (String, RecordType, DNSClass, Option<Edns>);

/// U1: answers A 192.0.2.1 for whatever name it is asked, echoing the name as owner, and
/// records the question and OPT it saw. `extra` adds records by test.
struct Echo {
    seen: Mutex<Vec<Seen>>,
    answer: Box<dyn Fn(&Request) -> Outcome + Send + Sync>,
}

impl Echo {
    fn new() -> Arc<Echo> {
        Echo::answering(|req| {
            let record = Record::from_rdata(req.qname(), 60, RData::A(rdata::A::new(192, 0, 2, 1)));
            Ok(Response::reply_to(req, "echo").with_records(vec![record], vec![]))
        })
    }

    fn answering(f: impl Fn(&Request) -> Outcome + Send + Sync + 'static) -> Arc<Echo> {
        Arc::new(Echo {
            seen: Mutex::new(Vec::new()),
            answer: Box::new(f),
        })
    }

    fn names(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.0.clone())
            .collect()
    }
}

impl Plugin for Echo {
    fn name(&self) -> &'static str {
        "echo"
    }

    fn serve<'a>(&'a self, req: &'a Request, _next: Next<'a>) -> Reply<'a> {
        self.seen.lock().unwrap().push((
            req.qname().to_ascii(),
            req.qtype(),
            req.qclass(),
            req.edns().cloned(),
        ));
        Reply::ready((self.answer)(req))
    }
}

fn plugin(corefile: &str) -> Arc<Rewrite> {
    plugin_with(corefile, Upstream::new())
}

fn plugin_with(corefile: &str, upstream: Upstream) -> Arc<Rewrite> {
    let rules = parse(&mut dispenser(corefile)).expect(corefile);
    Arc::new(Rewrite::new(rules, upstream))
}

async fn run(rw: Arc<Rewrite>, next: Arc<Echo>, req: &Request) -> Outcome {
    let chain = Chain::new(vec![rw, next]);
    chain.serve(req).await
}

fn owners(response: &Response) -> Vec<String> {
    response.answers.iter().map(|r| r.name.to_ascii()).collect()
}

#[tokio::test]
async fn r1_r2_exact_rule_maps_owner_back() {
    for asked in ["a.example.", "A.Example."] {
        let echo = Echo::new();
        let req = query(asked, RecordType::A).build();
        let got = run(
            plugin("rewrite name a.example b.example"),
            echo.clone(),
            &req,
        )
        .await
        .unwrap();
        assert_eq!(echo.names(), ["b.example."]);
        assert_eq!(owners(&got), ["a.example."]);
    }
}

#[tokio::test]
async fn r3_suffix_auto() {
    let echo = Echo::new();
    let req = query("x.svc.example.", RecordType::A).build();
    let rw = plugin("rewrite name suffix .svc.example .svc.internal answer auto");
    let got = run(rw, echo.clone(), &req).await.unwrap();
    assert_eq!(echo.names(), ["x.svc.internal."]);
    assert_eq!(owners(&got), ["x.svc.example."]);
}

#[tokio::test]
async fn r4_regex_block_with_answer_name() {
    let echo = Echo::new();
    let req = query("ftp-west.example.", RecordType::A).build();
    let rw = plugin(
        "rewrite stop {\nname regex (.*)-(west)\\.example {1}.{2}.internal\nanswer name (.*)\\.(west)\\.internal {1}-{2}.example\n}",
    );
    let got = run(rw, echo.clone(), &req).await.unwrap();
    assert_eq!(echo.names(), ["ftp.west.internal."]);
    assert_eq!(owners(&got), ["ftp-west.example."]);
}

#[tokio::test]
async fn r5_prefix_matches_whole_labels_and_keeps_owner() {
    let echo = Echo::new();
    let rw = plugin("rewrite name prefix foo bar");
    let got = run(
        rw.clone(),
        echo.clone(),
        &query("foo.example.", RecordType::A).build(),
    )
    .await
    .unwrap();
    assert_eq!(owners(&got), ["bar.example."]);
    run(
        rw,
        echo.clone(),
        &query("foobar.example.", RecordType::A).build(),
    )
    .await
    .unwrap();
    assert_eq!(echo.names(), ["bar.example.", "foobar.example."]);
}

#[tokio::test]
async fn r6_r7_chained_rules() {
    let echo = Echo::new();
    let req = query("a.example.", RecordType::A).build();
    let rw = plugin("rewrite continue name a.example b.example\nrewrite name b.example c.example");
    let got = run(rw, echo.clone(), &req).await.unwrap();
    assert_eq!(echo.names(), ["c.example."]);
    assert_eq!(owners(&got), ["a.example."]);

    let echo = Echo::new();
    let rw = plugin("rewrite name a.example b.example\nrewrite name b.example c.example");
    run(rw, echo.clone(), &req).await.unwrap();
    assert_eq!(echo.names(), ["b.example."]);
}

#[tokio::test]
async fn r8_ttl_rule_stops() {
    let echo = Echo::new();
    let req = query("a.example.", RecordType::A).build();
    let got = run(
        plugin("rewrite ttl a.example 10\nrewrite name a.example b.example"),
        echo.clone(),
        &req,
    )
    .await
    .unwrap();
    assert_eq!(echo.names(), ["a.example."]);
    assert_eq!(got.answers.records()[0].ttl, 10);
}

#[tokio::test]
async fn r9_r10_type_rules() {
    let echo = Echo::new();
    let req = query("x.example.", RecordType::ANY).build();
    let stopped = run(plugin("rewrite type ANY HINFO"), echo.clone(), &req)
        .await
        .unwrap();
    assert_eq!(echo.seen.lock().unwrap()[0].1, RecordType::HINFO);
    // R9: a stop rule restores the client's question.
    assert_eq!(
        sent(&req, &stopped).queries[0].query_type(),
        RecordType::ANY
    );

    let echo = Echo::new();
    let continued = run(
        plugin("rewrite continue type ANY HINFO"),
        echo.clone(),
        &req,
    )
    .await
    .unwrap();
    assert_eq!(echo.seen.lock().unwrap()[0].1, RecordType::HINFO);
    // R10: without post-processing the client sees the question that was answered.
    assert_eq!(
        sent(&req, &continued).queries[0].query_type(),
        RecordType::HINFO
    );
}

/// The reply as the server encodes it for `req`'s client.
fn sent(req: &Request, response: &Response) -> hickory_proto::op::Message {
    let mut out = Vec::new();
    plugin::wire::encode_reply(req, response, &mut out).unwrap();
    hickory_proto::op::Message::from_vec(&out).unwrap()
}

#[tokio::test]
async fn class_rule_changes_the_class() {
    let echo = Echo::new();
    let req = query("x.example.", RecordType::A).build();
    run(plugin("rewrite class IN CH"), echo.clone(), &req)
        .await
        .unwrap();
    assert_eq!(echo.seen.lock().unwrap()[0].2, DNSClass::CH);
}

#[tokio::test]
async fn r11_rcode_rule_rewrites_a_returned_servfail() {
    // The rewrite part of R11: downstream only returns SERVFAIL (forward's timeout).
    let echo = Echo::answering(|_| Err(plugin::Failure::rcode(ResponseCode::ServFail)));
    let req = query("x.example.", RecordType::A).build();
    let got = run(
        plugin("rewrite rcode exact x.example SERVFAIL NOERROR"),
        echo,
        &req,
    )
    .await
    .unwrap();
    assert_eq!(got.rcode, ResponseCode::NoError);
    assert!(got.answers.is_empty());
}

#[tokio::test]
async fn r12_ttl_range() {
    let echo = Echo::answering(|req| {
        let a = |ttl| Record::from_rdata(req.qname(), ttl, RData::A(rdata::A::new(192, 0, 2, 1)));
        Ok(Response::reply_to(req, "echo").with_records(vec![a(10), a(100), a(600)], vec![]))
    });
    let req = query("example.com.", RecordType::A).build();
    let got = run(plugin("rewrite ttl example.com 30-300"), echo, &req)
        .await
        .unwrap();
    let ttls: Vec<u32> = got.answers.iter().map(|r| r.ttl).collect();
    assert_eq!(ttls, [30, 100, 300]);
}

#[tokio::test]
async fn r13_invalid_name_is_servfail_and_nothing_sent() {
    let echo = Echo::new();
    let req = query("a.example.", RecordType::A).build();
    let got = run(
        plugin("rewrite name regex (.*)\\.example {1}..bad"),
        echo.clone(),
        &req,
    )
    .await;
    let failure = got.expect_err("SERVFAIL");
    assert_eq!(failure.rcode, ResponseCode::ServFail);
    assert!(echo.names().is_empty());
}

fn local_option(edns: &Edns, code: u16) -> Option<Vec<u8>> {
    edns.options().options.iter().find_map(|(c, o)| match o {
        EdnsOption::Unknown(_, data) if u16::from(*c) == code => Some(data.clone()),
        _ => None,
    })
}

#[tokio::test]
async fn r14_r15_edns0_local() {
    let echo = Echo::new();
    let req = query("a.example.", RecordType::A).build();
    let got = run(
        plugin("rewrite edns0 local set 0xffee abcd"),
        echo.clone(),
        &req,
    )
    .await
    .unwrap();
    let seen = echo.seen.lock().unwrap()[0].3.clone().expect("OPT created");
    assert_eq!(seen.max_payload(), 4096);
    assert_eq!(local_option(&seen, 0xffee), Some(b"abcd".to_vec()));
    let reply_opt = got.edns.as_ref().expect("reply carries an OPT");
    assert_eq!(local_option(reply_opt, 0xffee), Some(b"abcd".to_vec()));
    // §4.6: the client that sent no EDNS gets that OPT and a 4096-octet UDP limit.
    let on_wire = sent(&req, &got);
    assert_eq!(on_wire.edns.as_ref().map(|e| e.max_payload()), Some(4096));
    let mut big = got.clone();
    big.answers = (0..40u8)
        .map(|i| Record::from_rdata(req.qname(), 5, RData::A(rdata::A::new(192, 0, 2, i))))
        .collect::<Vec<_>>()
        .into();
    let on_wire = sent(&req, &big);
    assert!(
        !on_wire.metadata.truncation,
        "40 A records fit in 4096 octets"
    );
    assert_eq!(on_wire.answers.len(), 40);

    let echo = Echo::new();
    let req = query("a.example.", RecordType::A).edns(1232, false).build();
    let got = run(
        plugin("rewrite edns0 local set 0xffee abcd revert"),
        echo.clone(),
        &req,
    )
    .await
    .unwrap();
    assert!(
        echo.seen.lock().unwrap()[0]
            .3
            .as_ref()
            .and_then(|e| local_option(e, 0xffee))
            .is_some()
    );
    assert!(
        got.edns
            .as_ref()
            .and_then(|e| local_option(e, 0xffee))
            .is_none()
    );
}

#[tokio::test]
async fn local_codes_are_mirrored_to_a_client_that_sent_an_opt() {
    // §4.6 "Registered local codes are added to the set of options the server mirrors".
    let echo = Echo::new();
    let req = query("a.example.", RecordType::A).edns(1232, true).build();
    let got = run(plugin("rewrite edns0 local set 0xffee abcd"), echo, &req)
        .await
        .unwrap();
    let on_wire = sent(&req, &got);
    let opt = on_wire.edns.as_ref().expect("OPT");
    assert_eq!(local_option(opt, 0xffee), Some(b"abcd".to_vec()));
    assert_eq!(opt.max_payload(), 1232, "the client's own size");
    assert!(opt.flags().dnssec_ok);
}

#[tokio::test]
async fn r16_edns0_subnet() {
    let echo = Echo::new();
    let req = query("a.example.", RecordType::A)
        .client("192.0.2.77:5353")
        .build();
    run(plugin("rewrite edns0 subnet set 24 56"), echo.clone(), &req)
        .await
        .unwrap();
    let seen = echo.seen.lock().unwrap()[0].3.clone().expect("OPT");
    let ecs = seen
        .options()
        .options
        .iter()
        .find(|(c, _)| u16::from(*c) == 8)
        .map(|(_, o)| o.clone());
    assert_eq!(
        ecs,
        Some(EdnsOption::Unknown(8, vec![0, 1, 24, 0, 192, 0, 2, 0]))
    );
}

#[tokio::test]
async fn edns0_replace_without_option_does_not_stop() {
    let echo = Echo::new();
    let req = query("a.example.", RecordType::A).build();
    let rw = plugin("rewrite edns0 local replace 0xffee abcd\nrewrite name a.example b.example");
    run(rw, echo.clone(), &req).await.unwrap();
    assert_eq!(echo.names(), ["b.example."]);
}

struct CnameTarget;

impl plugin::upstream::Resolve for CnameTarget {
    fn resolve<'a>(
        &'a self,
        origin: &'a Request,
        name: Name,
        _qtype: RecordType,
    ) -> plugin::upstream::LookupFuture<'a> {
        Box::pin(async move {
            let record = Record::from_rdata(name, 30, RData::A(rdata::A::new(2, 2, 2, 2)));
            Some(Response::reply_to(origin, "stub").with_records(vec![record], vec![]))
        })
    }
}

#[tokio::test]
async fn r17_cname_target_rewrite() {
    let echo = Echo::answering(|req| {
        let target = Name::from_ascii("t.cdn.example.").unwrap();
        let records = vec![
            Record::from_rdata(req.qname(), 60, RData::CNAME(rdata::CNAME(target.clone()))),
            Record::from_rdata(target, 60, RData::A(rdata::A::new(1, 1, 1, 1))),
        ];
        Ok(Response::reply_to(req, "echo").with_records(records, vec![]))
    });
    let req = query("a.example.", RecordType::A).build();
    let upstream = Upstream::bound(Arc::new(CnameTarget));
    let rw = plugin_with(
        "rewrite cname exact t.cdn.example. t.other.example.",
        upstream,
    );
    let got = run(rw, echo, &req).await.unwrap();
    let texts: Vec<String> = got
        .answers
        .iter()
        .map(|r| format!("{} {}", r.name.to_ascii(), r.data))
        .collect();
    assert_eq!(
        texts,
        ["a.example. t.other.example.", "t.other.example. 2.2.2.2"]
    );
}

#[tokio::test]
async fn r18_rewritten_name_goes_downstream_lower_cased() {
    // The rewrite part of R18: the chain below (cache) is asked for `b.example.`.
    let echo = Echo::new();
    let req = query("A.EXAMPLE.", RecordType::A).build();
    run(
        plugin("rewrite name a.example b.example"),
        echo.clone(),
        &req,
    )
    .await
    .unwrap();
    assert_eq!(echo.names(), ["b.example."]);
}

#[tokio::test]
async fn v3_worked_example() {
    // §10.5: exact rule; unrelated names untouched.
    let rw = plugin("rewrite name web-service.cluster.local webservice1.com");
    for (asked, downstream, owner) in [
        (
            "web-service.cluster.local.",
            "webservice1.com.",
            "web-service.cluster.local.",
        ),
        (
            "Web-Service.Cluster.Local.",
            "webservice1.com.",
            "web-service.cluster.local.",
        ),
        ("webservice1.com.", "webservice1.com.", "webservice1.com."),
        (
            "web-service.default.svc.cluster.local.",
            "web-service.default.svc.cluster.local.",
            "web-service.default.svc.cluster.local.",
        ),
    ] {
        let echo = Echo::new();
        let got = run(
            rw.clone(),
            echo.clone(),
            &query(asked, RecordType::A).build(),
        )
        .await
        .unwrap();
        assert_eq!(echo.names(), [downstream], "{asked}");
        assert_eq!(owners(&got), [owner], "{asked}");
    }
}

#[test]
fn fuzz_entry_never_panics_on_samples() {
    let req = query("ftp-west.example.", RecordType::A).build();
    for pick in 0..=8u8 {
        let mut data = vec![pick];
        data.extend_from_slice(req.wire());
        crate::fuzz_rewrite(&data);
    }
    let mut data = b"\xffname regex (.*) {1}..x\n".to_vec();
    data.extend_from_slice(req.wire());
    crate::fuzz_rewrite(&data);
    crate::fuzz_rewrite(b"");
    crate::fuzz_rewrite(b"\x01\x00");
}

/// Every `rewrite` line or block in the README's corefile examples parses.
#[test]
fn readme_examples_parse() {
    let examples = plugin::test_util::readme_examples(include_str!("../README.md"), "rewrite");
    for example in &examples {
        let text = &example.stanza;
        let rules = parse(&mut dispenser(text)).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(!rules.is_empty(), "{text}");
    }
    assert_eq!(examples.len(), 4);
}
