//! A query, decoded once by the listener and lent to every plugin.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use hickory_proto::serialize::binary::DecodeError;

use crate::plain_query::{self, Header};
use crate::wire::HEADER_LEN;

/// Smallest UDP payload a client can be sent (RFC 1035 §4.2.1); also the size assumed
/// without EDNS.
pub const MIN_UDP_SIZE: u16 = 512;
/// Largest DNS message over TCP (RFC 1035 §4.2.2: two-byte length prefix).
pub const MAX_TCP_SIZE: u16 = 65535;

/// How the query arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    /// `udp` / `tcp`, as the `proto` metric label and the log's `{proto}` print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// A decoded query and where it came from. Decoded once, never cloned on the hot path.
///
/// A plain query (see [`plain_query`](crate::plain_query)) is read by hand and its full
/// hickory `Message` decoded only when a plugin asks for it ([`Request::message`],
/// [`Request::query`], [`Request::qname`]); the accessors the hot path uses (header bits,
/// question type, class and lower-cased name, EDNS) never need it.
#[derive(Debug)]
pub struct Request {
    /// Boxed: a request is moved a few times on its way into the chain, a `Message` is large.
    message: OnceLock<Box<Message>>,
    wire: Bytes,
    header: Header,
    question: Option<Question>,
    /// The query has an OPT record (only queries hickory decoded at once can).
    has_edns: bool,
    client: SocketAddr,
    local: SocketAddr,
    transport: Transport,
    server: Arc<str>,
    /// The client's advertised EDNS UDP size after any `bufsize` clamp (0 without EDNS).
    /// Atomic because `bufsize` lowers it through a shared reference, as CoreDNS mutates the
    /// query in place (plugins-core.md, bufsize).
    edns_udp_size: AtomicU16,
    received: Instant,
}

/// The question as the hot path reads it.
#[derive(Debug)]
struct Question {
    name_lower: String,
    qtype: RecordType,
    qclass: DNSClass,
    /// Where the name's wire form (no pointers) ends in the query, when it starts right after
    /// the header: the reply copies those bytes.
    name_end: Option<usize>,
}

impl Request {
    /// Decodes `wire`. The listener checks the header first (`wire::inspect`); this only
    /// fails on a body that does not parse.
    pub fn decode(
        wire: Bytes,
        client: SocketAddr,
        local: SocketAddr,
        transport: Transport,
        server: Arc<str>,
        received: Instant,
    ) -> Result<Request, DecodeError> {
        let Some(plain) = plain_query::read(&wire) else {
            let message = Message::from_vec(&wire)?;
            return Ok(Request::from_message_received(
                message, wire, client, local, transport, server, received,
            ));
        };
        Ok(Request {
            message: OnceLock::new(),
            header: plain.header,
            question: Some(Question {
                name_lower: plain.name_lower,
                qtype: RecordType::from(plain.qtype),
                qclass: DNSClass::from(plain.qclass),
                name_end: Some(plain.name_end),
            }),
            has_edns: false,
            wire,
            client,
            local,
            transport,
            server,
            edns_udp_size: AtomicU16::new(0),
            received,
        })
    }

    /// Builds a request from an already decoded message (tests, plugins that re-enter the
    /// server with a new question). `wire` must be `message` encoded: forward relays it and
    /// the reply encoder copies its question.
    pub fn from_message(
        message: Message,
        wire: Bytes,
        client: SocketAddr,
        local: SocketAddr,
        transport: Transport,
        server: Arc<str>,
    ) -> Request {
        // tokio's clock, which tests may pause (see `received`).
        let received = tokio::time::Instant::now().into_std();
        Request::from_message_received(message, wire, client, local, transport, server, received)
    }

