//! loadbalance: option parsing, the contract's cases L1–L5 (plugins-resolution.md §9) with a
//! scripted next plugin standing in for `forward`, weight file reloads, README examples.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use plugin::test_util::{self, Recorder, TestBlock, query};
use plugin::{Plugin, Request, Response, Section};

use crate::cidr::Cidr;
use crate::loader::Loader;
use crate::{DEFAULT_RELOAD, Policy, parse, setup};

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn a(owner: &str, address: &str) -> Record {
    Record::from_rdata(name(owner), 300, RData::A(A(address.parse().unwrap())))
}

fn aaaa(owner: &str, address: &str) -> Record {
    Record::from_rdata(
        name(owner),
        300,
        RData::AAAA(AAAA(address.parse().unwrap())),
    )
}

fn cname(owner: &str, target: &str) -> Record {
    Record::from_rdata(name(owner), 300, RData::CNAME(CNAME(name(target))))
}

fn mx(owner: &str, preference: u16, exchange: &str) -> Record {
    Record::from_rdata(
        name(owner),
        300,
        RData::MX(MX::new(preference, name(exchange))),
    )
}

fn txt(owner: &str, text: &str) -> Record {
    Record::from_rdata(
        name(owner),
        300,
        RData::TXT(TXT::new(vec![text.to_string()])),
    )
}

fn ns(owner: &str, target: &str) -> Record {
    Record::from_rdata(name(owner), 300, RData::NS(NS(name(target))))
}

fn soa(owner: &str) -> Record {
    Record::from_rdata(
        name(owner),
        300,
        RData::SOA(SOA::new(
            name("ns.example."),
            name("admin.example."),
            1,
            7200,
            1800,
            86400,
            30,
        )),
    )
}

/// A record in one short word: `A 10.0.0.1`, `MX mx1.example.`, `CNAME x.`.
fn describe(record: &Record) -> String {
    match &record.data {
        RData::A(a) => format!("A {}", a.0),
        RData::AAAA(aaaa) => format!("AAAA {}", aaaa.0),
        RData::CNAME(c) => format!("CNAME {}", c.0),
        RData::MX(m) => format!("MX {}", m.exchange),
        RData::TXT(_) => "TXT".to_string(),
        RData::NS(n) => format!("NS {}", n.0),
        RData::SOA(_) => "SOA".to_string(),
        other => format!("{:?}", other.record_type()),
    }
}

fn shown(section: &Section) -> Vec<String> {
    section.iter().map(describe).collect()
}

/// The next plugin: a reply with these sections (shared, never rebuilt) and rcode.
fn upstream(
    rcode: ResponseCode,
    answers: Vec<Record>,
    authorities: Vec<Record>,
    additionals: Vec<Record>,
) -> Arc<Recorder> {
    let (answers, authorities, additionals) = (
        Section::from(answers),
        Section::from(authorities),
        Section::from(additionals),
    );
    Recorder::answering(move |req: &Request| {
        let mut response = Response::reply_to(req, "recorder").with_rcode(rcode);
        response.answers = answers.clone();
        response.authorities = authorities.clone();
        response.additionals = additionals.clone();
        Ok(response)
    })
}

fn answering(answers: Vec<Record>) -> Arc<Recorder> {
    upstream(ResponseCode::NoError, answers, Vec::new(), Vec::new())
}

/// Sets up `corefile` in a fresh `.` block and returns the plugin it added.
fn build(corefile: &str) -> Arc<dyn Plugin> {
    let mut t = TestBlock::new(&["."]);
    t.setup(corefile, setup)
        .unwrap_or_else(|e| panic!("{corefile}: {e}"));
    assert_eq!(t.block.plugins.len(), 1);
    t.block.plugins[0].clone()
}

async fn ask(plugin: &Arc<dyn Plugin>, next: &Arc<Recorder>, req: &Request) -> Response {
    test_util::serve(plugin.clone(), next.clone(), req)
        .await
        .expect("a written reply")
}

/// A fresh path in the temp directory (the file is not created).
fn temp_path() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "clusterdns-loadbalance-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ))
}

struct TempFile(PathBuf);

