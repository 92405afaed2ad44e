//! One TCP or TLS connection to an upstream and its reused buffer (RFC 1035 §4.2.2: each
//! message prefixed with its two-byte length; RFC 7858 for TLS).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hickory_proto::op::Message;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::error::ExchangeError;
use super::{id_of, reply, set_id};

/// Where a `tls://` upstream is dialled with.
#[derive(Clone)]
pub struct TlsTarget {
    pub connector: TlsConnector,
    pub server_name: ServerName<'static>,
}

impl TlsTarget {
    pub fn new(config: Arc<rustls::ClientConfig>, server_name: ServerName<'static>) -> Self {
        TlsTarget {
            connector: TlsConnector::from(config),
            server_name,
        }
    }
}

/// A plain or TLS byte stream.
#[derive(Debug)]
pub enum Stream {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[derive(Debug)]
pub struct StreamConn {
    stream: Stream,
    /// Holds the length-prefixed query, then each reply read; grows and stays.
    buf: Vec<u8>,
}

/// True for the errors a peer that closed an idle connection causes.
fn closed_by_peer(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
    )
}

impl StreamConn {
    /// Connects (and handshakes, for TLS) within `timeout`.
    pub async fn dial(
        addr: SocketAddr,
        source: Option<IpAddr>,
        tls: Option<&TlsTarget>,
        timeout: Duration,
    ) -> Result<StreamConn, ExchangeError> {
        let dial_error = |source| ExchangeError::Dial { addr, source };
        let connect = async {
            let socket = match addr {
                SocketAddr::V4(_) => TcpSocket::new_v4(),
                SocketAddr::V6(_) => TcpSocket::new_v6(),
            }
            .map_err(dial_error)?;
            if let Some(ip) = source {
                socket.bind(SocketAddr::new(ip, 0)).map_err(dial_error)?;
            }
            let tcp = socket.connect(addr).await.map_err(dial_error)?;
            // Queries are small and latency-bound (RFC 7766 §8).
            tcp.set_nodelay(true).map_err(dial_error)?;
            let stream = match tls {
                None => Stream::Tcp(tcp),
                Some(target) => Stream::Tls(Box::new(
                    target
                        .connector
                        .connect(target.server_name.clone(), tcp)
                        .await
                        .map_err(dial_error)?,
                )),
            };
            Ok(StreamConn {
                stream,
                buf: Vec::new(),
            })
        };
        tokio::time::timeout(timeout, connect)
            .await
            .unwrap_or(Err(ExchangeError::DialTimeout(addr)))
    }

    /// Sends `query` with `id` and reads messages until one with that ID arrives or
    /// `deadline` passes; others are ignored (§1.9). `cached`: the connection came from the
    /// pool, so a peer close before any reply is [`ExchangeError::CachedClosed`].
    pub async fn exchange(
        &mut self,
        addr: SocketAddr,
        query: &[u8],
        id: u16,
        write_timeout: Duration,
        deadline: Instant,
        cached: bool,
    ) -> Result<Message, ExchangeError> {
        let Ok(len) = u16::try_from(query.len()) else {
            return Err(ExchangeError::BadQuery);
        };
        self.buf.clear();
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(query);
        set_id(&mut self.buf[2..], id);
        let write = async {
            self.stream.write_all(&self.buf).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(write_timeout, write).await {
            Err(_) => return Err(ExchangeError::WriteTimeout(addr)),
            Ok(Err(e)) if cached && closed_by_peer(&e) => return Err(ExchangeError::CachedClosed),
            Ok(Err(source)) => return Err(ExchangeError::Write { addr, source }),
            Ok(Ok(())) => {}
        }
        let mut first = true;
        loop {
            let mut prefix = [0u8; 2];
            match tokio::time::timeout_at(deadline, self.stream.read_exact(&mut prefix)).await {
                Err(_) => return Err(ExchangeError::ReadTimeout(addr)),
                Ok(Err(e)) if cached && first && closed_by_peer(&e) => {
                    return Err(ExchangeError::CachedClosed);
                }
                Ok(Err(source)) => return Err(ExchangeError::Read { addr, source }),
                Ok(Ok(_)) => {}
            }
            first = false;
            let n = usize::from(u16::from_be_bytes(prefix));
            if self.buf.len() < n {
                self.buf.resize(n, 0);
            }
            match tokio::time::timeout_at(deadline, self.stream.read_exact(&mut self.buf[..n]))
                .await
            {
                Err(_) => return Err(ExchangeError::ReadTimeout(addr)),
                Ok(Err(source)) => return Err(ExchangeError::Read { addr, source }),
                Ok(Ok(_)) => {}
            }
            if id_of(&self.buf[..n]) != Some(id) {
                continue;
            }
            return reply::decode(&self.buf[..n], false, false)
                .map_err(|source| ExchangeError::Decode { addr, source });
        }
    }
}
