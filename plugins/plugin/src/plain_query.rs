//! The common query read straight from its bytes: a standard QUERY with one question of
//! plain host-name labels and nothing else (no EDNS, no records). Stub resolvers send exactly
//! this (glibc and musl add no OPT record unless told to), and what a cache hit or a cluster
//! answer needs from it is the header bits, the question and its lower-cased name.
//!
//! hickory's decoder builds a `Message` with an owned `Name` label by label, which was a third
//! of the server's own work on a cache hit; a [`Request`](crate::Request) of a plain query
//! decodes the full message only when a plugin asks for it. Anything else (EDNS, compression
//! pointers in the question, escaped or binary labels, other opcodes, more sections) is left
//! to hickory: this reader accepts only what hickory decodes the same way.

use hickory_proto::op::OpCode;

use crate::wire::HEADER_LEN;

/// Longest name on the wire (RFC 1035 §3.1), as hickory enforces it.
const MAX_NAME_LEN: usize = 255;
/// Longest label (RFC 1035 §2.3.4); a length octet above it is a pointer or an extended label.
const MAX_LABEL_LEN: usize = 63;

/// The header bits and the question of a query, whichever way it was decoded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header {
    pub id: u16,
    pub op_code: OpCode,
    pub recursion_desired: bool,
    pub checking_disabled: bool,
    pub authentic_data: bool,
}

/// What [`read`] found in a plain query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlainQuery {
    pub header: Header,
    /// The question name's wire form ends here (its root octet included): it starts right
    /// after the header.
    pub name_end: usize,
    pub qtype: u16,
    pub qclass: u16,
    /// The question name lower-cased in presentation form, fully qualified.
    pub name_lower: String,
}

/// `wire` read as a plain query, or `None` when it is anything else (then hickory decodes it).
pub(crate) fn read(wire: &[u8]) -> Option<PlainQuery> {
    let header = wire.get(..HEADER_LEN)?;
    let count = |at: usize| u16::from_be_bytes([header[at], header[at + 1]]);
    // QR=0, OPCODE=QUERY (0); one question; no answer, authority or additional records.
    let (flags_high, flags_low) = (header[2], header[3]);
    if flags_high & 0xF8 != 0 || count(4) != 1 || count(6) != 0 || count(8) != 0 || count(10) != 0 {
        return None;
    }
    // The name, whole and without pointers. Its presentation form is the wire form without
    // the first length octet, every later length octet (the root's too) made a dot.
    let name_end = question_name_end(wire)?;
    let (&first, rest) = wire[HEADER_LEN..name_end].split_first()?;
    // The root alone goes to hickory (its presentation form is not built label by label).
    if rest.is_empty() {
        return None;
    }
    let mut lower = rest.to_vec();
    let mut labels = 0;
    let mut at = usize::from(first);
    while let Some(octet) = lower.get_mut(at) {
        let len = usize::from(*octet);
        *octet = b'.';
        labels += 1;
        at += len + 1;
    }
    // Then every byte, sixteen at a time: lower the case, and check that each byte is plain
    // or one of those dots (a dot inside a label would need escaping, and would make one dot
    // too many).
    let mut plain = true;
    let mut dots = 0;
    let (blocks, tail) = lower.as_chunks_mut::<BLOCK>();
    for block in blocks {
        let (block_plain, block_dots) = lower_block(block);
        plain &= block_plain;
        dots += block_dots;
    }
    if !tail.is_empty() {
        // Padded with a plain byte that is not a dot.
        let mut block = [b'a'; BLOCK];
        block[..tail.len()].copy_from_slice(tail);
        let (block_plain, block_dots) = lower_block(&mut block);
        tail.copy_from_slice(&block[..tail.len()]);
        plain &= block_plain;
        dots += block_dots;
    }
    if !plain || dots != labels {
        return None;
    }
    // All plain bytes are ASCII: the check is cheap and never fails.
    let name_lower = String::from_utf8(lower).ok()?;
    let fixed = wire.get(name_end..name_end + 4)?;
    Some(PlainQuery {
        header: Header {
            id: count(0),
            op_code: OpCode::Query,
            recursion_desired: flags_high & 0x01 != 0,
            // Z, AD and CD are the low byte's 0x40, 0x20 and 0x10 (RFC 2535 §6.1).
            authentic_data: flags_low & 0x20 != 0,
            checking_disabled: flags_low & 0x10 != 0,
        },
        name_end,
        qtype: u16::from_be_bytes([fixed[0], fixed[1]]),
        qclass: u16::from_be_bytes([fixed[2], fixed[3]]),
        name_lower,
    })
}

