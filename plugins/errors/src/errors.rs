//! The handler: log the errors the rest of the chain returns.

use std::sync::Arc;

use plugin::{Failure, Next, Plugin, Reply, Request};

use crate::consolidate::{Consolidator, Disposition};
use crate::output::ErrorLog;
use plugin::names::TypeName;

/// Logs every error returned by the plugins after it, unless a `consolidate` rule counts it.
/// It never writes a reply: the outcome goes up unchanged.
pub struct Errors<L> {
    consolidator: Arc<Consolidator<L>>,
}

impl<L: ErrorLog> Errors<L> {
    pub fn new(consolidator: Arc<Consolidator<L>>) -> Self {
        Errors { consolidator }
    }

    /// `[ERROR] plugin/errors: RCODE QNAME QTYPE: ERROR` with the rcode as a number, the name
    /// lower-cased (CoreDNS's `request.Name()`), the type as CoreDNS names it.
    fn report(&self, req: &Request, failure: &Failure) {
        let Some(error) = &failure.error else {
            return;
        };
        let text = error.to_string();
        if let Disposition::Log(level) = self.consolidator.observe(&text) {
            self.consolidator.log().write(
                level,
                format_args!(
                    "{} {} {}: {}",
                    u16::from(failure.rcode),
                    req.qname_lower(),
                    TypeName(req.qtype()),
                    text
                ),
            );
        }
    }
}

