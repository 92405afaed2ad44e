//! C1–C23 of plugins-resolution.md §9 (C24 is in `options`). Times are driven by the paused
//! tokio clock; "U1" is the scripted [`Upstream`].

use plugin::Transport;
use plugin::proto::op::{Edns, ResponseCode};
use plugin::proto::rr::rdata::NULL;
use plugin::proto::rr::{RData, Record, RecordType};

use super::support::*;

fn answering_a(ttl: u32) -> std::sync::Arc<Upstream> {
    Upstream::new(move |req, _| {
        Step::Answer(reply(
            req,
            ResponseCode::NoError,
            vec![a("a.", ttl, 1)],
            vec![],
        ))
    })
}

#[tokio::test(start_paused = true)]
async fn c1_ttl_is_capped_then_counts_down_and_hits_are_authoritative() {
    let h = Harness::new("cache 30", answering_a(300));
    let req = q("a.", RecordType::A).build();
    let first = h.ask(&req).await.unwrap();
    assert_eq!(ttls(&first), [30]);
    assert!(
        !first.flags.authoritative,
        "a miss carries the upstream's AA"
    );
    at_plus(10).await;
    let second = h.ask(&req).await.unwrap();
    assert_eq!(ttls(&second), [20]);
    assert!(second.flags.authoritative);
    assert!(second.flags.recursion_available);
    assert_eq!(second.plugin, "cache");
    assert_eq!(h.upstream.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn c2_ttls_are_made_uniform() {
    let up = Upstream::new(|req, _| {
        Step::Answer(reply(
            req,
            ResponseCode::NoError,
            vec![cname("w.", 3600, "t."), a("t.", 20, 1)],
            vec![],
        ))
    });
    let h = Harness::new("cache", up);
    let req = q("w.", RecordType::A).build();
    assert_eq!(ttls(&h.ask(&req).await.unwrap()), [20, 20]);
    at_plus(5).await;
    assert_eq!(ttls(&h.ask(&req).await.unwrap()), [15, 15]);
    assert_eq!(h.upstream.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn c3_short_ttls_are_raised_to_minttl_and_expire() {
    let h = Harness::new("cache", answering_a(2));
    let req = q("a.", RecordType::A).build();
    assert_eq!(ttls(&h.ask(&req).await.unwrap()), [5]);
    at_plus(3).await;
    assert_eq!(ttls(&h.ask(&req).await.unwrap()), [2]);
    assert_eq!(h.upstream.calls(), 1);
    at_plus(3).await;
    assert_eq!(ttls(&h.ask(&req).await.unwrap()), [5]);
    assert_eq!(h.upstream.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn c4_minttl_zero_with_ttl_zero_is_not_stored() {
    let h = Harness::new("cache {\nsuccess 10000 3600 0\n}", answering_a(0));
    let req = q("a.", RecordType::A).build();
    for _ in 0..2 {
        assert_eq!(ttls(&h.ask(&req).await.unwrap()), [0]);
    }
    assert_eq!(h.upstream.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn c5_nxdomain_uses_the_soa_record_ttl() {
    let up = Upstream::new(|req, _| {
        Step::Answer(reply(
            req,
            ResponseCode::NXDomain,
            vec![],
            vec![soa("example.", 3600, 60)],
        ))
    });
    let h = Harness::new("cache", up);
    let req = q("nx.example.", RecordType::A).build();
    let first = h.ask(&req).await.unwrap();
    assert_eq!(
        (first.rcode, ttls(&first)),
        (ResponseCode::NXDomain, vec![1800])
    );
    at_plus(1).await;
    let second = h.ask(&req).await.unwrap();
    assert_eq!(
        (second.rcode, ttls(&second)),
        (ResponseCode::NXDomain, vec![1799])
    );
    assert_eq!(h.upstream.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn c6_nxdomain_without_soa_is_not_stored() {
    let up =
        Upstream::new(|req, _| Step::Answer(reply(req, ResponseCode::NXDomain, vec![], vec![])));
    let h = Harness::new("cache", up);
    let req = q("nx.example.", RecordType::A).build();
    for _ in 0..2 {
        assert_eq!(h.ask(&req).await.unwrap().rcode, ResponseCode::NXDomain);
    }
    assert_eq!(h.upstream.calls(), 2);
}

fn servfail_writer() -> std::sync::Arc<Upstream> {
    Upstream::new(|req, _| Step::Answer(reply(req, ResponseCode::ServFail, vec![], vec![])))
}

#[tokio::test(start_paused = true)]
async fn c7_a_written_servfail_is_cached_for_five_seconds() {
    let h = Harness::new("cache", servfail_writer());
    let req = q("a.example.", RecordType::A).build();
    let first = h.ask(&req).await.unwrap();
    assert_eq!(first.rcode, ResponseCode::ServFail);
    at_plus(2).await;
    let second = h.ask(&req).await.unwrap();
    assert_eq!(second.rcode, ResponseCode::ServFail);
    assert!(second.flags.authoritative, "from the hit path");
    assert_eq!(h.upstream.calls(), 1);
    at_plus(4).await;
    assert_eq!(h.ask(&req).await.unwrap().rcode, ResponseCode::ServFail);
    assert_eq!(h.upstream.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn c8_servfail_zero_disables_servfail_caching() {
    let h = Harness::new("cache {\nservfail 0\n}", servfail_writer());
    let req = q("a.example.", RecordType::A).build();
    for _ in 0..2 {
        assert_eq!(h.ask(&req).await.unwrap().rcode, ResponseCode::ServFail);
    }
    assert_eq!(h.upstream.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn c9_a_servfail_the_server_writes_is_never_cached() {
    let h = Harness::new("cache", Upstream::new(|_, _| Step::BlackHole));
    let req = q("a.example.", RecordType::A).build();
    for _ in 0..2 {
        let failure = h.ask(&req).await.unwrap_err();
        assert_eq!(failure.rcode, ResponseCode::ServFail);
    }
    assert_eq!(h.upstream.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn c10_truncated_replies_are_not_stored() {
    let up = Upstream::new(|req, _| {
        Step::Answer(
            reply(req, ResponseCode::NoError, vec![a("big.", 300, 1)], vec![]).truncated(true),
        )
    });
    let h = Harness::new("cache", up);
    let req = q("big.", RecordType::A).build();
    for _ in 0..2 {
        let resp = h.ask(&req).await.unwrap();
        assert!(resp.flags.truncated);
        assert_eq!(ttls(&resp), [300]);
    }
    assert_eq!(h.upstream.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn c11_names_match_in_any_case_and_hits_replay_the_stored_owner_case() {
    let up = Upstream::new(|req, _| {
        let owner = req.qname().to_string();
        Step::Answer(reply(
            req,
            ResponseCode::NoError,
            vec![a(&owner, 300, 1)],
            vec![],
        ))
    });
    let h = Harness::new("cache", up);
    h.ask(&q("Example.ORG.", RecordType::A).build())
        .await
        .unwrap();
    let second = h
        .ask(&q("example.org.", RecordType::A).build())
        .await
        .unwrap();
    assert!(
        second.answers.records()[0]
            .name
            .eq_case(&name_of("Example.ORG."))
    );
    assert!(
        second.question.is_none(),
        "the server echoes the client's question"
    );
    assert_eq!(h.upstream.calls(), 1);
}

fn authenticated() -> std::sync::Arc<Upstream> {
    Upstream::new(|req, _| {
        let mut resp = reply(req, ResponseCode::NoError, vec![a("a.", 300, 1)], vec![]);
        resp.flags.authentic_data = true;
        Step::Answer(resp)
    })
}

#[tokio::test(start_paused = true)]
async fn c12_do_and_non_do_clients_do_not_share_entries() {
    let h = Harness::new("cache", authenticated());
    h.ask(&q("a.", RecordType::A).build()).await.unwrap();
    h.ask(&q("a.", RecordType::A).dnssec_ok().build())
        .await
        .unwrap();
    assert_eq!(h.upstream.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn c13_ad_is_kept_only_for_clients_that_ask_and_always_asked_downstream() {
    let h = Harness::new("cache", authenticated());
    let first = h.ask(&q("a.", RecordType::A).ad().build()).await.unwrap();
    assert!(first.flags.authentic_data);
    let second = h.ask(&q("a.", RecordType::A).build()).await.unwrap();
    assert!(!second.flags.authentic_data);
    assert_eq!(h.upstream.calls(), 1);
    assert!(h.upstream.seen()[0].authentic_data);
    // A client without AD: the miss still asks downstream with AD=1, the reply hides AD.
    let h = Harness::new("cache", authenticated());
    let miss = h.ask(&q("a.", RecordType::A).build()).await.unwrap();
    assert!(!miss.flags.authentic_data);
    assert!(h.upstream.seen()[0].authentic_data);
    assert_eq!(h.upstream.seen()[0].transport, Transport::Udp);
    // The stored AD is shown to a later DO=0 AD=1 client.
    assert!(
        h.ask(&q("a.", RecordType::A).ad().build())
            .await
            .unwrap()
            .flags
            .authentic_data
    );
    assert_eq!(h.upstream.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn c14_a_dangling_cname_without_soa_is_not_stored() {
    let up = Upstream::new(|req, _| {
        Step::Answer(reply(
            req,
            ResponseCode::NoError,
            vec![cname("alias.", 300, "target.")],
            vec![],
        ))
    });
    let h = Harness::new("cache", up);
    let req = q("alias.", RecordType::A).build();
    for _ in 0..2 {
        h.ask(&req).await.unwrap();
    }
    assert_eq!(h.upstream.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn c15_prefetch_refreshes_in_the_background_over_tcp() {
    let up = Upstream::new(|req, call| {
        let last = if call == 0 { 1 } else { 2 };
        Step::Answer(reply(
            req,
            ResponseCode::NoError,
            vec![a("a.", 80, last)],
            vec![],
        ))
    });
    let h = Harness::new("cache {\nprefetch 1\n}", up);
    let req = q("a.", RecordType::A).build();
    h.ask(&req).await.unwrap();
    at_plus(73).await;
    let at_73 = h.ask(&req).await.unwrap();
    assert_eq!((ttls(&at_73), addresses(&at_73)), (vec![7], vec![1]));
    assert_eq!(h.upstream.calls(), 2, "a refresh was sent");
    let refresh = &h.upstream.seen()[1];
    assert_eq!(refresh.transport, Transport::Tcp);
    assert!(refresh.authentic_data);
    at_plus(7).await;
    let at_80 = h.ask(&req).await.unwrap();
    assert_eq!((ttls(&at_80), addresses(&at_80)), (vec![73], vec![2]));
    assert_eq!(h.upstream.calls(), 2);
}

/// U1 answers TTL 60 once, then never (or as `later` says).
fn once_then(later: fn(&plugin::Request) -> Step) -> std::sync::Arc<Upstream> {
    Upstream::new(move |req, call| match call {
        0 => Step::Answer(reply(
            req,
            ResponseCode::NoError,
            vec![a("a.", 60, 1)],
            vec![],
        )),
        _ => later(req),
    })
}

#[tokio::test(start_paused = true)]
async fn c16_serve_stale_answers_at_once_with_ttl_zero_and_refreshes() {
    let h = Harness::new("cache {\nserve_stale\n}", once_then(|_| Step::BlackHole));
    let req = q("a.", RecordType::A).build();
    h.ask(&req).await.unwrap();
    at_plus(120).await;
    let stale = h.ask(&req).await.unwrap();
    assert_eq!((ttls(&stale), addresses(&stale)), (vec![0], vec![1]));
    assert_eq!(h.upstream.calls(), 2, "a refresh query reached U1");
}

#[tokio::test(start_paused = true)]
async fn c17_serve_stale_response_ttl() {
    let h = Harness::new(
        "cache {\nserve_stale 1h immediate 30s\n}",
        once_then(|_| Step::BlackHole),
    );
    let req = q("a.", RecordType::A).build();
    h.ask(&req).await.unwrap();
    at_plus(120).await;
    assert_eq!(ttls(&h.ask(&req).await.unwrap()), [30]);
}

#[tokio::test(start_paused = true)]
async fn c18_verify_asks_first_and_keeps_the_stale_entry_on_servfail() {
    let servfail =
        |req: &plugin::Request| Step::Answer(reply(req, ResponseCode::ServFail, vec![], vec![]));
    let h = Harness::new("cache {\nserve_stale 1h verify\n}", once_then(servfail));
    let req = q("a.", RecordType::A).build();
    h.ask(&req).await.unwrap();
    at_plus(120).await;
    let stale = h.ask(&req).await.unwrap();
    assert_eq!(
        (stale.rcode, ttls(&stale), addresses(&stale)),
        (ResponseCode::NoError, vec![0], vec![1])
    );
    assert_eq!(h.upstream.calls(), 2, "asked before answering");

    let fresh = |req: &plugin::Request| {
        Step::Answer(reply(
            req,
            ResponseCode::NoError,
            vec![a("a.", 60, 2)],
            vec![],
        ))
    };
    let h = Harness::new("cache {\nserve_stale 1h verify\n}", once_then(fresh));
    h.ask(&req).await.unwrap();
    at_plus(120).await;
    let refreshed = h.ask(&req).await.unwrap();
    assert_eq!(
        (ttls(&refreshed), addresses(&refreshed)),
        (vec![60], vec![2])
    );
    // Stored: the next query is a fresh hit.
    at_plus(1).await;
    assert_eq!(ttls(&h.ask(&req).await.unwrap()), [59]);
    assert_eq!(h.upstream.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn c19_past_the_stale_window_is_a_miss() {
    let h = Harness::new("cache {\nserve_stale 1h\n}", once_then(|_| Step::BlackHole));
    let req = q("a.", RecordType::A).build();
    h.ask(&req).await.unwrap();
    at_plus(3661).await;
    assert_eq!(h.ask(&req).await.unwrap_err().rcode, ResponseCode::ServFail);
}

#[tokio::test(start_paused = true)]
async fn c20_keepttl_shows_the_stored_duration() {
    let h = Harness::new("cache 30 {\nkeepttl\n}", answering_a(300));
    let req = q("a.", RecordType::A).build();
    assert_eq!(ttls(&h.ask(&req).await.unwrap()), [30]);
    at_plus(10).await;
    assert_eq!(ttls(&h.ask(&req).await.unwrap()), [30]);
}

#[tokio::test(start_paused = true)]
async fn c21_disable_success_keeps_denial_caching() {
    let up = Upstream::new(|req, _| {
        Step::Answer(if req.qname_lower().starts_with("nx.") {
            reply(
                req,
                ResponseCode::NXDomain,
                vec![],
                vec![soa("example.org.", 300, 60)],
            )
        } else {
            reply(
                req,
                ResponseCode::NoError,
                vec![a("www.example.org.", 300, 1)],
                vec![],
            )
        })
    });
    let h = Harness::new("cache {\ndisable success example.org\n}", up);
    for _ in 0..2 {
        h.ask(&q("www.example.org.", RecordType::A).build())
            .await
            .unwrap();
    }
    assert_eq!(h.upstream.calls(), 2);
    for _ in 0..2 {
        h.ask(&q("nx.example.org.", RecordType::A).build())
            .await
            .unwrap();
    }
    assert_eq!(h.upstream.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn c22_a_do_reply_with_an_expired_signature_is_not_stored() {
    let up = Upstream::new(|req, _| {
        // RRSIG A 8 1 60, expired in 1970 (expiration 2, inception 1).
        let mut rdata = vec![0, 1, 8, 1, 0, 0, 0, 60, 0, 0, 0, 2, 0, 0, 0, 1, 0, 1];
        rdata.extend_from_slice(&[0, 0]);
        let rrsig = Record::from_rdata(
            name_of("a."),
            60,
            RData::Unknown {
                code: RecordType::RRSIG,
                rdata: NULL::with(rdata),
            },
        );
        let mut resp = reply(
            req,
            ResponseCode::NoError,
            vec![a("a.", 60, 1), rrsig],
            vec![],
        );
        let mut edns = Edns::new();
        edns.set_dnssec_ok(true);
        resp.edns = Some(edns);
        Step::Answer(resp)
    });
    let h = Harness::new("cache", up);
    let req = q("a.", RecordType::A).dnssec_ok().build();
    for _ in 0..2 {
        let resp = h.ask(&req).await.unwrap();
        assert!(resp.edns.is_none(), "the OPT is stripped");
    }
    assert_eq!(h.upstream.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn c23_empty_noerror_without_soa_is_cached_five_seconds() {
    let up =
        Upstream::new(|req, _| Step::Answer(reply(req, ResponseCode::NoError, vec![], vec![])));
    let h = Harness::new("cache", up);
    let req = q("empty.", RecordType::A).build();
    h.ask(&req).await.unwrap();
    at_plus(3).await;
    h.ask(&req).await.unwrap();
    assert_eq!(h.upstream.calls(), 1);
    at_plus(3).await;
    h.ask(&req).await.unwrap();
    assert_eq!(h.upstream.calls(), 2);
}
