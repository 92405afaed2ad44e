//! The handler: classify the reply on its way up, strip it when it is a plain success.

use plugin::classify::{ReplyClass, ReplyType, classify};
use plugin::response::Section;
use plugin::{Next, Outcome, Plugin, Reply, Request, Response};

#[derive(Clone, Copy, Debug, Default)]
pub struct Minimal;

impl Plugin for Minimal {
    fn name(&self) -> &'static str {
        crate::NAME
    }

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        next.serve(req).map(move |outcome| minimize(req, outcome))
    }
}

/// What minimal does with the rest of the chain's outcome:
/// * a failure (the chain wrote nothing) is returned as it is, so the server core answers it;
/// * denials (NXDOMAIN, NODATA), errors and delegations are written unchanged: their
///   authority section is the answer (SOA for negative caching, RFC 2308 §5; NS for a
///   referral);
/// * a successful non-delegation reply loses its authority and additional sections.
fn minimize(req: &Request, outcome: Outcome) -> Outcome {
    let resp = outcome?;
    let reply_type = classify(req, Some(&resp));
    if reply_type.class() != ReplyClass::Success || reply_type == ReplyType::Delegation {
        return Ok(resp);
    }
    Ok(strip(resp))
}

/// Header, question, answer and producer are kept. The reply's own OPT goes with the
/// additional section; the server core re-adds the query's OPT when the query had one
/// (CoreDNS rebuilds the message without Extra and its scrub step does the same).
fn strip(resp: Response) -> Response {
    Response {
        authorities: Section::default(),
        additionals: Section::default(),
        edns: None,
        ..resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Edns, ResponseCode};
    use hickory_proto::rr::rdata::{A, NS, SOA};
    use hickory_proto::rr::{Name, RData, Record, RecordType};
    use plugin::test_util::{self, Recorder, query};
    use plugin::{Error, Failure};
    use std::sync::Arc;

    fn name(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn a(owner: &str) -> Record {
        Record::from_rdata(name(owner), 300, RData::A(A::new(192, 0, 2, 1)))
    }

    fn ns(owner: &str) -> Record {
        Record::from_rdata(name(owner), 300, RData::NS(NS(name("ns1.example.org."))))
    }

    fn soa(owner: &str) -> Record {
        let soa = SOA::new(
            name("ns1.example.org."),
            name("hostmaster.example.org."),
            1,
            7200,
            3600,
            86400,
            300,
        );
        Record::from_rdata(name(owner), 300, RData::SOA(soa))
    }

    /// The reply the rest of the chain writes: rcode and section sizes.
    struct Written {
        rcode: ResponseCode,
        answers: Vec<Record>,
        authorities: Vec<Record>,
        additionals: Vec<Record>,
    }

    impl Written {
        fn new(
            rcode: ResponseCode,
            answers: Vec<Record>,
            authorities: Vec<Record>,
            additionals: Vec<Record>,
        ) -> Self {
            Written {
                rcode,
                answers,
                authorities,
                additionals,
            }
        }

        fn into_response(self, req: &Request) -> Response {
            let mut resp = Response::reply_to(req, "recorder")
                .with_rcode(self.rcode)
                .authoritative();
            resp.answers = self.answers.into();
            resp.authorities = self.authorities.into();
            resp.additionals = self.additionals.into();
            resp.edns = Some(Edns::new());
            resp
        }
    }

    /// (qtype, what the chain writes, stripped?)
    fn cases() -> Vec<(RecordType, Written, bool)> {
        use ResponseCode::*;
        let z = "example.org.";
        vec![
            // Success: answer kept, the rest dropped.
            (
                RecordType::A,
                Written::new(
                    NoError,
                    vec![a(z)],
                    vec![ns(z)],
                    vec![a("ns1.example.org.")],
                ),
                true,
            ),
            // Empty NOERROR without SOA or NS is still "success".
            (
                RecordType::A,
                Written::new(NoError, vec![], vec![], vec![a("ns1.example.org.")]),
                true,
            ),
            // Delegation: the referral is the NS records.
            (
                RecordType::A,
                Written::new(
                    NoError,
                    vec![],
                    vec![ns("sub.example.org.")],
                    vec![a("ns1.example.org.")],
                ),
                false,
            ),
            // NODATA and NXDOMAIN keep the SOA for negative caching.
            (
                RecordType::AAAA,
                Written::new(NoError, vec![], vec![soa(z)], vec![]),
                false,
            ),
            (
                RecordType::A,
                Written::new(NXDomain, vec![], vec![soa(z)], vec![]),
                false,
            ),
            // Written errors go out as they are.
            (
                RecordType::A,
                Written::new(ServFail, vec![], vec![], vec![a(z)]),
                false,
            ),
            (
                RecordType::A,
                Written::new(Refused, vec![], vec![ns(z)], vec![]),
                false,
            ),
            // NXDOMAIN with an answer is an error, not a success.
            (
                RecordType::A,
                Written::new(NXDomain, vec![a(z)], vec![soa(z)], vec![]),
                false,
            ),
            // Zone transfers are META.
            (
                RecordType::AXFR,
                Written::new(NoError, vec![soa(z)], vec![ns(z)], vec![]),
                false,
            ),
        ]
    }

    #[tokio::test]
    async fn strips_only_plain_successes() {
        for (i, (qtype, written, stripped)) in cases().into_iter().enumerate() {
            let req = query("example.org.", qtype).build();
            let expected = written.into_response(&req);
            let chain_reply = expected.clone();
            let next = Recorder::answering(move |_| Ok(chain_reply.clone()));
            let got = test_util::serve(Arc::new(Minimal), next, &req)
                .await
                .expect("written");
            assert_eq!(got.rcode, expected.rcode, "case {i}");
            assert_eq!(got.flags, expected.flags, "case {i}: header kept");
            assert_eq!(got.plugin, "recorder", "case {i}: producer kept");
            assert_eq!(
                got.answers.records(),
                expected.answers.records(),
                "case {i}"
            );
            if stripped {
                assert!(got.authorities.is_empty(), "case {i}");
                assert!(got.additionals.is_empty(), "case {i}");
                assert!(got.edns.is_none(), "case {i}");
            } else {
                assert_eq!(
                    got.authorities.records(),
                    expected.authorities.records(),
                    "case {i}"
                );
                assert_eq!(
                    got.additionals.records(),
                    expected.additionals.records(),
                    "case {i}"
                );
                assert_eq!(got.edns, expected.edns, "case {i}");
            }
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("upstream timed out")]
    struct Timeout;

    #[tokio::test]
    async fn failures_pass_through() {
        let req = query("example.org.", RecordType::A).build();
        let next = Recorder::answering(|_| Err(Failure::servfail(Error::new("forward", Timeout))));
        let failure = test_util::serve(Arc::new(Minimal), next, &req)
            .await
            .unwrap_err();
        assert_eq!(failure.rcode, ResponseCode::ServFail);
        let error = failure.error.expect("error kept");
        assert!(error.source_ref().downcast_ref::<Timeout>().is_some());

        let next = Recorder::answering(|_| Err(Failure::rcode(ResponseCode::Refused)));
        let failure = test_util::serve(Arc::new(Minimal), next, &req)
            .await
            .unwrap_err();
        assert_eq!(failure.rcode, ResponseCode::Refused);
        assert!(failure.error.is_none());
    }
}
