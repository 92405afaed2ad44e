//! Turning `bind` arguments into listen addresses.

use std::net::{IpAddr, Ipv6Addr};

use crate::BindError;
use crate::interfaces::Interface;

/// Each argument is an interface name (→ all its addresses) or a literal IP (→ itself, as
/// written). Interface names win over IPs, as in CoreDNS.
pub fn resolve(args: &[String], interfaces: &[Interface]) -> Result<Vec<String>, BindError> {
    let mut hosts = Vec::new();
    for arg in args {
        if let Some(iface) = interfaces.iter().find(|i| i.name == *arg) {
            hosts.extend(iface.addrs.iter().map(|ip| listen_host(*ip, &iface.name)));
            continue;
        }
        // Go's net.ParseIP: no port, no CIDR, no zone, no hostname.
        if arg.parse::<IpAddr>().is_err() {
            return Err(BindError::NotAnAddress(arg.clone()));
        }
        hosts.push(arg.clone());
    }
    Ok(hosts)
}

/// An interface address as a listen host. IPv6 link-local addresses are only meaningful with
/// their interface, so they get a `%IFACE` zone (RFC 4007 §11); IPv4-mapped addresses print
/// as IPv4, as Go prints them.
fn listen_host(ip: IpAddr, iface: &str) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None if is_link_local(&v6) => format!("{v6}%{iface}"),
            None => v6.to_string(),
        },
    }
}

/// fe80::/10 unicast or ff02::/16-style link-local-scope multicast (Go's IsLinkLocalUnicast /
/// IsLinkLocalMulticast).
fn is_link_local(v6: &Ipv6Addr) -> bool {
    let o = v6.octets();
    (o[0] == 0xfe && o[1] & 0xc0 == 0x80) || (o[0] == 0xff && o[1] & 0x0f == 0x02)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Vec<Interface> {
        vec![
            Interface::new(
                "eth0",
                [
                    "10.0.0.5".parse().unwrap(),
                    "2001:db8::5".parse().unwrap(),
                    "fe80::1:2".parse().unwrap(),
                ],
            ),
            Interface::new("lo", ["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]),
            Interface::new("down0", []),
            Interface::new("mapped0", ["::ffff:192.0.2.9".parse().unwrap()]),
        ]
    }

    /// Arguments → listen hosts or the error.
    type Case = (
        &'static [&'static str],
        Result<&'static [&'static str], BindError>,
    );

    #[test]
    fn resolves_names_and_literals() {
        let cases: &[Case] = &[
            (
                &["eth0"],
                Ok(&["10.0.0.5", "2001:db8::5", "fe80::1:2%eth0"]),
            ),
            (&["lo", "192.0.2.1"], Ok(&["127.0.0.1", "::1", "192.0.2.1"])),
            (&["down0"], Ok(&[])),
            (&["mapped0"], Ok(&["192.0.2.9"])),
            // Literals are kept as written.
            (&["::FFFF:192.0.2.1"], Ok(&["::FFFF:192.0.2.1"])),
            (
                &["fe80::1%eth0"],
                Err(BindError::NotAnAddress("fe80::1%eth0".into())),
            ),
            (
                &["10.0.0.0/8"],
                Err(BindError::NotAnAddress("10.0.0.0/8".into())),
            ),
            (
                &["127.0.0.1:53"],
                Err(BindError::NotAnAddress("127.0.0.1:53".into())),
            ),
            (
                &["localhost"],
                Err(BindError::NotAnAddress("localhost".into())),
            ),
            (
                &["010.0.0.1"],
                Err(BindError::NotAnAddress("010.0.0.1".into())),
            ),
        ];
        for (args, want) in cases {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            let want = want
                .as_ref()
                .map(|hosts| hosts.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .map_err(Clone::clone);
            assert_eq!(resolve(&args, &table()), want, "{args:?}");
        }
    }

    #[test]
    fn link_local_scope() {
        for (ip, link_local) in [
            ("fe80::1", true),
            ("febf::1", true),
            ("fec0::1", false),
            ("ff02::1", true),
            ("ff05::1", false),
            ("2001:db8::1", false),
        ] {
            assert_eq!(is_link_local(&ip.parse().unwrap()), link_local, "{ip}");
        }
    }
}