impl TempFile {
    fn new(content: &str) -> TempFile {
        let path = temp_path();
        std::fs::write(&path, content).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn cidrs(texts: &[&str]) -> Vec<Cidr> {
    texts.iter().map(|t| Cidr::parse(t).unwrap()).collect()
}

#[test]
fn options_parse_like_coredns() {
    let round_robin = |prefer: &[&str]| Policy::RoundRobin {
        prefer: cidrs(prefer),
    };
    let weighted = |file: &str, reload: Duration| Policy::Weighted {
        file: PathBuf::from(file),
        reload,
    };
    let err = |line: u32, msg: &str| Err(format!("Corefile:{line} - Error during parsing: {msg}"));
    let cases: Vec<(&str, Result<Policy, String>)> = vec![
        ("loadbalance", Ok(round_robin(&[]))),
        ("loadbalance round_robin", Ok(round_robin(&[]))),
        (
            "loadbalance round_robin {\nprefer 10.9.20.0/24 2001:db8::/32\n}",
            Ok(round_robin(&["10.9.20.0/24", "2001:db8::/32"])),
        ),
        (
            "loadbalance {\nprefer 10.0.0.0/8\nprefer 192.168.0.0/16\n}",
            Ok(round_robin(&["10.0.0.0/8", "192.168.0.0/16"])),
        ),
        ("loadbalance {\nprefer\n}", Ok(round_robin(&[]))),
        (
            "loadbalance weighted /etc/w",
            Ok(weighted("/etc/w", DEFAULT_RELOAD)),
        ),
        (
            "loadbalance weighted /etc/w {\nreload 10s\n}",
            Ok(weighted("/etc/w", Duration::from_secs(10))),
        ),
        (
            "loadbalance weighted w {\nreload 0\n}",
            Ok(weighted("w", Duration::ZERO)),
        ),
        (
            "loadbalance weighted w {\nreload 1m30s\nreload 5s\n}",
            Ok(weighted("w", Duration::from_secs(5))),
        ),
        // Several lines: later ones win; prefer networks of round_robin lines add up.
        (
            "loadbalance weighted /etc/w\nloadbalance",
            Ok(round_robin(&[])),
        ),
        (
            "loadbalance round_robin {\nprefer 10.0.0.0/8\n}\nloadbalance weighted /etc/w",
            Ok(weighted("/etc/w", DEFAULT_RELOAD)),
        ),
        (
            "loadbalance {\nprefer 10.0.0.0/8\n}\nloadbalance round_robin {\nprefer 10.1.0.0/16\n}",
            Ok(round_robin(&["10.0.0.0/8", "10.1.0.0/16"])),
        ),
        (
            "loadbalance fancy",
            Err("unknown policy: fancy".to_string()),
        ),
        (
            "loadbalance round_robin extra",
            err(1, "unknown property for round_robin"),
        ),
        (
            "loadbalance weighted",
            err(1, "missing weight file argument"),
        ),
        ("loadbalance weighted a b", err(1, "unexpected argument(s)")),
        (
            "loadbalance weighted w {\nprefer 10.0.0.0/8\n}",
            err(2, "unknown property 'prefer'"),
        ),
        (
            "loadbalance weighted w {\nreload\n}",
            err(2, "reload duration value is missing"),
        ),
        (
            "loadbalance weighted w {\nreload 1s 2s\n}",
            err(2, "unexpected argument"),
        ),
        (
            "loadbalance weighted w {\nreload soon\n}",
            err(2, "invalid reload duration 'soon'"),
        ),
        (
            "loadbalance weighted w {\nreload -1s\n}",
            err(2, "invalid reload duration '-1s'"),
        ),
        (
            "loadbalance {\nreload 5s\n}",
            err(2, "unknown property 'reload'"),
        ),
        (
            "loadbalance round_robin {\nprefer 10.0.0.0/33\n}",
            err(
                2,
                "invalid CIDR \"10.0.0.0/33\": invalid CIDR address: 10.0.0.0/33",
            ),
        ),
        (
            "loadbalance {\nprefer 10.0.0.0/8 nonsense\n}",
            err(
                2,
                "invalid CIDR \"nonsense\": invalid CIDR address: nonsense",
            ),
        ),
        (
            "loadbalance {\nfallthrough\n}",
            err(2, "unknown property 'fallthrough'"),
        ),
    ];
    for (corefile, want) in cases {
        let got = parse(&mut test_util::dispenser(corefile)).map_err(|e| e.to_string());
        assert_eq!(got, want, "{corefile:?}");
    }
}

#[test]
fn setup_adds_one_handler_or_fails() {
    let weights = TempFile::new("www.example.com\n100.64.1.1 3\n");
    let bad = TempFile::new("www.example.com\n100.64.1.1 0\n");
    let missing = temp_path();
    let directory = std::env::temp_dir();
    let cases = [
        ("loadbalance".to_string(), Ok(())),
        (
            format!("loadbalance weighted {}", weights.path().display()),
            Ok(()),
        ),
        // §5.4: an unreadable file at startup is only a warning while a reload can fix it...
        (
            format!("loadbalance weighted {}", missing.display()),
            Ok(()),
        ),
        // ...and an error when nothing will read it again.
        (
            format!(
                "loadbalance weighted {} {{\nreload 0\n}}",
                missing.display()
            ),
            Err("weight file open error".to_string()),
        ),
        // A parse error is fatal at startup whatever `reload` says.
        (
            format!("loadbalance weighted {}", bad.path().display()),
            Err(format!(
                "wrong weight value:\"0\" in weight file {}",
                bad.path().display()
            )),
        ),
        (
            format!("loadbalance weighted {}", directory.display()),
            Err(format!("read {}: is a directory", directory.display())),
        ),
        (
            "loadbalance nope".to_string(),
            Err("unknown policy: nope".to_string()),
        ),
    ];
    for (corefile, want) in cases {
        let want = want.as_ref().map(|_| ()).map_err(String::as_str);
        test_util::check_chain_setup(&[(corefile.as_str(), want)], setup);
    }
}

/// L1: every address comes first in about a quarter of the replies. 4000 replies and
/// 15–35 % bounds: a uniform shuffle leaves them with probability below 1e-40.
#[tokio::test]
async fn l1_four_addresses_each_come_first_a_quarter_of_the_time() {
    let plugin = build("loadbalance");
    let addresses = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"];
    let next = answering(addresses.iter().map(|ip| a("svc.example.", ip)).collect());
    let req = query("svc.example.", RecordType::A).build();
    let mut first = [0usize; 4];
    let replies = 4000;
    for _ in 0..replies {
        let reply = ask(&plugin, &next, &req).await;
        let mut seen = shown(&reply.answers);
        let at = addresses
            .iter()
            .position(|ip| seen[0] == format!("A {ip}"))
            .unwrap();
        first[at] += 1;
        seen.sort();
        assert_eq!(seen, addresses.map(|ip| format!("A {ip}")), "a permutation");
    }
    for (address, count) in addresses.iter().zip(first) {
        let share = count as f64 / replies as f64;
        assert!((0.15..=0.35).contains(&share), "{address}: {share}");
    }
}

/// L2: CNAME first, then the other types, then the A set (shuffled), then MX (shuffled).
#[tokio::test]
async fn l2_a_mixed_answer_is_regrouped() {
    let plugin = build("loadbalance");
    let next = answering(vec![
        mx("www.example.", 10, "mx1.example."),
        a("x.", "10.0.0.1"),
        txt("x.", "hello"),
        a("x.", "10.0.0.2"),
        cname("www.example.", "x."),
        mx("www.example.", 20, "mx2.example."),
        a("x.", "10.0.0.3"),
    ]);
    let req = query("www.example.", RecordType::A).build();
    let mut a_orders = std::collections::HashSet::new();
    let mut mx_orders = std::collections::HashSet::new();
    for _ in 0..600 {
        let got = shown(&ask(&plugin, &next, &req).await.answers);
        assert_eq!(got[..2], ["CNAME x.", "TXT"]);
        let mut a_set = got[2..5].to_vec();
        a_orders.insert(a_set.clone());
        a_set.sort();
        assert_eq!(a_set, ["A 10.0.0.1", "A 10.0.0.2", "A 10.0.0.3"]);
        let mut mx_set = got[5..].to_vec();
        mx_orders.insert(mx_set.clone());
        mx_set.sort();
        assert_eq!(mx_set, ["MX mx1.example.", "MX mx2.example."]);
    }
    // Shuffled, not only regrouped: every order shows up (each has p = 1/6 or 1/2 per reply).
    assert_eq!(a_orders.len(), 6);
    assert_eq!(mx_orders.len(), 2);
}

/// L3 and §5.1: replies other than NOERROR, and zone transfers, keep their order.
#[tokio::test]
async fn l3_other_rcodes_and_transfers_are_untouched() {
    let plugin = build("loadbalance");
    let addresses = || {
        (1..=4)
            .map(|i| a("x.example.", &format!("10.0.0.{i}")))
            .collect::<Vec<_>>()
    };
    let nxdomain = upstream(
        ResponseCode::NXDomain,
        addresses(),
        vec![
            soa("example."),
            ns("example.", "ns1.example."),
            ns("example.", "ns2.example."),
        ],
        addresses(),
    );
    let servfail = upstream(ResponseCode::ServFail, addresses(), vec![], vec![]);
    let noerror = upstream(ResponseCode::NoError, addresses(), vec![], addresses());
    let a_query = query("x.example.", RecordType::A).build();
    let cases = [
        (&nxdomain, &a_query),
        (&servfail, &a_query),
        (&noerror, &query("example.", RecordType::AXFR).tcp().build()),
        (&noerror, &query("example.", RecordType::IXFR).tcp().build()),
    ];
    for (next, req) in cases {
        for _ in 0..50 {
            let reply = ask(&plugin, next, req).await;
            for section in [&reply.answers, &reply.authorities, &reply.additionals] {
                assert!(section.order().eq(0..section.len()), "{:?}", req.qtype());
            }
        }
    }
}

/// §5.2: the authority and additional sections are shuffled too, each on its own.
#[tokio::test]
async fn every_section_is_shuffled_separately() {
    let plugin = build("loadbalance");
    let next = upstream(
        ResponseCode::NoError,
        vec![a("x.", "10.0.0.1")],
        vec![
            ns("example.", "ns1.example."),
            aaaa("ns1.example.", "2001:db8::1"),
            soa("example."),
            aaaa("ns1.example.", "2001:db8::2"),
        ],
        vec![
            aaaa("ns1.example.", "2001:db8::1"),
            aaaa("ns1.example.", "2001:db8::2"),
            aaaa("ns1.example.", "2001:db8::3"),
        ],
    );
    let req = query("x.", RecordType::A).build();
    let mut additional_firsts = std::collections::HashSet::new();
    for _ in 0..300 {
        let reply = ask(&plugin, &next, &req).await;
        assert_eq!(shown(&reply.answers), ["A 10.0.0.1"]);
        let authority = shown(&reply.authorities);
        assert_eq!(authority[..2], ["NS ns1.example.", "SOA"]);
        additional_firsts.insert(shown(&reply.additionals)[0].clone());
    }
    assert_eq!(additional_firsts.len(), 3);
}

/// Reordering shares the records the next plugin produced: no record is copied.
#[tokio::test]
async fn records_are_reordered_without_copying() {
    let plugin = build("loadbalance");
    let section = Section::from(vec![
        a("x.", "10.0.0.1"),
        a("x.", "10.0.0.2"),
        a("x.", "10.0.0.3"),
    ]);
    let stored = section.records().as_ptr();
    let shared = section.clone();
    let next = Recorder::answering(move |req: &Request| {
        let mut response = Response::reply_to(req, "recorder");
        response.answers = shared.clone();
        Ok(response)
    });
    let req = query("x.", RecordType::A).build();
    let mut reordered = false;
    for _ in 0..50 {
        let reply = ask(&plugin, &next, &req).await;
        assert_eq!(reply.answers.records().as_ptr(), stored);
        reordered |= !reply.answers.order().eq(0..3);
    }
    assert!(reordered);
}

/// L4: the address in the preferred network always comes first.
#[tokio::test]
async fn l4_preferred_network_first() {
    let plugin = build("loadbalance round_robin {\nprefer 10.9.20.0/24\n}");
    let next = answering(vec![
        a("x.", "10.0.0.1"),
        a("x.", "10.9.20.5"),
        a("x.", "192.168.1.1"),
    ]);
    let req = query("x.", RecordType::A).build();
    let mut seconds = std::collections::HashSet::new();
    for _ in 0..50 {
        let got = shown(&ask(&plugin, &next, &req).await.answers);
        assert_eq!(got[0], "A 10.9.20.5");
        seconds.insert(got[1].clone());
    }
    // The rest keep the shuffle.
    assert_eq!(seconds.len(), 2);
}

/// §5.3: CNAMEs, the networks in the order listed, other addresses, MX, then other types.
#[tokio::test]
async fn prefer_orders_groups_by_network_then_mx_then_other_types() {
    let plugin = build("loadbalance {\nprefer 192.168.0.0/16 2001:db8::/32 10.0.0.0/8\n}");
    let next = answering(vec![
        txt("x.", "t"),
        a("x.", "10.1.1.1"),
        mx("x.", 5, "mx.example."),
        aaaa("x.", "2001:db8::7"),
        a("x.", "172.16.0.1"),
        cname("www.", "x."),
        a("x.", "192.168.3.3"),
    ]);
    let req = query("www.", RecordType::A).build();
    for _ in 0..20 {
        assert_eq!(
            shown(&ask(&plugin, &next, &req).await.answers),
            [
                "CNAME x.",
                "A 192.168.3.3",
                "AAAA 2001:db8::7",
                "A 10.1.1.1",
                "A 172.16.0.1",
                "MX mx.example.",
                "TXT",
            ]
        );
    }
}

/// L5: weights 3 and 1 put the first address first in about 75 % of the replies. 4000
/// replies and 65–85 % bounds: more than 14 standard deviations, never crossed by chance.
#[tokio::test]
async fn l5_weighted_first_address_in_proportion_to_its_weight() {
    let file = TempFile::new("www.example.com\n100.64.1.1 3\n100.64.1.2 1\n");
    let plugin = build(&format!("loadbalance weighted {}", file.path().display()));
    let next = answering(vec![
        a("www.example.com.", "100.64.1.2"),
        a("www.example.com.", "100.64.1.1"),
    ]);
    let req = query("www.example.com.", RecordType::A).build();
    let replies = 4000;
    let mut heavy_first = 0;
    for _ in 0..replies {
        let got = shown(&ask(&plugin, &next, &req).await.answers);
        assert_eq!(got.len(), 2);
        heavy_first += usize::from(got[0] == "A 100.64.1.1");
    }
    let share = heavy_first as f64 / replies as f64;
    assert!((0.65..=0.85).contains(&share), "{share}");
}

/// §5.4: weighted regroups (CNAME, others, addresses, MX), moves one address to the front
/// and leaves the other addresses in their order; only for A, AAAA and SRV questions.
#[tokio::test]
async fn weighted_regroups_and_swaps_one_address() {
    let file = TempFile::new("x.\n10.0.0.3 255\n");
    let plugin = build(&format!("loadbalance weighted {}", file.path().display()));
    let records = vec![
        mx("www.", 5, "mx.example."),
        a("x.", "10.0.0.1"),
        txt("x.", "t"),
        a("x.", "10.0.0.2"),
        cname("www.", "x."),
        a("x.", "10.0.0.3"),
    ];
    let next = answering(records.clone());
    let req = query("www.", RecordType::A).build();
    let mut orders = std::collections::HashSet::new();
    for _ in 0..400 {
        let got = shown(&ask(&plugin, &next, &req).await.answers);
        assert_eq!(got[..2], ["CNAME x.", "TXT"]);
        assert_eq!(got[5], "MX mx.example.");
        orders.insert(got[2..5].to_vec());
    }
    // A swap with the first address: the three possible outcomes, never another order.
    let expected: std::collections::HashSet<Vec<String>> = [
        ["A 10.0.0.1", "A 10.0.0.2", "A 10.0.0.3"],
        ["A 10.0.0.2", "A 10.0.0.1", "A 10.0.0.3"],
        ["A 10.0.0.3", "A 10.0.0.2", "A 10.0.0.1"],
    ]
    .iter()
    .map(|o| o.iter().map(|s| s.to_string()).collect())
    .collect();
    assert!(orders.is_subset(&expected), "{orders:?}");
    assert!(orders.iter().any(|o| o[0] == "A 10.0.0.3"));

    // Other question types keep the order they came with.
    let mx_req = query("www.", RecordType::MX).build();
    for _ in 0..20 {
        let reply = ask(&plugin, &next, &mx_req).await;
        assert!(reply.answers.order().eq(0..records.len()));
    }
}

/// A listed name with another case is another name (CoreDNS compares strings).
#[tokio::test]
async fn weighted_owner_names_compare_case_sensitively() {
    let file = TempFile::new("WWW.example.com\n100.64.1.1 255\n");
    let plugin = build(&format!("loadbalance weighted {}", file.path().display()));
    let answers = |owner: &str| answering(vec![a(owner, "100.64.1.2"), a(owner, "100.64.1.1")]);
    let (listed, other_case) = (answers("WWW.example.com."), answers("www.example.com."));
    let req = query("www.example.com.", RecordType::A).build();
    let (mut listed_heavy, mut other_heavy) = (0, 0);
    for _ in 0..400 {
        listed_heavy +=
            usize::from(shown(&ask(&plugin, &listed, &req).await.answers)[0] == "A 100.64.1.1");
        other_heavy +=
            usize::from(shown(&ask(&plugin, &other_case, &req).await.answers)[0] == "A 100.64.1.1");
    }
    // 255:1 against 1:1 — far apart (expected 398 and 200 of 400).
    assert!(listed_heavy > 360, "{listed_heavy}");
    assert!((120..280).contains(&other_heavy), "{other_heavy}");
}

async fn wait_for_weight(
    table: &arc_swap::ArcSwap<crate::WeightTable>,
    owner: &Name,
    address: IpAddr,
    want: u8,
) {
    for _ in 0..400 {
        if table.load().weight(owner, address) == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("weight of {address} never became {want}");
}

/// §5.4: reloads follow content changes; a file that breaks or disappears keeps the weights
/// in use; a file missing at startup is picked up once it appears.
#[tokio::test]
async fn weights_reload_when_the_content_changes() {
    let path = temp_path();
    let mut loader = Loader::new(path.clone());
    let table = loader.table();
    assert_eq!(loader.read_blocking(), Err(crate::WeightFileError::Open));

    std::fs::write(&path, "www.example.com\n100.64.1.1 3\n").unwrap();
    let owner = name("www.example.com.");
    let ip: IpAddr = "100.64.1.1".parse().unwrap();
    assert_eq!(loader.read().await, Ok(true));
    assert_eq!(table.load().weight(&owner, ip), 3);
    // Same content (rewritten): nothing to do.
    std::fs::write(&path, "www.example.com\n100.64.1.1 3\n").unwrap();
    assert_eq!(loader.read().await, Ok(false));

    let tasks = plugin::tasks::Tasks::new();
    tasks.spawn(loader.run(Duration::from_millis(10)));
    std::fs::write(&path, "www.example.com\n100.64.1.1 7\n").unwrap();
    wait_for_weight(&table, &owner, ip, 7).await;

    // A parse error on reload: logged, old weights kept; then a good file again.
    std::fs::write(&path, "100.64.1.1 9\n").unwrap();
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(table.load().weight(&owner, ip), 7);
    }
    std::fs::remove_file(&path).unwrap();
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(table.load().weight(&owner, ip), 7);
    }
    std::fs::write(&path, "www.example.com\n100.64.1.1 11\n").unwrap();
    wait_for_weight(&table, &owner, ip, 11).await;
    tasks.stop().await;
    let _ = std::fs::remove_file(&path);
}

/// The parse errors of a reload are the startup ones; a bad file is parsed (and reported)
/// once, not at every interval.
#[tokio::test]
async fn a_bad_file_is_reported_once_per_change() {
    let file = TempFile::new("10.0.0.1 5\n");
    let mut loader = Loader::new(file.path().to_path_buf());
    let want = Err(crate::WeightFileError::MissingDomain {
        file: file.path().display().to_string(),
    });
    assert_eq!(loader.read().await, want);
    assert_eq!(loader.read().await, Ok(false));
}

/// Started through setup with a missing file and a short reload, the plugin uses the file
/// once it appears.
#[tokio::test]
async fn setup_reload_task_picks_up_a_file_that_appears_later() {
    let path = temp_path();
    let mut t = TestBlock::new(&["."]);
    t.setup(
        &format!(
            "loadbalance weighted {} {{\nreload 10ms\n}}",
            path.display()
        ),
        setup,
    )
    .unwrap();
    let plugin = t.block.plugins[0].clone();
    let next = answering(vec![a("x.", "10.0.0.1"), a("x.", "10.0.0.2")]);
    let req = query("x.", RecordType::A).build();
    std::fs::write(&path, "x.\n10.0.0.2 255\n").unwrap();
    // Once the weights are in, 10.0.0.2 leads 255 times in 256: wait for 30 leads in a row
    // (chance before the weights: 1 in 2^30).
    let mut streak = 0;
    for _ in 0..4000 {
        let got = shown(&ask(&plugin, &next, &req).await.answers);
        streak = if got[0] == "A 10.0.0.2" {
            streak + 1
        } else {
            0
        };
        if streak == 30 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(streak, 30);
    t.services.tasks.stop().await;
    let _ = std::fs::remove_file(&path);
}

/// The README's examples parse (the server's `readme_examples` test builds them whole).
#[test]
fn readme_examples_parse() {
    let examples = test_util::readme_examples(include_str!("../README.md"), "loadbalance");
    for example in &examples {
        parse(&mut test_util::dispenser(&example.stanza))
            .unwrap_or_else(|e| panic!("{}: {e}", example.stanza));
    }
    assert!(examples.len() >= 3, "{}", examples.len());
}
