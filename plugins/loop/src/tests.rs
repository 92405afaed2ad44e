//! loop: parsing, the probe name and target, the handler's counting, the prober's retry and
//! 30 s rules (paused clock), the UDP exchange, and whole loops through a UDP server on
//! 127.0.0.1 that relays back to itself (plugins-core.md, loop).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::RecordType;
use plugin::test_util::{
    self, EXTRA_ARGUMENT, Recorder, TestBlock, UNEXPECTED_BLOCK, check_chain_setup, query,
};
use plugin::{Chain, Failure, Next, Plugin, Reply, Request, Response, Transport};
use tokio::net::UdpSocket;
use tokio::task::JoinSet;

use crate::probe::{exchange, listen_text, random_name, target};
use crate::state::{LoopState, OnLoop};
use crate::{DETECTION_WINDOW, Loop, ProbeError, RETRY_AFTER, prober, setup_with};

/// How long a test waits for something that should happen promptly; never a speed check.
const PATIENCE: Duration = Duration::from_secs(20);

/// An `on_loop` action that records its messages instead of exiting.
#[derive(Clone, Default)]
struct Fatal(Arc<Mutex<Vec<String>>>);

impl Fatal {
    fn action(&self) -> OnLoop {
        let messages = self.0.clone();
        Arc::new(move |message: &str| messages.lock().unwrap().push(message.to_string()))
    }

