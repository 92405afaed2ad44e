//! The handler: one line per query, for the first rule whose name covers the query.

use std::borrow::Cow;
use std::time::Instant;

use plugin::classify::classify;
use plugin::zones::is_subdomain;
use plugin::{Next, Outcome, Plugin, Reply, Request, Response};

use crate::Rule;
use crate::class::ClassSet;
use crate::format::{Entry, Format};
use crate::output::LineSink;

/// A rule ready for queries: name lower-cased for matching, format compiled.
#[derive(Debug)]
struct CompiledRule {
    zone: String,
    format: Format,
    classes: ClassSet,
}

pub struct Log<S> {
    rules: Vec<CompiledRule>,
    sink: S,
}

impl<S: LineSink> Log<S> {
    pub fn new(rules: &[Rule], sink: S) -> Self {
        Log {
            rules: rules
                .iter()
                .map(|rule| CompiledRule {
                    // Matching is case-insensitive; the name itself is kept as written.
                    zone: rule.name.to_ascii_lowercase(),
                    format: Format::compile(&rule.format),
                    classes: rule.classes,
                })
                .collect(),
            sink,
        }
    }

    /// Writes the line for `outcome` if its class is one the rule logs.
    fn record(&self, rule: &CompiledRule, req: &Request, outcome: &Outcome, received: Instant) {
        let elapsed = received.elapsed();
        let written = written_reply(req, outcome);
        let reply_type = classify(req, written.as_deref());
        if !rule.classes.contains(reply_type.class()) {
            return;
        }
        let entry = Entry {
            req,
            reply: written.as_deref(),
            reply_type,
            elapsed,
        };
        self.sink
            .write(format_args!("{}", rule.format.render(&entry)));
    }
}

/// The reply the client gets: the one written, or the empty one the server core writes for
/// SERVFAIL, REFUSED, FORMERR and NOTIMP failures (corefile.md §7.2 step 10); None when
/// nothing is written at all.
fn written_reply<'r>(req: &Request, outcome: &'r Outcome) -> Option<Cow<'r, Response>> {
    match outcome {
        Ok(resp) => Some(Cow::Borrowed(resp)),
        Err(failure) if failure.core_writes_reply() => {
            Some(Cow::Owned(Response::error_to(req, failure.rcode)))
        }
        Err(_) => None,
    }
}

