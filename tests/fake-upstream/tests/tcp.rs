//! Every action observed over TCP with a plain tokio client: framing, several queries per
//! connection, resets and clean closes, source ports.

mod common;

use std::collections::HashSet;
use std::io::ErrorKind;
use std::net::Ipv4Addr;

use common::*;
use fake_upstream::replies;
use fake_upstream::{Action, FakeUpstream, Proto};
use tokio::io::AsyncWriteExt;

const IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);

#[tokio::test]
async fn udp_and_tcp_share_the_port() {
    let fake = FakeUpstream::start(replies::echo_a(60, IP)).await.unwrap();
    assert!(fake.addr().ip().is_loopback());
    let over_udp = udp_exchange(fake.addr(), &query(1, "a.test.")).await;
    let over_tcp = tcp_exchange(fake.addr(), &query(2, "a.test.")).await;
    assert_eq!(over_udp.metadata.id, 1);
    assert_eq!(over_tcp.metadata.id, 2);
    assert_eq!(over_tcp.answers, over_udp.answers);
    let protos: Vec<Proto> = fake.seen().iter().map(|s| s.proto).collect();
    assert_eq!(protos, vec![Proto::Udp, Proto::Tcp]);
}

#[tokio::test]
async fn several_pipelined_queries_on_one_connection_are_answered_in_order() {
    let fake = FakeUpstream::start(replies::echo_a(60, IP)).await.unwrap();
    let mut stream = tcp_client(fake.addr()).await;
    // All three written before any answer is read.
    for id in [10, 11, 12] {
        write_frame(&mut stream, &wire(&query(id, "p.test."))).await;
    }
    for id in [10, 11, 12] {
        let reply = decode(&read_frame(&mut stream).await.unwrap());
        assert_eq!(reply.metadata.id, id);
    }
    let seen = fake.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|s| s.source == seen[0].source));
    assert_eq!(seen[0].wire, wire(&query(10, "p.test.")));
}

#[tokio::test]
async fn each_connection_is_recorded_with_its_source_port() {
    let fake = FakeUpstream::start(replies::echo_a(60, IP)).await.unwrap();
    let first = tcp_client(fake.addr()).await;
    let second = tcp_client(fake.addr()).await;
    let mut expected = HashSet::new();
    for (id, mut stream) in [(1, first), (2, second)] {
        expected.insert(stream.local_addr().unwrap());
        write_frame(&mut stream, &wire(&query(id, "s.test."))).await;
        read_frame(&mut stream).await.unwrap();
    }
    let sources: HashSet<_> = fake.seen().iter().map(|s| s.source).collect();
    assert_eq!(sources, expected);
}

#[tokio::test]
async fn drop_keeps_the_connection_open_for_the_next_query() {
    let fake = FakeUpstream::start(|seen| {
        if seen.message.metadata.id == 1 {
            Action::Drop
        } else {
            Action::Reply(replies::reply(&seen.message))
        }
    })
    .await
    .unwrap();
    let mut stream = tcp_client(fake.addr()).await;
    write_frame(&mut stream, &wire(&query(1, "a.test."))).await;
    write_frame(&mut stream, &wire(&query(2, "a.test."))).await;
    // The first frame back answers query 2: query 1 got nothing, the connection lived on.
    assert_eq!(
        decode(&read_frame(&mut stream).await.unwrap()).metadata.id,
        2
    );
}

#[tokio::test]
async fn reset_closes_with_rst() {
    let fake = FakeUpstream::start(|_| Action::ResetTcp).await.unwrap();
    let mut stream = tcp_client(fake.addr()).await;
    write_frame(&mut stream, &wire(&query(1, "a.test."))).await;
    let error = read_frame(&mut stream).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionReset);
}

#[tokio::test]
async fn close_ends_the_connection_cleanly() {
    let fake = FakeUpstream::start(|_| Action::Close).await.unwrap();
    let mut stream = tcp_client(fake.addr()).await;
    write_frame(&mut stream, &wire(&query(1, "a.test."))).await;
    let error = read_frame(&mut stream).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnexpectedEof);
}

