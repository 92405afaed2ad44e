//! The zone table of one listener: which server block answers a query name
//! (corefile.md §7.2 steps 7–9, CoreDNS `core/dnsserver/server.go` `ServeDNS`).

use std::collections::HashMap;
use std::sync::Arc;

use hickory_proto::rr::RecordType;

/// One zone of a server block on this listener, and the block's chain.
#[derive(Clone, Debug)]
pub struct Route {
    pub chain: plugin::Chain,
    /// Lower-case FQDN (`example.org.`).
    pub zone: String,
}

/// What zone routing decided for a query name.
#[derive(Clone, Copy, Debug)]
pub enum Routing<'t> {
    /// Serve the query with this route's chain.
    Serve(&'t Route),
    /// The first zone that matched belongs to a block without query-handling plugins (only
    /// `health`, `bind` ...): REFUSED at once, shorter zones are not tried (CoreDNS
    /// "zone defined, but has not got any plugins").
    EmptyBlock(&'t Route),
    /// No zone of this listener contains the name: REFUSED.
    NoZone,
}

/// Zone → route for one listener, swapped whole on reload.
#[derive(Clone, Debug)]
pub struct ZoneTable {
    routes: HashMap<Box<str>, Arc<Route>>,
    /// `zone_lengths[n]` is true when some zone is `n` bytes long: suffixes of other lengths
    /// are skipped without hashing (most query names have 4–6 labels, most tables 1–3 zones).
    zone_lengths: Vec<bool>,
    /// The root zone's route, also in `routes`: most queries of a resolver end there, and
    /// finding it needs no hashing.
    root: Option<Arc<Route>>,
    /// A block on this listener uses `chaos` or `forward`: classes other than IN are served
    /// (corefile.md §7.2 step 4). Set by whoever builds the table.
    pub allow_other_classes: bool,
    /// Recover panics of the chain (corefile.md §7.2 step 3); false when a block on this
    /// listener has `debug`.
    pub recover_panics: bool,
    /// Log recovered panics with a stack trace (`errors { stacktrace }`).
    pub stacktrace: bool,
}

impl Default for ZoneTable {
    fn default() -> Self {
        ZoneTable {
            routes: HashMap::new(),
            zone_lengths: Vec::new(),
            root: None,
            allow_other_classes: false,
            recover_panics: true,
            stacktrace: false,
        }
    }
}

impl ZoneTable {
    /// An empty table: every query is REFUSED; panics are recovered; class IN only.
    pub fn new() -> Self {
        ZoneTable::default()
    }

    /// Adds `chain` for `zone` (normalised to a lower-case FQDN). Returns the route it replaces;
    /// the Corefile validation rejects duplicate zones before a table is built.
    pub fn insert(&mut self, zone: impl AsRef<str>, chain: plugin::Chain) -> Option<Arc<Route>> {
        let zone = plugin::zones::normalize(zone.as_ref());
        let len = zone.len();
        if self.zone_lengths.len() <= len {
            self.zone_lengths.resize(len + 1, false);
        }
        self.zone_lengths[len] = true;
        let route = Arc::new(Route {
            chain,
            zone: zone.clone(),
        });
        if zone == "." {
            self.root = Some(route.clone());
        }
        self.routes.insert(zone.into_boxed_str(), route)
    }

    /// See [`ZoneTable::allow_other_classes`].
    pub fn set_allow_other_classes(&mut self, allow: bool) {
        self.allow_other_classes = allow;
    }

    /// See [`ZoneTable::recover_panics`].
    pub fn set_recover_panics(&mut self, recover: bool) {
        self.recover_panics = recover;
    }

    pub fn set_stacktrace(&mut self, stacktrace: bool) {
        self.stacktrace = stacktrace;
    }

    /// How the dispatcher guards this listener's chains.
    pub fn recovery(&self) -> super::panics::Recovery {
        super::panics::Recovery {
            quiet: self.recover_panics,
            stacktrace: self.stacktrace,
        }
    }

    /// The route of exactly `zone` (a lower-case FQDN), if served here.
    pub fn get(&self, zone: &str) -> Option<&Arc<Route>> {
        self.routes.get(zone)
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The zones served, in no particular order.
    pub fn zones(&self) -> impl Iterator<Item = &str> {
        self.routes.keys().map(|z| &**z)
    }

    /// Picks the block for `qname` (lower-cased FQDN, as `Request::qname_lower`):
    /// longest suffix first without the root; the first zone found wins, unless the query is
    /// DS, which walks on and takes the shortest non-root zone found, so DS goes to the parent
    /// side when parent and child are both served (RFC 4035 §3.1.4.1; CoreDNS's DS handler).
    /// Only then the root zone `.`.
    pub fn route(&self, qname: &str, qtype: RecordType) -> Routing<'_> {
        let mut ds_route = None;
        // A listener that serves only the root (`.:53`, kubeadm's Corefile) has no suffix to try.
        let only_root = self.root.is_some() && self.routes.len() == 1;
        let candidates = (!only_root).then(|| suffixes(qname));
        for suffix in candidates.into_iter().flatten() {
            let Some(route) = self.lookup(suffix) else {
                continue;
            };
            if route.chain.is_empty() {
                return Routing::EmptyBlock(route);
            }
            if qtype != RecordType::DS {
                return Routing::Serve(route);
            }
            ds_route = Some(route);
        }
        if let Some(route) = ds_route {
            return Routing::Serve(route);
        }
        match &self.root {
            // CoreDNS skips a root block without plugins here and ends in REFUSED.
            Some(root) if !root.chain.is_empty() => Routing::Serve(root),
            Some(root) => Routing::EmptyBlock(root),
            None => Routing::NoZone,
        }
    }

    fn lookup(&self, suffix: &str) -> Option<&Route> {
        if !self
            .zone_lengths
            .get(suffix.len())
            .copied()
            .unwrap_or(false)
        {
            return None;
        }
        self.routes.get(suffix).map(|r| &**r)
    }
}

/// The suffixes of `name` that start at a label, longest first, without the root:
/// `a.b.` → `a.b.`, `b.`. An escaped dot (`\.`, as hickory prints a dot inside a label) does not
/// end a label, as in miekg/dns `NextLabel`.
fn suffixes(name: &str) -> impl Iterator<Item = &str> {
    let bytes = name.as_bytes();
    let mut next = if name.is_empty() || name == "." {
        None
    } else {
        Some(0)
    };
    std::iter::from_fn(move || {
        let start = next?;
        next = None;
        let mut i = start;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'.' => {
                    if i + 1 < bytes.len() {
                        next = Some(i + 1);
                    }
                    break;
                }
                _ => i += 1,
            }
        }
        // Every start is 0 or just after an ASCII dot: a char boundary.
        name.get(start..)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::testing::{Fixed, chain_of};

    fn table(blocks: &[(&str, bool)]) -> ZoneTable {
        let mut table = ZoneTable::new();
        for (zone, has_plugins) in blocks {
            let chain = if *has_plugins {
                chain_of(Fixed::tagged(zone))
            } else {
                plugin::Chain::default()
            };
            table.insert(zone, chain);
        }
        table
    }

    fn handled_by(table: &ZoneTable, qname: &str, qtype: RecordType) -> String {
        match table.route(qname, qtype) {
            Routing::Serve(route) => route.zone.clone(),
            Routing::EmptyBlock(route) => format!("REFUSED (empty block {})", route.zone),
            Routing::NoZone => "REFUSED (no zone)".to_string(),
        }
    }

    #[test]
    fn suffixes_are_longest_first_without_root() {
        let all: Vec<&str> = suffixes("www.example.org.").collect();
        assert_eq!(all, ["www.example.org.", "example.org.", "org."]);
        assert_eq!(suffixes(".").count(), 0);
        assert_eq!(suffixes("").count(), 0);
        let escaped: Vec<&str> = suffixes("a\\.b.org.").collect();
        assert_eq!(escaped, ["a\\.b.org.", "org."]);
        let escaped_backslash: Vec<&str> = suffixes("a\\\\.org.").collect();
        assert_eq!(escaped_backslash, ["a\\\\.org.", "org."]);
    }

    /// corefile.md §12 "Routing tests" (one listener) plus the edges of §7.2 steps 7–9.
    #[test]
    fn routing_table() {
        use RecordType::{A, DS, SOA};
        // (zone, has plugins) per block on the listener; query name and type; who answers.
        type Blocks = &'static [(&'static str, bool)];
        let cases: &[(Blocks, &str, RecordType, &str)] = &[
            (
                &[(".", true), ("example.org.", true)],
                "www.example.org.",
                A,
                "example.org.",
            ),
            (&[(".", true), ("example.org.", true)], "org.", SOA, "."),
            (
                &[("example.org.", true)],
                "example.com.",
                A,
                "REFUSED (no zone)",
            ),
            (
                &[
                    ("org.", true),
                    ("example.org.", true),
                    ("sub.example.org.", true),
                ],
                "sub.example.org.",
                DS,
                "org.",
            ),
            (
                &[
                    ("org.", true),
                    ("example.org.", true),
                    ("sub.example.org.", true),
                ],
                "sub.example.org.",
                A,
                "sub.example.org.",
            ),
            (
                &[("sub.example.org.", true), (".", true)],
                "sub.example.org.",
                DS,
                "sub.example.org.",
            ),
            (&[("sub.example.org.", true), (".", true)], "org.", DS, "."),
            (
                &[("example.org.", false)],
                "example.org.",
                A,
                "REFUSED (empty block example.org.)",
            ),
            // An empty block stops the walk: no fallback to shorter zones or the root.
            (
                &[("example.org.", false), ("org.", true), (".", true)],
                "www.example.org.",
                A,
                "REFUSED (empty block example.org.)",
            ),
            (
                &[("org.", true), ("example.org.", false)],
                "example.org.",
                DS,
                "REFUSED (empty block example.org.)",
            ),
            // A root block without plugins: REFUSED like no zone at all.
            (
                &[(".", false)],
                "example.org.",
                A,
                "REFUSED (empty block .)",
            ),
            (&[(".", true)], ".", A, "."),
            (&[(".", true)], ".", DS, "."),
            (&[("example.org.", true)], ".", A, "REFUSED (no zone)"),
            // Label boundaries: badexample.org is not in example.org.
            (
                &[("example.org.", true)],
                "badexample.org.",
                A,
                "REFUSED (no zone)",
            ),
            // Reverse zones are ordinary zones.
            (
                &[("0.0.10.in-addr.arpa.", true), (".", true)],
                "5.0.0.10.in-addr.arpa.",
                RecordType::PTR,
                "0.0.10.in-addr.arpa.",
            ),
        ];
        for (blocks, qname, qtype, expected) in cases {
            let table = table(blocks);
            assert_eq!(
                handled_by(&table, qname, *qtype),
                *expected,
                "{blocks:?} {qname} {qtype}"
            );
        }
    }

    #[test]
    fn zones_are_normalised_on_insert() {
        let mut table = ZoneTable::new();
        table.insert("Example.ORG", chain_of(Fixed::tagged("x")));
        assert!(table.get("example.org.").is_some());
        assert_eq!(
            handled_by(&table, "www.example.org.", RecordType::A),
            "example.org."
        );
        assert!(
            table
                .insert("example.org.", plugin::Chain::default())
                .is_some()
        );
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn defaults_recover_panics_and_serve_only_class_in() {
        let mut table = ZoneTable::new();
        assert!(table.recover_panics);
        assert!(!table.allow_other_classes);
        assert!(table.is_empty());
        table.set_recover_panics(false);
        table.set_allow_other_classes(true);
        assert!(!table.recover_panics);
        assert!(table.allow_other_classes);
        table.insert(String::from("example.org"), plugin::Chain::default());
        assert_eq!(table.zones().collect::<Vec<_>>(), ["example.org."]);
    }
}