impl<L: ErrorLog> Plugin for Errors<L> {
    fn name(&self) -> &'static str {
        crate::NAME
    }

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        // `inspect` runs inline on a ready reply: an answer from cache or hosts stays unboxed.
        next.serve(req).inspect(move |outcome| {
            if let Err(failure) = outcome {
                self.report(req, failure);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consolidate::Consolidate;
    use crate::testing::Captured;
    use hickory_proto::op::ResponseCode;
    use hickory_proto::rr::RecordType;
    use plugin::log::Level;
    use plugin::tasks::Tasks;
    use plugin::test_util::{self, QueryBuilder, Recorder, query};
    use plugin::{Error, Response};
    use regex::Regex;
    use std::time::Duration;

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Upstream(&'static str);

    /// What the rest of the chain does with one query.
    #[derive(Clone, Copy)]
    enum Chain {
        Answers,
        /// A failure without an error: nothing to log.
        Refuses,
        /// SERVFAIL with `plugin/forward: TEXT`.
        Fails(&'static str),
        /// NXDOMAIN not written, with an error: logged whatever the rcode.
        FailsNxdomain(&'static str),
    }

    enum Step {
        Query(QueryBuilder, Chain),
        Wait(Duration),
        /// The instance stops (reload or shutdown).
        Stop,
    }

    use Step::*;

    fn a() -> QueryBuilder {
        query("example.org.", RecordType::A)
    }

    fn rule(secs: u64, pattern: &str, level: Level, show_first: bool) -> Consolidate {
        Consolidate {
            period: Duration::from_secs(secs),
            pattern: Regex::new(pattern).unwrap(),
            level,
            show_first,
        }
    }

    struct Case {
        name: &'static str,
        rules: Vec<Consolidate>,
        steps: Vec<Step>,
        logged: &'static [&'static str],
    }

    fn cases() -> Vec<Case> {
        let timeout = Chain::Fails("i/o timeout");
        vec![
            Case {
                name: "an error is logged with rcode number, lower-cased name and type",
                rules: vec![],
                steps: vec![
                    Query(a(), Chain::Answers),
                    Query(a(), Chain::Refuses),
                    Query(query("WWW.Example.ORG.", RecordType::AAAA), timeout),
                    Query(
                        query("example.org.", RecordType::from(65280)),
                        Chain::FailsNxdomain("boom"),
                    ),
                ],
                logged: &[
                    "[ERROR] plugin/errors: 2 www.example.org. AAAA: plugin/forward: i/o timeout",
                    "[ERROR] plugin/errors: 3 example.org. TYPE65280: plugin/forward: boom",
                ],
            },
            Case {
                name: "matching errors are counted and summarised when the window ends",
                rules: vec![rule(300, "timeout", Level::Error, false)],
                steps: vec![
                    Query(a(), timeout),
                    Query(a(), Chain::Fails("connection refused")),
                    Query(a(), timeout),
                    Query(a(), timeout),
                    Wait(Duration::from_secs(301)),
                ],
                logged: &[
                    "[ERROR] plugin/errors: 2 example.org. A: plugin/forward: connection refused",
                    "[ERROR] plugin/errors: 3 errors like 'timeout' occurred in last 5m0s",
                ],
            },
            Case {
                name: "a window of one error still gets a summary without show_first",
                rules: vec![rule(30, "timeout", Level::Warning, false)],
                steps: vec![Query(a(), timeout), Wait(Duration::from_secs(31))],
                logged: &["[WARNING] plugin/errors: 1 errors like 'timeout' occurred in last 30s"],
            },
            Case {
                name: "show_first logs the first error at the rule's level, a lone one has no summary",
                rules: vec![rule(30, "timeout", Level::Warning, true)],
                steps: vec![Query(a(), timeout), Wait(Duration::from_secs(31))],
                logged: &["[WARNING] plugin/errors: 2 example.org. A: plugin/forward: i/o timeout"],
            },
            Case {
                name: "show_first with more errors: first line and summary",
                rules: vec![rule(30, "timeout", Level::Info, true)],
                steps: vec![
                    Query(a(), timeout),
                    Query(a(), timeout),
                    Query(a(), timeout),
                    Wait(Duration::from_secs(31)),
                ],
                logged: &[
                    "[INFO] plugin/errors: 2 example.org. A: plugin/forward: i/o timeout",
                    "[INFO] plugin/errors: 3 errors like 'timeout' occurred in last 30s",
                ],
            },
            Case {
                name: "the first matching rule wins",
                rules: vec![
                    rule(60, "time", Level::Error, false),
                    rule(60, "timeout", Level::Info, false),
                ],
                steps: vec![Query(a(), timeout), Wait(Duration::from_secs(61))],
                logged: &["[ERROR] plugin/errors: 1 errors like 'time' occurred in last 1m0s"],
            },
            Case {
                name: "a new window opens after the previous one closed",
                rules: vec![rule(10, "timeout", Level::Error, false)],
                steps: vec![
                    Query(a(), timeout),
                    Query(a(), timeout),
                    Wait(Duration::from_secs(11)),
                    Query(a(), timeout),
                    Wait(Duration::from_secs(11)),
                ],
                logged: &[
                    "[ERROR] plugin/errors: 2 errors like 'timeout' occurred in last 10s",
                    "[ERROR] plugin/errors: 1 errors like 'timeout' occurred in last 10s",
                ],
            },
            Case {
                name: "nothing is printed before the window ends",
                rules: vec![rule(10, "timeout", Level::Error, false)],
                steps: vec![Query(a(), timeout), Wait(Duration::from_secs(9))],
                logged: &[],
            },
            Case {
                name: "stopping flushes open windows, later errors are logged one by one",
                rules: vec![rule(3600, "timeout", Level::Warning, false)],
                steps: vec![
                    Query(a(), timeout),
                    Query(a(), timeout),
                    Stop,
                    Query(a(), timeout),
                    Wait(Duration::from_secs(3601)),
                ],
                logged: &[
                    "[WARNING] plugin/errors: 2 errors like 'timeout' occurred in last 1h0m0s",
                    "[WARNING] plugin/errors: 2 example.org. A: plugin/forward: i/o timeout",
                ],
            },
            Case {
                name: "debug level summaries are written at debug level",
                rules: vec![rule(1, "timeout", Level::Debug, false)],
                steps: vec![Query(a(), timeout), Wait(Duration::from_secs(2))],
                logged: &["[DEBUG] plugin/errors: 1 errors like 'timeout' occurred in last 1s"],
            },
        ]
    }

    fn next_for(chain: Chain) -> Arc<Recorder> {
        Recorder::answering(move |req| match chain {
            Chain::Answers => Ok(Response::reply_to(req, "recorder")),
            Chain::Refuses => Err(Failure::rcode(ResponseCode::Refused)),
            Chain::Fails(text) => Err(Failure::servfail(Error::new("forward", Upstream(text)))),
            Chain::FailsNxdomain(text) => Err(Failure::error(
                ResponseCode::NXDomain,
                Error::new("forward", Upstream(text)),
            )),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn logs_and_consolidates_errors() {
        for case in cases() {
            let log = Captured::default();
            let tasks = Tasks::new();
            let consolidator = Consolidator::new(case.rules, tasks.clone(), log.clone());
            let errors: Arc<dyn Plugin> = Arc::new(Errors::new(consolidator.clone()));
            for step in case.steps {
                match step {
                    Query(builder, chain) => {
                        let req = builder.build();
                        let outcome = test_util::serve(errors.clone(), next_for(chain), &req).await;
                        // The outcome goes up unchanged.
                        match (chain, outcome) {
                            (Chain::Answers, Ok(resp)) => assert_eq!(resp.plugin, "recorder"),
                            (Chain::Refuses, Err(f)) => {
                                assert_eq!(f.rcode, ResponseCode::Refused);
                                assert!(f.error.is_none());
                            }
                            (Chain::Fails(text) | Chain::FailsNxdomain(text), Err(f)) => {
                                let error = f.error.expect("error kept");
                                let source = error.source_ref().downcast_ref::<Upstream>();
                                assert_eq!(source.map(|u| u.0), Some(text), "{}", case.name);
                            }
                            (_, other) => panic!("{}: unexpected outcome {other:?}", case.name),
                        }
                    }
                    Wait(d) => tokio::time::sleep(d).await,
                    Stop => consolidator.stop(),
                }
            }
            assert_eq!(log.lines(), case.logged, "{}", case.name);
            tasks.stop().await;
        }
    }

    #[tokio::test]
    async fn a_ready_reply_stays_ready() {
        let consolidator = Consolidator::new(vec![], Tasks::new(), Captured::default());
        let errors: Arc<dyn Plugin> = Arc::new(Errors::new(consolidator));
        let chain = plugin::Chain::new(vec![errors, Recorder::new()]);
        let req = a().build();
        assert!(chain.serve(&req).is_ready());
    }
}
