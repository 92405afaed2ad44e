//! The server's own addresses (kubernetes.md §5.2 step 1): every non-loopback interface
//! address, or the addresses the block is bound to when `bind` lists some.

use std::net::IpAddr;

use crate::objects::address::canonical;

/// The own addresses for a block bound to `listen_hosts` (empty: the wildcard address).
///
/// CoreDNS reads the bind addresses with `net.ParseCIDR`, which rejects plain addresses, so
/// with `bind` it ends up with none; we use the bound addresses as the contract says.
pub fn own_addresses(listen_hosts: &[String]) -> Vec<IpAddr> {
    let bound: Vec<IpAddr> = listen_hosts
        .iter()
        .filter_map(|h| h.trim_start_matches('[').trim_end_matches(']').parse().ok())
        .collect();
    let all = if bound.is_empty() || bound.iter().all(IpAddr::is_unspecified) {
        interface_addresses()
    } else {
        bound
    };
    non_loopback(all)
}

fn interface_addresses() -> Vec<IpAddr> {
    match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces.into_iter().map(|i| i.ip()).collect(),
        Err(e) => {
            plugin::log::warning(
                Some(crate::NAME),
                format_args!("cannot list interface addresses: {e}"),
            );
            Vec::new()
        }
    }
}

fn non_loopback(addresses: Vec<IpAddr>) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for ip in addresses.into_iter().map(canonical) {
        if !ip.is_loopback() && !ip.is_unspecified() && !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_addresses_win_and_loopback_is_dropped() {
        let hosts = [
            "10.244.0.53".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ];
        assert_eq!(
            own_addresses(&hosts),
            ["10.244.0.53".parse::<IpAddr>().unwrap()]
        );
    }

    #[test]
    fn without_bind_the_interfaces_are_listed() {
        // Whatever this machine has: never a loopback address.
        assert!(own_addresses(&[]).iter().all(|ip| !ip.is_loopback()));
    }
}
