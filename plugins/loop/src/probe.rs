//! The probe: its random name, and one HINFO exchange with our own listener over UDP
//! (plugins-core.md, loop, steps 1–2).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use rand::RngExt;
use tokio::net::UdpSocket;

/// How long one probe waits for its reply (Go's `dns.Exchange` default).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a probe got no reply. Any reply, whatever its rcode, is a success.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("probe failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("probe timed out")]
    Timeout,
    #[error("probe name {0:?} is no DNS name")]
    Name(String),
}

/// `<R1>.<R2>.<ZONE>`: two independent random numbers below 2^62 in decimal, under the
/// block's first zone (a lower-case FQDN).
pub fn random_name(zone: &str) -> String {
    let mut rng = rand::rng();
    let (r1, r2): (u64, u64) = (
        rng.random_range(0..1u64 << 62),
        rng.random_range(0..1u64 << 62),
    );
    if zone == "." {
        format!("{r1}.{r2}.")
    } else {
        format!("{r1}.{r2}.{zone}")
    }
}

/// Where the probe goes: the first listen host of the block on its first key's port. The
/// wildcard (no `bind`, or an unspecified address) means this host, as Go's dialer reads
/// `:53`. `None` for a host that is no address.
pub fn target(listen_host: &str, port: u16) -> Option<SocketAddr> {
    if listen_host.is_empty() {
        return Some(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port));
    }
    // A link-local address carries its interface (`fe80::1%eth0`); the kernel routes it.
    let ip: IpAddr = listen_host.split('%').next()?.parse().ok()?;
    let ip = match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => Ipv4Addr::LOCALHOST.into(),
        IpAddr::V6(v6) if v6.is_unspecified() => Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    Some(SocketAddr::new(ip, port))
}

/// The listen address as the fatal log line shows it: Go's `JoinHostPort(host, port)`, so
/// `:53` without `bind`, `[::1]:53` for IPv6.
pub fn listen_text(listen_host: &str, port: u16) -> String {
    if listen_host.contains(':') {
        format!("[{listen_host}]:{port}")
    } else {
        format!("{listen_host}:{port}")
    }
}

/// Sends `name IN HINFO` (RD set, random ID) to `target` and waits up to `timeout` for the
/// reply with that ID; datagrams with another ID are ignored. A connected socket, so an
/// ICMP "port unreachable" (nothing listens yet) ends the wait with an error at once.
pub async fn exchange(target: SocketAddr, name: &str, timeout: Duration) -> Result<(), ProbeError> {
    let qname = Name::from_ascii(name).map_err(|_| ProbeError::Name(name.to_string()))?;
    let id: u16 = rand::rng().random();
    let mut query = Message::new(id, MessageType::Query, OpCode::Query);
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(qname, RecordType::HINFO));
    let wire = query
        .to_vec()
        .map_err(|e| ProbeError::Io(std::io::Error::other(e)))?;
    let local: SocketAddr = match target {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(target).await?;
    socket.send(&wire).await?;
    let wait = async {
        let mut buf = vec![0u8; 65535];
        loop {
            let len = socket.recv(&mut buf).await?;
            // The header is enough: ID and QR (RFC 1035 §4.1.1).
            if len >= 12 && buf[..2] == id.to_be_bytes() && buf[2] & 0x80 != 0 {
                return Ok(());
            }
        }
    };
    tokio::time::timeout(timeout, wait)
        .await
        .map_err(|_| ProbeError::Timeout)?
}