#[tokio::test]
async fn several_then_reset_sends_what_came_before_the_reset() {
    let fake = FakeUpstream::start(|seen| {
        Action::Several(vec![
            Action::Raw(replies::wrong_id(&seen.message)),
            Action::ResetTcp,
            Action::Reply(replies::reply(&seen.message)),
        ])
    })
    .await
    .unwrap();
    let mut stream = tcp_client(fake.addr()).await;
    write_frame(&mut stream, &wire(&query(50, "a.test."))).await;
    let wrong = decode(&read_frame(&mut stream).await.unwrap());
    assert_eq!(wrong.metadata.id, 51);
    // Nothing after the reset: the reply queued behind it is never sent.
    let error = read_frame(&mut stream).await.unwrap_err();
    assert!(
        matches!(
            error.kind(),
            ErrorKind::ConnectionReset | ErrorKind::UnexpectedEof
        ),
        "{error}"
    );
}

#[tokio::test]
async fn raw_is_framed_and_unframed_is_not() {
    let fake = FakeUpstream::start(|seen| match seen.message.metadata.id {
        1 => Action::Raw(vec![1, 2, 3]),
        _ => Action::Unframed(vec![0, 5, 9]),
    })
    .await
    .unwrap();
    let mut stream = tcp_client(fake.addr()).await;
    write_frame(&mut stream, &wire(&query(1, "a.test."))).await;
    assert_eq!(read_frame(&mut stream).await.unwrap(), vec![1, 2, 3]);
    write_frame(&mut stream, &wire(&query(2, "a.test."))).await;
    // The bytes 0,5 read as a length of 5, and only one byte follows.
    let mut unframed = [0u8; 3];
    tokio::io::AsyncReadExt::read_exact(&mut stream, &mut unframed)
        .await
        .unwrap();
    assert_eq!(unframed, [0, 5, 9]);
}

#[tokio::test]
async fn garbage_frames_are_skipped_and_the_connection_goes_on() {
    let fake = FakeUpstream::start(|seen| Action::Reply(replies::reply(&seen.message)))
        .await
        .unwrap();
    let mut stream = tcp_client(fake.addr()).await;
    write_frame(&mut stream, &[0xff; 3]).await;
    write_frame(&mut stream, &[]).await;
    write_frame(&mut stream, &wire(&query(8, "a.test."))).await;
    assert_eq!(
        decode(&read_frame(&mut stream).await.unwrap()).metadata.id,
        8
    );
    assert_eq!(fake.count(), 1);
}

#[tokio::test]
async fn a_connection_cut_mid_frame_does_not_stop_the_server() {
    let fake = FakeUpstream::start(|seen| Action::Reply(replies::reply(&seen.message)))
        .await
        .unwrap();
    let mut stream = tcp_client(fake.addr()).await;
    // A length of 100 and 2 bytes, then the client goes away.
    stream.write_all(&[0, 100, 1, 2]).await.unwrap();
    stream.shutdown().await.unwrap();
    drop(stream);
    assert_eq!(
        tcp_exchange(fake.addr(), &query(3, "a.test."))
            .await
            .metadata
            .id,
        3
    );
}

#[tokio::test]
async fn delay_on_a_connection_holds_later_queries_behind_it() {
    let delay = std::time::Duration::from_millis(200);
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
    let mut stream = tcp_client(fake.addr()).await;
    let sent = std::time::Instant::now();
    write_frame(&mut stream, &wire(&query(1, "slow.test."))).await;
    write_frame(&mut stream, &wire(&query(2, "fast.test."))).await;
    assert_eq!(
        decode(&read_frame(&mut stream).await.unwrap()).metadata.id,
        1
    );
    assert_eq!(
        decode(&read_frame(&mut stream).await.unwrap()).metadata.id,
        2
    );
    // A sleep lasts at least its duration, so this bound cannot flake.
    assert!(sent.elapsed() >= delay);
}
