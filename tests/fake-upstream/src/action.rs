//! What the fake upstream does with one query: the script's answer.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::Message;

/// What the fake upstream does with one query, as returned by the test's script.
#[derive(Debug, Clone)]
pub enum Action {
    /// Send this message, with the query's ID written into it (so a script can build replies
    /// without caring about IDs). Use [`Action::Raw`] to send a wrong ID.
    Reply(Message),
    /// Send these bytes exactly as given: wrong IDs, garbage, oversize answers. Over TCP/TLS
    /// they are framed with the usual 2-byte length (RFC 1035 §4.2.2).
    Raw(Vec<u8>),
    /// TCP/TLS: write these bytes with no length prefix, breaking the framing. UDP: like
    /// [`Action::Raw`].
    Unframed(Vec<u8>),
    /// A black hole: the query is read and recorded, never answered. Over TCP/TLS the
    /// connection stays open and later queries on it are still served.
    Drop,
    /// Wait, then do the inner action. Over UDP other queries are served meanwhile; over a
    /// TCP/TLS connection queries are answered in order, so later ones wait too.
    Delay(Duration, Box<Action>),
    /// Do each action in turn on the same socket or connection, e.g. a wrong-ID reply and
    /// then the right one.
    Several(Vec<Action>),
    /// TCP/TLS: close the connection with a reset (SO_LINGER 0) without answering; later
    /// actions in a [`Action::Several`] are not done. UDP: like [`Action::Drop`].
    ResetTcp,
    /// TCP/TLS: close the connection cleanly (FIN; TLS close_notify first) without answering.
    /// UDP: like [`Action::Drop`].
    Close,
    /// Send the query (the same bytes) over UDP to that DNS server and send its reply back
    /// unchanged: the upstream that forwards back to us, for loop detection. No reply within
    /// [`Action::RELAY_TIMEOUT`] means no answer.
    Relay(SocketAddr),
}

impl Action {
    /// How long [`Action::Relay`] waits for the server it relays to.
    pub const RELAY_TIMEOUT: Duration = Duration::from_secs(5);

    /// `Delay(after, Box::new(action))`, shorter to write.
    pub fn delayed(after: Duration, action: Action) -> Action {
        Action::Delay(after, Box::new(action))
    }
}
