//! The host's network interfaces and their addresses, behind a trait so tests can use a fake
//! table.

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;

/// One network interface (a link) and every IP address on it, in the kernel's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub addrs: Vec<IpAddr>,
}

impl Interface {
    pub fn new(name: impl Into<String>, addrs: impl IntoIterator<Item = IpAddr>) -> Self {
        Interface {
            name: name.into(),
            addrs: addrs.into_iter().collect(),
        }
    }
}

/// Where `bind` learns which interfaces exist (Go's `net.Interfaces()`).
pub trait InterfaceTable {
    fn interfaces(&self) -> io::Result<Vec<Interface>>;
}

/// A fixed table: tests, or a caller that already listed the interfaces.
impl InterfaceTable for Vec<Interface> {
    fn interfaces(&self) -> io::Result<Vec<Interface>> {
        Ok(self.to_vec())
    }
}

/// The interfaces of this host, read at setup (startup and every reload).
#[derive(Clone, Copy, Debug, Default)]
pub struct HostInterfaces;

impl InterfaceTable for HostInterfaces {
    fn interfaces(&self) -> io::Result<Vec<Interface>> {
        let addrs = if_addrs::get_if_addrs()?;
        // getifaddrs(3) names an aliased IPv4 address by its label (`eth0:1`) and skips links
        // without addresses; Go lists links (`eth0`, with all their addresses). So links come
        // from sysfs where it exists, and addresses are assigned to them by interface index.
        let links = linux_links().unwrap_or_else(|| links_from(&addrs));
        Ok(links
            .into_iter()
            .map(|(index, name)| {
                let ips: Vec<IpAddr> = addrs
                    .iter()
                    .filter(|a| match a.index {
                        Some(i) => i == index,
                        None => a.name == name,
                    })
                    .map(|a| a.ip())
                    .collect();
                Interface::new(name, ips)
            })
            .collect())
    }
}

/// Links by index from `/sys/class/net`, or None where sysfs is not available.
fn linux_links() -> Option<Vec<(u32, String)>> {
    let dir = std::fs::read_dir("/sys/class/net").ok()?;
    let mut links = BTreeMap::new();
    for entry in dir.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Ok(index) = std::fs::read_to_string(entry.path().join("ifindex")) else {
            continue;
        };
        if let Ok(index) = index.trim().parse::<u32>() {
            links.insert(index, name);
        }
    }
    if links.is_empty() {
        return None;
    }
    Some(links.into_iter().collect())
}

/// Links as getifaddrs names them, in first-seen order (platforms without sysfs).
fn links_from(addrs: &[if_addrs::Interface]) -> Vec<(u32, String)> {
    let mut links: Vec<(u32, String)> = Vec::new();
    for a in addrs {
        if !links.iter().any(|(_, name)| *name == a.name) {
            links.push((a.index.unwrap_or(0), a.name.clone()));
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn the_loopback_interface_has_the_loopback_address() {
        let table = HostInterfaces.interfaces().expect("interfaces listed");
        let lo = table
            .iter()
            .find(|i| i.name == "lo")
            .expect("a Linux host has lo");
        assert!(lo.addrs.contains(&IpAddr::from([127, 0, 0, 1])), "{lo:?}");
    }

    #[test]
    fn a_fixed_table_lists_itself() {
        let table = vec![Interface::new("eth0", [IpAddr::from([10, 0, 0, 1])])];
        assert_eq!(table.interfaces().unwrap(), table);
    }
}
