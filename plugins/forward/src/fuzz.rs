//! Fuzz entry point: arbitrary bytes as an upstream's reply (issue #4, "Safety"). A reply must
//! never panic forward, never reach the client when its ID does not match, and the client
//! always gets a well-formed answer: the relayed reply, FORMERR for another question
//! (plugins-resolution.md §1.9), a TC=1 header for an oversize UDP reply (§1.10), or the
//! SERVFAIL of failed attempts (§1.5).
//!
//! Nothing is imitated: a real [`Forward`] instance exchanges with a local upstream on
//! 127.0.0.1 that answers every query with the fuzzed bytes, so the bytes go through the UDP
//! and TCP readers of [`crate::transport`], the ID filter, `reply::decode`, the question check
//! and `response::relay`, then through [`plugin::wire::encode_reply`] as the server writes it.
//! `fuzz/fuzz_targets/forward_reply.rs` calls [`fuzz_forward_reply`]; the corpus runner in
//! `tests/integration/fuzz_corpus.rs` runs the committed corpus through it.

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::stream::{FuturesUnordered, StreamExt};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType, rdata};
use plugin::metrics::MetricsHub;
use plugin::setup::InstanceServices;
use plugin::{BlockConfig, Chain, Dispenser, Outcome, Request, Setup, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use crate::{Forward, build, parse};

/// Runs `data` as the upstream's reply to a known query through a fresh forward instance.
///
/// Input: byte 0 is the [`Mode`], byte 1 picks the query ([`QUERIES`]), the rest is what the
/// upstream sends back (its first two bytes replaced by the query's ID, or by another one in
/// spoof mode). Panics when forward panics, when a reply with the wrong ID is relayed, or
/// when what the client would receive does not parse, lacks the query's ID or question, or
/// exceeds the client's size.
pub fn fuzz_forward_reply(data: &[u8]) {
    let _ = outcome_of(data);
}

/// What forward made of the input (`None`: too short, or no harness on this machine).
fn outcome_of(data: &[u8]) -> Option<Outcome> {
    let [mode, pick, reply @ ..] = data else {
        return None;
    };
    HARNESS.with(|harness| {
        harness
            .as_ref()?
            .run(Mode(*mode), usize::from(*pick), reply)
    })
}

thread_local! {
    /// The runtime and the local upstream's sockets, made once per thread: binding per input
    /// would cost more than the exchange. `None` when no loopback socket can be bound.
    static HARNESS: Option<Harness> = Harness::new();
}

/// What byte 0 asks for.
#[derive(Clone, Copy, Debug)]
struct Mode(u8);

/// How the upstream frames its reply on a TCP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// The length prefix matches the bytes sent.
    Exact,
    /// The prefix announces more bytes than follow, then the upstream closes.
    Overlong,
    /// The prefix announces half the bytes, all are sent, then the upstream closes.
    Short,
}

impl Mode {
    fn client_transport(self) -> Transport {
        if self.0 & 0x01 != 0 {
            Transport::Tcp
        } else {
            Transport::Udp
        }
    }

    /// The reply carries another ID: forward must ignore it and wait for the real one
    /// (§1.9), which the upstream sends right after.
    fn spoof(self) -> bool {
        self.0 & 0x02 != 0
    }

    /// Extra options of the `forward` stanza.
    fn options(self) -> &'static [&'static str] {
        match (self.0 >> 2) & 0x03 {
            1 => &["prefer_udp"],
            2 => &["force_tcp"],
            _ => &[],
        }
    }

    fn framing(self) -> Framing {
        match (self.0 >> 4) & 0x03 {
            1 if !self.spoof() => Framing::Overlong,
            2 if !self.spoof() => Framing::Short,
            _ => Framing::Exact,
        }
    }
}

