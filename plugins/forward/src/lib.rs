//! The `forward` directive: proxies queries to upstream resolvers over UDP, TCP and DNS over
//! TLS, with pooled connections and health checks (plugins-resolution.md §1; metrics.md,
//! forward/proxy).
#![forbid(unsafe_code)]

pub mod config;
pub mod error;
mod forward;
#[doc(hidden)]
pub mod fuzz;
mod health;
mod hostname;
pub mod metrics;
pub mod policy;
mod rcode;
mod resolv_conf;
mod response;
pub mod transport;
mod upstream;
pub mod upstream_spec;
mod zone_arg;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use plugin::metrics::MetricsHub;
use plugin::{ConfigError, Setup};

pub use config::{ForwardConfig, parse};
pub use error::ForwardConfigError;
pub use forward::{Forward, ForwardError};
pub use metrics::ForwardMetrics;
pub use upstream::Upstream;

use health::HealthChecker;
use metrics::UpstreamMetrics;
use transport::pool::Freshness;
use transport::stream::TlsTarget;
use transport::{PoolSettings, UpstreamTransport};
use upstream_spec::Protocol;

pub const NAME: &str = "forward";

/// Idle connections past `expire`/`max_age` are closed this often (§1.7, fixed).
const SWEEP_INTERVAL: Duration = Duration::from_secs(10);

/// Registers the forward and proxy families at process start (metrics.md §1: the label-less
/// `coredns_forward_healthcheck_broken_total` and `coredns_forward_max_concurrent_rejects_total`
/// are always exported).
pub fn register_metrics(hub: &MetricsHub) {
    hub.get::<ForwardMetrics>();
}

/// Parses every `forward` line of the block and adds one instance per line, in written
/// order, so that each hands out-of-scope queries to the next (§1.12).
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    let configs = parse(&mut s.d)?;
    for config in &configs {
        let forward = build(config, s)?;
        let upstreams = forward.upstreams().to_vec();
        let sweep = upstreams.clone();
        s.tasks().spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                for upstream in &sweep {
                    upstream.transport.sweep();
                }
            }
        });
        s.on_shutdown(move || {
            Box::pin(async move {
                for upstream in &upstreams {
                    upstream.transport.stop();
                }
            })
        });
        s.add_plugin(forward);
    }
    Ok(())
}

/// One instance from its configuration: transports, health checker, metrics handles.
pub fn build(config: &ForwardConfig, s: &Setup<'_>) -> Result<Forward, ConfigError> {
    let metrics = s.metrics().get::<ForwardMetrics>();
    let settings = PoolSettings {
        freshness: Freshness {
            expire: config.expire,
            max_age: config.max_age,
        },
        max_idle: config.max_idle_conns,
        read_timeout: config.read_timeout,
        source: config.source_address,
    };
    let mut upstreams = Vec::with_capacity(config.upstreams.len());
    for spec in &config.upstreams {
        let tls = match (spec.protocol, &config.tls) {
            (Protocol::Tls, Some(tls_config)) => {
                let name = config
                    .tls_servername
                    .as_deref()
                    .or(spec.server_name.as_deref());
                let server_name = transport::tls::server_name(name, spec.addr.ip())
                    .map_err(|e| ConfigError::invalid(ForwardConfigError::Tls(e)))?;
                Some(TlsTarget::new(tls_config.clone(), server_name))
            }
            _ => None,
        };
        let series = UpstreamMetrics::new(metrics.clone(), Arc::from(spec.addr.to_string()));
        upstreams.push(Arc::new(Upstream::new(UpstreamTransport::new(
            spec.addr, tls, settings, series,
        ))));
    }
    let health = HealthChecker::new(&config.health_check, config.force_tcp, s.tasks().clone());
    Ok(Forward::new(config, upstreams, health, metrics))
}
