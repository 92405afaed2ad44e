//! The cache key (plugins-resolution.md §2.3): 64-bit FNV-1 over DO, CD, qtype, qclass and the
//! lower-cased name, byte for byte as CoreDNS hashes them, so the equivalence classes are
//! CoreDNS's: case, AD, RD, EDNS size and options, transport and client do not matter.

use plugin::Request;

/// A 64-bit key; its low byte picks the shard (§2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key(pub u64);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Key {
    /// The key of `req`'s question.
    pub fn of(req: &Request) -> Key {
        Key::new(
            req.qname_lower(),
            u16::from(req.qtype()),
            u16::from(req.qclass()),
            req.do_bit(),
            req.checking_disabled(),
        )
    }

    pub fn new(qname_lower: &str, qtype: u16, qclass: u16, dnssec_ok: bool, cd: bool) -> Key {
        let flag = |set: bool| if set { b'1' } else { b'0' };
        let mut hash = Fnv1(FNV_OFFSET);
        hash.write(&[flag(dnssec_ok), flag(cd)]);
        hash.write(&qtype.to_be_bytes());
        hash.write(&qclass.to_be_bytes());
        hash.write(qname_lower.as_bytes());
        Key(hash.0)
    }

    /// The shard this key lives in: its low byte, as CoreDNS's sharded cache.
    pub fn shard(self) -> usize {
        usize::from(self.0 as u8)
    }
}

/// FNV-1 (multiply, then xor), what Go's `hash/fnv.New64` computes.
struct Fnv1(u64);

impl Fnv1 {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.wrapping_mul(FNV_PRIME) ^ u64::from(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::proto::rr::RecordType;
    use plugin::test_util::query;

    #[test]
    fn fnv1_matches_the_reference_vectors() {
        // Go: fnv.New64() over "" and "a".
        let mut empty = Fnv1(FNV_OFFSET);
        empty.write(b"");
        assert_eq!(empty.0, 0xcbf2_9ce4_8422_2325);
        let mut a = Fnv1(FNV_OFFSET);
        a.write(b"a");
        assert_eq!(a.0, 0xaf63_bd4c_8601_b7be);
    }

    #[test]
    fn equivalence_classes_are_coredns_ones() {
        let base = Key::of(&query("www.example.org.", RecordType::A).build());
        // Same entry: case, EDNS size, transport, client, ID.
        for same in [
            query("WWW.Example.ORG.", RecordType::A).build(),
            query("www.example.org.", RecordType::A)
                .edns(4096, false)
                .build(),
            query("www.example.org.", RecordType::A).tcp().build(),
            query("www.example.org.", RecordType::A)
                .client("192.0.2.9:53")
                .id(7)
                .build(),
        ] {
            assert_eq!(Key::of(&same), base);
        }
        // Different entries: DO, qtype, name.
        for other in [
            query("www.example.org.", RecordType::A)
                .edns(4096, true)
                .build(),
            query("www.example.org.", RecordType::AAAA).build(),
            query("example.org.", RecordType::A).build(),
        ] {
            assert_ne!(Key::of(&other), base);
        }
        assert_ne!(
            Key::new("a.", 1, 1, false, true),
            Key::new("a.", 1, 1, false, false),
            "CD is part of the key"
        );
        assert_ne!(
            Key::new("a.", 1, 1, false, false),
            Key::new("a.", 1, 3, false, false),
            "qclass is part of the key"
        );
    }
}
