//! The handler: who is asking, from where, over what.

use std::net::IpAddr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, AAAA, SRV};
use hickory_proto::rr::{DNSClass, Name, RData, Record};
use plugin::{Failure, Next, Plugin, Reply, Request, Response, Transport};

/// Whoami records are never cached (TTL 0): they describe one client, one query.
const TTL: u32 = 0;

/// Answers every query with the client's address in the additional section, as CoreDNS's
/// whoami does (its README's "A/AAAA only" is wrong: any qtype gets this reply).
#[derive(Clone, Copy, Debug, Default)]
pub struct Whoami;

impl Plugin for Whoami {
    fn name(&self) -> &'static str {
        crate::NAME
    }

    fn serve<'a>(&'a self, req: &'a Request, _next: Next<'a>) -> Reply<'a> {
        match reply(req) {
            Some(resp) => Reply::answer(resp),
            // CoreDNS ignores the failed write of an unencodable reply and still returns
            // NOERROR: the client gets nothing, and nothing is logged.
            None => Reply::fail(Failure::rcode(ResponseCode::NoError)),
        }
    }
}

/// The reply, or None when `_udp.QNAME` would exceed 255 octets (RFC 1035 §2.3.4).
fn reply(req: &Request) -> Option<Response> {
    // The owner keeps the query's case; the class is copied from the question.
    let qname = req.qname();
    let class = req.qclass();
    let client = req.client();

    let address = match client.ip() {
        IpAddr::V4(v4) => RData::A(A(v4)),
        // An IPv4 client on a dual-stack socket is still an IPv4 client (CoreDNS Family()).
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => RData::A(A(v4)),
            None => RData::AAAA(AAAA(v6)),
        },
    };
    let proto = match req.transport() {
        Transport::Udp => "_udp",
        Transport::Tcp => "_tcp",
    };
    let srv_owner = qname.prepend_label(proto).ok()?;
    let srv = RData::SRV(SRV::new(0, 0, client.port(), Name::root()));

    let mut resp = Response::reply_to(req, crate::NAME).authoritative();
    resp.additionals = [record(qname, class, address), record(srv_owner, class, srv)].into();
    Some(resp)
}

fn record(name: Name, class: DNSClass, data: RData) -> Record {
    let mut record = Record::from_rdata(name, TTL, data);
    record.dns_class = class;
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::RecordType;
    use plugin::test_util::{self, QueryBuilder, Recorder, query};
    use std::sync::Arc;

    /// One query and the additional section expected, as `(owner, type, rdata text)`.
    struct Case {
        query: QueryBuilder,
        additional: [(&'static str, RecordType, &'static str); 2],
    }

    async fn run(req: &Request) -> (Response, usize) {
        let next = Recorder::new();
        let outcome = test_util::serve(Arc::new(Whoami), next.clone(), req).await;
        (outcome.expect("whoami answers"), next.calls())
    }

    #[tokio::test]
    async fn answers_every_query_with_the_client() {
        let cases = [
            Case {
                query: query("example.org.", RecordType::A),
                additional: [
                    ("example.org.", RecordType::A, "10.240.0.1"),
                    ("_udp.example.org.", RecordType::SRV, "0 0 40212 ."),
                ],
            },
            // Any qtype, original case kept, TCP.
            Case {
                query: query("WwW.Example.ORG.", RecordType::MX)
                    .tcp()
                    .client("192.0.2.7:5353"),
                additional: [
                    ("WwW.Example.ORG.", RecordType::A, "192.0.2.7"),
                    ("_tcp.WwW.Example.ORG.", RecordType::SRV, "0 0 5353 ."),
                ],
            },
            Case {
                query: query("example.org.", RecordType::TXT).client("[2001:db8::53]:1053"),
                additional: [
                    ("example.org.", RecordType::AAAA, "2001:db8::53"),
                    ("_udp.example.org.", RecordType::SRV, "0 0 1053 ."),
                ],
            },
            // An IPv4-mapped client is IPv4.
            Case {
                query: query("example.org.", RecordType::AAAA).client("[::ffff:198.51.100.4]:99"),
                additional: [
                    ("example.org.", RecordType::A, "198.51.100.4"),
                    ("_udp.example.org.", RecordType::SRV, "0 0 99 ."),
                ],
            },
            // The root: the SRV owner is `_udp.`, not `_udp..`.
            Case {
                query: query(".", RecordType::NS),
                additional: [
                    (".", RecordType::A, "10.240.0.1"),
                    ("_udp.", RecordType::SRV, "0 0 40212 ."),
                ],
            },
        ];
        for case in cases {
            let req = case.query.build();
            let (resp, next_calls) = run(&req).await;
            let label = req.qname().to_string();
            assert_eq!(next_calls, 0, "{label}: whoami is terminal");
            assert_eq!(resp.rcode, ResponseCode::NoError, "{label}");
            assert!(resp.flags.authoritative, "{label}");
            assert!(resp.flags.recursion_desired, "{label}: RD copied");
            assert!(
                resp.answers.is_empty() && resp.authorities.is_empty(),
                "{label}"
            );
            let got: Vec<_> = resp
                .additionals
                .iter()
                .map(|r| {
                    assert_eq!(r.ttl, 0, "{label}");
                    assert_eq!(r.dns_class, DNSClass::IN, "{label}");
                    (r.name.to_string(), r.record_type(), r.data.to_string())
                })
                .collect();
            let want: Vec<_> = case
                .additional
                .iter()
                .map(|(n, t, d)| (n.to_string(), *t, d.to_string()))
                .collect();
            assert_eq!(got, want, "{label}");
        }
    }

    #[tokio::test]
    async fn copies_the_question_class() {
        let mut message = hickory_proto::op::Message::query();
        let mut question = hickory_proto::op::Query::query(
            Name::from_ascii("version.bind.").unwrap(),
            RecordType::TXT,
        );
        question.set_query_class(DNSClass::CH);
        message.add_query(question);
        let req = Request::from_message(
            message,
            bytes::Bytes::new(),
            "10.0.0.1:1000".parse().unwrap(),
            "127.0.0.1:53".parse().unwrap(),
            plugin::Transport::Udp,
            Arc::from("dns://:53"),
        );
        let (resp, _) = run(&req).await;
        assert!(resp.additionals.iter().all(|r| r.dns_class == DNSClass::CH));
    }

    #[tokio::test]
    async fn a_name_too_long_for_the_srv_owner_gets_no_reply() {
        // 4 labels of 62 characters + the root: 253 octets; `_udp.` adds 5 > 255.
        let label = "a".repeat(62);
        let name = format!("{label}.{label}.{label}.{label}.");
        let req = query(&name, RecordType::A).build();
        let outcome = test_util::serve(Arc::new(Whoami), Recorder::new(), &req).await;
        let failure = outcome.expect_err("nothing written");
        assert_eq!(failure.rcode, ResponseCode::NoError);
        assert!(failure.error.is_none());
        assert!(!failure.core_writes_reply());
    }
}
