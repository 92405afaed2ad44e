//! The `bind` directive: which addresses a server block listens on (plugins-core.md, bind).
//!
//! `bind` has no handler in the chain. Its setup replaces the block's listen hosts; the server
//! opens one UDP and one TCP listener per address.
#![forbid(unsafe_code)]

mod interfaces;
mod resolve;

use plugin::{ConfigError, Dispenser, Setup};

pub use interfaces::{HostInterfaces, Interface, InterfaceTable};

pub const NAME: &str = "bind";

/// The block's listen addresses, as strings the listener parses (`fe80::1%eth0` keeps its zone).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub hosts: Vec<String>,
}

/// Why a `bind` line is invalid (texts as CoreDNS prints them, without location).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    #[error("at least one address or interface name is expected")]
    NoAddress,
    #[error("at least one address or interface must be given to except subdirective")]
    NoExceptAddress,
    #[error("invalid option {0:?}")]
    InvalidOption(String),
    #[error("not a valid IP address or interface name: {0:?}")]
    NotAnAddress(String),
}

/// Sets the block's listen hosts from the host's interfaces.
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    setup_with(s, &HostInterfaces)
}

/// [`setup`] with an explicit interface table (tests use a fake one).
pub fn setup_with(s: &mut Setup<'_>, table: &dyn InterfaceTable) -> Result<(), ConfigError> {
    let interfaces = table.interfaces().unwrap_or_else(|e| {
        // Not fatal in CoreDNS: literal addresses still work.
        plugin::log::warning(
            Some(NAME),
            format_args!("failed to get interfaces list, cannot bind by interface name: {e}"),
        );
        Vec::new()
    });
    let config = parse(&mut s.d, &interfaces).map_err(ConfigError::invalid)?;
    // The result replaces the block's hosts; an empty list means "not served at all".
    s.block.listen_hosts = config.hosts;
    s.block.bind_used = true;
    Ok(())
}

/// Reads every `bind` line of the block. Each line's addresses minus that line's `except`
/// addresses are appended in order; duplicates are kept (the server rejects them later with
/// "already defined"). Lines are checked one after the other, as in CoreDNS.
pub fn parse(d: &mut Dispenser, interfaces: &[Interface]) -> Result<Config, BindError> {
    let mut hosts = Vec::new();
    while d.next() {
        let line = parse_line(d)?;
        let listen = resolve::resolve(&line.addresses, interfaces)?;
        let except = resolve::resolve(&line.except, interfaces)?;
        hosts.extend(listen.into_iter().filter(|host| !except.contains(host)));
    }
    Ok(Config { hosts })
}

/// One `bind` line before interface names are resolved.
struct Line {
    addresses: Vec<String>,
    except: Vec<String>,
}

