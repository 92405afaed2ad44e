//! Reverse zones from a CIDR key (corefile.md §6, CoreDNS `plugin/pkg/cidr`).
//!
//! Reverse names have one label per octet (IPv4, RFC 1035 §3.5) or per nibble (IPv6,
//! RFC 3596 §2.5), so a prefix is rounded up to the next label boundary and split into every
//! covering subnet, each one zone: `10.0.0.0/17` → 128 zones `0.0.10.in-addr.arpa.` …
//! `127.0.10.in-addr.arpa.`.

use std::net::IpAddr;

/// A parsed `IP/len`, as Go's `net.ParseCIDR` accepts it (host bits may be set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u32,
}

impl Cidr {
    /// Go's `net.ParseCIDR`: an address without zone, `/`, decimal digits only (leading zeros
    /// allowed), at most the address length.
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, mask) = s.split_once('/')?;
        let addr: IpAddr = addr.parse().ok()?;
        let prefix = go_dtoi(mask)?;
        (prefix <= bit_len(addr)).then_some(Cidr { addr, prefix })
    }

    /// The reverse zones covering this network, in address order.
    pub fn reverse_zones(&self) -> Vec<String> {
        let bits = bit_len(self.addr);
        let label_bits = label_bits(self.addr);
        let rounded = self.prefix.div_ceil(label_bits) * label_bits;
        let network = self.network_bits();
        // At most 2^7 (IPv4) or 2^3 (IPv6) subnets: the rounding adds less than one label.
        let count: u128 = 1 << (rounded - self.prefix);
        (0..count)
            .map(|i| {
                let subnet = network + i.checked_shl(bits - rounded).unwrap_or(0);
                reverse_name(self.addr, subnet, rounded)
            })
            .collect()
    }

    /// The address with host bits cleared, as an integer of `bit_len` bits.
    fn network_bits(&self) -> u128 {
        let bits = bit_len(self.addr);
        let value = match self.addr {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
        };
        let host_bits = bits - self.prefix;
        let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
        value & mask
    }
}

/// Go's `dtoi` as `ParseCIDR` uses it: decimal digits only, at least one, below 0xFFFFFF.
fn go_dtoi(s: &str) -> Option<u32> {
    const BIG: u32 = 0xFF_FFFF;
    if s.is_empty() {
        return None;
    }
    let mut n: u32 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(b - b'0');
        if n >= BIG {
            return None;
        }
    }
    Some(n)
}

fn bit_len(addr: IpAddr) -> u32 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn label_bits(addr: IpAddr) -> u32 {
    match addr {
        IpAddr::V4(_) => 8,
        IpAddr::V6(_) => 4,
    }
}

/// `d.c.b.a.in-addr.arpa.` / nibble `ip6.arpa.` name of the first `prefix` bits of `value`.
fn reverse_name(family: IpAddr, value: u128, prefix: u32) -> String {
    let bits = bit_len(family);
    let label_bits = label_bits(family);
    let labels = prefix / label_bits;
    let mut name = String::new();
    for i in (0..labels).rev() {
        let shift = bits - (i + 1) * label_bits;
        let label = (value >> shift) & ((1u128 << label_bits) - 1);
        match family {
            IpAddr::V4(_) => name.push_str(&label.to_string()),
            IpAddr::V6(_) => name.push_str(&format!("{label:x}")),
        }
        name.push('.');
    }
    name.push_str(match family {
        IpAddr::V4(_) => "in-addr.arpa.",
        IpAddr::V6(_) => "ip6.arpa.",
    });
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones(key: &str) -> Vec<String> {
        Cidr::parse(key).expect(key).reverse_zones()
    }

    #[test]
    fn parses_like_go_parse_cidr() {
        let cases = [
            ("10.0.0.0/8", true),
            ("10.0.0.1/24", true),
            ("10.0.0.0/08", true),
            ("10.0.0.0/00000000008", true),
            ("10.0.0.0/33", false),
            ("10.0.0.0/", false),
            ("10.0.0.0/+8", false),
            ("10.0.0.0", false),
            ("010.0.0.0/8", false),
            ("fd00::/8", true),
            ("fd00::/129", false),
            ("example.org", false),
        ];
        for (input, ok) in cases {
            assert_eq!(Cidr::parse(input).is_some(), ok, "{input}");
        }
    }

    #[test]
    fn expands_on_label_boundaries() {
        assert_eq!(zones("10.0.0.0/8"), vec!["10.in-addr.arpa."]);
        assert_eq!(zones("10.0.0.0/24"), vec!["0.0.10.in-addr.arpa."]);
        assert_eq!(zones("10.1.2.3/32"), vec!["3.2.1.10.in-addr.arpa."]);
        assert_eq!(zones("0.0.0.0/0"), vec!["in-addr.arpa."]);
        assert_eq!(
            zones("10.0.0.1/24"),
            vec!["0.0.10.in-addr.arpa."],
            "host bits masked"
        );
        assert_eq!(
            zones("172.16.0.0/15"),
            vec!["16.172.in-addr.arpa.", "17.172.in-addr.arpa."]
        );
        assert_eq!(zones("fd00::/8"), vec!["d.f.ip6.arpa."]);
        assert_eq!(zones("::/0"), vec!["ip6.arpa."]);
        assert_eq!(zones("128.0.0.0/1").len(), 128);
        assert_eq!(zones("8000::/1").len(), 8);
    }
}
