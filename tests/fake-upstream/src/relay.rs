//! [`crate::Action::Relay`]: pass the query on to another DNS server over UDP and bring its
//! reply back — the upstream that forwards back to us (loop tests).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::net::UdpSocket;

use crate::Action;
use crate::log::skipped;

/// The reply of the server at `to` for `query`, or None (logged) when there is none within
/// [`Action::RELAY_TIMEOUT`].
pub(crate) async fn relay(query: &[u8], to: SocketAddr) -> Option<Vec<u8>> {
    let local: SocketAddr = if to.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let attempt = async {
        let socket = UdpSocket::bind(local).await?;
        // Connected, so only `to` can answer.
        socket.connect(to).await?;
        socket.send(query).await?;
        let mut buf = vec![0u8; 65535];
        let len = socket.recv(&mut buf).await?;
        buf.truncate(len);
        std::io::Result::Ok(buf)
    };
    match tokio::time::timeout(Action::RELAY_TIMEOUT, attempt).await {
        Ok(Ok(reply)) => Some(reply),
        Ok(Err(e)) => {
            skipped(format_args!("relay to {to}: {e}"));
            None
        }
        Err(_) => {
            skipped(format_args!("relay to {to}: no reply"));
            None
        }
    }
}
