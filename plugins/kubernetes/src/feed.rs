//! The one interface between where cluster objects come from (the API server's watches, or a
//! manifest file) and the cache that answers from them.
//!
//! It mirrors kube-rs's `watcher::Event`: a listing is announced by `Begin`, its objects arrive
//! as `Upsert`, and `Synced` closes it. The cache keeps serving what it has during a listing and
//! removes the objects that the listing did not mention only at `Synced` (mark and sweep), so a
//! re-list after `410 Gone` has no window of missing names and never holds two copies of the
//! cache (kubernetes.md §9, "A re-list replaces the store only when complete").

use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// One step of a resource's stream of changes.
#[derive(Clone, Debug)]
pub enum Feed<K> {
    /// A full listing starts: the first list, a re-list after `410 Gone` or a dropped watch
    /// that could not resume, a manifest file read again.
    Begin,
    /// An object was added or changed (also: an object of the current listing).
    Upsert(K),
    /// An object was deleted (carries its last known state).
    Delete(K),
    /// The listing that `Begin` opened is complete: objects it did not mention are gone.
    Synced,
}

/// The resources the cache is built from (kubernetes.md §10, "Watches").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    Services,
    EndpointSlices,
    Namespaces,
    Pods,
}

impl Resource {
    /// Plural API name, as in URLs, RBAC rules and log lines.
    pub fn plural(self) -> &'static str {
        match self {
            Resource::Services => "services",
            Resource::EndpointSlices => "endpointslices",
            Resource::Namespaces => "namespaces",
            Resource::Pods => "pods",
        }
    }
}

/// Receives every change of every watched resource. Implemented by the cache; called from
/// the source tasks, one call per event, never concurrently for the same resource.
pub trait ClusterSink: Send + Sync + 'static {
    fn services(&self, event: Feed<Service>);
    fn endpoint_slices(&self, event: Feed<EndpointSlice>);
    fn namespaces(&self, event: Feed<Namespace>);
    fn pods(&self, event: Feed<Pod>);
}
