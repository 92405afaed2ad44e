//! Option parsing and query tables (plugins-resolution.md §6, test cases T1–T9 of §9).

use std::net::Ipv4Addr;
use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, CNAME};
use hickory_proto::rr::{DNSClass, RData, RecordType};

use plugin::setup::Setup;
use plugin::test_util::{Recorder, StubAnswer, StubResolver, TestBlock, query, serve};
use plugin::{Dispenser, Outcome, Plugin, Request, Response, Token, Upstream};

use super::*;

/// Tokens of a one-block Corefile snippet with `"…"` quoting (the shared test dispenser does
/// not interpret quotes, and templates contain spaces).
fn quoted_dispenser(text: &str) -> Dispenser {
    let file: Arc<str> = Arc::from("Corefile");
    let mut tokens = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u32 + 1;
        let mut chars = line.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
            } else if c == '"' {
                chars.next();
                let mut word = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' if chars.peek() == Some(&'"') => {
                            word.push('"');
                            chars.next();
                        }
                        c => word.push(c),
                    }
                }
                tokens.push(Token::new(file.clone(), line_no, word));
            } else {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::new(file.clone(), line_no, word));
            }
        }
    }
    Dispenser::new(file, tokens)
}

/// Runs `setup` over `corefile` in a block for `zones`; returns the block's plugins and the
/// test block (for its metrics).
fn set_up(corefile: &str, zones: &[&str]) -> Result<TestBlock, String> {
    let mut t = TestBlock::new(zones);
    let mut s = Setup::new(quoted_dispenser(corefile), &mut t.block, &mut t.services);
    setup(&mut s).map_err(|e| e.to_string())?;
    Ok(t)
}

const ARG_ERR: &str = "Wrong argument count or unexpected line ending after";

