//! Bytes in and out: the header checks done before decoding, and the one encoder of replies.

use std::cell::RefCell;

use hickory_proto::ProtoError;
use hickory_proto::op::{Edns, OpCode, ResponseCode};
use hickory_proto::rr::rdata::opt::EdnsCode;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder, NameEncoding};

use crate::request::Request;
use crate::response::Response;
use crate::writer::Writer;

pub const HEADER_LEN: usize = 12;

/// What the server does with a datagram before any plugin sees it (corefile.md §7.2 step 1,
/// miekg/dns's default accept function).
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Shorter than a header, or a response (QR=1): no answer at all, so a spoofed response
    /// cannot make us talk to its victim.
    Drop,
    /// Answer with a header-only reply carrying this rcode (FORMERR, NOTIMP).
    Reject(ResponseCode),
    /// Decode it and serve it.
    Accept,
}

/// Checks the 12-byte header of a query.
pub fn inspect(packet: &[u8]) -> Verdict {
    if packet.len() < HEADER_LEN {
        return Verdict::Drop;
    }
    if packet[2] & 0x80 != 0 {
        return Verdict::Drop;
    }
    let opcode = (packet[2] >> 3) & 0x0f;
    if opcode != u8::from(OpCode::Query) && opcode != u8::from(OpCode::Notify) {
        return Verdict::Reject(ResponseCode::NotImp);
    }
    let count = |at: usize| u16::from_be_bytes([packet[at], packet[at + 1]]);
    let (qd, an, ns, ar) = (count(4), count(6), count(8), count(10));
    // One question; at most one answer (NOTIFY's SOA), one authority, two additionals (OPT and
    // TSIG). Anything else is not a query we serve.
    if qd != 1 || an > 1 || ns > 1 || ar > 2 {
        return Verdict::Reject(ResponseCode::FormErr);
    }
    Verdict::Accept
}

/// A header-only reply to a packet that was rejected before decoding: same ID, QR set, RD
/// copied, no question (what miekg/dns sends for a rejected message).
pub fn header_only_reply(packet: &[u8], rcode: ResponseCode, out: &mut Vec<u8>) {
    out.clear();
    if packet.len() < HEADER_LEN {
        return;
    }
    let opcode = match rcode {
        ResponseCode::NotImp => packet[2] & 0x78,
        _ => 0,
    };
    let rd = packet[2] & 0x01;
    out.extend_from_slice(&packet[0..2]);
    out.push(0x80 | opcode | rd);
    out.push(rcode.low() & 0x0f);
    out.extend_from_slice(&[0; 8]);
}

/// The result of encoding a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// Records were left out to fit the client's size, and TC is set.
    pub truncated: bool,
}

/// Option codes copied from the query's OPT into a reply that has none of its own
/// (CoreDNS's scrub step: NSID, EXPIRE, COOKIE, TCP-KEEPALIVE, PADDING).
fn echoed_option(code: EdnsCode) -> bool {
    matches!(u16::from(code), 3 | 9 | 10 | 11 | 12)
}

/// The OPT record of a reply, per corefile.md §7.3 and plugins-resolution.md §0.4 step 1:
/// with a query OPT, version 0, the query's (clamped) size, DO copied from the query, extended
/// rcode bits. Without one, an OPT a plugin put in the reply stays as the plugin built it (a
/// rewrite `edns0` rule added one to the query it sent on, §4.6).
fn reply_opt(req: &Request, resp: &Response, with_options: bool) -> Option<Record> {
    let Some(query_edns) = req.edns() else {
        let own = resp.edns.as_ref()?;
        let mut edns = if with_options {
            own.clone()
        } else {
            let mut bare = Edns::new();
            bare.set_max_payload(own.max_payload());
            bare
        };
        edns.set_version(0);
        edns.set_rcode_high(resp.rcode.high());
        return Some(Record::from(&edns));
    };
    let mut edns = match &resp.edns {
        _ if !with_options => Edns::new(),
        Some(own) => own.clone(),
        None => {
            let mut e = Edns::new();
            for (code, option) in query_edns.options().as_ref().iter() {
                if echoed_option(*code) {
                    e.options_mut().insert(option.clone());
                }
            }
            e
        }
    };
    edns.set_version(0);
    edns.set_max_payload(req.edns_udp_size().unwrap_or(512));
    edns.set_dnssec_ok(req.do_bit());
    edns.set_rcode_high(resp.rcode.high());
    Some(Record::from(&edns))
}

