//! Server keys → normalised zones (corefile.md §6, CoreDNS `InspectServerBlocks`,
//! `parse.Transport` and `plugin.SplitHostPort`).
//!
//! `[SCHEME://]ZONE[:PORT]`: the scheme picks the listener type and its default port, the
//! text after the last colon is the port when it is an integer, the rest must be a DNS name
//! or a CIDR, which becomes one reverse zone per label-aligned subnet.

use plugin::ServerKey;

use super::ServerBlock;
use super::cidr::Cidr;
use super::dns_name::{fqdn, is_domain_name, to_lower};
use super::error::KeyError;

/// The schemes CoreDNS's `parse.Transport` recognises, case-sensitively. Anything else
/// (`DNS://`, `http://`) is not a scheme and stays part of the zone text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Dns,
    Tls,
    Quic,
    Grpc,
    Https,
    Https3,
    /// Recognised, but CoreDNS never creates a listener for it: the zone is silently unserved.
    Unix,
}

impl Scheme {
    /// In CoreDNS's matching order (`https3://` before `https://`).
    const ALL: [Scheme; 7] = [
        Scheme::Tls,
        Scheme::Dns,
        Scheme::Quic,
        Scheme::Grpc,
        Scheme::Https3,
        Scheme::Https,
        Scheme::Unix,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Dns => "dns",
            Scheme::Tls => "tls",
            Scheme::Quic => "quic",
            Scheme::Grpc => "grpc",
            Scheme::Https => "https",
            Scheme::Https3 => "https3",
            Scheme::Unix => "unix",
        }
    }

    /// The port a key without one listens on; `dns` uses the `-dns.port` flag.
    fn default_port(self) -> Option<u16> {
        match self {
            Scheme::Tls | Scheme::Quic => Some(853),
            Scheme::Grpc | Scheme::Https | Scheme::Https3 => Some(443),
            Scheme::Dns | Scheme::Unix => None,
        }
    }

    /// Splits a known `SCHEME://` off `key`; no known scheme means plain DNS.
    pub fn split(key: &str) -> (Scheme, &str) {
        for scheme in Scheme::ALL {
            if let Some(rest) = key
                .strip_prefix(scheme.as_str())
                .and_then(|r| r.strip_prefix("://"))
            {
                return (scheme, rest);
            }
        }
        (Scheme::Dns, key)
    }
}

/// Every zone of `block` with scheme and port, in key order; a CIDR key contributes all its
/// reverse zones in address order. `default_port` is the `-dns.port` flag value; it is only
/// checked when a `dns` key needs it (CoreDNS fails only when it listens on it).
pub fn inspect_keys(block: &ServerBlock, default_port: &str) -> Result<Vec<ServerKey>, KeyError> {
    // (scheme, zone, explicit or scheme port; None = the `-dns.port` flag)
    let mut zones: Vec<(Scheme, String, Option<u16>)> = Vec::new();
    for key in &block.keys {
        let (scheme, address) = Scheme::split(key);
        if scheme == Scheme::Unix {
            return Err(KeyError::UnixTransport(key.clone()));
        }
        let (hosts, port) = split_host_port(address)?;
        // CoreDNS checks each host again fully qualified: a 255-octet name passes the first
        // check and only fails with its final dot (found by CoreDNS's fuzzing).
        for host in &hosts {
            split_host_port(&fqdn(host))?;
        }
        let port = match port {
            Some(port) => Some(u16::try_from(port).map_err(|_| KeyError::InvalidPort {
                key: address.to_string(),
                port,
            })?),
            None => scheme.default_port(),
        };
        zones.extend(
            hosts
                .iter()
                .map(|host| (scheme, to_lower(&fqdn(host)), port)),
        );
    }
    let mut flag_port: Option<u16> = None;
    let mut keys = Vec::with_capacity(zones.len());
    for (scheme, zone, port) in zones {
        let port = match (port, flag_port) {
            (Some(port), _) | (None, Some(port)) => port,
            (None, None) => *flag_port.insert(parse_default_port(default_port)?),
        };
        keys.push(ServerKey {
            scheme: scheme.as_str().to_string(),
            zone,
            port,
        });
    }
    Ok(keys)
}

/// The `-dns.port` flag: a decimal port number.
fn parse_default_port(flag: &str) -> Result<u16, KeyError> {
    match go_atoi(flag) {
        Some(port) => {
            u16::try_from(port).map_err(|_| KeyError::DefaultPortOutOfRange(flag.to_string()))
        }
        None => Err(KeyError::UnknownDefaultPort(flag.to_string())),
    }
}

