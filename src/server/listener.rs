//! One listener: the UDP sockets and the TCP socket of one address, serving one zone table.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use arc_swap::ArcSwap;
use plugin::metrics::DnsMetrics;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::dispatch::Dispatcher;
use super::zones::ZoneTable;
use super::{tcp, udp};

/// How a listener reads and when it gives up on a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerOptions {
    /// UDP sockets bound to the address with SO_REUSEPORT, each read by its own task, so the
    /// kernel spreads datagrams over the cores. Default: the available cores.
    pub udp_sockets: usize,
    /// How long a TCP connection may wait for its next query (after the first). 10 s.
    pub tcp_idle_timeout: Duration,
    /// How long the first query of a TCP connection may take to arrive whole. 3 s.
    pub tcp_read_timeout: Duration,
    /// How long writing one reply may take before the connection is closed. 5 s.
    pub tcp_write_timeout: Duration,
    /// Queries served on one TCP connection before it is closed; 0 = unlimited.
    ///
    /// Default 0: CoreDNS serves unlimited queries per connection (`tcpMaxQueries = -1`,
    /// corefile.md §7.4), and clients that keep a connection open on purpose (node-local
    /// caches with `force_tcp`, pipelining forwarders) would otherwise reconnect for nothing.
    /// What a connection can cost is bounded elsewhere: the idle timeout closes quiet ones, and
    /// at most [`tcp::MAX_PENDING_PER_CONNECTION`] of its queries wait at once.
    pub tcp_max_queries: usize,
    /// Open TCP connections at once; a connection over the cap is accepted and closed at
    /// once, so the client retries (rather than waiting in the kernel's backlog). 0 = no cap,
    /// the default, as CoreDNS: a large cluster's node-local caches can legitimately hold
    /// many thousands of connections to one replica.
    pub tcp_max_connections: usize,
}

impl Default for ListenerOptions {
    fn default() -> Self {
        ListenerOptions {
            udp_sockets: std::thread::available_parallelism().map_or(1, |n| n.get()),
            tcp_idle_timeout: Duration::from_secs(10),
            tcp_read_timeout: Duration::from_secs(3),
            tcp_write_timeout: Duration::from_secs(5),
            tcp_max_queries: 0,
            tcp_max_connections: 0,
        }
    }
}

/// What every task of a listener shares.
pub(super) struct Shared {
    pub table: ArcSwap<ZoneTable>,
    pub opts: ListenerOptions,
    /// Cancelled by `stop`: readers and the accept loop stop; queries in flight go on.
    pub shutdown: CancellationToken,
    /// Cancelled when the grace period is over: queries still in flight are abandoned.
    pub abort: CancellationToken,
    /// Every task of this listener, so `stop` can wait for them.
    pub tasks: TaskTracker,
}

/// A DNS listener on one address: UDP and TCP on the same port.
pub struct Listener {
    local: SocketAddr,
    identity: Arc<str>,
    shared: Arc<Shared>,
}

/// Times to try another port when `bind` was asked for port 0 and the port the kernel gave
/// the UDP socket is taken for TCP.
const PORT_ZERO_ATTEMPTS: usize = 8;

impl Listener {
    /// Binds UDP and TCP on `addr` and starts serving `table`. With port 0, UDP is bound
    /// first and TCP on the same port. `identity` is the `server` metric label (`dns://:53`).
    pub async fn bind(
        addr: SocketAddr,
        identity: Arc<str>,
        table: impl Into<Arc<ZoneTable>>,
        metrics: Arc<DnsMetrics>,
        opts: ListenerOptions,
    ) -> io::Result<Listener> {
        let sockets = bind_sockets(addr, opts.udp_sockets.max(1))?;
        let local = sockets.local;
        let shared = Arc::new(Shared {
            table: ArcSwap::new(table.into()),
            opts,
            shutdown: CancellationToken::new(),
            abort: CancellationToken::new(),
            tasks: TaskTracker::new(),
        });
        let dispatcher = Dispatcher::new(identity.clone(), metrics);
        for socket in sockets.udp {
            udp::start(socket, &shared, dispatcher.for_socket())?;
        }
        tcp::start(sockets.tcp, &shared, dispatcher.for_socket())?;
        Ok(Listener {
            local,
            identity,
            shared,
        })
    }

    /// The address served, with the port actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn identity(&self) -> &Arc<str> {
        &self.identity
    }

    /// Serves `table` from now on. Queries already routed finish on the old table's chains.
    /// (The supervisor shares the table with the instance's upstream resolver.)
    pub fn swap_table(&self, table: impl Into<Arc<ZoneTable>>) {
        self.shared.table.store(table.into());
    }

    /// Stops reading and accepting, lets queries in flight finish within `grace`, abandons
    /// the rest, and returns when every task of the listener is gone (the sockets are closed).
    pub async fn stop(self, grace: Duration) {
        self.shared.shutdown.cancel();
        self.shared.tasks.close();
        if tokio::time::timeout(grace, self.shared.tasks.wait())
            .await
            .is_err()
        {
            self.shared.abort.cancel();
            self.shared.tasks.wait().await;
        }
    }
}

