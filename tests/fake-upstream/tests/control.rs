//! Relay between two fakes, set_script mid-run, wait_for, the EDNS echo, and drop stopping
//! the server.

mod common;

use std::io::ErrorKind;
use std::net::Ipv4Addr;
use std::time::Duration;

use common::*;
use fake_upstream::replies::{self, EchoedOpt};
use fake_upstream::{Action, FakeUpstream};
use hickory_proto::rr::RData;
use hickory_proto::rr::rdata::opt::{ClientSubnet, EdnsOption};

const FIRST: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const SECOND: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);

fn only_a(message: &hickory_proto::op::Message) -> Ipv4Addr {
    match &message.answers[..] {
        [record] => match &record.data {
            RData::A(a) => a.0,
            other => panic!("not an A record: {other:?}"),
        },
        other => panic!("not one answer: {other:?}"),
    }
}

#[tokio::test]
async fn relay_passes_the_same_bytes_on_and_the_reply_back() {
    let behind = FakeUpstream::start(replies::echo_a(60, FIRST))
        .await
        .unwrap();
    let to = behind.addr();
    let front = FakeUpstream::start(move |_| Action::Relay(to))
        .await
        .unwrap();
    let query = query_with_edns(77, "Loop.Test.", 1232, true);
    for reply in [
        udp_exchange(front.addr(), &query).await,
        tcp_exchange(front.addr(), &query).await,
    ] {
        assert_eq!(reply.metadata.id, 77);
        assert_eq!(only_a(&reply), FIRST);
    }
    let relayed = behind.seen();
    assert_eq!(relayed.len(), 2);
    assert!(relayed.iter().all(|s| s.wire == wire(&query)));
    assert_eq!(front.count(), 2);
}

#[tokio::test]
async fn relay_to_a_silent_server_gives_no_answer_and_serving_goes_on() {
    let silent = FakeUpstream::start(|_| Action::Drop).await.unwrap();
    let to = silent.addr();
    let front = FakeUpstream::start(move |seen| {
        if seen.message.metadata.id == 1 {
            Action::Relay(to)
        } else {
            Action::Reply(replies::reply(&seen.message))
        }
    })
    .await
    .unwrap();
    let socket = udp_client(front.addr()).await;
    socket.send(&wire(&query(1, "a.test."))).await.unwrap();
    assert!(silent.wait_for(1, PATIENCE).await);
    socket.send(&wire(&query(2, "a.test."))).await.unwrap();
    assert_eq!(decode(&recv_datagram(&socket).await).metadata.id, 2);
}

#[tokio::test]
async fn set_script_changes_behaviour_for_later_queries() {
    let fake = FakeUpstream::start(replies::echo_a(60, FIRST))
        .await
        .unwrap();
    assert_eq!(
        only_a(&udp_exchange(fake.addr(), &query(1, "a.test.")).await),
        FIRST
    );
    fake.set_script(replies::echo_a(60, SECOND));
    assert_eq!(
        only_a(&udp_exchange(fake.addr(), &query(2, "a.test.")).await),
        SECOND
    );
    // An open TCP connection picks up the new script too.
    let mut stream = tcp_client(fake.addr()).await;
    write_frame(&mut stream, &wire(&query(3, "a.test."))).await;
    assert_eq!(
        only_a(&decode(&read_frame(&mut stream).await.unwrap())),
        SECOND
    );
    fake.set_script(replies::echo_a(60, FIRST));
    write_frame(&mut stream, &wire(&query(4, "a.test."))).await;
    assert_eq!(
        only_a(&decode(&read_frame(&mut stream).await.unwrap())),
        FIRST
    );
}

#[tokio::test]
async fn wait_for_counts_arrivals() {
    let fake = FakeUpstream::start(|_| Action::Drop).await.unwrap();
    assert!(fake.wait_for(0, Duration::ZERO).await);
    // Nothing sent: the wait ends with false.
    assert!(!fake.wait_for(1, Duration::from_millis(50)).await);
    let socket = udp_client(fake.addr()).await;
    for id in 1..=3 {
        socket.send(&wire(&query(id, "a.test."))).await.unwrap();
    }
    assert!(fake.wait_for(3, PATIENCE).await);
    let ids: Vec<u16> = fake.seen().iter().map(|s| s.message.metadata.id).collect();
    assert_eq!(ids, vec![1, 2, 3]);
    // Arrival times are in arrival order.
    let seen = fake.seen();
    assert!(seen.windows(2).all(|pair| pair[0].at <= pair[1].at));
}

