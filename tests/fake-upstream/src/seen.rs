//! One query as the fake upstream received it.

use std::net::SocketAddr;
use std::time::Instant;

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RecordType};

/// The transport a query came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    Udp,
    Tcp,
    Tls,
}

/// One query received: what the script decides on and what [`crate::FakeUpstream::seen`]
/// returns.
#[derive(Debug, Clone)]
pub struct Seen {
    pub proto: Proto,
    /// The client's address and source port (TCP/TLS: the connection's), so a test can count
    /// the distinct sockets a forwarder used.
    pub source: SocketAddr,
    /// The query, decoded.
    pub message: Message,
    /// The query exactly as received (TCP/TLS: without the length prefix).
    pub wire: Vec<u8>,
    /// When it was read.
    pub at: Instant,
}

impl Seen {
    /// The query's (first) question, if it has one.
    pub fn question(&self) -> Option<&Query> {
        self.message.queries.first()
    }

    /// Whether the query asks about `name` (compared without regard to case, RFC 4343) with
    /// type `qtype`: picks a test's own queries out from, e.g., forward's health-check probes
    /// (`. IN NS`).
    pub fn asks(&self, name: &str, qtype: RecordType) -> bool {
        let Ok(name) = Name::from_ascii(name) else {
            return false;
        };
        self.question()
            .is_some_and(|q| q.query_type() == qtype && q.name() == &name)
    }
}