impl<S: LineSink> Plugin for Log<S> {
    fn name(&self) -> &'static str {
        crate::NAME
    }

    /// Only the first rule covering the name is consulted: a later, broader rule never logs a
    /// query an earlier rule filtered out by class (CoreDNS behaviour).
    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        let Some(rule) = self
            .rules
            .iter()
            .find(|rule| is_subdomain(&rule.zone, req.qname_lower()))
        else {
            return next.serve(req);
        };
        let received = Instant::now();
        // `inspect` runs inline on a ready reply: logging never boxes a cache hit.
        next.serve(req)
            .inspect(move |outcome| self.record(rule, req, outcome, received))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Captured;
    use hickory_proto::op::ResponseCode;
    use hickory_proto::rr::rdata::{A, SOA};
    use hickory_proto::rr::{Name, RData, Record, RecordType};
    use plugin::test_util::{self, QueryBuilder, Recorder, TestBlock, query};
    use plugin::{Error, Failure};
    use std::sync::Arc;

    /// What the rest of the chain does.
    #[derive(Clone, Copy, Debug)]
    enum Chain {
        /// NOERROR with one A record.
        Answers,
        /// NOERROR, no answer, SOA in authority.
        NoData,
        /// NXDOMAIN with SOA, authoritative.
        NxDomain,
        /// Every header flag set.
        AllFlags,
        /// SERVFAIL failure with an error: the server core writes the reply.
        ServFail,
        /// REFUSED without an error: the server core writes the reply.
        Refused,
        /// NXDOMAIN returned without writing: the client gets nothing.
        Silent,
    }

    fn soa() -> Record {
        let name = Name::from_ascii("example.org.").unwrap();
        let soa = SOA::new(name.clone(), name.clone(), 1, 2, 3, 4, 5);
        Record::from_rdata(name, 5, RData::SOA(soa))
    }

    fn next_for(chain: Chain) -> Arc<Recorder> {
        Recorder::answering(move |req| {
            let mut resp = Response::reply_to(req, "recorder");
            match chain {
                Chain::Answers => {
                    let a = Record::from_rdata(req.qname(), 30, RData::A(A::new(192, 0, 2, 1)));
                    resp.answers = vec![a].into();
                }
                Chain::NoData => resp.authorities = vec![soa()].into(),
                Chain::NxDomain => {
                    resp = resp.with_rcode(ResponseCode::NXDomain).authoritative();
                    resp.authorities = vec![soa()].into();
                }
                Chain::AllFlags => {
                    let f = &mut resp.flags;
                    (f.authoritative, f.truncated, f.recursion_available) = (true, true, true);
                    (f.authentic_data, f.checking_disabled) = (true, true);
                }
                Chain::ServFail => {
                    return Err(Failure::servfail(Error::bare("upstream timed out")));
                }
                Chain::Refused => return Err(Failure::rcode(ResponseCode::Refused)),
                Chain::Silent => return Err(Failure::rcode(ResponseCode::NXDomain)),
            }
            Ok(resp)
        })
    }

    struct Case {
        corefile: &'static str,
        query: QueryBuilder,
        chain: Chain,
        /// The line logged, or None.
        line: Option<&'static str>,
    }

    fn a(name: &str) -> QueryBuilder {
        query(name, RecordType::A)
    }

    /// Query `example.org. A` from 10.240.0.1:40212, id 4242, RD, no EDNS: 29 bytes.
    fn cases() -> Vec<Case> {
        use Chain::*;
        vec![
            // Every query-side placeholder.
            Case {
                corefile: "log . {name}|{type}|{class}|{proto}|{size}|{remote}|{local}|{port}|{>id}|{>opcode}|{>do}|{>bufsize}",
                query: a("WWW.Example.ORG."),
                chain: Answers,
                line: Some(
                    "www.example.org.|A|IN|udp|33|10.240.0.1|127.0.0.1|40212|4242|0|false|512",
                ),
            },
            Case {
                corefile: "log . {remote}|{port}|{proto}|{>do}|{>bufsize}|{size}|{>id}|{type}",
                query: query("example.org.", RecordType::from(65280))
                    .client("[2001:db8::7]:5353")
                    .tcp()
                    .edns(4096, true)
                    .id(7),
                chain: Answers,
                line: Some("[2001:db8::7]|5353|tcp|true|65535|40|7|TYPE65280"),
            },
            Case {
                corefile: "log . {remote}:{port}|{>bufsize}",
                query: a("example.org.")
                    .client("[::ffff:192.0.2.8]:53000")
                    .edns(1232, false),
                chain: Answers,
                line: Some("192.0.2.8:53000|1232"),
            },
            // Reply-side placeholders.
            Case {
                corefile: "log . {rcode}|{>rflags}|{rsize}|{/log/type}|{/log/class}|{/other}",
                query: a("example.org."),
                chain: Answers,
                line: Some("NOERROR|qr,rd|56|NOERROR|success|-"),
            },
            Case {
                corefile: "log . {rcode}|{>rflags}|{/log/type}|{/log/class}",
                query: query("example.org.", RecordType::AAAA),
                chain: NoData,
                line: Some("NOERROR|qr,rd|NODATA|denial"),
            },
            Case {
                corefile: "log . {rcode}|{>rflags}|{/log/type}|{/log/class}",
                query: a("nope.example.org."),
                chain: NxDomain,
                line: Some("NXDOMAIN|qr,aa,rd|NXDOMAIN|denial"),
            },
            Case {
                corefile: "log . {>rflags}",
                query: a("example.org."),
                chain: AllFlags,
                line: Some("qr,aa,tc,rd,ra,ad,cd"),
            },
            // Failures the core answers are logged as that empty reply.
            Case {
                corefile: "log . {rcode}|{>rflags}|{rsize}|{/log/type}|{/log/class}",
                query: a("example.org."),
                chain: ServFail,
                line: Some("SERVFAIL|qr,rd|29|SERVERERROR|error"),
            },
            Case {
                corefile: "log . {rcode}|{>rflags}|{rsize}|{/log/type}",
                query: a("example.org."),
                chain: Refused,
                line: Some("REFUSED|qr,rd|29|OTHERERROR"),
            },
            // Nothing written at all.
            Case {
                corefile: "log . {rcode}|{>rflags}|{rsize}|{/log/type}|{/log/class}",
                query: a("example.org."),
                chain: Silent,
                line: Some("-|-|0|OTHERERROR|error"),
            },
            // The combined format ends with the opcode.
            Case {
                corefile: "log . {combined}",
                query: a("example.org."),
                chain: Answers,
                line: Some(
                    "10.240.0.1:40212 - 4242 \"A IN example.org. udp 29 false 512\" NOERROR qr,rd 56 DURATION \"0\"",
                ),
            },
            // Classes.
            Case {
                corefile: "log {\nclass denial\n}",
                query: a("example.org."),
                chain: Answers,
                line: None,
            },
            Case {
                corefile: "log . {rcode} {\nclass denial\n}",
                query: a("example.org."),
                chain: NxDomain,
                line: Some("NXDOMAIN"),
            },
            Case {
                corefile: "log . {rcode} {\nclass success error\n}",
                query: a("example.org."),
                chain: NxDomain,
                line: None,
            },
            // Names: case-insensitive, "equal or below", first matching rule only.
            Case {
                corefile: "log Example.ORG {name}",
                query: a("www.EXAMPLE.org."),
                chain: Answers,
                line: Some("www.example.org."),
            },
            Case {
                corefile: "log example.org {name}",
                query: a("badexample.org."),
                chain: Answers,
                line: None,
            },
            Case {
                corefile: "log {common}",
                query: a("example.org."),
                chain: Answers,
                line: None,
            },
            Case {
                corefile: "log example.org {\nclass error\n}\nlog . {name}",
                query: a("www.example.org."),
                chain: Answers,
                line: None,
            },
            Case {
                corefile: "log example.org {rcode} {\nclass error\n}\nlog . {name}",
                query: a("www.example.org."),
                chain: ServFail,
                line: Some("SERVFAIL"),
            },
            Case {
                corefile: "log example.org {\nclass error\n}\nlog . {name}",
                query: a("example.net."),
                chain: Answers,
                line: Some("example.net."),
            },
            // Literal text and unknown placeholders print as written.
            Case {
                corefile: "log . {foo}-{{type}}-}-{TYPE}",
                query: a("example.org."),
                chain: Answers,
                line: Some("{foo}-{A}-}-{TYPE}"),
            },
        ]
    }

    /// The default format's duration varies; it is checked apart and replaced by DURATION.
    fn without_duration(line: &str) -> String {
        let mut words: Vec<&str> = line.split(' ').collect();
        if let Some(i) = words.iter().position(|w| {
            w.strip_suffix('s')
                .is_some_and(|n| n.contains('.') && n.parse::<f64>().is_ok())
        }) {
            words[i] = "DURATION";
        }
        words.join(" ")
    }

    #[tokio::test]
    async fn logs_one_line_per_query_as_configured() {
        for case in cases() {
            let log = Captured::default();
            let mut block = TestBlock::new(&["."]);
            block
                .setup(case.corefile, |s| crate::setup_with(s, log.clone()))
                .unwrap();
            let plugin = block.block.plugins[0].clone();
            let req = case.query.build();
            let next = next_for(case.chain);
            let outcome = test_util::serve(plugin, next.clone(), &req).await;
            assert_eq!(next.calls(), 1, "{}: the chain runs once", case.corefile);
            // The outcome goes up unchanged.
            match (case.chain, &outcome) {
                (Chain::ServFail | Chain::Refused | Chain::Silent, Err(_)) => {}
                (_, Ok(resp)) => assert_eq!(resp.plugin, "recorder"),
                (chain, other) => panic!("{chain:?}: unexpected outcome {other:?}"),
            }
            let lines: Vec<String> = log.lines().iter().map(|l| without_duration(l)).collect();
            let want: Vec<String> = case.line.iter().map(|l| format!("[INFO] {l}")).collect();
            assert_eq!(lines, want, "{}", case.corefile);
        }
    }

    #[tokio::test]
    async fn the_default_format_ends_with_the_duration() {
        let log = Captured::default();
        let mut block = TestBlock::new(&["."]);
        block
            .setup("log", |s| crate::setup_with(s, log.clone()))
            .unwrap();
        let req = a("example.org.").build();
        let _ = test_util::serve(
            block.block.plugins[0].clone(),
            next_for(Chain::Answers),
            &req,
        )
        .await;
        let lines = log.lines();
        let [line] = lines.as_slice() else {
            panic!("one line expected: {lines:?}");
        };
        let (head, duration) = line.rsplit_once(' ').unwrap();
        assert_eq!(
            head,
            "[INFO] 10.240.0.1:40212 - 4242 \"A IN example.org. udp 29 false 512\" NOERROR qr,rd 56"
        );
        let seconds = duration.strip_suffix('s').expect("ends in s");
        assert!(!seconds.contains('e'), "no exponent: {duration}");
        let seconds: f64 = seconds.parse().expect("a decimal number");
        assert!((0.0..5.0).contains(&seconds), "{duration}");
    }

    #[tokio::test]
    async fn a_ready_reply_stays_ready() {
        let log = Log::new(
            &[crate::Rule {
                name: ".".into(),
                format: "{name}".into(),
                classes: ClassSet::ALL,
            }],
            Captured::default(),
        );
        let chain = plugin::Chain::new(vec![Arc::new(log), Recorder::new()]);
        let req = a("example.org.").build();
        assert!(chain.serve(&req).is_ready());
    }
}
