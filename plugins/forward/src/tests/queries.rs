//! The forward test cases of plugins-resolution.md §9 with well-behaved upstreams.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::time::Duration;

use fake_upstream::replies::{self, FIXED_TTL};
use fake_upstream::{Action, FakeUpstream, Proto};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::opt::{ClientSubnet, EdnsOption};
use hickory_proto::rr::{RData, RecordType};
use plugin::test_util::{Recorder, query};

use super::harness::{Harness, a_query, client_view, corefile, rcode_of, series, stanza};

const IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

async fn echo() -> FakeUpstream {
    FakeUpstream::start(replies::echo_a(300, IP)).await.unwrap()
}

/// F1: the answer comes back with the client's ID; upstream IDs are random; F23 (first
/// half): sequential queries reuse one socket.
#[tokio::test]
async fn f1_answer_relayed_with_the_client_id() {
    let u1 = echo().await;
    let h = Harness::new(&corefile(&[u1.addr()], &[]), None);
    for _ in 0..5 {
        let req = a_query("a.example.");
        let got = client_view(&req, &h.ask(&req).await);
        assert_eq!(got.metadata.id, 4242);
        assert_eq!(got.metadata.response_code, ResponseCode::NoError);
        assert!(!got.metadata.authoritative);
        assert_eq!(got.answers.len(), 1);
        assert_eq!(got.answers[0].ttl, 300);
        assert_eq!(got.answers[0].data, RData::A(IP.into()));
    }
    let seen = u1.seen();
    assert_eq!(seen.len(), 5);
    assert!(seen.iter().any(|s| s.message.metadata.id != 4242));
    let ports: HashSet<u16> = seen.iter().map(|s| s.source.port()).collect();
    assert_eq!(ports.len(), 1, "one pooled socket for sequential queries");
    let m = h.metrics();
    let to = format!("to=\"{}\"", u1.addr());
    assert_eq!(
        series(
            &m,
            "coredns_proxy_conn_cache_misses_total",
            &["proto=\"udp\"", &to]
        ),
        1.0
    );
    assert_eq!(
        series(
            &m,
            "coredns_proxy_conn_cache_hits_total",
            &["proto=\"udp\"", &to]
        ),
        4.0
    );
    assert_eq!(
        series(
            &m,
            "coredns_proxy_request_duration_seconds_count",
            &["proxy_name=\"forward\"", "rcode=\"NOERROR\"", &to]
        ),
        5.0
    );
}

/// F2, F3: except.
#[tokio::test]
async fn f2_f3_except() {
    let u1 = echo().await;
    let h = Harness::new(
        &stanza(".", &u1.addr().to_string(), &["except int.example"]),
        None,
    );
    let req = a_query("x.int.example.");
    assert_eq!(rcode_of(&h.ask(&req).await), ResponseCode::ServFail);
    assert_eq!(u1.count(), 0);

    let h = Harness::new(
        &stanza(
            "int.example",
            &u1.addr().to_string(),
            &["except int.example"],
        ),
        None,
    );
    let req = a_query("int.example.");
    assert_eq!(rcode_of(&h.ask(&req).await), ResponseCode::NoError);
    let req = a_query("www.int.example.");
    assert_eq!(rcode_of(&h.ask(&req).await), ResponseCode::ServFail);
    assert_eq!(u1.count(), 1);
    // Out of scope entirely: the next plugin answers.
    let next = Recorder::new();
    let h = Harness::new(
        &stanza("int.example", &u1.addr().to_string(), &[]),
        Some(next.clone()),
    );
    let req = a_query("other.example.");
    assert_eq!(h.ask(&req).await.unwrap().plugin, "recorder");
    assert_eq!(next.calls(), 1);
}

fn truncating_upstream() -> impl Fn(&fake_upstream::Seen) -> Action + Send + Sync + 'static {
    |seen| match seen.proto {
        Proto::Udp => Action::Reply(replies::truncated(&seen.message)),
        _ => Action::Reply(replies::many_a(&seen.message, 30)),
    }
}