/// A client's question: name, type, class, and its EDNS payload size and DO bit if any.
type Asked = (&'static str, RecordType, DNSClass, Option<(u16, bool)>);

/// The queries a client asks.
pub const QUERIES: [Asked; 8] = [
    ("example.org.", RecordType::A, DNSClass::IN, None),
    (
        "example.org.",
        RecordType::AAAA,
        DNSClass::IN,
        Some((1232, true)),
    ),
    (
        "example.org.",
        RecordType::MX,
        DNSClass::IN,
        Some((4096, false)),
    ),
    (
        "1.2.0.192.in-addr.arpa.",
        RecordType::PTR,
        DNSClass::IN,
        None,
    ),
    (
        "wWw.Example.ORG.",
        RecordType::A,
        DNSClass::IN,
        Some((512, false)),
    ),
    (".", RecordType::NS, DNSClass::IN, Some((1232, true))),
    (
        "a-rather-long-label-for-a-txt-record.svc.example.org.",
        RecordType::TXT,
        DNSClass::IN,
        None,
    ),
    ("version.bind.", RecordType::TXT, DNSClass::CH, None),
];

/// The client's query `pick` (modulo the table), ID 4242, RD=1.
pub fn query_message(pick: usize) -> Message {
    let (name, qtype, class, edns) = QUERIES[pick % QUERIES.len()];
    let mut message = Message::new(4242, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    let mut query = Query::query(
        Name::from_ascii(name).unwrap_or_else(|_| Name::root()),
        qtype,
    );
    query.set_query_class(class);
    message.add_query(query);
    if let Some((size, dnssec_ok)) = edns {
        let mut opt = Edns::new();
        opt.set_max_payload(size);
        opt.set_dnssec_ok(dnssec_ok);
        message.set_edns(opt);
    }
    message
}

/// The well-behaved upstream's answer to `query`: same question, RA=1, and for A one record.
pub fn honest_reply(query: &Message) -> Message {
    let mut reply = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    for q in &query.queries {
        reply.add_query(q.clone());
        if q.query_type() == RecordType::A {
            reply.add_answer(Record::from_rdata(
                q.name().clone(),
                60,
                RData::A(rdata::A::new(192, 0, 2, 53)),
            ));
        }
    }
    reply
}

struct Harness {
    runtime: tokio::runtime::Runtime,
    /// The upstream listens on one port for UDP and TCP, as a resolver does.
    udp: UdpSocket,
    tcp: TcpListener,
    addr: SocketAddr,
    /// Shared by every instance built here: registering the families once is enough.
    metrics: Arc<MetricsHub>,
}

/// What the local upstream sends for one input.
struct Plan<'a> {
    mode: Mode,
    reply: &'a [u8],
    /// The honest reply to the query (its ID is replaced per exchange).
    honest: Vec<u8>,
}

impl Harness {
    fn new() -> Option<Harness> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        let (udp, tcp, addr) = runtime.block_on(async {
            // The kernel picks the TCP port; UDP on the same port is free almost always.
            for _ in 0..16 {
                let tcp = TcpListener::bind("127.0.0.1:0").await.ok()?;
                let addr = tcp.local_addr().ok()?;
                if let Ok(udp) = UdpSocket::bind(addr).await {
                    return Some((udp, tcp, addr));
                }
            }
            None
        })?;
        Some(Harness {
            runtime,
            udp,
            tcp,
            addr,
            metrics: Arc::new(MetricsHub::new()),
        })
    }

    fn run(&self, mode: Mode, pick: usize, reply: &[u8]) -> Option<Outcome> {
        let message = query_message(pick);
        let wire = message.to_vec().ok()?;
        let req = Request::from_message(
            message.clone(),
            wire.into(),
            SocketAddr::from(([192, 0, 2, 77], 40000)),
            SocketAddr::from(([127, 0, 0, 1], 53)),
            mode.client_transport(),
            Arc::from("dns://:53"),
        );
        let forward = self.forward(mode)?;
        let chain = Chain::new(vec![forward]);
        let plan = Plan {
            mode,
            reply,
            honest: honest_reply(&message).to_vec().unwrap_or_default(),
        };
        let outcome = self.runtime.block_on(async {
            tokio::select! {
                outcome = chain.serve(&req) => outcome,
                never = self.upstream(&plan) => match never {},
            }
        });
        if mode.spoof() {
            check_spoof_ignored(&req, &outcome);
        }
        plugin::fuzz_check::check_client_view(&req, &outcome);
        Some(outcome)
    }

    /// A fresh instance (empty pools) forwarding `.` to the local upstream. `max_fails 0`:
    /// no health probes, whose queries would outlive the input.
    fn forward(&self, mode: Mode) -> Option<Arc<Forward>> {
        let mut lines = vec![
            format!("forward . {} {{", self.addr),
            "max_fails 0".to_string(),
        ];
        lines.extend(mode.options().iter().map(|o| o.to_string()));
        lines.push("}".to_string());
        let mut block = BlockConfig::default();
        let mut services = InstanceServices::new(self.metrics.clone());
        let mut setup = Setup::new(
            Dispenser::from_snippet(&lines.join("\n")),
            &mut block,
            &mut services,
        );
        let config = parse(&mut setup.d).ok()?.into_iter().next()?;
        build(&config, &setup).ok().map(Arc::new)
    }

    /// Answers every query it receives, over UDP and TCP, per `plan`; never returns.
    async fn upstream(&self, plan: &Plan<'_>) -> std::convert::Infallible {
        let mut conns = FuturesUnordered::new();
        let mut buf = vec![0u8; 65536];
        loop {
            tokio::select! {
                received = self.udp.recv_from(&mut buf) => {
                    if let Ok((n, from)) = received {
                        answer_udp(&self.udp, from, &buf[..n], plan).await;
                    }
                }
                accepted = self.tcp.accept() => {
                    if let Ok((stream, _)) = accepted {
                        conns.push(serve_tcp(stream, plan));
                    }
                }
                Some(()) = conns.next(), if !conns.is_empty() => {}
            }
        }
    }
}

