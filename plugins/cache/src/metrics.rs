//! The `coredns_cache_*` families (metrics.md, cache).

use std::sync::Arc;

use plugin::metrics::MetricSet;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

// Fields in alphabetical order: the order the text format prints them (metrics.md §1).

/// `server`, `view`, `zones` (the cache's zones joined by `,`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    pub server: Arc<str>,
    pub view: Arc<str>,
    pub zones: Arc<str>,
}

/// [`CacheLabels`] and the store: `type` is `success` or `denial`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StoreLabels {
    pub server: Arc<str>,
    pub r#type: &'static str,
    pub view: Arc<str>,
    pub zones: Arc<str>,
}

pub struct CacheMetrics {
    /// Every query inside the cache's zones (a lookup was made).
    pub requests: Family<CacheLabels, Counter>,
    /// A usable entry was found (fresh, or stale within `serve_stale`).
    pub hits: Family<StoreLabels, Counter>,
    /// Nothing usable was found (deprecated in CoreDNS, still exported).
    pub misses: Family<CacheLabels, Counter>,
    /// Both stores' sizes, set right after an entry is stored.
    pub entries: Family<StoreLabels, Gauge>,
    /// A background refresh started (prefetch, or a stale entry served `immediate`).
    pub prefetch: Family<CacheLabels, Counter>,
    /// A cacheable reply whose question did not match the query.
    pub drops: Family<CacheLabels, Counter>,
    /// A reply built from an expired entry.
    pub served_stale: Family<CacheLabels, Counter>,
    /// Storing pushed another entry out of its shard.
    pub evictions: Family<StoreLabels, Counter>,
}

impl MetricSet for CacheMetrics {
    fn register(r: &mut Registry) -> Self {
        let m = CacheMetrics {
            requests: Family::default(),
            hits: Family::default(),
            misses: Family::default(),
            entries: Family::default(),
            prefetch: Family::default(),
            drops: Family::default(),
            served_stale: Family::default(),
            evictions: Family::default(),
        };
        r.register(
            "coredns_cache_entries",
            "The number of elements in the cache",
            m.entries.clone(),
        );
        r.register(
            "coredns_cache_requests",
            "The count of cache requests",
            m.requests.clone(),
        );
        r.register(
            "coredns_cache_hits",
            "The count of cache hits",
            m.hits.clone(),
        );
        r.register(
            "coredns_cache_misses",
            "The count of cache misses. Deprecated, derive misses from cache hits/requests counters",
            m.misses.clone(),
        );
        r.register(
            "coredns_cache_prefetch",
            "The number of times the cache has prefetched a cached item",
            m.prefetch.clone(),
        );
        r.register(
            "coredns_cache_drops",
            "The number responses that are not cached, because the reply is malformed",
            m.drops.clone(),
        );
        r.register(
            "coredns_cache_served_stale",
            "The number of requests served from stale cache entries",
            m.served_stale.clone(),
        );
        r.register(
            "coredns_cache_evictions",
            "The count of cache evictions",
            m.evictions.clone(),
        );
        m
    }
}