/// F4: TC relayed as received, no retry.
#[tokio::test]
async fn f4_truncated_reply_relayed() {
    let u1 = FakeUpstream::start(truncating_upstream()).await.unwrap();
    let h = Harness::new(&corefile(&[u1.addr()], &[]), None);
    let req = a_query("big.example.");
    let outcome = h.ask(&req).await;
    let got = client_view(&req, &outcome);
    assert!(got.metadata.truncation);
    assert_eq!(got.answers.len(), 1);
    assert_eq!(got.answers[0].data, RData::A(replies::TRUNCATED_A.into()));
    assert!(u1.seen().iter().all(|s| s.proto == Proto::Udp));
    assert_eq!(u1.count(), 1);
}

/// F5: prefer_udp retries a TC reply over TCP.
#[tokio::test]
async fn f5_prefer_udp_retries_over_tcp() {
    let u1 = FakeUpstream::start(truncating_upstream()).await.unwrap();
    let h = Harness::new(&corefile(&[u1.addr()], &["prefer_udp"]), None);
    let req = query("big.example.", RecordType::A).tcp().build();
    let got = client_view(&req, &h.ask(&req).await);
    assert!(!got.metadata.truncation);
    assert_eq!(got.answers.len(), 30);
    let protos: Vec<Proto> = u1.seen().iter().map(|s| s.proto).collect();
    assert_eq!(protos, [Proto::Udp, Proto::Tcp]);
}

/// F6: force_tcp.
#[tokio::test]
async fn f6_force_tcp() {
    let u1 = FakeUpstream::start(|seen| match seen.proto {
        Proto::Udp => Action::Drop,
        _ => Action::Reply(replies::answer_a(&seen.message, 300, IP)),
    })
    .await
    .unwrap();
    let h = Harness::new(&corefile(&[u1.addr()], &["force_tcp"]), None);
    for _ in 0..2 {
        let req = a_query("a.example.");
        assert_eq!(client_view(&req, &h.ask(&req).await).answers.len(), 1);
    }
    let seen = u1.seen();
    assert!(seen.iter().all(|s| s.proto == Proto::Tcp));
    // One pooled connection served both.
    assert_eq!(seen[0].source, seen[1].source);
    let m = h.metrics();
    assert_eq!(
        series(
            &m,
            "coredns_proxy_conn_cache_hits_total",
            &["proto=\"tcp\""]
        ),
        1.0
    );
}

/// F7: a reply with the wrong ID is ignored; the right one is taken (UDP and TCP).
#[tokio::test]
async fn f7_wrong_id_ignored() {
    let u1 = FakeUpstream::start(|seen| {
        Action::Several(vec![
            Action::Raw(replies::wrong_id(&seen.message)),
            Action::Reply(replies::answer_a(&seen.message, 300, IP)),
        ])
    })
    .await
    .unwrap();
    for options in [&[][..], &["force_tcp"][..]] {
        let h = Harness::new(&corefile(&[u1.addr()], options), None);
        let req = a_query("a.example.");
        let got = client_view(&req, &h.ask(&req).await);
        assert_eq!(got.answers[0].data, RData::A(IP.into()), "{options:?}");
    }
}

/// F8: right ID, wrong question → FORMERR written, no retry, no health check.
#[tokio::test]
async fn f8_wrong_question_is_formerr() {
    let other = hickory_proto::rr::Name::from_ascii("b.example.").unwrap();
    let u1 = FakeUpstream::start(move |seen| {
        Action::Reply(replies::wrong_question(&seen.message, &other))
    })
    .await
    .unwrap();
    let h = Harness::new(&corefile(&[u1.addr()], &[]), None);
    let req = a_query("a.example.");
    let outcome = h.ask(&req).await;
    let response = outcome.as_ref().expect("forward writes the FORMERR");
    assert_eq!(response.rcode, ResponseCode::FormErr);
    let got = client_view(&req, &outcome);
    assert_eq!(got.queries[0].name().to_string(), "a.example.");
    assert!(got.answers.is_empty());
    assert_eq!(u1.count(), 1);
    assert!(!h.upstream(0, 0).is_probing());
}

