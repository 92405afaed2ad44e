//! Why an exchange with an upstream failed. Every variant except [`ExchangeError::CachedClosed`]
//! counts as a failed attempt and starts a health check (§1.5 step 4, §1.8).

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("dial {addr}: {source}")]
    Dial {
        addr: std::net::SocketAddr,
        source: io::Error,
    },
    #[error("dial {0}: i/o timeout")]
    DialTimeout(std::net::SocketAddr),
    #[error("write {addr}: {source}")]
    Write {
        addr: std::net::SocketAddr,
        source: io::Error,
    },
    #[error("write {0}: i/o timeout")]
    WriteTimeout(std::net::SocketAddr),
    #[error("read {addr}: {source}")]
    Read {
        addr: std::net::SocketAddr,
        source: io::Error,
    },
    #[error("read {0}: i/o timeout")]
    ReadTimeout(std::net::SocketAddr),
    /// A pooled stream the peer had closed: redone on another connection, not an attempt.
    #[error("cached connection was closed by peer")]
    CachedClosed,
    #[error("bad reply from {addr}: {source}")]
    Decode {
        addr: std::net::SocketAddr,
        source: hickory_proto::serialize::binary::DecodeError,
    },
    /// The query is too short to carry a DNS header (cannot be sent: FORMERR).
    #[error("query cannot be encoded")]
    BadQuery,
    /// The plugin instance is shutting down.
    #[error("proxy: transport stopped")]
    Stopped,
}
