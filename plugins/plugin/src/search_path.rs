//! The search list `autopath @PLUGIN` asks a plugin for (CoreDNS's `AutoPather` interface,
//! kubernetes.md §15). The kubernetes plugin provides it; autopath depends only on this trait.

use crate::request::Request;

pub trait SearchPath: Send + Sync + 'static {
    /// The search list for this query's client, each element a lower-case FQDN ending in `.`,
    /// the last one empty (`""`, the bare name). `None` when autopath must leave the query
    /// alone (e.g. the client is not a known pod).
    fn search_path(&self, req: &Request) -> Option<Vec<String>>;
}
