//! Reply builders for scripts: each takes the query received and returns the answer a real
//! upstream (well-behaved or not) would give. [`crate::Action::Reply`] writes the query's ID
//! into whatever is built here, so only [`wrong_id`] has to produce raw bytes.

use std::net::Ipv4Addr;

use hickory_proto::op::{Edns, Message, Metadata, ResponseCode};
use hickory_proto::rr::rdata::{A, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::log::skipped;
use crate::{Action, Seen};

pub use crate::echoed_opt::EchoedOpt;

/// The address in [`truncated`]'s one A record.
pub const TRUNCATED_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// The address in the answers of [`wrong_id`] and [`wrong_question`]: a client that accepts
/// either shows this address, which no correct answer has.
pub const WRONG_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 66);
/// The TTL of the records made by [`truncated`], [`wrong_id`], [`wrong_question`],
/// [`many_a`] and [`echo_opt`].
pub const FIXED_TTL: u32 = 30;
/// The UDP payload size a reply advertises when the query had EDNS (the 2020 DNS flag day
/// value).
pub const REPLY_UDP_SIZE: u16 = 1232;
/// The SOA's MNAME and RNAME in negative answers.
pub const SOA_MNAME: &str = "ns.fake-upstream.test.";
pub const SOA_RNAME: &str = "hostmaster.fake-upstream.test.";

/// An empty NOERROR answer to `query`: QR=1, its ID, opcode, RD and CD, its question, RA=1
/// (we play a recursive resolver). If the query had EDNS, so has the reply (RFC 6891 §7):
/// version 0, payload [`REPLY_UDP_SIZE`], the query's DO bit, no options.
pub fn reply(query: &Message) -> Message {
    let mut metadata = Metadata::response_from_request(&query.metadata);
    metadata.recursion_available = true;
    let mut response = Message::response(metadata.id, metadata.op_code);
    response.metadata = metadata;
    response.queries = query.queries.clone();
    if let Some(query_edns) = &query.edns {
        let mut edns = Edns::new();
        edns.set_max_payload(REPLY_UDP_SIZE);
        edns.set_dnssec_ok(query_edns.flags().dnssec_ok);
        response.edns = Some(edns);
    }
    response
}

/// The name asked about, exactly as the query spelled it (case kept), or the root for a
/// query without a question.
fn asked(query: &Message) -> Name {
    query
        .queries
        .first()
        .map_or_else(Name::root, |question| question.name().clone())
}

/// [`reply`] with one A record `ip` (TTL `ttl`) for the asked name, whatever type was asked.
pub fn answer_a(query: &Message, ttl: u32, ip: Ipv4Addr) -> Message {
    let mut response = reply(query);
    response.add_answer(Record::from_rdata(asked(query), ttl, RData::A(A(ip))));
    response
}

/// A script: a well-behaved upstream that knows every name. A (and ANY) queries get one A
/// record `ip` with TTL `ttl`, owned by the name exactly as asked (its case echoed, for the
/// 0x20 / case tests); other types get an empty NOERROR answer (NODATA), as a real resolver
/// gives for a name with only an A record.
pub fn echo_a(ttl: u32, ip: Ipv4Addr) -> impl Fn(&Seen) -> Action + Send + Sync + 'static {
    move |seen: &Seen| {
        let asks_a = seen
            .message
            .queries
            .first()
            .is_some_and(|q| matches!(q.query_type(), RecordType::A | RecordType::ANY));
        if asks_a {
            Action::Reply(answer_a(&seen.message, ttl, ip))
        } else {
            Action::Reply(reply(&seen.message))
        }
    }
}

/// The SOA for a negative answer about `name`: owned by its parent (the zone it would be in),
/// TTL `soa_ttl`, MINIMUM `minimum`. A negative answer is cached for min(TTL, MINIMUM)
/// (RFC 2308 §5).
fn soa_for(name: &Name, soa_ttl: u32, minimum: u32) -> Record {
    let zone = if name.is_root() {
        Name::root()
    } else {
        name.base_name()
    };
    let soa = SOA::new(
        Name::from_ascii(SOA_MNAME).unwrap_or_else(|_| Name::root()),
        Name::from_ascii(SOA_RNAME).unwrap_or_else(|_| Name::root()),
        1,
        3600,
        600,
        86400,
        minimum,
    );
    Record::from_rdata(zone, soa_ttl, RData::SOA(soa))
}

