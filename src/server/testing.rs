//! Test plugins and a small DNS client for the server's tests.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, TXT};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use plugin::{Chain, Failure, Next, Plugin, Reply, Request, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

pub fn chain_of(plugin: impl Plugin) -> Chain {
    Chain::new(vec![Arc::new(plugin)])
}

fn txt(req: &Request, text: &str) -> Record {
    Record::from_rdata(req.qname(), 5, RData::TXT(TXT::new(vec![text.to_string()])))
}

/// Answers every query with one TXT record holding its tag (which block answered).
pub struct Fixed {
    tag: String,
    calls: Arc<AtomicUsize>,
}

impl Fixed {
    pub fn tagged(tag: &str) -> Fixed {
        Fixed {
            tag: tag.to_string(),
            calls: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// A shared counter of the queries this plugin saw.
    pub fn counter(&self) -> Arc<AtomicUsize> {
        self.calls.clone()
    }
}

impl Plugin for Fixed {
    fn name(&self) -> &'static str {
        "fixed"
    }

    fn serve<'a>(&'a self, req: &'a Request, _next: Next<'a>) -> Reply<'a> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut resp = Response::reply_to(req, "fixed");
        resp.answers = vec![txt(req, &self.tag)].into();
        Reply::answer(resp)
    }
}

/// Names starting with `slow` wait `delay` (a pending reply, like forward); others are answered
/// at once. Both answers are a TXT record `slow` / `fast`.
pub struct Slow {
    pub delay: Duration,
}

impl Plugin for Slow {
    fn name(&self) -> &'static str {
        "slow"
    }

    fn serve<'a>(&'a self, req: &'a Request, _next: Next<'a>) -> Reply<'a> {
        if !req.qname_lower().starts_with("slow") {
            let mut resp = Response::reply_to(req, "slow");
            resp.answers = vec![txt(req, "fast")].into();
            return Reply::answer(resp);
        }
        let delay = self.delay;
        Reply::pending(async move {
            tokio::time::sleep(delay).await;
            let mut resp = Response::reply_to(req, "slow");
            resp.answers = vec![txt(req, "slow")].into();
            Ok(resp)
        })
    }
}

/// Panics on names starting with `panic` (`panic-later` panics inside the pending future);
/// answers other names like [`Fixed`] with tag `ok`.
pub struct Panics;

impl Plugin for Panics {
    fn name(&self) -> &'static str {
        "panics"
    }

    fn serve<'a>(&'a self, req: &'a Request, _next: Next<'a>) -> Reply<'a> {
        let name = req.qname_lower();
        if name.starts_with("panic-later") {
            return Reply::pending(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                panic!("boom later");
            });
        }
        if name.starts_with("panic") {
            panic!("boom");
        }
        let mut resp = Response::reply_to(req, "panics");
        resp.answers = vec![txt(req, "ok")].into();
        Reply::answer(resp)
    }
}

/// Answers with `count` A records (enough to exceed 512 bytes with 40).
pub struct Big {
    pub count: u8,
}

impl Plugin for Big {
    fn name(&self) -> &'static str {
        "big"
    }

    fn serve<'a>(&'a self, req: &'a Request, _next: Next<'a>) -> Reply<'a> {
        let records: Vec<Record> = (0..self.count)
            .map(|i| Record::from_rdata(req.qname(), 30, RData::A(A(Ipv4Addr::new(10, 0, 0, i)))))
            .collect();
        let mut resp = Response::reply_to(req, "big");
        resp.answers = records.into();
        Reply::answer(resp)
    }
}

/// Returns a failure with `rcode` and writes nothing.
pub struct Fails(pub ResponseCode);

impl Plugin for Fails {
    fn name(&self) -> &'static str {
        "fails"
    }

    fn serve<'a>(&'a self, _req: &'a Request, _next: Next<'a>) -> Reply<'a> {
        Reply::fail(Failure::rcode(self.0))
    }
}

/// A query message: id 4242, RD set, class IN.
pub fn query(name: &str, qtype: RecordType) -> Message {
    let mut message = Message::new(4242, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(
        Name::from_ascii(name).expect("test name"),
        qtype,
    ));
    message
}

pub fn with_class(mut message: Message, class: DNSClass) -> Message {
    if let Some(q) = message.queries.first_mut() {
        q.set_query_class(class);
    }
    message
}

pub fn with_edns(mut message: Message, size: u16, dnssec_ok: bool, version: u8) -> Message {
    let mut edns = Edns::new();
    edns.set_max_payload(size);
    edns.set_dnssec_ok(dnssec_ok);
    edns.set_version(version);
    message.set_edns(edns);
    message
}

/// Adds an OPT (size 512) with a PADDING option of `len` bytes (RFC 7830).
pub fn with_padding(mut message: Message, len: usize) -> Message {
    use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
    let mut edns = Edns::new();
    edns.set_max_payload(512);
    edns.options_mut().insert(EdnsOption::Unknown(
        u16::from(EdnsCode::Padding),
        vec![0; len],
    ));
    message.set_edns(edns);
    message
}

pub fn wire(message: &Message) -> Vec<u8> {
    message.to_vec().expect("test query encodes")
}

/// The TXT strings of the answer section.
pub fn txt_answers(message: &Message) -> Vec<String> {
    message
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|d| String::from_utf8_lossy(d).into_owned())
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect()
}

/// A UDP client bound to 127.0.0.1.
pub struct UdpClient {
    socket: UdpSocket,
    server: SocketAddr,
}

impl UdpClient {
    pub async fn new(server: SocketAddr) -> UdpClient {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("client bind");
        UdpClient { socket, server }
    }

    pub async fn send(&self, packet: &[u8]) {
        self.socket
            .send_to(packet, self.server)
            .await
            .expect("client send");
    }

    /// The next datagram within `wait`, raw.
    pub async fn recv_raw(&self, wait: Duration) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 65535];
        match tokio::time::timeout(wait, self.socket.recv_from(&mut buf)).await {
            Ok(Ok((len, _))) => {
                buf.truncate(len);
                Some(buf)
            }
            _ => None,
        }
    }

    /// The next reply within `wait`, parsed.
    pub async fn recv(&self, wait: Duration) -> Option<Message> {
        let raw = self.recv_raw(wait).await?;
        Some(Message::from_vec(&raw).expect("reply parses"))
    }

    /// Sends `packet` and waits up to two seconds for the reply.
    pub async fn ask(&self, packet: &[u8]) -> Message {
        self.send(packet).await;
        self.recv(Duration::from_secs(2))
            .await
            .expect("a reply within 2s")
    }
}

/// Writes `packets` with their two-byte length prefixes in ONE write (pipelining).
pub async fn tcp_send_all(stream: &mut TcpStream, packets: &[Vec<u8>]) {
    let mut framed = Vec::new();
    for packet in packets {
        framed.extend_from_slice(&(packet.len() as u16).to_be_bytes());
        framed.extend_from_slice(packet);
    }
    stream.write_all(&framed).await.expect("tcp write");
}

/// The next framed reply, or None when the server closed the connection (or `wait` passed).
pub async fn tcp_recv(stream: &mut TcpStream, wait: Duration) -> Option<Message> {
    let read = async {
        let len = stream.read_u16().await.ok()?;
        let mut buf = vec![0u8; usize::from(len)];
        stream.read_exact(&mut buf).await.ok()?;
        Some(Message::from_vec(&buf).expect("tcp reply parses"))
    };
    tokio::time::timeout(wait, read).await.ok().flatten()
}

/// True when the server closed the connection (EOF) within `wait`.
pub async fn tcp_closed(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(wait, stream.read(&mut byte)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}
