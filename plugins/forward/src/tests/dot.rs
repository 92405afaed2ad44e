//! DNS over TLS upstreams with a self-signed CA (issue #4 fault list): accepted with
//! `tls CA`, refused without it.

use std::net::Ipv4Addr;

use fake_upstream::{FakeUpstream, Proto, TLS_SERVER_NAME, replies};
use hickory_proto::op::ResponseCode;

use super::harness::{Harness, TempFile, a_query, client_view, rcode_of, series, stanza};

const IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

async fn dot() -> (FakeUpstream, TempFile) {
    let u = FakeUpstream::start_tls(replies::echo_a(300, IP))
        .await
        .unwrap();
    let ca = TempFile::new(u.tls_ca_pem().unwrap());
    (u, ca)
}

#[tokio::test]
async fn dot_with_the_ca_by_name_and_by_ip() {
    let (u1, ca) = dot().await;
    let tls = format!("tls {}", ca.path());
    let servername = format!("tls_servername {TLS_SERVER_NAME}");
    let cases = [
        // tls_servername
        stanza(".", &format!("tls://{}", u1.addr()), &[&tls, &servername]),
        // %name
        stanza(
            ".",
            &format!(
                "tls://{}%{TLS_SERVER_NAME}:{}",
                u1.addr().ip(),
                u1.addr().port()
            ),
            &[&tls],
        ),
        // no name: verified against the IP
        stanza(".", &format!("tls://{}", u1.addr()), &[&tls]),
    ];
    for corefile in cases {
        let h = Harness::new(&corefile, None);
        for _ in 0..2 {
            let req = a_query("a.example.");
            let got = client_view(&req, &h.ask(&req).await);
            assert_eq!(got.answers.len(), 1, "{corefile}");
        }
        let m = h.metrics();
        assert_eq!(
            series(
                &m,
                "coredns_proxy_conn_cache_misses_total",
                &["proto=\"tcp-tls\""]
            ),
            1.0
        );
        assert_eq!(
            series(
                &m,
                "coredns_proxy_conn_cache_hits_total",
                &["proto=\"tcp-tls\""]
            ),
            1.0
        );
    }
    assert!(u1.seen().iter().all(|s| s.proto == Proto::Tls));
}

#[tokio::test]
async fn dot_refused_without_the_ca() {
    let (u1, _ca) = dot().await;
    let corefile = stanza(
        ".",
        &format!("tls://{}", u1.addr()),
        &[&format!("tls_servername {TLS_SERVER_NAME}"), "max_fails 0"],
    );
    let h = Harness::new(&corefile, None);
    let req = a_query("a.example.");
    assert_eq!(rcode_of(&h.ask(&req).await), ResponseCode::ServFail);
    assert_eq!(u1.count(), 0, "no query sent over an unverified connection");
}

#[tokio::test]
async fn dot_wrong_name_refused() {
    let (u1, ca) = dot().await;
    let corefile = stanza(
        ".",
        &format!("tls://{}", u1.addr()),
        &[
            &format!("tls {}", ca.path()),
            "tls_servername other.test",
            "max_fails 0",
        ],
    );
    let h = Harness::new(&corefile, None);
    let req = a_query("a.example.");
    assert_eq!(rcode_of(&h.ask(&req).await), ResponseCode::ServFail);
    assert_eq!(u1.count(), 0);
}
