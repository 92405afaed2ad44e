//! The answers, built once per (re)read of the hosts data (not per query): A, AAAA and PTR
//! records per name, shared through [`Section`]s so a hit clones an `Arc`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_proto::rr::rdata::{A, AAAA, PTR};
use hickory_proto::rr::{Name, RData, Record};
use plugin::Section;

use crate::hostsfile::HostsMap;
use crate::reverse;

/// The answers of one exact name, file data first, then inline data (§3.2).
#[derive(Clone, Debug, Default)]
struct NameAnswers {
    a: Section,
    aaaa: Section,
}

/// Wildcard addresses: file then inline. Owner names depend on the query, so wildcard hits
/// are the one case that builds records per query.
#[derive(Clone, Debug, Default)]
struct WildAddresses {
    v4: Vec<Ipv4Addr>,
    v6: Vec<Ipv6Addr>,
}

/// Everything a query can be answered from.
#[derive(Debug, Default)]
pub struct Table {
    names: HashMap<Box<str>, NameAnswers>,
    wildcards: HashMap<Box<str>, WildAddresses>,
    ptr: HashMap<IpAddr, Section>,
    ttl: u32,
}

/// One family's lookup in one source: the exact entry if the name has one in that family,
/// else the wildcard one label up (CoreDNS `lookupStaticHostLocked`).
fn lookup<'m, T>(
    exact: &'m HashMap<String, Vec<T>>,
    wild: &'m HashMap<String, Vec<T>>,
    name: &str,
) -> &'m [T] {
    if let Some(found) = exact.get(name) {
        return found;
    }
    wildcard_suffix(name)
        .and_then(|suffix| wild.get(suffix))
        .map_or(&[], Vec::as_slice)
}

/// What a wildcard would have to be keyed by to match `name`: the name without its first
/// label. None for a top-level name or the root (`*.` matches nothing).
pub fn wildcard_suffix(name: &str) -> Option<&str> {
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            // An escaped character (`\.`) does not end the label.
            b'\\' => i += 2,
            b'.' => {
                let rest = &name[i + 1..];
                return (!rest.is_empty()).then_some(rest);
            }
            _ => i += 1,
        }
    }
    None
}

impl Table {
    /// Builds the answers of `file` followed by `inline`.
    pub fn build(file: &HostsMap, inline: &HostsMap, ttl: u32) -> Table {
        let mut table = Table {
            ttl,
            ..Table::default()
        };
        let exact_names = [file, inline]
            .into_iter()
            .flat_map(|m| m.name4.keys().chain(m.name6.keys()));
        for name in exact_names {
            if table.names.contains_key(name.as_str()) {
                continue;
            }
            let Ok(owner) = Name::from_ascii(name) else {
                continue;
            };
            let v4 = [file, inline]
                .into_iter()
                .flat_map(|m| lookup(&m.name4, &m.wild4, name).iter().copied());
            let v6 = [file, inline]
                .into_iter()
                .flat_map(|m| lookup(&m.name6, &m.wild6, name).iter().copied());
            let answers = NameAnswers {
                a: section(v4.map(|ip| record(&owner, ttl, RData::A(A(ip))))),
                aaaa: section(v6.map(|ip| record(&owner, ttl, RData::AAAA(AAAA(ip))))),
            };
            table.names.insert(name.as_str().into(), answers);
        }
        let suffixes = [file, inline]
            .into_iter()
            .flat_map(|m| m.wild4.keys().chain(m.wild6.keys()));
        for suffix in suffixes {
            if table.wildcards.contains_key(suffix.as_str()) {
                continue;
            }
            let gather4 = [file, inline]
                .into_iter()
                .flat_map(|m| m.wild4.get(suffix).into_iter().flatten().copied());
            let gather6 = [file, inline]
                .into_iter()
                .flat_map(|m| m.wild6.get(suffix).into_iter().flatten().copied());
            let addresses = WildAddresses {
                v4: gather4.collect(),
                v6: gather6.collect(),
            };
            table.wildcards.insert(suffix.as_str().into(), addresses);
        }
        let addresses = [file, inline].into_iter().flat_map(|m| m.addr.keys());
        for &address in addresses {
            if table.ptr.contains_key(&address) {
                continue;
            }
            let Ok(owner) = Name::from_ascii(reverse::name(address)) else {
                continue;
            };
            let targets = [file, inline]
                .into_iter()
                .flat_map(|m| m.addr.get(&address).into_iter().flatten());
            let records = targets.filter_map(|target| {
                let target = Name::from_ascii(target).ok()?;
                Some(record(&owner, ttl, RData::PTR(PTR(target))))
            });
            table.ptr.insert(address, section(records));
        }
        table
    }

