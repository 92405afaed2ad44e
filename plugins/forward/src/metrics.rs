//! The forward and proxy families (metrics.md, "forward (plugin counters) and proxy").
//!
//! Per-upstream series are created the first time they are touched (labelled families appear
//! only then, metrics.md §1) and their handles kept by the upstream, so a query pays one
//! atomic increment, not a label hash and a map lookup.

use std::sync::{Arc, OnceLock};

use hickory_proto::op::ResponseCode;
use plugin::metrics::{MetricSet, buckets};
use plugin::names::RcodeName;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// `proxy_name` of every series this crate writes.
pub const PROXY_NAME: &str = "forward";

// Label structs list their fields alphabetically: the order the text format prints them.

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamLabels {
    pub proxy_name: &'static str,
    pub to: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RcodeLabels {
    pub proxy_name: &'static str,
    pub rcode: Arc<str>,
    pub to: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProtoLabels {
    pub proto: &'static str,
    pub proxy_name: &'static str,
    pub to: Arc<str>,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn time_histogram() -> Histogram {
    Histogram::new(buckets::TIME)
}

/// Every family of the forward plugin and its proxy layer.
pub struct ForwardMetrics {
    /// `coredns_forward_healthcheck_broken_total`: every upstream was down for a query.
    pub healthcheck_broken: Counter,
    /// `coredns_forward_max_concurrent_rejects_total`: queries refused by `max_concurrent`.
    pub max_concurrent_rejects: Counter,
    /// `coredns_proxy_request_duration_seconds{proxy_name,rcode,to}`: per reply received.
    pub request_duration: HistogramFamily<RcodeLabels>,
    /// `coredns_proxy_healthcheck_failures_total{proxy_name,to}`: per failed probe.
    pub healthcheck_failures: Family<UpstreamLabels, Counter>,
    /// `coredns_proxy_conn_cache_hits_total{proto,proxy_name,to}`: a pooled connection reused.
    pub conn_cache_hits: Family<ProtoLabels, Counter>,
    /// `coredns_proxy_conn_cache_misses_total{proto,proxy_name,to}`: a connection dialled.
    pub conn_cache_misses: Family<ProtoLabels, Counter>,
}

impl MetricSet for ForwardMetrics {
    fn register(r: &mut Registry) -> Self {
        let m = ForwardMetrics {
            healthcheck_broken: Counter::default(),
            max_concurrent_rejects: Counter::default(),
            request_duration: Family::new_with_constructor(time_histogram),
            healthcheck_failures: Family::default(),
            conn_cache_hits: Family::default(),
            conn_cache_misses: Family::default(),
        };
        // Help texts are CoreDNS's; the registry appends the final period.
        r.register(
            "coredns_forward_healthcheck_broken",
            "Counter of the number of complete failures of the healthchecks",
            m.healthcheck_broken.clone(),
        );
        r.register(
            "coredns_forward_max_concurrent_rejects",
            "Counter of the number of queries rejected because the concurrent queries were at maximum",
            m.max_concurrent_rejects.clone(),
        );
        r.register(
            "coredns_proxy_request_duration_seconds",
            "Histogram of the time each request took",
            m.request_duration.clone(),
        );
        r.register(
            "coredns_proxy_healthcheck_failures",
            "Counter of the number of failed healthchecks",
            m.healthcheck_failures.clone(),
        );
        r.register(
            "coredns_proxy_conn_cache_hits",
            "Counter of connection cache hits per upstream and protocol",
            m.conn_cache_hits.clone(),
        );
        r.register(
            "coredns_proxy_conn_cache_misses",
            "Counter of connection cache misses per upstream and protocol",
            m.conn_cache_misses.clone(),
        );
        m
    }
}

/// The transport classes of the `proto` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnProto {
    Udp = 0,
    Tcp = 1,
    Tls = 2,
}

impl ConnProto {
    pub fn label(self) -> &'static str {
        match self {
            ConnProto::Udp => "udp",
            ConnProto::Tcp => "tcp",
            ConnProto::Tls => "tcp-tls",
        }
    }
}

/// Rcodes whose duration series get a cached handle (every named one, 0..=23).
const CACHED_RCODES: usize = 24;

/// One upstream's series, created on first use and then reused without a lookup.
pub struct UpstreamMetrics {
    family: Arc<ForwardMetrics>,
    to: Arc<str>,
    hits: [OnceLock<Counter>; 3],
    misses: [OnceLock<Counter>; 3],
    durations: [OnceLock<Histogram>; CACHED_RCODES],
    healthcheck_failures: OnceLock<Counter>,
}

impl UpstreamMetrics {
    pub fn new(family: Arc<ForwardMetrics>, to: Arc<str>) -> Self {
        UpstreamMetrics {
            family,
            to,
            hits: Default::default(),
            misses: Default::default(),
            durations: Default::default(),
            healthcheck_failures: OnceLock::new(),
        }
    }

    fn proto_labels(&self, proto: ConnProto) -> ProtoLabels {
        ProtoLabels {
            proto: proto.label(),
            proxy_name: PROXY_NAME,
            to: self.to.clone(),
        }
    }

    pub fn conn_cache_hit(&self, proto: ConnProto) {
        self.hits[proto as usize]
            .get_or_init(|| {
                self.family
                    .conn_cache_hits
                    .get_or_create_owned(&self.proto_labels(proto))
            })
            .inc();
    }

    pub fn conn_cache_miss(&self, proto: ConnProto) {
        self.misses[proto as usize]
            .get_or_init(|| {
                self.family
                    .conn_cache_misses
                    .get_or_create_owned(&self.proto_labels(proto))
            })
            .inc();
    }

    pub fn healthcheck_failure(&self) {
        self.healthcheck_failures
            .get_or_init(|| {
                self.family
                    .healthcheck_failures
                    .get_or_create_owned(&UpstreamLabels {
                        proxy_name: PROXY_NAME,
                        to: self.to.clone(),
                    })
            })
            .inc();
    }

    /// A reply with `rcode` arrived `seconds` after the exchange started. The label is the
    /// mnemonic, or the bare number for unnamed rcodes (CoreDNS `RcodeToString` or `Itoa`).
    pub fn request_duration(&self, rcode: ResponseCode, seconds: f64) {
        let labels = || RcodeLabels {
            proxy_name: PROXY_NAME,
            rcode: Arc::from(RcodeName(rcode).to_string()),
            to: self.to.clone(),
        };
        match self.durations.get(usize::from(u16::from(rcode))) {
            Some(slot) => slot
                .get_or_init(|| self.family.request_duration.get_or_create_owned(&labels()))
                .observe(seconds),
            None => self
                .family
                .request_duration
                .get_or_create(&labels())
                .observe(seconds),
        }
    }
}
