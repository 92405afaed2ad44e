//! kubernetes: answers the cluster zone (`cluster.local`) from a watch cache of Services,
//! EndpointSlices, Namespaces and Pods, as CoreDNS's kubernetes plugin does
//! (../shared/compat/kubernetes.md is the contract).
//!
//! Layout: [`objects`] reduces API objects to what DNS uses; [`cache`] indexes them and is
//! the [`feed::ClusterSink`] the [`source`]s feed; [`qname`] reads the query name;
//! [`lookup`] computes the candidate sets; [`answer`] turns them into records per query type;
//! [`handler`] is the plugin in the chain.
//!
//! What this crate offers the block's other plugins, through `setup.block.extensions`:
//! - `Arc<dyn plugin::search_path::SearchPath>`: the pod search list for
//!   `autopath @kubernetes` (§15).
//! - [`ClusterView`]: read-only access to the cache for `k8s_external` (§14).
//!
//! The Pod watch runs only with `pods verified`: autopath's search list needs the pods, and
//! without `verified` autopath does nothing (§15, T110), so it never asks for them itself.
#![forbid(unsafe_code)]

pub mod answer;
pub mod cache;
pub mod clock;
pub mod config;
pub mod feed;
pub mod handler;
pub mod lookup;
pub mod metrics;
pub mod objects;
pub mod own_addresses;
pub mod qname;
pub mod reverse;
pub mod search_path;
pub mod served_zone;
pub mod settings;
pub mod source;
pub mod startup;
#[cfg(feature = "test-util")]
pub mod test_support;
pub mod view;

use std::net::IpAddr;
use std::sync::Arc;

use plugin::search_path::SearchPath;
use plugin::{ConfigError, Setup, Upstream};

pub use cache::{Cache, CacheOptions};
pub use config::{Config, PodMode};
pub use handler::Kubernetes;
pub use view::{ClusterView, EndpointRecord, Fronting, FrontingService};

pub const NAME: &str = "kubernetes";

/// What setup takes from its environment, replaceable in tests.
pub struct Environment {
    /// The server's own addresses (§5.2 step 1).
    pub own_addresses: Vec<IpAddr>,
    /// The server's resolv.conf search domains (§15).
    pub resolv_search: Vec<String>,
    /// Start the sources (API watches or manifest file); off in tests that feed the cache.
    pub start_sources: bool,
}

/// Parses the stanza, builds the cache, starts its sources, holds serving until the caches
/// sync (§9), publishes the search path and the cluster view, and adds the plugin.
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    let env = Environment {
        own_addresses: own_addresses::own_addresses(&s.block.listen_hosts),
        resolv_search: search_path::system_search(),
        start_sources: true,
    };
    setup_with(s, env).map(|_| ())
}

/// [`setup`] with an explicit environment; returns the cache (tests feed it directly).
pub fn setup_with(s: &mut Setup<'_>, env: Environment) -> Result<Arc<Cache>, ConfigError> {
    let zones = s.zones();
    let config = config::parse(&mut s.d, &zones)?;
    let metrics = s.metrics().get::<metrics::KubernetesMetrics>();
    let cache = Arc::new(Cache::new(
        CacheOptions {
            endpoint_pod_names: config.endpoint_pod_names,
            endpoint_slices: config.scope.endpoint_slices,
            pods: config.scope.pods,
        },
        Some(metrics),
    ));
    // The sources are tasks of the running server. A configuration assembled outside any
    // runtime (only checked, never served: the README examples test) has nothing to run them.
    let in_runtime = tokio::runtime::Handle::try_current().is_ok();
    if env.start_sources && in_runtime {
        let sink: Arc<dyn feed::ClusterSink> = cache.clone();
        source::start(&config.api, &config.scope, sink, s.tasks(), s.metrics())
            .map_err(ConfigError::invalid)?;
        s.before_serving(startup::wait_for_sync(
            cache.clone(),
            config.scope.startup_timeout,
        ));
    }
    let config = Arc::new(config);
    let own: Arc<[IpAddr]> = env.own_addresses.into();
    let search: Arc<dyn SearchPath> = Arc::new(search_path::PodSearchPath::new(
        cache.clone(),
        config.zones.clone(),
        config.pods == PodMode::Verified,
        env.resolv_search,
    ));
    // Filled once per block (the directive is once per block, ConfigError::Once otherwise).
    let _ = s.block.extensions.slot::<Arc<dyn SearchPath>>().set(search);
    let _ = s
        .block
        .extensions
        .slot::<ClusterView>()
        .set(ClusterView::new(cache.clone(), config.clone(), own.clone()));
    let upstream: Upstream = s.upstream();
    s.add_plugin(Kubernetes::new(config, cache.clone(), upstream, own));
    Ok(cache)
}

/// Registers the kubernetes metric families (metrics.md §1: they exist from process start).
pub fn register_metrics(hub: &plugin::metrics::MetricsHub) {
    hub.get::<metrics::KubernetesMetrics>();
    source::register_metrics(hub);
}
