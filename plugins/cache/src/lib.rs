//! The `cache` directive: success and denial caches in front of the plugins that answer
//! (plugins-resolution.md §2; metrics.md, cache).
#![forbid(unsafe_code)]

mod absorb;
mod cache;
mod classify;
mod config;
mod entry;
mod error;
#[doc(hidden)]
pub mod fuzz;
mod key;
mod metrics;
mod refresh;
mod state;
mod store;
#[cfg(test)]
mod tests;
mod ttl;

use plugin::metrics::MetricsHub;
use plugin::{ConfigError, Setup};

pub use cache::Cache;
pub use config::{CacheConfig, PrefetchConfig, ServeStaleConfig, StaleMode, StoreConfig, parse};
pub use error::CacheConfigError;
pub use metrics::CacheMetrics;

pub const NAME: &str = "cache";

/// Registers the cache families at process start.
pub fn register_metrics(hub: &MetricsHub) {
    hub.get::<CacheMetrics>();
}

/// Parses the block's `cache` and adds the handler.
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    let block_zones = s.zones();
    let config = parse(&mut s.d, &block_zones)?;
    let metrics = s.metrics().get::<CacheMetrics>();
    let tasks = s.tasks().clone();
    s.add_plugin(Cache::new(state::State::new(config, metrics, tasks)));
    Ok(())
}