/// F9: max_concurrent 1 → the second parallel query is REFUSED at once.
#[tokio::test]
async fn f9_max_concurrent() {
    let u1 = FakeUpstream::start(|seen| {
        Action::delayed(
            Duration::from_millis(200),
            Action::Reply(replies::answer_a(&seen.message, 300, IP)),
        )
    })
    .await
    .unwrap();
    let h = Harness::new(&corefile(&[u1.addr()], &["max_concurrent 1"]), None);
    let (first, second) = (a_query("a.example."), a_query("b.example."));
    let pending = h.chain.serve(&first);
    let refused = h.chain.serve(&second);
    assert!(refused.is_ready(), "rejected without waiting");
    assert_eq!(rcode_of(&refused.await), ResponseCode::Refused);
    assert_eq!(rcode_of(&pending.await), ResponseCode::NoError);
    assert_eq!(u1.count(), 1);
    assert_eq!(
        series(
            &h.metrics(),
            "coredns_forward_max_concurrent_rejects_total",
            &[]
        ),
        1.0
    );
    // The slot is free again.
    let third = a_query("c.example.");
    assert_eq!(rcode_of(&h.ask(&third).await), ResponseCode::NoError);
}

/// F11: an rcode is an answer: relayed, no probe.
#[tokio::test]
async fn f11_refused_is_relayed_without_probe() {
    let u1 = FakeUpstream::start(|seen| {
        Action::Reply(replies::with_rcode(&seen.message, ResponseCode::Refused))
    })
    .await
    .unwrap();
    let h = Harness::new(&corefile(&[u1.addr()], &[]), None);
    let req = a_query("a.example.");
    let outcome = h.ask(&req).await;
    assert_eq!(
        outcome.as_ref().map(|r| r.rcode).ok(),
        Some(ResponseCode::Refused)
    );
    assert_eq!(u1.count(), 1);
    assert!(!h.upstream(0, 0).is_probing());
}

/// F13, F14: failover.
#[tokio::test]
async fn f13_f14_failover() {
    let servfail = |seen: &fake_upstream::Seen| {
        Action::Reply(replies::with_rcode(&seen.message, ResponseCode::ServFail))
    };
    let u1 = FakeUpstream::start(servfail).await.unwrap();
    let u2 = echo().await;
    let options = ["policy sequential", "failover SERVFAIL"];
    let h = Harness::new(&corefile(&[u1.addr(), u2.addr()], &options), None);
    let req = a_query("a.example.");
    let got = client_view(&req, &h.ask(&req).await);
    assert_eq!(got.answers.len(), 1);
    assert_eq!((u1.count(), u2.count()), (1, 1));

    let u3 = FakeUpstream::start(servfail).await.unwrap();
    let h = Harness::new(&corefile(&[u1.addr(), u3.addr()], &options), None);
    let outcome = h.ask(&req).await;
    // U3's own message, written (QR=1), not a server-made error.
    assert_eq!(
        outcome.as_ref().map(|r| r.rcode).ok(),
        Some(ResponseCode::ServFail)
    );
    assert_eq!((u1.count(), u3.count()), (2, 1));
    assert!(!h.upstream(0, 0).is_probing() && !h.upstream(0, 1).is_probing());
}

