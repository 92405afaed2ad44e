//! UDP: several sockets on one address (SO_REUSEPORT), each read by one task at a time.
//!
//! A reader receives into a reused buffer, dispatches, and when the reply is ready (an
//! authoritative answer, a cache hit) sends it at once from the same socket: no task, no box.
//! When the chain waits (forward), the reader hands the socket and its buffer to a new reader
//! task and stays behind to finish that one query, so a slow upstream never blocks the socket.

use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use plugin::Transport;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::dispatch::{Answer, Dispatcher};
use super::listener::{Shared, finish_unless_aborted, first_poll};

/// The largest datagram we read (the UDP length field's limit); larger ones are cut by the
/// kernel and then fail to decode.
const MAX_DATAGRAM: usize = 65535;

/// Queries one socket may have waiting on their chains at once. Past this the reader waits
/// for its own pending query before reading on: the kernel's receive buffer then fills and
/// drops, which is the load shedding a DNS server wants when its upstreams stall (each waiting
/// query holds a task, the request and its reply buffer).
pub const MAX_PENDING_PER_SOCKET: usize = 10_000;

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
    let reader = UdpReader {
        local: socket.local_addr()?,
        socket: Arc::new(socket),
        shared: shared.clone(),
        dispatcher,
        pending: Arc::new(Semaphore::new(MAX_PENDING_PER_SOCKET)),
    };
    shared.tasks.spawn(reader.run(vec![0; MAX_DATAGRAM]));
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

impl UdpReader {
    /// Reads and answers until the listener stops, or until a pending query made this task
    /// hand the socket to a new reader (then it ends after answering that query).
    async fn run(self, mut buffer: Vec<u8>) {
        let mut out = Vec::with_capacity(512);
        loop {
            let received = tokio::select! {
                biased;
                _ = self.shared.shutdown.cancelled() => return,
                received = self.socket.recv_from(&mut buffer) => received,
            };
            let (len, peer) = match received {
                Ok(received) => received,
                Err(error) => {
                    if self.pause_after(&error).await {
                        return;
                    }
                    continue;
                }
            };
            let Some(datagram) = buffer.get(..len) else {
                continue;
            };
            let packet = Bytes::copy_from_slice(datagram);
            let table = self.shared.table.load();
            let mut handed_off: Option<OwnedSemaphorePermit> = None;
            let answer = {
                let mut reply = pin!(self.dispatcher.dispatch(
                    &table,
                    packet,
                    peer,
                    self.local,
                    Transport::Udp,
                    &mut out,
                ));
                match first_poll(reply.as_mut()).await {
                    Poll::Ready(answer) => answer,
                    Poll::Pending => {
                        handed_off = self.hand_off(&mut buffer);
                        match finish_unless_aborted(reply, &self.shared.abort).await {
                            Some(answer) => answer,
                            None => return,
                        }
                    }
                }
            };
            if answer == Answer::Reply {
                // A client that went away is not our error; UDP has no one to tell.
                let _ = self.socket.send_to(&out, peer).await;
            }
            if handed_off.is_some() {
                return;
            }
        }
    }

    /// Starts a new reader with `buffer` so this task can wait for its pending query. None
    /// when the socket already has its maximum of pending queries: this task then finishes
    /// the query before it reads on (back-pressure).
    fn hand_off(&self, buffer: &mut Vec<u8>) -> Option<OwnedSemaphorePermit> {
        let permit = self.pending.clone().try_acquire_owned().ok()?;
        if !self.shared.shutdown.is_cancelled() {
            let next = self.clone();
            self.shared.tasks.spawn(next.run(std::mem::take(buffer)));
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