    /// The A records for `name_lower` (empty when it has none).
    pub fn a(&self, name_lower: &str) -> Section {
        self.address_records(name_lower, true)
    }

    pub fn aaaa(&self, name_lower: &str) -> Section {
        self.address_records(name_lower, false)
    }

    fn address_records(&self, name_lower: &str, v4: bool) -> Section {
        if let Some(answers) = self.names.get(name_lower) {
            return if v4 {
                answers.a.clone()
            } else {
                answers.aaaa.clone()
            };
        }
        let Some(wild) = wildcard_suffix(name_lower).and_then(|s| self.wildcards.get(s)) else {
            return Section::default();
        };
        let Ok(owner) = Name::from_ascii(name_lower) else {
            return Section::default();
        };
        if v4 {
            section(
                wild.v4
                    .iter()
                    .map(|&ip| record(&owner, self.ttl, RData::A(A(ip)))),
            )
        } else {
            section(
                wild.v6
                    .iter()
                    .map(|&ip| record(&owner, self.ttl, RData::AAAA(AAAA(ip)))),
            )
        }
    }

    /// True when the name has addresses of either family (then a miss is NODATA, §3.3 step 4).
    pub fn knows(&self, name_lower: &str) -> bool {
        if let Some(answers) = self.names.get(name_lower) {
            return !answers.a.is_empty() || !answers.aaaa.is_empty();
        }
        wildcard_suffix(name_lower)
            .and_then(|s| self.wildcards.get(s))
            .is_some_and(|w| !w.v4.is_empty() || !w.v6.is_empty())
    }

    /// The PTR records of `address`, owner its reverse name (which equals the lower-cased
    /// query name: `reverse::address` only accepts the canonical spelling).
    pub fn ptr(&self, address: IpAddr) -> Option<Section> {
        self.ptr.get(&address).filter(|s| !s.is_empty()).cloned()
    }
}

fn section(records: impl Iterator<Item = Record>) -> Section {
    let records: Vec<Record> = records.collect();
    if records.is_empty() {
        Section::default()
    } else {
        records.into()
    }
}

fn record(owner: &Name, ttl: u32, data: RData) -> Record {
    Record::from_rdata(owner.clone(), ttl, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hostsfile::{ParseOptions, parse};

    fn map(text: &str) -> HostsMap {
        let zones = [".".to_string()];
        parse(
            text.as_bytes(),
            ParseOptions {
                zones: &zones,
                auto_reverse: true,
            },
        )
    }

    fn texts(section: &Section) -> Vec<String> {
        section
            .iter()
            .map(|r| format!("{} {}", r.name, r.data))
            .collect()
    }

    #[test]
    fn file_entries_come_before_inline_ones() {
        let table = Table::build(
            &map("10.0.0.1 a.example\n"),
            &map("10.0.0.2 a.example\n10.0.0.1 b.example\n"),
            60,
        );
        assert_eq!(
            texts(&table.a("a.example.")),
            ["a.example. 10.0.0.1", "a.example. 10.0.0.2"]
        );
        let ptr = table.ptr("10.0.0.1".parse().unwrap()).unwrap();
        assert_eq!(
            texts(&ptr),
            [
                "1.0.0.10.in-addr.arpa. a.example.",
                "1.0.0.10.in-addr.arpa. b.example."
            ]
        );
        assert!(ptr.iter().all(|r| r.ttl == 60));
    }

    #[test]
    fn wildcards_match_one_label_and_exact_names_win_per_source() {
        let table = Table::build(
            &map("10.0.0.10 *.example.com\n10.0.0.11 a.example.com\n"),
            &map("10.0.0.12 *.example.com\n"),
            3600,
        );
        assert_eq!(
            texts(&table.a("x.example.com.")),
            ["x.example.com. 10.0.0.10", "x.example.com. 10.0.0.12"]
        );
        // Exact in the file, wildcard in the inline source: both contribute.
        assert_eq!(
            texts(&table.a("a.example.com.")),
            ["a.example.com. 10.0.0.11", "a.example.com. 10.0.0.12"]
        );
        assert!(table.a("x.y.example.com.").is_empty());
        assert!(table.a("example.com.").is_empty());
        assert!(!table.knows("example.com."));
        assert!(table.knows("x.example.com."));
        assert!(table.aaaa("x.example.com.").is_empty());
    }

    #[test]
    fn wildcard_suffixes() {
        assert_eq!(wildcard_suffix("a.example.com."), Some("example.com."));
        assert_eq!(wildcard_suffix("a\\.b.example."), Some("example."));
        assert_eq!(wildcard_suffix("com."), None);
        assert_eq!(wildcard_suffix("."), None);
    }
}
