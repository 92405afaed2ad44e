//! A scripted downstream ("U1") and helpers to build queries, records and the chain.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use plugin::proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use plugin::proto::rr::rdata::{A, CNAME, SOA};
use plugin::proto::rr::{Name, RData, Record, RecordType};
use plugin::test_util::TestBlock;
use plugin::{Chain, Error, Failure, Next, Outcome, Plugin, Reply, Request, Response, Transport};

/// What U1 does with one query.
pub enum Step {
    /// Writes this reply at once.
    Answer(Response),
    /// Writes this reply after a delay.
    Later(Duration, Response),
    /// Never answers: like forward after its timeouts, the chain fails and the server
    /// writes SERVFAIL (2 s here).
    BlackHole,
}

/// What U1 saw of one query.
#[derive(Clone, Debug)]
pub struct Seen {
    pub authentic_data: bool,
    pub transport: Transport,
}

type Script = Box<dyn Fn(&Request, usize) -> Step + Send + Sync>;

/// A terminal plugin that answers per script (the call number is 0-based) and records what
/// it was asked.
pub struct Upstream {
    calls: AtomicUsize,
    seen: Mutex<Vec<Seen>>,
    script: Script,
}

impl Upstream {
    pub fn new(script: impl Fn(&Request, usize) -> Step + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Upstream {
            calls: AtomicUsize::new(0),
            seen: Mutex::new(Vec::new()),
            script: Box::new(script),
        })
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Plugin for Upstream {
    fn name(&self) -> &'static str {
        "forward"
    }

    fn serve<'a>(&'a self, req: &'a Request, _next: Next<'a>) -> Reply<'a> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        self.seen.lock().unwrap().push(Seen {
            authentic_data: req.message().metadata.authentic_data,
            transport: req.transport(),
        });
        match (self.script)(req, call) {
            Step::Answer(resp) => Reply::answer(resp),
            Step::Later(delay, resp) => Reply::pending(async move {
                tokio::time::sleep(delay).await;
                Ok(resp)
            }),
            Step::BlackHole => Reply::pending(async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                Err(Failure::servfail(Error::new("forward", "i/o timeout")))
            }),
        }
    }
}

/// A block with `corefile` (one `cache` stanza) set up in front of `upstream`.
pub struct Harness {
    pub chain: Chain,
    pub upstream: Arc<Upstream>,
    pub block: TestBlock,
}

impl Harness {
    pub fn new(corefile: &str, upstream: Arc<Upstream>) -> Self {
        let mut block = TestBlock::new(&["."]);
        block
            .setup(corefile, crate::setup)
            .unwrap_or_else(|e| panic!("{corefile}: {e}"));
        let cache = block.block.plugins[0].clone();
        let chain = Chain::new(vec![cache, upstream.clone()]);
        Harness {
            chain,
            upstream,
            block,
        }
    }

    /// Serves `req` as a query arriving now (see [`plugin::test_util::again`]).
    pub async fn ask(&self, req: &Request) -> Outcome {
        let outcome = self.chain.serve(&plugin::test_util::again(req)).await;
        settle().await;
        outcome
    }

    pub fn metrics(&self) -> String {
        self.block.services.metrics.encode_text().unwrap()
    }
}

/// Lets background refreshes run (paused time advances only when every task waits).
pub async fn settle() {
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
}

/// Advances the paused clock by `secs` seconds.
pub async fn at_plus(secs: u64) {
    tokio::time::advance(Duration::from_secs(secs)).await;
    settle().await;
}

/// A query as a client sends it.
#[derive(Clone)]
pub struct Q {
    message: Message,
    transport: Transport,
}

pub fn q(name: &str, qtype: RecordType) -> Q {
    let mut message = Message::new(4242, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name_of(name), qtype));
    Q {
        message,
        transport: Transport::Udp,
    }
}

impl Q {
    pub fn dnssec_ok(mut self) -> Self {
        let mut edns = Edns::new();
        edns.set_max_payload(1232);
        edns.set_dnssec_ok(true);
        self.message.set_edns(edns);
        self
    }

    pub fn ad(mut self) -> Self {
        self.message.metadata.authentic_data = true;
        self
    }

    pub fn cd(mut self) -> Self {
        self.message.metadata.checking_disabled = true;
        self
    }

    pub fn build(&self) -> Request {
        let wire = self.message.to_vec().unwrap();
        Request::from_message(
            self.message.clone(),
            wire.into(),
            "10.240.0.1:40212".parse().unwrap(),
            "127.0.0.1:53".parse().unwrap(),
            self.transport,
            Arc::from("dns://:53"),
        )
    }
}

pub fn name_of(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

pub fn a(owner: &str, ttl: u32, last: u8) -> Record {
    Record::from_rdata(name_of(owner), ttl, RData::A(A::new(192, 0, 2, last)))
}

pub fn cname(owner: &str, ttl: u32, target: &str) -> Record {
    Record::from_rdata(name_of(owner), ttl, RData::CNAME(CNAME(name_of(target))))
}

/// An SOA with record TTL `ttl` and MINIMUM `minimum`.
pub fn soa(zone: &str, ttl: u32, minimum: u32) -> Record {
    Record::from_rdata(
        name_of(zone),
        ttl,
        RData::SOA(SOA::new(
            name_of("ns.example."),
            name_of("host.example."),
            1,
            7200,
            3600,
            1_209_600,
            minimum,
        )),
    )
}

/// An upstream-style reply: RA=1, AA=0.
pub fn reply(
    req: &Request,
    rcode: ResponseCode,
    answers: Vec<Record>,
    authority: Vec<Record>,
) -> Response {
    let mut resp = Response::reply_to(req, "forward").with_rcode(rcode);
    resp.flags.recursion_available = true;
    resp.answers = answers.into();
    resp.authorities = authority.into();
    resp
}

/// The TTLs every record of `resp` is sent with.
pub fn ttls(resp: &Response) -> Vec<u32> {
    [&resp.answers, &resp.authorities, &resp.additionals]
        .into_iter()
        .flat_map(|s| s.iter())
        .map(|r| resp.ttl_of(r))
        .collect()
}

/// The last octet of every A record in the answer.
pub fn addresses(resp: &Response) -> Vec<u8> {
    resp.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0.octets()[3]),
            _ => None,
        })
        .collect()
}

/// The value of the sample `series` (name and labels as printed) in a scrape, 0 if absent.
pub fn sample(scrape: &str, series: &str) -> f64 {
    scrape
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}
