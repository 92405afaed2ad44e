//! Fuzz entry point: an arbitrary query and downstream reply through the cache (issue #4,
//! "cache"). Classification (plugins-resolution.md §2.2), TTL rules (§2.4), storage, the hit
//! path, prefetch and serve_stale (§2.6, §2.7) must never panic, and what the client would be
//! sent must always encode into a well-formed reply.
//!
//! A real [`Cache`] (a fresh one per input, from one of [`CONFIGS`]) sits in front of a
//! terminal plugin that answers with the decoded reply; the query is asked, asked again (a
//! hit), and asked after the clock moved when the caller can move it: the fuzz target and the
//! unit tests run on a paused tokio clock, which this crate cannot pause itself (tokio's
//! `test-util` is not among its dependencies' features). Every outcome goes through
//! [`plugin::wire::encode_reply`] as the server writes it.
//! `fuzz/fuzz_targets/cache.rs` calls [`fuzz_cache_on`]; the corpus runner in
//! `tests/integration/fuzz_corpus.rs` calls [`fuzz_cache`].

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use plugin::metrics::MetricsHub;
use plugin::proto::op::Message;
use plugin::response::Flags;
use plugin::tasks::Tasks;
use plugin::wire::{Verdict, inspect};
use plugin::{
    Chain, Dispenser, Error, Failure, Next, Outcome, Plugin, Reply, Request, Response, Token,
    Transport,
};

use crate::state::State;
use crate::{Cache, CacheMetrics, parse};

/// Moves the clock the cache reads (`tokio::time::advance` on a paused runtime).
pub type Advance = fn(Duration) -> Pin<Box<dyn Future<Output = ()>>>;

/// The cache configurations byte 0 picks from.
pub const CONFIGS: [&str; 14] = [
    "cache",
    "cache 30",
    "cache {\nsuccess 10000 3600 0\ndenial 10000 60 0\n}",
    "cache {\nserve_stale\n}",
    "cache {\nserve_stale 1h verify\n}",
    "cache {\nserve_stale 1h verify 1s 30s 10s\n}",
    "cache {\nprefetch 1 1m 10%\n}",
    "cache {\nkeepttl\nserve_stale 10m immediate 7s\n}",
    "cache {\nservfail 30s\n}",
    "cache {\ndisable success example.org.\ndisable denial\n}",
    "cache 30 example.org. in-addr.arpa.",
    "cache {\nserve_stale 1h\nserve_stale_policy prefer_positive\n}",
    "cache {\nsuccess 1\ndenial 1\n}",
    "cache 3600 {\ndenial 5000 5 1\nprefetch 2 10s 50%\n}",
];

/// How far the clock moves before each later ask, per plan (bits 4–7 of byte 1).
const ADVANCE_PLANS: [&[u64]; 16] = [
    &[],
    &[1],
    &[4],
    &[6],
    &[29],
    &[31],
    &[299, 2],
    &[3599],
    &[3601],
    &[5, 3600],
    &[30, 3570, 60],
    &[9, 1, 1],
    &[601],
    &[1801, 1800],
    &[86_400],
    &[2, 2, 2],
];

/// Runs `data` on a current-thread runtime with the real clock: nothing expires.
pub fn fuzz_cache(data: &[u8]) {
    REAL_CLOCK.with(|runtime| {
        if let Some(runtime) = runtime {
            fuzz_cache_on(runtime, data, None);
        }
    });
}

thread_local! {
    static REAL_CLOCK: Option<tokio::runtime::Runtime> = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .ok();
    /// One hub for every input of the thread: registering the families once is enough.
    static METRICS: Arc<MetricsHub> = Arc::new(MetricsHub::new());
}

