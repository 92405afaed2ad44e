//! UDP: several sockets on one address (SO_REUSEPORT), each read by one task at a time.
//!
//! A reader waits until its socket is readable, drains up to a batch of datagrams (see
//! `udp_recv`), dispatches them one by one, and sends the replies that are ready (an
//! authoritative answer, a cache hit) together with one `sendmmsg` (see `udp_send`): no task,
//! no box, and one wake-up per batch instead of one per query.
//! When the chain of a query waits (forward), the reader sends the replies it has, hands the
//! socket, the rest of the batch and its buffers to a new reader task, and stays behind to
//! finish that one query, so a slow upstream never blocks the socket.

use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use hickory_proto::op::ResponseCode;
use plugin::Transport;
use plugin::wire::{self, Verdict};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::dispatch::{Answer, Dispatcher, Inbound};
use super::listener::{Shared, finish_unless_aborted, first_poll};
use super::udp_recv::ReceiveBatch;
use super::udp_send::Replies;

/// Queries one socket may have waiting on their chains at once. Past this the reader waits
/// for its own pending query before reading on: the kernel's receive buffer then fills and
/// drops, which is the load shedding a DNS server wants when its upstreams stall (each waiting
/// query holds a task, the request and its reply buffer).
pub const MAX_PENDING_PER_SOCKET: usize = 10_000;

/// The receive buffer asked for each socket (SO_RCVBUF), so a burst from many clients waits
/// in the kernel instead of being dropped while the reader works through a batch. The kernel
/// caps it at `net.core.rmem_max` (Linux's default, 208 KiB, is also the default buffer).
const RECEIVE_BUFFER: usize = 4 << 20;

