//! The `kubernetes` plugin in the chain: matches the zone, answers from the cache, and
//! applies the NXDOMAIN rules of kubernetes.md §4 (fallthrough, unsynced SERVFAIL).

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record, RecordType};
use plugin::{Failure, Next, Plugin, Reply, Request, Response, Upstream};

use crate::answer::{Answer, Answerer, Piece, Question, soa};
use crate::cache::Cache;
use crate::config::Config;
use crate::lookup::Lookup;

/// One `kubernetes` stanza.
pub struct Kubernetes {
    config: Arc<Config>,
    cache: Arc<Cache>,
    upstream: Upstream,
    /// The server's own addresses (§5.2 step 1): non-loopback interface addresses, or the
    /// block's bind addresses.
    own_addresses: Arc<[IpAddr]>,
    /// Label count of each zone, to cut the zone off the query name as spelled.
    zone_labels: Vec<usize>,
}

impl Kubernetes {
    pub fn new(
        config: Arc<Config>,
        cache: Arc<Cache>,
        upstream: Upstream,
        own_addresses: Arc<[IpAddr]>,
    ) -> Self {
        let zone_labels = config
            .zones
            .iter()
            .map(|z| z.split('.').filter(|l| !l.is_empty()).count())
            .collect();
        Kubernetes {
            config,
            cache,
            upstream,
            own_addresses,
            zone_labels,
        }
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    pub fn cache(&self) -> &Arc<Cache> {
        &self.cache
    }

    /// The longest of the plugin's zones containing `name_lower`, with its label count.
    fn matched_zone(&self, name_lower: &str) -> Option<(&str, usize)> {
        self.config
            .zones
            .iter()
            .zip(&self.zone_labels)
            .filter(|(z, _)| plugin::zones::is_subdomain(z, name_lower))
            .max_by_key(|(z, _)| z.len())
            .map(|(z, n)| (z.as_str(), *n))
    }

    /// The §4 ending for a name error: next plugin, SERVFAIL before the first sync, else
    /// NXDOMAIN; the last two with the zone's SOA.
    fn name_error<'a>(&'a self, req: &'a Request, next: Next<'a>, zone_name: &Name) -> Reply<'a> {
        if self.config.fallthrough.through(req.qname_lower()) {
            return next.serve(req);
        }
        let rcode = if self.cache.has_synced() {
            ResponseCode::NXDomain
        } else {
            ResponseCode::ServFail
        };
        Reply::answer(self.negative(req, zone_name, rcode))
    }

    /// NODATA / NXDOMAIN / SERVFAIL: empty answer, the zone's SOA in the authority section.
    fn negative(&self, req: &Request, zone_name: &Name, rcode: ResponseCode) -> Response {
        let mut response = Response::reply_to(req, crate::NAME)
            .authoritative()
            .with_rcode(rcode);
        response.authorities = [soa(zone_name, self.config.ttl, self.cache.clock.serial())].into();
        response
    }

    fn positive(
        &self,
        req: &Request,
        zone_name: &Name,
        answers: Vec<Record>,
        additionals: Vec<Record>,
        truncated: bool,
    ) -> Response {
        if answers.is_empty() {
            return self.negative(req, zone_name, ResponseCode::NoError);
        }
        let mut response = Response::reply_to(req, crate::NAME).authoritative();
        response.flags.truncated = truncated;
        response.answers = answers.into();
        if !additionals.is_empty() {
            response.additionals = additionals.into();
        }
        response
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

/// True when the last `labels` labels of `name` hold no upper-case letter.
fn spelled_lower(name: &Name, labels: usize) -> bool {
    let count = name.num_labels() as usize;
    name.iter()
        .skip(count.saturating_sub(labels))
        .all(|label| !label.iter().any(u8::is_ascii_uppercase))
}

impl Plugin for Kubernetes {
    fn name(&self) -> &'static str {
        crate::NAME
    }

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        let name_lower = req.qname_lower();
        let Some((zone, labels)) = self.matched_zone(name_lower) else {
            return next.serve(req);
        };
        let qtype = req.qtype();
        if matches!(qtype, RecordType::AXFR | RecordType::IXFR) {
            // Zone transfers are the transfer plugin's (§13); the core writes REFUSED.
            return Reply::fail(Failure::rcode(ResponseCode::Refused));
        }
        let owner = req.qname();
        let zone_name = owner.trim_to(labels);
        let question = Question {
            name_lower,
            owner: &owner,
            zone,
            zone_spelled_lower: spelled_lower(&owner, labels),
            zone_name,
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
        let zone_name = question.zone_name;
        match answer {
            Answer::NameError => self.name_error(req, next, &zone_name),
            Answer::NoData => Reply::answer(self.negative(req, &zone_name, ResponseCode::NoError)),
            Answer::Records {
                answers,
                additionals,
            } => Reply::answer(self.positive(req, &zone_name, answers, additionals, false)),
            Answer::Pending(pieces) => Reply::pending(async move {
                let mut truncated = false;
                let answers = self.resolve(req, qtype, pieces, &mut truncated).await;
                Ok(self.positive(req, &zone_name, answers, Vec::new(), truncated))
            }),
        }
    }

    fn ready(&self) -> bool {
        self.cache.has_synced()
    }
}