/// F15, F16, F24: chained instances; `next` only hands over to another forward.
#[tokio::test]
async fn f15_f16_f24_chained_instances() {
    let nx = FakeUpstream::start(|seen| {
        Action::Reply(replies::with_rcode(&seen.message, ResponseCode::NXDomain))
    })
    .await
    .unwrap();
    let u2 = echo().await;
    let two = format!(
        "{}\n{}",
        stanza(".", &nx.addr().to_string(), &["next NXDOMAIN"]),
        stanza(".", &u2.addr().to_string(), &[])
    );
    let h = Harness::new(&two, None);
    let req = a_query("a.example.");
    assert_eq!(client_view(&req, &h.ask(&req).await).answers.len(), 1);
    assert_eq!(u2.count(), 1);

    let next = Recorder::new();
    let h = Harness::new(
        &stanza(".", &nx.addr().to_string(), &["next NXDOMAIN"]),
        Some(next.clone()),
    );
    assert_eq!(rcode_of(&h.ask(&req).await), ResponseCode::NXDomain);
    assert_eq!(next.calls(), 0);

    // next_on_nodata hands NOERROR without answers over.
    let nodata = FakeUpstream::start(|seen| Action::Reply(replies::reply(&seen.message)))
        .await
        .unwrap();
    let two = format!(
        "{}\n{}",
        stanza(".", &nodata.addr().to_string(), &["next_on_nodata"]),
        stanza(".", &u2.addr().to_string(), &[])
    );
    let h = Harness::new(&two, None);
    assert_eq!(client_view(&req, &h.ask(&req).await).answers.len(), 1);

    // F24
    let u1 = echo().await;
    let u3 = echo().await;
    let two = format!(
        "{}\n{}",
        stanza("example.org", &u1.addr().to_string(), &[]),
        stanza(".", &u3.addr().to_string(), &[])
    );
    let h = Harness::new(&two, None);
    for name in ["www.example.org.", "www.example.net."] {
        let req = a_query(name);
        assert_eq!(rcode_of(&h.ask(&req).await), ResponseCode::NoError);
    }
    assert_eq!((u1.count(), u3.count()), (1, 1));
    assert!(u1.seen()[0].asks("www.example.org.", RecordType::A));
}

/// F17 and round_robin's first pick.
#[tokio::test]
async fn f17_sequential_and_round_robin() {
    let (u1, u2) = (echo().await, echo().await);
    let h = Harness::new(
        &corefile(&[u1.addr(), u2.addr()], &["policy sequential"]),
        None,
    );
    for _ in 0..10 {
        let req = a_query("a.example.");
        h.ask(&req).await.unwrap();
    }
    assert_eq!((u1.count(), u2.count()), (10, 0));

    let h = Harness::new(
        &corefile(&[u1.addr(), u2.addr()], &["policy round_robin"]),
        None,
    );
    let req = a_query("a.example.");
    h.ask(&req).await.unwrap();
    assert_eq!(
        u2.count(),
        1,
        "the first query starts at the second upstream"
    );
    h.ask(&req).await.unwrap();
    assert_eq!(u1.count(), 11);
}

/// F18: the query goes upstream as received, only the ID changed.
#[tokio::test]
async fn f18_query_bytes_kept() {
    let u1 = FakeUpstream::start(|seen| Action::Reply(replies::echo_opt(&seen.message)))
        .await
        .unwrap();
    let h = Harness::new(&corefile(&[u1.addr()], &[]), None);
    let mut req = query("a.example.", RecordType::A).edns(1232, true).build();
    // ECS 192.0.2.0/24 added to the OPT.
    let mut message = req.message().clone();
    if let Some(edns) = message.edns.as_mut() {
        edns.options_mut()
            .insert(EdnsOption::Subnet(ClientSubnet::new(
                Ipv4Addr::new(192, 0, 2, 0).into(),
                24,
                0,
            )));
    }
    let wire = bytes::Bytes::from(message.to_vec().unwrap());
    req = plugin::Request::from_message(
        message,
        wire.clone(),
        req.client(),
        req.local(),
        req.transport(),
        req.server().clone(),
    );
    h.ask(&req).await.unwrap();
    let plain = a_query("b.example.");
    h.ask(&plain).await.unwrap();
    let seen = u1.seen();
    assert_eq!(seen[0].wire[2..], wire[2..], "identical but for the ID");
    assert!(
        seen[0]
            .message
            .edns
            .as_ref()
            .is_some_and(|e| e.max_payload() == 1232)
    );
    assert!(seen[1].message.edns.is_none());
}

