//! The `k8s_external` plugin in the chain (kubernetes.md §14; CoreDNS
//! `plugin/k8s_external/external.go`): matches its zones, answers from the kubernetes
//! plugin's cache through [`ClusterView`], and hands name errors on when `fallthrough` covers
//! them. Unlike `kubernetes` it never answers SERVFAIL before the caches synced.

use clusterdns_kubernetes::ClusterView;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Record, RecordType};
use plugin::extensions::Slot;
use plugin::{Next, Plugin, Reply, Request, Response, Upstream};

use crate::apex::{self, SubApex};
use crate::candidates::{self, Found};
use crate::config::Config;
use crate::records::{self, Piece, Plan, Ttls};
use crate::zone::Zone;

pub struct External {
    config: Config,
    /// `config.zones` with their names built.
    zones: Vec<Zone>,
    /// Filled by the block's `kubernetes` setup, which runs after this one (registry order);
    /// read per query.
    view: Slot<ClusterView>,
    upstream: Upstream,
}

impl External {
    pub fn new(
        config: Config,
        zones: Vec<Zone>,
        view: Slot<ClusterView>,
        upstream: Upstream,
    ) -> Self {
        External {
            config,
            zones,
            view,
            upstream,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The longest zone containing `name_lower` (CoreDNS `plugin.Zones.Matches`).
    fn matched_zone(&self, name_lower: &str) -> Option<&Zone> {
        self.zones
            .iter()
            .filter(|z| plugin::zones::is_subdomain(&z.text, name_lower))
            .max_by_key(|z| z.text.len())
    }

    fn soa(&self, zone: &Zone, view: &ClusterView) -> Record {
        apex::soa(zone, self.config.ttl, view.external_serial())
    }

    /// NODATA or NXDOMAIN: empty answer, the zone's SOA in the authority section.
    fn negative(
        &self,
        req: &Request,
        zone: &Zone,
        view: &ClusterView,
        rcode: ResponseCode,
    ) -> Response {
        let mut response = Response::reply_to(req, crate::NAME)
            .authoritative()
            .with_rcode(rcode);
        response.authorities = [self.soa(zone, view)].into();
        response
    }

    /// Records, or NODATA when there are none of the asked type.
    fn positive(
        &self,
        req: &Request,
        zone: &Zone,
        view: &ClusterView,
        answers: Vec<Record>,
        additionals: Vec<Record>,
        truncated: bool,
    ) -> Response {
        if answers.is_empty() {
            return self.negative(req, zone, view, ResponseCode::NoError);
        }
        Response::reply_to(req, crate::NAME)
            .authoritative()
            .truncated(truncated)
            .with_records(answers, additionals)
    }

    /// A name error of the service names: the next plugin when `fallthrough` covers the
    /// name, else NXDOMAIN (never SERVFAIL, synced or not).
    fn name_error<'a>(
        &'a self,
        req: &'a Request,
        next: Next<'a>,
        zone: &Zone,
        view: &ClusterView,
    ) -> Reply<'a> {
        if self.config.fallthrough.through(req.qname_lower()) {
            return next.serve(req);
        }
        Reply::answer(self.negative(req, zone, view, ResponseCode::NXDomain))
    }

    /// SOA, NS (with glue) at the apex; NODATA for every other type.
    fn apex(&self, req: &Request, zone: &Zone, view: &ClusterView) -> Response {
        match req.qtype() {
            RecordType::SOA => {
                let soa = self.soa(zone, view);
                self.positive(req, zone, view, vec![soa], Vec::new(), false)
            }
            RecordType::NS => {
                let addresses = apex::name_server_addresses(view, self.config.headless);
                let glue = apex::glue(&zone.glue_owner(&req.qname()), &addresses, self.config.ttl);
                let ns = apex::ns(zone, self.config.ttl);
                self.positive(req, zone, view, vec![ns], glue, false)
            }
            _ => self.negative(req, zone, view, ResponseCode::NoError),
        }
    }

