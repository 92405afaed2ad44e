//! Zone arguments (FROM, `except`): names, or CIDRs standing for reverse zones
//! (plugins-resolution.md §0.3, CoreDNS `plugin.Host(..).NormalizeExact`).

use std::net::IpAddr;

use plugin::zones::normalize;

/// The zones `arg` stands for; `None` when it cannot be normalised (a malformed CIDR).
/// A CIDR whose mask is not on a label boundary expands to several reverse zones.
pub fn expand(arg: &str) -> Option<Vec<String>> {
    let arg = arg.strip_prefix("dns://").unwrap_or(arg);
    // A trailing `:port` is not part of the zone.
    let arg = match arg.rsplit_once(':') {
        Some((host, port))
            if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !host.is_empty() =>
        {
            host
        }
        _ => arg,
    };
    if arg.contains('/') {
        return reverse_zones(arg);
    }
    Some(vec![normalize(arg)])
}

fn reverse_zones(cidr: &str) -> Option<Vec<String>> {
    let (addr, len) = cidr.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let prefix: u32 = len.parse().ok()?;
    let (bits, label_bits, value) = match addr {
        IpAddr::V4(a) => (32u32, 8u32, u128::from(u32::from(a))),
        IpAddr::V6(a) => (128, 4, u128::from(a)),
    };
    if prefix > bits {
        return None;
    }
    // The top `n` bits of a `bits`-bit value.
    let keep = |n: u32| -> u128 {
        let full = 1u128.checked_shl(bits).map_or(u128::MAX, |v| v - 1);
        let low = 1u128.checked_shl(bits - n).map_or(u128::MAX, |v| v - 1);
        full & !low
    };
    let rounded = prefix.div_ceil(label_bits) * label_bits;
    let network = value & keep(prefix);
    let count: u128 = 1 << (rounded - prefix);
    let zones = (0..count)
        .map(|i| {
            let subnet = network | i.checked_shl(bits - rounded).unwrap_or(0);
            let mut name = String::new();
            for label in (0..rounded / label_bits).rev() {
                let shift = bits - (label + 1) * label_bits;
                let value = (subnet >> shift) & ((1 << label_bits) - 1);
                if addr.is_ipv4() {
                    name.push_str(&value.to_string());
                } else {
                    name.push_str(&format!("{value:x}"));
                }
                name.push('.');
            }
            name.push_str(if addr.is_ipv4() {
                "in-addr.arpa."
            } else {
                "ip6.arpa."
            });
            name
        })
        .collect();
    Some(zones)
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn names_and_cidrs() {
        assert_eq!(expand("Example.ORG").unwrap(), ["example.org."]);
        assert_eq!(expand(".").unwrap(), ["."]);
        assert_eq!(expand("example.org:53").unwrap(), ["example.org."]);
        assert_eq!(expand("10.0.0.0/8").unwrap(), ["10.in-addr.arpa."]);
        assert_eq!(
            expand("10.0.0.0/15").unwrap(),
            ["0.10.in-addr.arpa.", "1.10.in-addr.arpa."]
        );
        assert_eq!(
            expand("2001:db8::/32").unwrap(),
            ["8.b.d.0.1.0.0.2.ip6.arpa."]
        );
        assert_eq!(expand("10.0.0.0/33"), None);
        assert_eq!(expand("x/8"), None);
    }
}
