//! Answer assembly per query type (kubernetes.md §3, §5, §6): from the candidate set to
//! records. Synchronous over one snapshot of the cache; only ExternalName targets outside
//! the zone are left as [`Piece::Upstream`] for the handler to resolve through the server.

use std::net::IpAddr;

use hickory_proto::rr::rdata::{A, AAAA, CNAME, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::lookup::{Candidate, Lookup, NameError, NamedService, OwnName, Owner, Target};
use crate::{qname, reverse};

/// The schema version record (S1) and its fixed TTL (§3.6).
pub const SCHEMA_VERSION: &str = "1.1.0";
pub const SCHEMA_VERSION_TTL: u32 = 28800;
/// Longest CNAME chain followed through ExternalName Services (§3.5).
const MAX_CNAME_CHAIN: usize = 10;

/// The question being answered, with the matched zone.
pub struct Question<'a> {
    /// The query name lower-cased (what the grammar reads).
    pub name_lower: &'a str,
    /// The query name as the client spelled it (answer owners).
    pub owner: &'a Name,
    /// The matched zone, lower-case FQDN.
    pub zone: &'a str,
    /// The matched zone as the client spelled it (built names, SOA).
    pub zone_name: &'a Name,
    /// CoreDNS compares the lower-cased query name with the zone as spelled for the apex NS
    /// and `ns.dns` checks: they only match when the client wrote the zone in lower case
    /// (or it has no letters).
    pub zone_spelled_lower: bool,
    pub qtype: RecordType,
}

/// A part of an A/AAAA answer.
#[derive(Debug)]
pub enum Piece {
    Record(Record),
    /// A CNAME to an in-zone target followed by that target's records; dropped with the
    /// CNAME when the target yields nothing (§3.5 step 2, Q8).
    Chain {
        cname: Record,
        rest: Vec<Piece>,
    },
    /// A CNAME to a target outside the zone: looked up through the server (§3.5 step 3).
    Upstream {
        cname: Record,
        target: Name,
    },
}

/// What the plugin answers, before the §4 rules for name errors are applied.
#[derive(Debug)]
pub enum Answer {
    Records {
        answers: Vec<Record>,
        additionals: Vec<Record>,
    },
    NoData,
    NameError,
    /// A/AAAA pieces, some needing a lookup through the server.
    Pending(Vec<Piece>),
}

impl From<Result<Vec<Record>, NameError>> for Answer {
    fn from(result: Result<Vec<Record>, NameError>) -> Self {
        match result {
            Ok(answers) if answers.is_empty() => Answer::NoData,
            Ok(answers) => Answer::Records {
                answers,
                additionals: Vec::new(),
            },
            Err(NameError) => Answer::NameError,
        }
    }
}

pub fn record(name: Name, ttl: u32, data: RData) -> Record {
    Record::from_rdata(name, ttl, data)
}

fn address_record(name: Name, ttl: u32, ip: IpAddr) -> Record {
    match ip {
        IpAddr::V4(v4) => record(name, ttl, RData::A(A(v4))),
        IpAddr::V6(v6) => record(name, ttl, RData::AAAA(AAAA(v6))),
    }
}

/// The family a qtype asks for.
fn family_matches(qtype: RecordType, ip: &IpAddr) -> bool {
    match qtype {
        RecordType::A => ip.is_ipv4(),
        RecordType::AAAA => ip.is_ipv6(),
        _ => false,
    }
}

/// What an SRV answer takes from a candidate: its port as an SRV port (not the sentinel,
/// §3.4) and its address; None for candidates SRV skips.
fn srv_port_and_address(candidate: &Candidate<'_>) -> Option<(u16, IpAddr)> {
    let port = u16::try_from(candidate.port).ok()?;
    match candidate.target {
        Target::Address(ip) => Some((port, ip)),
        Target::Cname(_) => None,
    }
}

