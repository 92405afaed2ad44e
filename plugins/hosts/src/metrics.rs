//! The hosts families (metrics.md, hosts).

use std::sync::atomic::AtomicU64;

use plugin::metrics::MetricSet;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HostsfileLabels {
    pub hostsfile: String,
}

pub struct HostsMetrics {
    /// `coredns_hosts_entries{hostsfile}`: file + inline entries after each parse of the file.
    pub entries: Family<HostsfileLabels, Gauge<f64, AtomicU64>>,
    /// `coredns_hosts_reload_timestamp_seconds`: the parsed file's modification time.
    pub reload_timestamp: Gauge<f64, AtomicU64>,
}

impl MetricSet for HostsMetrics {
    fn register(r: &mut Registry) -> Self {
        let m = HostsMetrics {
            entries: Family::default(),
            reload_timestamp: Gauge::default(),
        };
        r.register(
            "coredns_hosts_entries",
            "The combined number of entries in hosts and Corefile.",
            m.entries.clone(),
        );
        r.register(
            "coredns_hosts_reload_timestamp_seconds",
            "The timestamp of the last reload of hosts file.",
            m.reload_timestamp.clone(),
        );
        m
    }
}