#[test]
fn parses_like_coredns() {
    let err = |line: u32, msg: &str| format!("Corefile:{line} - Error during parsing: {msg}");
    let cases: Vec<(&str, Result<(), String>)> = vec![
        ("template", Err(err(1, &format!("{ARG_ERR} 'template'")))),
        ("template X", Err(err(1, "invalid query class X"))),
        ("template in A", Err(err(1, "invalid query class in"))),
        (
            "template CLASS3 A",
            Err(err(1, "invalid query class CLASS3")),
        ),
        ("template ANY", Err(err(1, &format!("{ARG_ERR} 'ANY'")))),
        ("template ANY X", Err(err(1, "invalid RR class X"))),
        ("template IN a", Err(err(1, "invalid RR class a"))),
        ("template IN TYPE1", Err(err(1, "invalid RR class TYPE1"))),
        // CoreDNS 1.14 dropped the "no answer section" check: an empty block is accepted.
        ("template ANY ANY {\n}", Ok(())),
        ("template IN LOC {\nrcode NXDOMAIN\n}", Ok(())),
        (
            "template ANY ANY .* {\nnotavailable\n}",
            Err(err(2, &format!("{ARG_ERR} 'notavailable'"))),
        ),
        (
            "template ANY ANY {\nanswer\n}",
            Err(err(2, &format!("{ARG_ERR} 'answer'"))),
        ),
        (
            "template ANY ANY {\nadditional\n}",
            Err(err(2, &format!("{ARG_ERR} 'additional'"))),
        ),
        (
            "template ANY ANY {\nauthority\n}",
            Err(err(2, &format!("{ARG_ERR} 'authority'"))),
        ),
        (
            "template ANY ANY {\nmatch\n}",
            Err(err(2, &format!("{ARG_ERR} 'match'"))),
        ),
        (
            "template ANY ANY {\nrcode\n}",
            Err(err(2, &format!("{ARG_ERR} 'rcode'"))),
        ),
        (
            "template ANY ANY {\nrcode UNDEFINED\n}",
            Err(err(2, "unknown rcode UNDEFINED")),
        ),
        (
            "template ANY ANY {\nrcode nxdomain\n}",
            Err(err(2, "unknown rcode nxdomain")),
        ),
        (
            "template ANY ANY {\nanswer \"{{\"\n}",
            Err(err(
                2,
                "could not compile template: {{, template: answer:1: unclosed action",
            )),
        ),
        (
            "template ANY ANY {\nauthority \"{{ .Name \"\n}",
            Err(err(
                2,
                "could not compile template: {{ .Name , template: authority:1: unclosed action",
            )),
        ),
        (
            "template ANY ANY {\nadditional \"{{ if .Name }}x{{ end }}\"\n}",
            Err(err(
                2,
                "could not compile template: {{ if .Name }}x{{ end }}, template: additional:1: {{if}} actions are not supported",
            )),
        ),
        (
            "template ANY ANY {\nanswer \"{{ foo .Name }}\"\n}",
            Err(err(
                2,
                "could not compile template: {{ foo .Name }}, template: answer:1: function \"foo\" not defined",
            )),
        ),
        (
            "template ANY ANY {\nederror\n}",
            Err(err(2, &format!("{ARG_ERR} 'ederror'"))),
        ),
        (
            "template ANY ANY {\nederror 1 a b\n}",
            Err(err(2, &format!("{ARG_ERR} 'b'"))),
        ),
        (
            "template ANY ANY {\nederror x\n}",
            Err(err(
                2,
                "error parsing extended DNS error code x, strconv.ParseUint: parsing \"x\": invalid syntax",
            )),
        ),
        (
            "template ANY ANY {\nederror 65536 \"too big\"\n}",
            Err(err(
                2,
                "error parsing extended DNS error code too big, strconv.ParseUint: parsing \"65536\": value out of range",
            )),
        ),
        (
            "template ANY ANY {\nvar x 1\n}",
            Err(err(
                2,
                "var is not supported by this build (plugins-resolution.md §6.1: post-1.14.7)",
            )),
        ),
        // Examples of CoreDNS's setup tests. An unknown field only fails when executed.
        (
            "template ANY A example.com {\nmatch ip-(?P<a>[0-9]*)-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]com\nanswer \"{{ .Name }} A {{ .Group.a }}.{{ .Group.b }}.{{ .Group.c }}.{{ .Grup.d }}.\"\nfallthrough\n}",
            Ok(()),
        ),
        (
            "template IN ANY example.com {\nmatch \"[.](example[.]com[.]dc1[.]example[.]com[.])$\"\nrcode NXDOMAIN\nauthority \"{{ index .Match 1 }} 60 IN SOA ns.{{ index .Match 1 }} hostmaster.example.com (1 60 60 60 60)\"\nfallthrough example.com\n}",
            Ok(()),
        ),
        (
            "template ANY ANY up.stream.local {\nanswer \"up.stream.local 5 IN CNAME up.river.local\"\nupstream\n}",
            Ok(()),
        ),
        ("template ANY ANY {\nederror 21 \"no\"\n}", Ok(())),
    ];
    for (corefile, want) in cases {
        let got = set_up(corefile, &["."]).map(|t| t.block.plugins.len());
        assert_eq!(got.map(|_| ()), want, "{corefile:?}");
    }
}

#[test]
fn regex_errors_name_the_pattern() {
    let err = set_up("template ANY ANY {\nmatch (\n}", &["."])
        .err()
        .unwrap();
    assert!(
        err.starts_with("Corefile:2 - Error during parsing: could not parse regex: (, "),
        "{err}"
    );
    let long = "a".repeat(MAX_REGEX_LEN + 1);
    let err = set_up(&format!("template ANY ANY {{\nmatch {long}\n}}"), &["."])
        .err()
        .unwrap();
    assert_eq!(
        err,
        "Corefile:2 - Error during parsing: regex pattern too long: 10001 > 10000"
    );
}

