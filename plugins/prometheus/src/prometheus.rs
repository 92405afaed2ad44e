//! The chain step that records the `coredns_dns_*` families for the queries of its block
//! (metrics.md §3), once per query after the chain returned.

use std::sync::Arc;
use std::time::Instant;

use hickory_proto::op::ResponseCode;
use plugin::metrics::{DnsMetrics, type_label};
use plugin::zones::is_subdomain;
use plugin::{Next, Outcome, Plugin, Reply, Request};

use crate::NAME;
use crate::series::{Observation, SeriesCache};

pub struct Prometheus {
    /// The block's zones (lower-case FQDNs) followed by the `.` fallback label.
    zones: Arc<[Arc<str>]>,
    series: SeriesCache,
}

impl Prometheus {
    pub fn new(zones: &[String], metrics: Arc<DnsMetrics>) -> Self {
        let zones: Arc<[Arc<str>]> = zones
            .iter()
            .map(|z| Arc::from(z.as_str()))
            .chain(std::iter::once(Arc::from(".")))
            .collect();
        Prometheus {
            series: SeriesCache::new(metrics, zones.clone()),
            zones,
        }
    }

    /// Index of the `zone` label: the most specific of the block's zones containing the name,
    /// else the `.` fallback (the last entry).
    fn zone_index(&self, qname: &str) -> usize {
        let fallback = self.zones.len() - 1;
        self.zones[..fallback]
            .iter()
            .enumerate()
            .filter(|(_, zone)| is_subdomain(zone, qname))
            .max_by_key(|(_, zone)| zone.len())
            .map_or(fallback, |(i, _)| i)
    }

    fn record(&self, req: &Request, zone: usize, start: Instant, outcome: &Outcome) {
        let (rcode, plugin, response_size) = match outcome {
            Ok(resp) => (
                resp.rcode,
                resp.plugin,
                plugin::wire::uncompressed_len(req, resp),
            ),
            // The server core writes this reply itself: no plugin, nothing written by the chain.
            Err(failure) if failure.core_writes_reply() => (failure.rcode, "", 0),
            // Nothing is written at all; CoreDNS's recorder then still holds its initial rcode 0.
            Err(_) => (ResponseCode::NoError, "", 0),
        };
        // `type` and DO come from the request as lent to the chain: requests are immutable
        // here, so a rewrite of the type in a later plugin does not change the label.
        let observation = Observation {
            transport: req.transport(),
            ipv6_client: req.is_ipv6_client(),
            qtype: type_label(req.qtype()),
            do_bit: req.do_bit(),
            seconds: start.elapsed().as_secs_f64(),
            request_size: req.len(),
            response_size,
            rcode,
            plugin,
        };
        self.series.record(req.server(), zone, &observation);
    }
}

impl Plugin for Prometheus {
    fn name(&self) -> &'static str {
        NAME
    }

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        let start = Instant::now();
        // The zone is taken from the name before the chain (a rewrite does not move it).
        let zone = self.zone_index(req.qname_lower());
        next.serve(req)
            .inspect(move |outcome| self.record(req, zone, start, outcome))
    }
}
