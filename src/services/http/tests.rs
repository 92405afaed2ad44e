//! HttpServers over real sockets: a raw HTTP/1.1 client, so what is checked is what a probe
//! or a scraper sees on the wire.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use plugin::http::{HttpRequest, HttpResponse, HttpRole, HttpRoute};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

fn route(addr: &str, path: &'static str, role: HttpRole, body: &'static str) -> HttpRoute {
    HttpRoute {
        addr: addr.to_string(),
        path,
        role,
        handler: Arc::new(move |_req: &HttpRequest| HttpResponse::text(200, body)),
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn body(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

async fn send(stream: &mut TcpStream, method: &str, path: &str, extra: &str) -> Reply {
    let request = format!("{method} {path} HTTP/1.1\r\nHost: test\r\n{extra}\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    read_reply(stream, method == "HEAD").await
}

/// Reads one response framed by Content-Length.
async fn read_reply(stream: &mut TcpStream, head_only: bool) -> Reply {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before the response head");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let status = head[9..12].parse().unwrap();
    let mut reply = Reply {
        status,
        head,
        body: buf[head_end..].to_vec(),
    };
    let len: usize = reply
        .header("content-length")
        .map_or(0, |v| v.parse().unwrap());
    let want = if head_only { 0 } else { len };
    while reply.body.len() < want {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed inside the body");
        reply.body.extend_from_slice(&chunk[..n]);
    }
    reply
}

async fn get(addr: SocketAddr, path: &str) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    send(&mut stream, "GET", path, "").await
}

async fn refused(addr: SocketAddr) -> bool {
    TcpStream::connect(addr).await.is_err()
}

fn loopback(servers: &HttpServers, configured: &str) -> SocketAddr {
    servers.local_addr(configured).expect("address is served")
}

#[tokio::test]
async fn serves_routes_exactly_like_go() {
    let servers = HttpServers::new();
    servers
        .apply(vec![route(
            "127.0.0.1:0",
            "/health",
            HttpRole::Health,
            "OK",
        )])
        .await
        .unwrap();
    let addr = loopback(&servers, "127.0.0.1:0");
    let mut conn = TcpStream::connect(addr).await.unwrap();

    let ok = send(&mut conn, "GET", "/health", "").await;
    assert_eq!((ok.status, ok.body()), (200, "OK"));
    assert_eq!(
        ok.header("content-type").unwrap(),
        "text/plain; charset=utf-8"
    );
    assert!(ok.header("date").is_some());

    // Keep-alive: the same connection serves every case.
    let cases = [
        ("POST", "/health", 200, "OK"),
        ("PUT", "/health?x=1", 200, "OK"),
        ("GET", "/health/", 404, "404 page not found\n"),
        ("GET", "/ready", 404, "404 page not found\n"),
        ("GET", "/", 404, "404 page not found\n"),
    ];
    for (method, path, status, body) in cases {
        let reply = send(&mut conn, method, path, "").await;
        assert_eq!(
            (reply.status, reply.body()),
            (status, body),
            "{method} {path}"
        );
    }

    let head = send(&mut conn, "HEAD", "/health", "").await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn one_server_serves_every_path_of_its_address() {
    let servers = HttpServers::new();
    servers
        .apply(vec![
            route("127.0.0.1:0", "/health", HttpRole::Health, "healthy"),
            route("127.0.0.1:0", "/ready", HttpRole::Ready, "ready"),
        ])
        .await
        .unwrap();
    let addr = loopback(&servers, "127.0.0.1:0");
    assert_eq!(get(addr, "/health").await.body(), "healthy");
    assert_eq!(get(addr, "/ready").await.body(), "ready");
}

#[tokio::test]
async fn apply_swaps_routes_without_refusing_connections() {
    let servers = HttpServers::new();
    servers
        .apply(vec![route(
            "127.0.0.1:0",
            "/metrics",
            HttpRole::Metrics,
            "old",
        )])
        .await
        .unwrap();
    let addr = loopback(&servers, "127.0.0.1:0");
    let mut before = TcpStream::connect(addr).await.unwrap();
    assert_eq!(send(&mut before, "GET", "/metrics", "").await.body(), "old");

    servers
        .apply(vec![route(
            "127.0.0.1:0",
            "/metrics",
            HttpRole::Metrics,
            "new",
        )])
        .await
        .unwrap();
    assert_eq!(
        servers.local_addr("127.0.0.1:0").map(|a| a.port()),
        Some(addr.port()),
        "same socket"
    );
    // A kept-alive connection and a new one both see the new table.
    assert_eq!(send(&mut before, "GET", "/metrics", "").await.body(), "new");
    assert_eq!(get(addr, "/metrics").await.body(), "new");
}

#[tokio::test]
async fn reload_keeps_answering_while_tables_change() {
    let servers = Arc::new(HttpServers::new());
    servers
        .apply(vec![route(
            "127.0.0.1:0",
            "/health",
            HttpRole::Health,
            "OK",
        )])
        .await
        .unwrap();
    let addr = loopback(&servers, "127.0.0.1:0");
    let applier = {
        let servers = servers.clone();
        tokio::spawn(async move {
            for _ in 0..50 {
                servers
                    .apply(vec![route(
                        "127.0.0.1:0",
                        "/health",
                        HttpRole::Health,
                        "OK",
                    )])
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    for _ in 0..50 {
        assert_eq!(get(addr, "/health").await.status, 200);
    }
    applier.await.unwrap();
}

#[tokio::test]
async fn addresses_no_longer_used_are_closed() {
    let servers = HttpServers::new();
    servers
        .apply(vec![
            route("127.0.0.1:0", "/health", HttpRole::Health, "OK"),
            route("127.0.0.2:0", "/ready", HttpRole::Ready, "OK"),
        ])
        .await
        .unwrap();
    let health = loopback(&servers, "127.0.0.1:0");
    servers
        .apply(vec![route("127.0.0.3:0", "/ready", HttpRole::Ready, "OK")])
        .await
        .unwrap();
    assert!(servers.local_addr("127.0.0.1:0").is_none());
    assert!(servers.local_addr("127.0.0.2:0").is_none());
    assert!(refused(health).await);
    let ready = loopback(&servers, "127.0.0.3:0");
    assert_eq!(get(ready, "/ready").await.status, 200);
}

#[tokio::test]
async fn spellings_of_one_socket_share_a_server() {
    let servers = HttpServers::new();
    servers
        .apply(vec![
            route(":0", "/health", HttpRole::Health, "OK"),
            route("0.0.0.0:0", "/ready", HttpRole::Ready, "OK"),
            route("localhost:0", "/metrics", HttpRole::Metrics, "metrics"),
        ])
        .await
        .unwrap();
    let wildcard = servers.local_addr(":0").unwrap();
    assert_eq!(servers.local_addr("0.0.0.0:0"), Some(wildcard));
    let addr = SocketAddr::from(([127, 0, 0, 1], wildcard.port()));
    assert_eq!(get(addr, "/health").await.status, 200);
    assert_eq!(get(addr, "/ready").await.status, 200);

    let local = servers.local_addr("localhost:0").unwrap();
    assert_eq!(
        local.ip().to_string(),
        "127.0.0.1",
        "localhost listens on IPv4"
    );
    assert_eq!(get(local, "/metrics").await.body(), "metrics");
}

#[tokio::test]
async fn close_role_follows_the_shutdown_order() {
    let servers = HttpServers::new();
    servers
        .apply(vec![
            route("127.0.0.1:0", "/ready", HttpRole::Ready, "OK"),
            route("127.0.0.3:0", "/health", HttpRole::Health, "OK"),
            route("127.0.0.2:0", "/metrics", HttpRole::Metrics, "metrics"),
            route("127.0.0.2:0", "/ready", HttpRole::Ready, "OK"),
        ])
        .await
        .unwrap();
    let ready = loopback(&servers, "127.0.0.1:0");
    let health = loopback(&servers, "127.0.0.3:0");
    let metrics = loopback(&servers, "127.0.0.2:0");

    servers.close_role(HttpRole::Ready).await;
    assert!(refused(ready).await, "ready-only server closed");
    assert_eq!(get(health, "/health").await.status, 200);
    assert_eq!(
        get(metrics, "/ready").await.status,
        404,
        "shared server keeps serving"
    );
    assert_eq!(get(metrics, "/metrics").await.body(), "metrics");

    servers.close_role(HttpRole::Health).await;
    assert!(refused(health).await);
    assert_eq!(get(metrics, "/metrics").await.status, 200);

    servers.close_role(HttpRole::Metrics).await;
    assert!(refused(metrics).await);
}

/// Holds a port the way another program would: without SO_REUSEPORT, so our bind fails.
fn occupied() -> (std::net::TcpListener, String) {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = holder.local_addr().unwrap().to_string();
    (holder, addr)
}

#[tokio::test]
async fn health_bind_failure_is_an_error_and_changes_nothing() {
    let (_holder, busy) = occupied();
    let servers = HttpServers::new();
    servers
        .apply(vec![route(
            "127.0.0.1:0",
            "/metrics",
            HttpRole::Metrics,
            "old",
        )])
        .await
        .unwrap();
    let metrics = loopback(&servers, "127.0.0.1:0");

    let err = servers
        .apply(vec![
            route("127.0.0.1:0", "/metrics", HttpRole::Metrics, "new"),
            route("127.0.0.2:0", "/ready", HttpRole::Ready, "OK"),
            route(&busy, "/health", HttpRole::Health, "OK"),
        ])
        .await
        .unwrap_err();
    assert!(matches!(
        &err,
        HttpError::Listen { addr, source: ListenError::Bind(_) } if *addr == busy
    ));
    assert!(
        err.to_string()
            .starts_with(&format!("listen tcp {busy}: bind: "))
    );
    assert_eq!(
        get(metrics, "/metrics").await.body(),
        "old",
        "old routes kept"
    );
    assert!(
        servers.local_addr("127.0.0.2:0").is_none(),
        "nothing new opened"
    );
}

#[tokio::test]
async fn metrics_and_ready_bind_failures_are_not_errors() {
    let (_holder, busy) = occupied();
    let servers = HttpServers::new();
    servers
        .apply(vec![
            route(&busy, "/metrics", HttpRole::Metrics, "metrics"),
            route("127.0.0.1:0", "/health", HttpRole::Health, "OK"),
        ])
        .await
        .unwrap();
    assert!(servers.local_addr(&busy).is_none());
    assert!(servers.local_addr("127.0.0.1:0").is_some());

    servers
        .apply(vec![route(&busy, "/ready", HttpRole::Ready, "OK")])
        .await
        .unwrap();
    assert!(servers.local_addr(&busy).is_none());
}

#[tokio::test]
async fn a_failed_address_is_tried_again_on_the_next_apply() {
    let (holder, busy) = occupied();
    let servers = HttpServers::new();
    let routes = || vec![route(&busy, "/metrics", HttpRole::Metrics, "metrics")];
    servers.apply(routes()).await.unwrap();
    assert!(servers.local_addr(&busy).is_none());
    drop(holder);
    servers.apply(routes()).await.unwrap();
    let addr = servers.local_addr(&busy).unwrap();
    assert_eq!(get(addr, "/metrics").await.body(), "metrics");
}

#[tokio::test]
async fn gzip_is_offered_to_handlers_and_labelled() {
    let seen = Arc::new(AtomicUsize::new(0));
    let handler_seen = seen.clone();
    let servers = HttpServers::new();
    servers
        .apply(vec![HttpRoute {
            addr: "127.0.0.1:0".into(),
            path: "/metrics",
            role: HttpRole::Metrics,
            handler: Arc::new(move |req: &HttpRequest| {
                if req.accept_gzip {
                    handler_seen.fetch_add(1, Ordering::SeqCst);
                    HttpResponse {
                        content_encoding: Some("gzip"),
                        ..HttpResponse::text(200, &[0x1f, 0x8b, 0x08, 0x00][..])
                    }
                } else {
                    HttpResponse::text(200, "plain")
                }
            }),
        }])
        .await
        .unwrap();
    let addr = loopback(&servers, "127.0.0.1:0");
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let gz = send(&mut conn, "GET", "/metrics", "Accept-Encoding: gzip\r\n").await;
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(gz.body, vec![0x1f, 0x8b, 0x08, 0x00]);
    let plain = send(&mut conn, "GET", "/metrics", "").await;
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.body(), "plain");
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}
