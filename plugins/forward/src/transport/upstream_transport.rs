//! Everything needed to talk to one upstream: its idle pools, dial timer and series
//! (plugins-resolution.md §1.6–§1.8).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hickory_proto::op::Message;
use tokio::time::Instant;

use super::WRITE_TIMEOUT;
use super::dial_timer::DialTimer;
use super::error::ExchangeError;
use super::pool::{Freshness, Idle, IdlePool};
use super::stream::{StreamConn, TlsTarget};
use super::udp::UdpConn;
use crate::metrics::{ConnProto, UpstreamMetrics};

/// Pool and timing options shared by the upstreams of one instance.
#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    pub freshness: Freshness,
    /// Zero: unlimited.
    pub max_idle: usize,
    pub read_timeout: Duration,
    pub source: Option<IpAddr>,
}

/// The transport one query asks for; a `tls://` upstream always uses TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    Udp,
    Tcp,
}

/// Timeouts of a health probe (§1.8): 1 s write, 1 s read.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Dial timeout of a health probe (miekg/dns client default).
const PROBE_DIAL_TIMEOUT: Duration = Duration::from_secs(2);

pub struct UpstreamTransport {
    addr: SocketAddr,
    tls: Option<TlsTarget>,
    settings: PoolSettings,
    udp: IdlePool<UdpConn>,
    /// TCP and TLS connections (one upstream is either plain or TLS, never both).
    streams: IdlePool<StreamConn>,
    dial_timer: DialTimer,
    metrics: UpstreamMetrics,
    stopped: AtomicBool,
}

