//! The `prefer CIDR` networks: parsed as Go's `net.ParseCIDR` does (its error text is part of
//! the Corefile error), matched as `net.IPNet.Contains` does.

use std::net::IpAddr;

/// An IP network: the address with its host bits cleared, and the prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// Displays as Go's `net.ParseError` for a CIDR: `invalid CIDR address: TEXT`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid CIDR address: {0}")]
pub struct CidrError(pub String);

impl Cidr {
    /// `ADDRESS/PREFIX`, IPv4 or IPv6. The prefix is decimal digits only (Go's `dtoi`:
    /// leading zeros allowed, no sign) and at most the address length in bits. An IPv6
    /// zone (`fe80::1%eth0/64`) is refused, as Go does.
    pub fn parse(text: &str) -> Result<Cidr, CidrError> {
        let invalid = || CidrError(text.to_string());
        let (address, prefix) = text.split_once('/').ok_or_else(invalid)?;
        let address: IpAddr = address.parse().map_err(|_| invalid())?;
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let bits = match address {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        // Leading zeros are allowed; past them more than three digits is out of range.
        let digits = prefix.trim_start_matches('0');
        let prefix: u32 = match digits.len() {
            0 => 0,
            1..=3 => digits.parse().map_err(|_| invalid())?,
            _ => return Err(invalid()),
        };
        if prefix > bits {
            return Err(invalid());
        }
        Ok(Cidr::new(address, prefix as u8))
    }

    fn new(address: IpAddr, prefix: u8) -> Cidr {
        // An IPv4-mapped IPv6 network of /96 or longer is the IPv4 network it maps (Go
        // reduces both the network and the address to 4 bytes when it can).
        if let IpAddr::V6(v6) = address
            && let Some(v4) = v6.to_ipv4_mapped()
            && prefix >= 96
        {
            return Cidr::new(IpAddr::V4(v4), prefix - 96);
        }
        Cidr {
            network: mask(address, prefix),
            prefix,
        }
    }

    /// True when `address` is inside the network. An IPv4-mapped IPv6 address counts as the
    /// IPv4 address it maps.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        let same_family = address.is_ipv4() == self.network.is_ipv4();
        same_family && mask(address, self.prefix) == self.network
    }
}

/// `address` with every bit after the first `prefix` cleared.
fn mask(address: IpAddr, prefix: u8) -> IpAddr {
    match address {
        IpAddr::V4(v4) => {
            let keep = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & keep).into())
        }
        IpAddr::V6(v6) => {
            let keep = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & keep).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_contain_their_addresses_only() {
        let cases = [
            ("10.9.20.0/24", "10.9.20.5", true),
            ("10.9.20.7/24", "10.9.20.200", true),
            ("10.9.20.0/24", "10.9.21.5", false),
            ("10.9.20.0/24", "::ffff:10.9.20.5", true),
            ("10.9.20.0/24", "2001:db8::1", false),
            ("0.0.0.0/0", "192.0.2.1", true),
            ("0.0.0.0/0", "2001:db8::1", false),
            ("2001:db8::/32", "2001:db8:1::1", true),
            ("2001:db8::/32", "2001:db9::1", false),
            ("::/0", "10.0.0.1", false),
            ("::ffff:10.0.0.0/104", "10.0.0.9", true),
            ("10.0.0.1/32", "10.0.0.1", true),
            ("10.0.0.1/032", "10.0.0.2", false),
        ];
        for (cidr, address, want) in cases {
            let net = Cidr::parse(cidr).unwrap();
            assert_eq!(net.contains(ip(address)), want, "{cidr} {address}");
        }
    }

    #[test]
    fn bad_networks_are_refused_with_go_text() {
        for text in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0/8",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.0/-1",
            "2001:db8::/129",
            "fe80::1%eth0/64",
            "example/8",
            "10.0.0.0/99999999999999999999",
        ] {
            assert_eq!(
                Cidr::parse(text).unwrap_err().to_string(),
                format!("invalid CIDR address: {text}")
            );
        }
    }
}