    fn messages(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

fn message_for(client: &str, listen: &str, zone: &str, probe: &str) -> String {
    format!(
        "Loop ({client} -> {listen}) detected for zone \"{zone}\", see https://coredns.io/plugins/loop#troubleshooting. Query: \"HINFO {probe}\""
    )
}

#[test]
fn parses_like_coredns() {
    let fatal = Fatal::default();
    let setup = |s: &mut plugin::Setup<'_>| setup_with(s, fatal.action());
    check_chain_setup(
        &[
            ("loop", Ok(())),
            ("loop extra", Err(EXTRA_ARGUMENT)),
            ("loop {\n}", Err(UNEXPECTED_BLOCK)),
            (
                "loop\nloop",
                Err("this plugin can only be used once per Server Block"),
            ),
        ],
        setup,
    );
}

#[test]
fn the_probe_name_is_two_random_numbers_in_the_zone() {
    for (zone, suffix) in [(".", ""), ("example.org.", "example.org.")] {
        let names: Vec<String> = (0..50).map(|_| random_name(zone)).collect();
        for name in &names {
            let rest = name.strip_suffix(suffix).unwrap();
            let labels: Vec<&str> = rest.trim_end_matches('.').split('.').collect();
            assert_eq!(labels.len(), 2, "{name}");
            for label in labels {
                let n: u64 = label.parse().unwrap();
                assert!(n < 1 << 62, "{name}");
                assert_eq!(n.to_string(), label, "plain decimal");
            }
        }
        let distinct: std::collections::HashSet<_> = names.iter().collect();
        assert!(distinct.len() > 45, "random: {distinct:?}");
    }
}

#[test]
fn the_probe_goes_to_the_first_listen_address() {
    let cases = [
        ("", 53, Some("127.0.0.1:53"), ":53"),
        ("192.0.2.1", 1053, Some("192.0.2.1:1053"), "192.0.2.1:1053"),
        ("0.0.0.0", 53, Some("127.0.0.1:53"), "0.0.0.0:53"),
        ("::", 53, Some("[::1]:53"), "[::]:53"),
        ("::1", 5300, Some("[::1]:5300"), "[::1]:5300"),
        (
            "fe80::1%eth0",
            53,
            Some("[fe80::1]:53"),
            "[fe80::1%eth0]:53",
        ),
        ("not-an-address", 53, None, "not-an-address:53"),
    ];
    for (host, port, want_target, want_text) in cases {
        assert_eq!(
            target(host, port).map(|t| t.to_string()).as_deref(),
            want_target,
            "{host}"
        );
        assert_eq!(listen_text(host, port), want_text);
    }
}

#[test]
fn the_first_zone_and_listen_host_of_the_block_are_probed() {
    let mut t = TestBlock::new(&["example.org", "example.net"]);
    assert_eq!(
        crate::probed(&t.block),
        ("example.org.".to_string(), String::new(), 53)
    );
    t.block.keys[0].port = 1053;
    t.block.bind_used = true;
    t.block.listen_hosts = vec!["192.0.2.1".into(), "192.0.2.2".into()];
    assert_eq!(
        crate::probed(&t.block),
        ("example.org.".to_string(), "192.0.2.1".to_string(), 1053)
    );
    // `bind` with every address excepted: nothing is served, nothing to probe.
    t.block.listen_hosts.clear();
    assert_eq!(crate::probed(&t.block).1, "");
    // A block without `bind` ignores the (default) list.
    let t = TestBlock::new(&["in-addr.arpa"]);
    assert_eq!(crate::probed(&t.block).0, "in-addr.arpa.");
}

fn state(zone: &str, probe: &str, fatal: &Fatal) -> Arc<LoopState> {
    Arc::new(LoopState::new(
        zone.to_string(),
        probe.to_string(),
        ":53".to_string(),
        fatal.action(),
    ))
}

async fn pass(plugin: &Arc<dyn Plugin>, next: &Arc<Recorder>, name: &str, qtype: RecordType) {
    let req = query(name, qtype).build();
    test_util::serve(plugin.clone(), next.clone(), &req)
        .await
        .unwrap();
}

/// Step 3: the third pass of the probe is a loop; every query goes on to the next plugin.
#[tokio::test]
async fn the_third_pass_of_the_probe_is_fatal() {
    let fatal = Fatal::default();
    let state = state(".", "11.22.", &fatal);
    let plugin: Arc<dyn Plugin> = Arc::new(Loop::new(state.clone()));
    let next = Recorder::new();
    pass(&plugin, &next, "11.22.", RecordType::HINFO).await;
    pass(&plugin, &next, "11.22.", RecordType::HINFO).await;
    assert!(fatal.messages().is_empty());
    assert_eq!(state.seen(), 2);
    pass(&plugin, &next, "11.22.", RecordType::HINFO).await;
    assert_eq!(
        fatal.messages(),
        [message_for("10.240.0.1:40212", ":53", ".", "11.22.")]
    );
    assert_eq!(next.calls(), 3, "loop never answers");
}

/// Step 5: other types, other names, names outside the zone and a disabled plugin are not
/// counted; the name compares case-insensitively.
#[tokio::test]
async fn only_in_zone_hinfo_probes_count() {
    let fatal = Fatal::default();
    let state = state("example.org.", "11.22.example.org.", &fatal);
    let plugin: Arc<dyn Plugin> = Arc::new(Loop::new(state.clone()));
    let next = Recorder::new();
    for _ in 0..3 {
        pass(&plugin, &next, "11.22.example.org.", RecordType::A).await;
        pass(&plugin, &next, "11.22.example.org.", RecordType::TXT).await;
        pass(&plugin, &next, "33.44.example.org.", RecordType::HINFO).await;
        pass(&plugin, &next, "11.22.example.net.", RecordType::HINFO).await;
        pass(&plugin, &next, "11.22.", RecordType::HINFO).await;
    }
    assert_eq!(state.seen(), 0);
    pass(&plugin, &next, "11.22.EXAMPLE.org.", RecordType::HINFO).await;
    assert_eq!(state.seen(), 1);
    state.disable();
    for _ in 0..3 {
        pass(&plugin, &next, "11.22.example.org.", RecordType::HINFO).await;
    }
    assert_eq!(state.seen(), 1);
    assert!(fatal.messages().is_empty());
    assert_eq!(next.calls(), 19);
}

/// Step 4: a failed probe resets the counter, so passes of different attempts never add up.
#[tokio::test]
async fn a_reset_starts_counting_again() {
    let fatal = Fatal::default();
    let state = state(".", "11.22.", &fatal);
    let plugin: Arc<dyn Plugin> = Arc::new(Loop::new(state.clone()));
    let next = Recorder::new();
    for _ in 0..3 {
        pass(&plugin, &next, "11.22.", RecordType::HINFO).await;
        pass(&plugin, &next, "11.22.", RecordType::HINFO).await;
        state.reset();
    }
    assert!(fatal.messages().is_empty());
    // Once past 2, any in-zone HINFO query is reported (CoreDNS checks the count for each).
    for _ in 0..3 {
        pass(&plugin, &next, "11.22.", RecordType::HINFO).await;
    }
    pass(&plugin, &next, "other.", RecordType::HINFO).await;
    assert_eq!(fatal.messages().len(), 2);
}

/// A scripted probe sender for the paused clock: the outcomes in turn (then `last`
/// forever), recording when each attempt started.
struct Script {
    outcomes: Mutex<Vec<Option<bool>>>,
    last: Option<bool>,
    started: Mutex<Vec<Duration>>,
    origin: tokio::time::Instant,
}

impl Script {
    /// `Some(true)`: a reply; `Some(false)`: an error; `None`: no answer ever.
    fn new(outcomes: &[Option<bool>], last: Option<bool>) -> Arc<Script> {
        Arc::new(Script {
            outcomes: Mutex::new(outcomes.iter().rev().copied().collect()),
            last,
            started: Mutex::new(Vec::new()),
            origin: tokio::time::Instant::now(),
        })
    }

    fn sender(
        self: Arc<Self>,
        state: Arc<LoopState>,
    ) -> impl FnMut() -> std::pin::Pin<Box<dyn Future<Output = Result<(), ProbeError>> + Send>>
    {
        let script = self;
        move || {
            let script = script.clone();
            let state = state.clone();
            Box::pin(async move {
                script.started.lock().unwrap().push(script.origin.elapsed());
                // Each attempt passes through the handler twice (not yet a loop).
                let outcome = script.outcomes.lock().unwrap().pop().unwrap_or(script.last);
                assert_eq!(state.seen(), 0, "reset before each attempt");
                state.observe(&query(state.probe(), RecordType::HINFO).build());
                state.observe(&query(state.probe(), RecordType::HINFO).build());
                match outcome {
                    Some(true) => Ok(()),
                    Some(false) => Err(ProbeError::Timeout),
                    None => std::future::pending().await,
                }
            })
        }
    }

    fn started(&self) -> Vec<Duration> {
        self.started.lock().unwrap().clone()
    }
}

fn secs(list: &[u64]) -> Vec<Duration> {
    list.iter().map(|&s| Duration::from_secs(s)).collect()
}

/// Steps 2 and 4: failures are retried a second later with the counter reset; the first
/// reply disables detection at once.
#[tokio::test(start_paused = true)]
async fn failed_probes_are_retried_until_a_reply_disables_detection() {
    let fatal = Fatal::default();
    let state = state(".", "11.22.", &fatal);
    let script = Script::new(&[Some(false), Some(false), Some(false)], Some(true));
    prober::run(state.clone(), script.clone().sender(state.clone())).await;
    assert_eq!(script.started(), secs(&[0, 1, 2, 3]));
    assert_eq!(RETRY_AFTER, Duration::from_secs(1));
    assert!(state.is_disabled());
    assert_eq!(state.seen(), 2, "the successful attempt's passes stay");
    assert!(fatal.messages().is_empty());
}

/// Step 2/4: with no reply ever, attempts go on for 30 s; then detection stops.
#[tokio::test(start_paused = true)]
async fn without_a_reply_detection_stops_after_30_seconds() {
    let fatal = Fatal::default();
    let state = state(".", "11.22.", &fatal);
    let script = Script::new(&[], Some(false));
    let start = tokio::time::Instant::now();
    prober::run(state.clone(), script.clone().sender(state.clone())).await;
    assert_eq!(start.elapsed(), DETECTION_WINDOW);
    assert_eq!(
        script.started(),
        (0..30).map(Duration::from_secs).collect::<Vec<_>>()
    );
    assert!(state.is_disabled());
}

/// An attempt that never ends is cut at 30 s too.
#[tokio::test(start_paused = true)]
async fn a_probe_that_hangs_is_cut_at_30_seconds() {
    let fatal = Fatal::default();
    let state = state(".", "11.22.", &fatal);
    let script = Script::new(&[Some(false)], None);
    let start = tokio::time::Instant::now();
    let plugin: Arc<dyn Plugin> = Arc::new(Loop::new(state.clone()));
    let prober = tokio::spawn(prober::run(
        state.clone(),
        script.clone().sender(state.clone()),
    ));
    tokio::time::sleep(Duration::from_secs(29)).await;
    assert!(!state.is_disabled(), "still detecting within the 30 s");
    // A third pass now is still a loop.
    pass(&plugin, &Recorder::new(), "11.22.", RecordType::HINFO).await;
    assert_eq!(fatal.messages().len(), 1);
    prober.await.unwrap();
    assert_eq!(start.elapsed(), DETECTION_WINDOW);
    assert_eq!(script.started(), secs(&[0, 1]));
    assert!(state.is_disabled());
}

/// A UDP server on 127.0.0.1 that answers each query with `reply(query) -> rcode`, or not at
/// all for `None`, after sending `noise` (a datagram with the wrong ID) first when asked to.
async fn scripted_udp(
    reply: impl Fn(&Message) -> Option<ResponseCode> + Send + 'static,
    noise: bool,
) -> (
    SocketAddr,
    Arc<Mutex<Vec<Message>>>,
    tokio::task::JoinHandle<()>,
) {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = socket.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 65535];
        while let Ok((len, from)) = socket.recv_from(&mut buf).await {
            let Ok(query) = Message::from_vec(&buf[..len]) else {
                continue;
            };
            log.lock().unwrap().push(query.clone());
            let Some(rcode) = reply(&query) else {
                continue;
            };
            let mut answer = Message::error_msg(query.metadata.id, OpCode::Query, rcode);
            answer.add_queries(query.queries.clone());
            if noise {
                let mut wrong = answer.clone();
                wrong.metadata.id = query.metadata.id.wrapping_add(1);
                let _ = socket.send_to(&wrong.to_vec().unwrap(), from).await;
            }
            let _ = socket.send_to(&answer.to_vec().unwrap(), from).await;
        }
    });
    (addr, seen, task)
}