/// CoreDNS `plugin.SplitHostPort`: the zone(s) and the explicit port of a key without scheme.
fn split_host_port(s: &str) -> Result<(Vec<String>, Option<i64>), KeyError> {
    // A port is only recognised after the *last* colon, and only when it is an integer: a
    // reverse key always has its `/len` before the port, so `fd00::/8` has no port.
    let mut host = s;
    let mut port = None;
    if let Some(colon) = s.rfind(':') {
        let after = &s[colon + 1..];
        if after.is_empty() {
            return Err(KeyError::NothingAfterColon(s.to_string()));
        }
        if let Some(p) = go_atoi(after) {
            port = Some(p);
            host = &s[..colon];
        }
    }
    if host.len() > 255 {
        return Err(KeyError::ZoneTooLong(host.len()));
    }
    if !is_domain_name(host) {
        return Err(KeyError::InvalidZone(host.to_string()));
    }
    let Some(cidr) = Cidr::parse(host) else {
        return Ok((vec![host.to_string()], port));
    };
    // CoreDNS refuses IPv6 networks written from `::` or a leading 0 (`::1/128`,
    // `0:0::/16`): their reverse zones would be `…0.0.0.0.ip6.arpa.` look-alikes.
    if host.starts_with(':') || (host.starts_with('0') && host.contains(':')) {
        return Err(KeyError::InvalidCidr(host.to_string()));
    }
    Ok((cidr.reverse_zones(), port))
}

