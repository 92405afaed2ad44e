//! Writing reply records into the wire buffer with name compression, without allocating.
//!
//! hickory's encoder copies every label it may point to later into its own heap list (one
//! allocation per label); for a cluster answer with a handful of names that was a fifth of
//! the server's CPU time per query. This writer keeps the offsets of the labels it wrote and
//! compares candidate suffixes directly in the message, so writing a reply allocates only
//! when the output buffer grows.
//!
//! Record types a DNS server answers most are written here; any other record is written by
//! hickory into a scratch buffer with uncompressed names and copied in (compression is
//! optional, RFC 1035 §4.1.4).

use std::cell::RefCell;

use hickory_proto::ProtoError;
use hickory_proto::rr::{Name, RData, Record};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder, NameEncoding};

/// Pointers are 14-bit offsets (RFC 1035 §4.1.4): labels written beyond this cannot be
/// pointed to.
const MAX_POINTER: usize = 0x3FFF;
/// Labels of a name kept on the stack while it is written.
const INLINE_LABELS: usize = 16;
/// Label offsets remembered per message. A reply the server writes has a few names; past
/// this, names are still written correctly, just less compressed.
const MAX_LABELS: usize = 96;

/// A message being written: the buffer and the labels already in it.
pub struct Writer<'a> {
    out: &'a mut Vec<u8>,
    labels: [u16; MAX_LABELS],
    count: usize,
    /// Where a name copied by [`Writer::wire_name`] starts when its labels are not recorded
    /// yet: they are recorded when a later name may point to them, so a reply whose records
    /// are copied whole (a cache hit's prepared bytes) never walks them twice.
    unrecorded: Option<usize>,
}

/// A position to roll back to when a record does not fit (truncation).
#[derive(Clone, Copy)]
pub struct Mark {
    len: usize,
    count: usize,
}

