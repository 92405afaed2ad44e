//! TCP: an accept loop and, per connection, one reader task at a time.
//!
//! Messages carry a two-byte length prefix (RFC 1035 §4.2.2). Queries are pipelined
//! (RFC 7766 §6.2.1.1): a query whose chain waits is finished by its own task while a new
//! reader goes on reading the connection, so answers can leave out of order, each whole (one
//! write under the connection's write lock). Ready answers are written by the reader itself.
//!
//! Timeouts follow miekg/dns as CoreDNS uses it (corefile.md §7.4): the first query must
//! arrive within the read timeout, each later one within the idle timeout; a reply that cannot
//! be written within the write timeout closes the connection.

use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use plugin::Transport;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::dispatch::{Answer, Dispatcher, Inbound};
use super::listener::{Shared, finish_unless_aborted, first_poll};

/// Queries of one connection that may wait on their chains at once; past this the reader
/// stops reading until one is answered (back-pressure on a client pipelining without bound).
pub const MAX_PENDING_PER_CONNECTION: usize = 256;

/// The kernel's queue of connections not yet accepted.
const BACKLOG: i32 = 1024;

/// A TCP socket bound with SO_REUSEPORT (shared with a listener being replaced by a reload)
/// and SO_REUSEADDR (a restart binds despite connections in TIME_WAIT); V6ONLY for IPv6.
pub(super) fn bind_socket(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    #[cfg(unix)]
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    TcpListener::from_std(socket.into())
}

/// Starts accepting on `listener`.
pub(super) fn start(
    listener: TcpListener,
    shared: &Arc<Shared>,
    dispatcher: Dispatcher,
) -> io::Result<()> {
    let local = listener.local_addr()?;
    let slots = match shared.opts.tcp_max_connections {
        0 => None,
        cap => Some(Arc::new(Semaphore::new(cap))),
    };
    let acceptor = Acceptor {
        listener,
        local,
        shared: shared.clone(),
        dispatcher,
        slots,
    };
    shared.tasks.spawn(acceptor.run());
    Ok(())
}

struct Acceptor {
    listener: TcpListener,
    local: SocketAddr,
    shared: Arc<Shared>,
    dispatcher: Dispatcher,
    /// Free connection slots when connections are capped.
    slots: Option<Arc<Semaphore>>,
}

impl Acceptor {
    async fn run(self) {
        loop {
            let accepted = tokio::select! {
                biased;
                _ = self.shared.shutdown.cancelled() => return,
                accepted = self.listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, peer)) => self.serve(stream, peer),
                Err(error) => {
                    // EMFILE, ENFILE, ENOBUFS: nothing to do but wait for resources to free.
                    plugin::log::debug(
                        None,
                        format_args!("TCP accept on {} failed: {error}", self.local),
                    );
                    tokio::select! {
                        _ = self.shared.shutdown.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_millis(10)) => {}
                    }
                }
            }
        }
    }

    fn serve(&self, stream: tokio::net::TcpStream, peer: SocketAddr) {
        let slot = match &self.slots {
            None => None,
            Some(slots) => match slots.clone().try_acquire_owned() {
                Ok(slot) => Some(slot),
                // Over the cap: dropping the stream closes it, the client retries.
                Err(_) => return,
            },
        };
        // Replies are whole messages: send them now, not after Nagle's delay.
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().unwrap_or(self.local);
        let (read, write) = stream.into_split();
        let connection = Arc::new(Connection {
            writer: Mutex::new(write),
            peer,
            local,
            broken: CancellationToken::new(),
            pending: Arc::new(Semaphore::new(MAX_PENDING_PER_CONNECTION)),
            _slot: slot,
        });
        let reader = TcpReader {
            connection,
            shared: self.shared.clone(),
            dispatcher: self.dispatcher.clone(),
        };
        let state = ReadState {
            stream: BufReader::new(read),
            served: 0,
        };
        self.shared.tasks.spawn(reader.run(state));
    }
}

