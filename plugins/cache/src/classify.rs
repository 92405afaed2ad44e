//! What kind of reply cache is looking at (plugins-resolution.md §2.2): CoreDNS's
//! classification plus cache's own refinements (expired signatures, CNAME-chain NODATA), and
//! whether the reply answers its question.

use std::time::{SystemTime, UNIX_EPOCH};

use plugin::Request;
use plugin::Response;
use plugin::classify::{ReplyType, classify};
use plugin::proto::op::ResponseCode;
use plugin::proto::rr::{DNSClass, Name, RData, Record, RecordType};

/// The class of `resp`, the reply to `req`, at wall-clock time `now_unix` (signature validity
/// is absolute time).
pub fn reply_type(req: &Request, resp: &Response, now_unix: i64) -> ReplyType {
    let base = classify(req, Some(resp));
    if matches!(base, ReplyType::Update | ReplyType::Meta) {
        return base;
    }
    // A DNSSEC reply carrying a signature outside its validity window is not cached
    // (CoreDNS `response.Typify`).
    if resp.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok)
        && has_expired_signature(resp, now_unix)
    {
        return ReplyType::OtherError;
    }
    // RFC 2308 §2.2: a CNAME chain that does not reach the queried type, with an SOA, is NODATA.
    if base == ReplyType::NoError && has_soa(resp) && is_nodata(req, resp) {
        return ReplyType::NoData;
    }
    base
}

/// An SOA in the authority section: what bounds a negative TTL.
pub fn has_soa(resp: &Response) -> bool {
    resp.authorities
        .iter()
        .any(|r| r.record_type() == RecordType::SOA)
}

/// A non-empty answer that does not answer the question (RFC 1034 §3.6.2, RFC 2308 §1).
pub fn is_nodata(req: &Request, resp: &Response) -> bool {
    !resp.answers.is_empty() && !answers_question(req, resp)
}

/// The reply is NOERROR and its answer reaches an RR of the query type by following the
/// CNAME chain from the query name (§2.2).
pub fn answers_question(req: &Request, resp: &Response) -> bool {
    if resp.rcode != ResponseCode::NoError || resp.answers.is_empty() {
        return false;
    }
    // The question the reply answers: its own when the plugin says so (§2.2 judges the reply
    // as written; a mismatch with the query is a drop, counted later).
    let Some(query) = resp.question.as_deref().or(req.query()) else {
        return false;
    };
    let answer = resp.answers.records();
    let (qname, qtype, qclass) = (query.name(), query.query_type(), query.query_class());
    let class_matches = |r: &Record| qclass == DNSClass::ANY || r.dns_class == qclass;
    match qtype {
        RecordType::ANY => answer
            .iter()
            .any(|r| class_matches(r) && r.name.eq_ignore_root(qname)),
        RecordType::CNAME => matches!(cname_target(answer, qname, qclass), Ok(Some(_))),
        _ => match canonical_name(answer, qname, qclass) {
            Some(terminal) => answer.iter().any(|r| {
                r.record_type() == qtype && class_matches(r) && r.name.eq_ignore_root(terminal)
            }),
            None => false,
        },
    }
}

/// Follows the CNAME chain from `name`; None when it is ambiguous (an owner with two different
/// targets, RFC 2181 §10.1) or loops (RFC 1034 §3.6.2).
fn canonical_name<'r>(answer: &'r [Record], name: &'r Name, qclass: DNSClass) -> Option<&'r Name> {
    let mut current = name;
    // Every step visits a new owner, so a chain is at most as long as the answer.
    for _ in 0..=answer.len() {
        match cname_target(answer, current, qclass) {
            Err(Ambiguous) => return None,
            Ok(None) => return Some(current),
            Ok(Some(target)) => current = target,
        }
    }
    None
}

struct Ambiguous;

/// The one CNAME target of `owner` (duplicates naming the same target are fine).
fn cname_target<'r>(
    answer: &'r [Record],
    owner: &Name,
    qclass: DNSClass,
) -> Result<Option<&'r Name>, Ambiguous> {
    let mut target: Option<&Name> = None;
    for record in answer {
        let RData::CNAME(cname) = &record.data else {
            continue;
        };
        if !(qclass == DNSClass::ANY || record.dns_class == qclass)
            || !record.name.eq_ignore_root(owner)
        {
            continue;
        }
        match target {
            Some(t) if !t.eq_ignore_root(&cname.0) => return Err(Ambiguous),
            _ => target = Some(&cname.0),
        }
    }
    Ok(target)
}

/// Seconds since the epoch, for signature validity.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Any RRSIG in any section whose validity window (RFC 4034 §3.1.5, serial arithmetic) does
/// not contain `now`.
fn has_expired_signature(resp: &Response, now: i64) -> bool {
    [&resp.answers, &resp.authorities, &resp.additionals]
        .into_iter()
        .flat_map(|s| s.records())
        .filter(|r| r.record_type() == RecordType::RRSIG)
        .any(|r| !signature_valid_at(r, now))
}

