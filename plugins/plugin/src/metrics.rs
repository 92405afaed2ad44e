//! The process-wide Prometheus registry and the core `coredns_dns_*` families.
//!
//! One registry lives for the whole process (values survive reloads, metrics.md §1). Each
//! plugin crate declares its families as a [`MetricSet`]; [`MetricsHub::get`] registers a set
//! the first time it is asked for and hands out the same one afterwards.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Bucket sets of metrics.md §2.
pub mod buckets {
    pub const TIME: [f64; 16] = [
        0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512,
        1.024, 2.048, 4.096, 8.192,
    ];
    pub const SLIM: [f64; 5] = [0.00025, 0.0025, 0.025, 0.25, 2.5];
    /// 8291 is what CoreDNS exports (metrics.md §2), kept as is.
    pub const SIZE: [f64; 14] = [
        0.0, 100.0, 200.0, 300.0, 400.0, 511.0, 1023.0, 2047.0, 4095.0, 8291.0, 16000.0, 32000.0,
        48000.0, 64000.0,
    ];
    pub const DEFAULT: [f64; 11] = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ];
}

/// A plugin's metric families, registered once per process.
pub trait MetricSet: Send + Sync + 'static {
    fn register(registry: &mut Registry) -> Self;
}

/// The process-wide registry.
#[derive(Default)]
pub struct MetricsHub {
    registry: Mutex<Registry>,
    sets: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl std::fmt::Debug for MetricsHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsHub")
    }
}

impl MetricsHub {
    pub fn new() -> Self {
        MetricsHub::default()
    }

    /// The set `T`, registered on first use.
    pub fn get<T: MetricSet>(&self) -> Arc<T> {
        let mut sets = self.sets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(set) = sets.get(&TypeId::of::<T>()) {
            return set
                .clone()
                .downcast::<T>()
                .expect("metric set stored under its own TypeId");
        }
        let set = {
            let mut registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
            Arc::new(T::register(&mut registry))
        };
        sets.insert(TypeId::of::<T>(), set.clone());
        set
    }