/// The SOA of a zone (§5.1): owner and names in the client's spelling.
pub fn soa(zone_name: &Name, ttl: u32, serial: u32) -> Record {
    let prefixed =
        |label: &str| crate::lookup::join(&[label], zone_name).unwrap_or_else(|| zone_name.clone());
    let mname = crate::lookup::join(&["ns", "dns"], zone_name).unwrap_or_else(|| zone_name.clone());
    record(
        zone_name.clone(),
        ttl.min(300),
        RData::SOA(SOA::new(
            mname,
            prefixed("hostmaster"),
            serial,
            7200,
            1800,
            86400,
            ttl,
        )),
    )
}

/// Answers one question from one snapshot.
pub struct Answerer<'a> {
    pub lookup: Lookup<'a>,
    pub ttl: u32,
    pub own_addresses: &'a [IpAddr],
    pub serial: u32,
}

impl<'a> Answerer<'a> {
    /// Every qtype except AXFR/IXFR (refused by the handler).
    pub fn answer(&self, q: &Question<'a>) -> Answer {
        match q.qtype {
            RecordType::A | RecordType::AAAA => {
                if let Some(answer) = self.plain_addresses(q) {
                    return answer;
                }
                match self.addresses(q.name_lower, q.owner, q, &mut Vec::new()) {
                    Err(NameError) => Answer::NameError,
                    Ok(pieces) if pieces.iter().any(|p| !p.is_ready()) => Answer::Pending(pieces),
                    Ok(pieces) => Answer::from(Ok(flatten_ready(pieces))),
                }
            }
            RecordType::TXT => self.txt(q),
            RecordType::CNAME => self.cname(q),
            RecordType::PTR => self.ptr(q),
            RecordType::SRV => self.srv(q),
            RecordType::SOA if q.name_lower == q.zone => Answer::Records {
                answers: vec![soa(q.zone_name, self.ttl, self.serial)],
                additionals: Vec::new(),
            },
            // Q3: SOA below the apex is NODATA, existing name or not.
            RecordType::SOA => Answer::NoData,
            RecordType::NS if q.name_lower == q.zone && q.zone_spelled_lower => self.ns(q),
            // MX, NS below the apex and everything else: NODATA or NXDOMAIN by whether an
            // A lookup of the name is a name error (§3.3).
            _ => match self.services(q.name_lower, q, RecordType::A) {
                Ok(_) => Answer::NoData,
                Err(NameError) => Answer::NameError,
            },
        }
    }

    /// The hot path of A/AAAA: a name whose candidates are all addresses (no ExternalName,
    /// not `ns.dns`) becomes its records directly, without the CNAME machinery. None when
    /// the general path is needed.
    fn plain_addresses(&self, q: &Question<'a>) -> Option<Answer> {
        if self.is_default_ns(q.name_lower, q) {
            return None;
        }
        let candidates = match self.lookup.records(q.name_lower, q.zone) {
            Ok(candidates) => candidates,
            Err(NameError) => return Some(Answer::NameError),
        };
        let mut answers = Vec::with_capacity(candidates.len());
        let mut seen = Seen::default();
        for candidate in &candidates {
            let Target::Address(ip) = candidate.target else {
                return None;
            };
            if family_matches(q.qtype, &ip) && seen.first(ip) {
                answers.push(address_record(q.owner.clone(), self.ttl, ip));
            }
        }
        Some(Answer::from(Ok(answers)))
    }

    /// `ns.dns.<z>` as CoreDNS's `isDefaultNS` recognises it (see [`Question`]).
    fn is_default_ns(&self, name_lower: &str, q: &Question<'_>) -> bool {
        name_lower.starts_with("ns.dns.")
            && q.zone_spelled_lower
            && name_lower.find(q.zone) == Some("ns.dns.".len())
    }

