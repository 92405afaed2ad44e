//! Behaviour beyond the C-cases: serve_stale TIMEOUT and RECHECK, one refresh at a time, the
//! lookup order of §2.3, prefer_positive, zone scoping, drops and metrics.

use std::sync::Arc;
use std::time::Duration;

use plugin::metrics::MetricsHub;
use plugin::proto::op::{Query, ResponseCode};
use plugin::proto::rr::RecordType;
use plugin::test_util;
use tokio::time::Instant;

use super::support::*;
use crate::absorb::{Client, Origin};
use crate::key::Key;
use crate::metrics::CacheMetrics;
use crate::state::{Question, State, StoreKind};

/// U1 answers `a. 60 A 192.0.2.1` first, then runs `later` with the call number.
fn first_then(
    later: impl Fn(&plugin::Request, usize) -> Step + Send + Sync + 'static,
) -> Arc<Upstream> {
    Upstream::new(move |req, call| match call {
        0 => Step::Answer(reply(
            req,
            ResponseCode::NoError,
            vec![a("a.", 60, 1)],
            vec![],
        )),
        n => later(req, n),
    })
}

#[tokio::test(start_paused = true)]
async fn verify_timeout_serves_stale_and_the_late_reply_still_updates_the_cache() {
    let up = first_then(|req, _| {
        Step::Later(
            Duration::from_secs(5),
            reply(req, ResponseCode::NoError, vec![a("a.", 60, 2)], vec![]),
        )
    });
    let h = Harness::new("cache {\nserve_stale 1h verify 1s\n}", up);
    let req = q("a.", RecordType::A).build();
    h.ask(&req).await.unwrap();
    at_plus(120).await;
    let stale = h.ask(&req).await.unwrap();
    assert_eq!((ttls(&stale), addresses(&stale)), (vec![0], vec![1]));
    assert_eq!(h.upstream.calls(), 2);
    at_plus(5).await;
    let fresh = h.ask(&req).await.unwrap();
    assert_eq!(
        addresses(&fresh),
        [2],
        "the refresh finished after the timeout"
    );
    assert!(fresh.flags.authoritative, "a hit");
    assert_eq!(h.upstream.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn verify_timeout_returns_a_refresh_that_arrives_in_time() {
    let up = first_then(|req, _| {
        Step::Later(
            Duration::from_millis(200),
            reply(req, ResponseCode::NoError, vec![a("a.", 60, 2)], vec![]),
        )
    });
    let h = Harness::new("cache {\nserve_stale 1h verify 1s\n}", up);
    let req = q("a.", RecordType::A).build();
    h.ask(&req).await.unwrap();
    at_plus(120).await;
    let fresh = h.ask(&req).await.unwrap();
    assert_eq!((ttls(&fresh), addresses(&fresh)), (vec![60], vec![2]));
    let scrape = h.metrics();
    assert_eq!(
        sample(
            &scrape,
            r#"coredns_cache_served_stale_total{server="dns://:53",view="",zones="."}"#
        ),
        0.0
    );
}

#[tokio::test(start_paused = true)]
async fn immediate_refreshes_one_at_a_time_and_pause_for_recheck_after_a_failure() {
    let h = Harness::new(
        "cache {\nserve_stale 1h immediate 0s 10s\n}",
        first_then(|_, _| Step::BlackHole),
    );
    let req = q("a.", RecordType::A).build();
    h.ask(&req).await.unwrap();
    at_plus(120).await;
    // Two stale answers while the first refresh is still waiting: one refresh.
    h.ask(&req).await.unwrap();
    h.ask(&req).await.unwrap();
    assert_eq!(h.upstream.calls(), 2);
    // The refresh fails after 2 s; for 10 s no new one is tried, the stale entry is served.
    at_plus(3).await;
    assert_eq!(ttls(&h.ask(&req).await.unwrap()), [0]);
    assert_eq!(h.upstream.calls(), 2);
    at_plus(10).await;
    h.ask(&req).await.unwrap();
    assert_eq!(h.upstream.calls(), 3);
    let scrape = h.metrics();
    assert_eq!(
        sample(
            &scrape,
            r#"coredns_cache_prefetch_total{server="dns://:53",view="",zones="."}"#
        ),
        2.0
    );
    assert_eq!(
        sample(
            &scrape,
            r#"coredns_cache_served_stale_total{server="dns://:53",view="",zones="."}"#
        ),
        4.0
    );
}

#[tokio::test(start_paused = true)]
async fn verify_with_recheck_serves_stale_at_once_after_a_failure() {
    let h = Harness::new(
        "cache {\nserve_stale 1h verify 0s 0s 30s\n}",
        first_then(|req, _| Step::Answer(reply(req, ResponseCode::Refused, vec![], vec![]))),
    );
    let req = q("a.", RecordType::A).build();
    h.ask(&req).await.unwrap();
    at_plus(120).await;
    assert_eq!(addresses(&h.ask(&req).await.unwrap()), [1]);
    assert_eq!(h.upstream.calls(), 2, "verified first");
    assert_eq!(addresses(&h.ask(&req).await.unwrap()), [1]);
    assert_eq!(h.upstream.calls(), 2, "failed less than RECHECK ago");
    at_plus(31).await;
    h.ask(&req).await.unwrap();
    assert_eq!(h.upstream.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn queries_outside_the_zones_pass_through_untouched() {
    let up = Upstream::new(|req, _| {
        let mut resp = reply(
            req,
            ResponseCode::NoError,
            vec![a("www.example.net.", 300, 1)],
            vec![],
        );
        resp.flags.authentic_data = true;
        Step::Answer(resp)
    });
    let h = Harness::new("cache example.org", up);
    let req = q("www.example.net.", RecordType::A).build();
    for _ in 0..2 {
        let resp = h.ask(&req).await.unwrap();
        assert_eq!(resp.uniform_ttl, None);
        assert_eq!(ttls(&resp), [300]);
        assert!(resp.flags.authentic_data, "not cleared outside the zones");
    }
    assert_eq!(h.upstream.calls(), 2);
    assert!(
        !h.upstream.seen()[0].authentic_data,
        "the query went on as it came"
    );
    assert!(!h.metrics().contains("coredns_cache_requests_total{"));
}

#[tokio::test(start_paused = true)]
async fn hits_are_ready_without_a_future() {
    let h = Harness::new(
        "cache",
        Upstream::new(|req, _| {
            Step::Answer(reply(
                req,
                ResponseCode::NoError,
                vec![a("a.", 300, 1)],
                vec![],
            ))
        }),
    );
    let req = q("a.", RecordType::A).build();
    h.ask(&req).await.unwrap();
    assert!(h.chain.serve(&req).is_ready());
    // A query that already has AD goes down as it is: a ready reply stays ready.
    let ad = q("b.", RecordType::A).ad().build();
    assert!(h.chain.serve(&ad).is_ready());
}

#[tokio::test(start_paused = true)]
async fn cd_is_part_of_the_key() {
    let h = Harness::new(
        "cache",
        Upstream::new(|req, _| {
            Step::Answer(reply(
                req,
                ResponseCode::NoError,
                vec![a("a.", 300, 1)],
                vec![],
            ))
        }),
    );
    h.ask(&q("a.", RecordType::A).build()).await.unwrap();
    let cd = h.ask(&q("a.", RecordType::A).cd().build()).await.unwrap();
    assert!(cd.flags.checking_disabled);
    assert_eq!(h.upstream.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_reply_for_another_question_is_dropped() {
    let up = Upstream::new(|req, _| {
        let mut resp = reply(req, ResponseCode::NoError, vec![a("b.", 300, 1)], vec![]);
        resp.question = Some(Box::new(Query::query(name_of("b."), RecordType::A)));
        Step::Answer(resp)
    });
    let h = Harness::new("cache", up);
    let req = q("a.", RecordType::A).build();
    for _ in 0..2 {
        h.ask(&req).await.unwrap();
    }
    assert_eq!(h.upstream.calls(), 2);
    let scrape = h.metrics();
    assert_eq!(
        sample(
            &scrape,
            r#"coredns_cache_drops_total{server="dns://:53",view="",zones="."}"#
        ),
        2.0
    );
}

#[tokio::test(start_paused = true)]
async fn metrics_count_requests_hits_misses_and_entries() {
    let up = Upstream::new(|req, _| {
        Step::Answer(if req.qname_lower() == "nx." {
            reply(req, ResponseCode::NXDomain, vec![], vec![soa(".", 60, 60)])
        } else {
            reply(req, ResponseCode::NoError, vec![a("a.", 300, 1)], vec![])
        })
    });
    let h = Harness::new("cache . example.org", up);
    let a_query = q("a.", RecordType::A).build();
    let nx_query = q("nx.", RecordType::A).build();
    for req in [&a_query, &a_query, &a_query, &nx_query, &nx_query] {
        h.ask(req).await.unwrap();
    }
    let scrape = h.metrics();
    let series = |name: &str, kind: Option<&str>| {
        let labels = match kind {
            Some(kind) => {
                format!(r#"{{server="dns://:53",type="{kind}",view="",zones=".,example.org."}}"#)
            }
            None => r#"{server="dns://:53",view="",zones=".,example.org."}"#.to_string(),
        };
        sample(&scrape, &format!("{name}{labels}"))
    };
    assert_eq!(series("coredns_cache_requests_total", None), 5.0);
    assert_eq!(series("coredns_cache_misses_total", None), 2.0);
    assert_eq!(series("coredns_cache_hits_total", Some("success")), 2.0);
    assert_eq!(series("coredns_cache_hits_total", Some("denial")), 1.0);
    assert_eq!(series("coredns_cache_entries", Some("success")), 1.0);
    assert_eq!(series("coredns_cache_entries", Some("denial")), 1.0);
    assert!(scrape.contains("# HELP coredns_cache_entries The number of elements in the cache.\n"));
}

/// A state of `corefile` outside any chain, to arrange both stores by hand.
fn state(corefile: &str) -> State {
    let config = crate::parse(&mut test_util::dispenser(corefile), &[".".to_string()]).unwrap();
    State::new(
        config,
        MetricsHub::new().get::<CacheMetrics>(),
        plugin::tasks::Tasks::new(),
    )
}

fn store(state: &State, req: &plugin::Request, resp: plugin::Response) {
    let stored = state.absorb(req, Client::of(req), Key::of(req), resp, Origin::Query);
    assert!(stored.stored.is_some());
}

fn found(state: &State, req: &plugin::Request) -> Option<(Vec<u8>, ResponseCode, StoreKind)> {
    let server: Arc<str> = Arc::from("dns://:53");
    state
        .lookup(&server, Key::of(req), Question::of(req), Instant::now())
        .map(|(entry, kind)| {
            let resp = crate::cache::hit_response(req, Client::of(req), &entry, 1);
            (addresses(&resp), entry.rcode, kind)
        })
}

#[tokio::test(start_paused = true)]
async fn denial_is_looked_up_first_but_a_servfail_yields_to_a_good_answer() {
    let req = q("a.", RecordType::A).build();
    let answer = || reply(&req, ResponseCode::NoError, vec![a("a.", 300, 1)], vec![]);
    let s = state("cache");
    store(&s, &req, answer());
    store(
        &s,
        &req,
        reply(&req, ResponseCode::NXDomain, vec![], vec![soa(".", 60, 60)]),
    );
    assert_eq!(
        found(&s, &req),
        Some((vec![], ResponseCode::NXDomain, StoreKind::Denial))
    );

    let s = state("cache");
    store(&s, &req, answer());
    store(
        &s,
        &req,
        reply(&req, ResponseCode::ServFail, vec![], vec![]),
    );
    assert_eq!(
        found(&s, &req),
        Some((vec![1], ResponseCode::NoError, StoreKind::Success))
    );
}

#[tokio::test(start_paused = true)]
async fn prefer_positive_keeps_the_last_known_good_answer() {
    let req = q("a.", RecordType::A).build();
    let s = state("cache {\nserve_stale\nserve_stale_policy prefer_positive\n}");
    store(
        &s,
        &req,
        reply(&req, ResponseCode::NoError, vec![a("a.", 300, 1)], vec![]),
    );
    // An answering reply removes a denial; a later NXDOMAIN is stored beside it.
    store(
        &s,
        &req,
        reply(&req, ResponseCode::NXDomain, vec![], vec![soa(".", 60, 60)]),
    );
    assert_eq!(
        found(&s, &req),
        Some((vec![1], ResponseCode::NoError, StoreKind::Success))
    );
    // A NOERROR that does not answer replaces the success entry, the old one stays usable.
    store(&s, &req, reply(&req, ResponseCode::NoError, vec![], vec![]));
    assert_eq!(
        found(&s, &req),
        Some((vec![1], ResponseCode::NoError, StoreKind::Success))
    );
    // Without the policy the denial wins.
    let plain = state("cache {\nserve_stale\n}");
    store(
        &plain,
        &req,
        reply(&req, ResponseCode::NoError, vec![a("a.", 300, 1)], vec![]),
    );
    store(
        &plain,
        &req,
        reply(&req, ResponseCode::NXDomain, vec![], vec![soa(".", 60, 60)]),
    );
    assert_eq!(found(&plain, &req).map(|f| f.2), Some(StoreKind::Denial));
}

#[tokio::test(start_paused = true)]
async fn delegations_are_stored_five_seconds() {
    let up = Upstream::new(|req, _| {
        let ns = plugin::proto::rr::Record::from_rdata(
            name_of("sub.example."),
            3600,
            plugin::proto::rr::RData::NS(plugin::proto::rr::rdata::NS(name_of("ns.sub.example."))),
        );
        Step::Answer(reply(req, ResponseCode::NoError, vec![], vec![ns]))
    });
    let h = Harness::new("cache", up);
    let req = q("www.sub.example.", RecordType::A).build();
    assert_eq!(ttls(&h.ask(&req).await.unwrap()), [5]);
    at_plus(4).await;
    h.ask(&req).await.unwrap();
    assert_eq!(h.upstream.calls(), 1);
    at_plus(1).await;
    h.ask(&req).await.unwrap();
    assert_eq!(h.upstream.calls(), 2);
}
