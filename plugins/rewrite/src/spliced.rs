//! The rewritten query's wire form without re-encoding the whole message: the client's
//! bytes with only the question replaced. Rewriting is on the hot path of every matching
//! query, and hickory's encoder costs more than the rest of the rewrite together.

use bytes::Bytes;
use hickory_proto::op::Query;
use plugin::writer::Writer;

/// DNS header length (RFC 1035 §4.1.1).
const HEADER_LEN: usize = 12;

/// `wire` (a query with exactly one question, as the listener checked) with its question
/// replaced by `question`. `None` when the question is not laid out plainly (a compression
/// pointer in it, a short packet): the caller then encodes the message instead.
pub fn with_question(wire: &[u8], question: &Query) -> Option<Bytes> {
    let rest = HEADER_LEN + question_len(wire.get(HEADER_LEN..)?)?;
    let mut out = Vec::with_capacity(wire.len() + 255);
    out.extend_from_slice(&wire[..HEADER_LEN]);
    let mut writer = Writer::new(&mut out);
    writer.name_uncompressed(question.name());
    writer.u16(u16::from(question.query_type()));
    writer.u16(u16::from(question.query_class()));
    out.extend_from_slice(&wire[rest..]);
    Some(out.into())
}

/// Length of the question at the start of `body`: QNAME as labels ending in the root label,
/// then QTYPE and QCLASS (RFC 1035 §4.1.2). A pointer (RFC 1035 §4.1.4) is not expected in
/// the first name of a message and is refused.
fn question_len(body: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let len = usize::from(*body.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        at += len;
    }
    let end = at + 4;
    (end <= body.len()).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Edns, Message, MessageType, OpCode};
    use hickory_proto::rr::{Name, RecordType};

    fn query_wire(name: &str, edns: bool) -> Vec<u8> {
        let mut message = Message::new(0x4242, MessageType::Query, OpCode::Query);
        message.metadata.recursion_desired = true;
        message.add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
        if edns {
            let mut e = Edns::new();
            e.set_max_payload(1232);
            e.set_dnssec_ok(true);
            message.set_edns(e);
        }
        message.to_vec().unwrap()
    }

    #[test]
    fn only_the_question_changes() {
        for edns in [false, true] {
            let wire = query_wire("Web-Service.cluster.local.", edns);
            let new = Query::query(
                Name::from_ascii("webservice1.com.").unwrap(),
                RecordType::AAAA,
            );
            let spliced = with_question(&wire, &new).unwrap();
            let mut expected = Message::from_vec(&wire).unwrap();
            expected.queries = vec![new.clone()];
            assert_eq!(Message::from_vec(&spliced).unwrap(), expected);
            assert_eq!(&spliced[..], &expected.to_vec().unwrap()[..]);
        }
    }

    #[test]
    fn odd_questions_are_left_to_the_encoder() {
        let new = Query::query(Name::root(), RecordType::A);
        let mut wire = query_wire("a.example.", false);
        assert!(with_question(&wire[..14], &new).is_none());
        wire[12] = 0xC0;
        assert!(with_question(&wire, &new).is_none());
    }
}
