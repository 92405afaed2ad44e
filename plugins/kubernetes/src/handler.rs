//! The `kubernetes` plugin in the chain: matches the zone, answers from the cache, and
//! applies the NXDOMAIN rules of kubernetes.md §4 (fallthrough, unsynced SERVFAIL).

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record, RecordType};
use plugin::{Failure, Next, Plugin, Reply, Request, Response, Upstream};

use crate::answer::{Answer, Answerer, Piece, Question};
use crate::cache::Cache;
use crate::config::Config;
use crate::lookup::Lookup;
use crate::served_zone::ServedZone;

/// One `kubernetes` stanza.
pub struct Kubernetes {
    config: Arc<Config>,
    cache: Arc<Cache>,
    upstream: Upstream,
    /// The server's own addresses (§5.2 step 1): non-loopback interface addresses, or the
    /// block's bind addresses.
    own_addresses: Arc<[IpAddr]>,
    /// `config.zones` with their names and SOA records prebuilt, in the same order.
    zones: Vec<ServedZone>,
}

impl Kubernetes {
    pub fn new(
        config: Arc<Config>,
        cache: Arc<Cache>,
        upstream: Upstream,
        own_addresses: Arc<[IpAddr]>,
    ) -> Self {
        let zones = config.zones.iter().map(|z| ServedZone::new(z)).collect();
        Kubernetes {
            config,
            cache,
            upstream,
            own_addresses,
            zones,
        }
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    pub fn cache(&self) -> &Arc<Cache> {
        &self.cache
    }

    /// The longest of the plugin's zones containing `name_lower`.
    fn matched_zone(&self, name_lower: &str) -> Option<&ServedZone> {
        self.zones
            .iter()
            .filter(|z| plugin::zones::is_subdomain(&z.zone, name_lower))
            .max_by_key(|z| z.zone.len())
    }

    /// The §4 ending for a name error: next plugin, SERVFAIL before the first sync, else
    /// NXDOMAIN; the last two with the zone's SOA.
    fn name_error<'a>(&'a self, req: &'a Request, next: Next<'a>, zone: &Matched<'_>) -> Reply<'a> {
        if self.config.fallthrough.through(req.qname_lower()) {
            return next.serve(req);
        }
        let rcode = if self.cache.has_synced() {
            ResponseCode::NXDomain
        } else {
            ResponseCode::ServFail
        };
        Reply::answer(self.negative(req, zone, rcode))
    }

    /// NODATA / NXDOMAIN / SERVFAIL: empty answer, the zone's SOA in the authority section.
    fn negative(&self, req: &Request, zone: &Matched<'_>, rcode: ResponseCode) -> Response {
        let mut response = Response::reply_to(req, crate::NAME)
            .authoritative()
            .with_rcode(rcode);
        response.authorities = zone.served.soa_section(
            &zone.name,
            zone.spelled_lower,
            self.config.ttl,
            self.cache.clock.serial(),
        );
        response
    }

    fn positive(
        &self,
        req: &Request,
        zone: &Matched<'_>,
        answers: Vec<Record>,
        additionals: Vec<Record>,
        truncated: bool,
    ) -> Response {
        if answers.is_empty() {
            return self.negative(req, zone, ResponseCode::NoError);
        }
        Response::reply_to(req, crate::NAME)
            .authoritative()
            .truncated(truncated)
            .with_records(answers, additionals)
    }

    /// Resolves the pieces of an A/AAAA answer, looking CNAME targets outside the zone up
    /// through the server (§3.5 step 3: its answer copied verbatim, its rcode ignored, its TC
    /// kept; no message at all drops the CNAME).
    fn resolve<'a>(
        &'a self,
        req: &'a Request,
        qtype: RecordType,
        pieces: Vec<Piece>,
        truncated: &'a mut bool,
    ) -> Pin<Box<dyn Future<Output = Vec<Record>> + Send + 'a>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for piece in pieces {
                match piece {
                    Piece::Record(record) => out.push(record),
                    Piece::Chain { cname, rest } => {
                        let rest = self.resolve(req, qtype, rest, truncated).await;
                        if !rest.is_empty() {
                            out.push(cname);
                            out.extend(rest);
                        }
                    }
                    Piece::Upstream { cname, target } => {
                        if let Some(response) = self.upstream.lookup(req, target, qtype).await {
                            *truncated |= response.flags.truncated;
                            out.push(cname);
                            out.extend(response.answers.iter().cloned());
                        }
                    }
                }
            }
            out
        })
    }
}

/// The zone a query matched, as the client spelled it.
struct Matched<'z> {
    served: &'z ServedZone,
    name: Name,
    spelled_lower: bool,
}

/// True when the last `labels` labels of `name` hold no upper-case letter.
fn spelled_lower(name: &Name, labels: usize) -> bool {
    // From the right: the zone's labels are the last ones, and skipping the others one by one
    // costs more than checking these.
    name.iter()
        .rev()
        .take(labels)
        .all(|label| !label.iter().any(u8::is_ascii_uppercase))
}

impl Plugin for Kubernetes {
    fn name(&self) -> &'static str {
        crate::NAME
    }

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        let name_lower = req.qname_lower();
        let Some(served) = self.matched_zone(name_lower) else {
            return next.serve(req);
        };
        let qtype = req.qtype();
        if matches!(qtype, RecordType::AXFR | RecordType::IXFR) {
            // Zone transfers are the transfer plugin's (§13); the core writes REFUSED.
            return Reply::fail(Failure::rcode(ResponseCode::Refused));
        }
        // Borrowed, not cloned: most answers never need the query name as a `Name`.
        let root;
        let owner = match req.query() {
            Some(query) => query.name(),
            None => {
                root = Name::root();
                &root
            }
        };
        let spelled_lower = spelled_lower(owner, served.labels);
        let zone = Matched {
            served,
            name: served.name_as_spelled(owner, spelled_lower),
            spelled_lower,
        };
        let question = Question {
            name_lower,
            owner,
            zone: &served.zone,
            zone_spelled_lower: spelled_lower,
            zone_name: &zone.name,
            qtype,
        };
        let answer = {
            let index = self.cache.read();
            let answerer = Answerer {
                lookup: Lookup {
                    config: &self.config,
                    index: &index,
                },
                ttl: self.config.ttl,
                own_addresses: &self.own_addresses,
                serial: self.cache.clock.serial(),
            };
            answerer.answer(&question)
        };
        match answer {
            Answer::NameError => self.name_error(req, next, &zone),
            Answer::NoData => Reply::answer(self.negative(req, &zone, ResponseCode::NoError)),
            Answer::Records {
                answers,
                additionals,
            } => Reply::answer(self.positive(req, &zone, answers, additionals, false)),
            Answer::Pending(pieces) => Reply::pending(async move {
                let mut truncated = false;
                let answers = self.resolve(req, qtype, pieces, &mut truncated).await;
                Ok(self.positive(req, &zone, answers, Vec::new(), truncated))
            }),
        }
    }

    fn ready(&self) -> bool {
        self.cache.has_synced()
    }
}
