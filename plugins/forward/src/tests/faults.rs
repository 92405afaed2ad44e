//! Faulty upstreams: silence, late answers, resets, closed pooled connections, and the
//! health checks they start (plugins-resolution.md §1.5, §1.8; F10, F12, F22).

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use fake_upstream::replies;
use fake_upstream::{Action, FakeUpstream, Proto, Seen};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use super::harness::{Harness, a_query, client_view, corefile, rcode_of, series};

const IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

fn probes(u: &FakeUpstream, domain: &str) -> Vec<Seen> {
    u.seen()
        .into_iter()
        .filter(|s| s.asks(domain, RecordType::NS))
        .collect()
}

fn client_queries(u: &FakeUpstream) -> usize {
    u.seen()
        .iter()
        .filter(|s| {
            s.question()
                .is_some_and(|q| q.query_type() == RecordType::A)
        })
        .count()
}

/// Waits (bounded) until `f` holds.
async fn eventually(what: &str, f: impl Fn() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("never happened: {what}");
}

/// F10: a black hole: two attempts, SERVFAIL, `. NS` probes with RD=1 that fail and count.
#[tokio::test]
async fn f10_black_hole() {
    let u1 = FakeUpstream::start(|_| Action::Drop).await.unwrap();
    let h = Harness::new(
        &corefile(&[u1.addr()], &["read_timeout 100ms", "health_check 50ms"]),
        None,
    );
    let req = a_query("a.example.");
    let outcome = h.ask(&req).await;
    assert_eq!(rcode_of(&outcome), ResponseCode::ServFail);
    let failure = outcome.unwrap_err();
    assert!(failure.error.is_some());
    assert_eq!(client_queries(&u1), 2);
    eventually("a probe", || !probes(&u1, ".").is_empty()).await;
    assert!(probes(&u1, ".")[0].message.metadata.recursion_desired);
    assert!(probes(&u1, ".")[0].message.edns.is_none());
    // A probe times out after 1 s: failures are counted and the upstream goes down.
    eventually("probe failures", || h.upstream(0, 0).fails() >= 1).await;
    let m = h.metrics();
    let to = format!("to=\"{}\"", u1.addr());
    assert!(series(&m, "coredns_proxy_healthcheck_failures_total", &[&to]) >= 1.0);
    // No reply, no duration observed.
    assert_eq!(
        series(&m, "coredns_proxy_request_duration_seconds_count", &[&to]),
        0.0
    );
}

/// F12: every upstream down + failfast → SERVFAIL at once, nothing sent; without failfast
/// one random upstream is tried. Both count `healthcheck_broken`.
#[tokio::test]
async fn f12_all_down() {
    let u1 = FakeUpstream::start(|_| Action::Drop).await.unwrap();
    let u2 = FakeUpstream::start(|_| Action::Drop).await.unwrap();
    let options = [
        "max_fails 1",
        "health_check 100ms",
        "read_timeout 100ms",
        "failfast_all_unhealthy_upstreams",
    ];
    let h = Harness::new(&corefile(&[u1.addr(), u2.addr()], &options), None);
    let req = a_query("a.example.");
    assert_eq!(rcode_of(&h.ask(&req).await), ResponseCode::ServFail);
    eventually("both down", || {
        h.upstream(0, 0).is_down(1) && h.upstream(0, 1).is_down(1)
    })
    .await;
    let before = (client_queries(&u1), client_queries(&u2));
    assert_eq!(rcode_of(&h.ask(&req).await), ResponseCode::ServFail);
    assert_eq!((client_queries(&u1), client_queries(&u2)), before);
    assert_eq!(
        series(
            &h.metrics(),
            "coredns_forward_healthcheck_broken_total",
            &[]
        ),
        1.0
    );

    // Same upstreams, no failfast: once all are down, one random upstream is tried.
    let h = Harness::new(&corefile(&[u1.addr(), u2.addr()], &options[..3]), None);
    assert_eq!(rcode_of(&h.ask(&req).await), ResponseCode::ServFail);
    eventually("both down", || {
        h.upstream(0, 0).is_down(1) && h.upstream(0, 1).is_down(1)
    })
    .await;
    let before = client_queries(&u1) + client_queries(&u2);
    assert_eq!(rcode_of(&h.ask(&req).await), ResponseCode::ServFail);
    assert_eq!(client_queries(&u1) + client_queries(&u2), before + 1);
}

/// F22: the probe asks `example.org. NS` with RD=0; a reply ends the loop and the client
/// gets its answer from the second attempt.
#[tokio::test]
async fn f22_probe_domain_and_no_rec() {
    let first = Arc::new(AtomicUsize::new(0));
    let counter = first.clone();
    let u1 = FakeUpstream::start(move |seen| {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            Action::Drop
        } else {
            Action::Reply(replies::answer_a(&seen.message, 300, IP))
        }
    })
    .await
    .unwrap();
    let h = Harness::new(
        &corefile(
            &[u1.addr()],
            &[
                "health_check 1s no_rec domain example.org",
                "read_timeout 100ms",
            ],
        ),
        None,
    );
    let req = a_query("a.example.");
    assert_eq!(client_view(&req, &h.ask(&req).await).answers.len(), 1);
    eventually("the probe", || !probes(&u1, "example.org.").is_empty()).await;
    assert!(
        !probes(&u1, "example.org.")[0]
            .message
            .metadata
            .recursion_desired
    );
    eventually("probe loop ends", || !h.upstream(0, 0).is_probing()).await;
    assert_eq!(h.upstream(0, 0).fails(), 0);
}