/// The RRSIG's inception ≤ now ≤ expiration, the 32-bit times read modulo 2^32 around now
/// (miekg/dns `ValidityPeriod`). An RRSIG too short to hold the times counts as invalid.
fn signature_valid_at(record: &Record, now: i64) -> bool {
    const YEAR68: i64 = 1 << 31;
    let RData::Unknown { rdata, .. } = &record.data else {
        return true;
    };
    let bytes = &rdata.anything;
    let (Some(expiration), Some(inception)) = (bytes.get(8..12), bytes.get(12..16)) else {
        return false;
    };
    let read = |b: &[u8]| i64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let (expiration, inception) = (read(expiration), read(inception));
    let inception = inception + (inception - now) / YEAR68 * YEAR68;
    let expiration = expiration + (expiration - now) / YEAR68 * YEAR68;
    inception <= now && now <= expiration
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::proto::rr::rdata::{A, CNAME, NULL, SOA};
    use plugin::test_util::query;

    fn name(n: &str) -> Name {
        Name::from_ascii(n).unwrap()
    }

    fn a(owner: &str) -> Record {
        Record::from_rdata(name(owner), 60, RData::A(A::new(192, 0, 2, 1)))
    }

    fn cname(owner: &str, target: &str) -> Record {
        Record::from_rdata(name(owner), 60, RData::CNAME(CNAME(name(target))))
    }

    fn soa() -> Record {
        Record::from_rdata(
            name("example."),
            60,
            RData::SOA(SOA::new(name("ns."), name("h."), 1, 2, 3, 4, 5)),
        )
    }

    fn reply(req: &Request, answers: Vec<Record>, authorities: Vec<Record>) -> Response {
        let mut resp = Response::reply_to(req, "test");
        resp.answers = answers.into();
        resp.authorities = authorities.into();
        resp
    }

    #[test]
    fn cname_chains_answer_only_when_they_reach_the_type() {
        let req = query("W.example.", RecordType::A).build();
        let cases = [
            (
                vec![cname("w.example.", "t.example."), a("T.example.")],
                true,
            ),
            (vec![cname("w.example.", "t.example.")], false),
            (vec![a("other.example.")], false),
            // Two targets for one owner, a loop.
            (
                vec![
                    cname("w.example.", "t.example."),
                    cname("w.example.", "u.example."),
                    a("t.example."),
                ],
                false,
            ),
            (
                vec![
                    cname("w.example.", "t.example."),
                    cname("t.example.", "w.example."),
                ],
                false,
            ),
            // Duplicate CNAMEs naming the same target are one chain.
            (
                vec![
                    cname("w.example.", "t.example."),
                    cname("w.example.", "T.example."),
                    a("t.example."),
                ],
                true,
            ),
        ];
        for (answers, want) in cases {
            let resp = reply(&req, answers.clone(), vec![]);
            assert_eq!(answers_question(&req, &resp), want, "{answers:?}");
        }
        let cname_query = query("w.example.", RecordType::CNAME).build();
        let resp = reply(
            &cname_query,
            vec![cname("w.example.", "t.example.")],
            vec![],
        );
        assert!(answers_question(&cname_query, &resp));
        let any_query = query("w.example.", RecordType::ANY).build();
        let resp = reply(&any_query, vec![a("w.example.")], vec![]);
        assert!(answers_question(&any_query, &resp));
    }

    #[test]
    fn a_dangling_chain_with_an_soa_is_nodata() {
        let req = query("w.example.", RecordType::A).build();
        let with_soa = reply(&req, vec![cname("w.example.", "t.example.")], vec![soa()]);
        assert_eq!(reply_type(&req, &with_soa, 0), ReplyType::NoData);
        let without = reply(&req, vec![cname("w.example.", "t.example.")], vec![]);
        assert_eq!(reply_type(&req, &without, 0), ReplyType::NoError);
        assert!(is_nodata(&req, &without));
    }

    fn rrsig(inception: u32, expiration: u32) -> Record {
        let mut rdata = vec![0, 1, 8, 2, 0, 0, 0, 60];
        rdata.extend_from_slice(&expiration.to_be_bytes());
        rdata.extend_from_slice(&inception.to_be_bytes());
        rdata.extend_from_slice(&[0, 1, 0]);
        Record::from_rdata(
            name("w.example."),
            60,
            RData::Unknown {
                code: RecordType::RRSIG,
                rdata: NULL::with(rdata),
            },
        )
    }

    #[test]
    fn signature_windows_use_serial_arithmetic() {
        let now = 1_800_000_000;
        assert!(signature_valid_at(
            &rrsig(now as u32 - 10, now as u32 + 10),
            now
        ));
        assert!(!signature_valid_at(
            &rrsig(now as u32 - 20, now as u32 - 10),
            now
        ));
        assert!(!signature_valid_at(
            &rrsig(now as u32 + 10, now as u32 + 20),
            now
        ));
    }

    #[test]
    fn an_expired_signature_matters_only_with_do_in_the_reply() {
        let req = query("w.example.", RecordType::A).edns(1232, true).build();
        let mut resp = reply(&req, vec![a("w.example."), rrsig(1, 2)], vec![]);
        assert_eq!(reply_type(&req, &resp, unix_now()), ReplyType::NoError);
        let mut edns = plugin::proto::op::Edns::new();
        edns.set_dnssec_ok(true);
        resp.edns = Some(edns);
        assert_eq!(reply_type(&req, &resp, unix_now()), ReplyType::OtherError);
    }
}