/// Where the question name that starts right after the header ends (its root octet
/// included), when it is written without pointers: the bytes a reply can copy.
pub(crate) fn question_name_end(wire: &[u8]) -> Option<usize> {
    let mut at = HEADER_LEN;
    loop {
        let len = usize::from(*wire.get(at)?);
        if len == 0 {
            break;
        }
        if len > MAX_LABEL_LEN {
            return None;
        }
        at += 1 + len;
    }
    (at + 1 - HEADER_LEN <= MAX_NAME_LEN).then_some(at + 1)
}

/// Bytes lowered and checked at once by [`lower_block`]: one SSE2 register.
const BLOCK: usize = 16;

/// Lower-cases a block in place: whether every byte is plain or a dot, and how many dots.
/// A fixed length and no branches, so the compiler makes it a few vector instructions.
fn lower_block(block: &mut [u8; BLOCK]) -> (bool, usize) {
    let mut plain = true;
    let mut dots = 0u8;
    for b in block {
        let l = lowered(*b);
        *b = l;
        plain &= is_plain_or_dot(l);
        dots += u8::from(l == b'.');
    }
    (plain, usize::from(dots))
}

/// `b` lower-cased when it is an ASCII capital, else as it is. Branch-free, so a loop of it
/// is vectorised (`u8::to_ascii_lowercase` is too, but this spells out why it can be).
fn lowered(b: u8) -> u8 {
    b | (u8::from(b.wrapping_sub(b'A') < 26) << 5)
}

