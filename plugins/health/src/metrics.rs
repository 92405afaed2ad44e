//! The health plugin's families (metrics.md §5): label-less, so they exist from process start.

use plugin::metrics::{MetricSet, buckets};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub struct HealthMetrics {
    /// `coredns_health_request_duration_seconds`: each self-probe, failed or not.
    pub duration: Histogram,
    /// `coredns_health_request_failures_total`: self-probes that got no HTTP answer.
    pub failures: Counter,
}

impl MetricSet for HealthMetrics {
    fn register(r: &mut Registry) -> Self {
        let m = HealthMetrics {
            duration: Histogram::new(buckets::SLIM),
            failures: Counter::default(),
        };
        r.register(
            "coredns_health_request_duration_seconds",
            "Histogram of the time (in seconds) each request took",
            m.duration.clone(),
        );
        // The encoder appends `_total` to counters.
        r.register(
            "coredns_health_request_failures",
            "The number of times the health check failed",
            m.failures.clone(),
        );
        m
    }
}
