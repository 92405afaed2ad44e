//! A new query derived from the one being served: the same client, listener and EDNS, another
//! question. What a plugin sends through the server (`Upstream`, CoreDNS `upstream.Lookup`) or
//! down the rest of its chain (autopath's search-path tries, kubernetes.md §15), as CoreDNS
//! copies the `dns.Msg` and changes its question.

use bytes::Bytes;
use hickory_proto::op::Query;

use crate::request::Request;

/// `origin` with `question` instead of its own, and the header ID and RD bit given. Kept from
/// `origin`: opcode, the other header flags (CD), the OPT record with its options and DO bit,
/// the EDNS UDP size as `bufsize` left it, client, local address, transport and server label.
/// The wire form is re-encoded (a plugin that forwards sends it as is). `None` when the new
/// message cannot be encoded.
pub fn with_question(
    origin: &Request,
    question: Query,
    id: u16,
    recursion_desired: bool,
) -> Option<Request> {
    let mut message = origin.message().clone();
    message.metadata.id = id;
    message.metadata.recursion_desired = recursion_desired;
    message.queries = vec![question];
    if let (Some(edns), Some(size)) = (message.edns.as_mut(), origin.edns_udp_size()) {
        edns.set_max_payload(size);
    }
    let wire = Bytes::from(message.to_vec().ok()?);
    Some(Request::from_message(
        message,
        wire,
        origin.client(),
        origin.local(),
        origin.transport(),
        origin.server().clone(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Edns, Message, MessageType, OpCode};
    use hickory_proto::rr::{DNSClass, Name, RecordType};
    use std::sync::Arc;

    #[test]
    fn only_the_question_id_and_rd_change() {
        let mut message = Message::new(7, MessageType::Query, OpCode::Query);
        message.metadata.checking_disabled = true;
        message.add_query(Query::query(
            Name::from_ascii("x.example.org.").unwrap(),
            RecordType::TXT,
        ));
        let mut edns = Edns::new();
        edns.set_max_payload(4096);
        edns.set_dnssec_ok(true);
        message.set_edns(edns);
        let wire = Bytes::from(message.to_vec().unwrap());
        let origin = Request::from_message(
            message,
            wire,
            "10.1.2.3:5353".parse().unwrap(),
            "127.0.0.1:53".parse().unwrap(),
            crate::Transport::Tcp,
            Arc::from("dns://:53"),
        );
        origin.clamp_edns_udp_size(1232);
        let mut question = Query::query(Name::from_ascii("Y.example.org.").unwrap(), RecordType::A);
        question.set_query_class(DNSClass::CH);
        let derived = with_question(&origin, question, 99, true).unwrap();
        assert_eq!(derived.id(), 99);
        assert!(derived.message().metadata.recursion_desired);
        assert!(derived.message().metadata.checking_disabled);
        assert_eq!(derived.qname_lower(), "y.example.org.");
        assert_eq!(derived.qtype(), RecordType::A);
        assert_eq!(derived.qclass(), DNSClass::CH);
        assert_eq!(derived.edns_udp_size(), Some(1232));
        assert!(derived.do_bit());
        assert_eq!(derived.client(), origin.client());
        assert_eq!(derived.local(), origin.local());
        assert_eq!(derived.transport(), crate::Transport::Tcp);
        assert_eq!(derived.server(), origin.server());
        let decoded = Message::from_vec(derived.wire()).unwrap();
        assert_eq!(decoded.metadata.id, 99);
        assert_eq!(decoded.queries[0].name().to_string(), "Y.example.org.");
        assert_eq!(decoded.edns.unwrap().max_payload(), 1232);
    }
}
