//! The search list `autopath @kubernetes` asks for (kubernetes.md §15, CoreDNS `AutoPath`).

use std::sync::Arc;

use plugin::Request;
use plugin::search_path::SearchPath;

use crate::cache::Cache;
use crate::objects::address::canonical;

/// The search list of the pod a query comes from: `<podns>.svc.<z>.`, `svc.<z>.`, `<z>.`,
/// the server's own resolv.conf search domains, then `""`.
pub struct PodSearchPath {
    cache: Arc<Cache>,
    zones: Vec<String>,
    /// `pods verified`: without it autopath silently does nothing.
    verified: bool,
    /// The server's resolv.conf search domains, lower-case FQDNs.
    resolv_search: Vec<String>,
}

impl PodSearchPath {
    pub fn new(
        cache: Arc<Cache>,
        zones: Vec<String>,
        verified: bool,
        resolv_search: Vec<String>,
    ) -> Self {
        PodSearchPath {
            cache,
            zones,
            verified,
            resolv_search,
        }
    }
}

impl SearchPath for PodSearchPath {
    fn search_path(&self, req: &Request) -> Option<Vec<String>> {
        let zone = plugin::zones::longest_match(&self.zones, req.qname_lower())?;
        if !self.verified {
            return None;
        }
        let client = canonical(req.client().ip());
        let namespace: Box<str> = {
            let index = self.cache.read();
            index
                .pods_by_address
                .get(&client)?
                .first()?
                .namespace
                .clone()
        };
        let mut list = Vec::with_capacity(4 + self.resolv_search.len());
        if zone == "." {
            list.push(format!("{namespace}.svc."));
            list.push("svc.".to_string());
            list.push(".".to_string());
        } else {
            list.push(format!("{namespace}.svc.{zone}"));
            list.push(format!("svc.{zone}"));
            list.push(zone.to_string());
        }
        list.extend(self.resolv_search.iter().cloned());
        list.push(String::new());
        Some(list)
    }
}

/// The search domains of a resolv.conf (the last `search` or `domain` line wins, as in the
/// resolver and miekg/dns), normalised to lower-case FQDNs.
pub fn resolv_conf_search(text: &str) -> Vec<String> {
    let mut search = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("search") => search = words.map(plugin::zones::normalize).collect(),
            Some("domain") => search = words.take(1).map(plugin::zones::normalize).collect(),
            _ => {}
        }
    }
    search
}

/// The search domains of /etc/resolv.conf; none when it cannot be read.
pub fn system_search() -> Vec<String> {
    std::fs::read_to_string("/etc/resolv.conf")
        .map(|text| resolv_conf_search(&text))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_search_and_domain_lines() {
        let text = "nameserver 10.96.0.10\nsearch default.svc.cluster.local Example.Internal\noptions ndots:5\n";
        assert_eq!(
            resolv_conf_search(text),
            ["default.svc.cluster.local.", "example.internal."]
        );
        assert_eq!(resolv_conf_search("domain corp.test\n"), ["corp.test."]);
        assert!(resolv_conf_search("nameserver 1.1.1.1\n").is_empty());
    }
}
