//! The body of the `dispatch` fuzz target: arbitrary bytes through the whole server core.
//!
//! `fuzz/fuzz_targets/dispatch.rs` calls [`fuzz_dispatch`]; the test below runs it over seed
//! packets, mutations of them, and `fuzz/corpus/dispatch/` when that folder exists.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use hickory_proto::op::{Message, MessageType};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record};
use plugin::metrics::{DnsMetrics, MetricsHub};
use plugin::{Chain, Next, Plugin, Reply, Request, Response, Transport};

use super::dispatch::{Answer, Dispatcher, Inbound};
use super::zones::ZoneTable;

/// Runs `data` as a UDP and as a TCP query through the server core, with a table of a root
/// block answering one A record and an empty block (`refused.example.`). Panics when the core
/// panicked (recovered or not), or when a reply does not parse as DNS, does not carry the
/// query's ID, or is larger than the client accepts.
pub fn fuzz_dispatch(data: &[u8]) {
    HARNESS.with(|harness| harness.run(data));
}

thread_local! {
    static HARNESS: Harness = Harness::new();
}

struct Harness {
    runtime: tokio::runtime::Runtime,
    dispatcher: Dispatcher,
    metrics: Arc<DnsMetrics>,
    table: ZoneTable,
    out: RefCell<Vec<u8>>,
    peer: SocketAddr,
    local: SocketAddr,
}

/// Answers every query with `A 192.0.2.1` for the question name.
struct AnswerA;

impl Plugin for AnswerA {
    fn name(&self) -> &'static str {
        "answer"
    }

    fn serve<'a>(&'a self, req: &'a Request, _next: Next<'a>) -> Reply<'a> {
        let mut resp = Response::reply_to(req, "answer");
        resp.answers = vec![Record::from_rdata(
            req.qname(),
            60,
            RData::A(A::new(192, 0, 2, 1)),
        )]
        .into();
        Reply::answer(resp)
    }
}

impl Harness {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread runtime");
        let metrics = MetricsHub::new().get::<DnsMetrics>();
        let mut table = ZoneTable::new();
        table.insert(".", Chain::new(vec![Arc::new(AnswerA)]));
        table.insert("refused.example.", Chain::default());
        Harness {
            runtime,
            dispatcher: Dispatcher::new(Arc::from("dns://:53"), metrics.clone()),
            metrics,
            table,
            out: RefCell::new(Vec::new()),
            peer: SocketAddr::from(([192, 0, 2, 53], 40000)),
            local: SocketAddr::from(([192, 0, 2, 1], 53)),
        }
    }

    fn run(&self, data: &[u8]) {
        let mut out = self.out.borrow_mut();
        for transport in [Transport::Udp, Transport::Tcp] {
            let inbound = Inbound {
                packet: Bytes::copy_from_slice(data),
                peer: self.peer,
                local: self.local,
                transport,
                received: std::time::Instant::now(),
            };
            let answer =
                self.runtime
                    .block_on(self.dispatcher.dispatch(&self.table, inbound, &mut out));
            assert_eq!(self.metrics.panics.get(), 0, "the server core panicked");
            if answer == Answer::Reply {
                check_reply(data, &out, transport);
            }
        }
    }
}

fn check_reply(query: &[u8], reply: &[u8], transport: Transport) {
    let message = match Message::from_vec(reply) {
        Ok(message) => message,
        Err(error) => panic!("reply does not parse ({error}): {reply:02x?}"),
    };
    assert_eq!(message.metadata.message_type, MessageType::Response);
    assert_eq!(reply.get(..2), query.get(..2), "reply keeps the query's ID");
    let limit = match transport {
        Transport::Tcp => 65535,
        Transport::Udp => Message::from_vec(query)
            .ok()
            .and_then(|q| q.edns.map(|e| usize::from(e.max_payload())))
            .unwrap_or(512)
            .max(512),
    };
    assert!(reply.len() <= limit, "{} bytes over {limit}", reply.len());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::testing::{query, wire, with_class, with_edns, with_padding};
    use hickory_proto::rr::{DNSClass, RecordType};

    fn seeds() -> Vec<Vec<u8>> {
        let mut seeds = vec![
            wire(&query("example.org.", RecordType::A)),
            wire(&query("refused.example.", RecordType::A)),
            wire(&query("a.b.c.d.e.f.example.org.", RecordType::DS)),
            wire(&with_edns(query(".", RecordType::NS), 4096, true, 0)),
            wire(&with_edns(
                query("example.org.", RecordType::A),
                100,
                false,
                3,
            )),
            wire(&with_class(
                query("version.bind.", RecordType::TXT),
                DNSClass::CH,
            )),
            wire(&with_padding(query("example.org.", RecordType::A), 600)),
        ];
        let mut long = query(&"a".repeat(60), RecordType::A);
        long.metadata.id = 1;
        seeds.push(wire(&long));
        seeds.push(vec![0; 12]);
        seeds.push(Vec::new());
        seeds
    }

    /// xorshift64: deterministic mutations, no dependency.
    struct Mutator(u64);

    impl Mutator {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }

        fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
            let mut packet = seed.to_vec();
            for _ in 0..=self.below(4) {
                match self.below(4) {
                    0 if !packet.is_empty() => {
                        let at = self.below(packet.len());
                        packet[at] ^= 1 << self.below(8);
                    }
                    1 if !packet.is_empty() => {
                        let at = self.below(packet.len());
                        packet[at] = self.next() as u8;
                    }
                    2 => packet.truncate(self.below(packet.len() + 1)),
                    _ => {
                        let at = self.below(packet.len() + 1);
                        packet.insert(at, self.next() as u8);
                    }
                }
            }
            packet
        }
    }

    #[test]
    fn seeds_and_their_mutations_never_break_the_core() {
        let seeds = seeds();
        let mut mutator = Mutator(0x9e37_79b9_7f4a_7c15);
        for seed in &seeds {
            fuzz_dispatch(seed);
            for _ in 0..2000 {
                fuzz_dispatch(&mutator.mutate(seed));
            }
        }
    }

    #[test]
    fn the_committed_corpus_never_breaks_the_core() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/dispatch");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        for entry in entries.flatten() {
            if let Ok(data) = std::fs::read(entry.path()) {
                fuzz_dispatch(&data);
            }
        }
    }
}
