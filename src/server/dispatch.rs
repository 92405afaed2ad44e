//! One query through the server core, in the order of corefile.md §7.2 (CoreDNS
//! `core/dnsserver/server.go` `ServeDNS`): header checks, decode, the panic guard, class,
//! EDNS version, zone routing, the chain, and the one encoding of the reply (§7.3).

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::DNSClass;
use plugin::metrics::DnsMetrics;
use plugin::wire::{self, HEADER_LEN, Verdict};
use plugin::{Outcome, Reply, Request, Response, Transport};

use super::dropped::DroppedMetrics;
use super::panics;
use super::zones::{Routing, ZoneTable};

/// What to send back for one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The reply is in the output buffer.
    Reply,
    /// Send nothing: a dropped packet (too short, QR=1), or a chain that failed with an rcode
    /// the core does not answer for (the plugin is assumed to have written, §7.2 step 10).
    Silent,
}

/// A query as a listener received it.
pub struct Inbound {
    pub packet: Bytes,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub transport: Transport,
    /// When its datagram batch or TCP message was read (see [`Request::received`]).
    pub received: Instant,
}

/// The server core of one listener: its identity and the metrics of the queries it answers
/// itself. Cheap to clone; each socket gets its own identity allocation (see
/// [`Dispatcher::for_socket`]).
#[derive(Clone)]
pub struct Dispatcher {
    server: Arc<str>,
    dropped: DroppedMetrics,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("server", &self.server)
            .finish()
    }
}

impl Dispatcher {
    /// `server` is the listener identity (`dns://:53`): the `server` label and the panic log.
    pub fn new(server: Arc<str>, metrics: Arc<DnsMetrics>) -> Self {
        Dispatcher {
            dropped: DroppedMetrics::new(metrics, server.clone()),
            server,
        }
    }

    /// A copy for another socket with its own identity allocation: every request holds the
    /// identity, and sockets served by different cores should not bump one shared reference
    /// count on every query.
    pub fn for_socket(&self) -> Self {
        Dispatcher {
            server: Arc::from(&*self.server),
            dropped: self.dropped.clone(),
        }
    }

    pub fn server(&self) -> &Arc<str> {
        &self.server
    }

    pub fn metrics(&self) -> &Arc<DnsMetrics> {
        self.dropped.metrics()
    }

    /// Serves one received packet with `table` and leaves the bytes to send in `out`.
    ///
    /// Nothing here spawns or boxes: when every plugin answers at once, this future completes
    /// on its first poll. Only a chain that waits (forward) makes it pending.
    pub async fn dispatch(&self, table: &ZoneTable, inbound: Inbound, out: &mut Vec<u8>) -> Answer {
        out.clear();
        let Inbound {
            packet,
            peer,
            local,
            transport,
            received,
        } = inbound;
        // Step 1: the header decides before anything is decoded; none of this is counted.
        match wire::inspect(&packet) {
            Verdict::Drop => return Answer::Silent,
            Verdict::Reject(rcode) => {
                wire::header_only_reply(&packet, rcode, out);
                return Answer::Reply;
            }
            Verdict::Accept => {}
        }
        // inspect accepted, so the packet holds a whole header.
        let mut header = [0u8; HEADER_LEN];
        header.copy_from_slice(&packet[..HEADER_LEN]);
        let server = self.server.clone();
        // The decoder is someone else's code reading untrusted bytes: a panic in it must not
        // take the socket's reader down, so it is guarded too.
        let decoded = panics::recover(table.recovery(), move || {
            Request::decode(packet, peer, local, transport, server, received)
        });
        let req = match decoded {
            Ok(Ok(req)) => req,
            Ok(Err(_)) => {
                wire::header_only_reply(&header, ResponseCode::FormErr, out);
                return Answer::Reply;
            }
            Err(payload) => {
                self.panicked(table, &*payload);
                wire::header_only_reply(&header, ResponseCode::ServFail, out);
                return Answer::Reply;
            }
        };
        // Step 2. The header check already demands one question; this keeps the contract
        // for a decoder that would disagree.
        if !req.has_question() {
            return self.answer_dropped(&req, ResponseCode::ServFail, out);
        }
        // Step 3: the panic guard covers the rest, including the chain's synchronous part
        // (run on the first poll) and its future. Pinned where it is built: a future this
        // size is not copied on its way in.
        let served = {
            let serving = pin!(self.serve(table, &req, out));
            panics::recover_future(table.recovery(), serving).await
        };
        match served {
            Ok(answer) => answer,
            Err(payload) => {
                self.panicked(table, &*payload);
                self.answer_dropped(&req, ResponseCode::ServFail, out)
            }
        }
    }