/// Runs `data` on `runtime`, moving the clock with `advance` when given.
///
/// Input: byte 0 picks a configuration ([`CONFIGS`]); byte 1 holds the [`InputFlags`] bits;
/// bytes 2–3 the query's length (big-endian), then the query, then the downstream's reply.
/// Inputs whose query the server would not hand to a chain, or whose reply does not decode,
/// are skipped. Panics when the cache panics or when what the client would receive does not
/// parse, lacks the query's ID or question, exceeds the client's size, or (inside the cache's
/// zones) shows AD to a client that did not ask for it (RFC 6840 §5.7–5.8).
pub fn fuzz_cache_on(runtime: &tokio::runtime::Runtime, data: &[u8], advance: Option<Advance>) {
    let Some(input) = Input::split(data) else {
        return;
    };
    let Some(Built {
        cache,
        tasks,
        zones,
    }) = build(input.config)
    else {
        return;
    };
    // Outside its zones cache passes the reply through untouched: AD is then the
    // downstream's business (RFC 6840 §5.8 binds the server that sets it).
    let cached = plugin::zones::longest_match(&zones, &lower(&input.query)).is_some();
    let chain = Chain::new(vec![
        Arc::new(cache),
        Arc::new(Downstream {
            reply: input.reply.clone(),
            flags: input.flags,
            calls: std::sync::atomic::AtomicUsize::new(0),
        }),
    ]);
    runtime.block_on(async {
        // A miss (stored or not), then the same query: a hit when it was stored.
        ask(&chain, &input, cached).await;
        ask(&chain, &input, cached).await;
        if let Some(advance) = advance {
            for secs in ADVANCE_PLANS[usize::from(input.flags.0 >> 4)] {
                advance(Duration::from_secs(*secs)).await;
                settle().await;
                ask(&chain, &input, cached).await;
            }
        }
        tasks.stop().await;
    });
}

/// The bits of byte 1.
#[derive(Clone, Copy, Debug)]
struct InputFlags(u8);

impl InputFlags {
    fn client_transport(self) -> Transport {
        if self.0 & 0x01 != 0 {
            Transport::Tcp
        } else {
            Transport::Udp
        }
    }

    /// The downstream names the question it answered ([`Response::question`]), as a plugin
    /// that answered another one on purpose does.
    fn names_question(self) -> bool {
        self.0 & 0x02 != 0
    }

    /// The first downstream call fails as forward does when every upstream failed: the
    /// server writes SERVFAIL itself, cache never sees a reply (§2.8).
    fn first_call_fails(self) -> bool {
        self.0 & 0x04 != 0
    }

    /// Later calls (refreshes, verifies, misses) fail.
    fn later_calls_fail(self) -> bool {
        self.0 & 0x08 != 0
    }
}

struct Input {
    config: &'static str,
    flags: InputFlags,
    query: Message,
    query_wire: Vec<u8>,
    reply: Message,
}

impl Input {
    fn split(data: &[u8]) -> Option<Input> {
        let [config, flags, len_hi, len_lo, rest @ ..] = data else {
            return None;
        };
        let len = usize::from(u16::from_be_bytes([*len_hi, *len_lo]));
        let query_wire = rest.get(..len)?;
        let reply_wire = rest.get(len..)?;
        // Only what the server core hands to a chain: one question, an opcode it serves
        // (dispatch steps 1–3), EDNS version 0 (step 5 answers BADVERS before any plugin).
        if inspect(query_wire) != Verdict::Accept {
            return None;
        }
        let query = Message::from_vec(query_wire).ok()?;
        if query.edns.as_ref().is_some_and(|e| e.version() != 0) {
            return None;
        }
        let reply = Message::from_vec(reply_wire).ok()?;
        Some(Input {
            config: CONFIGS[usize::from(*config) % CONFIGS.len()],
            flags: InputFlags(*flags),
            query,
            query_wire: query_wire.to_vec(),
            reply,
        })
    }

    /// A fresh request per ask, as each client query is.
    fn request(&self) -> Request {
        Request::from_message(
            self.query.clone(),
            self.query_wire.clone().into(),
            SocketAddr::from(([10, 240, 0, 1], 40212)),
            SocketAddr::from(([127, 0, 0, 1], 53)),
            self.flags.client_transport(),
            Arc::from("dns://:53"),
        )
    }
}