/// The largest reply `req`'s client accepts. A query that came without EDNS but was sent on
/// with an OPT by a plugin (rewrite `edns0`, plugins-resolution.md §4.6) is answered within
/// that OPT's size over UDP, as CoreDNS sizes the reply from the query it modified in place.
fn reply_size_limit(req: &Request, resp: &Response) -> usize {
    let limit = usize::from(req.max_reply_size());
    match (&resp.edns, req.edns(), req.transport()) {
        (Some(own), None, crate::request::Transport::Udp) => {
            limit.max(usize::from(own.max_payload()))
        }
        _ => limit,
    }
}

fn header_flags(req: &Request, resp: &Response, truncated: bool) -> [u8; 2] {
    let f = &resp.flags;
    let opcode = u8::from(req.opcode()) & 0x0f;
    let hi = 0x80
        | (opcode << 3)
        | (u8::from(f.authoritative) << 2)
        | (u8::from(truncated) << 1)
        | u8::from(f.recursion_desired);
    let lo = (u8::from(f.recursion_available) << 7)
        | (u8::from(f.authentic_data) << 5)
        | (u8::from(f.checking_disabled) << 4)
        | (resp.rcode.low() & 0x0f);
    [hi, lo]
}

/// Encodes `resp` as the reply to `req` into `out`, compressed, truncated to what the client
/// accepts (its EDNS size over UDP, 65535 over TCP): records that do not fit are left out from
/// the end and TC is set (RFC 2181 §9). The OPT record always fits: room is kept for it.
pub fn encode_reply(
    req: &Request,
    resp: &Response,
    out: &mut Vec<u8>,
) -> Result<Encoded, ProtoError> {
    encode_limited(req, resp, reply_size_limit(req, resp), out)
}

