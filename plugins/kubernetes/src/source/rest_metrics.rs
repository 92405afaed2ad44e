//! `coredns_kubernetes_rest_client_*` (metrics.md, kubernetes): what CoreDNS exports through
//! client-go's metric hooks, recorded here by [`super::client_layer`] for every API request.

use std::sync::Arc;

use plugin::metrics::{MetricSet, buckets};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

// Label structs list their fields alphabetically: the text format prints them in that order,
// as client_golang does (metrics.md §1).

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerbHostLabels {
    pub host: Arc<str>,
    pub verb: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub code: String,
    pub host: Arc<str>,
    pub method: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn default_histogram() -> Histogram {
    Histogram::new(buckets::DEFAULT)
}

pub struct RestClientMetrics {
    /// Request start (after the rate limiter) to response headers, or to the failure.
    pub request_duration: HistogramFamily<VerbHostLabels>,
    /// Time a request waited for the `apiserver_qps`/`apiserver_burst` token bucket.
    pub rate_limiter_duration: HistogramFamily<VerbHostLabels>,
    /// One per request; `code` is the HTTP status, `<error>` when none was received.
    pub requests: Family<ResultLabels, Counter>,
}

impl MetricSet for RestClientMetrics {
    fn register(r: &mut Registry) -> Self {
        let m = RestClientMetrics {
            request_duration: Family::new_with_constructor(default_histogram),
            rate_limiter_duration: Family::new_with_constructor(default_histogram),
            requests: Family::default(),
        };
        r.register(
            "coredns_kubernetes_rest_client_request_duration_seconds",
            "Request latency in seconds. Broken down by verb and host.",
            m.request_duration.clone(),
        );
        r.register(
            "coredns_kubernetes_rest_client_rate_limiter_duration_seconds",
            "Client side rate limiter latency in seconds. Broken down by verb and host.",
            m.rate_limiter_duration.clone(),
        );
        // prometheus-client appends `_total` to counters.
        r.register(
            "coredns_kubernetes_rest_client_requests",
            "Number of HTTP requests, partitioned by status code, method, and host.",
            m.requests.clone(),
        );
        m
    }
}
