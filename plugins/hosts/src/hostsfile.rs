//! The hosts file format (plugins-resolution.md §3.2): `ADDRESS NAME [NAME...]` per line, `#`
//! comments, anything unparseable skipped. One parse of one source (the file, or the inline
//! entries) gives a [`HostsMap`]; the answers are built from the maps in `table.rs`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_proto::rr::Name;
use plugin::zones::is_subdomain;

use crate::reverse;

/// The data of one source, in source order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostsMap {
    /// Exact names (lower-case FQDN) → their IPv4 addresses (mapped IPv6 included).
    pub name4: HashMap<String, Vec<Ipv4Addr>>,
    pub name6: HashMap<String, Vec<Ipv6Addr>>,
    /// Wildcards, keyed by what follows `*.` (`*.example.com` → `example.com.`).
    pub wild4: HashMap<String, Vec<Ipv4Addr>>,
    pub wild6: HashMap<String, Vec<Ipv6Addr>>,
    /// Address → the non-wildcard names on its lines, for PTR (empty with `no_reverse`).
    pub addr: HashMap<IpAddr, Vec<String>>,
}

impl HostsMap {
    /// Every address of every name plus every PTR target: what `coredns_hosts_entries`
    /// counts (CoreDNS `Map.Len`).
    pub fn len(&self) -> usize {
        fn total<K, V>(m: &HashMap<K, Vec<V>>) -> usize {
            m.values().map(Vec::len).sum()
        }
        total(&self.name4)
            + total(&self.name6)
            + total(&self.wild4)
            + total(&self.wild6)
            + total(&self.addr)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a parse keeps: names inside `zones`, PTR data when `auto_reverse`.
#[derive(Clone, Copy, Debug)]
pub struct ParseOptions<'a> {
    pub zones: &'a [String],
    pub auto_reverse: bool,
}

/// Parses hosts-file text. Never fails: a line that does not fit is skipped, as CoreDNS does.
pub fn parse(data: &[u8], options: ParseOptions<'_>) -> HostsMap {
    let mut map = HostsMap::default();
    for line in data.split(|&b| b == b'\n') {
        let line = match line.iter().position(|&b| b == b'#') {
            Some(comment) => &line[..comment],
            None => line,
        };
        let mut fields = line
            .split(|&b| is_space(b))
            .filter(|field| !field.is_empty());
        let (Some(address), Some(first_name)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some(address) = parse_address(address) else {
            continue;
        };
        for raw in std::iter::once(first_name).chain(fields) {
            let Some(name) = normalize_name(raw) else {
                continue;
            };
            if !options.zones.iter().any(|zone| is_subdomain(zone, &name)) {
                continue;
            }
            add(&mut map, address, name, options.auto_reverse);
        }
    }
    map
}

fn add(map: &mut HostsMap, address: IpAddr, name: String, auto_reverse: bool) {
    if let Some(suffix) = name.strip_prefix("*.") {
        // Wildcard lines give no PTR (§3.2).
        let suffix = suffix.to_string();
        match address {
            IpAddr::V4(v4) => map.wild4.entry(suffix).or_default().push(v4),
            IpAddr::V6(v6) => map.wild6.entry(suffix).or_default().push(v6),
        }
        return;
    }
    if auto_reverse {
        map.addr.entry(address).or_default().push(name.clone());
    }
    match address {
        IpAddr::V4(v4) => map.name4.entry(name).or_default().push(v4),
        IpAddr::V6(v6) => map.name6.entry(name).or_default().push(v6),
    }
}

/// Go's `bytes.Fields` separators (ASCII part; the only ones hosts files use).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The first field as an address: an IPv6 `%zone` is dropped; IPv4-mapped IPv6 is IPv4.
fn parse_address(field: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(field).ok()?;
    let text = text.split_once('%').map_or(text, |(addr, _zone)| addr);
    text.parse().ok().map(reverse::canonical)
}

/// A host name lower-cased and fully qualified, or None when it cannot be a DNS name (then no
/// query can ever ask for it, so nothing is lost by dropping it).
fn normalize_name(field: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(field).ok()?;
    let name = plugin::zones::normalize(text);
    Name::from_ascii(&name).ok()?;
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in(text: &str, zones: &[&str], auto_reverse: bool) -> HostsMap {
        let zones: Vec<String> = zones.iter().map(|z| z.to_string()).collect();
        parse(
            text.as_bytes(),
            ParseOptions {
                zones: &zones,
                auto_reverse,
            },
        )
    }

    fn v4(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn lines_names_comments_and_families() {
        let map = parse_in(
            "# comment line\n\
             127.0.0.1 localhost Localhost.Localdomain # trailing\n\
             10.0.0.1\texample.org  www.example.org\r\n\
             10.0.0.2 example.org\n\
             ::1 localhost\n\
             fe80::1%eth0 link.example\n\
             ::ffff:10.0.0.3 mapped.example\n\
             10.0.0.9\n\
             123.123.123 bad.example\n\
             321.321.321.321 bad.example\n\
             01.0.0.1 octal.example\n",
            &["."],
            true,
        );
        assert_eq!(map.name4["localhost."], [v4("127.0.0.1")]);
        assert_eq!(map.name4["localhost.localdomain."], [v4("127.0.0.1")]);
        assert_eq!(map.name4["example.org."], [v4("10.0.0.1"), v4("10.0.0.2")]);
        assert_eq!(map.name4["www.example.org."], [v4("10.0.0.1")]);
        assert_eq!(
            map.name6["localhost."],
            ["::1".parse::<Ipv6Addr>().unwrap()]
        );
        assert_eq!(
            map.name6["link.example."],
            ["fe80::1".parse::<Ipv6Addr>().unwrap()]
        );
        assert_eq!(map.name4["mapped.example."], [v4("10.0.0.3")]);
        assert!(!map.name6.contains_key("mapped.example."));
        assert!(!map.name4.contains_key("bad.example."));
        assert!(!map.name4.contains_key("octal.example."));
        assert_eq!(
            map.addr[&"10.0.0.1".parse::<IpAddr>().unwrap()],
            ["example.org.", "www.example.org."]
        );
        assert_eq!(
            map.addr[&"10.0.0.3".parse::<IpAddr>().unwrap()],
            ["mapped.example."]
        );
    }

    #[test]
    fn zones_filter_names_and_no_reverse_drops_ptr_data() {
        let map = parse_in(
            "10.0.0.1 a.example.org\n10.0.0.2 b.example.net\n",
            &["example.org."],
            false,
        );
        assert!(map.name4.contains_key("a.example.org."));
        assert!(!map.name4.contains_key("b.example.net."));
        assert!(map.addr.is_empty());
        assert_eq!(map.len(), 1);
    }

    #[test]
    fn wildcards_are_kept_apart_and_give_no_ptr() {
        let map = parse_in(
            "10.0.0.10 *.example.com\n10.0.0.11 a.example.com\n",
            &["."],
            true,
        );
        assert_eq!(map.wild4["example.com."], [v4("10.0.0.10")]);
        assert_eq!(map.name4["a.example.com."], [v4("10.0.0.11")]);
        assert_eq!(map.addr.len(), 1);
        // Two addresses and one PTR target.
        assert_eq!(map.len(), 3);
    }

    #[test]
    fn garbage_is_skipped() {
        let zones = [".".to_string()];
        let map = parse(
            b"\x00\xff\n10.0.0.1 \xc3\xa9t\xc3\xa9.example bad..name \xff ok.example\n\xff",
            ParseOptions {
                zones: &zones,
                auto_reverse: true,
            },
        );
        assert_eq!(map.name4.len(), 1);
        assert!(map.name4.contains_key("ok.example."));
    }
}