/// F19: an oversized UDP reply becomes its header with TC=1.
#[tokio::test]
async fn f19_oversized_udp_reply_is_truncated() {
    let u1 = FakeUpstream::start(|seen| Action::Reply(replies::many_a(&seen.message, 40)))
        .await
        .unwrap();
    let h = Harness::new(&corefile(&[u1.addr()], &[]), None);
    let req = a_query("big.example.");
    let outcome = h.ask(&req).await;
    let got = client_view(&req, &outcome);
    assert_eq!(got.metadata.response_code, ResponseCode::NoError);
    assert!(got.metadata.truncation);
    assert!(got.answers.is_empty() && got.additionals.is_empty());
    // The socket was kept.
    assert_eq!(h.upstream(0, 0).transport.idle_counts().0, 1);
    // A TCP client gets it whole.
    let req = query("big.example.", RecordType::A).tcp().build();
    let got = client_view(&req, &h.ask(&req).await);
    assert_eq!(got.answers.len(), 40);
    assert!(got.answers.iter().all(|r| r.ttl == FIXED_TTL));
}

/// F23: an idle socket past `expire` is not reused.
#[tokio::test]
async fn f23_expired_socket_replaced() {
    let u1 = echo().await;
    let h = Harness::new(&corefile(&[u1.addr()], &["expire 150ms"]), None);
    for _ in 0..3 {
        h.ask(&a_query("a.example.")).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    h.ask(&a_query("a.example.")).await.unwrap();
    let ports: Vec<u16> = u1.seen().iter().map(|s| s.source.port()).collect();
    assert!(ports[..3].iter().all(|p| *p == ports[0]));
    assert_ne!(ports[3], ports[0]);
    // The sweeper's work, done by hand: nothing stale stays idle.
    tokio::time::sleep(Duration::from_millis(300)).await;
    h.upstream(0, 0).transport.sweep();
    assert_eq!(h.upstream(0, 0).transport.idle_counts(), (0, 0));
}

/// `max_idle_conns`: surplus connections are closed when returned.
#[tokio::test]
async fn max_idle_conns_caps_the_pool() {
    let u1 = FakeUpstream::start(|seen| {
        Action::delayed(
            Duration::from_millis(50),
            Action::Reply(replies::answer_a(&seen.message, 300, IP)),
        )
    })
    .await
    .unwrap();
    let h = Harness::new(&corefile(&[u1.addr()], &["max_idle_conns 1"]), None);
    let (a, b, c) = (
        a_query("a.example."),
        a_query("b.example."),
        a_query("c.example."),
    );
    let (ra, rb, rc) = tokio::join!(h.ask(&a), h.ask(&b), h.ask(&c));
    assert!(ra.is_ok() && rb.is_ok() && rc.is_ok());
    let ports: HashSet<u16> = u1.seen().iter().map(|s| s.source.port()).collect();
    assert_eq!(ports.len(), 3, "concurrent queries open extra sockets");
    assert_eq!(h.upstream(0, 0).transport.idle_counts().0, 1);
}

/// Label-less families exist from the start.
#[test]
fn label_less_counters_registered_at_start() {
    let hub = plugin::metrics::MetricsHub::new();
    crate::register_metrics(&hub);
    let text = hub.encode_text().unwrap();
    assert!(
        text.contains("coredns_forward_healthcheck_broken_total 0"),
        "{text}"
    );
    assert!(
        text.contains("coredns_forward_max_concurrent_rejects_total 0"),
        "{text}"
    );
    assert!(!text.contains("coredns_proxy_request_duration_seconds_count"));
}
