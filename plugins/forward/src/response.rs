//! The upstream's reply as the chain's [`Response`] (plugins-resolution.md §1.9–§1.11).

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::Record;
use plugin::Request;
use plugin::response::{Flags, Response, Section};

use crate::NAME;

/// True when `reply` answers `req`'s question: QR=1, exactly one question with the same name
/// (case-insensitive), type and class (§1.9).
pub fn answers_question(req: &Request, reply: &Message) -> bool {
    let (Some(asked), [answered]) = (req.query(), reply.queries.as_slice()) else {
        return false;
    };
    reply.metadata.message_type == MessageType::Response
        && answered.name() == asked.name()
        && answered.query_type() == asked.query_type()
        && answered.query_class() == asked.query_class()
}

/// The reply relayed as received: rcode, AA/TC/RD/RA/AD/CD, sections and its OPT (§1.10).
/// The client's ID and question are put back when the server encodes it.
pub fn relay(reply: Message) -> Response {
    let m = reply.metadata;
    Response {
        rcode: m.response_code,
        flags: Flags {
            authoritative: m.authoritative,
            truncated: m.truncation,
            recursion_desired: m.recursion_desired,
            recursion_available: m.recursion_available,
            authentic_data: m.authentic_data,
            checking_disabled: m.checking_disabled,
        },
        answers: section(reply.answers),
        authorities: section(reply.authorities),
        additionals: section(reply.additionals),
        edns: reply.edns,
        plugin: NAME,
        uniform_ttl: None,
        question: None,
        prepared: None,
    }
}

/// The FORMERR forward writes for a reply to another question (§1.9): question, RD and CD
/// copied from the query, no records.
pub fn format_error(req: &Request) -> Response {
    Response::reply_to(req, NAME).with_rcode(ResponseCode::FormErr)
}

/// An empty section allocates nothing.
fn section(records: Vec<Record>) -> Section {
    if records.is_empty() {
        Section::default()
    } else {
        records.into()
    }
}
