//! Reverse names: `1.0.0.10.in-addr.arpa.` ↔ 10.0.0.1, 32 nibbles under `ip6.arpa.` ↔ an IPv6
//! address (RFC 1035 §3.5, RFC 3596 §2.5; CoreDNS `dnsutil.ExtractAddressFromReverse`).

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const V4_SUFFIX: &str = ".in-addr.arpa.";
const V6_SUFFIX: &str = ".ip6.arpa.";

/// The address a lower-cased reverse name stands for, or None when it is not a complete
/// reverse name. An IPv4-mapped IPv6 address comes back as IPv4, the way the hosts data keys
/// it (plugins-resolution.md §3.2: `::ffff:10.0.0.2` counts as IPv4).
pub fn address(name_lower: &str) -> Option<IpAddr> {
    if let Some(labels) = name_lower.strip_suffix(V4_SUFFIX) {
        let mut octets = [0u8; 4];
        let mut count = 0;
        for label in labels.rsplit('.') {
            // Strict decimal, no leading zeros, as Go's net.ParseIP.
            if count == 4
                || label.is_empty()
                || label.len() > 3
                || (label.len() > 1 && label.starts_with('0'))
                || !label.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            octets[count] = label.parse().ok()?;
            count += 1;
        }
        return (count == 4).then(|| IpAddr::V4(Ipv4Addr::from(octets)));
    }
    let labels = name_lower.strip_suffix(V6_SUFFIX)?;
    let mut value: u128 = 0;
    let mut count = 0;
    for label in labels.rsplit('.') {
        let [digit] = label.as_bytes() else {
            return None;
        };
        if count == 32 {
            return None;
        }
        let nibble = char::from(*digit).to_digit(16)?;
        value = (value << 4) | u128::from(nibble);
        count += 1;
    }
    if count != 32 {
        return None;
    }
    Some(canonical(IpAddr::V6(Ipv6Addr::from(value))))
}

/// IPv4-mapped IPv6 addresses as IPv4, everything else unchanged.
pub fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        IpAddr::V4(_) => addr,
    }
}

/// The reverse name of `addr` (lower-case, fully qualified).
pub fn name(addr: IpAddr) -> String {
    let mut out = String::with_capacity(73);
    match addr {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            // Writing to a String cannot fail.
            let _ = write!(out, "{d}.{c}.{b}.{a}{V4_SUFFIX}");
        }
        IpAddr::V6(v6) => {
            let value = u128::from(v6);
            for i in 0..32 {
                let nibble = (value >> (i * 4)) & 0xf;
                let _ = write!(out, "{nibble:x}.");
            }
            out.push_str(&V6_SUFFIX[1..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names_round_trip() {
        for text in ["10.0.0.1", "0.0.0.0", "255.1.0.9", "2001:db8::1", "::1"] {
            let addr: IpAddr = text.parse().unwrap();
            assert_eq!(address(&name(addr)), Some(addr), "{text}");
        }
        assert_eq!(name("10.0.0.1".parse().unwrap()), "1.0.0.10.in-addr.arpa.");
        assert_eq!(
            name("2001:db8::1".parse().unwrap()),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
        );
    }

    #[test]
    fn incomplete_or_malformed_names_are_not_addresses() {
        for name in [
            "0.10.in-addr.arpa.",
            "1.1.0.0.10.in-addr.arpa.",
            "01.0.0.10.in-addr.arpa.",
            "256.0.0.10.in-addr.arpa.",
            "a.0.0.10.in-addr.arpa.",
            "in-addr.arpa.",
            "1.ip6.arpa.",
            "example.org.",
            "",
        ] {
            assert_eq!(address(name), None, "{name}");
        }
    }

    #[test]
    fn mapped_ipv6_reverse_is_ipv4() {
        let mapped: IpAddr = "::ffff:10.0.0.2".parse().unwrap();
        assert_eq!(address(&name(mapped)), Some("10.0.0.2".parse().unwrap()));
    }
}
