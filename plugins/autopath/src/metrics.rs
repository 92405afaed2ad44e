//! `coredns_autopath_success_total` (metrics.md §5, autopath).

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use plugin::metrics::MetricSet;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServerLabels {
    pub server: Arc<str>,
}

pub struct AutopathMetrics {
    /// A search-path expansion produced the answer (a try other than NXDOMAIN won).
    pub success: Family<ServerLabels, Counter>,
}

impl MetricSet for AutopathMetrics {
    fn register(r: &mut Registry) -> Self {
        let m = AutopathMetrics {
            success: Family::default(),
        };
        r.register(
            "coredns_autopath_success",
            "Counter of requests that did autopath.",
            m.success.clone(),
        );
        m
    }
}

impl AutopathMetrics {
    pub fn succeeded(&self, server: &Arc<str>) {
        self.success
            .get_or_create(&ServerLabels {
                server: server.clone(),
            })
            .inc();
    }

    /// The count for `server` (tests).
    pub fn successes(&self, server: &str) -> u64 {
        self.success
            .get_or_create(&ServerLabels {
                server: Arc::from(server),
            })
            .get()
    }
}