impl<'a> Writer<'a> {
    /// Starts writing after whatever `out` holds (the header).
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Writer {
            out,
            labels: [0; MAX_LABELS],
            count: 0,
            unrecorded: None,
        }
    }

    pub fn len(&self) -> usize {
        self.out.len()
    }

    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    pub fn mark(&mut self) -> Mark {
        self.record_copied_labels();
        Mark {
            len: self.out.len(),
            count: self.count,
        }
    }

    /// Forgets everything written since `mark`, including the labels it could point to.
    pub fn rollback(&mut self, mark: Mark) {
        self.out.truncate(mark.len);
        self.count = mark.count;
        self.unrecorded = self.unrecorded.filter(|&at| at < mark.len);
    }

    pub fn u16(&mut self, value: u16) {
        self.out.extend_from_slice(&value.to_be_bytes());
    }

    pub fn u32(&mut self, value: u32) {
        self.out.extend_from_slice(&value.to_be_bytes());
    }

    /// Writes `name`, pointing to an earlier occurrence of its longest possible suffix.
    pub fn name(&mut self, name: &Name) {
        self.name_with(name, true);
    }

    /// Writes `name` in full (SRV targets, RFC 2782: "name compression is not to be used
    /// for this field"); its labels can still be pointed to later.
    pub fn name_uncompressed(&mut self, name: &Name) {
        self.name_with(name, false);
    }

    /// Copies a name already in wire form without pointers (a query's question, RFC 1035
    /// §4.1.2), remembering its labels for later names to point to. `None` (nothing written)
    /// when `wire` does not start with such a name; returns the bytes it took.
    pub fn wire_name(&mut self, wire: &[u8]) -> Option<usize> {
        let mut at = 0;
        loop {
            let len = usize::from(*wire.get(at)?);
            if len == 0 {
                break;
            }
            if len > 63 || at + 1 + len >= wire.len() {
                return None;
            }
            at += 1 + len;
        }
        let name = &wire[..=at];
        self.record_copied_labels();
        self.unrecorded = Some(self.out.len());
        self.out.extend_from_slice(name);
        Some(name.len())
    }

    /// Records the labels of the name [`Writer::wire_name`] copied, if not done yet.
    fn record_copied_labels(&mut self) {
        let Some(mut at) = self.unrecorded.take() else {
            return;
        };
        // wire_name checked the name: length octets up to the root, no pointers.
        while let Some(&len) = self.out.get(at).filter(|&&len| len != 0) {
            if at <= MAX_POINTER && self.count < MAX_LABELS {
                self.labels[self.count] = at as u16;
                self.count += 1;
            }
            at += 1 + usize::from(len);
        }
    }

    fn name_with(&mut self, name: &Name, compress: bool) {
        self.record_copied_labels();
        // The labels as byte slices, on the stack for names of up to 16 labels (nearly all);
        // longer names spill to the heap. The iterator's length is the label count.
        let mut inline: [&[u8]; INLINE_LABELS] = [&[]; INLINE_LABELS];
        let spilled: Vec<&[u8]>;
        let iter = name.iter();
        let labels: &[&[u8]] = if iter.len() <= INLINE_LABELS {
            let mut n = 0;
            for label in iter {
                inline[n] = label;
                n += 1;
            }
            &inline[..n]
        } else {
            spilled = iter.collect();
            &spilled
        };
        for (i, label) in labels.iter().enumerate() {
            if compress && let Some(target) = self.find(&labels[i..]) {
                // 0b11 in the two high bits marks a pointer.
                self.u16(0xC000 | target);
                return;
            }
            let start = self.out.len();
            if start <= MAX_POINTER && self.count < MAX_LABELS {
                self.labels[self.count] = start as u16;
                self.count += 1;
            }
            self.out.push(label.len() as u8);
            self.out.extend_from_slice(label);
        }
        self.out.push(0);
    }

    /// An offset where exactly `suffix` (byte for byte: case is kept as written, so names
    /// keep the client's spelling) was written, following pointers.
    fn find(&self, suffix: &[&[u8]]) -> Option<u16> {
        let first = suffix.first()?;
        self.labels[..self.count].iter().copied().find(|&at| {
            let at = usize::from(at);
            // A remembered offset is always a label's length octet, never a pointer: most
            // candidates differ in their first label, checked here before the full walk.
            self.out.get(at) == Some(&(first.len() as u8))
                && self.out.get(at + 1..at + 1 + first.len()) == Some(*first)
                && self.equals_at(at, suffix)
        })
    }

    fn equals_at(&self, mut at: usize, suffix: &[&[u8]]) -> bool {
        let buf = &self.out[..];
        let mut jumps = 0;
        for label in suffix {
            loop {
                let Some(&len) = buf.get(at) else {
                    return false;
                };
                if len & 0xC0 == 0xC0 {
                    // Only this writer's pointers are in the buffer, and they point backwards;
                    // the jump limit is a guard, not a case that occurs.
                    let Some(&low) = buf.get(at + 1) else {
                        return false;
                    };
                    at = (usize::from(len & 0x3F) << 8) | usize::from(low);
                    jumps += 1;
                    if jumps > 32 {
                        return false;
                    }
                    continue;
                }
                let len = usize::from(len);
                if len != label.len() || buf.get(at + 1..at + 1 + len) != Some(*label) {
                    return false;
                }
                at += 1 + len;
                break;
            }
        }
        // The name there must end where the suffix ends: the root, directly or through a
        // pointer chain.
        loop {
            match buf.get(at) {
                Some(0) => return true,
                Some(&b) if b & 0xC0 == 0xC0 => {
                    let Some(&low) = buf.get(at + 1) else {
                        return false;
                    };
                    at = (usize::from(b & 0x3F) << 8) | usize::from(low);
                    jumps += 1;
                    if jumps > 32 {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }

    /// Writes one resource record (RFC 1035 §4.1.3).
    pub fn record(&mut self, record: &Record) -> Result<(), ProtoError> {
        self.record_with_ttl(record, record.ttl)
    }

    /// Writes one resource record with `ttl` in place of its own: how a cache hit shows the
    /// remaining lifetime without copying the stored record (plugins-resolution.md §2.4).
    pub fn record_with_ttl(&mut self, record: &Record, ttl: u32) -> Result<(), ProtoError> {
        self.record_ttl_at(record, ttl).map(|_| ())
    }

    /// [`Writer::record_with_ttl`], returning where in the message the record's TTL was
    /// written (a prepared section patches it there, see `crate::prepared`).
    pub fn record_ttl_at(&mut self, record: &Record, ttl: u32) -> Result<usize, ProtoError> {
        let start = self.mark();
        self.name(&record.name);
        self.u16(u16::from(record.record_type()));
        self.u16(u16::from(record.dns_class));
        let ttl_at = self.out.len();
        self.u32(ttl);
        let length_at = self.out.len();
        self.u16(0);
        let written = match &record.data {
            RData::A(a) => {
                self.out.extend_from_slice(&a.0.octets());
                true
            }
            RData::AAAA(a) => {
                self.out.extend_from_slice(&a.0.octets());
                true
            }
            // Names in the RDATA of the RFC 1035 types may be compressed (RFC 3597 §4).
            RData::CNAME(n) => self.then(|w| w.name(&n.0)),
            RData::NS(n) => self.then(|w| w.name(&n.0)),
            RData::PTR(n) => self.then(|w| w.name(&n.0)),
            RData::MX(mx) => self.then(|w| {
                w.u16(mx.preference);
                w.name(&mx.exchange);
            }),
            RData::SOA(soa) => self.then(|w| {
                w.name(&soa.mname);
                w.name(&soa.rname);
                w.u32(soa.serial);
                w.u32(soa.refresh as u32);
                w.u32(soa.retry as u32);
                w.u32(soa.expire as u32);
                w.u32(soa.minimum);
            }),
            RData::SRV(srv) => self.then(|w| {
                w.u16(srv.priority);
                w.u16(srv.weight);
                w.u16(srv.port);
                w.name_uncompressed(&srv.target);
            }),
            RData::TXT(txt) => txt
                .txt_data
                .iter()
                .all(|s| s.len() <= 255)
                .then(|| {
                    for s in txt.txt_data.iter() {
                        self.out.push(s.len() as u8);
                        self.out.extend_from_slice(s);
                    }
                })
                .is_some(),
            _ => false,
        };
        if !written {
            // Everything else (OPT, CAA, HINFO, …): hickory writes the whole record.
            self.rollback(start);
            let foreign_start = self.out.len();
            self.foreign(record, ttl)?;
            // NAME (uncompressed), TYPE, CLASS, then the TTL (RFC 1035 §4.1.3).
            return Ok(foreign_start + name_len(&record.name) + 4);
        }
        let rdlength = self.out.len() - length_at - 2;
        let Ok(rdlength) = u16::try_from(rdlength) else {
            self.rollback(start);
            return Err(ProtoError::from("record data longer than 65535 octets"));
        };
        self.out[length_at..length_at + 2].copy_from_slice(&rdlength.to_be_bytes());
        Ok(ttl_at)
    }

    /// Appends bytes encoded elsewhere (a prepared section); its names stay out of the labels
    /// later names may point to. Returns where they start.
    pub fn bytes(&mut self, bytes: &[u8]) -> usize {
        let start = self.out.len();
        self.out.extend_from_slice(bytes);
        start
    }

    /// Overwrites four bytes at `at` (a TTL already written).
    pub fn patch_u32(&mut self, at: usize, value: u32) {
        if let Some(field) = self.out.get_mut(at..at + 4) {
            field.copy_from_slice(&value.to_be_bytes());
        }
    }

    fn then(&mut self, write: impl FnOnce(&mut Self)) -> bool {
        write(self);
        true
    }

    /// A record hickory encodes, with uncompressed names, copied in.
    fn foreign(&mut self, record: &Record, ttl: u32) -> Result<(), ProtoError> {
        thread_local! {
            static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        SCRATCH.with(|scratch| {
            let mut buf = scratch.borrow_mut();
            buf.clear();
            let mut encoder = BinEncoder::new(&mut buf);
            encoder.set_name_encoding(NameEncoding::Uncompressed);
            record.emit(&mut encoder)?;
            if ttl != record.ttl {
                // NAME (uncompressed), TYPE, CLASS, then the TTL (RFC 1035 §4.1.3).
                let at = name_len(&record.name) + 4;
                buf[at..at + 4].copy_from_slice(&ttl.to_be_bytes());
            }
            self.out.extend_from_slice(&buf);
            Ok(())
        })
    }
}

/// Wire length of `name` without compression: each label with its length octet, then the
/// root's zero octet (RFC 1035 §3.1).
fn name_len(name: &Name) -> usize {
    name.iter().map(|label| 1 + label.len()).sum::<usize>() + 1
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::op::Message;
    use hickory_proto::rr::rdata::{A, CNAME, SOA, SRV, TXT};
    use hickory_proto::rr::{DNSClass, RecordType};

    use super::*;

    fn name(text: &str) -> Name {
        Name::from_str(text).unwrap()
    }

    /// Writes a header with `records.len()` answers and the records; parses it back.
    fn round_trip(records: &[Record]) -> (Vec<u8>, Message) {
        let mut out = vec![0u8; 12];
        out[7] = records.len() as u8;
        let mut w = Writer::new(&mut out);
        for record in records {
            w.record(record).unwrap();
        }
        let message = Message::from_vec(&out).expect("parses");
        (out, message)
    }

    #[test]
    fn names_of_more_labels_than_the_stack_holds_are_written_and_compressed() {
        let long: String = (0..20).map(|i| format!("l{i}.")).collect::<String>() + "example.";
        let records = [
            Record::from_rdata(name(&long), 5, RData::A(A::new(10, 0, 0, 1))),
            Record::from_rdata(name(&long), 5, RData::A(A::new(10, 0, 0, 2))),
        ];
        let (wire, message) = round_trip(&records);
        assert_eq!(message.answers, records);
        // The second owner is one pointer.
        assert_eq!(wire.len(), 12 + (long.len() + 1 + 14) + (2 + 14));
    }

    #[test]
    fn names_are_compressed_against_earlier_suffixes_keeping_case() {
        let records = [
            Record::from_rdata(
                name("Web.NS.svc.cluster.local."),
                5,
                RData::A(A::new(10, 0, 0, 1)),
            ),
            Record::from_rdata(
                name("web.ns.svc.cluster.local."),
                5,
                RData::CNAME(CNAME(name("db.NS.svc.cluster.local."))),
            ),
        ];
        let (wire, message) = round_trip(&records);
        assert_eq!(
            message.answers, records,
            "names come back exactly, case included"
        );
        // First name in full (26 octets); the second differs in case, so only
        // `svc.cluster.local.` is shared: `web`, `ns`, then a pointer.
        let uncompressed = 12 + (26 + 10 + 4) + (26 + 10 + 25);
        assert!(wire.len() < uncompressed - 20, "{} octets", wire.len());
    }

    #[test]
    fn every_type_written_here_parses_back_identically() {
        let zone = name("cluster.local.");
        let records = vec![
            Record::from_rdata(
                name("_http._tcp.svc1.testns.svc.cluster.local."),
                5,
                RData::SRV(SRV::new(0, 100, 80, name("svc1.testns.svc.cluster.local."))),
            ),
            Record::from_rdata(
                zone.clone(),
                5,
                RData::SOA(SOA::new(
                    name("ns.dns.cluster.local."),
                    name("hostmaster.cluster.local."),
                    1_795_650_000,
                    7200,
                    1800,
                    86400,
                    5,
                )),
            ),
            Record::from_rdata(
                name("dns-version.cluster.local."),
                28800,
                RData::TXT(TXT::new(vec!["1.1.0".to_string()])),
            ),
            Record::from_rdata(
                name("1.0.0.10.in-addr.arpa."),
                5,
                RData::PTR(hickory_proto::rr::rdata::PTR(name(
                    "svc1.testns.svc.cluster.local.",
                ))),
            ),
            Record::from_rdata(
                zone.clone(),
                5,
                RData::NS(hickory_proto::rr::rdata::NS(name(
                    "kube-dns.kube-system.svc.cluster.local.",
                ))),
            ),
            Record::from_rdata(
                name("svc6.testns.svc.cluster.local."),
                5,
                RData::AAAA(hickory_proto::rr::rdata::AAAA::new(
                    0x1234, 0xabcd, 0, 0, 0, 0, 0, 1,
                )),
            ),
            Record::from_rdata(
                zone,
                5,
                RData::MX(hickory_proto::rr::rdata::MX::new(
                    10,
                    name("mail.cluster.local."),
                )),
            ),
        ];
        let (_, message) = round_trip(&records);
        assert_eq!(message.answers, records);
        assert_eq!(message.answers[1].dns_class, DNSClass::IN);
    }

    #[test]
    fn srv_targets_are_written_in_full() {
        let target = name("svc1.testns.svc.cluster.local.");
        let records = [
            Record::from_rdata(target.clone(), 5, RData::A(A::new(10, 0, 0, 1))),
            Record::from_rdata(
                target.clone(),
                5,
                RData::SRV(SRV::new(0, 100, 80, target.clone())),
            ),
        ];
        let (wire, _) = round_trip(&records);
        // The target's labels appear twice in the wire: in the first owner and in the SRV.
        let needle = b"\x04svc1\x06testns\x03svc\x07cluster\x05local\x00";
        let found = wire.windows(needle.len()).filter(|w| w == needle).count();
        assert_eq!(found, 2);
    }

    #[test]
    fn a_rolled_back_record_leaves_no_label_to_point_to() {
        let mut out = vec![0u8; 12];
        out[7] = 1;
        let mut w = Writer::new(&mut out);
        let mark = w.mark();
        w.record(&Record::from_rdata(
            name("gone.example."),
            5,
            RData::A(A::new(1, 2, 3, 4)),
        ))
        .unwrap();
        w.rollback(mark);
        let kept = Record::from_rdata(name("kept.example."), 5, RData::A(A::new(1, 2, 3, 4)));
        w.record(&kept).unwrap();
        let message = Message::from_vec(&out).unwrap();
        assert_eq!(message.answers, [kept]);
    }

    /// A question copied with `wire_name`: its labels are recorded only when a later name
    /// needs them, and are pointed to all the same; rolled back, they are forgotten.
    #[test]
    fn a_copied_question_is_pointed_to_and_forgotten_when_rolled_back() {
        let question = b"\x03www\x07example\x03org\x00";
        let answer = Record::from_rdata(name("www.example.org."), 5, RData::A(A::new(1, 2, 3, 4)));
        let mut out = vec![0u8; 12];
        out[5] = 1;
        out[7] = 1;
        let mut w = Writer::new(&mut out);
        assert_eq!(w.wire_name(question), Some(question.len()));
        w.u16(1);
        w.u16(1);
        w.record(&answer).unwrap();
        // The answer's owner is one pointer to offset 12.
        assert_eq!(&out[12 + question.len() + 4..][..2], &[0xC0, 12]);
        let message = Message::from_vec(&out).unwrap();
        assert_eq!(message.answers, std::slice::from_ref(&answer));

        // Rolled back past the copy: the next name is written in full, not pointed into
        // bytes that are gone.
        let mut out = vec![0u8; 12];
        let mut w = Writer::new(&mut out);
        let mark = w.mark();
        w.wire_name(question).unwrap();
        w.rollback(mark);
        w.name(&name("www.example.org."));
        assert_eq!(&out[12..], question);
    }

    #[test]
    fn other_types_are_written_by_hickory() {
        let caa = Record::from_rdata(
            name("example."),
            60,
            RData::HINFO(hickory_proto::rr::rdata::HINFO::new(
                "RFC8482".into(),
                "".into(),
            )),
        );
        let (_, message) = round_trip(std::slice::from_ref(&caa));
        assert_eq!(message.answers, [caa]);
        assert_eq!(message.answers[0].record_type(), RecordType::HINFO);
    }

    #[test]
    fn labels_past_the_pointer_range_are_not_pointed_to() {
        // A first name beyond offset 0x3FFF cannot be a pointer target; the second copy is
        // then written in full and still parses.
        let mut out = vec![0u8; 12];
        out.resize(0x4000 + 12, 0);
        let mut w = Writer::new(&mut out);
        w.name(&name("far.example."));
        let before = w.len();
        w.name(&name("far.example."));
        assert_eq!(w.len() - before, 13, "written in full");
    }
}
