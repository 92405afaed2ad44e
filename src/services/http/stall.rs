//! A connection that fails a read or a write making no progress for a while: the part of Go's
//! `ReadTimeout`/`WriteTimeout` (5 s on CoreDNS's HTTP servers) that hyper has no setting for,
//! e.g. a scraper that stops reading a large `/metrics` reply.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// One direction's deadline: armed when an operation first waits, disarmed on progress.
struct Deadline {
    sleep: Pin<Box<Sleep>>,
    armed: bool,
}

impl Deadline {
    fn new() -> Self {
        Deadline {
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            armed: false,
        }
    }

    /// Called when the operation is pending: true once it has waited `limit`.
    fn expired(&mut self, limit: Duration, cx: &mut Context<'_>) -> bool {
        if !self.armed {
            self.sleep.as_mut().reset(Instant::now() + limit);
            self.armed = true;
        }
        self.sleep.as_mut().poll(cx).is_ready()
    }

    /// Passes `poll` through: progress disarms the deadline, a wait past `limit` becomes a
    /// `TimedOut` error naming `what`.
    fn watch<R>(
        &mut self,
        poll: Poll<io::Result<R>>,
        limit: Duration,
        cx: &mut Context<'_>,
        what: &str,
    ) -> Poll<io::Result<R>> {
        match poll {
            Poll::Ready(result) => {
                self.armed = false;
                Poll::Ready(result)
            }
            Poll::Pending if self.expired(limit, cx) => Poll::Ready(Err(stalled(what))),
            Poll::Pending => Poll::Pending,
        }
    }
}

pub struct StallTimeout<T> {
    inner: T,
    limit: Duration,
    read: Deadline,
    write: Deadline,
}

impl<T> StallTimeout<T> {
    pub fn new(inner: T, limit: Duration) -> Self {
        StallTimeout {
            inner,
            limit,
            read: Deadline::new(),
            write: Deadline::new(),
        }
    }
}

fn stalled(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("{what} timed out"))
}

impl<T: AsyncRead + Unpin> AsyncRead for StallTimeout<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        this.read.watch(poll, this.limit, cx, "read")
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for StallTimeout<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.write.watch(poll, this.limit, cx, "write")
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.write.watch(poll, this.limit, cx, "write")
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.write.watch(poll, this.limit, cx, "write")
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // Real time (tokio's paused clock needs a feature the workspace does not enable): short
    // limits, and progress well inside them.
    const LIMIT: Duration = Duration::from_millis(300);

    #[tokio::test]
    async fn a_silent_peer_times_out_a_read() {
        let (client, _server) = tokio::io::duplex(64);
        let mut io = StallTimeout::new(client, LIMIT);
        let mut buf = [0u8; 8];
        let err = io.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test]
    async fn a_peer_that_stops_reading_times_out_a_write() {
        let (client, _server) = tokio::io::duplex(16);
        let mut io = StallTimeout::new(client, LIMIT);
        let err = io.write_all(&[0u8; 64]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test]
    async fn progress_rearms_the_deadline() {
        let (client, mut server) = tokio::io::duplex(64);
        let mut io = StallTimeout::new(client, LIMIT);
        let feeder = tokio::spawn(async move {
            for _ in 0..5 {
                tokio::time::sleep(LIMIT / 3).await;
                server.write_all(b"x").await.unwrap();
            }
            server
        });
        let mut buf = [0u8; 1];
        for _ in 0..5 {
            io.read_exact(&mut buf).await.unwrap();
        }
        drop(feeder.await.unwrap());
    }
}