/// What the tasks of one connection share. The socket closes when the last of them is done:
/// the reader gone and every pending query answered.
struct Connection {
    writer: Mutex<OwnedWriteHalf>,
    peer: SocketAddr,
    local: SocketAddr,
    /// Cancelled when a write failed or timed out: the stream may hold half a message, so
    /// nothing more is read or written.
    broken: CancellationToken,
    /// Permits for queries waiting on their chains.
    pending: Arc<Semaphore>,
    /// The connection's place under `tcp_max_connections`, given back on close.
    _slot: Option<OwnedSemaphorePermit>,
}

/// The reading side of a connection, moved to the next reader at a hand-off.
struct ReadState {
    stream: BufReader<OwnedReadHalf>,
    /// Queries read so far on this connection.
    served: usize,
}

#[derive(Clone)]
struct TcpReader {
    connection: Arc<Connection>,
    shared: Arc<Shared>,
    dispatcher: Dispatcher,
}

impl TcpReader {
    /// Reads and answers queries until the client is done, a timeout or the query cap ends the
    /// connection, or the listener stops; or until a pending query made this task hand the
    /// reading to a new reader (then it ends after answering that query).
    async fn run(self, state: ReadState) {
        let opts = &self.shared.opts;
        let mut state = Some(state);
        let mut out = Vec::with_capacity(512);
        let mut framed = Vec::with_capacity(514);
        loop {
            let Some(reading) = state.as_mut() else {
                return;
            };
            if opts.tcp_max_queries != 0 && reading.served >= opts.tcp_max_queries {
                return;
            }
            let wait = if reading.served == 0 {
                opts.tcp_read_timeout
            } else {
                opts.tcp_idle_timeout
            };
            let read = tokio::select! {
                biased;
                _ = self.shared.shutdown.cancelled() => return,
                _ = self.connection.broken.cancelled() => return,
                read = tokio::time::timeout(wait, read_message(&mut reading.stream)) => read,
            };
            // A timeout, the client's EOF or a read error all end the connection.
            let Ok(Ok(Some(packet))) = read else {
                return;
            };
            reading.served += 1;
            let table = self.shared.table.load();
            let mut handed_off: Option<OwnedSemaphorePermit> = None;
            let answer = {
                let inbound = Inbound {
                    packet,
                    peer: self.connection.peer,
                    local: self.connection.local,
                    transport: Transport::Tcp,
                    // tokio's clock, as the UDP reader's (see `Request::received`).
                    received: tokio::time::Instant::now().into_std(),
                };
                let mut reply = pin!(self.dispatcher.dispatch(&table, inbound, &mut out));
                match first_poll(reply.as_mut()).await {
                    Poll::Ready(answer) => answer,
                    Poll::Pending => {
                        handed_off = self.hand_off(&mut state);
                        match finish_unless_aborted(reply, &self.shared.abort).await {
                            Some(answer) => answer,
                            None => return,
                        }
                    }
                }
            };
            if answer == Answer::Reply && self.write(&out, &mut framed).await.is_err() {
                self.connection.broken.cancel();
                return;
            }
            if handed_off.is_some() {
                return;
            }
        }
    }

    /// Moves the reading side to a new reader task so this one can wait for its pending
    /// query. None when the connection already has its maximum of pending queries: this task
    /// then finishes the query before it reads on.
    fn hand_off(&self, state: &mut Option<ReadState>) -> Option<OwnedSemaphorePermit> {
        let permit = self.connection.pending.clone().try_acquire_owned().ok()?;
        let reading = state.take()?;
        if !self.shared.shutdown.is_cancelled() {
            let next = self.clone();
            self.shared.tasks.spawn(next.run(reading));
        }
        Some(permit)
    }

    /// Writes one reply with its length prefix in one write, under the connection's lock so
    /// replies of concurrent queries never interleave.
    async fn write(&self, reply: &[u8], framed: &mut Vec<u8>) -> io::Result<()> {
        let len = u16::try_from(reply.len()).map_err(|_| io::Error::other("reply too long"))?;
        framed.clear();
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(reply);
        let connection = &self.connection;
        let write = async {
            let mut writer = connection.writer.lock().await;
            if connection.broken.is_cancelled() {
                return Err(io::Error::from(io::ErrorKind::BrokenPipe));
            }
            writer.write_all(framed).await
        };
        tokio::select! {
            biased;
            _ = self.shared.abort.cancelled() => Err(io::Error::from(io::ErrorKind::Interrupted)),
            written = tokio::time::timeout(self.shared.opts.tcp_write_timeout, write) => {
                written.unwrap_or_else(|_| Err(io::Error::from(io::ErrorKind::TimedOut)))
            }
        }
    }
}

