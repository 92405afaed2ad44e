//! The accept loop: HTTP/1.1 connections on 127.0.0.1 (plain, or inside TLS when the server
//! has a `TlsConfig`), each served until the client closes it or the server goes down. Going down cancels one token: the loop stops accepting and drops the
//! listening socket (new connections are refused), and every open connection is dropped.

use std::{sync::Arc, time::Duration};

use hyper::{server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    router,
    shared::{Shared, lock},
};

/// A running accept loop and its connections.
pub(crate) struct Serving {
    token: CancellationToken,
    connections: TaskTracker,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl Serving {
    pub fn start(
        listener: TcpListener,
        shared: Arc<Shared>,
        tls: Option<TlsAcceptor>,
        parent: &CancellationToken,
    ) -> Serving {
        let token = parent.child_token();
        let connections = TaskTracker::new();
        let server_address: Arc<str> = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
            .into();
        let accept_loop = tokio::spawn(accept_loop(
            listener,
            shared,
            tls,
            token.clone(),
            connections.clone(),
            server_address,
        ));
        Serving {
            token,
            connections,
            accept_loop,
        }
    }

    /// Stops accepting, closes every connection, and returns once the socket is closed.
    pub async fn stop(self) {
        self.token.cancel();
        let _ = self.accept_loop.await;
        self.connections.close();
        self.connections.wait().await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    token: CancellationToken,
    connections: TaskTracker,
    server_address: Arc<str>,
) {
    loop {
        let stream = tokio::select! {
            _ = token.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: wait a moment instead of spinning.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let token = token.clone();
        let server_address = server_address.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let Some(acceptor) = tls else {
                serve(stream, shared, token, server_address).await;
                return;
            };
            let handshake = tokio::select! {
                _ = token.cancelled() => return,
                handshake = acceptor.accept(stream) => handshake,
            };
            match handshake {
                Ok(stream) => serve(stream, shared, token, server_address).await,
                // A refused client (no or wrong client certificate, or it did not trust our
                // certificate): logged for tests; nothing reaches the router.
                Err(error) => lock(&shared.tls_failures).push(error.to_string()),
            }
        });
    }
}

/// Serves HTTP/1.1 on one connection until the client closes it or the server goes down.
async fn serve(
    stream: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
    shared: Arc<Shared>,
    token: CancellationToken,
    server_address: Arc<str>,
) {
    let request_token = token.clone();
    let service = service_fn(move |request| {
        router::handle(
            shared.clone(),
            request_token.clone(),
            server_address.clone(),
            request,
        )
    });
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        _ = token.cancelled() => {}
    }
}
