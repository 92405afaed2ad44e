//! What every fuzz target that drives a plugin asserts about the reply a client would get.
//! Shared by the plugins' fuzz entry points (compiled normally, as cargo-fuzz links them).

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::RData;
use hickory_proto::serialize::binary::DecodeError;

use crate::reply::Outcome;
use crate::request::Request;
use crate::response::Response;
use crate::wire::encode_reply;

/// What the server would write for `outcome` (as its dispatcher does: the response, or the
/// error reply of a failure; SERVFAIL when the response cannot be encoded) must parse, carry
/// the query's ID and question (or the one the answering plugin named) and fit the client's
/// size. Panics otherwise: the fuzzer reports it.
pub fn check_client_view(req: &Request, outcome: &Outcome) {
    let response = match outcome {
        Ok(resp) => resp.clone(),
        Err(failure) => Response::error_to(req, failure.rcode),
    };
    let mut out = Vec::new();
    if encode_reply(req, &response, &mut out).is_err() {
        let servfail = Response::error_to(req, ResponseCode::ServFail);
        if let Err(e) = encode_reply(req, &servfail, &mut out) {
            panic!("even SERVFAIL cannot be encoded: {e}");
        }
    }
    let message = match Message::from_vec(&out) {
        Ok(message) => message,
        // A zero-length record (hickory's `Update0`, decoded from an UPDATE-opcode reply) is
        // relayed with RDLENGTH 0 as CoreDNS relays it; hickory refuses that outside UPDATE.
        Err(DecodeError::InvalidEmptyRecord) if has_empty_record(&response) => return,
        Err(e) => panic!("the client's reply does not parse ({e}): {out:02x?}"),
    };
    assert_eq!(message.metadata.message_type, MessageType::Response);
    assert_eq!(message.metadata.id, req.id(), "reply keeps the query's ID");
    // The query's question, unless the plugin that answered named another (wire.rs).
    let question = response.question.as_deref().or(req.query());
    assert_eq!(
        message.queries.first(),
        question,
        "reply keeps the query's question"
    );
    assert_eq!(message.queries.len(), 1);
    let limit = usize::from(req.max_reply_size());
    assert!(out.len() <= limit, "{} bytes over {limit}", out.len());
}

/// A record without RDATA in any section of `response`.
pub fn has_empty_record(response: &Response) -> bool {
    [
        &response.answers,
        &response.authorities,
        &response.additionals,
    ]
    .into_iter()
    .flat_map(|section| section.iter())
    .any(|record| matches!(record.data, RData::Update0(_)))
}
