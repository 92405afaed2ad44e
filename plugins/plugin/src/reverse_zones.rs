//! Zone arguments that are CIDRs stand for reverse zones (plugins-resolution.md §0.3,
//! kubernetes.md §8: `10.0.0.0/17` expands to the reverse zones covering it).

use std::net::IpAddr;

use crate::zones::normalize;

/// The zones one argument stands for: a CIDR expands to its reverse zones (several when the
/// mask is not on an octet or nibble boundary), anything else is a lower-case FQDN.
pub fn expand(arg: &str) -> Vec<String> {
    let arg = arg
        .strip_prefix("dns://")
        .unwrap_or(arg)
        .trim_end_matches('.');
    match reverse_zones(arg) {
        Some(zones) => zones,
        None => vec![normalize(arg)],
    }
}

/// True for a name under `in-addr.arpa.` or `ip6.arpa.` (CoreDNS `dnsutil.IsReverse`).
pub fn is_reverse(name_lower: &str) -> bool {
    name_lower.ends_with("in-addr.arpa.") || name_lower.ends_with("ip6.arpa.")
}

/// The reverse zones of `addr/len`, or None when `text` is not a CIDR.
fn reverse_zones(text: &str) -> Option<Vec<String>> {
    let (addr, len) = text.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) || len.len() > 3 {
        return None;
    }
    let prefix: u32 = len.parse().ok()?;
    let (bits, label_bits, value) = match addr {
        IpAddr::V4(a) => (32, 8, u128::from(u32::from(a))),
        IpAddr::V6(a) => (128, 4, u128::from(a)),
    };
    if prefix > bits {
        return None;
    }
    let rounded = prefix.div_ceil(label_bits) * label_bits;
    let network = value & u128::MAX.checked_shl(bits - prefix).unwrap_or(0) & mask(bits);
    // The rounding adds less than one label: at most 2^7 (IPv4) or 2^3 (IPv6) zones.
    let count: u128 = 1 << (rounded - prefix);
    let zones = (0..count)
        .map(|i| {
            let subnet = network | i.checked_shl(bits - rounded).unwrap_or(0);
            reverse_name(addr.is_ipv4(), subnet, bits, label_bits, rounded)
        })
        .collect();
    Some(zones)
}

fn mask(bits: u32) -> u128 {
    if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// The reverse name of the first `prefix` bits of `value`, least significant label first.
fn reverse_name(v4: bool, value: u128, bits: u32, label_bits: u32, prefix: u32) -> String {
    let mut name = String::new();
    for i in (0..prefix / label_bits).rev() {
        let shift = bits - (i + 1) * label_bits;
        let label = (value >> shift) & ((1 << label_bits) - 1);
        if v4 {
            name.push_str(&label.to_string());
        } else {
            name.push_str(&format!("{label:x}"));
        }
        name.push('.');
    }
    name.push_str(if v4 { "in-addr.arpa." } else { "ip6.arpa." });
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised() {
        assert_eq!(expand("Cluster.Local"), ["cluster.local."]);
        assert_eq!(expand("in-addr.arpa."), ["in-addr.arpa."]);
        assert_eq!(expand("."), ["."]);
    }

    #[test]
    fn cidrs_expand_to_reverse_zones() {
        assert_eq!(expand("10.0.0.0/8"), ["10.in-addr.arpa."]);
        assert_eq!(expand("10.0.0.0/24"), ["0.0.10.in-addr.arpa."]);
        let zones = expand("10.0.0.0/17");
        assert_eq!(zones.len(), 128);
        assert_eq!(zones[0], "0.0.10.in-addr.arpa.");
        assert_eq!(zones[127], "127.0.10.in-addr.arpa.");
        assert_eq!(expand("0.0.0.0/0"), ["in-addr.arpa."]);
        assert_eq!(expand("fd00::/8"), ["d.f.ip6.arpa."]);
        assert_eq!(expand("fd00::/7"), ["c.f.ip6.arpa.", "d.f.ip6.arpa."]);
        // Not a CIDR: kept as a name.
        assert_eq!(expand("10.0.0.0/33"), ["10.0.0.0/33."]);
    }

    #[test]
    fn reverse_names() {
        assert!(is_reverse("1.0.0.10.in-addr.arpa."));
        assert!(is_reverse("ip6.arpa."));
        assert!(!is_reverse("cluster.local."));
    }
}