    /// [`Request::from_message`] received at `received`.
    fn from_message_received(
        message: Message,
        wire: Bytes,
        client: SocketAddr,
        local: SocketAddr,
        transport: Transport,
        server: Arc<str>,
        received: Instant,
    ) -> Request {
        let meta = &message.metadata;
        let header = Header {
            id: meta.id,
            op_code: meta.op_code,
            recursion_desired: meta.recursion_desired,
            checking_disabled: meta.checking_disabled,
            authentic_data: meta.authentic_data,
        };
        let question = message.queries.first().map(|q| Question {
            name_lower: lower_fqdn(q.name()),
            qtype: q.query_type(),
            qclass: q.query_class(),
            name_end: plain_query::question_name_end(&wire),
        });
        let edns_udp_size = message.edns.as_ref().map_or(0, |e| e.max_payload());
        Request {
            header,
            question,
            has_edns: message.edns.is_some(),
            message: OnceLock::from(Box::new(message)),
            wire,
            client,
            local,
            transport,
            server,
            edns_udp_size: AtomicU16::new(edns_udp_size),
            received,
        }
    }

    /// The whole query as hickory decodes it (decoded now if it was not yet).
    pub fn message(&self) -> &Message {
        self.message.get_or_init(|| Box::new(self.decode_plain()))
    }

    /// The full decode of a query `plain_query::read` accepted. hickory decodes every such
    /// query (the reader's tests check it against hickory); should it ever refuse one, the
    /// message is rebuilt from what the reader found, so a plugin still sees the question.
    fn decode_plain(&self) -> Message {
        if let Ok(message) = Message::from_vec(&self.wire) {
            return message;
        }
        let mut message = Message::new(self.header.id, MessageType::Query, self.header.op_code);
        message.metadata.recursion_desired = self.header.recursion_desired;
        message.metadata.checking_disabled = self.header.checking_disabled;
        message.metadata.authentic_data = self.header.authentic_data;
        if let Some(question) = &self.question {
            let name = Name::from_ascii(&question.name_lower).unwrap_or_else(|_| Name::root());
            let mut query = Query::query(name, question.qtype);
            query.set_query_class(question.qclass);
            message.add_query(query);
        }
        message
    }

    /// The query as received, e.g. for forwarding with a new ID.
    pub fn wire(&self) -> &Bytes {
        &self.wire
    }

    /// Length of the query as received (`{size}`, `coredns_dns_request_size_bytes`).
    pub fn len(&self) -> usize {
        self.wire.len()
    }

    pub fn is_empty(&self) -> bool {
        self.wire.is_empty()
    }

    pub fn id(&self) -> u16 {
        self.header.id
    }

    pub fn opcode(&self) -> OpCode {
        self.header.op_code
    }

    /// RD of the query (copied into every reply, RFC 1035 §4.1.1).
    pub fn recursion_desired(&self) -> bool {
        self.header.recursion_desired
    }

    /// CD of the query (RFC 4035 §3.2.2; part of the cache key).
    pub fn checking_disabled(&self) -> bool {
        self.header.checking_disabled
    }

    /// AD of the query (RFC 6840 §5.7: the client understands AD in replies).
    pub fn authentic_data(&self) -> bool {
        self.header.authentic_data
    }

    /// The question. The listener only builds requests with exactly one (corefile.md §7.2).
    pub fn query(&self) -> Option<&Query> {
        self.question.as_ref()?;
        self.message().queries.first()
    }

    /// True when the query has a question (the listener only serves those).
    pub fn has_question(&self) -> bool {
        self.question.is_some()
    }

    /// The question name's wire form as the client wrote it (its case kept), when it can be
    /// copied from the query: a reply's question and the names that point to it.
    pub fn qname_wire(&self) -> Option<&[u8]> {
        let end = self.question.as_ref()?.name_end?;
        self.wire.get(HEADER_LEN..end)
    }

    /// The question name in its original case (answers echo it).
    pub fn qname(&self) -> Name {
        self.query().map_or_else(Name::root, |q| q.name().clone())
    }

    /// The question name lower-cased, fully qualified (`www.example.org.`): what zones match on.
    pub fn qname_lower(&self) -> &str {
        self.question.as_ref().map_or(".", |q| &q.name_lower)
    }

    pub fn qtype(&self) -> RecordType {
        self.question.as_ref().map_or(RecordType::NULL, |q| q.qtype)
    }

    pub fn qclass(&self) -> DNSClass {
        self.question.as_ref().map_or(DNSClass::IN, |q| q.qclass)
    }