    /// CoreDNS `Services` for the non-TXT types: the `ns.dns` addresses, else the candidates
    /// (without ExternalName ones for SRV, Q11).
    fn services(
        &self,
        name_lower: &'a str,
        q: &Question<'a>,
        qtype: RecordType,
    ) -> Result<Vec<Candidate<'a>>, NameError> {
        if self.is_default_ns(name_lower, q) {
            // Only the addresses matter here; the owner is the query name.
            return Ok(Vec::new());
        }
        let mut candidates = self.lookup.records(name_lower, q.zone)?;
        if qtype == RecordType::SRV {
            candidates.retain(|c| matches!(c.target, Target::Address(_)));
        }
        Ok(candidates)
    }

    /// A/AAAA (§3.3, §3.5) for `name_lower`, answered with owner `owner`. `chain` holds the
    /// CNAME targets followed so far.
    fn addresses(
        &self,
        name_lower: &'a str,
        owner: &Name,
        q: &Question<'a>,
        chain: &mut Vec<String>,
    ) -> Result<Vec<Piece>, NameError> {
        if self.is_default_ns(name_lower, q) {
            let mut seen: Vec<IpAddr> = Vec::new();
            let mut out = Vec::new();
            for (_, ip) in self.lookup.own_names(self.own_addresses) {
                if family_matches(q.qtype, &ip) && !seen.contains(&ip) {
                    seen.push(ip);
                    out.push(Piece::Record(address_record(owner.clone(), self.ttl, ip)));
                }
            }
            return Ok(out);
        }
        let candidates = self.lookup.records(name_lower, q.zone)?;
        let mut out = Vec::with_capacity(candidates.len());
        let mut seen = Seen::default();
        for candidate in &candidates {
            match candidate.target {
                Target::Address(ip) => {
                    if family_matches(q.qtype, &ip) && seen.first(ip) {
                        out.push(Piece::Record(address_record(owner.clone(), self.ttl, ip)));
                    }
                }
                Target::Cname(target) => {
                    if let Some(piece) = self.follow(name_lower, owner, target, q, chain) {
                        out.push(piece);
                    }
                }
            }
        }
        Ok(out)
    }

    /// One ExternalName step (§3.5): loops, long chains and repeated targets are dropped.
    fn follow(
        &self,
        name_lower: &str,
        owner: &Name,
        target: &Name,
        q: &Question<'a>,
        chain: &mut Vec<String>,
    ) -> Option<Piece> {
        let mut target_lower = target.to_string();
        target_lower.make_ascii_lowercase();
        // CoreDNS drops a target equal to or below the query name (`Name.Matches`).
        if plugin::zones::is_subdomain(name_lower, &target_lower) {
            return None;
        }
        if chain.len() > MAX_CNAME_CHAIN || chain.contains(&target_lower) {
            return None;
        }
        let cname = record(owner.clone(), self.ttl, RData::CNAME(CNAME(target.clone())));
        if !plugin::zones::is_subdomain(q.zone, &target_lower) {
            return Some(Piece::Upstream {
                cname,
                target: target.clone(),
            });
        }
        chain.push(target_lower.clone());
        // The in-zone target is answered by this plugin, over the same snapshot.
        let rest = {
            let inner = Answerer {
                lookup: Lookup {
                    config: self.lookup.config,
                    index: self.lookup.index,
                },
                ttl: self.ttl,
                own_addresses: self.own_addresses,
                serial: self.serial,
            };
            let question = Question {
                name_lower: &target_lower,
                owner: target,
                zone: q.zone,
                zone_name: q.zone_name,
                zone_spelled_lower: q.zone_spelled_lower,
                qtype: q.qtype,
            };
            inner.addresses(&target_lower, target, &question, chain)
        };
        chain.pop();
        match rest {
            Ok(rest) => Some(Piece::Chain { cname, rest }),
            Err(NameError) => None,
        }
    }

    /// TXT (§3.3, Q1, Q2): only `dns-version`; other existing names NODATA.
    fn txt(&self, q: &Question<'a>) -> Answer {
        if qname::base(q.name_lower, q.zone) == "dns-version" {
            let txt = TXT::new(vec![SCHEMA_VERSION.to_string()]);
            return Answer::Records {
                answers: vec![record(q.owner.clone(), SCHEMA_VERSION_TTL, RData::TXT(txt))],
                additionals: Vec::new(),
            };
        }
        match self.lookup.records(q.name_lower, q.zone) {
            Ok(candidates) if !candidates.is_empty() => Answer::NoData,
            _ => Answer::NameError,
        }
    }

    /// CNAME (§3.3): the ExternalName's CNAME alone, never chased.
    fn cname(&self, q: &Question<'a>) -> Answer {
        let candidates = match self.services(q.name_lower, q, RecordType::CNAME) {
            Ok(c) => c,
            Err(NameError) => return Answer::NameError,
        };
        match candidates.first().map(|c| c.target) {
            Some(Target::Cname(target)) => Answer::from(Ok(vec![record(
                q.owner.clone(),
                self.ttl,
                RData::CNAME(CNAME(target.clone())),
            )])),
            _ => Answer::NoData,
        }
    }

    /// SRV (§3.4).
    fn srv(&self, q: &Question<'a>) -> Answer {
        let candidates = match self.services(q.name_lower, q, RecordType::SRV) {
            Ok(c) => c,
            Err(NameError) => return Answer::NameError,
        };
        // Q7: the weight comes from the count before de-duplication, sentinels included.
        let weight = u16::try_from((100 / candidates.len().max(1)).max(1)).unwrap_or(1);
        let mut answers = Vec::with_capacity(candidates.len());
        let mut additionals = Vec::with_capacity(candidates.len());
        for (i, candidate) in candidates.iter().enumerate() {
            let Some((port, ip)) = srv_port_and_address(candidate) else {
                continue;
            };
            // De-duplication on (target, port) and on (target, address) against the
            // candidates before this one: each of those with an SRV port answered its pair
            // (or had no valid target name, which this one then lacks too). Scanning them
            // needs no lists of pairs seen.
            let earlier = &candidates[..i];
            let same_target = |c: &&Candidate<'_>| c.owner.same(&candidate.owner);
            let new_record = !earlier
                .iter()
                .filter(same_target)
                .any(|c| srv_port_and_address(c).is_some_and(|(p, _)| p == port));
            let new_address = !earlier
                .iter()
                .filter(same_target)
                .any(|c| srv_port_and_address(c).is_some_and(|(_, a)| a == ip));
            if !new_record && !new_address {
                continue;
            }
            let Some(target) = candidate.owner.name(q.zone_name) else {
                continue;
            };
            if new_record {
                answers.push(record(
                    q.owner.clone(),
                    self.ttl,
                    RData::SRV(SRV::new(0, weight, port, target.clone())),
                ));
            }
            if new_address {
                additionals.push(address_record(target, self.ttl, ip));
            }
        }
        if answers.is_empty() {
            return Answer::NoData;
        }
        Answer::Records {
            answers,
            additionals,
        }
    }

    /// PTR (§6): reverse names by address; forward names NODATA or NXDOMAIN by existence.
    fn ptr(&self, q: &Question<'a>) -> Answer {
        let Some(ip) = reverse::address(q.name_lower) else {
            return match self.lookup.records(q.name_lower, q.zone) {
                Ok(_) => Answer::NoData,
                Err(NameError) => Answer::NameError,
            };
        };
        let primary = self.lookup.config.primary_zone();
        let Ok(mut primary) = Name::from_ascii(primary) else {
            return Answer::NameError;
        };
        primary.set_fqdn(true);
        let targets = self.ptr_targets(ip, &primary);
        if targets.is_empty() {
            return Answer::NameError;
        }
        Answer::Records {
            answers: targets
                .into_iter()
                .map(|t| record(q.owner.clone(), self.ttl, RData::PTR(PTR(t))))
                .collect(),
            additionals: Vec::new(),
        }
    }

    /// The PTR targets of an address under the primary zone (§6 steps 1–2, Q9, Q12).
    pub fn ptr_targets(&self, ip: IpAddr, primary: &Name) -> Vec<Name> {
        let Some(claims) = self.lookup.index.claims(&ip) else {
            return Vec::new();
        };
        // Q12: the first Service with that cluster IP, and only it.
        if let Some(service) = claims
            .services
            .iter()
            .find(|s| self.lookup.namespace_listed(&s.namespace))
        {
            return Owner::Service(NamedService::unnamed(service))
                .name(primary)
                .into_iter()
                .collect();
        }
        let mut targets: Vec<Name> = Vec::new();
        for slice in &claims.slices {
            if !self.lookup.namespace_listed(&slice.namespace) {
                continue;
            }
            let Some(service) = slice.service.as_deref() else {
                continue;
            };
            for endpoint in slice.endpoints.iter().filter(|e| e.address == ip) {
                let labels = [&*endpoint.name, service, &slice.namespace, "svc"];
                if let Some(target) = crate::lookup::join(&labels, primary)
                    && !targets.contains(&target)
                {
                    targets.push(target);
                }
            }
        }
        targets
    }

    /// NS at the apex (§5.2, Q10).
    fn ns(&self, q: &Question<'a>) -> Answer {
        let mut names: Vec<OwnName<'_>> = Vec::new();
        let mut glue_seen: Vec<(OwnName<'_>, IpAddr)> = Vec::new();
        let mut answers = Vec::new();
        let mut additionals = Vec::new();
        for (own, ip) in self.lookup.own_names(self.own_addresses) {
            let Some(name) = own.name(q.zone_name) else {
                continue;
            };
            if !glue_seen.iter().any(|(o, a)| *a == ip && o.same(&own)) {
                glue_seen.push((own, ip));
                additionals.push(address_record(name.clone(), self.ttl, ip));
            }
            if !names.iter().any(|n| n.same(&own)) {
                names.push(own);
                answers.push(record(q.owner.clone(), self.ttl, RData::NS(NS(name))));
            }
        }
        if answers.is_empty() {
            return Answer::NoData;
        }
        Answer::Records {
            answers,
            additionals,
        }
    }
}