/// The probe is `NAME IN HINFO` with RD; any reply (here SERVFAIL) is a success.
#[tokio::test]
async fn the_probe_is_an_hinfo_query_and_any_reply_counts() {
    let (addr, seen, task) = scripted_udp(|_| Some(ResponseCode::ServFail), false).await;
    exchange(addr, "11.22.example.org.", Duration::from_secs(20))
        .await
        .unwrap();
    let queries = seen.lock().unwrap().clone();
    assert_eq!(queries.len(), 1);
    let q = &queries[0];
    assert_eq!(q.metadata.message_type, MessageType::Query);
    assert!(q.metadata.recursion_desired);
    assert_eq!(q.queries.len(), 1);
    assert_eq!(q.queries[0].name().to_string(), "11.22.example.org.");
    assert_eq!(q.queries[0].query_type(), RecordType::HINFO);
    task.abort();
}

/// A datagram with another ID is not the reply; the real one after it is.
#[tokio::test]
async fn a_reply_with_another_id_is_ignored() {
    let (addr, _, task) = scripted_udp(|_| Some(ResponseCode::NoError), true).await;
    exchange(addr, "11.22.", Duration::from_secs(20))
        .await
        .unwrap();
    task.abort();
    // Only the wrong ID: the wait ends without a reply.
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = socket.local_addr().unwrap();
    let liar = tokio::spawn(async move {
        let mut buf = vec![0u8; 512];
        while let Ok((len, from)) = socket.recv_from(&mut buf).await {
            let query = Message::from_vec(&buf[..len]).unwrap();
            let wrong = Message::response(query.metadata.id.wrapping_add(1), OpCode::Query);
            let _ = socket.send_to(&wrong.to_vec().unwrap(), from).await;
        }
    });
    assert!(matches!(
        exchange(addr, "11.22.", Duration::from_millis(200)).await,
        Err(ProbeError::Timeout)
    ));
    liar.abort();
}