/// A UDP socket bound with SO_REUSEPORT (several per address, and shared with a listener
/// being replaced by a reload); IPv6 sockets are V6ONLY so `[::]` and `0.0.0.0` can both be
/// served on one port.
pub(super) fn bind_socket(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    #[cfg(unix)]
    socket.set_reuse_port(true)?;
    // A larger buffer only absorbs bursts; a host that refuses it is served all the same.
    if let Err(error) = socket.set_recv_buffer_size(RECEIVE_BUFFER) {
        plugin::log::debug(
            None,
            format_args!("UDP receive buffer on {addr} not enlarged: {error}"),
        );
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// Starts reading `socket`.
pub(super) fn start(
    socket: UdpSocket,
    shared: &Arc<Shared>,
    dispatcher: Dispatcher,
) -> io::Result<()> {
    start_with_limit(socket, shared, dispatcher, MAX_PENDING_PER_SOCKET)
}

/// [`start`] with `max_pending` queries of the socket waiting at once.
fn start_with_limit(
    socket: UdpSocket,
    shared: &Arc<Shared>,
    dispatcher: Dispatcher,
    max_pending: usize,
) -> io::Result<()> {
    let reader = UdpReader {
        local: socket.local_addr()?,
        socket: Arc::new(socket),
        shared: shared.clone(),
        dispatcher,
        pending: Arc::new(Semaphore::new(max_pending)),
    };
    shared.tasks.spawn(reader.run(ReaderState {
        batch: ReceiveBatch::new(),
        replies: Replies::new(),
    }));
    Ok(())
}

/// What a reader task of one socket needs; cloned for the next reader at a hand-off.
#[derive(Clone)]
struct UdpReader {
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    shared: Arc<Shared>,
    dispatcher: Dispatcher,
    /// Permits for queries waiting on their chains.
    pending: Arc<Semaphore>,
}

/// What the reading task owns and passes on at a hand-off: the received batch, with the
/// datagrams not yet dispatched, and the reply buffers.
#[derive(Default)]
struct ReaderState {
    batch: ReceiveBatch,
    replies: Replies,
}

impl UdpReader {
    /// Reads and answers until the listener stops, or until a pending query made this task
    /// hand the socket to a new reader (then it ends after answering that query).
    async fn run(self, mut state: ReaderState) {
        loop {
            let table = self.shared.table.load();
            while let Some(datagram) = state.batch.next_datagram() {
                // tokio's recv_from takes one unit of the task's cooperative budget per
                // datagram; so does the batch, so other tasks of this worker (the replies of
                // pending queries among them) still get their turn under a flood.
                tokio::task::consume_budget().await;
                let peer = datagram.peer;
                let mut out = state.replies.buffer();
                if datagram.truncated {
                    match answer_cut_datagram(datagram.bytes, &mut out) {
                        Answer::Reply => state.replies.push(out, peer),
                        Answer::Silent => state.replies.recycle(out),
                    }
                    continue;
                }
                let packet = Bytes::copy_from_slice(datagram.bytes);
                let mut handed_off: Option<OwnedSemaphorePermit> = None;
                let answer = {
                    let inbound = Inbound {
                        packet,
                        peer,
                        local: self.local,
                        transport: Transport::Udp,
                        received: datagram.received,
                    };
                    let mut reply = pin!(self.dispatcher.dispatch(&table, inbound, &mut out));
                    match first_poll(reply.as_mut()).await {
                        Poll::Ready(answer) => answer,
                        Poll::Pending => {
                            // The new reader takes the replies ready so far with the rest of
                            // the batch and sends them with its own. Without one (back-pressure)
                            // this task waits first, so they go out now.
                            handed_off = self.hand_off(&mut state);
                            if handed_off.is_none() {
                                state.replies.flush(&self.socket).await;
                            }
                            match finish_unless_aborted(reply, &self.shared.abort).await {
                                Some(answer) => answer,
                                None => return,
                            }
                        }
                    }
                };
                if handed_off.is_some() {
                    if answer == Answer::Reply {
                        // A client that went away is not our error; UDP has no one to tell.
                        let _ = self.socket.send_to(&out, peer).await;
                    }
                    return;
                }
                match answer {
                    Answer::Reply => state.replies.push(out, peer),
                    Answer::Silent => state.replies.recycle(out),
                }
            }
            // An idle socket must not keep a table replaced by a reload alive.
            drop(table);
            state.replies.flush(&self.socket).await;
            let received = tokio::select! {
                biased;
                _ = self.shared.shutdown.cancelled() => return,
                received = state.batch.receive(&self.socket) => received,
            };
            if let Err(error) = received
                && self.pause_after(&error).await
            {
                return;
            }
        }
    }

    /// Starts a new reader with `state` (the rest of the batch, the buffers) so this task can
    /// wait for its pending query. None when the socket already has its maximum of pending
    /// queries: this task then finishes the query before it reads on (back-pressure).
    fn hand_off(&self, state: &mut ReaderState) -> Option<OwnedSemaphorePermit> {
        let permit = self.pending.clone().try_acquire_owned().ok()?;
        if !self.shared.shutdown.is_cancelled() {
            let next = self.clone();
            self.shared.tasks.spawn(next.run(std::mem::take(state)));
        }
        Some(permit)
    }

    /// After a receive error: errors caused by one peer (an ICMP error reported on the
    /// socket) are skipped; others get a short pause so a lasting one does not spin a core.
    /// True when the listener stopped meanwhile.
    async fn pause_after(&self, error: &io::Error) -> bool {
        use io::ErrorKind::*;
        if matches!(
            error.kind(),
            ConnectionReset | ConnectionRefused | Interrupted | WouldBlock
        ) {
            return false;
        }
        plugin::log::debug(
            None,
            format_args!("UDP receive on {} failed: {error}", self.local),
        );
        tokio::select! {
            _ = self.shared.shutdown.cancelled() => true,
            _ = tokio::time::sleep(Duration::from_millis(10)) => false,
        }
    }
}

/// The answer to a datagram longer than a receive slot: what the server core gives a packet
/// it cannot decode (corefile.md §7.2 step 1, then FORMERR for a failed decode), decided from
/// the header the slot holds. Such a query is not legitimate (see `udp_recv::SLOT_SIZE`), and
/// a cut packet must not be decoded: its prefix might parse as a different query.
fn answer_cut_datagram(prefix: &[u8], out: &mut Vec<u8>) -> Answer {
    out.clear();
    let rcode = match wire::inspect(prefix) {
        Verdict::Drop => return Answer::Silent,
        Verdict::Reject(rcode) => rcode,
        Verdict::Accept => ResponseCode::FormErr,
    };
    wire::header_only_reply(prefix, rcode, out);
    Answer::Reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::listener::test_support::*;
    use crate::server::listener::{Listener, ListenerOptions};
    use crate::server::testing::*;
    use hickory_proto::op::{Message, ResponseCode};
    use hickory_proto::rr::{DNSClass, RecordType};
    use plugin::metrics::{DnsMetrics, ResponseLabels};

    const NO_REPLY_WAIT: Duration = Duration::from_millis(300);

    fn good_query() -> Vec<u8> {
        wire(&query("good.example.org.", RecordType::A))
    }

    async fn assert_still_answers(client: &UdpClient) {
        let reply = client.ask(&good_query()).await;
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert!(!reply.answers.is_empty());
    }

    fn dropped_responses(metrics: &DnsMetrics, rcode: &str) -> u64 {
        metrics
            .responses
            .get_or_create(&ResponseLabels {
                plugin: "",
                rcode: Arc::from(rcode),
                server: Arc::from("dns://:53"),
                view: Arc::from(""),
                zone: Arc::from("dropped"),
            })
            .get()
    }

    async fn fixed_listener() -> (Listener, Arc<DnsMetrics>, UdpClient) {
        let (listener, metrics) =
            start_listener(root_table(chain_of(Fixed::tagged("root"))), options()).await;
        let client = UdpClient::new(listener.local_addr()).await;
        (listener, metrics, client)
    }

    #[tokio::test]
    async fn bad_packets_get_their_verdict_and_the_socket_keeps_serving() {
        let (_listener, _, client) = fixed_listener().await;
        let good = good_query();
        let with_bits = |hi: u8| {
            let mut p = good.clone();
            p[2] = hi;
            p
        };
        let with_qdcount = |n: u8| {
            let mut p = good.clone();
            p[5] = n;
            p
        };
        let mut garbage = good[..12].to_vec();
        garbage.extend_from_slice(b"\x05hello\xff\xff\xff\xff\xff\xff");
        let mut pointer_loop = good[..12].to_vec();
        pointer_loop.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
        let cases: Vec<(&str, Vec<u8>, Option<ResponseCode>)> = vec![
            ("QR=1", with_bits(0x81), None),
            ("truncated header", good[..7].to_vec(), None),
            ("opcode 2", with_bits(2 << 3), Some(ResponseCode::NotImp)),
            ("opcode 15", with_bits(15 << 3), Some(ResponseCode::NotImp)),
            ("QDCOUNT 0", with_qdcount(0), Some(ResponseCode::FormErr)),
            ("QDCOUNT 2", with_qdcount(2), Some(ResponseCode::FormErr)),
            ("garbage body", garbage, Some(ResponseCode::FormErr)),
            (
                "compression pointer loop",
                pointer_loop,
                Some(ResponseCode::FormErr),
            ),
        ];
        for (what, packet, expected) in cases {
            client.send(&packet).await;
            let reply = client.recv(NO_REPLY_WAIT).await;
            assert_eq!(
                reply.as_ref().map(|r| r.metadata.response_code),
                expected,
                "{what}"
            );
            if let Some(reply) = reply {
                // Header-only, same ID.
                assert_eq!(reply.metadata.id, 4242, "{what}");
                assert!(reply.queries.is_empty(), "{what}");
            }
            assert_still_answers(&client).await;
        }
    }

    #[tokio::test]
    async fn edns_version_1_gets_badvers_with_opt_version_0() {
        let (_listener, metrics, client) = fixed_listener().await;
        let packet = wire(&with_edns(
            query("example.org.", RecordType::A),
            1232,
            false,
            1,
        ));
        let reply = client.ask(&packet).await;
        assert_eq!(u16::from(reply.metadata.response_code), 16);
        assert_eq!(reply.edns.as_ref().map(|e| e.version()), Some(0));
        assert!(reply.answers.is_empty());
        assert_eq!(dropped_responses(&metrics, "BADVERS"), 0);
        assert_still_answers(&client).await;
    }

    #[tokio::test]
    async fn chaos_class_is_refused_unless_a_block_allows_it() {
        let (listener, metrics, client) = fixed_listener().await;
        let packet = wire(&with_class(
            query("version.bind.", RecordType::TXT),
            DNSClass::CH,
        ));
        let reply = client.ask(&packet).await;
        assert_eq!(reply.metadata.response_code, ResponseCode::Refused);
        assert_eq!(dropped_responses(&metrics, "REFUSED"), 1);
        assert_still_answers(&client).await;
        let mut table = root_table(chain_of(Fixed::tagged("chaos")));
        table.allow_other_classes = true;
        listener.swap_table(table);
        let reply = client.ask(&packet).await;
        assert_eq!(txt_answers(&reply), ["chaos"]);
    }

    #[tokio::test]
    async fn no_zone_and_empty_block_are_refused() {
        let mut table = crate::server::ZoneTable::new();
        table.insert("example.org.", chain_of(Fixed::tagged("org")));
        table.insert("health.example.org.", plugin::Chain::default());
        let (listener, metrics) = start_listener(table, options()).await;
        let client = UdpClient::new(listener.local_addr()).await;
        let refused = client
            .ask(&wire(&query("example.com.", RecordType::A)))
            .await;
        assert_eq!(refused.metadata.response_code, ResponseCode::Refused);
        assert_eq!(refused.queries.len(), 1, "the question is echoed");
        let empty = client
            .ask(&wire(&query("health.example.org.", RecordType::A)))
            .await;
        assert_eq!(empty.metadata.response_code, ResponseCode::Refused);
        assert_eq!(dropped_responses(&metrics, "REFUSED"), 2);
        let served = client
            .ask(&wire(&query("www.Example.ORG.", RecordType::A)))
            .await;
        assert_eq!(txt_answers(&served), ["org"]);
        assert_eq!(served.queries[0].name().to_string(), "www.Example.ORG.");
    }

    #[tokio::test]
    async fn a_panic_is_servfail_counted_and_the_socket_keeps_serving() {
        let (listener, metrics) = start_listener(
            root_table(chain_of(Panics)),
            ListenerOptions {
                udp_sockets: 1,
                ..options()
            },
        )
        .await;
        let client = UdpClient::new(listener.local_addr()).await;
        for name in ["panic.example.org.", "panic-later.example.org."] {
            let reply = client.ask(&wire(&query(name, RecordType::A))).await;
            assert_eq!(
                reply.metadata.response_code,
                ResponseCode::ServFail,
                "{name}"
            );
            let next = client
                .ask(&wire(&query("next.example.org.", RecordType::A)))
                .await;
            assert_eq!(txt_answers(&next), ["ok"], "after {name}");
        }
        assert_eq!(metrics.panics.get(), 2);
        assert_eq!(dropped_responses(&metrics, "SERVFAIL"), 2);
    }

    #[tokio::test]
    async fn edns_is_echoed_with_the_query_size_and_do_bit() {
        let (_listener, _, client) = fixed_listener().await;
        let reply = client
            .ask(&wire(&with_edns(
                query("example.org.", RecordType::A),
                1232,
                true,
                0,
            )))
            .await;
        let edns = reply.edns.expect("OPT echoed");
        assert_eq!(edns.max_payload(), 1232);
        assert!(edns.flags().dnssec_ok);
        let plain = client
            .ask(&wire(&query("example.org.", RecordType::A)))
            .await;
        assert!(plain.edns.is_none());
    }

    #[tokio::test]
    async fn big_answers_are_truncated_to_512_or_the_edns_size() {
        let (listener, _) =
            start_listener(root_table(chain_of(Big { count: 100 })), options()).await;
        let client = UdpClient::new(listener.local_addr()).await;
        let plain = wire(&query("big.example.org.", RecordType::A));
        client.send(&plain).await;
        let raw = client.recv_raw(Duration::from_secs(2)).await.unwrap();
        assert!(raw.len() <= 512, "{} bytes", raw.len());
        let reply = Message::from_vec(&raw).unwrap();
        assert!(reply.metadata.truncation);
        assert!(!reply.answers.is_empty() && reply.answers.len() < 100);

        let edns = wire(&with_edns(
            query("big.example.org.", RecordType::A),
            1232,
            false,
            0,
        ));
        client.send(&edns).await;
        let raw = client.recv_raw(Duration::from_secs(2)).await.unwrap();
        assert!(raw.len() <= 1232 && raw.len() > 512, "{} bytes", raw.len());
        let reply = Message::from_vec(&raw).unwrap();
        assert!(reply.metadata.truncation);
        assert_eq!(reply.edns.map(|e| e.max_payload()), Some(1232));

        let fits = wire(&with_edns(
            query("big.example.org.", RecordType::A),
            4096,
            false,
            0,
        ));
        let reply = client.ask(&fits).await;
        assert!(!reply.metadata.truncation);
        assert_eq!(reply.answers.len(), 100);
    }

    #[tokio::test]
    async fn a_pending_chain_does_not_block_other_queries_on_the_socket() {
        let (listener, _) = start_listener(
            root_table(chain_of(Slow {
                delay: Duration::from_millis(500),
            })),
            ListenerOptions {
                udp_sockets: 1,
                ..options()
            },
        )
        .await;
        let client = UdpClient::new(listener.local_addr()).await;
        let started = std::time::Instant::now();
        for i in 0..3 {
            client
                .send(&wire(&query(
                    &format!("slow{i}.example.org."),
                    RecordType::A,
                )))
                .await;
        }
        client
            .send(&wire(&query("fast.example.org.", RecordType::A)))
            .await;
        let first = client.recv(Duration::from_secs(2)).await.unwrap();
        assert_eq!(txt_answers(&first), ["fast"]);
        assert!(started.elapsed() < Duration::from_millis(400));
        let mut slow = 0;
        while let Some(reply) = client.recv(Duration::from_secs(2)).await {
            assert_eq!(txt_answers(&reply), ["slow"]);
            slow += 1;
            if slow == 3 {
                break;
            }
        }
        assert_eq!(slow, 3);
        // The hand-offs left exactly one reader: the socket still answers.
        assert_still_answers_fast(&client).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_pending_queries_wait_at_once() {
        let (listener, _) = start_listener(
            root_table(chain_of(Slow {
                delay: Duration::from_millis(300),
            })),
            ListenerOptions {
                udp_sockets: 1,
                ..options()
            },
        )
        .await;
        let client = Arc::new(UdpClient::new(listener.local_addr()).await);
        const QUERIES: u16 = 200;
        let receiver = {
            let client = client.clone();
            tokio::spawn(async move {
                let mut ids = std::collections::BTreeSet::new();
                while let Some(reply) = client.recv(Duration::from_secs(2)).await {
                    ids.insert(reply.metadata.id);
                    if ids.len() == usize::from(QUERIES) {
                        break;
                    }
                }
                ids
            })
        };
        let started = std::time::Instant::now();
        for id in 0..QUERIES {
            let mut message = query("slow.example.org.", RecordType::A);
            message.metadata.id = id;
            client.send(&wire(&message)).await;
        }
        let ids = receiver.await.unwrap();
        assert_eq!(ids.len(), usize::from(QUERIES));
        // Waited side by side, not one after the other (200 × 300 ms).
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_still_answers_fast(&client).await;
    }

    #[tokio::test]
    async fn a_query_longer_than_a_slot_is_formerr_and_one_that_fits_is_served() {
        let (_listener, _, client) = fixed_listener().await;
        let padded = |len: usize| {
            wire(&with_padding(
                query("good.example.org.", RecordType::A),
                len,
            ))
        };
        let fits = padded(crate::server::udp_recv::SLOT_SIZE - 100);
        let cut = padded(crate::server::udp_recv::SLOT_SIZE + 100);
        let mut cut_response = cut.clone();
        cut_response[2] |= 0x80;
        assert!(fits.len() <= crate::server::udp_recv::SLOT_SIZE);
        assert!(cut.len() > crate::server::udp_recv::SLOT_SIZE);
        let cases: Vec<(&str, Vec<u8>, Option<ResponseCode>)> = vec![
            ("fits a slot", fits, Some(ResponseCode::NoError)),
            ("cut by the kernel", cut, Some(ResponseCode::FormErr)),
            ("cut, QR=1", cut_response, None),
        ];
        for (what, packet, expected) in cases {
            client.send(&packet).await;
            let reply = client.recv(NO_REPLY_WAIT).await;
            assert_eq!(
                reply.as_ref().map(|r| r.metadata.response_code),
                expected,
                "{what}"
            );
            if let Some(reply) = reply {
                assert_eq!(reply.metadata.id, 4242, "{what}");
            }
            assert_still_answers(&client).await;
        }
    }

    #[test]
    fn a_cut_datagram_gets_the_verdict_of_an_undecodable_one() {
        let good = good_query();
        let with_byte = |at: usize, value: u8| {
            let mut p = good.clone();
            p[at] = value;
            p
        };
        let cases: Vec<(&str, Vec<u8>, Option<ResponseCode>)> = vec![
            ("whole header", good.clone(), Some(ResponseCode::FormErr)),
            ("QR=1", with_byte(2, 0x81), None),
            ("shorter than a header", good[..7].to_vec(), None),
            ("opcode 2", with_byte(2, 2 << 3), Some(ResponseCode::NotImp)),
            ("QDCOUNT 2", with_byte(5, 2), Some(ResponseCode::FormErr)),
        ];
        for (what, prefix, expected) in cases {
            let mut out = vec![1, 2, 3];
            let answer = answer_cut_datagram(&prefix, &mut out);
            match expected {
                None => assert_eq!(answer, Answer::Silent, "{what}"),
                Some(rcode) => {
                    assert_eq!(answer, Answer::Reply, "{what}");
                    let reply = Message::from_vec(&out).unwrap();
                    assert_eq!(reply.metadata.response_code, rcode, "{what}");
                    assert_eq!(reply.metadata.id, 4242, "{what}");
                    assert!(reply.queries.is_empty(), "{what}: header only");
                }
            }
        }
    }

    /// The tests' runtime has one thread: the reader does not run while the test sends, so
    /// everything sent before the first receive lands in one batch.
    #[tokio::test]
    async fn a_pending_query_in_a_batch_does_not_hold_back_the_rest_of_it() {
        let (listener, _) = start_listener(
            root_table(chain_of(Slow {
                delay: Duration::from_millis(500),
            })),
            ListenerOptions {
                udp_sockets: 1,
                ..options()
            },
        )
        .await;
        let client = UdpClient::new(listener.local_addr()).await;
        let started = std::time::Instant::now();
        let names = ["fast0", "fast1", "slow", "fast2", "fast3", "fast4"];
        for (id, name) in (0u16..).zip(names) {
            let mut message = query(&format!("{name}.example.org."), RecordType::A);
            message.metadata.id = id;
            client.send(&wire(&message)).await;
        }
        let mut fast_ids = Vec::new();
        for _ in 0..5 {
            let reply = client.recv(Duration::from_secs(2)).await.unwrap();
            assert_eq!(txt_answers(&reply), ["fast"]);
            fast_ids.push(reply.metadata.id);
        }
        assert!(started.elapsed() < Duration::from_millis(400));
        fast_ids.sort_unstable();
        assert_eq!(fast_ids, [0, 1, 3, 4, 5]);
        let slow = client.recv(Duration::from_secs(2)).await.unwrap();
        assert_eq!(
            (txt_answers(&slow), slow.metadata.id),
            (vec!["slow".to_string()], 2)
        );
        assert_still_answers_fast(&client).await;
    }

    #[tokio::test]
    async fn one_batch_answers_each_client_at_its_own_address() {
        let (listener, _) = start_listener(
            root_table(chain_of(Fixed::tagged("root"))),
            ListenerOptions {
                udp_sockets: 1,
                ..options()
            },
        )
        .await;
        let mut clients = Vec::new();
        for id in 0..8u16 {
            let client = UdpClient::new(listener.local_addr()).await;
            let mut message = query("good.example.org.", RecordType::A);
            message.metadata.id = id;
            client.send(&wire(&message)).await;
            clients.push(client);
        }
        for (id, client) in (0u16..).zip(&clients) {
            let reply = client.recv(Duration::from_secs(2)).await.unwrap();
            assert_eq!(reply.metadata.id, id);
            assert_eq!(txt_answers(&reply), ["root"]);
            assert!(client.recv(Duration::from_millis(20)).await.is_none());
        }
    }

    /// A reader over `socket` whose socket lets one query wait at a time.
    fn start_with_one_pending(table: crate::server::ZoneTable) -> (Arc<Shared>, SocketAddr) {
        let socket = bind_socket("127.0.0.1:0".parse().unwrap()).unwrap();
        let local = socket.local_addr().unwrap();
        let shared = Arc::new(Shared {
            table: arc_swap::ArcSwap::from_pointee(table),
            opts: options(),
            shutdown: tokio_util::sync::CancellationToken::new(),
            abort: tokio_util::sync::CancellationToken::new(),
            tasks: tokio_util::task::TaskTracker::new(),
        });
        let metrics = plugin::metrics::MetricsHub::new().get::<DnsMetrics>();
        let dispatcher = Dispatcher::new(Arc::from("dns://:53"), metrics);
        start_with_limit(socket, &shared, dispatcher, 1).unwrap();
        (shared, local)
    }

    #[tokio::test]
    async fn past_the_pending_limit_the_reader_waits_after_sending_what_is_ready() {
        let delay = Duration::from_millis(500);
        let (shared, local) = start_with_one_pending(root_table(chain_of(Slow { delay })));
        let client = UdpClient::new(local).await;
        let started = std::time::Instant::now();
        // One batch: slow0 takes the only permit and hands off; the next reader answers
        // fast0, then must wait for slow1 itself, so fast1 comes after it.
        let names = ["slow0", "fast0", "slow1", "fast1"];
        for (id, name) in (0u16..).zip(names) {
            let mut message = query(&format!("{name}.example.org."), RecordType::A);
            message.metadata.id = id;
            client.send(&wire(&message)).await;
        }
        let mut order = Vec::new();
        for _ in 0..names.len() {
            let reply = client.recv(Duration::from_secs(2)).await.unwrap();
            order.push((reply.metadata.id, started.elapsed() >= delay));
        }
        let fast0 = order.iter().position(|&(id, _)| id == 1).unwrap();
        let slow1 = order.iter().position(|&(id, _)| id == 2).unwrap();
        let fast1 = order.iter().position(|&(id, _)| id == 3).unwrap();
        assert!(
            !order[fast0].1,
            "fast0 did not wait for a slow query: {order:?}"
        );
        assert!(
            slow1 < fast1 && order[fast1].1,
            "fast1 waited for slow1: {order:?}"
        );
        shared.shutdown.cancel();
        shared.tasks.close();
        shared.tasks.wait().await;
    }

    #[tokio::test]
    async fn idle_readers_let_go_of_a_replaced_table() {
        let old = Fixed::tagged("old");
        let old_alive = old.counter();
        let (listener, _) = start_listener(root_table(chain_of(old)), options()).await;
        let client = UdpClient::new(listener.local_addr()).await;
        let packet = wire(&query("example.org.", RecordType::A));
        assert_eq!(txt_answers(&client.ask(&packet).await), ["old"]);
        listener.swap_table(root_table(chain_of(Fixed::tagged("new"))));
        // The readers now wait for datagrams; none of them may hold the old table (its
        // plugins, their sockets and files) until the next query arrives.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(Arc::strong_count(&old_alive), 1, "the old chain is dropped");
        assert_eq!(txt_answers(&client.ask(&packet).await), ["new"]);
    }

    async fn assert_still_answers_fast(client: &UdpClient) {
        let reply = client
            .ask(&wire(&query("fast.example.org.", RecordType::A)))
            .await;
        assert_eq!(txt_answers(&reply), ["fast"]);
    }

    #[tokio::test]
    async fn sockets_share_the_port_and_ipv6_ones_are_v6only() {
        let v4 = bind_socket("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = v4.local_addr().unwrap().port();
        let again = bind_socket(SocketAddr::from(([127, 0, 0, 1], port))).unwrap();
        assert!(socket2::SockRef::from(&again).reuse_port().unwrap());
        // A host without IPv6 cannot bind ::1 at all; nothing to check there.
        if let Ok(v6) = bind_socket("[::1]:0".parse().unwrap()) {
            assert!(socket2::SockRef::from(&v6).only_v6().unwrap());
        }
    }

    #[tokio::test]
    async fn every_socket_serves() {
        let (listener, _) = start_listener(
            root_table(chain_of(Fixed::tagged("root"))),
            ListenerOptions {
                udp_sockets: 4,
                ..options()
            },
        )
        .await;
        // The kernel picks a socket by the client's address and port: many clients reach
        // several sockets, and every one of them must answer.
        for _ in 0..16 {
            let client = UdpClient::new(listener.local_addr()).await;
            assert_still_answers(&client).await;
        }
    }
}
