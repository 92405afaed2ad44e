//! Every action observed over UDP with a plain tokio client.

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::*;
use fake_upstream::replies::{self, WRONG_A};
use fake_upstream::{Action, FakeUpstream, Proto};
use hickory_proto::op::{MessageType, ResponseCode};
use hickory_proto::rr::{RData, RecordType};

const IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

fn a_addresses(message: &hickory_proto::op::Message) -> Vec<Ipv4Addr> {
    message
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn reply_gets_the_query_id_and_is_recorded() {
    // The script builds the reply with a different ID: Reply must write the query's.
    let fake = FakeUpstream::start(|seen| {
        let mut reply = replies::answer_a(&seen.message, 60, IP);
        reply.metadata.id = 0;
        Action::Reply(reply)
    })
    .await
    .unwrap();
    let query = query(4242, "WwW.Example.ORG.");
    let reply = udp_exchange(fake.addr(), &query).await;
    assert_eq!(reply.metadata.id, 4242);
    assert_eq!(reply.metadata.message_type, MessageType::Response);
    assert!(reply.metadata.recursion_desired);
    assert!(reply.metadata.recursion_available);
    assert_eq!(reply.queries, query.queries);
    assert_eq!(a_addresses(&reply), vec![IP]);
    // The owner name keeps the query's case.
    assert_eq!(reply.answers[0].name.to_ascii(), "WwW.Example.ORG.");
    assert_eq!(reply.answers[0].ttl, 60);

    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(fake.count(), 1);
    assert_eq!(seen[0].proto, Proto::Udp);
    assert_eq!(seen[0].message.metadata.id, 4242);
    assert_eq!(seen[0].wire, wire(&query));
    assert!(seen[0].source.ip().is_loopback());
    assert!(seen[0].asks("www.example.org.", RecordType::A));
    assert!(!seen[0].asks("www.example.org.", RecordType::AAAA));
    assert!(!seen[0].asks("example.org.", RecordType::A));
    assert!(!seen[0].asks("not a name..", RecordType::A));
}

#[tokio::test]
async fn echo_a_answers_a_and_nodata_for_other_types() {
    let fake = FakeUpstream::start(replies::echo_a(30, IP)).await.unwrap();
    let a = udp_exchange(fake.addr(), &query(1, "MiXeD.test.")).await;
    assert_eq!(a_addresses(&a), vec![IP]);
    assert_eq!(a.answers[0].name.to_ascii(), "MiXeD.test.");
    let aaaa = udp_exchange(fake.addr(), &query_type(2, "mixed.test.", RecordType::AAAA)).await;
    assert_eq!(aaaa.metadata.response_code, ResponseCode::NoError);
    assert!(aaaa.answers.is_empty());
}

#[tokio::test]
async fn raw_bytes_go_out_unchanged() {
    let fake = FakeUpstream::start(|_| Action::Raw(vec![0xde, 0xad, 0xbe, 0xef]))
        .await
        .unwrap();
    let socket = udp_client(fake.addr()).await;
    socket.send(&wire(&query(7, "a.test."))).await.unwrap();
    assert_eq!(recv_datagram(&socket).await, vec![0xde, 0xad, 0xbe, 0xef]);
}

#[tokio::test]
async fn several_sends_a_wrong_id_then_the_answer_on_the_same_socket() {
    let fake = FakeUpstream::start(|seen| {
        Action::Several(vec![
            Action::Raw(replies::wrong_id(&seen.message)),
            Action::Reply(replies::answer_a(&seen.message, 60, IP)),
        ])
    })
    .await
    .unwrap();
    let socket = udp_client(fake.addr()).await;
    socket.send(&wire(&query(100, "a.test."))).await.unwrap();
    let first = decode(&recv_datagram(&socket).await);
    let second = decode(&recv_datagram(&socket).await);
    assert_eq!(first.metadata.id, 101);
    assert_eq!(a_addresses(&first), vec![WRONG_A]);
    assert_eq!(second.metadata.id, 100);
    assert_eq!(a_addresses(&second), vec![IP]);
}

#[tokio::test]
async fn drop_never_answers() {
    // Query 1 is dropped; query 2 on the same socket is answered. The first datagram to
    // arrive is query 2's answer, so query 1 got none.
    let fake = FakeUpstream::start(|seen| {
        if seen.message.metadata.id == 1 {
            Action::Drop
        } else {
            Action::Reply(replies::reply(&seen.message))
        }
    })
    .await
    .unwrap();
    let socket = udp_client(fake.addr()).await;
    socket.send(&wire(&query(1, "a.test."))).await.unwrap();
    assert!(fake.wait_for(1, PATIENCE).await);
    socket.send(&wire(&query(2, "a.test."))).await.unwrap();
    assert_eq!(decode(&recv_datagram(&socket).await).metadata.id, 2);
    assert_eq!(fake.count(), 2);
}

#[tokio::test]
async fn reset_and_close_on_udp_are_silence() {
    let fake = FakeUpstream::start(|seen| match seen.message.metadata.id {
        1 => Action::ResetTcp,
        2 => Action::Close,
        _ => Action::Reply(replies::reply(&seen.message)),
    })
    .await
    .unwrap();
    let socket = udp_client(fake.addr()).await;
    for id in 1..=3 {
        socket.send(&wire(&query(id, "a.test."))).await.unwrap();
        assert!(fake.wait_for(usize::from(id), PATIENCE).await);
    }
    assert_eq!(decode(&recv_datagram(&socket).await).metadata.id, 3);
}

#[tokio::test]
async fn delay_answers_late_without_holding_up_other_queries() {
    let delay = Duration::from_millis(300);
    let fake = FakeUpstream::start(move |seen| {
        let answer = Action::Reply(replies::reply(&seen.message));
        if seen.message.metadata.id == 1 {
            Action::delayed(delay, answer)
        } else {
            answer
        }
    })
    .await
    .unwrap();
    let socket = udp_client(fake.addr()).await;
    let sent = Instant::now();
    socket.send(&wire(&query(1, "slow.test."))).await.unwrap();
    assert!(fake.wait_for(1, PATIENCE).await);
    socket.send(&wire(&query(2, "fast.test."))).await.unwrap();
    // The undelayed query overtakes the delayed one.
    assert_eq!(decode(&recv_datagram(&socket).await).metadata.id, 2);
    assert_eq!(decode(&recv_datagram(&socket).await).metadata.id, 1);
    // A sleep lasts at least its duration, so this bound cannot flake.
    assert!(sent.elapsed() >= delay);
}

#[tokio::test]
async fn builders_nxdomain_truncated_rcode_many_a_wrong_question() {
    let fake = FakeUpstream::start(|seen| {
        let q = &seen.message;
        Action::Reply(match q.metadata.id {
            1 => replies::nxdomain_with_soa(q, 300, 60),
            2 => replies::truncated(q),
            3 => replies::with_rcode(q, ResponseCode::ServFail),
            4 => replies::many_a(q, 30),
            5 => replies::wrong_question(q, &name("other.test.")),
            _ => replies::nodata_with_soa(q, 100, 200),
        })
    })
    .await
    .unwrap();

    let nx = udp_exchange(fake.addr(), &query(1, "nx.example.org.")).await;
    assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);
    assert!(nx.answers.is_empty());
    assert_eq!(nx.authorities.len(), 1);
    assert_eq!(nx.authorities[0].name.to_ascii(), "example.org.");
    assert_eq!(nx.authorities[0].ttl, 300);
    match &nx.authorities[0].data {
        RData::SOA(soa) => assert_eq!(soa.minimum, 60),
        other => panic!("not an SOA: {other:?}"),
    }

    let tc = udp_exchange(fake.addr(), &query(2, "big.test.")).await;
    assert!(tc.metadata.truncation);
    assert_eq!(a_addresses(&tc), vec![replies::TRUNCATED_A]);

    let servfail = udp_exchange(fake.addr(), &query(3, "a.test.")).await;
    assert_eq!(servfail.metadata.response_code, ResponseCode::ServFail);

    let many_query = query(4, "m.test.");
    let socket = udp_client(fake.addr()).await;
    socket.send(&wire(&many_query)).await.unwrap();
    let many_wire = recv_datagram(&socket).await;
    let many = decode(&many_wire);
    assert_eq!(many.answers.len(), 30);
    let addresses = a_addresses(&many);
    assert_eq!(addresses[0], Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(addresses[29], Ipv4Addr::new(10, 0, 0, 30));
    assert!(
        many_wire.len() <= 512,
        "30 A records for a short name fit 512 bytes"
    );

    let wrong = udp_exchange(fake.addr(), &query(5, "asked.test.")).await;
    assert_eq!(wrong.metadata.id, 5);
    assert_eq!(wrong.queries[0].name().to_ascii(), "other.test.");
    assert_eq!(a_addresses(&wrong), vec![WRONG_A]);

    let nodata = udp_exchange(fake.addr(), &query(6, "a.example.org.")).await;
    assert_eq!(nodata.metadata.response_code, ResponseCode::NoError);
    assert!(nodata.answers.is_empty());
    assert_eq!(nodata.authorities.len(), 1);
}

#[tokio::test]
async fn garbage_is_skipped_and_serving_goes_on() {
    let fake = FakeUpstream::start(|seen| Action::Reply(replies::reply(&seen.message)))
        .await
        .unwrap();
    let socket = udp_client(fake.addr()).await;
    socket.send(&[0xff; 5]).await.unwrap();
    socket.send(&[]).await.unwrap();
    socket.send(&wire(&query(9, "a.test."))).await.unwrap();
    assert_eq!(decode(&recv_datagram(&socket).await).metadata.id, 9);
    assert_eq!(fake.count(), 1, "garbage is not recorded");
}
