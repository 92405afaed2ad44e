//! Bytes in and out: the header checks done before decoding, and the one encoder of replies.

use std::cell::RefCell;

use hickory_proto::ProtoError;
use hickory_proto::op::{Edns, OpCode, ResponseCode};
use hickory_proto::rr::rdata::opt::EdnsCode;
use hickory_proto::rr::{Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder, NameEncoding};

use crate::request::Request;
use crate::response::Response;

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

/// The OPT record of a reply, per corefile.md §7.3: present only when the query had one;
/// version 0, the query's (clamped) size, DO copied from the query, extended rcode bits.
fn reply_opt(req: &Request, resp: &Response, with_options: bool) -> Option<Record> {
    let query_edns = req.edns()?;
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
    encode_limited(req, resp, usize::from(req.max_reply_size()), out)
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
    {
        let mut encoder = BinEncoder::new(out);
        encoder.emit_vec(&[0; HEADER_LEN])?;
        if let Some(query) = req.query() {
            query.emit(&mut encoder)?;
            counts[0] = 1;
        }
        // Options echoed from the query (PADDING, COOKIE ...) can alone exceed what the client
        // accepts; then the OPT goes out bare (RFC 6891 §7: never more than the requestor's
        // payload size; RFC 7830 §3: no padding beyond it).
        if opt
            .as_ref()
            .is_some_and(|o| encoder.offset() + opt_wire_len(o) > limit)
        {
            opt = reply_opt(req, resp, false);
        }
        let opt_len = opt.as_ref().map_or(0, opt_wire_len);
        let budget = limit.saturating_sub(opt_len).max(encoder.offset());
        let sections = [&resp.answers, &resp.authorities, &resp.additionals];
        'sections: for (index, section) in sections.into_iter().enumerate() {
            for record in section.iter() {
                let mark = encoder.offset();
                record.emit(&mut encoder)?;
                if encoder.offset() > budget {
                    encoder.set_offset(mark);
                    encoder.trim();
                    truncated = true;
                    break 'sections;
                }
                counts[index + 1] += 1;
            }
        }
        if let Some(opt) = &opt {
            opt.emit(&mut encoder)?;
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

/// The length of `resp` as the plugin handed it over: uncompressed, untruncated, without the
/// OPT the server core adds (what CoreDNS's `{rsize}` and response-size histogram measure).
pub fn uncompressed_len(req: &Request, resp: &Response) -> usize {
    SCRATCH.with(|scratch| {
        let mut buf = scratch.borrow_mut();
        buf.clear();
        let mut encoder = BinEncoder::new(&mut buf);
        encoder.set_name_encoding(NameEncoding::Uncompressed);
        let mut len = HEADER_LEN;
        if let Some(query) = req.query()
            && query.emit(&mut encoder).is_err()
        {
            return len;
        }
        for record in resp
            .answers
            .iter()
            .chain(resp.authorities.iter())
            .chain(resp.additionals.iter())
        {
            if record.record_type() == RecordType::OPT {
                continue;
            }
            if record.emit(&mut encoder).is_err() {
                break;
            }
        }
        if let Some(edns) = &resp.edns {
            let _ = Record::from(edns).emit(&mut encoder);
        }
        len += encoder.offset();
        len
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