    /// Steps 4–10 (step 6, the scrub, is `wire::encode_reply`, used for every reply).
    async fn serve(&self, table: &ZoneTable, req: &Request, out: &mut Vec<u8>) -> Answer {
        // Step 4: CH/HS/ANY only reach a chain that can answer them (chaos, forward).
        if req.qclass() != DNSClass::IN && !table.allow_other_classes {
            return self.answer_dropped(req, ResponseCode::Refused, out);
        }
        // Step 5: RFC 6891 §6.1.3: an unknown EDNS version gets BADVERS with our version (0),
        // before any plugin and without metrics.
        if req.edns().is_some_and(|edns| edns.version() != 0) {
            return self.encode(req, &Response::error_to(req, ResponseCode::BADVERS), out);
        }
        // Steps 7–9.
        let route = match table.route(req.qname_lower(), req.qtype()) {
            Routing::Serve(route) => route,
            Routing::EmptyBlock(_) | Routing::NoZone => {
                return self.answer_dropped(req, ResponseCode::Refused, out);
            }
        };
        // Step 10. A ready reply is encoded where it lies (no box, no future, not moved); a
        // pending one is awaited.
        let reply = route.chain.serve(req);
        if let Reply::Ready(Some(outcome)) = &reply {
            return self.answer(req, outcome, out);
        }
        let outcome = reply.await;
        self.answer(req, &outcome, out)
    }

    /// The reply to send for the chain's `outcome`.
    fn answer(&self, req: &Request, outcome: &Outcome, out: &mut Vec<u8>) -> Answer {
        match outcome {
            Ok(resp) => self.encode(req, resp, out),
            Err(failure) if failure.core_writes_reply() => {
                self.encode(req, &Response::error_to(req, failure.rcode), out)
            }
            Err(_) => Answer::Silent,
        }
    }

    /// Encodes `resp` into `out`. A reply the encoder refuses (a plugin built a record that
    /// cannot be written) becomes SERVFAIL rather than silence, so the client does not wait
    /// for its timeout.
    fn encode(&self, req: &Request, resp: &Response, out: &mut Vec<u8>) -> Answer {
        let error = match wire::encode_reply(req, resp, out) {
            Ok(_) => return Answer::Reply,
            Err(error) => error,
        };
        let plugin = Some(resp.plugin).filter(|p| !p.is_empty());
        plugin::log::error(
            plugin,
            format_args!("cannot encode the reply to {}: {error}", req.qname_lower()),
        );
        match wire::encode_reply(req, &Response::error_to(req, ResponseCode::ServFail), out) {
            Ok(_) => Answer::Reply,
            Err(_) => {
                out.clear();
                Answer::Silent
            }
        }
    }

    /// An error reply written by the core, counted with `zone="dropped"` (metrics.md §4).
    fn answer_dropped(&self, req: &Request, rcode: ResponseCode, out: &mut Vec<u8>) -> Answer {
        let rejected = Instant::now();
        let answer = self.encode(req, &Response::error_to(req, rcode), out);
        self.dropped.record(req, rcode, out.len(), rejected);
        answer
    }

    /// Logs and counts a recovered panic, or ends the process when the listener does not
    /// recover panics (`debug`).
    fn panicked(&self, table: &ZoneTable, payload: &(dyn std::any::Any + Send)) {
        if !table.recover_panics {
            panics::crash(&self.server, payload);
        }
        panics::log_recovered(&self.server, payload, panics::take_trace().as_ref());
        self.dropped.metrics().panics.inc();
    }

