//! Handles to the `coredns_dns_*` series one prometheus plugin records, cached per
//! (server, zone) so a query costs one small map lookup instead of building and hashing six
//! label sets. Series are created on first use only: a label set never queried is never
//! exported (as client_golang's `WithLabelValues`).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use hickory_proto::op::ResponseCode;
use plugin::Transport;
use plugin::metrics::{
    DnsMetrics, RequestLabels, ResponseLabels, SizeLabels, ZoneLabels, rcode_name,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

/// The tracked `type` label values (metrics.md §1), in the order of `plugin::metrics::type_label`.
const TYPES: [&str; 20] = [
    "A", "AAAA", "CNAME", "DNSKEY", "DS", "MX", "NSEC3", "NSEC", "NS", "PTR", "RRSIG", "SOA",
    "SRV", "TXT", "HTTPS", "SVCB", "IXFR", "AXFR", "ANY", "other",
];
const PROTOS: usize = 2;
const FAMILIES: usize = 2;

fn proto_index(t: Transport) -> usize {
    match t {
        Transport::Udp => 0,
        Transport::Tcp => 1,
    }
}

fn family_label(ipv6: bool) -> &'static str {
    if ipv6 { "2" } else { "1" }
}

/// What one query contributes, labels already reduced to indexes and static strings.
#[derive(Clone, Copy, Debug)]
pub struct Observation {
    pub transport: Transport,
    pub ipv6_client: bool,
    /// A value of `plugin::metrics::type_label`.
    pub qtype: &'static str,
    pub do_bit: bool,
    pub seconds: f64,
    pub request_size: usize,
    pub response_size: usize,
    pub rcode: ResponseCode,
    /// `Response.plugin`, `""` when the server core answers.
    pub plugin: &'static str,
}

/// The series of one (server, zone).
pub struct ZoneSeries {
    labels: ZoneLabels,
    duration: Histogram,
    do_requests: OnceLock<Counter>,
    request_size: [OnceLock<Histogram>; PROTOS],
    response_size: [OnceLock<Histogram>; PROTOS],
    /// Indexed by proto, family, type.
    requests: [[[OnceLock<Counter>; TYPES.len()]; FAMILIES]; PROTOS],
    /// (rcode, plugin) pairs seen: a handful per zone, scanned linearly.
    responses: RwLock<Vec<(ResponseCode, &'static str, Counter)>>,
}

impl ZoneSeries {
    fn new(metrics: &DnsMetrics, labels: ZoneLabels) -> Self {
        ZoneSeries {
            duration: metrics.request_duration.get_or_create(&labels).clone(),
            labels,
            do_requests: OnceLock::new(),
            request_size: Default::default(),
            response_size: Default::default(),
            requests: Default::default(),
            responses: RwLock::new(Vec::new()),
        }
    }

    pub fn record(&self, metrics: &DnsMetrics, o: &Observation) {
        let l = &self.labels;
        let proto = proto_index(o.transport);
        let size_labels = || SizeLabels {
            proto: o.transport.as_str(),
            server: l.server.clone(),
            view: l.view.clone(),
            zone: l.zone.clone(),
        };
        if o.do_bit {
            self.do_requests
                .get_or_init(|| metrics.do_requests.get_or_create(l).clone())
                .inc();
        }
        let type_index = TYPES
            .iter()
            .position(|t| *t == o.qtype)
            .unwrap_or(TYPES.len() - 1);
        self.requests[proto][usize::from(o.ipv6_client)][type_index]
            .get_or_init(|| {
                let labels = RequestLabels {
                    family: family_label(o.ipv6_client),
                    proto: o.transport.as_str(),
                    server: l.server.clone(),
                    r#type: TYPES[type_index],
                    view: l.view.clone(),
                    zone: l.zone.clone(),
                };
                metrics.requests.get_or_create(&labels).clone()
            })
            .inc();
        self.duration.observe(o.seconds);
        self.response_size[proto]
            .get_or_init(|| metrics.response_size.get_or_create(&size_labels()).clone())
            .observe(o.response_size as f64);
        self.request_size[proto]
            .get_or_init(|| metrics.request_size.get_or_create(&size_labels()).clone())
            .observe(o.request_size as f64);
        self.response_counter(metrics, o.rcode, o.plugin).inc();
    }

    fn response_counter(
        &self,
        metrics: &DnsMetrics,
        rcode: ResponseCode,
        plugin: &'static str,
    ) -> Counter {
        let find = |seen: &[(ResponseCode, &'static str, Counter)]| {
            seen.iter()
                .find(|(r, p, _)| *r == rcode && *p == plugin)
                .map(|(_, _, c)| c.clone())
        };
        if let Some(c) = find(&self.responses.read().unwrap_or_else(|e| e.into_inner())) {
            return c;
        }
        let mut seen = self.responses.write().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = find(&seen) {
            return c;
        }
        let labels = ResponseLabels {
            plugin,
            rcode: Arc::from(rcode_name(rcode).as_ref()),
            server: self.labels.server.clone(),
            view: self.labels.view.clone(),
            zone: self.labels.zone.clone(),
        };
        let counter = metrics.responses.get_or_create(&labels).clone();
        seen.push((rcode, plugin, counter.clone()));
        counter
    }
}

/// One slot per zone label, filled on the zone's first query.
type ZoneSlots = Arc<[OnceLock<ZoneSeries>]>;

/// The series of one plugin instance: per listener (`server` label), one slot per zone label.
pub struct SeriesCache {
    metrics: Arc<DnsMetrics>,
    /// The block's zones plus the `.` fallback, in the order zone indexes refer to.
    zones: Arc<[Arc<str>]>,
    view: Arc<str>,
    servers: RwLock<HashMap<Arc<str>, ZoneSlots>>,
}

impl SeriesCache {
    pub fn new(metrics: Arc<DnsMetrics>, zones: Arc<[Arc<str>]>) -> Self {
        SeriesCache {
            metrics,
            zones,
            view: Arc::from(""),
            servers: RwLock::new(HashMap::new()),
        }
    }

    pub fn record(&self, server: &Arc<str>, zone: usize, o: &Observation) {
        let slots = self.slots(server);
        let Some(slot) = slots.get(zone) else {
            return;
        };
        let series = slot.get_or_init(|| {
            ZoneSeries::new(
                &self.metrics,
                ZoneLabels {
                    server: server.clone(),
                    view: self.view.clone(),
                    zone: self.zones[zone].clone(),
                },
            )
        });
        series.record(&self.metrics, o);
    }

    fn slots(&self, server: &Arc<str>) -> ZoneSlots {
        if let Some(slots) = self
            .servers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(server.as_ref())
        {
            return slots.clone();
        }
        self.servers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(server.clone())
            .or_insert_with(|| (0..self.zones.len()).map(|_| OnceLock::new()).collect())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::RecordType;
    use plugin::metrics::type_label;

    #[test]
    fn every_type_label_has_a_slot() {
        use RecordType::*;
        for t in [
            A, AAAA, CNAME, DNSKEY, DS, MX, NSEC3, NSEC, NS, PTR, RRSIG, SOA, SRV, TXT, HTTPS,
            SVCB, IXFR, AXFR, ANY, NULL, CAA,
        ] {
            assert!(TYPES.contains(&type_label(t)), "{t:?}");
        }
    }
}