/// Go's `strconv.Atoi`: optional sign, decimal digits, within 64 bits.
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.strip_prefix('+').unwrap_or(s).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(keys: &[&str]) -> ServerBlock {
        ServerBlock {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            directives: Vec::new(),
        }
    }

    fn shown(keys: &[&str], default_port: &str) -> Result<Vec<String>, KeyError> {
        inspect_keys(&block(keys), default_port)
            .map(|keys| keys.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn normalises_keys_like_coredns() {
        let cases: &[(&str, &[&str], &str, &[&str])] = &[
            (
                "root on the default port (§12 #1)",
                &["."],
                "53",
                &["dns://.:53"],
            ),
            (
                "explicit port wins over the flag (§12 #14)",
                &[".:1053"],
                "5300",
                &["dns://.:1053"],
            ),
            (
                "flag is the dns default (§12 #14)",
                &["."],
                "5300",
                &["dns://.:5300"],
            ),
            (
                "trailing dot and case (§12 #16)",
                &["EXAMPLE.ORG."],
                "53",
                &["dns://example.org.:53"],
            ),
            (
                "comma without space is one zone (§12 #8)",
                &["example.org,example.com:1053"],
                "53",
                &["dns://example.org,example.com.:1053"],
            ),
            (
                "ports are per key (§12 #9)",
                &["example.org", "example.com:1053"],
                "53",
                &["dns://example.org.:53", "dns://example.com.:1053"],
            ),
            (
                "braces are name characters (§12 #6)",
                &[".", "{}"],
                "53",
                &["dns://.:53", "dns://{}.:53"],
            ),
            (
                "brace glued to the key (§12 #7)",
                &["example.org{"],
                "53",
                &["dns://example.org{.:53"],
            ),
            (
                "stray close brace key (§12 #39)",
                &["}"],
                "53",
                &["dns://}.:53"],
            ),
            (
                "port is re-printed",
                &["example.org:053"],
                "53",
                &["dns://example.org.:53"],
            ),
            (
                "port may carry a plus sign",
                &["example.org:+53"],
                "53",
                &["dns://example.org.:53"],
            ),
            (
                "non-numeric tail stays in the name",
                &["example.org:abc"],
                "53",
                &["dns://example.org:abc.:53"],
            ),
            (
                "only the last colon counts",
                &["a:1:2"],
                "53",
                &["dns://a:1.:2"],
            ),
            (
                "unknown scheme is part of the zone",
                &["DNS://example.org"],
                "53",
                &["dns://dns://example.org.:53"],
            ),
            (
                "dns scheme",
                &["dns://example.org"],
                "53",
                &["dns://example.org.:53"],
            ),
            (
                "tls and grpc defaults (§12 #19)",
                &["tls://example.org", "grpc://example.org"],
                "53",
                &["tls://example.org.:853", "grpc://example.org.:443"],
            ),
            (
                "quic, https, https3 defaults",
                &["quic://a", "https://a", "https3://a"],
                "53",
                &["quic://a.:853", "https://a.:443", "https3://a.:443"],
            ),
            (
                "scheme with explicit port",
                &["tls://a:8853"],
                "53",
                &["tls://a.:8853"],
            ),
            (
                "flag not needed when every key has a port",
                &[".:53", "tls://a"],
                "abc",
                &["dns://.:53", "tls://a.:853"],
            ),
            (
                "reverse keys (§12 #17)",
                &["10.0.0.0/24", "172.16.0.0/15"],
                "53",
                &[
                    "dns://0.0.10.in-addr.arpa.:53",
                    "dns://16.172.in-addr.arpa.:53",
                    "dns://17.172.in-addr.arpa.:53",
                ],
            ),
        ];
        for (name, keys, default_port, expected) in cases {
            let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
            assert_eq!(shown(keys, default_port), Ok(expected), "{name}");
        }
    }

    #[test]
    fn rejects_bad_keys_with_coredns_errors() {
        let long = "a".repeat(256);
        let exactly_255 = vec!["a".repeat(63); 4].join(".");
        let cases: Vec<(&str, &str, KeyError)> = vec![
            (
                "port without zone (§12 #13)",
                ":53",
                KeyError::InvalidZone(String::new()),
            ),
            (
                "nothing after colon",
                "example.org:",
                KeyError::NothingAfterColon("example.org:".into()),
            ),
            (
                "IPv6 CIDR from :: (§12 #18)",
                "::1/128",
                KeyError::InvalidCidr("::1/128".into()),
            ),
            (
                "IPv6 CIDR from 0",
                "0:0::/16",
                KeyError::InvalidCidr("0:0::/16".into()),
            ),
            ("empty label", "a..b", KeyError::InvalidZone("a..b".into())),
            (
                "empty key from a lone comma",
                "",
                KeyError::InvalidZone(String::new()),
            ),
            ("over 255 octets", long.as_str(), KeyError::ZoneTooLong(256)),
            (
                "255 octets fail once fully qualified",
                exactly_255.as_str(),
                KeyError::ZoneTooLong(256),
            ),
            (
                "port out of range",
                "a:70000",
                KeyError::InvalidPort {
                    key: "a:70000".into(),
                    port: 70000,
                },
            ),
            (
                "negative port",
                "a:-1",
                KeyError::InvalidPort {
                    key: "a:-1".into(),
                    port: -1,
                },
            ),
            (
                "unix transport",
                "unix://a",
                KeyError::UnixTransport("unix://a".into()),
            ),
        ];
        for (name, key, expected) in cases {
            assert_eq!(shown(&[key], "53"), Err(expected), "{name}");
        }
    }

    #[test]
    fn bad_dns_port_flag_fails_only_when_used() {
        assert_eq!(
            shown(&["."], "abc"),
            Err(KeyError::UnknownDefaultPort("abc".into()))
        );
        assert_eq!(
            shown(&["."], "70000"),
            Err(KeyError::DefaultPortOutOfRange("70000".into()))
        );
        assert_eq!(
            KeyError::DefaultPortOutOfRange("70000".into()).to_string(),
            "address 70000: invalid port"
        );
    }

    #[test]
    fn differently_written_keys_normalise_to_the_same_zone() {
        // §12 #15/#16: the duplicate check itself is the assembler's; it compares these.
        let a = inspect_keys(&block(&["example.org"]), "53");
        let b = inspect_keys(&block(&["EXAMPLE.ORG."]), "53");
        assert_eq!(a, b);
        let c = inspect_keys(&block(&["."]), "53");
        let d = inspect_keys(&block(&[".:53"]), "53");
        assert_eq!(c, d);
    }

    #[test]
    fn every_row_of_the_cidr_table() {
        // corefile.md §6, reverse (CIDR) keys.
        let ten_17: Vec<String> = (0..128)
            .map(|i| format!("dns://{i}.0.10.in-addr.arpa.:53"))
            .collect();
        let one_26: Vec<String> = (0..64)
            .map(|i| format!("dns://{i}.1.168.192.in-addr.arpa.:1053"))
            .collect();
        let db8: Vec<String> = ["8", "9", "a", "b"]
            .iter()
            .map(|n| format!("dns://{n}.b.d.0.1.0.0.2.ip6.arpa.:53"))
            .collect();
        let rows: Vec<(&str, Result<Vec<String>, KeyError>)> = vec![
            ("10.0.0.0/8", Ok(vec!["dns://10.in-addr.arpa.:53".into()])),
            (
                "10.0.0.0/24",
                Ok(vec!["dns://0.0.10.in-addr.arpa.:53".into()]),
            ),
            (
                "172.16.0.0/15",
                Ok(vec![
                    "dns://16.172.in-addr.arpa.:53".into(),
                    "dns://17.172.in-addr.arpa.:53".into(),
                ]),
            ),
            ("10.0.0.0/17", Ok(ten_17)),
            ("192.168.1.0/26:1053", Ok(one_26)),
            ("fd00::/8", Ok(vec!["dns://d.f.ip6.arpa.:53".into()])),
            ("2001:db8::/30", Ok(db8)),
            ("::1/128", Err(KeyError::InvalidCidr("::1/128".into()))),
        ];
        for (key, expected) in rows {
            assert_eq!(shown(&[key], "53"), expected, "{key}");
        }
    }

    #[test]
    fn scheme_split_is_case_sensitive_and_prefers_https3() {
        assert_eq!(Scheme::split("https3://a"), (Scheme::Https3, "a"));
        assert_eq!(Scheme::split("https://a"), (Scheme::Https, "a"));
        assert_eq!(Scheme::split("TLS://a"), (Scheme::Dns, "TLS://a"));
        assert_eq!(Scheme::split("http://a"), (Scheme::Dns, "http://a"));
    }
}
