//! Addresses as the API writes them: parsing and the endpoint names derived from them.

use std::net::IpAddr;

/// Parses an address the way Go's `net.ParseIP` followed by `To4()` reads it: an IPv4-mapped
/// IPv6 address (`::ffff:10.0.0.1`) is the IPv4 address, so it answers A, not AAAA, as in
/// CoreDNS (whose record type comes from `ip.To4() != nil`). Leading zeros in an IPv4 octet
/// are rejected by both parsers.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    let ip: IpAddr = text.parse().ok()?;
    Some(canonical(ip))
}

/// An IPv4-mapped IPv6 address as its IPv4 address; anything else unchanged.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The endpoint name of an address (kubernetes.md §3.2), first rule that applies:
/// the endpoint's hostname; with `endpoint_pod_names`, the pod name (only stored when shorter
/// than 64); the address as written in the API with `.` (IPv4) or `:` (IPv6) replaced by `-`,
/// plus `0` when an IPv6 result ends in `-` (`2001:db8::` → `2001-db8--0`).
pub fn endpoint_name(
    hostname: Option<&str>,
    pod_name: Option<&str>,
    pod_names: bool,
    address_text: &str,
) -> Box<str> {
    if let Some(hostname) = hostname.filter(|h| !h.is_empty()) {
        return hostname.into();
    }
    if pod_names && let Some(pod) = pod_name.filter(|p| !p.is_empty()) {
        return pod.into();
    }
    // CoreDNS tests for a `.` first: an IPv4-mapped address written with a dotted tail only
    // has its dots replaced.
    if address_text.contains('.') {
        return address_text.replace('.', "-").into();
    }
    if address_text.contains(':') {
        let mut dashed = address_text.replace(':', "-");
        if dashed.ends_with('-') {
            dashed.push('0');
        }
        return dashed.into();
    }
    "".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_go_parse_ip() {
        assert_eq!(parse_ip("10.0.0.1"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(
            parse_ip("::ffff:10.0.0.1"),
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(
            parse_ip("5678:abcd::1"),
            Some("5678:abcd::1".parse().unwrap())
        );
        for bad in [
            "",
            "None",
            "010.0.0.1",
            "1.2.3",
            "ext.interwebs.test",
            "fe80::1%eth0",
        ] {
            assert_eq!(parse_ip(bad), None, "{bad}");
        }
    }

    #[test]
    fn endpoint_names_follow_the_first_rule_that_applies() {
        let cases = [
            (Some("ep1a"), Some("pod-0"), true, "172.0.0.1", "ep1a"),
            (None, Some("pn-pod-0"), true, "172.0.1.1", "pn-pod-0"),
            (None, Some("pn-pod-0"), false, "172.0.1.1", "172-0-1-1"),
            (Some(""), None, false, "10.1.2.3", "10-1-2-3"),
            (None, None, false, "5678:abcd::1", "5678-abcd--1"),
            (None, None, false, "2001:db8::", "2001-db8--0"),
            (None, None, false, "::ffff:1.2.3.4", "::ffff:1-2-3-4"),
        ];
        for (hostname, pod, pod_names, address, want) in cases {
            assert_eq!(
                &*endpoint_name(hostname, pod, pod_names, address),
                want,
                "{address}"
            );
        }
    }
}
