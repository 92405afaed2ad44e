//! DNS over TLS, observed with a tokio-rustls client that trusts only the fake's CA.

mod common;

use std::io::ErrorKind;
use std::net::Ipv4Addr;

use common::*;
use fake_upstream::replies;
use fake_upstream::{Action, FakeUpstream, Proto, TLS_SERVER_NAME};

const IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 11);

#[tokio::test]
async fn answers_over_tls_verified_by_name_and_by_ip() {
    let fake = FakeUpstream::start_tls(replies::echo_a(60, IP))
        .await
        .unwrap();
    let ca = fake.tls_ca_pem().expect("a DoT fake has a CA").to_string();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
    for (id, server_name) in [(1, TLS_SERVER_NAME), (2, "127.0.0.1")] {
        let mut stream = tls_client(fake.addr(), &ca, server_name).await.unwrap();
        // Two queries on the one connection.
        for offset in [0, 100] {
            write_frame(&mut stream, &wire(&query(id + offset, "t.test."))).await;
            let reply = decode(&read_frame(&mut stream).await.unwrap());
            assert_eq!(reply.metadata.id, id + offset);
            assert_eq!(reply.answers.len(), 1);
        }
    }
    let seen = fake.seen();
    assert_eq!(seen.len(), 4);
    assert!(seen.iter().all(|s| s.proto == Proto::Tls));
}

#[tokio::test]
async fn another_fakes_ca_is_not_trusted() {
    let fake = FakeUpstream::start_tls(replies::echo_a(60, IP))
        .await
        .unwrap();
    let stranger = FakeUpstream::start_tls(replies::echo_a(60, IP))
        .await
        .unwrap();
    let wrong_ca = stranger.tls_ca_pem().unwrap();
    let error = tls_client(fake.addr(), wrong_ca, TLS_SERVER_NAME)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidData, "{error}");
    // A name the certificate does not carry is refused too.
    let error = tls_client(fake.addr(), fake.tls_ca_pem().unwrap(), "other.test")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidData, "{error}");
    // And the fake still serves a good client.
    let mut stream = tls_client(fake.addr(), fake.tls_ca_pem().unwrap(), TLS_SERVER_NAME)
        .await
        .unwrap();
    write_frame(&mut stream, &wire(&query(5, "t.test."))).await;
    assert_eq!(
        decode(&read_frame(&mut stream).await.unwrap()).metadata.id,
        5
    );
}

#[tokio::test]
async fn plain_tcp_and_udp_are_not_served() {
    let fake = FakeUpstream::start_tls(replies::echo_a(60, IP))
        .await
        .unwrap();
    // Plain DNS over TCP to the TLS port is no TLS handshake: the server drops it.
    let mut stream = tcp_client(fake.addr()).await;
    write_frame(&mut stream, &wire(&query(1, "t.test."))).await;
    assert!(read_frame(&mut stream).await.is_err());
    // Nothing listens on UDP there: loopback reports the port unreachable.
    let socket = udp_client(fake.addr()).await;
    socket.send(&wire(&query(2, "t.test."))).await.unwrap();
    let mut buf = [0u8; 512];
    let error = tokio::time::timeout(PATIENCE, socket.recv(&mut buf))
        .await
        .expect("an error in time")
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(fake.count(), 0);
}

#[tokio::test]
async fn reset_and_drop_over_tls() {
    let fake = FakeUpstream::start_tls(|seen| match seen.message.metadata.id {
        1 => Action::Drop,
        2 => Action::Reply(replies::reply(&seen.message)),
        _ => Action::ResetTcp,
    })
    .await
    .unwrap();
    let mut stream = tls_client(fake.addr(), fake.tls_ca_pem().unwrap(), TLS_SERVER_NAME)
        .await
        .unwrap();
    write_frame(&mut stream, &wire(&query(1, "t.test."))).await;
    write_frame(&mut stream, &wire(&query(2, "t.test."))).await;
    assert_eq!(
        decode(&read_frame(&mut stream).await.unwrap()).metadata.id,
        2
    );
    write_frame(&mut stream, &wire(&query(3, "t.test."))).await;
    let error = read_frame(&mut stream).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error}");
}

#[tokio::test]
async fn a_plain_fake_has_no_ca() {
    let fake = FakeUpstream::start(replies::echo_a(60, IP)).await.unwrap();
    assert!(fake.tls_ca_pem().is_none());
}
