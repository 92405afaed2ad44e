//! Hostname upstreams (plugins-resolution.md §1.2, since CoreDNS 1.14.4): resolved once when
//! the configuration is loaded, through the `resolver` list or the operating system.
//!
//! This runs during setup, before anything is served, and blocks like CoreDNS's lookup does
//! (at most 2 s per question and resolver).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RData, RecordType};

use crate::error::ForwardConfigError;

/// Read and write timeout of one question to a `resolver`.
const RESOLVER_TIMEOUT: Duration = Duration::from_secs(2);

/// A domain name in presentation form: labels of 1–63 octets, at most 253 characters, no
/// characters that cannot appear in a host name (paths, spaces) — and not an IP address.
pub fn is_valid(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.parse::<IpAddr>().is_err()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Every address of `host`: from the first of `resolvers` that yields any (A, then AAAA),
/// or from the operating system's resolver when there are none.
pub fn resolve(host: &str, resolvers: &[SocketAddr]) -> Result<Vec<IpAddr>, ForwardConfigError> {
    let failed = |reason: String| ForwardConfigError::FailedToResolve {
        host: host.to_string(),
        reason,
    };
    if resolvers.is_empty() {
        let addrs = (host, 0)
            .to_socket_addrs()
            .map_err(|e| failed(e.to_string()))?;
        let mut ips: Vec<IpAddr> = Vec::new();
        for addr in addrs {
            if !ips.contains(&addr.ip()) {
                ips.push(addr.ip());
            }
        }
        if ips.is_empty() {
            return Err(failed("no addresses".into()));
        }
        return Ok(ips);
    }
    let mut last_error = String::from("no addresses");
    for resolver in resolvers {
        match ask(*resolver, host, RecordType::A) {
            Ok(mut ips) => {
                // An AAAA failure after A answered is ignored (§1.2).
                ips.extend(ask(*resolver, host, RecordType::AAAA).unwrap_or_default());
                if !ips.is_empty() {
                    return Ok(ips);
                }
            }
            Err(e) => last_error = e,
        }
    }
    Err(failed(last_error))
}

/// One question to one resolver, RD=1, over UDP.
fn ask(resolver: SocketAddr, host: &str, qtype: RecordType) -> Result<Vec<IpAddr>, String> {
    let name = Name::from_ascii(host)
        .map(|mut n| {
            n.set_fqdn(true);
            n
        })
        .map_err(|e| e.to_string())?;
    let id: u16 = rand::random();
    let mut query = Message::new(id, MessageType::Query, OpCode::Query);
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(name, qtype));
    let wire = query.to_vec().map_err(|e| e.to_string())?;
    let local: SocketAddr = match resolver {
        SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let io = |e: std::io::Error| e.to_string();
    let socket = UdpSocket::bind(local).map_err(io)?;
    socket.connect(resolver).map_err(io)?;
    socket
        .set_read_timeout(Some(RESOLVER_TIMEOUT))
        .map_err(io)?;
    socket
        .set_write_timeout(Some(RESOLVER_TIMEOUT))
        .map_err(io)?;
    socket.send(&wire).map_err(io)?;
    let mut buf = vec![0u8; 65535];
    loop {
        let n = socket.recv(&mut buf).map_err(io)?;
        // Replies for other IDs are not ours (RFC 5452 §4.3).
        if n < 2 || u16::from_be_bytes([buf[0], buf[1]]) != id {
            continue;
        }
        let reply = Message::from_vec(&buf[..n]).map_err(|e| e.to_string())?;
        return Ok(reply
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(IpAddr::V4(a.0)),
                RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                _ => None,
            })
            .collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_and_not() {
        assert!(is_valid("dns.example"));
        assert!(is_valid("dns.example."));
        assert!(is_valid("kube-dns.kube-system.svc.cluster.local"));
        assert!(!is_valid("/etc/resolv.conf"));
        assert!(!is_valid("a..b"));
        assert!(!is_valid("1.2.3.4"));
        assert!(!is_valid(""));
    }

    #[test]
    fn localhost_resolves_through_the_os() {
        let ips = resolve("localhost", &[]).unwrap();
        assert!(ips.iter().all(|ip| ip.is_loopback()), "{ips:?}");
    }
}
