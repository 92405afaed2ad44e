//! Turning the bytes of an accepted reply (right ID) into a message
//! (plugins-resolution.md §1.6, §1.9).

use hickory_proto::op::{Header, Message, Query};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, DecodeError};

/// Decodes a reply whose ID matched.
///
/// Over UDP, a datagram larger than our receive limit (`overflowed`) or one whose records run
/// past its end is an upstream that sent more than the client can take: it becomes its own
/// header with TC=1 and empty sections, so the client retries over TCP (CoreDNS
/// `truncateResponse`). Any other decode error fails the attempt.
pub fn decode(bytes: &[u8], udp: bool, overflowed: bool) -> Result<Message, DecodeError> {
    if udp && overflowed {
        return truncated(bytes);
    }
    match Message::from_vec(bytes) {
        Ok(message) => Ok(message),
        Err(DecodeError::InsufficientBytes) if udp => truncated(bytes),
        Err(e) => Err(e),
    }
}

/// The header (TC set) and question of `bytes`, nothing else.
fn truncated(bytes: &[u8]) -> Result<Message, DecodeError> {
    let mut decoder = BinDecoder::new(bytes);
    let Header {
        mut metadata,
        counts,
    } = Header::read(&mut decoder)?;
    metadata.truncation = true;
    let mut message = Message::new(metadata.id, metadata.message_type, metadata.op_code);
    message.metadata = metadata;
    if counts.queries >= 1 {
        // A question cut off too leaves the reply without one: validation answers FORMERR.
        if let Ok(query) = Query::read(&mut decoder) {
            message.queries.push(query);
        }
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{MessageType, OpCode};
    use hickory_proto::rr::{Name, RData, Record, RecordType, rdata::A};

    fn reply_with_records(n: u8) -> Vec<u8> {
        let mut m = Message::new(7, MessageType::Response, OpCode::Query);
        let name = Name::from_ascii("big.example.").unwrap();
        m.add_query(Query::query(name.clone(), RecordType::A));
        for i in 0..n {
            m.add_answer(Record::from_rdata(
                name.clone(),
                300,
                RData::A(A::new(192, 0, 2, i)),
            ));
        }
        m.to_vec().unwrap()
    }

    #[test]
    fn whole_reply_decodes() {
        let m = decode(&reply_with_records(3), true, false).unwrap();
        assert_eq!(m.answers.len(), 3);
        assert!(!m.metadata.truncation);
    }

    #[test]
    fn overflow_and_cut_records_become_a_tc_header() {
        let bytes = reply_with_records(30);
        for m in [
            decode(&bytes[..200], true, true).unwrap(),
            decode(&bytes[..200], true, false).unwrap(),
        ] {
            assert!(m.metadata.truncation);
            assert_eq!(m.metadata.id, 7);
            assert!(m.answers.is_empty());
            assert_eq!(m.queries.len(), 1);
        }
        // Over TCP a cut message is an error.
        assert!(decode(&bytes[..200], false, false).is_err());
    }
}