/// Reads one length-prefixed message. `None` when the client closed the connection.
async fn read_message(stream: &mut BufReader<OwnedReadHalf>) -> io::Result<Option<Bytes>> {
    let mut prefix = [0u8; 2];
    match stream.read_exact(&mut prefix).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut message = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    stream.read_exact(&mut message).await?;
    Ok(Some(Bytes::from(message)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::listener::test_support::*;
    use crate::server::listener::{Listener, ListenerOptions};
    use crate::server::testing::*;
    use hickory_proto::op::ResponseCode;
    use hickory_proto::rr::RecordType;
    use tokio::net::TcpStream;

    const WAIT: Duration = Duration::from_secs(2);

    async fn connect(listener: &Listener) -> TcpStream {
        TcpStream::connect(listener.local_addr())
            .await
            .expect("connect")
    }

    fn named(name: &str, id: u16) -> Vec<u8> {
        let mut message = query(name, RecordType::A);
        message.metadata.id = id;
        wire(&message)
    }

    #[tokio::test]
    async fn sockets_share_the_port_and_ipv6_ones_are_v6only() {
        let v4 = bind_socket("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = v4.local_addr().unwrap().port();
        let again = bind_socket(SocketAddr::from(([127, 0, 0, 1], port))).unwrap();
        assert!(socket2::SockRef::from(&again).reuse_port().unwrap());
        if let Ok(v6) = bind_socket("[::1]:0".parse().unwrap()) {
            assert!(socket2::SockRef::from(&v6).only_v6().unwrap());
        }
    }

    #[tokio::test]
    async fn pipelined_queries_in_one_write_get_every_answer() {
        let (listener, _) =
            start_listener(root_table(chain_of(Fixed::tagged("root"))), options()).await;
        let mut stream = connect(&listener).await;
        let queries: Vec<Vec<u8>> = (1..=3).map(|id| named("example.org.", id)).collect();
        tcp_send_all(&mut stream, &queries).await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            let reply = tcp_recv(&mut stream, WAIT).await.expect("an answer");
            assert_eq!(txt_answers(&reply), ["root"]);
            ids.push(reply.metadata.id);
        }
        ids.sort();
        assert_eq!(ids, [1, 2, 3]);
    }

    #[tokio::test]
    async fn a_slow_query_does_not_hold_back_the_ones_behind_it() {
        let (listener, _) = start_listener(
            root_table(chain_of(Slow {
                delay: Duration::from_millis(400),
            })),
            options(),
        )
        .await;
        let mut stream = connect(&listener).await;
        let started = std::time::Instant::now();
        tcp_send_all(
            &mut stream,
            &[
                named("slow.example.org.", 1),
                named("fast.example.org.", 2),
                named("fast.example.org.", 3),
            ],
        )
        .await;
        let mut order = Vec::new();
        for _ in 0..3 {
            let reply = tcp_recv(&mut stream, WAIT).await.expect("an answer");
            order.push(reply.metadata.id);
            if reply.metadata.id != 1 {
                assert!(started.elapsed() < Duration::from_millis(350));
            }
        }
        assert_eq!(order, [2, 3, 1], "answers leave out of order, each whole");
    }

    #[tokio::test]
    async fn big_answers_are_whole_over_tcp() {
        let (listener, _) =
            start_listener(root_table(chain_of(Big { count: 200 })), options()).await;
        let mut stream = connect(&listener).await;
        tcp_send_all(&mut stream, &[named("big.example.org.", 7)]).await;
        let reply = tcp_recv(&mut stream, WAIT).await.expect("an answer");
        assert!(!reply.metadata.truncation);
        assert_eq!(reply.answers.len(), 200);
    }

    #[tokio::test]
    async fn idle_connections_are_closed() {
        let (listener, _) = start_listener(
            root_table(chain_of(Fixed::tagged("root"))),
            ListenerOptions {
                tcp_idle_timeout: Duration::from_millis(200),
                tcp_read_timeout: Duration::from_millis(200),
                ..options()
            },
        )
        .await;
        // Silent from the start: the read timeout.
        let mut silent = connect(&listener).await;
        assert!(tcp_closed(&mut silent, WAIT).await);
        // Quiet after one query: the idle timeout.
        let mut stream = connect(&listener).await;
        tcp_send_all(&mut stream, &[named("example.org.", 1)]).await;
        assert!(tcp_recv(&mut stream, WAIT).await.is_some());
        let started = std::time::Instant::now();
        assert!(tcp_closed(&mut stream, WAIT).await);
        assert!(started.elapsed() >= Duration::from_millis(150));
    }

    #[tokio::test]
    async fn a_connection_closes_after_its_query_cap() {
        let (listener, _) = start_listener(
            root_table(chain_of(Fixed::tagged("root"))),
            ListenerOptions {
                tcp_max_queries: 2,
                ..options()
            },
        )
        .await;
        let mut stream = connect(&listener).await;
        for id in 1..=2 {
            tcp_send_all(&mut stream, &[named("example.org.", id)]).await;
            let reply = tcp_recv(&mut stream, WAIT).await.expect("an answer");
            assert_eq!(reply.metadata.id, id);
        }
        assert!(tcp_closed(&mut stream, WAIT).await);
    }

    #[tokio::test]
    async fn connections_over_the_cap_are_closed_at_once() {
        let (listener, _) = start_listener(
            root_table(chain_of(Fixed::tagged("root"))),
            ListenerOptions {
                tcp_max_connections: 1,
                ..options()
            },
        )
        .await;
        let mut first = connect(&listener).await;
        tcp_send_all(&mut first, &[named("example.org.", 1)]).await;
        assert!(tcp_recv(&mut first, WAIT).await.is_some());
        let mut second = connect(&listener).await;
        assert!(tcp_closed(&mut second, WAIT).await);
        drop(first);
        // The slot is given back when the first connection is gone.
        let mut third = None;
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let mut stream = connect(&listener).await;
            tcp_send_all(&mut stream, &[named("example.org.", 3)]).await;
            if tcp_recv(&mut stream, Duration::from_millis(200))
                .await
                .is_some()
            {
                third = Some(stream);
                break;
            }
        }
        assert!(third.is_some(), "a slot freed after the first closed");
    }

    #[tokio::test]
    async fn bad_messages_get_their_verdict_and_the_connection_keeps_serving() {
        let (listener, _) = start_listener(root_table(chain_of(Panics)), options()).await;
        let mut stream = connect(&listener).await;
        let good = named("good.example.org.", 9);
        let mut response = good.clone();
        response[2] |= 0x80;
        let mut notimp = good.clone();
        notimp[2] = 2 << 3;
        let cases: Vec<(&str, Vec<u8>, Option<ResponseCode>)> = vec![
            ("QR=1", response, None),
            ("empty message", Vec::new(), None),
            ("short header", good[..5].to_vec(), None),
            ("opcode 2", notimp, Some(ResponseCode::NotImp)),
            (
                "panic",
                named("panic.example.org.", 9),
                Some(ResponseCode::ServFail),
            ),
        ];
        for (what, packet, expected) in cases {
            tcp_send_all(&mut stream, &[packet]).await;
            let reply = tcp_recv(&mut stream, Duration::from_millis(300)).await;
            assert_eq!(reply.map(|r| r.metadata.response_code), expected, "{what}");
            tcp_send_all(&mut stream, std::slice::from_ref(&good)).await;
            let reply = tcp_recv(&mut stream, WAIT).await.expect("still answers");
            assert_eq!(txt_answers(&reply), ["ok"], "after {what}");
        }
    }

    #[tokio::test]
    async fn stop_closes_idle_connections() {
        let (listener, _) =
            start_listener(root_table(chain_of(Fixed::tagged("root"))), options()).await;
        let mut stream = connect(&listener).await;
        tcp_send_all(&mut stream, &[named("example.org.", 1)]).await;
        assert!(tcp_recv(&mut stream, WAIT).await.is_some());
        listener.stop(Duration::from_secs(1)).await;
        assert!(tcp_closed(&mut stream, WAIT).await);
    }
}
