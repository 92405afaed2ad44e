//! `coredns_kubernetes_dns_programming_duration_seconds` (metrics.md, kubernetes): how long an
//! endpoint change took from the EndpointSlice controller to this cache.

use plugin::metrics::MetricSet;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// PROG buckets (metrics.md §2): 0.001 × 2ⁿ, n = 0..19 (1 ms to ~9 minutes).
pub fn programming_buckets() -> impl Iterator<Item = f64> {
    (0..20).map(|n| 0.001 * f64::from(1u32 << n))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceKindLabels {
    /// `cluster_ip` or `headless_with_selector` (CoreDNS documents
    /// `headless_without_selector` but never produces it).
    pub service_kind: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn programming_histogram() -> Histogram {
    Histogram::new(programming_buckets())
}

pub struct KubernetesMetrics {
    pub programming_duration: HistogramFamily<ServiceKindLabels>,
}

impl MetricSet for KubernetesMetrics {
    fn register(r: &mut Registry) -> Self {
        let m = KubernetesMetrics {
            programming_duration: Family::new_with_constructor(programming_histogram),
        };
        r.register(
            "coredns_kubernetes_dns_programming_duration_seconds",
            "Histogram of the time (in seconds) it took to program a dns instance.",
            m.programming_duration.clone(),
        );
        m
    }
}

impl KubernetesMetrics {
    /// One observation for a slice event whose Service is known.
    pub fn observe(&self, headless: bool, seconds: f64) {
        let service_kind = if headless {
            "headless_with_selector"
        } else {
            "cluster_ip"
        };
        self.programming_duration
            .get_or_create(&ServiceKindLabels { service_kind })
            .observe(seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::metrics::MetricsHub;

    #[test]
    fn buckets_and_exposition() {
        let buckets: Vec<f64> = programming_buckets().collect();
        assert_eq!(buckets.len(), 20);
        assert_eq!(buckets[0], 0.001);
        assert_eq!(buckets[19], 524.288);
        let hub = MetricsHub::new();
        hub.get::<KubernetesMetrics>().observe(true, 0.5);
        let text = hub.encode_text().unwrap();
        assert!(text.contains(
            "coredns_kubernetes_dns_programming_duration_seconds_bucket{le=\"0.512\",service_kind=\"headless_with_selector\"} 1"
        ) || text.contains(
            "coredns_kubernetes_dns_programming_duration_seconds_bucket{service_kind=\"headless_with_selector\",le=\"0.512\"} 1"
        ), "{text}");
        assert!(text.contains(
            "coredns_kubernetes_dns_programming_duration_seconds_count{service_kind=\"headless_with_selector\"} 1"
        ), "{text}");
    }
}