    /// Direct access, for collectors (process metrics) registered by the server.
    pub fn with_registry<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        f(&mut self.registry.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The Prometheus text exposition (format 0.0.4, what client_golang serves by default)
    /// of everything registered. Fails only when a collector does.
    pub fn encode_text(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(16 * 1024);
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)?;
        Ok(out)
    }
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn time_histogram() -> Histogram {
    Histogram::new(buckets::TIME)
}

fn size_histogram() -> Histogram {
    Histogram::new(buckets::SIZE)
}

// Label structs list their fields in alphabetical order: that is the order the text format
// prints them in, as client_golang does (metrics.md §1).

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub family: &'static str,
    pub proto: &'static str,
    pub server: Arc<str>,
    pub r#type: &'static str,
    pub view: Arc<str>,
    pub zone: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ZoneLabels {
    pub server: Arc<str>,
    pub view: Arc<str>,
    pub zone: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SizeLabels {
    pub proto: &'static str,
    pub server: Arc<str>,
    pub view: Arc<str>,
    pub zone: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResponseLabels {
    pub plugin: &'static str,
    pub rcode: Arc<str>,
    pub server: Arc<str>,
    pub view: Arc<str>,
    pub zone: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginLabels {
    pub name: &'static str,
    pub server: Arc<str>,
    pub view: Arc<str>,
    pub zone: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub goversion: String,
    pub revision: String,
    pub version: String,
}

/// The core families of metrics.md §3, recorded by the `prometheus` plugin for the queries of
/// its block and by the server core for `zone="dropped"` queries.
pub struct DnsMetrics {
    pub requests: Family<RequestLabels, Counter>,
    pub request_duration: HistogramFamily<ZoneLabels>,
    pub request_size: HistogramFamily<SizeLabels>,
    pub do_requests: Family<ZoneLabels, Counter>,
    pub response_size: HistogramFamily<SizeLabels>,
    pub responses: Family<ResponseLabels, Counter>,
    pub panics: Counter,
    pub plugin_enabled: Family<PluginLabels, Gauge>,
    pub build_info: Family<BuildLabels, Gauge>,
}

impl MetricSet for DnsMetrics {
    fn register(r: &mut Registry) -> Self {
        let m = DnsMetrics {
            requests: Family::default(),
            request_duration: Family::new_with_constructor(time_histogram),
            request_size: Family::new_with_constructor(size_histogram),
            do_requests: Family::default(),
            response_size: Family::new_with_constructor(size_histogram),
            responses: Family::default(),
            panics: Counter::default(),
            plugin_enabled: Family::default(),
            build_info: Family::default(),
        };
        r.register(
            "coredns_dns_requests",
            "Counter of DNS requests made per zone, protocol and family",
            m.requests.clone(),
        );
        r.register(
            "coredns_dns_request_duration_seconds",
            "Histogram of the time (in seconds) each request took per zone",
            m.request_duration.clone(),
        );
        r.register(
            "coredns_dns_request_size_bytes",
            "Size of the DNS request in bytes per zone and protocol",
            m.request_size.clone(),
        );
        r.register(
            "coredns_dns_do_requests",
            "Counter of DNS requests with DO bit set per zone",
            m.do_requests.clone(),
        );
        r.register(
            "coredns_dns_response_size_bytes",
            "Size of the returned response in bytes per zone and protocol",
            m.response_size.clone(),
        );
        r.register(
            "coredns_dns_responses",
            "Counter of response status codes per zone, rcode and plugin",
            m.responses.clone(),
        );
        r.register(
            "coredns_panics",
            "A metrics that counts the number of panics",
            m.panics.clone(),
        );
        r.register(
            "coredns_plugin_enabled",
            "A metric that indicates whether a plugin is enabled on per server and zone basis",
            m.plugin_enabled.clone(),
        );
        r.register(
            "coredns_build_info",
            "A metric with a constant '1' value labeled by version, revision, and goversion",
            m.build_info.clone(),
        );
        m
    }
}

/// The `type` label: the qtype mnemonic for the tracked types, else `other` (metrics.md §1).
pub fn type_label(qtype: hickory_proto::rr::RecordType) -> &'static str {
    use hickory_proto::rr::RecordType as T;
    match qtype {
        T::A => "A",
        T::AAAA => "AAAA",
        T::CNAME => "CNAME",
        T::DNSKEY => "DNSKEY",
        T::DS => "DS",
        T::MX => "MX",
        T::NSEC3 => "NSEC3",
        T::NSEC => "NSEC",
        T::NS => "NS",
        T::PTR => "PTR",
        T::RRSIG => "RRSIG",
        T::SOA => "SOA",
        T::SRV => "SRV",
        T::TXT => "TXT",
        T::HTTPS => "HTTPS",
        T::SVCB => "SVCB",
        T::IXFR => "IXFR",
        T::AXFR => "AXFR",
        T::ANY => "ANY",
        _ => "other",
    }
}

/// The rcode mnemonic as CoreDNS prints it (`NOERROR`, `NXDOMAIN`, `RCODE12` for unnamed ones).
pub fn rcode_name(rcode: hickory_proto::op::ResponseCode) -> std::borrow::Cow<'static, str> {
    use hickory_proto::op::ResponseCode as R;
    std::borrow::Cow::Borrowed(match rcode {
        R::NoError => "NOERROR",
        R::FormErr => "FORMERR",
        R::ServFail => "SERVFAIL",
        R::NXDomain => "NXDOMAIN",
        R::NotImp => "NOTIMP",
        R::Refused => "REFUSED",
        R::YXDomain => "YXDOMAIN",
        R::YXRRSet => "YXRRSET",
        R::NXRRSet => "NXRRSET",
        R::NotAuth => "NOTAUTH",
        R::NotZone => "NOTZONE",
        R::BADVERS => "BADVERS",
        R::BADKEY => "BADKEY",
        R::BADTIME => "BADTIME",
        R::BADMODE => "BADMODE",
        R::BADNAME => "BADNAME",
        R::BADALG => "BADALG",
        R::BADTRUNC => "BADTRUNC",
        R::BADCOOKIE => "BADCOOKIE",
        other => return std::borrow::Cow::Owned(format!("RCODE{}", u16::from(other))),
    })
}