/// The fuzzed bytes with the first two replaced by the ID forward must accept, or by one it
/// must ignore in spoof mode.
fn with_id(bytes: &[u8], query_id: u16, spoof: bool) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let id = if spoof { query_id ^ 0x5a5a } else { query_id };
    crate::transport::set_id(&mut out, id);
    out
}

/// Whether forward's readers skip this message as not theirs (§1.9): another ID, or too short
/// to carry one (UDP needs a whole header).
fn ignored(sent: &[u8], udp: bool, spoof: bool) -> bool {
    let minimum = if udp { plugin::wire::HEADER_LEN } else { 2 };
    spoof || sent.len() < minimum
}

async fn answer_udp(socket: &UdpSocket, to: SocketAddr, query: &[u8], plan: &Plan<'_>) {
    let Some(id) = crate::transport::id_of(query) else {
        return;
    };
    let sent = with_id(plan.reply, id, plan.mode.spoof());
    let _ = socket.send_to(&sent, to).await;
    if ignored(&sent, true, plan.mode.spoof()) {
        let _ = socket.send_to(&with_id(&plan.honest, id, false), to).await;
    }
}

/// Reads length-prefixed queries (RFC 1035 §4.2.2) and answers each per `plan` until the
/// client closes; cut framings close after the first answer.
async fn serve_tcp(mut stream: TcpStream, plan: &Plan<'_>) {
    loop {
        let mut prefix = [0u8; 2];
        if stream.read_exact(&mut prefix).await.is_err() {
            return;
        }
        let mut query = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
        if stream.read_exact(&mut query).await.is_err() {
            return;
        }
        let Some(id) = crate::transport::id_of(&query) else {
            return;
        };
        let sent = with_id(plan.reply, id, plan.mode.spoof());
        let len = u16::try_from(sent.len()).unwrap_or(u16::MAX);
        let announced = match plan.mode.framing() {
            Framing::Exact => len,
            Framing::Overlong => len.saturating_add(7),
            Framing::Short => len / 2,
        };
        let mut out = announced.to_be_bytes().to_vec();
        out.extend_from_slice(&sent[..usize::from(len)]);
        if ignored(&sent[..usize::from(len)], false, plan.mode.spoof()) {
            let honest = with_id(&plan.honest, id, false);
            let honest_len = u16::try_from(honest.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&honest_len.to_be_bytes());
            out.extend_from_slice(&honest);
        }
        if stream.write_all(&out).await.is_err() {
            return;
        }
        if plan.mode.framing() != Framing::Exact {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// A reply with the wrong ID never reaches the client: it gets the honest reply that followed.
fn check_spoof_ignored(req: &Request, outcome: &Outcome) {
    let Ok(resp) = outcome else {
        panic!("spoofed reply: forward failed instead of waiting for the real one: {outcome:?}");
    };
    let want_answers = usize::from(req.qtype() == RecordType::A);
    assert_eq!(resp.plugin, crate::NAME);
    assert_eq!(
        resp.rcode,
        ResponseCode::NoError,
        "a spoofed reply was relayed"
    );
    assert_eq!(
        resp.answers.len(),
        want_answers,
        "a spoofed reply was relayed"
    );
    assert!(!resp.flags.truncated, "a spoofed reply was relayed");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Realistic replies to query `pick`: `(file name, input)`, also the committed seeds.
    pub fn seeds() -> Vec<(String, Vec<u8>)> {
        let mut seeds = Vec::new();
        for pick in 0..QUERIES.len() {
            let query = query_message(pick);
            let honest = honest_reply(&query);
            let mut big = honest.clone();
            let name = query.queries[0].name().clone();
            for i in 0..60u8 {
                big.add_answer(Record::from_rdata(
                    name.clone(),
                    300,
                    RData::A(rdata::A::new(198, 51, 100, i)),
                ));
            }
            let mut nxdomain = honest.clone();
            nxdomain.answers.clear();
            nxdomain.metadata.response_code = ResponseCode::NXDomain;
            nxdomain.add_authority(Record::from_rdata(
                Name::from_ascii("org.").unwrap(),
                900,
                RData::SOA(rdata::SOA::new(
                    Name::from_ascii("a0.org.afilias-nst.info.").unwrap(),
                    Name::from_ascii("hostmaster.donuts.email.").unwrap(),
                    1,
                    7200,
                    900,
                    1_209_600,
                    3600,
                )),
            ));
            if let Some(edns) = &query.edns {
                let mut opt = Edns::new();
                opt.set_max_payload(1232);
                opt.set_dnssec_ok(edns.flags().dnssec_ok);
                nxdomain.set_edns(opt);
            }
            let mut other_question = honest.clone();
            other_question.queries[0] =
                Query::query(Name::from_ascii("other.example.").unwrap(), RecordType::A);
            let mut cname = honest.clone();
            cname.answers.clear();
            cname.add_answer(Record::from_rdata(
                name.clone(),
                30,
                RData::CNAME(rdata::CNAME(Name::from_ascii("t.example.net.").unwrap())),
            ));
            cname.add_answer(Record::from_rdata(
                Name::from_ascii("t.example.net.").unwrap(),
                30,
                RData::TXT(rdata::TXT::new(vec!["v=spf1 -all".to_string()])),
            ));
            let mut truncated = honest.clone();
            truncated.answers.clear();
            truncated.metadata.truncation = true;
            let replies = [
                ("honest", honest.to_vec().unwrap(), 0u8),
                ("big-udp", big.to_vec().unwrap(), 0),
                ("big-prefer-udp", big.to_vec().unwrap(), 0x04),
                ("big-tcp", big.to_vec().unwrap(), 0x01),
                ("nxdomain", nxdomain.to_vec().unwrap(), 0),
                ("other-question", other_question.to_vec().unwrap(), 0x08),
                ("cname", cname.to_vec().unwrap(), 0x01),
                ("tc-prefer-udp", truncated.to_vec().unwrap(), 0x04),
                ("spoof-udp", honest.to_vec().unwrap(), 0x02),
                ("spoof-tcp", nxdomain.to_vec().unwrap(), 0x03),
                ("overlong-tcp", honest.to_vec().unwrap(), 0x11),
                ("short-tcp", big.to_vec().unwrap(), 0x21),
            ];
            // An UPDATE-opcode reply whose extra answer has RDLENGTH 0: hickory decodes that
            // only in UPDATE messages (as `Update0`); miekg/dns, hence CoreDNS, in any.
            let mut update = honest.to_vec().unwrap();
            update[2] |= u8::from(OpCode::Update) << 3;
            update[7] += 1;
            update.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 0]);
            let replies = replies
                .into_iter()
                .chain([("update-empty-record", update, 0)]);
            for (what, reply, mode) in replies {
                let mut input = vec![mode, pick as u8];
                input.extend_from_slice(&reply);
                seeds.push((format!("seed-{pick}-{what}"), input));
            }
        }
        seeds.push(("seed-empty".to_string(), vec![0, 0]));
        seeds.push(("seed-header-only".to_string(), vec![0, 0, 0, 0, 0x81, 0x80]));
        seeds
    }

    fn seed(name: &str) -> Vec<u8> {
        seeds()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, input)| input)
            .unwrap()
    }

    fn outcome(name: &str) -> plugin::Response {
        outcome_of(&seed(name)).unwrap().unwrap()
    }

    /// The harness reaches the paths it is meant to: oversize UDP, the question check, cut
    /// TCP streams, relayed replies.
    #[test]
    fn seeds_take_the_transport_paths() {
        let tc = outcome("seed-0-big-udp");
        assert!(tc.flags.truncated);
        assert!(tc.answers.is_empty());
        // prefer_udp asks again over TCP and gets everything.
        assert_eq!(outcome("seed-0-big-prefer-udp").answers.len(), 61);
        assert_eq!(outcome("seed-0-big-tcp").answers.len(), 61);
        assert_eq!(
            outcome("seed-0-other-question").rcode,
            ResponseCode::FormErr
        );
        assert_eq!(outcome("seed-4-nxdomain").rcode, ResponseCode::NXDomain);
        for cut in ["seed-0-overlong-tcp", "seed-0-short-tcp"] {
            let failure = outcome_of(&seed(cut)).unwrap().unwrap_err();
            assert_eq!(failure.rcode, ResponseCode::ServFail, "{cut}");
        }
        assert_eq!(outcome("seed-1-spoof-tcp").rcode, ResponseCode::NoError);
        // Relayed with its empty record, as CoreDNS relays it (the client view check lets
        // exactly this through).
        let update = outcome("seed-0-update-empty-record");
        assert_eq!(update.answers.len(), 2);
        assert!(plugin::fuzz_check::has_empty_record(&update));
        // In a QUERY-opcode reply hickory refuses the same record: a failed attempt.
        let mut query_opcode = seed("seed-0-update-empty-record");
        query_opcode[4] &= !(0x0f << 3);
        let failure = outcome_of(&query_opcode).unwrap().unwrap_err();
        assert_eq!(failure.rcode, ResponseCode::ServFail);
    }

    #[test]
    fn seeds_never_panic_and_spoofs_are_ignored() {
        for (name, input) in seeds() {
            eprintln!("{name}");
            fuzz_forward_reply(&input);
        }
    }

    /// Writes the seeds into `fuzz/corpus/forward_reply/` (run by hand with `--ignored`).
    #[test]
    #[ignore]
    fn write_seed_corpus() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus/forward_reply");
        std::fs::create_dir_all(&dir).unwrap();
        for (name, input) in seeds() {
            std::fs::write(dir.join(name), input).unwrap();
        }
    }

    #[test]
    fn the_committed_corpus_never_panics() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus/forward_reply");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        for entry in entries.flatten() {
            if let Ok(data) = std::fs::read(entry.path()) {
                fuzz_forward_reply(&data);
            }
        }
    }
}