#[test]
fn zones_default_to_the_block_and_are_normalised() {
    let config = |corefile: &str, zones: &[&str]| {
        let block_zones = TestBlock::new(zones).block.zones();
        parse(&mut quoted_dispenser(corefile), &block_zones).unwrap()
    };
    let c = config(
        "template IN A {\nrcode NXDOMAIN\n}",
        &["example.org", "Example.NET"],
    );
    assert_eq!(c.zones, ["example.org.", "example.net."]);
    // A CIDR zone is its reverse zones (plugins-resolution.md §0.3).
    let c = config("template IN PTR 10.0.0.0/24 {\nrcode NXDOMAIN\n}", &["."]);
    assert_eq!(c.zones, ["0.0.10.in-addr.arpa."]);
    let c = config(
        "template ANY ANY \" a.Example.com  b.example.com\tc.example.com \" {\nrcode NXDOMAIN\n}\ntemplate IN A a.example.com d.example {\nrcode NXDOMAIN\n}",
        &["."],
    );
    assert_eq!(
        c.rules[0].zones,
        ["a.example.com.", "b.example.com.", "c.example.com."]
    );
    // The handler's zones are the union, without repeats.
    assert_eq!(
        c.zones,
        [
            "a.example.com.",
            "b.example.com.",
            "c.example.com.",
            "d.example."
        ]
    );
    assert_eq!(c.rules[1].class, DNSClass::IN);
    assert_eq!(c.rules[1].qtype, RecordType::A);
    assert_eq!(c.rules[0].regexes[0].as_str(), ".*");
}

/// The block's template handler, with `upstream` as the server lookups go to.
fn handler(
    corefile: &str,
    zones: &[&str],
    upstream: Option<StubResolver>,
) -> (Arc<dyn Plugin>, TestBlock) {
    let mut t = TestBlock::new(zones);
    if let Some(stub) = upstream {
        t.services.upstream = Upstream::bound(Arc::new(stub));
    }
    let mut s = Setup::new(quoted_dispenser(corefile), &mut t.block, &mut t.services);
    setup(&mut s).unwrap();
    let plugin = t.block.plugins[0].clone();
    (plugin, t)
}

/// What "forward . U1" answers in the tables: 192.0.2.53 for every A query.
fn u1() -> Arc<Recorder> {
    Recorder::answering(|req: &Request| -> Outcome {
        let mut r = Response::reply_to(req, "forward");
        if req.qtype() == RecordType::A {
            r.answers = vec![hickory_proto::rr::Record::from_rdata(
                req.qname(),
                30,
                RData::A(A(Ipv4Addr::new(192, 0, 2, 53))),
            )]
            .into();
        }
        Ok(r)
    })
}

/// The strings of the section's first TXT record.
fn txt(section: &plugin::Section) -> Vec<String> {
    match section.records().first().map(|r| &r.data) {
        Some(RData::TXT(t)) => t
            .txt_data
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect(),
        other => panic!("not a TXT record: {other:?}"),
    }
}

fn records(section: &plugin::Section) -> Vec<String> {
    section.iter().map(ToString::to_string).collect()
}

const T2: &str = "template IN A example {\nmatch \"^ip-(?P<a>[0-9]+)-(?P<b>[0-9]+)-(?P<c>[0-9]+)-(?P<d>[0-9]+)[.]example[.]$\"\nanswer \"{{ .Name }} 60 IN A {{ .Group.a }}.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}\"\n}";

#[tokio::test]
async fn t1_rcode_and_authority_soa() {
    let (plugin, _t) = handler(
        "template ANY ANY invalid {\nrcode NXDOMAIN\nauthority \"invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)\"\n}",
        &["."],
        None,
    );
    let next = u1();
    let r = serve(
        plugin,
        next.clone(),
        &query("x.invalid.", RecordType::A).build(),
    )
    .await
    .unwrap();
    assert_eq!(r.rcode, ResponseCode::NXDomain);
    assert!(r.flags.authoritative);
    assert!(r.answers.is_empty());
    assert_eq!(
        records(&r.authorities),
        ["invalid. 60 IN SOA ns.invalid. hostmaster.invalid. 1 60 60 60 60"]
    );
    assert_eq!(next.calls(), 0);
}