    pub fn edns(&self) -> Option<&Edns> {
        if !self.has_edns {
            return None;
        }
        self.message().edns.as_ref()
    }

    /// The DNSSEC OK bit of the query's OPT record (RFC 3225).
    pub fn do_bit(&self) -> bool {
        self.edns().is_some_and(|e| e.flags().dnssec_ok)
    }

    /// The EDNS UDP size the client advertised, after any `bufsize` clamp; `None` without EDNS.
    pub fn edns_udp_size(&self) -> Option<u16> {
        self.edns()
            .map(|_| self.edns_udp_size.load(Ordering::Relaxed))
    }

    /// Lowers the advertised EDNS UDP size to `max` if it is larger (the `bufsize` plugin).
    /// Never raises it and never adds EDNS.
    pub fn clamp_edns_udp_size(&self, max: u16) {
        if self.edns().is_some() {
            self.edns_udp_size.fetch_min(max, Ordering::Relaxed);
        }
    }

    /// The largest reply this client accepts: 65535 over TCP; over UDP the advertised size,
    /// at least 512 (CoreDNS `request.Size`, the log's `{>bufsize}`).
    pub fn max_reply_size(&self) -> u16 {
        match self.transport {
            Transport::Tcp => MAX_TCP_SIZE,
            Transport::Udp => self
                .edns_udp_size()
                .unwrap_or(MIN_UDP_SIZE)
                .max(MIN_UDP_SIZE),
        }
    }

    pub fn client(&self) -> SocketAddr {
        self.client
    }

    pub fn local(&self) -> SocketAddr {
        self.local
    }

    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The listener's identity (`dns://:53`), the `server` metric label.
    pub fn server(&self) -> &Arc<str> {
        &self.server
    }

    /// When the listener received the query: the time its datagram batch (or TCP message)
    /// was read, taken from tokio's clock so tests that pause time move it too. The cache
    /// counts TTLs down from it, so a hit reads no clock of its own.
    pub fn received(&self) -> Instant {
        self.received
    }

    /// True for an IPv6 client that is not an IPv4-mapped address (metrics `family` 2).
    pub fn is_ipv6_client(&self) -> bool {
        match self.client.ip() {
            std::net::IpAddr::V4(_) => false,
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().is_none(),
        }
    }
}

/// `name` in presentation form, lower-cased, fully qualified. Names of plain hostname
/// characters (almost all queries) are written label by label; anything that needs escaping
/// goes through hickory's formatter, which escapes the way the rest of the server prints
/// names (escapes such as `\.` and `\DDD` have no letters to change).
pub(crate) fn lower_fqdn(name: &Name) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'*');
    // One pass for the names queries carry (letters, digits, `-`, `_`, `*`); anything that
    // needs escaping in presentation form goes through the formatter.
    let mut text = String::with_capacity(name.len() + 1);
    for label in name.iter() {
        for &b in label {
            if !plain(b) {
                let mut text = name.to_string();
                text.make_ascii_lowercase();
                return text;
            }
            text.push(char::from(b.to_ascii_lowercase()));
        }
        text.push('.');
    }
    if text.is_empty() {
        text.push('.');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_fqdn_matches_the_formatter() {
        let mut names: Vec<Name> = [
            "WWW.Example.ORG.",
            ".",
            "_http._tcp.Svc.Cluster.Local.",
            "*.A-b.c.",
        ]
        .iter()
        .map(|n| Name::from_ascii(n).unwrap())
        .collect();
        // Labels that need escaping in presentation form: a dot, a space, non-ASCII bytes.
        for raw in [
            &[&b"A.b"[..], b"Example"][..],
            &[b"x y", b"ORG"],
            &[b"caf\xc3\xa9", b"Example"],
        ] {
            names.push(Name::from_labels(raw.iter().map(|l| l.to_vec())).unwrap());
        }
        for name in names {
            let mut expected = name.to_string();
            expected.make_ascii_lowercase();
            assert_eq!(lower_fqdn(&name), expected, "{name}");
        }
    }
}
