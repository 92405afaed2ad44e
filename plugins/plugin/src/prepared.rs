//! A reply's record sections encoded once and copied into every reply that sends them again:
//! what a cache hit sends is the stored records after the client's question, every TTL the
//! same (plugins-resolution.md §2.4), so only the TTLs differ from one hit to the next.
//!
//! The bytes are exactly what [`crate::wire::encode_reply`] writes for those sections after
//! that question (same writer, same name compression, pointers included: the question sits
//! at the same offset with the same length). They stand for a reply only when it sends the
//! same shared records in the same order after a question spelt byte for byte as the one
//! they were encoded after, and fit the client's size limit whole; otherwise the records are
//! encoded one by one as for any reply.

use hickory_proto::ProtoError;
use hickory_proto::rr::RecordType;

use crate::request::Request;
use crate::response::{Response, Section};
use crate::wire::HEADER_LEN;
use crate::writer::Writer;

/// Sections encoded after one question.
#[derive(Debug)]
pub struct Prepared {
    /// The question name's wire form the names were compressed against, case kept.
    qname: Box<[u8]>,
    qtype: u16,
    qclass: u16,
    /// The sections encoded, kept to recognise them (shared records, compared by pointer).
    sections: [Section; 3],
    /// ANCOUNT, NSCOUNT, ARCOUNT of the encoded records.
    counts: [u16; 3],
    /// The records, as they follow the question.
    body: Box<[u8]>,
    /// Where each record's TTL is in `body`.
    ttl_at: Box<[u16]>,
}

impl Prepared {
    /// Encodes `sections` (answer, authority, additional) as they follow the question of
    /// `req` as the client wrote it. `None` when the question is not at hand in wire form or a
    /// record cannot be prepared (an OPT record belongs to each reply).
    pub fn encode(req: &Request, sections: [&Section; 3]) -> Result<Option<Prepared>, ProtoError> {
        let Some(qname) = req.qname_wire() else {
            return Ok(None);
        };
        let (qtype, qclass) = (u16::from(req.qtype()), u16::from(req.qclass()));
        let mut out = vec![0u8; HEADER_LEN];
        let mut writer = Writer::new(&mut out);
        if writer.wire_name(qname).is_none() {
            return Ok(None);
        }
        writer.u16(qtype);
        writer.u16(qclass);
        let body_start = writer.len();
        let mut counts = [0u16; 3];
        let mut ttl_at = Vec::new();
        for (index, section) in sections.iter().enumerate() {
            for record in section.iter() {
                if record.record_type() == RecordType::OPT {
                    return Ok(None);
                }
                let at = writer.record_ttl_at(record, 0)?;
                let Ok(offset) = u16::try_from(at - body_start) else {
                    return Ok(None);
                };
                ttl_at.push(offset);
                counts[index] += 1;
            }
        }
        Ok(Some(Prepared {
            qname: qname.into(),
            qtype,
            qclass,
            sections: sections.map(Section::clone),
            counts,
            body: out[body_start..].into(),
            ttl_at: ttl_at.into(),
        }))
    }

    /// Whether these bytes are `resp`'s records after `req`'s question: the same question
    /// bytes, the same sections, one TTL for all, no question override.
    pub fn encodes(&self, req: &Request, resp: &Response) -> bool {
        resp.uniform_ttl.is_some()
            && resp.question.is_none()
            && req.qname_wire() == Some(&self.qname[..])
            && u16::from(req.qtype()) == self.qtype
            && u16::from(req.qclass()) == self.qclass
            && [&resp.answers, &resp.authorities, &resp.additionals]
                .iter()
                .zip(&self.sections)
                .all(|(sent, encoded)| sent.same_as(encoded))
    }

    /// Length of the records' bytes.
    pub fn len(&self) -> usize {
        self.body.len()
    }

    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// ANCOUNT, NSCOUNT and ARCOUNT of the records.
    pub fn counts(&self) -> [u16; 3] {
        self.counts
    }