/// No listener yet (before the server serves): an error, so the prober retries.
#[tokio::test]
async fn nothing_listening_is_an_error() {
    let closed = {
        let socket = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        socket.local_addr().unwrap()
    };
    assert!(matches!(
        exchange(closed, "11.22.", Duration::from_secs(20)).await,
        Err(ProbeError::Io(_))
    ));
    let (silent, _, task) = scripted_udp(|_| None, false).await;
    assert!(matches!(
        exchange(silent, "11.22.", Duration::from_millis(200)).await,
        Err(ProbeError::Timeout)
    ));
    task.abort();
}

/// Stands in for `forward` pointed at an upstream that sends everything back to us: sends
/// the query as received to `to` over UDP and answers with whatever comes back.
struct Relay {
    to: SocketAddr,
    relayed: Arc<AtomicUsize>,
}

impl Plugin for Relay {
    fn name(&self) -> &'static str {
        "relay"
    }

    fn serve<'a>(&'a self, req: &'a Request, _next: Next<'a>) -> Reply<'a> {
        self.relayed.fetch_add(1, Ordering::SeqCst);
        Reply::pending(async move {
            let relayed = async {
                let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.ok()?;
                socket.send_to(req.wire(), self.to).await.ok()?;
                let mut buf = vec![0u8; 65535];
                tokio::time::timeout(Duration::from_secs(5), socket.recv(&mut buf))
                    .await
                    .ok()?
                    .ok()
            };
            match relayed.await {
                Some(_) => Ok(Response::reply_to(req, "relay")),
                None => Err(Failure::rcode(ResponseCode::ServFail)),
            }
        })
    }
}

