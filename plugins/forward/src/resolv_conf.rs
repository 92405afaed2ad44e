//! resolv.conf-style upstream files (plugins-resolution.md §1.3): only `nameserver` lines
//! count, read once when the configuration is loaded.

use std::net::IpAddr;

/// The nameserver addresses of `text` in file order, `%zone` suffixes removed.
///
/// A line counts when its first field is exactly `nameserver` and it has a second field;
/// whatever follows (comments included) is ignored. CoreDNS takes the field verbatim; an
/// entry that is not an IP address cannot be dialled, so it is skipped here with a warning
/// (README, Compatibility).
pub fn nameservers(text: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        if fields.next() != Some("nameserver") {
            continue;
        }
        let Some(server) = fields.next() else {
            continue;
        };
        let address = server.split('%').next().unwrap_or(server);
        match address.parse::<IpAddr>() {
            Ok(ip) => out.push(ip),
            Err(_) => plugin::log::warning(
                Some("forward"),
                format_args!("ignoring nameserver {server:?}: not an IP address"),
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// F20: comments, search, options ignored; scope removed; order kept.
    #[test]
    fn f20_nameservers_in_order() {
        let text =
            "# c\nsearch x\nnameserver 10.0.0.1\nnameserver fe80::1%eth0 # z\noptions ndots:5";
        let servers: Vec<String> = nameservers(text)
            .into_iter()
            .map(|ip| std::net::SocketAddr::new(ip, 53).to_string())
            .collect();
        assert_eq!(servers, ["10.0.0.1:53", "[fe80::1]:53"]);
    }

    #[test]
    fn lines_that_do_not_count() {
        let text = "nameserver\n nameserverx 1.1.1.1\n;nameserver 2.2.2.2\nNAMESERVER 3.3.3.3\n";
        assert!(nameservers(text).is_empty());
    }
}