/// A fresh cache, the tasks its refreshes run in, and the zones it caches.
struct Built {
    cache: Cache,
    tasks: Tasks,
    zones: Vec<String>,
}

/// The query's name as cache matches it against its zones (a fresh request computes it).
fn lower(query: &Message) -> String {
    Request::from_message(
        query.clone(),
        Default::default(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
        SocketAddr::from(([127, 0, 0, 1], 53)),
        Transport::Udp,
        Arc::from(""),
    )
    .qname_lower()
    .to_string()
}

/// A fresh cache for `config` in a block for the root zone.
fn build(config: &str) -> Option<Built> {
    let file: Arc<str> = Arc::from("Corefile");
    let tokens = config
        .lines()
        .enumerate()
        .flat_map(|(i, line)| {
            let file = file.clone();
            let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
            line.split_whitespace()
                .map(move |w| Token::new(file.clone(), number, w))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut d = Dispenser::new(file, tokens);
    let config = parse(&mut d, &[".".to_string()]).ok()?;
    let metrics = METRICS.with(|hub| hub.get::<CacheMetrics>());
    let tasks = Tasks::new();
    let zones = config.zones.clone();
    Some(Built {
        cache: Cache::new(State::new(config, metrics, tasks.clone())),
        tasks,
        zones,
    })
}

/// The plugin after cache: answers every query with the fuzzed reply, relayed the way forward
/// relays an upstream's (rcode, flags, sections, OPT), or fails like forward.
struct Downstream {
    reply: Message,
    flags: InputFlags,
    calls: std::sync::atomic::AtomicUsize,
}

impl Plugin for Downstream {
    fn name(&self) -> &'static str {
        "forward"
    }

    fn serve<'a>(&'a self, _req: &'a Request, _next: Next<'a>) -> Reply<'a> {
        let call = self
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let fails = if call == 0 {
            self.flags.first_call_fails()
        } else {
            self.flags.later_calls_fail()
        };
        if fails {
            return Reply::fail(Failure::servfail(Error::new(
                "forward",
                "no healthy proxies",
            )));
        }
        let m = &self.reply.metadata;
        Reply::answer(Response {
            rcode: m.response_code,
            flags: Flags {
                authoritative: m.authoritative,
                truncated: m.truncation,
                recursion_desired: m.recursion_desired,
                recursion_available: m.recursion_available,
                authentic_data: m.authentic_data,
                checking_disabled: m.checking_disabled,
            },
            answers: self.reply.answers.clone().into(),
            authorities: self.reply.authorities.clone().into(),
            additionals: self.reply.additionals.clone().into(),
            edns: self.reply.edns.clone(),
            plugin: "forward",
            uniform_ttl: None,
            question: self
                .flags
                .names_question()
                .then(|| self.reply.queries.first().cloned().map(Box::new))
                .flatten(),
            prepared: None,
        })
    }
}

/// Asks the chain once and checks what the client would be sent.
async fn ask(chain: &Chain, input: &Input, cached: bool) {
    let req = input.request();
    let outcome = chain.serve(&req).await;
    settle().await;
    check_client_view(&req, &outcome, cached);
}

/// Lets background refreshes run to their end (they never wait on a timer here).
async fn settle() {
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
}

