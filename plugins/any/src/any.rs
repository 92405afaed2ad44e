//! The handler: HINFO for ANY (RFC 8482 §4.2), everything else to the next plugin.

use hickory_proto::rr::rdata::HINFO;
use hickory_proto::rr::{RData, Record, RecordType};
use plugin::{Next, Plugin, Reply, Request, Response};

/// RFC 8482 §4.2 suggests a TTL; CoreDNS picks the RFC's number.
const TTL: u32 = 8482;

#[derive(Clone, Copy, Debug, Default)]
pub struct Any;

impl Plugin for Any {
    fn name(&self) -> &'static str {
        crate::NAME
    }

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        if req.qtype() != RecordType::ANY {
            return next.serve(req);
        }
        Reply::answer(hinfo_reply(req))
    }
}

/// One synthesized HINFO record instead of "everything" (RFC 8482 §4.2). AA stays clear, as
/// in CoreDNS: the record describes no zone data. The class is always IN.
fn hinfo_reply(req: &Request) -> Response {
    let hinfo = HINFO::new("ANY obsoleted".to_string(), "See RFC 8482".to_string());
    let record = Record::from_rdata(req.qname(), TTL, RData::HINFO(hinfo));
    let mut resp = Response::reply_to(req, crate::NAME);
    resp.answers = vec![record].into();
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::ResponseCode;
    use hickory_proto::rr::DNSClass;
    use plugin::test_util::{self, Recorder, query};
    use std::sync::Arc;

    /// (qname, qtype, answered by `any`?)
    const CASES: &[(&str, RecordType, bool)] = &[
        ("example.org.", RecordType::ANY, true),
        ("MiXeD.Example.org.", RecordType::ANY, true),
        (".", RecordType::ANY, true),
        ("example.org.", RecordType::A, false),
        ("example.org.", RecordType::HINFO, false),
        ("example.org.", RecordType::AXFR, false),
    ];

    #[tokio::test]
    async fn answers_any_and_passes_the_rest() {
        for &(name, qtype, answered) in CASES {
            let next = Recorder::new();
            let req = query(name, qtype).build();
            let resp = test_util::serve(Arc::new(Any), next.clone(), &req)
                .await
                .expect("a reply");
            assert_eq!(next.calls(), usize::from(!answered), "{name} {qtype}");
            if !answered {
                assert_eq!(resp.plugin, "recorder");
                continue;
            }
            assert_eq!(resp.plugin, crate::NAME);
            assert_eq!(resp.rcode, ResponseCode::NoError);
            assert!(
                !resp.flags.authoritative,
                "RFC 8482 reply is not authoritative"
            );
            assert!(resp.authorities.is_empty() && resp.additionals.is_empty());
            let [answer] = resp.answers.records() else {
                panic!("{name}: exactly one answer, got {:?}", resp.answers);
            };
            assert_eq!(
                answer.name.to_string(),
                name,
                "owner keeps the query's case"
            );
            assert_eq!(answer.ttl, 8482);
            assert_eq!(answer.dns_class, DNSClass::IN);
            let RData::HINFO(hinfo) = &answer.data else {
                panic!("{name}: HINFO expected, got {:?}", answer.data);
            };
            assert_eq!(&*hinfo.cpu, b"ANY obsoleted");
            assert_eq!(&*hinfo.os, b"See RFC 8482");
        }
    }
}