    #[cfg(test)]
    pub(crate) fn dropped(&self) -> &DroppedMetrics {
        &self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::testing::*;
    use futures_util::FutureExt;
    use hickory_proto::op::Message;
    use hickory_proto::rr::RecordType;
    use plugin::metrics::MetricsHub;
    use std::time::Duration;

    fn dispatcher() -> Dispatcher {
        Dispatcher::new(
            Arc::from("dns://:53"),
            MetricsHub::new().get::<DnsMetrics>(),
        )
    }

    fn root_table(chain: plugin::Chain) -> ZoneTable {
        let mut table = ZoneTable::new();
        table.insert(".", chain);
        table
    }

    const PEER: &str = "127.0.0.1:40000";
    const LOCAL: &str = "127.0.0.1:53";

    fn inbound(packet: Bytes) -> Inbound {
        Inbound {
            packet,
            peer: PEER.parse().unwrap(),
            local: LOCAL.parse().unwrap(),
            transport: Transport::Udp,
            received: std::time::Instant::now(),
        }
    }

    /// Runs one packet to completion (pending chains included).
    async fn run(d: &Dispatcher, table: &ZoneTable, packet: &[u8]) -> Option<Message> {
        let mut out = Vec::new();
        let answer = d
            .dispatch(table, inbound(Bytes::copy_from_slice(packet)), &mut out)
            .await;
        match answer {
            Answer::Reply => Some(Message::from_vec(&out).expect("reply parses")),
            Answer::Silent => {
                assert!(out.is_empty());
                None
            }
        }
    }

    #[tokio::test]
    async fn a_ready_chain_completes_on_the_first_poll() {
        let d = dispatcher();
        let table = root_table(chain_of(Fixed::tagged("root")));
        let packet = Bytes::from(wire(&query("example.org.", RecordType::A)));
        let mut out = Vec::new();
        let future = d.dispatch(&table, inbound(packet), &mut out);
        // now_or_never polls exactly once with a no-op waker.
        assert_eq!(future.now_or_never(), Some(Answer::Reply));
        let reply = Message::from_vec(&out).unwrap();
        assert_eq!(txt_answers(&reply), ["root"]);
        assert_eq!(reply.metadata.id, 4242);
    }

    #[tokio::test]
    async fn a_pending_chain_is_pending_on_the_first_poll() {
        let d = dispatcher();
        let table = root_table(chain_of(Slow {
            delay: Duration::from_millis(20),
        }));
        let packet = Bytes::from(wire(&query("slow.example.org.", RecordType::A)));
        let mut out = Vec::new();
        {
            let mut future = std::pin::pin!(d.dispatch(&table, inbound(packet), &mut out));
            assert_eq!((&mut future).now_or_never(), None);
            assert_eq!(future.await, Answer::Reply);
        }
        assert_eq!(txt_answers(&Message::from_vec(&out).unwrap()), ["slow"]);
    }

    #[tokio::test]
    async fn core_written_failures_and_silent_failures() {
        let d = dispatcher();
        let packet = wire(&query("example.org.", RecordType::A));
        for (rcode, written) in [
            (ResponseCode::ServFail, true),
            (ResponseCode::Refused, true),
            (ResponseCode::FormErr, true),
            (ResponseCode::NotImp, true),
            (ResponseCode::NXDomain, false),
            (ResponseCode::NoError, false),
        ] {
            let table = root_table(chain_of(Fails(rcode)));
            let reply = run(&d, &table, &packet).await;
            match reply {
                Some(reply) => {
                    assert!(written, "{rcode} answered");
                    assert_eq!(reply.metadata.response_code, rcode);
                    assert!(reply.answers.is_empty());
                    assert_eq!(reply.queries.len(), 1);
                }
                None => assert!(!written, "{rcode} not answered"),
            }
        }
        // Failures the chain reports are the prometheus plugin's to count, not "dropped".
        assert_eq!(d.dropped().responses(ResponseCode::ServFail), 0);
    }

    #[tokio::test]
    async fn no_zone_and_empty_block_are_refused_and_counted_dropped() {
        let d = dispatcher();
        let mut table = ZoneTable::new();
        table.insert("example.org.", chain_of(Fixed::tagged("org")));
        table.insert("empty.example.org.", plugin::Chain::default());
        let refused = run(&d, &table, &wire(&query("example.com.", RecordType::A)))
            .await
            .unwrap();
        assert_eq!(refused.metadata.response_code, ResponseCode::Refused);
        let empty = run(
            &d,
            &table,
            &wire(&query("a.empty.example.org.", RecordType::A)),
        )
        .await
        .unwrap();
        assert_eq!(empty.metadata.response_code, ResponseCode::Refused);
        assert_eq!(d.dropped().responses(ResponseCode::Refused), 2);
        assert_eq!(d.dropped().requests("udp", RecordType::A), 2);
    }

    #[tokio::test]
    async fn other_classes_are_refused_unless_allowed() {
        let d = dispatcher();
        let ch = wire(&with_class(
            query("version.bind.", RecordType::TXT),
            DNSClass::CH,
        ));
        let mut table = root_table(chain_of(Fixed::tagged("root")));
        let reply = run(&d, &table, &ch).await.unwrap();
        assert_eq!(reply.metadata.response_code, ResponseCode::Refused);
        assert_eq!(d.dropped().responses(ResponseCode::Refused), 1);
        table.allow_other_classes = true;
        let reply = run(&d, &table, &ch).await.unwrap();
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert_eq!(txt_answers(&reply), ["root"]);
    }

    #[tokio::test]
    async fn edns_version_1_is_badvers_before_any_plugin() {
        let d = dispatcher();
        let fixed = Fixed::tagged("root");
        let calls = fixed.counter();
        let table = root_table(chain_of(fixed));
        let packet = wire(&with_edns(
            query("example.org.", RecordType::A),
            1232,
            false,
            1,
        ));
        let reply = run(&d, &table, &packet).await.unwrap();
        // BADVERS is 16: 0 in the header, 1 in the OPT's extended rcode. hickory names the
        // combined 16 BADSIG, so compare numbers.
        assert_eq!(u16::from(reply.metadata.response_code), 16);
        let edns = reply.edns.expect("OPT in a BADVERS reply");
        assert_eq!(edns.version(), 0);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(d.dropped().requests("udp", RecordType::A), 0);
    }

    #[tokio::test]
    async fn panics_are_recovered_as_servfail_and_counted() {
        let d = dispatcher();
        let table = root_table(chain_of(Panics));
        for name in ["panic.example.org.", "panic-later.example.org."] {
            let before = d.metrics().panics.get();
            let reply = run(&d, &table, &wire(&query(name, RecordType::A)))
                .await
                .unwrap();
            assert_eq!(
                reply.metadata.response_code,
                ResponseCode::ServFail,
                "{name}"
            );
            assert_eq!(d.metrics().panics.get(), before + 1, "{name}");
        }
        assert_eq!(d.dropped().responses(ResponseCode::ServFail), 2);
        let ok = run(
            &d,
            &table,
            &wire(&query("fine.example.org.", RecordType::A)),
        )
        .await
        .unwrap();
        assert_eq!(txt_answers(&ok), ["ok"]);
    }

    /// With `debug` on a block of the listener, a panic is not recovered: the process ends
    /// as a Go program does on an unrecovered panic. Run in a child process of this test binary.
    #[test]
    fn without_recovery_a_panic_ends_the_process_with_status_2() {
        const CHILD: &str = "CLUSTERDNS_TEST_PANIC_CHILD";
        if std::env::var_os(CHILD).is_some() {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            let mut table = root_table(chain_of(Panics));
            table.recover_panics = false;
            let packet = wire(&query("panic.example.org.", RecordType::A));
            runtime.block_on(run(&dispatcher(), &table, &packet));
            // Still alive: the parent sees status 0 and fails.
            return;
        }
        let test_path = module_path!().split_once("::").map_or("", |(_, rest)| rest);
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                &format!("{test_path}::without_recovery_a_panic_ends_the_process_with_status_2"),
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains(
                r#"[ERROR] Panic in server (not recovered, debug is on): "dns://:53" boom"#
            ),
            "{stdout}"
        );
    }

