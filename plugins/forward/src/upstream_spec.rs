//! The TO arguments of `forward` (plugins-resolution.md §1.2): IP, IP:port, `[v6]:port`,
//! `dns://`, `tls://IP[%name][:port]`, resolv.conf files and hostnames, expanded and
//! deduplicated by `IP:port`.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};

use crate::error::ForwardConfigError;
use crate::hostname;
use crate::resolv_conf;

/// Plain DNS port (RFC 1035) and DNS over TLS port (RFC 7858 §3.1).
pub const DNS_PORT: u16 = 53;
pub const TLS_PORT: u16 = 853;

/// How an upstream is spoken to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// UDP or TCP, chosen per query (§1.6).
    Dns,
    /// DNS over TLS, always.
    Tls,
}

/// One upstream after expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamSpec {
    pub addr: SocketAddr,
    pub protocol: Protocol,
    /// The `%name` suffix of a `tls://` upstream (TLS server name); dropped for plain DNS.
    pub server_name: Option<String>,
}

/// What one TO token stands for before hostnames are resolved.
#[derive(Debug, PartialEq, Eq)]
pub enum ToEntry {
    Static(Vec<UpstreamSpec>),
    Hostname {
        host: String,
        port: u16,
        protocol: Protocol,
        server_name: Option<String>,
    },
    /// A resolv.conf file without nameserver lines: skipped silently (§1.3).
    Empty,
}

/// The scheme prefix of a TO token and the rest (CoreDNS `parse.Transport`; no prefix is
/// `dns`).
fn split_scheme(token: &str) -> (&str, &str) {
    for scheme in ["tls", "dns", "quic", "grpc", "https3", "https", "unix"] {
        if let Some(rest) = token
            .strip_prefix(scheme)
            .and_then(|r| r.strip_prefix("://"))
        {
            return (scheme, rest);
        }
    }
    ("dns", token)
}

/// Rejects `https://HOST/path` before anything else is looked at (since 1.14.5).
pub fn check_https_path(token: &str) -> Result<(), ForwardConfigError> {
    match split_scheme(token) {
        ("https", rest) if rest.contains('/') => {
            Err(ForwardConfigError::HttpsPath(token.to_string()))
        }
        _ => Ok(()),
    }
}

/// Splits a `%NAME` TLS server name off `host`, keeping a port written after it
/// (`[2001:db8::1%dns.example]:853` → `[2001:db8::1]:853`, `dns.example`). `%` is always a
/// server name, never an IPv6 scope (§1.2).
pub fn split_server_name(host: &str) -> (String, Option<String>) {
    let Some(percent) = host.rfind('%') else {
        return (host.to_string(), None);
    };
    let mut address = host[..percent].to_string();
    if address.starts_with('[') {
        address.push(']');
    }
    let mut name = &host[percent + 1..];
    if let Some(colon) = name.rfind(':') {
        address.push_str(&name[colon..]);
        name = name[..colon].trim_end_matches(']');
    }
    (address, Some(name.to_string()))
}

/// `IP`, `[IP]` with `default_port`, or `IP:port` / `[IPv6]:port`.
fn parse_ip_port(host: &str, default_port: u16) -> Option<SocketAddr> {
    if let Ok(addr) = host.parse::<SocketAddr>() {
        return Some(addr);
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, default_port))
}

/// Classifies one TO token.
pub fn classify(token: &str) -> Result<ToEntry, ForwardConfigError> {
    let (scheme, rest) = split_scheme(token);
    let protocol = match scheme {
        "dns" => Protocol::Dns,
        "tls" => Protocol::Tls,
        "https" => return Err(ForwardConfigError::DohNotSupported(token.to_string())),
        other => {
            return Err(ForwardConfigError::UnsupportedProtocol {
                scheme: other.to_string(),
                upstream: token.to_string(),
            });
        }
    };
    if rest.is_empty() {
        return Err(ForwardConfigError::InvalidAddress(token.to_string()));
    }
    let (host, server_name) = split_server_name(rest);
    let default_port = match protocol {
        Protocol::Dns => DNS_PORT,
        Protocol::Tls => TLS_PORT,
    };
    if let Some(addr) = parse_ip_port(&host, default_port) {
        let server_name = server_name.filter(|_| protocol == Protocol::Tls);
        return Ok(ToEntry::Static(vec![UpstreamSpec {
            addr,
            protocol,
            server_name,
        }]));
    }
    // Not an IP: a resolv.conf-style file (read once, §1.3), else a hostname (§1.2).
    if let Ok(text) = std::fs::read_to_string(rest) {
        let servers = resolv_conf::nameservers(&text);
        if servers.is_empty() {
            return Ok(ToEntry::Empty);
        }
        return Ok(ToEntry::Static(
            servers
                .into_iter()
                .map(|ip| UpstreamSpec {
                    addr: SocketAddr::new(ip, DNS_PORT),
                    protocol: Protocol::Dns,
                    server_name: None,
                })
                .collect(),
        ));
    }
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            let port = port
                .parse()
                .map_err(|_| ForwardConfigError::InvalidAddress(token.to_string()))?;
            (name, port)
        }
        _ => (host.as_str(), default_port),
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    if !hostname::is_valid(name) {
        return Err(ForwardConfigError::NotAnUpstream(token.to_string()));
    }
    Ok(ToEntry::Hostname {
        host: name.to_string(),
        port,
        protocol,
        server_name: server_name.filter(|_| protocol == Protocol::Tls),
    })
}

