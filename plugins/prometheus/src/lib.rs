//! The `prometheus` directive: declares `/metrics`, sets `coredns_build_info` and adds the
//! chain step recording the `coredns_dns_*` families of its block (plugins-core.md,
//! prometheus; metrics.md §3, §8).
//!
//! The HTTP server belongs to the process (`src/services/http`); this crate only declares the
//! route and renders the registry.
#![forbid(unsafe_code)]

mod exposition;
mod prometheus;
mod series;

use plugin::http::address_arg;
use plugin::metrics::{BuildLabels, DnsMetrics, MetricsHub};
use plugin::{ConfigError, Dispenser, Setup};

pub use exposition::{CONTENT_TYPE, PATH, respond, route};
pub use prometheus::Prometheus;

pub const NAME: &str = "prometheus";

/// CoreDNS's default metrics address (the Kubernetes manifests set `:9153`).
pub const DEFAULT_ADDR: &str = "localhost:9153";

/// The CoreDNS release whose behaviour this server reproduces (`version` of build_info).
pub const COREDNS_VERSION: &str = "1.14.7";

/// Registers the core families, so the label-less `coredns_panics_total` exists from process
/// start (metrics.md §1).
pub fn register_metrics(hub: &MetricsHub) {
    hub.get::<DnsMetrics>();
}

/// `prometheus [ADDR] { runtime_metrics; tls CONFIG_FILE }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrometheusConfig {
    pub addr: String,
    /// Go-runtime specific in CoreDNS: accepted, changes nothing here.
    pub runtime_metrics: bool,
    /// Exporter-toolkit web config file; not supported yet (see README).
    pub tls: Option<String>,
}

pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    let config = parse(&mut s.d)?;
    let metrics = s.metrics().get::<DnsMetrics>();
    metrics.build_info.get_or_create(&build_labels()).set(1);
    s.block.metrics = true;
    match &config.tls {
        // Serving plain HTTP where TLS (and maybe client authentication) was asked for would
        // expose what the operator meant to protect: the address is not served at all.
        Some(file) => plugin::log::error(
            Some(NAME),
            format_args!(
                "tls {file}: TLS for the metrics endpoint is not supported yet; /metrics is not served on {}",
                config.addr
            ),
        ),
        None => {
            let hub = s.metrics().clone();
            s.add_route(route(&config.addr, hub));
        }
    }
    let zones = s.zones();
    s.add_plugin(Prometheus::new(&zones, metrics));
    Ok(())
}

/// `coredns_build_info{version, revision, goversion}`: the CoreDNS version we are compatible
/// with, our commit, our compiler (metrics.md §3).
pub fn build_labels() -> BuildLabels {
    BuildLabels {
        goversion: env!("CLUSTERDNS_RUSTC_VERSION").to_string(),
        revision: env!("CLUSTERDNS_GIT_COMMIT").to_string(),
        version: COREDNS_VERSION.to_string(),
    }
}

pub fn parse(d: &mut Dispenser) -> Result<PrometheusConfig, ConfigError> {
    let mut config = PrometheusConfig {
        addr: DEFAULT_ADDR.to_string(),
        runtime_metrics: false,
        tls: None,
    };
    while d.next_once()? {
        if let Some(addr) = address_arg(d)? {
            config.addr = addr;
        }
        while d.next_block() {
            match d.val() {
                "runtime_metrics" => {
                    if !d.remaining_args().is_empty() {
                        return Err(d.arg_err().into());
                    }
                    config.runtime_metrics = true;
                }
                "tls" => {
                    if config.tls.is_some() {
                        return Err(d.err("tls block already specified").into());
                    }
                    let args = d.remaining_args();
                    let [file] = args.as_slice() else {
                        return Err(d.arg_err().into());
                    };
                    config.tls = Some(file.clone());
                }
                other => return Err(d.err(format!("unknown option: {other}")).into()),
            }
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests;