/// A minimal DNS server over `socket`: each datagram is decoded and served by `chain` in
/// its own task (a relayed query waits while its relay comes back in); a written reply is
/// sent as an empty answer with its rcode. Dropping the task aborts every query task.
async fn serve_udp(socket: UdpSocket, chain: Chain) {
    let socket = Arc::new(socket);
    let local = socket.local_addr().unwrap();
    let mut queries = JoinSet::new();
    let mut buf = vec![0u8; 65535];
    while let Ok((len, client)) = socket.recv_from(&mut buf).await {
        let wire = Bytes::copy_from_slice(&buf[..len]);
        let (socket, chain) = (socket.clone(), chain.clone());
        queries.spawn(async move {
            let received = std::time::Instant::now();
            let Ok(req) = Request::decode(
                wire,
                client,
                local,
                Transport::Udp,
                Arc::from("dns://:0"),
                received,
            ) else {
                return;
            };
            let rcode = match chain.serve(&req).await {
                Ok(response) => response.rcode,
                Err(failure) => failure.rcode,
            };
            let mut answer = Message::error_msg(req.id(), OpCode::Query, rcode);
            answer.add_queries(req.message().queries.clone());
            let _ = socket.send_to(&answer.to_vec().unwrap(), client).await;
        });
        while queries.try_join_next().is_some() {}
    }
}

async fn wait_until(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    condition()
}

/// The whole detection as the server wires it (setup with `bind 127.0.0.1` on the server's
/// port): the probe is relayed back into the server until its third pass is reported.
#[tokio::test]
async fn a_probe_relayed_back_to_us_is_a_loop() {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let server = socket.local_addr().unwrap();
    let fatal = Fatal::default();
    let mut t = TestBlock::new(&["."]);
    t.block.keys[0].port = server.port();
    t.block.bind_used = true;
    t.block.listen_hosts = vec!["127.0.0.1".into()];
    t.setup("loop", |s| setup_with(s, fatal.action())).unwrap();
    let relayed = Arc::new(AtomicUsize::new(0));
    let relay = Relay {
        to: server,
        relayed: relayed.clone(),
    };
    let chain = Chain::new(vec![t.block.plugins[0].clone(), Arc::new(relay)]);
    let serving = tokio::spawn(serve_udp(socket, chain));
    // Nothing is probed until the configuration serves (Setup::on_serving).
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(relayed.load(Ordering::SeqCst), 0, "probed before serving");
    assert_eq!(t.services.on_serving.len(), 1);
    for serving_hook in t.services.on_serving.drain(..) {
        serving_hook();
    }
    assert!(
        wait_until(|| !fatal.messages().is_empty()).await,
        "no loop reported"
    );
    serving.abort();
    t.services.tasks.stop().await;
    let message = &fatal.messages()[0];
    let listen = format!("127.0.0.1:{}", server.port());
    let prefix = "Loop (127.0.0.1:";
    assert!(message.starts_with(prefix), "{message}");
    let rest = &message[prefix.len()..];
    let (client_port, rest) = rest.split_once(' ').unwrap();
    client_port.parse::<u16>().unwrap();
    let after = format!(
        "-> {listen}) detected for zone \".\", see https://coredns.io/plugins/loop#troubleshooting. Query: \"HINFO "
    );
    let probe = rest
        .strip_prefix(&after)
        .unwrap()
        .strip_suffix("\"")
        .unwrap();
    assert_eq!(
        message,
        &message_for(&format!("127.0.0.1:{client_port}"), &listen, ".", probe)
    );
    assert!(relayed.load(Ordering::SeqCst) >= 2);
}

/// A well-behaved next plugin answers the probe: detection stops after the first reply with
/// one pass counted, and nothing is reported.
#[tokio::test]
async fn a_probe_answered_normally_disables_detection() {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let server = socket.local_addr().unwrap();
    let fatal = Fatal::default();
    let state = Arc::new(LoopState::new(
        ".".to_string(),
        random_name("."),
        listen_text("127.0.0.1", server.port()),
        fatal.action(),
    ));
    let next = Recorder::answering(|req| {
        Ok(Response::reply_to(req, "recorder").with_rcode(ResponseCode::NXDomain))
    });
    let chain = Chain::new(vec![Arc::new(Loop::new(state.clone())), next.clone()]);
    let serving = tokio::spawn(serve_udp(socket, chain));
    let probe = state.probe().to_string();
    prober::run(state.clone(), move || {
        let probe = probe.clone();
        async move { exchange(server, &probe, Duration::from_secs(20)).await }
    })
    .await;
    assert!(state.is_disabled());
    assert_eq!(state.seen(), 1);
    assert_eq!(next.calls(), 1);
    serving.abort();
    assert!(fatal.messages().is_empty());
}

/// The README's examples parse (the server's `readme_examples` test builds them whole).
#[test]
fn readme_examples_parse() {
    let examples = test_util::readme_examples(include_str!("../README.md"), "loop");
    for example in &examples {
        crate::parse(&mut test_util::dispenser(&example.stanza))
            .unwrap_or_else(|e| panic!("{}: {e}", example.stanza));
    }
    assert!(!examples.is_empty());
}
