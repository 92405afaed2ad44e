//! `coredns_reload_*` (metrics.md §5, reload).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use plugin::metrics::MetricSet;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VersionLabels {
    pub hash: &'static str,
    pub value: String,
}

pub struct ReloadMetrics {
    /// A seen change whose reload failed (not SIGUSR1 failures, not parse warnings).
    pub failed: Counter,
    /// 1 for the digest last acted on; the previous series is removed.
    pub version_info: Family<VersionLabels, Gauge>,
}

impl MetricSet for ReloadMetrics {
    fn register(r: &mut Registry) -> Self {
        let m = ReloadMetrics {
            failed: Counter::default(),
            version_info: Family::default(),
        };
        r.register(
            "coredns_reload_failed",
            "Counter of the number of failed reload attempts",
            m.failed.clone(),
        );
        r.register(
            "coredns_reload_version_info",
            "A metric with a constant '1' value labeled by hash, and value which types of hash generator and value",
            m.version_info.clone(),
        );
        m
    }
}

impl ReloadMetrics {
    /// Records `digest` as the running configuration's, replacing the previous series.
    pub fn set_version(&self, digest: &str) {
        self.version_info.clear();
        self.version_info
            .get_or_create(&VersionLabels {
                hash: "sha512",
                value: digest.to_string(),
            })
            .set(1);
    }
}