    #[tokio::test]
    async fn echoed_options_larger_than_the_client_accepts_are_left_out() {
        let d = dispatcher();
        let table = root_table(chain_of(Fixed::tagged("root")));
        let packet = wire(&with_padding(query("example.org.", RecordType::A), 900));
        let mut out = Vec::new();
        let answer = d
            .dispatch(&table, inbound(Bytes::from(packet)), &mut out)
            .await;
        assert_eq!(answer, Answer::Reply);
        assert!(out.len() <= 512, "{} bytes", out.len());
        let reply = Message::from_vec(&out).unwrap();
        let edns = reply.edns.expect("an OPT still");
        assert!(edns.options().as_ref().is_empty());
        assert_eq!(edns.max_payload(), 512);
    }

    #[tokio::test]
    async fn rejected_headers_and_bodies() {
        let d = dispatcher();
        let table = root_table(chain_of(Fixed::tagged("root")));
        let good = wire(&query("example.org.", RecordType::A));
        let mut response = good.clone();
        response[2] |= 0x80;
        let mut notify = good.clone();
        notify[2] = (notify[2] & 0x87) | (4 << 3);
        let mut status = good.clone();
        status[2] = (status[2] & 0x87) | (2 << 3);
        let mut two_questions = good.clone();
        two_questions[5] = 2;
        let mut no_question = good.clone();
        no_question[5] = 0;
        let mut garbage = good[..HEADER_LEN].to_vec();
        garbage.extend_from_slice(&[0xff; 20]);
        // A question name that points at itself: a compression loop.
        let mut pointer_loop = good[..HEADER_LEN].to_vec();
        pointer_loop.extend_from_slice(&[0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01]);
        let cases: Vec<(&str, Vec<u8>, Option<ResponseCode>)> = vec![
            ("QR=1", response, None),
            ("11 bytes", good[..11].to_vec(), None),
            ("empty", Vec::new(), None),
            ("opcode STATUS", status, Some(ResponseCode::NotImp)),
            ("QDCOUNT 2", two_questions, Some(ResponseCode::FormErr)),
            ("QDCOUNT 0", no_question, Some(ResponseCode::FormErr)),
            ("garbage body", garbage, Some(ResponseCode::FormErr)),
            ("pointer loop", pointer_loop, Some(ResponseCode::FormErr)),
            ("NOTIFY", notify, Some(ResponseCode::NoError)),
        ];
        for (what, packet, expected) in cases {
            let reply = run(&d, &table, &packet).await;
            assert_eq!(
                reply.as_ref().map(|r| r.metadata.response_code),
                expected,
                "{what}"
            );
            if let Some(reply) = reply {
                assert_eq!(reply.metadata.id, 4242, "{what}");
            }
        }
        // None of these reach the metrics (metrics.md §4).
        assert_eq!(d.dropped().requests("udp", RecordType::A), 0);
    }

    #[tokio::test]
    async fn edns_is_echoed_with_the_query_size_and_do() {
        let d = dispatcher();
        let table = root_table(chain_of(Fixed::tagged("root")));
        let plain = run(&d, &table, &wire(&query("example.org.", RecordType::A)))
            .await
            .unwrap();
        assert!(plain.edns.is_none(), "no OPT without one in the query");
        for dnssec_ok in [false, true] {
            let packet = wire(&with_edns(
                query("example.org.", RecordType::A),
                1400,
                dnssec_ok,
                0,
            ));
            let reply = run(&d, &table, &packet).await.unwrap();
            let edns = reply.edns.expect("OPT echoed");
            assert_eq!(edns.max_payload(), 1400);
            assert_eq!(edns.flags().dnssec_ok, dnssec_ok);
            assert_eq!(edns.version(), 0);
        }
    }
}