    /// Appends the records with `ttl` in each.
    pub fn write(&self, writer: &mut Writer<'_>, ttl: u32) {
        let start = writer.bytes(&self.body);
        for &at in self.ttl_at.iter() {
            writer.patch_u32(start + usize::from(at), ttl);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::Flags;
    use crate::test_util::query;
    use crate::wire::encode_limited;
    use hickory_proto::op::ResponseCode;
    use hickory_proto::rr::rdata::{A, SOA};
    use hickory_proto::rr::{Name, RData, Record};
    use std::sync::Arc;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn stored_sections() -> [Section; 3] {
        let a = |last| {
            Record::from_rdata(
                name("www.Example.org."),
                300,
                RData::A(A::new(192, 0, 2, last)),
            )
        };
        let soa = SOA::new(
            name("ns.example.org."),
            name("admin.example.org."),
            1,
            3600,
            600,
            86400,
            300,
        );
        [
            vec![a(1), a(2)].into(),
            vec![Record::from_rdata(
                name("example.org."),
                300,
                RData::SOA(soa),
            )]
            .into(),
            Section::default(),
        ]
    }

    fn prepare(req: &Request, sections: &[Section; 3]) -> Arc<Prepared> {
        let [answers, authorities, additionals] = sections;
        Arc::new(
            Prepared::encode(req, [answers, authorities, additionals])
                .unwrap()
                .unwrap(),
        )
    }

    fn hit(sections: &[Section; 3], prepared: Option<Arc<Prepared>>) -> Response {
        Response {
            rcode: ResponseCode::NoError,
            flags: Flags::default(),
            answers: sections[0].clone(),
            authorities: sections[1].clone(),
            additionals: sections[2].clone(),
            edns: None,
            plugin: "cache",
            uniform_ttl: Some(42),
            question: None,
            prepared,
        }
    }

    fn encoded(req: &Request, resp: &Response, limit: usize) -> Vec<u8> {
        let mut out = Vec::new();
        encode_limited(req, resp, limit, &mut out).unwrap();
        out
    }

    #[test]
    fn prepared_records_are_the_bytes_the_encoder_writes() {
        let sections = stored_sections();
        let first = query("www.Example.org.", RecordType::A).build();
        let prepared = prepare(&first, &sections);
        assert_eq!(prepared.counts(), [2, 1, 0]);
        for req in [
            first,
            query("www.Example.org.", RecordType::A)
                .id(7)
                .edns(1232, true)
                .build(),
        ] {
            let with = hit(&sections, Some(prepared.clone()));
            assert!(prepared.encodes(&req, &with));
            assert_eq!(
                encoded(&req, &with, 512),
                encoded(&req, &hit(&sections, None), 512)
            );
        }
    }

    #[test]
    fn prepared_records_stand_only_for_the_same_question_bytes_and_sections() {
        let sections = stored_sections();
        let first = query("www.Example.org.", RecordType::A).build();
        let prepared = prepare(&first, &sections);
        // Another spelling of the name: the owners no longer point to the question.
        let lower = query("www.example.org.", RecordType::A).build();
        let resp = hit(&sections, Some(prepared.clone()));
        assert!(!prepared.encodes(&lower, &resp));
        assert_eq!(
            encoded(&lower, &resp, 512),
            encoded(&lower, &hit(&sections, None), 512)
        );
        // Reordered (loadbalance), replaced sections, or no uniform TTL.
        let mut shuffled = hit(&sections, Some(prepared.clone()));
        shuffled.answers = sections[0].with_order(vec![1, 0]);
        assert!(!prepared.encodes(&first, &shuffled));
        assert_eq!(
            encoded(&first, &shuffled, 512),
            encoded(
                &first,
                &Response {
                    prepared: None,
                    ..shuffled.clone()
                },
                512
            )
        );
        let mut minimal = hit(&sections, Some(prepared.clone()));
        minimal.authorities = Section::default();
        assert!(!prepared.encodes(&first, &minimal));
        let mut own_ttls = hit(&sections, Some(prepared.clone()));
        own_ttls.uniform_ttl = None;
        assert!(!prepared.encodes(&first, &own_ttls));
        // Too long for the limit: written record by record and truncated.
        let cut = encoded(&first, &resp, 60);
        assert_eq!(cut, encoded(&first, &hit(&sections, None), 60));
        assert_ne!(cut[2] & 0x02, 0, "TC");
    }
}