/// Resolves hostname entries and removes repeated `IP:port`s, first occurrence first (§1.2).
pub fn expand(
    entries: Vec<ToEntry>,
    resolvers: &[SocketAddr],
) -> Result<Vec<UpstreamSpec>, ForwardConfigError> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for entry in entries {
        let specs = match entry {
            ToEntry::Static(specs) => specs,
            ToEntry::Empty => continue,
            ToEntry::Hostname {
                host,
                port,
                protocol,
                server_name,
            } => hostname::resolve(&host, resolvers)?
                .into_iter()
                .map(|ip| UpstreamSpec {
                    addr: SocketAddr::new(ip, port),
                    protocol,
                    server_name: server_name.clone(),
                })
                .collect(),
        };
        for spec in specs {
            if seen.insert(spec.addr) {
                out.push(spec);
            }
        }
    }
    if out.is_empty() {
        return Err(ForwardConfigError::NoUpstreams);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(token: &str) -> UpstreamSpec {
        match classify(token) {
            Ok(ToEntry::Static(mut v)) if v.len() == 1 => v.remove(0),
            other => panic!("{token}: {other:?}"),
        }
    }

    #[test]
    fn addresses_and_ports() {
        let cases = [
            ("192.0.2.1", "192.0.2.1:53", Protocol::Dns, None),
            ("dns://192.0.2.1", "192.0.2.1:53", Protocol::Dns, None),
            ("192.0.2.1:5353", "192.0.2.1:5353", Protocol::Dns, None),
            ("::1", "[::1]:53", Protocol::Dns, None),
            ("[::1]", "[::1]:53", Protocol::Dns, None),
            ("[2001:db8::1]:54", "[2001:db8::1]:54", Protocol::Dns, None),
            ("tls://192.0.2.1", "192.0.2.1:853", Protocol::Tls, None),
            (
                "tls://192.0.2.1:8853",
                "192.0.2.1:8853",
                Protocol::Tls,
                None,
            ),
            (
                "tls://192.0.2.1%dns.example",
                "192.0.2.1:853",
                Protocol::Tls,
                Some("dns.example"),
            ),
            (
                "tls://192.0.2.1%dns.example:8853",
                "192.0.2.1:8853",
                Protocol::Tls,
                Some("dns.example"),
            ),
            (
                "tls://[2001:db8::1%dns.example]:853",
                "[2001:db8::1]:853",
                Protocol::Tls,
                Some("dns.example"),
            ),
            // %NAME is never an IPv6 scope; it is dropped for plain DNS.
            ("192.0.2.1%x", "192.0.2.1:53", Protocol::Dns, None),
        ];
        for (token, addr, protocol, name) in cases {
            let spec = one(token);
            assert_eq!(spec.addr.to_string(), addr, "{token}");
            assert_eq!(spec.protocol, protocol, "{token}");
            assert_eq!(spec.server_name.as_deref(), name, "{token}");
        }
    }

    #[test]
    fn unsupported_schemes_and_doh() {
        for scheme in ["grpc", "quic", "https3", "unix"] {
            let token = format!("{scheme}://192.0.2.1");
            assert_eq!(
                classify(&token).unwrap_err().to_string(),
                format!(
                    "'{scheme}' is not supported as a destination protocol in forward: {token}"
                )
            );
        }
        assert!(matches!(
            classify("https://192.0.2.1"),
            Err(ForwardConfigError::DohNotSupported(_))
        ));
        assert!(matches!(
            check_https_path("https://1.1.1.1/dns-query"),
            Err(ForwardConfigError::HttpsPath(_))
        ));
        assert!(check_https_path("https://1.1.1.1").is_ok());
    }

    #[test]
    fn junk_is_an_error() {
        assert!(matches!(
            classify("/no/such/file"),
            Err(ForwardConfigError::NotAnUpstream(_))
        ));
        assert!(matches!(
            classify("dns://"),
            Err(ForwardConfigError::InvalidAddress(_))
        ));
    }

    #[test]
    fn hostnames_are_recognised() {
        assert_eq!(
            classify("tls://dns.example%sni:8853").unwrap(),
            ToEntry::Hostname {
                host: "dns.example".into(),
                port: 8853,
                protocol: Protocol::Tls,
                server_name: Some("sni".into()),
            }
        );
    }

    #[test]
    fn duplicates_collapse_first_wins() {
        let entries = vec![
            classify("192.0.2.1").unwrap(),
            classify("tls://192.0.2.2").unwrap(),
            classify("dns://192.0.2.1:53").unwrap(),
            classify("192.0.2.2:853").unwrap(),
        ];
        let specs = expand(entries, &[]).unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[1].protocol, Protocol::Tls);
    }
}
