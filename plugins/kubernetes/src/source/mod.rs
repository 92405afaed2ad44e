//! Where the cluster objects come from: the API server's watches (kube-rs) or a manifest
//! file. Each source turns its objects into [`crate::feed::Feed`] events for the cache.
//!
//! - API (default): in-cluster service account, `kubeconfig FILE [CONTEXT]`, or `endpoint URL`
//!   (+ `tls`); one kube client whose requests pass a token bucket (`apiserver_qps`,
//!   `apiserver_burst`), an in-flight cap (`apiserver_max_inflight`) and the
//!   `coredns_kubernetes_rest_client_*` metrics; one watch per resource.
//! - `manifests PATH` (our extension): objects read from YAML/JSON and re-read on change.
//!   When set, no API client is built at all.
//!
//! Setup-time errors (unreadable kubeconfig, missing TLS files, unknown context, not in a
//! cluster, invalid selectors, an unreadable or broken manifest) are returned; everything after
//! setup is logged and retried (kubernetes.md §9).

mod api;
mod client_layer;
mod connection;
mod error;
mod manifest;
mod resources;
mod rest_metrics;
mod selection;
pub mod selector;
mod token_bucket;
mod watch;
mod watch_log;

use std::sync::Arc;

pub use error::SourceError;
pub use manifest::{ManifestError, fuzz_manifest};
pub use rest_metrics::RestClientMetrics;

use crate::feed::ClusterSink;
use crate::settings::{ApiSettings, WatchScope};

/// Starts the source `api` describes, delivering to `sink` from tasks owned by `tasks` (they
/// stop on reload and shutdown). Runs inside the tokio runtime; returns at once.
pub fn start(
    api: &ApiSettings,
    scope: &WatchScope,
    sink: Arc<dyn ClusterSink>,
    tasks: &plugin::tasks::Tasks,
    metrics: &plugin::metrics::MetricsHub,
) -> Result<(), SourceError> {
    let selection = selection::Selection::new(scope)?;
    if let Some(path) = &api.manifests {
        manifest::start(path, &selection, sink, tasks)?;
        return Ok(());
    }
    api::start(api, &selection, sink, tasks, metrics)
}

/// Registers the `coredns_kubernetes_rest_client_*` families (metrics.md §1: every compiled-in
/// plugin's families exist from process start).
pub fn register_metrics(hub: &plugin::metrics::MetricsHub) {
    hub.get::<RestClientMetrics>();
}
