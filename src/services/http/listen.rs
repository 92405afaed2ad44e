//! Opening an HTTP listener the way CoreDNS's `reuseport.Listen("tcp", ADDR)` does: Go's
//! address resolution, SO_REUSEPORT on every socket (cli-and-endpoints.md §4).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use plugin::http::{AddrError, split_host_port};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;

/// Pending connections the kernel queues before `accept` (Go uses the system's somaxconn).
const BACKLOG: i32 = 1024;

/// Why an address could not be listened on.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error(transparent)]
    Addr(#[from] AddrError),
    /// Go accepts service names (`:http`); only numbers are accepted here.
    #[error("lookup tcp/{0}: unknown port")]
    Port(String),
    #[error("lookup {host}: {source}")]
    Lookup { host: String, source: io::Error },
    #[error("lookup {0}: no such host")]
    NoSuchHost(String),
    #[error("bind: {0}")]
    Bind(io::Error),
}

/// Where a configured `host:port` listens. Spellings of one socket (`:8080`, `0.0.0.0:8080`,
/// `[::]:8080`) are one target, so they share one server instead of two sockets that the
/// kernel would split connections between.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// No host or an unspecified one (`:8080`, `0.0.0.0:8080`, `[::]:8080`): Go listens on
    /// every interface of both families (an IPv6 socket with IPV6_V6ONLY off), or IPv4 only
    /// when the host has no IPv6.
    Wildcard(u16),
    One(SocketAddr),
}

/// Opens the socket of `target`.
pub fn listen(target: Target) -> Result<TcpListener, ListenError> {
    match target {
        Target::One(addr) => bind(addr).map_err(ListenError::Bind),
        Target::Wildcard(port) => bind(SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port))
            .or_else(|v6_err| {
                if ipv6_unavailable(&v6_err) {
                    bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port))
                        .map_err(ListenError::Bind)
                } else {
                    Err(ListenError::Bind(v6_err))
                }
            }),
    }
}

/// Where `configured` (`host:port` as written in the Corefile) listens.
pub async fn resolve(configured: &str) -> Result<Target, ListenError> {
    let (host, port) = split_host_port(configured)?;
    let port: u16 = port
        .parse()
        .map_err(|_| ListenError::Port(port.to_string()))?;
    if host.is_empty() {
        return Ok(Target::Wildcard(port));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(if ip.is_unspecified() {
            Target::Wildcard(port)
        } else {
            Target::One(SocketAddr::new(ip, port))
        });
    }
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| ListenError::Lookup {
            host: host.to_string(),
            source,
        })?
        .collect();
    // A name with several addresses is listened on at one of them, IPv4 first, as Go's
    // `net.Listen` does (so `localhost:9153` is 127.0.0.1:9153).
    found
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| found.first())
        .map(|a| Target::One(*a))
        .ok_or_else(|| ListenError::NoSuchHost(host.to_string()))
}

fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if let SocketAddr::V6(v6) = addr {
        // Dual-stack only for the wildcard, as Go: a specific IPv6 address is IPv6 only.
        socket.set_only_v6(!v6.ip().is_unspecified())?;
    }
    // SO_REUSEADDR is Go's default for listeners; SO_REUSEPORT is CoreDNS's `reuseport`.
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    TcpListener::from_std(socket.into())
}

/// The host has no IPv6 (kernel without it, or disabled): fall back to IPv4 only.
fn ipv6_unavailable(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EAFNOSUPPORT) | Some(libc::EADDRNOTAVAIL) | Some(libc::EPROTONOSUPPORT)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_like_go() {
        assert_eq!(resolve(":8080").await.unwrap(), Target::Wildcard(8080));
        assert_eq!(
            resolve("0.0.0.0:8080").await.unwrap(),
            Target::Wildcard(8080)
        );
        assert_eq!(resolve("[::]:8080").await.unwrap(), Target::Wildcard(8080));
        assert_eq!(
            resolve("[::1]:8181").await.unwrap(),
            Target::One("[::1]:8181".parse().unwrap())
        );
        assert_eq!(
            resolve("localhost:9153").await.unwrap(),
            Target::One("127.0.0.1:9153".parse().unwrap())
        );
    }

    #[tokio::test]
    async fn bad_addresses_are_errors() {
        assert!(matches!(
            resolve("8080").await,
            Err(ListenError::Addr(AddrError::MissingPort(_)))
        ));
        assert!(matches!(resolve(":http").await, Err(ListenError::Port(_))));
        assert!(matches!(resolve(":70000").await, Err(ListenError::Port(_))));
    }

    #[tokio::test]
    async fn wildcard_listens_on_both_families_when_it_can() {
        let listener = listen(resolve(":0").await.unwrap()).unwrap();
        let local = listener.local_addr().unwrap();
        assert!(local.ip().is_unspecified());
        let v4 = tokio::net::TcpStream::connect(("127.0.0.1", local.port())).await;
        assert!(v4.is_ok(), "IPv4 client reaches the wildcard listener");
    }

    #[tokio::test]
    async fn sockets_share_ports_with_reuseport() {
        let first = listen(resolve("127.0.0.1:0").await.unwrap()).unwrap();
        let addr = first.local_addr().unwrap();
        let second = listen(Target::One(addr));
        assert!(second.is_ok(), "SO_REUSEPORT lets a second listener bind");
    }

    #[tokio::test]
    async fn a_port_held_without_reuseport_fails() {
        let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = holder.local_addr().unwrap();
        assert!(matches!(
            listen(Target::One(addr)),
            Err(ListenError::Bind(_))
        ));
    }
}
