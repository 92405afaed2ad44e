//! Helpers for plugin tests: build requests, run a plugin with a recording `next`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};

use crate::Dispenser;
use crate::chain::{Chain, Next, Plugin};
use crate::metrics::MetricsHub;
use crate::reply::{Outcome, Reply};
use crate::request::{Request, Transport};
use crate::response::Response;
use crate::setup::{BlockConfig, InstanceServices, ServerKey, Setup};

mod readme;
mod stub_resolver;
pub use readme::{ReadmeExample, readme_examples};
pub use stub_resolver::{StubAnswer, StubResolver};

/// A query builder.
#[derive(Clone, Debug)]
pub struct QueryBuilder {
    message: Message,
    client: SocketAddr,
    transport: Transport,
}

/// A query for `name` `qtype` from 10.240.0.1:40212 over UDP, RD set, no EDNS.
pub fn query(name: &str, qtype: RecordType) -> QueryBuilder {
    let mut message = Message::new(4242, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(
        Name::from_ascii(name).expect("test name"),
        qtype,
    ));
    QueryBuilder {
        message,
        client: "10.240.0.1:40212".parse().unwrap(),
        transport: Transport::Udp,
    }
}

impl QueryBuilder {
    pub fn client(mut self, addr: &str) -> Self {
        self.client = addr.parse().expect("test client address");
        self
    }

    pub fn tcp(mut self) -> Self {
        self.transport = Transport::Tcp;
        self
    }

    /// Adds an OPT record advertising `size`, with DO as given.
    pub fn edns(mut self, size: u16, dnssec_ok: bool) -> Self {
        let mut edns = Edns::new();
        edns.set_max_payload(size);
        edns.set_dnssec_ok(dnssec_ok);
        self.message.set_edns(edns);
        self
    }

    pub fn id(mut self, id: u16) -> Self {
        self.message.metadata.id = id;
        self
    }

    pub fn build(self) -> Request {
        // Decoded from its bytes as the listener does, so a plain query takes the hand-read
        // path the server uses.
        let wire = Bytes::from(self.message.to_vec().expect("test query encodes"));
        Request::decode(
            wire,
            self.client,
            "127.0.0.1:53".parse().unwrap(),
            self.transport,
            Arc::from("dns://:53"),
            tokio::time::Instant::now().into_std(),
        )
        .expect("test query decodes")
    }
}

/// `req` arriving again now: every arrival is a new request, received at its own time (the
/// cache counts TTLs down from it), so a test that asks again after moving the clock asks
/// with this.
pub fn again(req: &Request) -> Request {
    Request::decode(
        req.wire().clone(),
        req.client(),
        req.local(),
        req.transport(),
        req.server().clone(),
        tokio::time::Instant::now().into_std(),
    )
    .expect("a request decodes again")
}

type AnswerFn = Box<dyn Fn(&Request) -> Outcome + Send>;

/// A terminal plugin that counts calls and answers with a fixed outcome.
pub struct Recorder {
    calls: AtomicUsize,
    answer: Mutex<AnswerFn>,
}

impl Recorder {
    /// Answers NOERROR with no records, produced by "recorder".
    pub fn new() -> Arc<Recorder> {
        Recorder::answering(|req| Ok(Response::reply_to(req, "recorder")))
    }

    pub fn answering(f: impl Fn(&Request) -> Outcome + Send + 'static) -> Arc<Recorder> {
        Arc::new(Recorder {
            calls: AtomicUsize::new(0),
            answer: Mutex::new(Box::new(f)),
        })
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Plugin for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }

    fn serve<'a>(&'a self, req: &'a Request, _next: Next<'a>) -> Reply<'a> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = self.answer.lock().unwrap();
        Reply::ready(answer(req))
    }
}

/// Runs `plugin` with `next` after it and waits for the outcome.
pub async fn serve(plugin: Arc<dyn Plugin>, next: Arc<dyn Plugin>, req: &Request) -> Outcome {
    let chain = Chain::new(vec![plugin, next]);
    chain.serve(req).await
}

/// Splits a one-block Corefile snippet (`"log . {common}"`, lines separated by `\n`) into
/// tokens by whitespace, for option-parsing tests. Quotes are not interpreted: tests needing
/// quoting go through the real parser in the server's tests.
pub fn dispenser(text: &str) -> Dispenser {
    Dispenser::from_snippet(text)
}

/// A block for zones `zones` on port 53 and fresh instance services, to run a setup in.
pub struct TestBlock {
    pub block: BlockConfig,
    pub services: InstanceServices,
}

impl TestBlock {
    pub fn new(zones: &[&str]) -> Self {
        let block = BlockConfig {
            keys: zones
                .iter()
                .map(|z| ServerKey {
                    scheme: "dns".into(),
                    zone: crate::zones::normalize(z),
                    port: 53,
                })
                .collect(),
            ..BlockConfig::default()
        };
        TestBlock {
            block,
            services: InstanceServices::new(Arc::new(MetricsHub::new())),
        }
    }

    /// Runs `setup` over `corefile_lines` (see [`dispenser`]).
    pub fn setup<E>(
        &mut self,
        corefile_lines: &str,
        setup: impl FnOnce(&mut Setup<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut s = Setup::new(
            dispenser(corefile_lines),
            &mut self.block,
            &mut self.services,
        );
        setup(&mut s)
    }
}

/// The error of a directive without arguments given `extra` on line 1.
pub const EXTRA_ARGUMENT: &str = "Corefile:1 - Error during parsing: Wrong argument count or unexpected line ending after 'extra'";
/// The error of a directive without options given a `{` block on line 1.
pub const UNEXPECTED_BLOCK: &str =
    "Corefile:1 - Error during parsing: Unexpected token '{', expecting argument";

/// Runs `setup` over each `(corefile, expected)` case in a fresh block (expected: `Ok` or the
/// error text without the `plugin/NAME: ` prefix the assembler adds) and checks that it added
/// one chain plugin exactly when it succeeded.
pub fn check_chain_setup<E: std::fmt::Display>(
    cases: &[(&str, Result<(), &str>)],
    setup: impl Fn(&mut Setup<'_>) -> Result<(), E>,
) {
    for (corefile, want) in cases {
        let mut t = TestBlock::new(&["."]);
        let got = t.setup(corefile, &setup).map_err(|e| e.to_string());
        assert_eq!(got, want.map_err(str::to_string), "{corefile:?}");
        assert_eq!(
            t.block.plugins.len(),
            usize::from(got.is_ok()),
            "{corefile:?}"
        );
    }
}
