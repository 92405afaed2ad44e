//! The cache key (plugins-resolution.md §2.3): a 64-bit hash over DO, CD, qtype, qclass and
//! the lower-cased name, so the equivalence classes are CoreDNS's: case, AD, RD, EDNS size and
//! options, transport and client do not matter. CoreDNS hashes these with FNV-1, one byte at a
//! time; the contract accepts any hash with the same classes, and this one takes the name
//! eight bytes at a time (a search-path name is 40 bytes and more). Two questions that share
//! a key are still told apart by the entry's collision guard (`Entry::matches`).

use plugin::Request;

/// A 64-bit key; its low byte picks the shard (§2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key(pub u64);

/// The multiplier of each step: odd, with its bits spread (rustc-hash's constant).
const MULTIPLIER: u64 = 0xf135_7aea_2e62_a9c5;
/// Where the hash starts: any constant; this one is FNV's offset basis.
const SEED: u64 = 0xcbf2_9ce4_8422_2325;

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
        let name = qname_lower.as_bytes();
        // The fixed fields and the name's length in one word: with the length in, the zero
        // padding of the last word cannot make two names alike.
        let head = u64::from(dnssec_ok)
            | (u64::from(cd) << 1)
            | (u64::from(qtype) << 16)
            | (u64::from(qclass) << 32)
            | ((name.len() as u64) << 48);
        let mut hash = step(SEED, head);
        let mut words = name.chunks_exact(8);
        for word in &mut words {
            hash = step(hash, word_of(word));
        }
        if !words.remainder().is_empty() {
            hash = step(hash, word_of(words.remainder()));
        }
        Key(avalanche(hash))
    }

    /// The shard this key lives in: its low byte, as CoreDNS's sharded cache.
    pub fn shard(self) -> usize {
        usize::from(self.0 as u8)
    }
}

/// Up to eight bytes as a little-endian word, zero-padded.
fn word_of(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word[..bytes.len()].copy_from_slice(bytes);
    u64::from_le_bytes(word)
}

fn step(hash: u64, word: u64) -> u64 {
    (hash.rotate_left(26) ^ word).wrapping_mul(MULTIPLIER)
}

/// splitmix64's finaliser: every input bit reaches the low byte, which picks the shard (a
/// multiply alone carries high bits only upwards).
fn avalanche(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::proto::rr::RecordType;
    use plugin::test_util::query;

    #[test]
    fn names_that_differ_anywhere_have_different_keys() {
        // In the first word, the last whole word and the padded tail; and names that differ
        // only by trailing zero bytes of the padding.
        let base = "api.github.com0.ns0.svc.search.example.";
        let mut keys = std::collections::HashSet::new();
        for at in 0..base.len() {
            let mut changed = base.as_bytes().to_vec();
            changed[at] = b'q';
            let changed = String::from_utf8(changed).unwrap();
            assert!(
                keys.insert(Key::new(&changed, 1, 1, false, false)),
                "{changed}"
            );
        }
        assert!(keys.insert(Key::new(base, 1, 1, false, false)));
        // Zero padding: the length tells these apart.
        assert_ne!(
            Key::new("abcdef.", 1, 1, false, false),
            Key::new("abcdef.\0", 1, 1, false, false),
        );
    }

    /// Shards are picked by the low byte: over many names every shard gets a fair share.
    #[test]
    fn low_bytes_spread_over_the_shards() {
        let mut per_shard = [0u32; 256];
        for i in 0..25_600 {
            per_shard[Key::new(&format!("www{i}.example."), 1, 1, false, false).shard()] += 1;
        }
        let (least, most) = (
            per_shard.iter().min().unwrap(),
            per_shard.iter().max().unwrap(),
        );
        assert!(*least > 50 && *most < 150, "{least}..{most}");
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