impl UpstreamTransport {
    pub fn new(
        addr: SocketAddr,
        tls: Option<TlsTarget>,
        settings: PoolSettings,
        metrics: UpstreamMetrics,
    ) -> Self {
        UpstreamTransport {
            addr,
            tls,
            settings,
            udp: IdlePool::default(),
            streams: IdlePool::default(),
            dial_timer: DialTimer::default(),
            metrics,
            stopped: AtomicBool::new(false),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    pub fn metrics(&self) -> &UpstreamMetrics {
        &self.metrics
    }

    fn stream_proto(&self) -> ConnProto {
        if self.tls.is_some() {
            ConnProto::Tls
        } else {
            ConnProto::Tcp
        }
    }

    /// Sends `query` (a whole DNS message; only its ID is replaced by a fresh random one)
    /// and returns the upstream's reply to it. `udp_limit` is the largest UDP reply the
    /// client accepts (§1.10).
    pub async fn exchange(
        &self,
        query: &[u8],
        net: Net,
        udp_limit: usize,
    ) -> Result<Message, ExchangeError> {
        if query.len() < plugin::wire::HEADER_LEN {
            return Err(ExchangeError::BadQuery);
        }
        if self.stopped.load(Ordering::Relaxed) {
            return Err(ExchangeError::Stopped);
        }
        let started = Instant::now();
        // A fresh random ID per exchange, retries included (§1.9, RFC 5452 §9.2).
        let id: u16 = rand::random();
        let reply = if self.tls.is_some() || net == Net::Tcp {
            self.exchange_stream(query, id).await
        } else {
            self.exchange_udp(query, id, udp_limit).await
        }?;
        self.metrics.request_duration(
            reply.metadata.response_code,
            started.elapsed().as_secs_f64(),
        );
        Ok(reply)
    }

    async fn exchange_udp(
        &self,
        query: &[u8],
        id: u16,
        limit: usize,
    ) -> Result<Message, ExchangeError> {
        let (mut conn, created) = match self.udp.take(self.settings.freshness, now()) {
            Some(idle) => {
                self.metrics.conn_cache_hit(ConnProto::Udp);
                (idle.conn, idle.created)
            }
            None => {
                self.metrics.conn_cache_miss(ConnProto::Udp);
                let dial_started = Instant::now();
                let conn = UdpConn::dial(self.addr, self.settings.source);
                self.dial_timer.record(dial_started.elapsed());
                let conn = conn.map_err(|source| ExchangeError::Dial {
                    addr: self.addr,
                    source,
                })?;
                (conn, now())
            }
        };
        let deadline = Instant::now() + self.settings.read_timeout;
        // On error the socket is dropped (closed), never returned (§1.7).
        let reply = conn
            .exchange(self.addr, query, id, limit, WRITE_TIMEOUT, deadline)
            .await?;
        self.give_back_udp(conn, created);
        Ok(reply)
    }

    async fn exchange_stream(&self, query: &[u8], id: u16) -> Result<Message, ExchangeError> {
        loop {
            let (mut conn, created, cached) =
                match self.streams.take(self.settings.freshness, now()) {
                    Some(idle) => {
                        self.metrics.conn_cache_hit(self.stream_proto());
                        (idle.conn, idle.created, true)
                    }
                    None => {
                        self.metrics.conn_cache_miss(self.stream_proto());
                        let dial_started = Instant::now();
                        let conn = StreamConn::dial(
                            self.addr,
                            self.settings.source,
                            self.tls.as_ref(),
                            self.dial_timer.timeout(),
                        )
                        .await;
                        self.dial_timer.record(dial_started.elapsed());
                        (conn?, now(), false)
                    }
                };
            let deadline = Instant::now() + self.settings.read_timeout;
            match conn
                .exchange(self.addr, query, id, WRITE_TIMEOUT, deadline, cached)
                .await
            {
                // The peer closed an idle connection: try again, not a failed attempt
                // (§1.5 step 4.3). A fresh connection never reports this, so this ends.
                Err(ExchangeError::CachedClosed) => continue,
                Err(e) => return Err(e),
                Ok(reply) => {
                    self.give_back_stream(conn, created);
                    return Ok(reply);
                }
            }
        }
    }

    fn give_back_udp(&self, conn: UdpConn, created: std::time::Instant) {
        if self.stopped.load(Ordering::Relaxed) {
            return;
        }
        let idle = Idle {
            conn,
            created,
            used: now(),
        };
        self.udp.put(idle, self.settings.max_idle);
    }

    fn give_back_stream(&self, conn: StreamConn, created: std::time::Instant) {
        if self.stopped.load(Ordering::Relaxed) {
            return;
        }
        let idle = Idle {
            conn,
            created,
            used: now(),
        };
        self.streams.put(idle, self.settings.max_idle);
    }

    /// One health probe on a connection of its own (§1.8): any decodable reply with the
    /// probe's ID is a success, whatever its rcode.
    pub async fn probe(&self, message: &[u8], force_tcp: bool) -> Result<(), ExchangeError> {
        let id: u16 = rand::random();
        if self.tls.is_some() || force_tcp {
            let mut conn = StreamConn::dial(
                self.addr,
                self.settings.source,
                self.tls.as_ref(),
                PROBE_DIAL_TIMEOUT,
            )
            .await?;
            let deadline = Instant::now() + PROBE_TIMEOUT;
            conn.exchange(self.addr, message, id, PROBE_TIMEOUT, deadline, false)
                .await?;
        } else {
            let mut conn = UdpConn::dial(self.addr, self.settings.source).map_err(|source| {
                ExchangeError::Dial {
                    addr: self.addr,
                    source,
                }
            })?;
            let deadline = Instant::now() + PROBE_TIMEOUT;
            let limit = usize::from(plugin::request::MAX_TCP_SIZE);
            conn.exchange(self.addr, message, id, limit, PROBE_TIMEOUT, deadline)
                .await?;
        }
        Ok(())
    }

    /// Closes idle connections past `expire` / `max_age` (the 10 s sweeper).
    pub fn sweep(&self) {
        let now = now();
        self.udp.sweep(self.settings.freshness, now);
        self.streams.sweep(self.settings.freshness, now);
    }

    /// Closes every idle connection; later exchanges fail and nothing is pooled again.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        self.udp.clear();
        self.streams.clear();
    }

    /// Idle connections (UDP, stream), for tests.
    pub fn idle_counts(&self) -> (usize, usize) {
        (self.udp.len(), self.streams.len())
    }
}

fn now() -> std::time::Instant {
    std::time::Instant::now()
}
