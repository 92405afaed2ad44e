//! The TCP and TLS side: 2-byte length framing (RFC 1035 §4.2.2), several queries per
//! connection answered in order (RFC 7766 §6.2.1 allows pipelining; in-order answers are
//! enough for a forwarder's tests).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::Message;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::log::skipped;
use crate::relay::relay;
use crate::shared::Shared;
use crate::steps::{Step, steps};
use crate::{Proto, Seen};

/// A connection whose TCP socket can be reached, to reset it.
pub(crate) trait OverTcp: AsyncRead + AsyncWrite + Unpin + Send {
    fn tcp(&self) -> &TcpStream;
}

impl OverTcp for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl OverTcp for tokio_rustls::server::TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

/// Accept connections until this task is aborted; open connections end with it (their
/// JoinSet is dropped).
pub(crate) async fn accept(listener: TcpListener, tls: Option<TlsAcceptor>, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let (tcp, source) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                skipped(format_args!("tcp accept: {e}"));
                // Out of file descriptors and the like: do not spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        match &tls {
            None => {
                connections.spawn(serve(tcp, source, Proto::Tcp, shared));
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                connections.spawn(async move {
                    match acceptor.accept(tcp).await {
                        Ok(stream) => serve(stream, source, Proto::Tls, shared).await,
                        Err(e) => skipped(format_args!("tls handshake with {source}: {e}")),
                    }
                });
            }
        }
    }
}

/// What to do with the connection after a query's steps.
enum Next {
    KeepReading,
    End,
}

async fn serve<S: OverTcp>(mut stream: S, source: SocketAddr, proto: Proto, shared: Arc<Shared>) {
    loop {
        let wire = match read_frame(&mut stream).await {
            Ok(Some(wire)) => wire,
            Ok(None) => return,
            Err(e) => {
                skipped(format_args!("{proto:?} read from {source}: {e}"));
                return;
            }
        };
        let message = match Message::from_vec(&wire) {
            Ok(message) => message,
            Err(e) => {
                // The framing is intact, so the connection can carry on.
                skipped(format_args!(
                    "{proto:?}: {} bytes from {source} are not DNS: {e}",
                    wire.len()
                ));
                continue;
            }
        };
        let query_id = message.metadata.id;
        let seen = Seen {
            proto,
            source,
            message,
            wire: wire.clone(),
            at: Instant::now(),
        };
        let steps = steps(shared.decide(seen), query_id);
        match perform(&mut stream, &wire, steps).await {
            Ok(Next::KeepReading) => {}
            Ok(Next::End) => return,
            Err(e) => {
                skipped(format_args!("{proto:?} write to {source}: {e}"));
                return;
            }
        }
    }
}

/// One length-prefixed message, or None at a clean end of stream.
async fn read_frame<S: OverTcp>(stream: &mut S) -> std::io::Result<Option<Vec<u8>>> {
    let mut prefix = [0u8; 2];
    match stream.read_exact(&mut prefix).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut wire = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    stream.read_exact(&mut wire).await?;
    Ok(Some(wire))
}

async fn perform<S: OverTcp>(
    stream: &mut S,
    query: &[u8],
    steps: Vec<Step>,
) -> std::io::Result<Next> {
    for step in steps {
        match step {
            Step::Sleep(after) => tokio::time::sleep(after).await,
            Step::Send(bytes) => write_frame(stream, &bytes).await?,
            Step::SendUnframed(bytes) => {
                stream.write_all(&bytes).await?;
                stream.flush().await?;
            }
            Step::Reset => {
                // SO_LINGER 0: closing the socket sends RST instead of FIN.
                socket2::SockRef::from(stream.tcp()).set_linger(Some(Duration::ZERO))?;
                return Ok(Next::End);
            }
            Step::Close => {
                stream.shutdown().await?;
                return Ok(Next::End);
            }
            Step::Relay(upstream) => {
                if let Some(reply) = relay(query, upstream).await {
                    write_frame(stream, &reply).await?;
                }
            }
        }
    }
    Ok(Next::KeepReading)
}

async fn write_frame<S: OverTcp>(stream: &mut S, message: &[u8]) -> std::io::Result<()> {
    let Ok(len) = u16::try_from(message.len()) else {
        skipped(format_args!(
            "a {}-byte message does not fit a TCP frame; not sent",
            message.len()
        ));
        return Ok(());
    };
    // One write for prefix and message, so the two do not go out as separate segments.
    let mut frame = Vec::with_capacity(message.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(message);
    stream.write_all(&frame).await?;
    stream.flush().await
}
