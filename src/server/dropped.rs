//! Metrics of the queries the server core answers itself, with `zone="dropped"`
//! (metrics.md §4, CoreDNS `errorAndMetricsFunc` → `vars.Report(..., vars.Dropped, ...)`).

use std::sync::Arc;
use std::time::Instant;

use hickory_proto::op::ResponseCode;
use plugin::Request;
use plugin::metrics::{
    DnsMetrics, RequestLabels, ResponseLabels, SizeLabels, ZoneLabels, rcode_name, type_label,
};

/// The label values of the dropped rows, built once per listener so recording a dropped query
/// allocates nothing.
#[derive(Clone)]
pub struct DroppedMetrics {
    metrics: Arc<DnsMetrics>,
    server: Arc<str>,
    zone: Arc<str>,
    view: Arc<str>,
    refused: Arc<str>,
    servfail: Arc<str>,
}

impl DroppedMetrics {
    /// `server` is the listener identity (`dns://:53`), the `server` label.
    pub fn new(metrics: Arc<DnsMetrics>, server: Arc<str>) -> Self {
        DroppedMetrics {
            metrics,
            server,
            zone: Arc::from("dropped"),
            view: Arc::from(""),
            refused: Arc::from(rcode_name(ResponseCode::Refused).as_ref()),
            servfail: Arc::from(rcode_name(ResponseCode::ServFail).as_ref()),
        }
    }

    pub fn metrics(&self) -> &Arc<DnsMetrics> {
        &self.metrics
    }

    /// Records the five `coredns_dns_*` families (and the DO counter when the query has DO)
    /// for `req`, answered by the core with `rcode` in a reply of `reply_len` bytes. Duration is
    /// measured from `rejected`, the point where the core decided (≈0, as CoreDNS).
    pub fn record(&self, req: &Request, rcode: ResponseCode, reply_len: usize, rejected: Instant) {
        let m = &*self.metrics;
        let zone_labels = ZoneLabels {
            server: self.server.clone(),
            view: self.view.clone(),
            zone: self.zone.clone(),
        };
        if req.do_bit() {
            m.do_requests.get_or_create(&zone_labels).inc();
        }
        let proto = req.transport().as_str();
        // CoreDNS `request.Family`: 2 only for a real IPv6 client.
        let family = if req.is_ipv6_client() { "2" } else { "1" };
        m.requests
            .get_or_create(&RequestLabels {
                family,
                proto,
                server: self.server.clone(),
                r#type: type_label(req.qtype()),
                view: self.view.clone(),
                zone: self.zone.clone(),
            })
            .inc();
        m.request_duration
            .get_or_create(&zone_labels)
            .observe(rejected.elapsed().as_secs_f64());
        let size_labels = SizeLabels {
            proto,
            server: self.server.clone(),
            view: self.view.clone(),
            zone: self.zone.clone(),
        };
        m.response_size
            .get_or_create(&size_labels)
            .observe(reply_len as f64);
        m.request_size
            .get_or_create(&size_labels)
            .observe(req.len() as f64);
        m.responses
            .get_or_create(&ResponseLabels {
                plugin: "",
                rcode: self.rcode_label(rcode),
                server: self.server.clone(),
                view: self.view.clone(),
                zone: self.zone.clone(),
            })
            .inc();
    }

    fn rcode_label(&self, rcode: ResponseCode) -> Arc<str> {
        match rcode {
            ResponseCode::Refused => self.refused.clone(),
            ResponseCode::ServFail => self.servfail.clone(),
            other => Arc::from(rcode_name(other).as_ref()),
        }
    }

    /// The `coredns_dns_responses_total{zone="dropped", rcode=RCODE}` value (tests).
    #[cfg(test)]
    pub fn responses(&self, rcode: ResponseCode) -> u64 {
        self.metrics
            .responses
            .get_or_create(&ResponseLabels {
                plugin: "",
                rcode: self.rcode_label(rcode),
                server: self.server.clone(),
                view: self.view.clone(),
                zone: self.zone.clone(),
            })
            .get()
    }

    /// The `coredns_dns_requests_total{zone="dropped"}` value for an IPv4 UDP/TCP query of
    /// `qtype` (tests).
    #[cfg(test)]
    pub fn requests(&self, proto: &'static str, qtype: hickory_proto::rr::RecordType) -> u64 {
        self.metrics
            .requests
            .get_or_create(&RequestLabels {
                family: "1",
                proto,
                server: self.server.clone(),
                r#type: type_label(qtype),
                view: self.view.clone(),
                zone: self.zone.clone(),
            })
            .get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::RecordType;
    use plugin::metrics::MetricsHub;
    use plugin::test_util::query;

    #[test]
    fn records_all_families_with_zone_dropped() {
        let hub = MetricsHub::new();
        let dropped = DroppedMetrics::new(hub.get::<DnsMetrics>(), Arc::from("dns://:53"));
        let req = query("example.com.", RecordType::A)
            .edns(1232, true)
            .build();
        dropped.record(&req, ResponseCode::Refused, 40, Instant::now());
        assert_eq!(dropped.responses(ResponseCode::Refused), 1);
        assert_eq!(dropped.requests("udp", RecordType::A), 1);
        let text = hub.encode_text().unwrap();
        for line in [
            r#"coredns_dns_requests_total{family="1",proto="udp",server="dns://:53",type="A",view="",zone="dropped"} 1"#,
            r#"coredns_dns_do_requests_total{server="dns://:53",view="",zone="dropped"} 1"#,
            r#"coredns_dns_responses_total{plugin="",rcode="REFUSED",server="dns://:53",view="",zone="dropped"} 1"#,
            r#"coredns_dns_request_duration_seconds_count{server="dns://:53",view="",zone="dropped"} 1"#,
            r#"coredns_dns_response_size_bytes_sum{proto="udp",server="dns://:53",view="",zone="dropped"} 40.0"#,
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        let request_size = format!(
            r#"coredns_dns_request_size_bytes_sum{{proto="udp",server="dns://:53",view="",zone="dropped"}} {}.0"#,
            req.len()
        );
        assert!(text.contains(&request_size), "missing {request_size}");
    }
}
