//! Talking to one upstream: pooled UDP sockets and TCP/TLS connections, one query at a time
//! per connection (plugins-resolution.md §1.6–§1.9).

pub mod dial_timer;
pub mod error;
pub mod pool;
pub mod reply;
pub mod stream;
pub mod tls;
pub mod udp;
pub mod upstream_transport;

pub use error::ExchangeError;
pub use upstream_transport::{PoolSettings, UpstreamTransport};

/// Write deadline of one exchange (§1.8).
pub const WRITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Puts `id` into the first two bytes of a DNS message (RFC 1035 §4.1.1).
pub fn set_id(message: &mut [u8], id: u16) {
    if message.len() >= 2 {
        message[..2].copy_from_slice(&id.to_be_bytes());
    }
}

/// The ID of a DNS message, if it is long enough to have one.
pub fn id_of(message: &[u8]) -> Option<u16> {
    (message.len() >= 2).then(|| u16::from_be_bytes([message[0], message[1]]))
}