#[tokio::test]
async fn echo_opt_reports_size_do_and_option_codes() {
    let fake = FakeUpstream::start(|seen| Action::Reply(replies::echo_opt(&seen.message)))
        .await
        .unwrap();

    let mut with_options = query_with_edns(1, "e.test.", 4096, true);
    if let Some(edns) = with_options.edns.as_mut() {
        edns.options_mut()
            .insert(EdnsOption::Unknown(10, vec![1; 8]));
        edns.options_mut()
            .insert(EdnsOption::Subnet(ClientSubnet::new(FIRST.into(), 24, 0)));
    }
    let reply = udp_exchange(fake.addr(), &with_options).await;
    assert_eq!(
        EchoedOpt::from_reply(&reply),
        Some(Some(EchoedOpt {
            version: 0,
            size: 4096,
            dnssec_ok: true,
            option_codes: vec![10, 8],
        }))
    );
    // The reply itself carries EDNS because the query did, with the query's DO bit.
    let reply_edns = reply.edns.expect("EDNS in the reply");
    assert!(reply_edns.flags().dnssec_ok);
    assert_eq!(reply_edns.max_payload(), replies::REPLY_UDP_SIZE);

    let plain_edns = udp_exchange(fake.addr(), &query_with_edns(2, "e.test.", 1232, false)).await;
    assert_eq!(
        EchoedOpt::from_reply(&plain_edns),
        Some(Some(EchoedOpt {
            version: 0,
            size: 1232,
            dnssec_ok: false,
            option_codes: vec![],
        }))
    );

    let no_edns = udp_exchange(fake.addr(), &query(3, "e.test.")).await;
    assert_eq!(EchoedOpt::from_reply(&no_edns), Some(None));
    assert!(no_edns.edns.is_none());

    // An answer that is not an echo is not read as one.
    let other = replies::answer_a(&query(4, "e.test."), 60, FIRST);
    assert_eq!(EchoedOpt::from_reply(&other), None);
}

#[tokio::test]
async fn drop_stops_serving() {
    let fake = FakeUpstream::start(replies::echo_a(60, FIRST))
        .await
        .unwrap();
    let addr = fake.addr();
    let mut open = tcp_client(addr).await;
    assert_eq!(
        tcp_exchange(addr, &query(1, "a.test.")).await.metadata.id,
        1
    );
    drop(fake);
    // The tasks are aborted and close their sockets as soon as the runtime runs them; retry
    // until it has (PATIENCE only bounds a hang).
    let refused = tokio::time::timeout(PATIENCE, async {
        loop {
            match tokio::net::TcpStream::connect(addr).await {
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => break,
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    })
    .await;
    assert!(refused.is_ok(), "the TCP listener closed");
    // The connection that was open is closed too.
    write_frame(&mut open, &wire(&query(2, "a.test."))).await;
    assert!(read_frame(&mut open).await.is_err());
    // And nothing answers on UDP: loopback reports the port unreachable once the socket is
    // closed (an answer means it was not closed yet: try again).
    let unreachable = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 512];
        loop {
            let socket = udp_client(addr).await;
            socket.send(&wire(&query(3, "a.test."))).await.unwrap();
            let outcome = tokio::time::timeout(Duration::from_millis(100), socket.recv(&mut buf));
            if let Ok(Err(e)) = outcome.await
                && e.kind() == ErrorKind::ConnectionRefused
            {
                break;
            }
        }
    })
    .await;
    assert!(unreachable.is_ok(), "the UDP socket closed");
}

#[tokio::test]
async fn a_panicking_script_costs_one_answer_not_the_server() {
    let fake = FakeUpstream::start(|seen| {
        assert_ne!(
            seen.message.metadata.id, 1,
            "the test's script rejects ID 1"
        );
        Action::Reply(replies::reply(&seen.message))
    })
    .await
    .unwrap();
    let socket = udp_client(fake.addr()).await;
    socket.send(&wire(&query(1, "a.test."))).await.unwrap();
    socket.send(&wire(&query(2, "a.test."))).await.unwrap();
    assert_eq!(decode(&recv_datagram(&socket).await).metadata.id, 2);
    let mut stream = tcp_client(fake.addr()).await;
    write_frame(&mut stream, &wire(&query(1, "a.test."))).await;
    write_frame(&mut stream, &wire(&query(3, "a.test."))).await;
    assert_eq!(
        decode(&read_frame(&mut stream).await.unwrap()).metadata.id,
        3
    );
    assert_eq!(fake.count(), 4);
}

#[tokio::test]
async fn without_recording_queries_are_counted_not_kept() {
    let fake = FakeUpstream::start(replies::echo_a(60, FIRST))
        .await
        .unwrap();
    udp_exchange(fake.addr(), &query(1, "a.test.")).await;
    fake.set_recording(false);
    udp_exchange(fake.addr(), &query(2, "a.test.")).await;
    fake.set_recording(true);
    udp_exchange(fake.addr(), &query(3, "a.test.")).await;
    assert_eq!(fake.count(), 3);
    let ids: Vec<u16> = fake.seen().iter().map(|s| s.message.metadata.id).collect();
    assert_eq!(ids, vec![1, 3]);
}

#[test]
fn a_fake_can_be_shared_between_tasks() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<FakeUpstream>();
    shareable::<fake_upstream::Seen>();
    shareable::<Action>();
}