/// NXDOMAIN with an SOA in the authority section (RFC 2308 §2.1): see `soa_for` for the SOA.
pub fn nxdomain_with_soa(query: &Message, soa_ttl: u32, minimum: u32) -> Message {
    let mut response = with_rcode(query, ResponseCode::NXDomain);
    response.add_authority(soa_for(&asked(query), soa_ttl, minimum));
    response
}

/// NODATA (NOERROR, no answer) with an SOA in the authority section (RFC 2308 §2.2).
pub fn nodata_with_soa(query: &Message, soa_ttl: u32, minimum: u32) -> Message {
    let mut response = reply(query);
    response.add_authority(soa_for(&asked(query), soa_ttl, minimum));
    response
}

/// [`reply`] with response code `rcode` (SERVFAIL, REFUSED, ...) and nothing else.
pub fn with_rcode(query: &Message, rcode: ResponseCode) -> Message {
    let mut response = reply(query);
    response.metadata.response_code = rcode;
    response
}

/// A UDP answer cut short: TC=1 and one A record [`TRUNCATED_A`], which a client must not use
/// but retry over TCP (RFC 1035 §4.2.1, RFC 7766 §5).
pub fn truncated(query: &Message) -> Message {
    let mut response = answer_a(query, FIXED_TTL, TRUNCATED_A);
    response.metadata.truncation = true;
    response
}

/// An answer ([`WRONG_A`]) to the right question with the wrong ID (the query's plus one),
/// already encoded: send it with [`Action::Raw`] so the ID stays wrong. A client must ignore
/// it and keep waiting (RFC 5452 §4.3).
pub fn wrong_id(query: &Message) -> Vec<u8> {
    let mut response = answer_a(query, FIXED_TTL, WRONG_A);
    response.metadata.id = query.metadata.id.wrapping_add(1);
    match response.to_vec() {
        Ok(wire) => wire,
        Err(e) => {
            skipped(format_args!("cannot encode the wrong-ID reply: {e}"));
            Vec::new()
        }
    }
}

/// An answer with the right ID to a different question: `other_name` (same type and class),
/// with one A record [`WRONG_A`] for it. A client must not take it as the answer to its
/// query (RFC 5452 §4.3).
pub fn wrong_question(query: &Message, other_name: &Name) -> Message {
    let mut response = reply(query);
    for question in &mut response.queries {
        question.set_name(other_name.clone());
    }
    response.add_answer(Record::from_rdata(
        other_name.clone(),
        FIXED_TTL,
        RData::A(A(WRONG_A)),
    ));
    response
}

/// [`reply`] with `n` A records for the asked name (10.0.0.1, 10.0.0.2, ... ; TTL
/// [`FIXED_TTL`]): with `n` = 30 and a short name the answer still fits 512 bytes, with
/// more it does not, for the truncation and buffer-size tests.
pub fn many_a(query: &Message, n: usize) -> Message {
    let mut response = reply(query);
    let name = asked(query);
    let first = u32::from(Ipv4Addr::new(10, 0, 0, 1));
    for i in 0..n {
        let offset = u32::try_from(i).unwrap_or(u32::MAX);
        let ip = Ipv4Addr::from(first.saturating_add(offset));
        response.add_answer(Record::from_rdata(name.clone(), FIXED_TTL, RData::A(A(ip))));
    }
    response
}

/// [`reply`] with one TXT record for the asked name telling what OPT the query carried (for
/// the EDNS test F18): see [`EchoedOpt`] for the strings and how to read them back.
pub fn echo_opt(query: &Message) -> Message {
    let mut response = reply(query);
    let strings = EchoedOpt::of_query(query).map_or_else(
        || vec![EchoedOpt::NO_EDNS.to_string()],
        |echoed| echoed.to_strings(),
    );
    response.add_answer(Record::from_rdata(
        asked(query),
        FIXED_TTL,
        RData::TXT(TXT::new(strings)),
    ));
    response
}