fn parse_line(d: &mut Dispenser) -> Result<Line, BindError> {
    let addresses = d.remaining_args();
    if addresses.is_empty() {
        return Err(BindError::NoAddress);
    }
    let mut except = Vec::new();
    while d.next_block() {
        match d.val() {
            "except" => {
                // A second `except` replaces the first, as in CoreDNS.
                except = d.remaining_args();
                if except.is_empty() {
                    return Err(BindError::NoExceptAddress);
                }
            }
            other => return Err(BindError::InvalidOption(other.to_string())),
        }
    }
    Ok(Line { addresses, except })
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::test_util::TestBlock;
    use std::io;

    fn fake_host() -> Vec<Interface> {
        vec![
            Interface::new("lo", ["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]),
            Interface::new(
                "eth0",
                [
                    "10.0.0.5".parse().unwrap(),
                    "10.0.0.6".parse().unwrap(),
                    "fe80::5".parse().unwrap(),
                ],
            ),
        ]
    }

    /// Corefile snippet → listen hosts, or the error text (without the `plugin/bind: ` prefix).
    #[test]
    fn parses_like_coredns() {
        let cases: &[(&str, Result<&[&str], &str>)] = &[
            ("bind 127.0.0.1", Ok(&["127.0.0.1"])),
            ("bind 127.0.0.1 ::1", Ok(&["127.0.0.1", "::1"])),
            ("bind lo", Ok(&["127.0.0.1", "::1"])),
            ("bind eth0", Ok(&["10.0.0.5", "10.0.0.6", "fe80::5%eth0"])),
            ("bind 127.0.0.1\nbind ::1", Ok(&["127.0.0.1", "::1"])),
            // Duplicates are kept for the server to reject.
            ("bind 127.0.0.1 127.0.0.1", Ok(&["127.0.0.1", "127.0.0.1"])),
            (
                "bind eth0 {\nexcept 10.0.0.6\n}",
                Ok(&["10.0.0.5", "fe80::5%eth0"]),
            ),
            (
                "bind eth0 lo {\nexcept lo 10.0.0.6\n}",
                Ok(&["10.0.0.5", "fe80::5%eth0"]),
            ),
            // A zone is not part of an IP literal (Go's ParseIP), only of resolved names.
            (
                "bind eth0 {\nexcept fe80::5%eth0\n}",
                Err("not a valid IP address or interface name: \"fe80::5%eth0\""),
            ),
            // Everything excepted: the block is not served at all.
            ("bind lo {\nexcept lo\n}", Ok(&[])),
            // except is exact string matching: `::0:1` is not `::1`.
            ("bind ::1 {\nexcept ::0:1\n}", Ok(&["::1"])),
            // except applies to its own line only.
            (
                "bind lo {\nexcept ::1\n}\nbind ::1",
                Ok(&["127.0.0.1", "::1"]),
            ),
            // The last `except` of a line wins.
            (
                "bind lo {\nexcept 127.0.0.1\nexcept ::1\n}",
                Ok(&["127.0.0.1"]),
            ),
            // An empty block is no block.
            ("bind lo {\n}", Ok(&["127.0.0.1", "::1"])),
            (
                "bind",
                Err("at least one address or interface name is expected"),
            ),
            (
                "bind {\nexcept lo\n}",
                Err("at least one address or interface name is expected"),
            ),
            (
                "bind lo {\nexcept\n}",
                Err("at least one address or interface must be given to except subdirective"),
            ),
            ("bind lo {\nonly ::1\n}", Err("invalid option \"only\"")),
            (
                "bind foo",
                Err("not a valid IP address or interface name: \"foo\""),
            ),
            (
                "bind 10.0.0.0/8",
                Err("not a valid IP address or interface name: \"10.0.0.0/8\""),
            ),
            (
                "bind lo {\nexcept eth1\n}",
                Err("not a valid IP address or interface name: \"eth1\""),
            ),
            // Lines are checked in order: the first line's bad address is reported first.
            (
                "bind nope\nbind",
                Err("not a valid IP address or interface name: \"nope\""),
            ),
        ];
        for (corefile, want) in cases {
            let mut t = TestBlock::new(&["."]);
            let table = fake_host();
            let got = t
                .setup(corefile, |s| setup_with(s, &table))
                .map(|()| t.block.listen_hosts.clone())
                .map_err(|e| e.to_string());
            let want = want
                .map(|hosts| hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>())
                .map_err(str::to_string);
            assert_eq!(got, want, "{corefile:?}");
            assert_eq!(t.block.bind_used, got.is_ok(), "{corefile:?}");
            assert!(t.block.plugins.is_empty(), "bind adds no handler");
        }
    }

    #[test]
    fn errors_are_typed() {
        let mut t = TestBlock::new(&["."]);
        let table = fake_host();
        let err = t.setup("bind eth9", |s| setup_with(s, &table)).unwrap_err();
        let ConfigError::Invalid(inner) = &err else {
            panic!("want ConfigError::Invalid, got {err:?}");
        };
        assert_eq!(
            inner.downcast_ref::<BindError>(),
            Some(&BindError::NotAnAddress("eth9".into()))
        );
    }

    struct Broken;

    impl InterfaceTable for Broken {
        fn interfaces(&self) -> io::Result<Vec<Interface>> {
            Err(io::Error::other("netlink unavailable"))
        }
    }

    #[test]
    fn without_an_interface_list_literals_still_work() {
        let mut t = TestBlock::new(&["."]);
        t.setup("bind 192.0.2.1", |s| setup_with(s, &Broken))
            .unwrap();
        assert_eq!(t.block.listen_hosts, ["192.0.2.1"]);
        let err = t.setup("bind lo", |s| setup_with(s, &Broken)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not a valid IP address or interface name: \"lo\""
        );
    }

    #[test]
    fn the_real_host_table_resolves_loopback() {
        let mut t = TestBlock::new(&["."]);
        t.setup("bind 127.0.0.1", setup).unwrap();
        assert_eq!(t.block.listen_hosts, ["127.0.0.1"]);
    }
}