impl Piece {
    fn is_ready(&self) -> bool {
        match self {
            Piece::Record(_) => true,
            Piece::Chain { rest, .. } => rest.iter().all(Piece::is_ready),
            Piece::Upstream { .. } => false,
        }
    }
}

/// Pieces without upstream lookups as records: a chain keeps its CNAME only when its target
/// produced something.
pub fn flatten_ready(pieces: Vec<Piece>) -> Vec<Record> {
    let mut out = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match piece {
            Piece::Record(r) => out.push(r),
            Piece::Chain { cname, rest } => {
                let rest = flatten_ready(rest);
                if !rest.is_empty() {
                    out.push(cname);
                    out.extend(rest);
                }
            }
            Piece::Upstream { .. } => {}
        }
    }
    out
}

/// Addresses already answered (A/AAAA de-duplication): the first few in a list on the stack,
/// scanned linearly, which beats hashing (and allocating) for the few addresses a Service
/// has; a set once a large headless Service makes the list long.
#[derive(Default)]
struct Seen {
    addresses: [Option<IpAddr>; SEEN_LINEAR],
    count: usize,
    many: Option<std::collections::HashSet<IpAddr, foldhash::fast::RandomState>>,
}

const SEEN_LINEAR: usize = 16;

impl Seen {
    /// True the first time `ip` is seen.
    fn first(&mut self, ip: IpAddr) -> bool {
        if let Some(set) = &mut self.many {
            return set.insert(ip);
        }
        if self.addresses[..self.count].contains(&Some(ip)) {
            return false;
        }
        if self.count == SEEN_LINEAR {
            let mut set: std::collections::HashSet<IpAddr, foldhash::fast::RandomState> =
                self.addresses.iter().flatten().copied().collect();
            set.insert(ip);
            self.many = Some(set);
        } else {
            self.addresses[self.count] = Some(ip);
            self.count += 1;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_dedups_short_and_long_lists() {
        let mut seen = Seen::default();
        for round in 0..2 {
            for i in 0..40u8 {
                let ip = IpAddr::from([10, 0, 0, i]);
                assert_eq!(seen.first(ip), round == 0, "{ip} round {round}");
            }
        }
    }

    #[test]
    fn soa_fields() {
        let zone = Name::from_ascii("ClUsTeR.lOcAl.").unwrap();
        let record = soa(&zone, 3600, 42);
        assert_eq!(record.ttl, 300);
        assert_eq!(
            record.data.to_string(),
            "ns.dns.ClUsTeR.lOcAl. hostmaster.ClUsTeR.lOcAl. 42 7200 1800 86400 3600"
        );
        let root = soa(&Name::root(), 5, 0);
        assert_eq!(
            root.data.to_string(),
            "ns.dns. hostmaster. 0 7200 1800 86400 5"
        );
    }
}
