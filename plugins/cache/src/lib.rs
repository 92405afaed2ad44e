//! The `cache` directive: success and denial caches in front of the plugins that answer
//! (plugins-resolution.md §2; metrics.md, cache).
#![forbid(unsafe_code)]

use plugin::metrics::MetricsHub;
use plugin::{ConfigError, Setup};

pub const NAME: &str = "cache";

/// Registers the cache families at process start.
pub fn register_metrics(_hub: &MetricsHub) {}

/// Parses the block's `cache` and adds the handler.
pub fn setup(_s: &mut Setup<'_>) -> Result<(), ConfigError> {
    Ok(())
}