/// A byte of a lower-cased host name (and of the labels `_srv`, `*`), which needs no
/// escaping in presentation form, or a dot between labels. Branch-free, as [`lowered`].
fn is_plain_or_dot(b: u8) -> bool {
    (b.wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'0') < 10)
        | (b == b'-')
        | (b == b'_')
        | (b == b'*')
        | (b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Edns, Message, MessageType, Query};
    use hickory_proto::rr::{DNSClass, Name, RecordType};
    use hickory_proto::serialize::binary::BinEncodable;

    fn query(name: &str, qtype: RecordType) -> Message {
        let mut message = Message::new(0x1234, MessageType::Query, OpCode::Query);
        message.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
        message
    }

    /// `read` and hickory agree on every field `read` reports, and the lower-cased name is the
    /// one `Request` builds from hickory's name.
    fn assert_agrees(wire: &[u8]) {
        let Some(plain) = read(wire) else { return };
        let message = Message::from_vec(wire).expect("hickory decodes what read accepts");
        let meta = &message.metadata;
        assert_eq!(plain.header.id, meta.id);
        assert_eq!(plain.header.op_code, meta.op_code);
        assert_eq!(meta.message_type, MessageType::Query);
        assert_eq!(plain.header.recursion_desired, meta.recursion_desired);
        assert_eq!(plain.header.checking_disabled, meta.checking_disabled);
        assert_eq!(plain.header.authentic_data, meta.authentic_data);
        assert_eq!(message.queries.len(), 1);
        assert!(message.edns.is_none() && message.additionals.is_empty());
        let question = &message.queries[0];
        assert_eq!(plain.qtype, u16::from(question.query_type()));
        assert_eq!(plain.qclass, u16::from(question.query_class()));
        assert_eq!(
            plain.name_lower,
            crate::request::lower_fqdn(question.name())
        );
        assert_eq!(
            &wire[HEADER_LEN..plain.name_end],
            &question.name().to_bytes().unwrap()[..]
        );
    }

    #[test]
    fn a_plain_query_is_read_as_hickory_reads_it() {
        let mut message = query("WWW.Example.ORG.", RecordType::AAAA);
        message.metadata.recursion_desired = true;
        message.metadata.checking_disabled = true;
        let wire = message.to_vec().unwrap();
        let plain = read(&wire).expect("plain");
        assert_eq!(plain.name_lower, "www.example.org.");
        assert_eq!(plain.qtype, 28);
        assert!(plain.header.recursion_desired && plain.header.checking_disabled);
        assert_agrees(&wire);
        for (name, qtype) in [
            ("_http._tcp.svc.cluster.local.", RecordType::SRV),
            ("*.wild.example.", RecordType::TXT),
            ("a.", RecordType::from(65280)),
        ] {
            let wire = query(name, qtype).to_vec().unwrap();
            assert!(read(&wire).is_some(), "{name}");
            assert_agrees(&wire);
        }
        let mut chaos = query("version.bind.", RecordType::TXT);
        chaos.queries[0].set_query_class(DNSClass::CH);
        assert_eq!(read(&chaos.to_vec().unwrap()).unwrap().qclass, 3);
    }

    #[test]
    fn anything_else_is_left_to_hickory() {
        let plain = query("www.example.org.", RecordType::A).to_vec().unwrap();
        let with = |edit: &dyn Fn(&mut Vec<u8>)| {
            let mut wire = plain.clone();
            edit(&mut wire);
            wire
        };
        let mut with_edns = query("www.example.org.", RecordType::A);
        with_edns.edns = Some(Edns::new());
        let escaped = Name::from_labels(vec![&b"a.b"[..], b"example"]).unwrap();
        let mut odd_label = query("x.", RecordType::A);
        odd_label.queries[0].set_name(escaped);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("EDNS", with_edns.to_vec().unwrap()),
            ("a response", with(&|w| w[2] |= 0x80)),
            ("opcode NOTIFY", with(&|w| w[2] |= 4 << 3)),
            ("two questions", with(&|w| w[5] = 2)),
            ("an answer", with(&|w| w[7] = 1)),
            ("cut in the name", plain[..16].to_vec()),
            ("cut in the type", plain[..plain.len() - 1].to_vec()),
            ("a pointer", with(&|w| w[12] = 0xC0)),
            ("a dot in a label", odd_label.to_vec().unwrap()),
            ("the root", query(".", RecordType::NS).to_vec().unwrap()),
        ];
        for (what, wire) in cases {
            assert!(read(&wire).is_none(), "{what}");
        }
    }

    #[test]
    fn a_name_of_255_octets_is_read_and_one_more_is_not() {
        let labels = |n: usize, last: usize| {
            let mut name: String = "a".repeat(62) + ".";
            name = name.repeat(n);
            name + &"b".repeat(last) + "."
        };
        // Four labels of 62 plus one of 2: 4 * 63 + 3 + 1 = 256 octets with the root.
        let wire = |text: &str| {
            let mut wire = query("x.", RecordType::A).to_vec().unwrap();
            let mut name = Vec::new();
            for label in text.trim_end_matches('.').split('.') {
                name.push(label.len() as u8);
                name.extend_from_slice(label.as_bytes());
            }
            name.push(0);
            wire.splice(HEADER_LEN..HEADER_LEN + 3, name);
            wire
        };
        assert!(read(&wire(&labels(4, 1))).is_some(), "255 octets");
        assert_agrees(&wire(&labels(4, 1)));
        assert!(read(&wire(&labels(4, 2))).is_none(), "256 octets");
        assert!(Message::from_vec(&wire(&labels(4, 2))).is_err());
    }

    /// Every prefix and every one-byte change of a few queries: whatever `read` accepts,
    /// hickory decodes to the same fields (and the same lower-cased name).
    #[test]
    fn read_never_disagrees_with_hickory() {
        let seeds = [
            query("www.example.org.", RecordType::A).to_vec().unwrap(),
            query("_dns._udp.a-b.example.", RecordType::SRV)
                .to_vec()
                .unwrap(),
        ];
        for seed in seeds {
            for len in 0..=seed.len() {
                assert_agrees(&seed[..len]);
            }
            for at in 0..seed.len() {
                for value in 0..=u8::MAX {
                    let mut changed = seed.clone();
                    changed[at] = value;
                    assert_agrees(&changed);
                    changed.push(0);
                    assert_agrees(&changed);
                }
            }
        }
    }
}