#[tokio::test]
async fn t2_named_groups_build_the_answer() {
    let (plugin, t) = handler(T2, &["."], None);
    let req = query("IP-10-1-2-3.example.", RecordType::A).build();
    let r = serve(plugin, u1(), &req).await.unwrap();
    assert_eq!(r.rcode, ResponseCode::NoError);
    assert!(r.flags.authoritative);
    assert!(r.flags.recursion_desired);
    assert_eq!(
        records(&r.answers),
        ["ip-10-1-2-3.example. 60 IN A 10.1.2.3"]
    );
    // The question is the request's own, as asked (the response carries none of its own).
    assert_eq!(req.qname().to_string(), "IP-10-1-2-3.example.");
    let text = t.services.metrics.encode_text().unwrap();
    assert!(
        text.contains(
            "coredns_template_matches_total{class=\"IN\",server=\"dns://:53\",type=\"A\",view=\"\",zone=\"example.\"} 1"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn t3_type_mismatch_passes_on_without_fallthrough() {
    let (plugin, _t) = handler(T2, &["."], None);
    let next = u1();
    let r = serve(
        plugin,
        next.clone(),
        &query("ip-10-1-2-3.example.", RecordType::AAAA).build(),
    )
    .await
    .unwrap();
    assert_eq!(r.plugin, "forward");
    assert_eq!(next.calls(), 1);
}

#[tokio::test]
async fn t4_regex_miss_without_fallthrough_is_servfail() {
    let (plugin, _t) = handler(T2, &["."], None);
    let next = u1();
    let failure = serve(
        plugin,
        next.clone(),
        &query("foo.example.", RecordType::A).build(),
    )
    .await
    .unwrap_err();
    assert_eq!(failure.rcode, ResponseCode::ServFail);
    assert_eq!(next.calls(), 0);
}

#[tokio::test]
async fn t5_regex_miss_with_fallthrough_goes_to_next() {
    let corefile = T2.replace("\n}", "\nfallthrough\n}");
    let (plugin, _t) = handler(&corefile, &["."], None);
    let next = u1();
    let r = serve(
        plugin,
        next.clone(),
        &query("foo.example.", RecordType::A).build(),
    )
    .await
    .unwrap();
    assert_eq!(records(&r.answers), ["foo.example. 30 IN A 192.0.2.53"]);
    assert_eq!(next.calls(), 1);
}

#[tokio::test]
async fn t6_servfail_rcode_sends_no_records() {
    let (plugin, _t) = handler(
        "template IN A x {\nrcode SERVFAIL\nanswer \"x. 60 A 1.1.1.1\"\n}",
        &["."],
        None,
    );
    let failure = serve(plugin, u1(), &query("x.", RecordType::A).build())
        .await
        .unwrap_err();
    assert_eq!(failure.rcode, ResponseCode::ServFail);
    assert!(failure.error.is_none());
}

#[tokio::test]
async fn t7_cname_is_chased_through_the_server() {
    let stub = StubResolver::nxdomain_otherwise()
        .row(
            "google.com.",
            Some(RecordType::A),
            Some(StubAnswer::records(vec![
                (300, RData::A(A(Ipv4Addr::new(142, 250, 0, 1)))),
                (300, RData::A(A(Ipv4Addr::new(142, 250, 0, 2)))),
            ])),
        )
        .row(
            "truncated.example.",
            None,
            Some(StubAnswer::records(vec![]).truncated()),
        );
    let corefile = "template IN ANY foogle.com {\nmatch \"^foogle\\.com\\.$\"\nanswer \"foogle.com 60 IN CNAME google.com\"\n}";
    let (plugin, _t) = handler(corefile, &["."], Some(stub));
    let r = serve(
        plugin.clone(),
        u1(),
        &query("foogle.com.", RecordType::A).build(),
    )
    .await
    .unwrap();
    assert_eq!(
        records(&r.answers),
        [
            "foogle.com. 60 IN CNAME google.com.",
            "google.com. 300 IN A 142.250.0.1",
            "google.com. 300 IN A 142.250.0.2",
        ]
    );
    assert!(!r.flags.truncated);
    // No lookup for other query types.
    let r = serve(plugin, u1(), &query("foogle.com.", RecordType::MX).build())
        .await
        .unwrap();
    assert_eq!(records(&r.answers), ["foogle.com. 60 IN CNAME google.com."]);

    // The lookup's TC bit is copied; a target with no answer adds nothing.
    let stub = StubResolver::otherwise(None).row(
        "truncated.example.",
        None,
        Some(StubAnswer::records(vec![]).truncated()),
    );
    let (plugin, _t) = handler(
        "template IN AAAA t.example {\nanswer \"t.example. 5 CNAME truncated.example.\" \"t.example. 5 CNAME gone.example.\"\n}",
        &["."],
        Some(stub),
    );
    let r = serve(plugin, u1(), &query("t.example.", RecordType::AAAA).build())
        .await
        .unwrap();
    assert!(r.flags.truncated);
    assert_eq!(r.answers.len(), 2);
}

#[tokio::test]
async fn t8_ederror_adds_an_opt_with_the_extended_error() {
    let (plugin, _t) = handler(
        "template IN A x {\nanswer \"x. 60 A 1.1.1.1\"\nederror 21 \"no\"\n}",
        &["."],
        None,
    );
    let r = serve(
        plugin,
        u1(),
        &query("x.", RecordType::A).edns(1232, false).build(),
    )
    .await
    .unwrap();
    let edns = r.edns.expect("an OPT with the EDE");
    assert_eq!(edns.max_payload(), 4096);
    assert!(edns.flags().dnssec_ok);
    let option = edns
        .options()
        .get(hickory_proto::rr::rdata::opt::EdnsCode::Unknown(15))
        .expect("EDE option");
    assert_eq!(
        *option,
        hickory_proto::rr::rdata::opt::EdnsOption::Unknown(15, vec![0, 21, b'n', b'o'])
    );
    assert_eq!(records(&r.answers), ["x. 60 IN A 1.1.1.1"]);
}

#[tokio::test]
async fn t9_ttl_defaults_to_3600() {
    let (plugin, _t) = handler(
        "template IN A x {\nanswer \"x. A 1.1.1.1\"\n}",
        &["."],
        None,
    );
    let r = serve(plugin, u1(), &query("x.", RecordType::A).build())
        .await
        .unwrap();
    assert_eq!(records(&r.answers), ["x. 3600 IN A 1.1.1.1"]);
}

#[tokio::test]
async fn names_outside_the_zones_and_class_mismatches_go_to_next() {
    let (plugin, _t) = handler(T2, &["."], None);
    let next = u1();
    let r = serve(
        plugin.clone(),
        next.clone(),
        &query("ip-1-2-3-4.other.", RecordType::A).build(),
    )
    .await
    .unwrap();
    assert_eq!(r.plugin, "forward");
    // Templates are tried in order: the first one's zone does not hold the name, the second's does.
    let (plugin, _t) = handler(
        "template IN A a.example {\nanswer \"{{ .Name }} 1 A 10.0.0.1\"\n}\ntemplate IN A b.example {\nanswer \"{{ .Name }} 2 A 10.0.0.2\"\n}",
        &["."],
        None,
    );
    let r = serve(plugin, next, &query("x.b.example.", RecordType::A).build())
        .await
        .unwrap();
    assert_eq!(records(&r.answers), ["x.b.example. 2 IN A 10.0.0.2"]);
}

#[tokio::test]
async fn an_any_query_sees_the_templates_class_and_type() {
    let (plugin, _t) = handler(
        "template IN TXT example {\nanswer \"{{ .Name }} 60 {{ .Class }} TXT \\\"{{ .Type }}\\\" \\\"{{ .Zone }}\\\" \\\"{{ .Remote }}\\\" \\\"{{ index .Match 0 }}\\\"\"\nadditional \"{{ .Name }} 60 IN TXT \\\"{{ .Question.Name }}\\\" \\\"{{ .Message.Id }}\\\" \\\"{{ parseInt \\\"0x1f\\\" 0 16 }}\\\" \\\"{{ .Meta \\\"x\\\" }}\\\"\"\n}",
        &["."],
        None,
    );
    let r = serve(
        plugin,
        u1(),
        &query("Ab.Example.", RecordType::ANY).id(7).build(),
    )
    .await
    .unwrap();
    assert_eq!(
        txt(&r.answers),
        ["TXT", "example.", "10.240.0.1", "ab.example."]
    );
    assert_eq!(r.answers.records()[0].name.to_string(), "ab.example.");
    assert_eq!(txt(&r.additionals), ["Ab.Example.", "7", "31", ""]);
}

#[tokio::test]
async fn render_and_rr_failures_are_servfail_with_metrics() {
    let (plugin, t) = handler(
        "template IN A bad {\nanswer \"{{ .Grup.d }}\"\n}\ntemplate IN A worse {\nanswer \"{{ .Name }} 60 IN A 300.1.1.1\"\n}\ntemplate IN A loc {\nanswer \"{{ .Name }} LOC 1 2 3\"\n}",
        &["."],
        None,
    );
    for name in ["x.bad.", "x.worse.", "x.loc."] {
        let failure = serve(plugin.clone(), u1(), &query(name, RecordType::A).build())
            .await
            .unwrap_err();
        assert_eq!(failure.rcode, ResponseCode::ServFail, "{name}");
        assert!(failure.error.is_some(), "{name}");
    }
    let text = t.services.metrics.encode_text().unwrap();
    assert!(
        text.contains("coredns_template_template_failures_total{class=\"IN\",section=\"answer\",server=\"dns://:53\",template=\"{{.Grup.d}}\",type=\"A\",view=\"\",zone=\"bad.\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("coredns_template_rr_failures_total{class=\"IN\",section=\"answer\",server=\"dns://:53\",template=\"{{.Name}} 60 IN A 300.1.1.1\",type=\"A\",view=\"\",zone=\"worse.\"} 1"),
        "{text}"
    );
    assert!(text.contains("zone=\"loc.\"} 1"), "{text}");
}

#[tokio::test]
async fn no_next_plugin_after_skipped_templates_is_servfail() {
    let (plugin, _t) = handler(T2, &["."], None);
    let chain = plugin::Chain::new(vec![plugin]);
    let failure = chain
        .serve(&query("ip-1-2-3-4.example.", RecordType::MX).build())
        .await
        .unwrap_err();
    assert_eq!(failure.rcode, ResponseCode::ServFail);
}

#[test]
fn cname_rdata_parses_relative_targets_as_absolute() {
    let r = parse_rr("a 5 IN CNAME b").unwrap();
    assert_eq!(
        r.data,
        RData::CNAME(CNAME(hickory_proto::rr::Name::from_ascii("b.").unwrap()))
    );
}

/// Every `~~~ corefile` example of the README: its `template` lines set up in a block with
/// the example's zone (the server's own test runs the whole Corefiles).
#[test]
fn readme_examples_set_up() {
    let readme = include_str!("../README.md");
    let mut examples = 0;
    for rest in readme.split("~~~ corefile\n").skip(1) {
        let block = rest.split("~~~").next().unwrap_or_default();
        let mut lines = block.lines();
        let zone = lines
            .next()
            .and_then(|l| l.split_whitespace().next())
            .expect("a server block key");
        let mut snippet = String::new();
        let mut depth = 0;
        for line in lines {
            let trimmed = line.trim();
            if depth == 0 && !trimmed.starts_with("template") {
                continue;
            }
            depth += trimmed.matches('{').count() as i32 - trimmed.matches('}').count() as i32;
            snippet.push_str(trimmed);
            snippet.push('\n');
        }
        assert!(!snippet.is_empty(), "{block}");
        let t = set_up(&snippet, &[zone]).unwrap_or_else(|e| panic!("{e}\n{snippet}"));
        assert_eq!(t.block.plugins.len(), 1);
        examples += 1;
    }
    assert_eq!(examples, 6);
}

#[tokio::test]
async fn readme_reverse_example_answers() {
    let (plugin, _t) = handler(
        "template IN PTR {\nmatch \"^(?P<d>[0-9]+)[.](?P<c>[0-9]+)[.](?P<b>[0-9]+)[.]10[.]in-addr[.]arpa[.]$\"\nanswer \"{{ .Name }} 60 IN PTR ip-10-{{ .Group.b }}-{{ .Group.c }}-{{ .Group.d }}.example.\"\n}",
        &["10.in-addr.arpa"],
        None,
    );
    let r = serve(
        plugin,
        u1(),
        &query("3.2.1.10.in-addr.arpa.", RecordType::PTR).build(),
    )
    .await
    .unwrap();
    assert_eq!(
        records(&r.answers),
        ["3.2.1.10.in-addr.arpa. 60 IN PTR ip-10-1-2-3.example."]
    );
}