/// [`encode_reply`] with an explicit size limit.
pub fn encode_limited(
    req: &Request,
    resp: &Response,
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<Encoded, ProtoError> {
    out.clear();
    let mut opt = reply_opt(req, resp, true);
    let mut counts = [0u16; 4];
    let mut truncated = resp.flags.truncated;
    out.extend_from_slice(&[0; HEADER_LEN]);
    {
        let mut writer = Writer::new(out);
        // The question as the client wrote it (RFC 1035 §4.1.2), unless a plugin answered
        // another one on purpose; its labels are what most answer names point to. The
        // client's own bytes are copied when they are at hand.
        let copied = resp.question.is_none()
            && req
                .qname_wire()
                .and_then(|name| writer.wire_name(name))
                .is_some();
        if copied {
            writer.u16(u16::from(req.qtype()));
            writer.u16(u16::from(req.qclass()));
            counts[0] = 1;
        } else if let Some(query) = resp.question.as_deref().or(req.query()) {
            writer.name(query.name());
            writer.u16(u16::from(query.query_type()));
            writer.u16(u16::from(query.query_class()));
            counts[0] = 1;
        }
        // Options echoed from the query (PADDING, COOKIE ...) can alone exceed what the client
        // accepts; then the OPT goes out bare (RFC 6891 §7: never more than the requestor's
        // payload size; RFC 7830 §3: no padding beyond it).
        if opt
            .as_ref()
            .is_some_and(|o| writer.len() + opt_wire_len(o) > limit)
        {
            opt = reply_opt(req, resp, false);
        }
        let opt_len = opt.as_ref().map_or(0, opt_wire_len);
        let budget = limit.saturating_sub(opt_len).max(writer.len());
        let sections = [&resp.answers, &resp.authorities, &resp.additionals];
        // Records encoded before (a cache hit) are copied when they are this reply's records
        // after this question and fit whole; a reply to truncate is written record by record.
        let prepared = resp
            .prepared
            .as_deref()
            .zip(resp.uniform_ttl)
            .filter(|(p, _)| copied && writer.len() + p.len() <= budget && p.encodes(req, resp));
        if let Some((prepared, ttl)) = prepared {
            prepared.write(&mut writer, ttl);
            counts[1..].copy_from_slice(&prepared.counts());
        }
        'sections: for (index, section) in sections
            .into_iter()
            .enumerate()
            .filter(|_| prepared.is_none())
        {
            for record in section.iter() {
                let mark = writer.mark();
                match resp.uniform_ttl {
                    Some(ttl) if record.record_type() != RecordType::OPT => {
                        writer.record_with_ttl(record, ttl)?
                    }
                    _ => writer.record(record)?,
                }
                if writer.len() > budget {
                    writer.rollback(mark);
                    truncated = true;
                    break 'sections;
                }
                counts[index + 1] += 1;
            }
        }
        if let Some(opt) = &opt {
            writer.record(opt)?;
            counts[3] += 1;
        }
    }
    out[0..2].copy_from_slice(&req.id().to_be_bytes());
    out[2..4].copy_from_slice(&header_flags(req, resp, truncated));
    for (i, count) in counts.iter().enumerate() {
        out[4 + 2 * i..6 + 2 * i].copy_from_slice(&count.to_be_bytes());
    }
    Ok(Encoded { truncated })
}

fn opt_wire_len(opt: &Record) -> usize {
    // root name (1) + type (2) + class (2) + ttl (4) + rdlength (2) + options
    let options = match &opt.data {
        hickory_proto::rr::RData::OPT(opt) => opt
            .as_ref()
            .iter()
            .map(|(_, o)| 4 + usize::from(o.len()))
            .sum(),
        _ => 0,
    };
    11 + options
}

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Wire length of `name` written without compression (RFC 1035 §3.1: each label with its
/// length octet, then the root's zero octet).
fn name_wire_len(name: &Name) -> usize {
    name.iter().map(|label| 1 + label.len()).sum::<usize>() + 1
}

/// Length of RDATA written without name compression. The types a server answers most are
/// counted; the rest are encoded into a scratch buffer.
fn rdata_wire_len(data: &RData) -> usize {
    match data {
        RData::A(_) => 4,
        RData::AAAA(_) => 16,
        RData::SRV(srv) => 6 + name_wire_len(&srv.target),
        RData::CNAME(name) => name_wire_len(&name.0),
        RData::PTR(name) => name_wire_len(&name.0),
        RData::NS(name) => name_wire_len(&name.0),
        RData::MX(mx) => 2 + name_wire_len(&mx.exchange),
        // MNAME, RNAME, then SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM (RFC 1035 §3.3.13).
        RData::SOA(soa) => name_wire_len(&soa.mname) + name_wire_len(&soa.rname) + 20,
        // Each character-string with its length octet (RFC 1035 §3.3.14).
        RData::TXT(txt) => txt.txt_data.iter().map(|s| 1 + s.len()).sum(),
        other => SCRATCH.with(|scratch| {
            let mut buf = scratch.borrow_mut();
            buf.clear();
            let mut encoder = BinEncoder::new(&mut buf);
            encoder.set_name_encoding(NameEncoding::Uncompressed);
            // A record that cannot be encoded is not sent either; count what was written.
            let _ = other.emit(&mut encoder);
            encoder.offset()
        }),
    }
}

/// The length of `resp` as the plugin handed it over: uncompressed, untruncated, without the
/// OPT the server core adds (what CoreDNS's `{rsize}` and response-size histogram measure).
/// Counted, not encoded: this runs for every query the `prometheus` and `log` plugins see.
pub fn uncompressed_len(req: &Request, resp: &Response) -> usize {
    // QNAME, then QTYPE and QCLASS (RFC 1035 §4.1.2).
    let question = match (&resp.question, req.qname_wire()) {
        (None, Some(name)) => name.len() + 4,
        (question, _) => question
            .as_deref()
            .or(req.query())
            .map_or(0, |q| name_wire_len(q.name()) + 4),
    };
    // NAME, then TYPE, CLASS, TTL, RDLENGTH (10 octets) and RDATA (RFC 1035 §4.1.3).
    let records: usize = [&resp.answers, &resp.authorities, &resp.additionals]
        .into_iter()
        .flat_map(|section| section.iter())
        .filter(|record| record.record_type() != RecordType::OPT)
        .map(|record| name_wire_len(&record.name) + 10 + rdata_wire_len(&record.data))
        .sum();
    let own_opt = resp
        .edns
        .as_ref()
        .map_or(0, |edns| opt_wire_len(&Record::from(edns)));
    HEADER_LEN + question + records + own_opt
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::Section;

    fn header(flags_hi: u8, counts: [u16; 4]) -> Vec<u8> {
        let mut p = vec![0x12, 0x34, flags_hi, 0];
        for c in counts {
            p.extend_from_slice(&c.to_be_bytes());
        }
        p
    }

    #[test]
    fn short_packets_and_responses_are_dropped() {
        assert_eq!(inspect(&[0; 11]), Verdict::Drop);
        assert_eq!(inspect(&header(0x80, [1, 0, 0, 0])), Verdict::Drop);
    }

    #[test]
    fn unknown_opcode_is_notimp() {
        assert_eq!(
            inspect(&header(2 << 3, [1, 0, 0, 0])),
            Verdict::Reject(ResponseCode::NotImp)
        );
        assert_eq!(inspect(&header(4 << 3, [1, 0, 0, 0])), Verdict::Accept);
    }

    #[test]
    fn bad_counts_are_formerr() {
        for counts in [
            [0, 0, 0, 0],
            [2, 0, 0, 0],
            [1, 2, 0, 0],
            [1, 0, 2, 0],
            [1, 0, 0, 3],
        ] {
            assert_eq!(
                inspect(&header(0, counts)),
                Verdict::Reject(ResponseCode::FormErr),
                "{counts:?}"
            );
        }
        assert_eq!(inspect(&header(0, [1, 1, 1, 2])), Verdict::Accept);
    }

    #[test]
    fn header_only_reply_keeps_id_and_rd() {
        let mut out = Vec::new();
        header_only_reply(&header(0x01, [2, 0, 0, 0]), ResponseCode::FormErr, &mut out);
        assert_eq!(out, vec![0x12, 0x34, 0x81, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]);
    }

    fn decoded(req: &Request, resp: &Response) -> hickory_proto::op::Message {
        let mut out = Vec::new();
        encode_reply(req, resp, &mut out).unwrap();
        hickory_proto::op::Message::from_vec(&out).unwrap()
    }

    fn a(name: &str, ttl: u32, last: u8) -> Record {
        Record::from_rdata(
            Name::from_ascii(name).unwrap(),
            ttl,
            RData::A(std::net::Ipv4Addr::new(192, 0, 2, last).into()),
        )
    }

    #[test]
    fn uniform_ttl_replaces_every_ttl_but_the_opts() {
        let req = crate::test_util::query("a.example.", RecordType::A)
            .edns(1232, false)
            .build();
        let mut resp = Response::reply_to(&req, "test");
        resp.answers = vec![a("a.example.", 300, 1), a("a.example.", 20, 2)].into();
        // A type the writer hands to hickory takes the same path.
        resp.additionals = vec![Record::from_rdata(
            Name::from_ascii("a.example.").unwrap(),
            77,
            RData::CAA(hickory_proto::rr::rdata::CAA::new_issue(
                false,
                None,
                Vec::new(),
            )),
        )]
        .into();
        resp.uniform_ttl = Some(17);
        let message = decoded(&req, &resp);
        let ttls: Vec<u32> = message
            .answers
            .iter()
            .chain(&message.additionals)
            .map(|r| r.ttl)
            .collect();
        assert_eq!(ttls, vec![17, 17, 17]);
        assert_eq!(message.edns.unwrap().max_payload(), 1232);
    }

    #[test]
    fn sections_are_written_in_their_presentation_order() {
        let req = crate::test_util::query("a.example.", RecordType::A).build();
        let mut resp = Response::reply_to(&req, "test");
        let stored: Section = vec![
            a("a.example.", 5, 1),
            a("a.example.", 5, 2),
            a("a.example.", 5, 3),
        ]
        .into();
        resp.answers = stored.with_order(vec![2, 0, 1]);
        let last_octets: Vec<String> = decoded(&req, &resp)
            .answers
            .iter()
            .map(|r| r.data.to_string())
            .collect();
        assert_eq!(last_octets, vec!["192.0.2.3", "192.0.2.1", "192.0.2.2"]);
        // Not a permutation: the stored order stays.
        assert_eq!(
            stored.with_order(vec![0, 0, 1]).order().collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert_eq!(
            stored.with_order(vec![0, 1]).order().collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
    }

    #[test]
    fn a_question_override_is_what_the_client_sees() {
        let req = crate::test_util::query("x.example.", RecordType::ANY).build();
        let mut resp = Response::reply_to(&req, "test");
        let mut question = req.query().unwrap().clone();
        question.set_query_type(RecordType::HINFO);
        resp.question = Some(Box::new(question));
        let message = decoded(&req, &resp);
        assert_eq!(message.queries[0].query_type(), RecordType::HINFO);
        assert_eq!(uncompressed_len(&req, &resp), HEADER_LEN + 11 + 4);
    }

    /// The reference: encode the reply without compression and measure it.
    fn encoded_uncompressed_len(req: &Request, resp: &Response) -> usize {
        let mut buf = Vec::new();
        let mut encoder = BinEncoder::new(&mut buf);
        encoder.set_name_encoding(NameEncoding::Uncompressed);
        encoder.emit_vec(&[0; HEADER_LEN]).unwrap();
        req.query().unwrap().emit(&mut encoder).unwrap();
        for record in resp
            .answers
            .iter()
            .chain(resp.authorities.iter())
            .chain(resp.additionals.iter())
        {
            record.emit(&mut encoder).unwrap();
        }
        if let Some(edns) = &resp.edns {
            Record::from(edns).emit(&mut encoder).unwrap();
        }
        encoder.offset()
    }

    #[test]
    fn uncompressed_len_counts_what_encoding_writes() {
        use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, SRV, TXT};
        let req = crate::test_util::query("www.Example.org.", RecordType::A).build();
        let name = |n: &str| Name::from_ascii(n).unwrap();
        let records = [
            Record::from_rdata(name("www.example.org."), 30, RData::A(A::new(10, 0, 0, 1))),
            Record::from_rdata(
                name("www.example.org."),
                30,
                RData::AAAA(AAAA::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)),
            ),
            Record::from_rdata(
                name("a.example.org."),
                30,
                RData::CNAME(CNAME(name("b.example.net."))),
            ),
            Record::from_rdata(
                name("_x._tcp.example.org."),
                30,
                RData::SRV(SRV::new(1, 2, 80, name("t.example.org."))),
            ),
            Record::from_rdata(
                name("example.org."),
                30,
                RData::MX(MX::new(10, name("mail.example.org."))),
            ),
            Record::from_rdata(
                name("example.org."),
                30,
                RData::TXT(TXT::new(vec!["v=1".into(), "x".into()])),
            ),
            Record::from_rdata(
                name("example.org."),
                30,
                RData::SOA(hickory_proto::rr::rdata::SOA::new(
                    name("ns.example.org."),
                    name("hostmaster.example.org."),
                    1,
                    7200,
                    1800,
                    86400,
                    5,
                )),
            ),
        ];
        let mut resp = Response::reply_to(&req, "test");
        resp.answers = records[..3].to_vec().into();
        resp.authorities = records[3..5].to_vec().into();
        resp.additionals = records[5..].to_vec().into();
        assert_eq!(
            uncompressed_len(&req, &resp),
            encoded_uncompressed_len(&req, &resp)
        );
        resp.edns = Some(Edns::new());
        assert_eq!(
            uncompressed_len(&req, &resp),
            encoded_uncompressed_len(&req, &resp)
        );
        let empty = Response::reply_to(&req, "test");
        assert_eq!(
            uncompressed_len(&req, &empty),
            encoded_uncompressed_len(&req, &empty)
        );
    }
}