/// `max_fails 0`: never health-checked.
#[tokio::test]
async fn max_fails_zero_never_probes() {
    let u1 = FakeUpstream::start(|_| Action::Drop).await.unwrap();
    let h = Harness::new(
        &corefile(&[u1.addr()], &["max_fails 0", "read_timeout 50ms"]),
        None,
    );
    assert_eq!(
        rcode_of(&h.ask(&a_query("a.example.")).await),
        ResponseCode::ServFail
    );
    assert!(!h.upstream(0, 0).is_probing());
    assert_eq!(u1.count(), 2);
}

/// `max_connect_attempts 1`: one failed exchange ends the query.
#[tokio::test]
async fn max_connect_attempts_caps_failures() {
    let u1 = FakeUpstream::start(|_| Action::Drop).await.unwrap();
    let u2 = FakeUpstream::start(|_| Action::Drop).await.unwrap();
    let h = Harness::new(
        &corefile(
            &[u1.addr(), u2.addr()],
            &["max_connect_attempts 1", "read_timeout 50ms", "max_fails 0"],
        ),
        None,
    );
    assert_eq!(
        rcode_of(&h.ask(&a_query("a.example.")).await),
        ResponseCode::ServFail
    );
    assert_eq!(u1.count() + u2.count(), 1);
}

/// A late answer (after `read_timeout`) fails that attempt; the retry gets a fresh ID and
/// the late datagram for the old one is never taken as the reply.
#[tokio::test]
async fn late_answer_then_retry() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let u1 = FakeUpstream::start(move |seen| {
        let answer = Action::Reply(replies::answer_a(&seen.message, 300, IP));
        if seen
            .question()
            .is_some_and(|q| q.query_type() == RecordType::A)
            && counter.fetch_add(1, Ordering::SeqCst) == 0
        {
            Action::delayed(Duration::from_millis(250), answer)
        } else {
            answer
        }
    })
    .await
    .unwrap();
    let h = Harness::new(&corefile(&[u1.addr()], &["read_timeout 100ms"]), None);
    let req = a_query("a.example.");
    assert_eq!(client_view(&req, &h.ask(&req).await).answers.len(), 1);
    let ids: Vec<u16> = u1
        .seen()
        .iter()
        .filter(|s| s.asks("a.example.", RecordType::A))
        .map(|s| s.message.metadata.id)
        .collect();
    assert_eq!(ids.len(), 2);
}

/// A TCP reset fails the attempt (and starts a probe); the next attempt succeeds.
#[tokio::test]
async fn tcp_reset_fails_the_attempt() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let u1 = FakeUpstream::start(move |seen| {
        if seen.proto == Proto::Tcp
            && seen
                .question()
                .is_some_and(|q| q.query_type() == RecordType::A)
            && counter.fetch_add(1, Ordering::SeqCst) == 0
        {
            Action::ResetTcp
        } else {
            Action::Reply(replies::answer_a(&seen.message, 300, IP))
        }
    })
    .await
    .unwrap();
    let h = Harness::new(&corefile(&[u1.addr()], &["force_tcp"]), None);
    let req = a_query("a.example.");
    assert_eq!(client_view(&req, &h.ask(&req).await).answers.len(), 1);
    eventually("a TCP probe", || {
        probes(&u1, ".").iter().any(|s| s.proto == Proto::Tcp)
    })
    .await;
}

/// A pooled TCP connection the upstream closed is redone on a new one: not a failed
/// attempt, no health check.
#[tokio::test]
async fn closed_pooled_connection_is_redialled() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let u1 = FakeUpstream::start(move |seen| {
        if counter.fetch_add(1, Ordering::SeqCst) == 1 {
            Action::Close
        } else {
            Action::Reply(replies::answer_a(&seen.message, 300, IP))
        }
    })
    .await
    .unwrap();
    let h = Harness::new(&corefile(&[u1.addr()], &["force_tcp", "max_fails 1"]), None);
    for _ in 0..2 {
        let req = a_query("a.example.");
        assert_eq!(client_view(&req, &h.ask(&req).await).answers.len(), 1);
    }
    assert_eq!(u1.count(), 3);
    assert!(!h.upstream(0, 0).is_probing());
    assert!(probes(&u1, ".").is_empty());
    let sources: std::collections::HashSet<_> = u1.seen().iter().map(|s| s.source).collect();
    assert_eq!(sources.len(), 2);
}

/// An upstream that refuses at once (nothing listening): the attempt fails without waiting
/// for the read timeout, and the query still ends in SERVFAIL.
#[tokio::test]
async fn refused_port_fails_fast() {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    drop(socket);
    let h = Harness::new(&corefile(&[addr], &["max_fails 0"]), None);
    assert_eq!(
        rcode_of(&h.ask(&a_query("a.example.")).await),
        ResponseCode::ServFail
    );
}
