//! The fake upstream itself: sockets on 127.0.0.1, the serving tasks, and what the test asks.

use std::net::{Ipv4Addr, SocketAddr};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;

use crate::shared::Shared;
use crate::{Action, Seen, stream, tls, udp};

/// A scripted DNS server on 127.0.0.1. Dropping it stops its tasks and closes its sockets
/// (the tasks are aborted, so the sockets close as soon as the runtime runs them next).
pub struct FakeUpstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    tls_ca_pem: Option<String>,
}

/// How often `start` tries for a port free for both UDP and TCP.
const PORT_ATTEMPTS: usize = 20;

impl FakeUpstream {
    /// UDP and TCP on the same 127.0.0.1 port, chosen by the kernel.
    pub async fn start(
        script: impl Fn(&Seen) -> Action + Send + Sync + 'static,
    ) -> std::io::Result<FakeUpstream> {
        let (udp_socket, listener) = bind_udp_and_tcp().await?;
        let addr = udp_socket.local_addr()?;
        let shared = Arc::new(Shared::new(Arc::new(script)));
        let tasks = vec![
            tokio::spawn(udp::serve(udp_socket, Arc::clone(&shared))),
            tokio::spawn(stream::accept(listener, None, Arc::clone(&shared))),
        ];
        Ok(FakeUpstream {
            addr,
            shared,
            tasks,
            tls_ca_pem: None,
        })
    }

    /// DNS over TLS (RFC 7858) on 127.0.0.1, port chosen by the kernel, with a certificate
    /// made now: a self-signed CA ([`FakeUpstream::tls_ca_pem`]) and a leaf for
    /// [`crate::TLS_SERVER_NAME`] ("dns.test") and IP 127.0.0.1. No plain UDP or TCP.
    pub async fn start_tls(
        script: impl Fn(&Seen) -> Action + Send + Sync + 'static,
    ) -> std::io::Result<FakeUpstream> {
        let (acceptor, ca_pem) = tls::generate()?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(Arc::new(script)));
        let tasks = vec![tokio::spawn(stream::accept(
            listener,
            Some(acceptor),
            Arc::clone(&shared),
        ))];
        Ok(FakeUpstream {
            addr,
            shared,
            tasks,
            tls_ca_pem: Some(ca_pem),
        })
    }

    /// The CA certificate (PEM) that signed the DoT certificate, to write into a file for
    /// forward's `tls CA`; None for a plain server.
    pub fn tls_ca_pem(&self) -> Option<&str> {
        self.tls_ca_pem.as_deref()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every query received so far, in arrival order (queries that did not decode as DNS are
    /// logged, not recorded).
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen()
    }

    /// How many queries have arrived (those not recorded included).
    pub fn count(&self) -> usize {
        self.shared.count()
    }

    /// Whether queries are kept for [`FakeUpstream::seen`] (on at start). Turn it off for
    /// long benchmark runs so memory stays flat; [`FakeUpstream::count`] still counts.
    pub fn set_recording(&self, on: bool) {
        self.shared.set_recording(on);
    }

    /// Change behaviour mid-test; queries read from now on get the new script.
    pub fn set_script(&self, script: impl Fn(&Seen) -> Action + Send + Sync + 'static) {
        self.shared.set_script(Arc::new(script));
    }

    /// Wait until at least `n` queries have arrived: true, or false when `timeout` passes
    /// first.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let mut arrived = pin!(self.shared.arrived().notified());
            // Registered before counting, so an arrival in between still wakes us.
            arrived.as_mut().enable();
            if self.count() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.count() >= n;
            }
        }
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl std::fmt::Debug for FakeUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeUpstream")
            .field("addr", &self.addr)
            .field("tls", &self.tls_ca_pem.is_some())
            .field("count", &self.count())
            .finish()
    }
}

/// A UDP socket and a TCP listener on the same kernel-chosen 127.0.0.1 port. The kernel picks
/// the UDP port; if that port is taken for TCP, try another.
async fn bind_udp_and_tcp() -> std::io::Result<(UdpSocket, TcpListener)> {
    let mut last_error = None;
    for _ in 0..PORT_ATTEMPTS {
        let udp_socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let port = udp_socket.local_addr()?.port();
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            Ok(listener) => return Ok((udp_socket, listener)),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no free port for UDP and TCP")))
}