impl Drop for Listener {
    /// A listener dropped without `stop` stops reading; its queries in flight still finish.
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("local", &self.local)
            .field("identity", &self.identity)
            .finish()
    }
}

struct BoundSockets {
    local: SocketAddr,
    udp: Vec<tokio::net::UdpSocket>,
    tcp: tokio::net::TcpListener,
}

fn bind_sockets(addr: SocketAddr, udp_count: usize) -> io::Result<BoundSockets> {
    let attempts = if addr.port() == 0 {
        PORT_ZERO_ATTEMPTS
    } else {
        1
    };
    let mut last_error = None;
    for _ in 0..attempts {
        let first = udp::bind_socket(addr)?;
        let local = first.local_addr()?;
        let tcp = match tcp::bind_socket(local) {
            Ok(tcp) => tcp,
            // The kernel's free UDP port is someone's TCP port: ask for another one.
            Err(e) if addr.port() == 0 && e.kind() == io::ErrorKind::AddrInUse => {
                last_error = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut udp = vec![first];
        for _ in 1..udp_count {
            udp.push(udp::bind_socket(local)?);
        }
        return Ok(BoundSockets { local, udp, tcp });
    }
    Err(last_error.unwrap_or_else(|| io::Error::from(io::ErrorKind::AddrInUse)))
}

/// Polls `future` once in the current task: `Ready` when it completed (a ready reply,
/// answered inline), `Pending` when it waits (its waker is registered with this task).
pub(super) async fn first_poll<F: Future>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

/// Awaits `future` unless the listener's grace period ends first (None).
pub(super) async fn finish_unless_aborted<F: Future>(
    future: Pin<&mut F>,
    abort: &CancellationToken,
) -> Option<F::Output> {
    tokio::select! {
        biased;
        output = future => Some(output),
        _ = abort.cancelled() => None,
    }
}

/// Shared pieces of the socket tests of `udp` and `tcp`.
#[cfg(test)]
pub(super) mod test_support {
    use super::*;
    use plugin::metrics::MetricsHub;

    pub fn options() -> ListenerOptions {
        ListenerOptions {
            udp_sockets: 2,
            ..ListenerOptions::default()
        }
    }

    pub fn root_table(chain: plugin::Chain) -> ZoneTable {
        let mut table = ZoneTable::new();
        table.insert(".", chain);
        table
    }

    pub async fn start_listener(
        table: ZoneTable,
        opts: ListenerOptions,
    ) -> (Listener, Arc<DnsMetrics>) {
        let metrics = MetricsHub::new().get::<DnsMetrics>();
        let listener = Listener::bind(
            "127.0.0.1:0".parse().unwrap(),
            Arc::from("dns://:53"),
            table,
            metrics.clone(),
            opts,
        )
        .await
        .expect("bind 127.0.0.1:0");
        (listener, metrics)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::server::testing::*;
    use hickory_proto::rr::RecordType;

    #[tokio::test]
    async fn port_zero_binds_udp_and_tcp_on_one_port() {
        let (listener, _) =
            start_listener(root_table(chain_of(Fixed::tagged("x"))), options()).await;
        let addr = listener.local_addr();
        assert_ne!(addr.port(), 0);
        assert_eq!(addr.ip().to_string(), "127.0.0.1");
        let client = UdpClient::new(addr).await;
        let reply = client
            .ask(&wire(&query("example.org.", RecordType::A)))
            .await;
        assert_eq!(txt_answers(&reply), ["x"]);
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp_send_all(&mut tcp, &[wire(&query("example.org.", RecordType::A))]).await;
        let reply = tcp_recv(&mut tcp, Duration::from_secs(2)).await.unwrap();
        assert_eq!(txt_answers(&reply), ["x"]);
        assert_eq!(&**listener.identity(), "dns://:53");
    }

    #[tokio::test]
    async fn ipv4_and_ipv6_wildcards_are_two_listeners_on_one_port() {
        let metrics = plugin::metrics::MetricsHub::new().get::<DnsMetrics>();
        let v4 = Listener::bind(
            "0.0.0.0:0".parse().unwrap(),
            Arc::from("dns://:53"),
            root_table(chain_of(Fixed::tagged("v4"))),
            metrics.clone(),
            options(),
        )
        .await
        .unwrap();
        let port = v4.local_addr().port();
        let v6 = Listener::bind(
            SocketAddr::new("::".parse().unwrap(), port),
            Arc::from("dns://[::]:53"),
            root_table(chain_of(Fixed::tagged("v6"))),
            metrics,
            options(),
        )
        .await;
        let client = UdpClient::new(SocketAddr::from(([127, 0, 0, 1], port))).await;
        let packet = wire(&query("example.org.", RecordType::A));
        assert_eq!(txt_answers(&client.ask(&packet).await), ["v4"]);
        // A host without IPv6 cannot bind `[::]`; where it can, V6ONLY keeps it off IPv4.
        if let Ok(v6) = v6 {
            assert_eq!(v6.local_addr().port(), port);
            if let Ok(socket) = tokio::net::UdpSocket::bind("[::1]:0").await {
                let target = SocketAddr::new("::1".parse().unwrap(), port);
                socket.send_to(&packet, target).await.unwrap();
                let mut buf = vec![0u8; 512];
                let (len, _) =
                    tokio::time::timeout(Duration::from_secs(2), socket.recv_from(&mut buf))
                        .await
                        .unwrap()
                        .unwrap();
                let reply = hickory_proto::op::Message::from_vec(&buf[..len]).unwrap();
                assert_eq!(txt_answers(&reply), ["v6"]);
            }
            assert_eq!(txt_answers(&client.ask(&packet).await), ["v4"]);
        }
    }

    #[tokio::test]
    async fn swap_table_serves_the_new_table() {
        let (listener, _) =
            start_listener(root_table(chain_of(Fixed::tagged("old"))), options()).await;
        let client = UdpClient::new(listener.local_addr()).await;
        let packet = wire(&query("example.org.", RecordType::A));
        assert_eq!(txt_answers(&client.ask(&packet).await), ["old"]);
        listener.swap_table(root_table(chain_of(Fixed::tagged("new"))));
        assert_eq!(txt_answers(&client.ask(&packet).await), ["new"]);
    }

    #[tokio::test]
    async fn queries_in_flight_finish_on_the_old_table() {
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
        let client = UdpClient::new(listener.local_addr()).await;
        client
            .send(&wire(&query("slow.example.org.", RecordType::A)))
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        listener.swap_table(root_table(chain_of(Fixed::tagged("new"))));
        let first = client.recv(Duration::from_secs(2)).await.unwrap();
        assert_eq!(txt_answers(&first), ["slow"]);
        let packet = wire(&query("slow.example.org.", RecordType::A));
        assert_eq!(txt_answers(&client.ask(&packet).await), ["new"]);
    }

    #[tokio::test]
    async fn stop_lets_queries_in_flight_finish_within_grace() {
        let (listener, _) = start_listener(
            root_table(chain_of(Slow {
                delay: Duration::from_millis(200),
            })),
            options(),
        )
        .await;
        let addr = listener.local_addr();
        let client = UdpClient::new(addr).await;
        client
            .send(&wire(&query("slow.example.org.", RecordType::A)))
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = std::time::Instant::now();
        listener.stop(Duration::from_secs(2)).await;
        assert!(started.elapsed() < Duration::from_secs(1));
        let reply = client.recv(Duration::from_secs(1)).await.unwrap();
        assert_eq!(txt_answers(&reply), ["slow"]);
        // Stopped: nothing answers any more, and the TCP port is closed.
        client
            .send(&wire(&query("fast.example.org.", RecordType::A)))
            .await;
        assert!(client.recv(Duration::from_millis(200)).await.is_none());
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }

    #[tokio::test]
    async fn stop_abandons_queries_after_grace() {
        let (listener, _) = start_listener(
            root_table(chain_of(Slow {
                delay: Duration::from_secs(30),
            })),
            options(),
        )
        .await;
        let client = UdpClient::new(listener.local_addr()).await;
        client
            .send(&wire(&query("slow.example.org.", RecordType::A)))
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = std::time::Instant::now();
        listener.stop(Duration::from_millis(100)).await;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(client.recv(Duration::from_millis(100)).await.is_none());
    }

    #[tokio::test]
    async fn stop_can_run_as_its_own_task() {
        let (listener, _) =
            start_listener(root_table(chain_of(Fixed::tagged("x"))), options()).await;
        tokio::spawn(listener.stop(Duration::from_millis(10)))
            .await
            .unwrap();
    }

    #[test]
    fn default_options() {
        let opts = ListenerOptions::default();
        assert!(opts.udp_sockets >= 1);
        assert_eq!(opts.tcp_idle_timeout, Duration::from_secs(10));
        assert_eq!(opts.tcp_read_timeout, Duration::from_secs(3));
        assert_eq!(opts.tcp_write_timeout, Duration::from_secs(5));
        assert_eq!(opts.tcp_max_queries, 0);
        assert_eq!(opts.tcp_max_connections, 0);
    }
}
