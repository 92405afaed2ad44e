//! Reverse names to addresses (CoreDNS `dnsutil.ExtractAddressFromReverse`, kubernetes.md §6).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::objects::address::canonical;

/// The address a full reverse name stands for: four decimal labels under `in-addr.arpa.` or
/// 32 nibbles under `ip6.arpa.`, least significant first. Partial names (`10.in-addr.arpa.`)
/// and anything else are None. `name_lower` is a lower-case FQDN.
pub fn address(name_lower: &str) -> Option<IpAddr> {
    if let Some(labels) = name_lower.strip_suffix(".in-addr.arpa.") {
        let mut octets = [0u8; 4];
        let mut count = 0;
        for label in labels.rsplit('.') {
            if count == 4 {
                return None;
            }
            octets[count] = decimal_octet(label)?;
            count += 1;
        }
        return (count == 4).then(|| IpAddr::V4(Ipv4Addr::from(octets)));
    }
    if let Some(labels) = name_lower.strip_suffix(".ip6.arpa.") {
        let mut value: u128 = 0;
        let mut count = 0;
        for label in labels.rsplit('.') {
            let [digit] = label.as_bytes() else {
                return None;
            };
            let nibble = (*digit as char).to_digit(16)?;
            if count == 32 {
                return None;
            }
            value = (value << 4) | u128::from(nibble);
            count += 1;
        }
        // Go prints an IPv4-mapped address as IPv4, so its reverse name finds the IPv4
        // address's records.
        return (count == 32).then(|| canonical(IpAddr::V6(Ipv6Addr::from(value))));
    }
    None
}

/// An IPv4 label as Go's parser takes it: 1-3 digits, no leading zero, at most 255.
fn decimal_octet(label: &str) -> Option<u8> {
    if label.is_empty() || label.len() > 3 || !label.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if label.len() > 1 && label.starts_with('0') {
        return None;
    }
    label.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn full_names_parse() {
        assert_eq!(address("1.0.0.10.in-addr.arpa."), ip("10.0.0.1"));
        assert_eq!(
            address("3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.ip6.arpa."),
            ip("10::3")
        );
        assert_eq!(
            address("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.8.7.6.5.ip6.arpa."),
            ip("5678:abcd::1")
        );
        assert_eq!(
            address("1.0.0.0.0.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa."),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn partial_and_malformed_names_do_not() {
        for name in [
            "10.in-addr.arpa.",
            "in-addr.arpa.",
            "1.1.0.0.10.in-addr.arpa.",
            "256.0.0.10.in-addr.arpa.",
            "01.0.0.10.in-addr.arpa.",
            "svc1.testns.svc.in-addr.arpa.",
            "1.0.ip6.arpa.",
            "cluster.local.",
        ] {
            assert_eq!(address(name), None, "{name}");
        }
    }
}
