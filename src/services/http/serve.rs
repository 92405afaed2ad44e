//! One address's accept loop and its connections: plain HTTP/1.1 with the 5 s read, write
//! and idle timeouts of CoreDNS's `http.Server`s (cli-and-endpoints.md §6).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::routes::RouteTable;
use super::stall::StallTimeout;

/// `ReadTimeout`, `WriteTimeout` and `IdleTimeout` of CoreDNS's HTTP servers.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a closing server lets in-flight requests finish (CoreDNS `shutdownTimeout`).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

pub type SharedTable = Arc<ArcSwap<RouteTable>>;

/// Accepts on `listener` until `cancel`; the listener is closed when the task ends.
pub fn spawn(
    listener: TcpListener,
    table: SharedTable,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = cancel.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(stream, table.clone(), cancel.clone()));
                }
                Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
            }
        }
    })
}

async fn serve_connection(stream: TcpStream, table: SharedTable, cancel: CancellationToken) {
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(StallTimeout::new(stream, IO_TIMEOUT));
    let service = service_fn(move |req| {
        // The table current when the request arrived: a reload swaps it under us.
        let resp = table.load().respond(&req);
        async move { Ok::<_, Infallible>(resp) }
    });
    let mut builder = http1::Builder::new();
    // Hyper's header timeout runs from the moment it waits for a request, so it is both the
    // read timeout of a request's head and the idle timeout between keep-alive requests.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(IO_TIMEOUT);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = cancel.cancelled() => {
            // Closing the server: finish the request in flight, then close (Go's Shutdown).
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_TIMEOUT, conn).await;
        }
    }
}
