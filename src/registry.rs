//! THE list of directives, in execution order.
//!
//! This is CoreDNS's `plugin.cfg` (cli-and-endpoints.md §9): a query passes the plugins of its
//! block top to bottom in this order, whatever order the Corefile writes them in, and setup
//! runs in this order too (so option errors are reported in this order, corefile.md §1).
//! Every CoreDNS directive is listed so the parser knows it: those this build does not
//! implement fail with `plugin/NAME: not supported by this build` instead of
//! `Unknown directive`.

use plugin::metrics::MetricsHub;
use plugin::{ConfigError, Setup};

pub type SetupFn = fn(&mut Setup<'_>) -> Result<(), ConfigError>;
pub type MetricsFn = fn(&MetricsHub);

/// One directive: its name, its setup if this build implements it, and its metric families
/// (registered at process start so label-less metrics exist before any query).
pub struct Directive {
    pub name: &'static str,
    pub setup: Option<SetupFn>,
    pub metrics: Option<MetricsFn>,
}

const fn known(name: &'static str) -> Directive {
    Directive {
        name,
        setup: None,
        metrics: None,
    }
}

const fn implemented(name: &'static str, setup: SetupFn) -> Directive {
    Directive {
        name,
        setup: Some(setup),
        metrics: None,
    }
}

const fn with_metrics(name: &'static str, setup: SetupFn, metrics: MetricsFn) -> Directive {
    Directive {
        name,
        setup: Some(setup),
        metrics: Some(metrics),
    }
}

pub static DIRECTIVES: &[Directive] = &[
    known("root"),
    known("metadata"),
    known("geoip"),
    known("cancel"),
    known("proxyproto"),
    known("quic"),
    known("grpc_server"),
    known("https"),
    known("https3"),
    known("timeouts"),
    known("multisocket"),
    with_metrics(
        clusterdns_reload::NAME,
        clusterdns_reload::setup,
        clusterdns_reload::register_metrics,
    ),
    known("nsid"),
    implemented(clusterdns_bufsize::NAME, clusterdns_bufsize::setup),
    implemented(clusterdns_bind::NAME, clusterdns_bind::setup),
    implemented(clusterdns_debug::NAME, clusterdns_debug::setup),
    known("trace"),
    implemented(clusterdns_ready::NAME, clusterdns_ready::setup),
    with_metrics(
        clusterdns_health::NAME,
        clusterdns_health::setup,
        clusterdns_health::register_metrics,
    ),
    known("pprof"),
    known("shed"),
    with_metrics(
        clusterdns_prometheus::NAME,
        clusterdns_prometheus::setup,
        clusterdns_prometheus::register_metrics,
    ),
    implemented(clusterdns_errors::NAME, clusterdns_errors::setup),
    implemented(clusterdns_log::NAME, clusterdns_log::setup),
    known("dnstap"),
    known("local"),
    known("dns64"),
    implemented(clusterdns_any::NAME, clusterdns_any::setup),
    known("chaos"),
    implemented(clusterdns_loadbalance::NAME, clusterdns_loadbalance::setup),
    known("tsig"),
    implemented(clusterdns_rewrite::NAME, clusterdns_rewrite::setup),
    with_metrics(
        clusterdns_autopath::NAME,
        clusterdns_autopath::setup,
        clusterdns_autopath::register_metrics,
    ),
    known("acl"),
    with_metrics(
        clusterdns_cache::NAME,
        clusterdns_cache::setup,
        clusterdns_cache::register_metrics,
    ),
    known("header"),
    known("dnssec"),
    known("tls"),
    implemented(clusterdns_minimal::NAME, clusterdns_minimal::setup),
    with_metrics(
        clusterdns_template::NAME,
        clusterdns_template::setup,
        clusterdns_template::register_metrics,
    ),
    known("transfer"),
    with_metrics(
        clusterdns_hosts::NAME,
        clusterdns_hosts::setup,
        clusterdns_hosts::register_metrics,
    ),
    known("route53"),
    known("azure"),
    known("clouddns"),
    implemented(
        clusterdns_k8s_external::NAME,
        clusterdns_k8s_external::setup,
    ),
    with_metrics(
        clusterdns_kubernetes::NAME,
        clusterdns_kubernetes::setup,
        clusterdns_kubernetes::register_metrics,
    ),
    known("file"),
    known("auto"),
    known("secondary"),
    known("etcd"),
    implemented(clusterdns_loop::NAME, clusterdns_loop::setup),
    with_metrics(
        clusterdns_forward::NAME,
        clusterdns_forward::setup,
        clusterdns_forward::register_metrics,
    ),
    known("grpc"),
    known("erratic"),
    implemented(clusterdns_whoami::NAME, clusterdns_whoami::setup),
    known("on"),
    known("sign"),
    known("view"),
    known("nomad"),
];

/// Looks a directive up by name.
pub fn find(name: &str) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| d.name == name)
}

/// True for every name the parser accepts as a directive.
pub fn is_known(name: &str) -> bool {
    find(name).is_some()
}

/// The implemented directives, sorted (what `-plugins` prints).
pub fn implemented_names() -> Vec<&'static str> {
    let mut names: Vec<_> = DIRECTIVES
        .iter()
        .filter(|d| d.setup.is_some())
        .map(|d| d.name)
        .collect();
    names.sort_unstable();
    names
}

/// Registers every implemented plugin's metric families (metrics.md §1: at process start,
/// whether or not the Corefile uses the plugin).
pub fn register_all_metrics(hub: &MetricsHub) {
    hub.get::<plugin::metrics::DnsMetrics>();
    for directive in DIRECTIVES {
        if let Some(register) = directive.metrics {
            register(hub);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_coredns_plugin_cfg() {
        let position = |name| DIRECTIVES.iter().position(|d| d.name == name).unwrap();
        assert_eq!(DIRECTIVES.len(), 60);
        assert!(position("reload") < position("bind"));
        assert!(position("prometheus") < position("errors"));
        assert!(position("errors") < position("log"));
        assert!(position("cache") < position("kubernetes"));
        assert!(position("kubernetes") < position("loop"));
        assert!(position("loop") < position("forward"));
        assert!(position("forward") < position("whoami"));
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = DIRECTIVES.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DIRECTIVES.len());
    }

    #[test]
    fn plugins_list_is_sorted_and_implemented_only() {
        let names = implemented_names();
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        assert!(names.contains(&"whoami"));
        assert!(!names.contains(&"etcd"));
    }
}