/// The shared client-view checks (`plugin::fuzz_check`), plus: when cache handled the query
/// (`cached`: inside its zones), AD is shown only to a client that set DO or AD, since cache
/// itself asks downstream with AD=1 (§2.9).
fn check_client_view(req: &Request, outcome: &Outcome, cached: bool) {
    if cached
        && !req.do_bit()
        && !req.message().metadata.authentic_data
        && let Ok(response) = outcome
    {
        assert!(
            !response.flags.authentic_data,
            "AD shown to a client without DO or AD (plugin {})",
            response.plugin
        );
    }
    plugin::fuzz_check::check_client_view(req, outcome);
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::proto::op::{Edns, MessageType, OpCode, Query, ResponseCode};
    use plugin::proto::rr::rdata::{A, AAAA, CNAME, MX, SOA};
    use plugin::proto::rr::{Name, RData, Record, RecordType};

    fn paused() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
    }

    fn advance(d: Duration) -> Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(tokio::time::advance(d))
    }

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn query(qname: &str, qtype: RecordType, edns: Option<(u16, bool)>) -> Message {
        let mut m = Message::new(4242, MessageType::Query, OpCode::Query);
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(name(qname), qtype));
        if let Some((size, dnssec_ok)) = edns {
            let mut opt = Edns::new();
            opt.set_max_payload(size);
            opt.set_dnssec_ok(dnssec_ok);
            m.set_edns(opt);
        }
        m
    }

    fn reply_to(q: &Message, rcode: ResponseCode, answers: Vec<Record>, soa: bool) -> Message {
        let mut m = Message::new(q.metadata.id, MessageType::Response, OpCode::Query);
        m.metadata.recursion_desired = true;
        m.metadata.recursion_available = true;
        m.metadata.response_code = rcode;
        m.queries = q.queries.clone();
        m.answers = answers;
        if soa {
            m.add_authority(Record::from_rdata(
                name("example.org."),
                3600,
                RData::SOA(SOA::new(
                    name("ns.icann.org."),
                    name("noc.dns.icann.org."),
                    2024080123,
                    7200,
                    3600,
                    1_209_600,
                    300,
                )),
            ));
        }
        m
    }

    fn input(config: u8, flags: u8, q: &Message, r: &Message) -> Vec<u8> {
        let qw = q.to_vec().unwrap();
        let rw = r.to_vec().unwrap();
        let mut out = vec![config, flags];
        out.extend_from_slice(&u16::try_from(qw.len()).unwrap().to_be_bytes());
        out.extend_from_slice(&qw);
        out.extend_from_slice(&rw);
        out
    }

    /// Realistic query/reply pairs over the configurations and clock plans: the seeds.
    fn seeds() -> Vec<(String, Vec<u8>)> {
        let a = query("example.org.", RecordType::A, None);
        let a_reply = reply_to(
            &a,
            ResponseCode::NoError,
            vec![Record::from_rdata(
                name("example.org."),
                300,
                RData::A(A::new(93, 184, 215, 14)),
            )],
            false,
        );
        let aaaa = query("www.example.org.", RecordType::AAAA, Some((1232, true)));
        let mut aaaa_reply = reply_to(
            &aaaa,
            ResponseCode::NoError,
            vec![
                Record::from_rdata(
                    name("www.example.org."),
                    3600,
                    RData::CNAME(CNAME(name("example.org."))),
                ),
                Record::from_rdata(
                    name("example.org."),
                    20,
                    RData::AAAA(AAAA::new(
                        0x2606, 0x2800, 0x21f, 0xcb07, 0x6820, 0x80da, 0xaf6b, 0x8b2c,
                    )),
                ),
            ],
            false,
        );
        aaaa_reply.metadata.authentic_data = true;
        let mut opt = Edns::new();
        opt.set_max_payload(1232);
        opt.set_dnssec_ok(true);
        aaaa_reply.set_edns(opt);
        let nx = query("nope.example.org.", RecordType::A, Some((4096, false)));
        let nx_reply = reply_to(&nx, ResponseCode::NXDomain, vec![], true);
        let mx = query("example.org.", RecordType::MX, None);
        let nodata = reply_to(&mx, ResponseCode::NoError, vec![], true);
        let mx_reply = reply_to(
            &mx,
            ResponseCode::NoError,
            vec![Record::from_rdata(
                name("example.org."),
                60,
                RData::MX(MX::new(10, name("mail.example.org."))),
            )],
            false,
        );
        let servfail = reply_to(&a, ResponseCode::ServFail, vec![], false);
        let mut truncated = a_reply.clone();
        truncated.metadata.truncation = true;
        let other = reply_to(
            &query("other.example.", RecordType::A, None),
            ResponseCode::NoError,
            a_reply.answers.clone(),
            false,
        );
        let ptr = query("14.215.184.93.in-addr.arpa.", RecordType::PTR, None);
        let ptr_nx = reply_to(&ptr, ResponseCode::NXDomain, vec![], true);

        let pairs = [
            ("a", &a, &a_reply),
            ("aaaa-cname-ad", &aaaa, &aaaa_reply),
            ("nxdomain", &nx, &nx_reply),
            ("nodata", &mx, &nodata),
            ("mx", &mx, &mx_reply),
            ("servfail", &a, &servfail),
            ("truncated", &a, &truncated),
            ("other-question", &a, &other),
            ("ptr-nxdomain", &ptr, &ptr_nx),
        ];
        let mut seeds = Vec::new();
        for (i, (what, q, r)) in pairs.into_iter().enumerate() {
            for config in 0..CONFIGS.len() as u8 {
                // Spread the clock plans and flags over the seeds.
                let plan = (usize::from(config) + i) % ADVANCE_PLANS.len();
                let mut flags = (plan as u8) << 4;
                if what == "other-question" {
                    flags |= 0x02;
                }
                if config % 4 == 3 {
                    flags |= 0x08;
                }
                if config % 5 == 4 {
                    flags |= 0x01;
                }
                seeds.push((format!("seed-{what}-{config}"), input(config, flags, q, r)));
            }
        }
        seeds.push((
            "seed-first-call-fails".to_string(),
            input(3, 0x04 | (5 << 4), &a, &a_reply),
        ));
        seeds
    }

    #[test]
    fn every_configuration_parses() {
        for config in CONFIGS {
            assert!(build(config).is_some(), "{config}");
        }
    }

    fn scrape() -> String {
        METRICS.with(|hub| hub.encode_text().unwrap())
    }

    fn counter(text: &str, family: &str) -> f64 {
        text.lines()
            .filter(|l| l.starts_with(family))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// The harness reaches the hit path, and with a moving clock the stale path: an A reply
    /// (TTL 300) under `serve_stale`, asked again at once and after 3601 s.
    #[test]
    fn a_moving_clock_reaches_hits_and_stale_answers() {
        let a = query("example.org.", RecordType::A, None);
        let a_reply = reply_to(
            &a,
            ResponseCode::NoError,
            vec![Record::from_rdata(
                name("example.org."),
                300,
                RData::A(A::new(192, 0, 2, 1)),
            )],
            false,
        );
        fuzz_cache_on(&paused(), &input(3, 8 << 4, &a, &a_reply), Some(advance));
        let text = scrape();
        assert_eq!(counter(&text, "coredns_cache_hits_total"), 2.0, "{text}");
        assert_eq!(
            counter(&text, "coredns_cache_served_stale_total"),
            1.0,
            "{text}"
        );
        assert_eq!(
            counter(&text, "coredns_cache_prefetch_total"),
            1.0,
            "{text}"
        );
    }

    #[test]
    fn seeds_never_panic_on_a_moving_clock() {
        let runtime = paused();
        for (name, data) in seeds() {
            eprintln!("{name}");
            fuzz_cache_on(&runtime, &data, Some(advance));
        }
    }

    #[test]
    fn seeds_never_panic_on_the_real_clock() {
        for (_, data) in seeds() {
            fuzz_cache(&data);
        }
    }

    /// The committed corpus on a moving clock (the integration runner has the real one only).
    #[test]
    fn the_committed_corpus_never_panics() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/cache");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        let runtime = paused();
        for entry in entries.flatten() {
            if let Ok(data) = std::fs::read(entry.path()) {
                fuzz_cache_on(&runtime, &data, Some(advance));
            }
        }
    }

    /// Writes the seeds into `fuzz/corpus/cache/` (run by hand with `--ignored`).
    #[test]
    #[ignore]
    fn write_seed_corpus() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/cache");
        std::fs::create_dir_all(&dir).unwrap();
        for (name, input) in seeds() {
            std::fs::write(dir.join(name), input).unwrap();
        }
    }
}