    /// Names under `<apex>.<z>`. Their NXDOMAIN does not fall through (CoreDNS).
    fn sub_apex(&self, req: &Request, zone: &Zone, view: &ClusterView) -> Response {
        match apex::sub_apex(&zone.labels_before(req.qname_lower())) {
            SubApex::NoData => self.negative(req, zone, view, ResponseCode::NoError),
            SubApex::NameError => self.negative(req, zone, view, ResponseCode::NXDomain),
            SubApex::NameServer => {
                let addresses = apex::name_server_addresses(view, self.config.headless);
                let answers = apex::name_server_records(
                    &req.qname(),
                    req.qtype(),
                    &addresses,
                    self.config.ttl,
                );
                self.positive(req, zone, view, answers, Vec::new(), false)
            }
        }
    }

    /// Resolves a section's pieces: CNAMEs are followed by the answer section of a
    /// self-lookup of their target for `qtype` (TC copied into `truncated`), lookups add their
    /// answer section. A lookup that produced no message adds nothing; the CNAME stays.
    async fn resolve(
        &self,
        req: &Request,
        qtype: RecordType,
        pieces: Vec<Piece>,
        truncated: &mut bool,
    ) -> Vec<Record> {
        let mut out = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Record(record) => out.push(record),
                Piece::Cname { cname, target } => {
                    out.push(cname);
                    if let Some(response) = self.upstream.lookup(req, target, qtype).await {
                        *truncated |= response.flags.truncated;
                        out.extend(response.answers.iter().cloned());
                    }
                }
                Piece::Lookup { target, qtype } => {
                    if let Some(response) = self.upstream.lookup(req, target, qtype).await {
                        out.extend(response.answers.iter().cloned());
                    }
                }
            }
        }
        out
    }
}

/// The records of ready pieces (only called when every piece is a record).
fn ready(pieces: Vec<Piece>) -> Vec<Record> {
    pieces
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Record(record) => Some(record),
            _ => None,
        })
        .collect()
}

impl Plugin for External {
    fn name(&self) -> &'static str {
        crate::NAME
    }

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        let name_lower = req.qname_lower();
        let Some(zone) = self.matched_zone(name_lower) else {
            return next.serve(req);
        };
        // Set once the block is assembled (setup fails without kubernetes); a plugin built
        // by hand without one has nothing to answer from.
        let Some(view) = self.view.get() else {
            return next.serve(req);
        };
        if name_lower == zone.text {
            return Reply::answer(self.apex(req, zone, view));
        }
        if plugin::zones::is_subdomain(&zone.apex_text, name_lower) {
            return Reply::answer(self.sub_apex(req, zone, view));
        }
        let qtype = req.qtype();
        let owner = req.qname();
        if qtype == RecordType::PTR
            && let Some(address) = clusterdns_kubernetes::reverse::address(name_lower)
        {
            let services = view.services_by_external_address(address);
            let Some(first_zone) = self.zones.first() else {
                return next.serve(req);
            };
            let answers = records::ptr(&owner, first_zone, &services, self.config.ttl);
            if answers.is_empty() {
                return self.name_error(req, next, zone, view);
            }
            return Reply::answer(self.positive(req, zone, view, answers, Vec::new(), false));
        }
        let labels = zone.labels_before(name_lower);
        let (service, candidates) = match candidates::find(view, &labels, self.config.headless) {
            Found::NameError => return self.name_error(req, next, zone, view),
            Found::Exists => {
                return Reply::answer(self.negative(req, zone, view, ResponseCode::NoError));
            }
            Found::Candidates(service, candidates) => (service, candidates),
        };
        let ttls = Ttls {
            external: self.config.ttl,
            cluster: view.ttl(),
        };
        let plan = match qtype {
            RecordType::A | RecordType::AAAA => Plan {
                answers: records::addresses(&owner, qtype, &candidates, ttls),
                additionals: Vec::new(),
            },
            RecordType::SRV => records::srv(&owner, zone, &service, &candidates, ttls),
            // Every other type on an existing name, PTR on a forward name included.
            _ => return Reply::answer(self.negative(req, zone, view, ResponseCode::NoError)),
        };
        if plan.is_ready() {
            let (answers, additionals) = (ready(plan.answers), ready(plan.additionals));
            return Reply::answer(self.positive(req, zone, view, answers, additionals, false));
        }
        Reply::pending(async move {
            let mut truncated = false;
            let answers = self.resolve(req, qtype, plan.answers, &mut truncated).await;
            // TC of the SRV target lookups is not copied (CoreDNS).
            let additionals = self.resolve(req, qtype, plan.additionals, &mut false).await;
            Ok(self.positive(req, zone, view, answers, additionals, truncated))
        })
    }
}
