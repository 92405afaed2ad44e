//! From candidates to records per query type (kubernetes.md §14; CoreDNS
//! `plugin/k8s_external/msg_to_dns.go`). Records that need a self-lookup (LoadBalancer
//! hostnames) are left as [`Piece`]s for the plugin to resolve through the server.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

use clusterdns_kubernetes::objects::Service;
use hickory_proto::rr::rdata::{A, AAAA, CNAME, PTR, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::candidates::{Candidate, Host};
use crate::zone::Zone;

/// The two TTLs k8s_external mixes (Q13): its own for addresses, PTR, SOA, NS and glue, the
/// kubernetes plugin's for SRV records and CNAMEs.
#[derive(Clone, Copy, Debug)]
pub struct Ttls {
    pub external: u32,
    pub cluster: u32,
}

/// A part of a section.
#[derive(Debug)]
pub enum Piece {
    Record(Record),
    /// A CNAME to a LoadBalancer hostname, followed by the answer section of a self-lookup of
    /// the hostname for the query type. The CNAME stays when the lookup fails (§14).
    Cname {
        cname: Record,
        target: Name,
    },
    /// The answer section of a self-lookup (SRV additional records for a hostname target).
    Lookup {
        target: Name,
        qtype: RecordType,
    },
}

impl Piece {
    pub fn is_ready(&self) -> bool {
        matches!(self, Piece::Record(_))
    }
}

/// Sections before self-lookups.
#[derive(Debug, Default)]
pub struct Plan {
    pub answers: Vec<Piece>,
    pub additionals: Vec<Piece>,
}

impl Plan {
    pub fn is_ready(&self) -> bool {
        self.answers
            .iter()
            .chain(&self.additionals)
            .all(Piece::is_ready)
    }
}

pub fn address_record(owner: Name, ttl: u32, ip: IpAddr) -> Record {
    match ip {
        IpAddr::V4(v4) => Record::from_rdata(owner, ttl, RData::A(A(v4))),
        IpAddr::V6(v6) => Record::from_rdata(owner, ttl, RData::AAAA(AAAA(v6))),
    }
}

pub fn family_matches(qtype: RecordType, ip: &IpAddr) -> bool {
    match qtype {
        RecordType::A => ip.is_ipv4(),
        RecordType::AAAA => ip.is_ipv6(),
        _ => false,
    }
}

/// A LoadBalancer hostname as an absolute name; None when it is not a valid name.
fn hostname(text: &str) -> Option<Name> {
    let mut name = Name::from_ascii(text).ok()?;
    name.set_fqdn(true);
    Some(name)
}

/// A or AAAA (`qtype`): one record per distinct address of that family; a hostname gives a
/// CNAME (kubernetes TTL) and its self-lookup.
///
/// CoreDNS writes one CNAME per (hostname, port) candidate, so a two-port Service repeats the
/// CNAME and the looked-up records; we write each hostname once (README, Compatibility).
pub fn addresses(
    owner: &Name,
    qtype: RecordType,
    candidates: &[Candidate],
    ttls: Ttls,
) -> Vec<Piece> {
    let mut seen_addresses = HashSet::new();
    let mut seen_hostnames = HashSet::new();
    let mut out = Vec::new();
    for candidate in candidates {
        match &candidate.host {
            Host::Address(ip) => {
                if family_matches(qtype, ip) && seen_addresses.insert(*ip) {
                    out.push(Piece::Record(address_record(
                        owner.clone(),
                        ttls.external,
                        *ip,
                    )));
                }
            }
            Host::Hostname(text) => {
                let Some(target) = hostname(text) else {
                    continue;
                };
                if seen_hostnames.insert(target.clone()) {
                    let cname = Record::from_rdata(
                        owner.clone(),
                        ttls.cluster,
                        RData::CNAME(CNAME(target.clone())),
                    );
                    out.push(Piece::Cname { cname, target });
                }
            }
        }
    }
    out
}

/// SRV weight (kubernetes.md §3.4, CoreDNS's float arithmetic): every candidate, those
/// without a port included, weighs 100 at priority 0, so each record gets
/// `floor(100 / (100·N) · 100)`, at least 1.
fn weight(candidates: usize) -> u16 {
    let total = candidates as f64 * 100.0;
    let weight = (100.0 / total * 100.0).floor();
    if weight >= 1.0 { weight as u16 } else { 1 }
}

/// SRV: priority 0, the weight above, the candidate's port; target `[<ep>.]<svc>.<ns>.<zone>` with the
/// address in the additional section (k8s_external TTL), or the hostname with its A and AAAA
/// self-lookups. Records de-duplicated on (target, port), additional on (target, address).
pub fn srv(
    owner: &Name,
    zone: &Zone,
    service: &Service,
    candidates: &[Candidate],
    ttls: Ttls,
) -> Plan {
    let weight = weight(candidates.len());
    let mut seen_srv: HashSet<(Name, u16)> = HashSet::new();
    let mut seen_extra: HashSet<(Name, Host)> = HashSet::new();
    let mut plan = Plan::default();
    for candidate in candidates {
        // The sentinel port of an object without ports has no SRV record (§3.4).
        let Ok(port) = u16::try_from(candidate.port) else {
            continue;
        };
        let target = match &candidate.host {
            Host::Hostname(text) => hostname(text),
            Host::Address(_) => match &candidate.endpoint {
                Some(endpoint) => zone.join(&[endpoint, &service.name, &service.namespace]),
                None => zone.join(&[&service.name, &service.namespace]),
            },
        };
        let Some(target) = target else {
            continue;
        };
        if seen_srv.insert((target.clone(), port)) {
            plan.answers.push(Piece::Record(Record::from_rdata(
                owner.clone(),
                ttls.cluster,
                RData::SRV(SRV::new(0, weight, port, target.clone())),
            )));
        }
        if !seen_extra.insert((target.clone(), candidate.host.clone())) {
            continue;
        }
        match &candidate.host {
            Host::Address(ip) => {
                plan.additionals
                    .push(Piece::Record(address_record(target, ttls.external, *ip)))
            }
            Host::Hostname(_) => {
                for qtype in [RecordType::A, RecordType::AAAA] {
                    plan.additionals.push(Piece::Lookup {
                        target: target.clone(),
                        qtype,
                    });
                }
            }
        }
    }
    plan
}

/// PTR for an external address: `<svc>.<ns>.<first zone>` per Service having it, once each.
pub fn ptr(owner: &Name, first_zone: &Zone, services: &[Arc<Service>], ttl: u32) -> Vec<Record> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for service in services {
        let Some(target) = first_zone.join(&[&service.name, &service.namespace]) else {
            continue;
        };
        if seen.insert(target.clone()) {
            out.push(Record::from_rdata(
                owner.clone(),
                ttl,
                RData::PTR(PTR(target)),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_follow_the_candidate_count() {
        let cases = [
            (1, 100),
            (2, 50),
            (3, 33),
            (6, 16),
            (7, 14),
            (100, 1),
            (1000, 1),
        ];
        for (n, want) in cases {
            assert_eq!(weight(n), want, "{n}");
        }
    }

    fn service() -> Service {
        Service {
            name: "svc".into(),
            namespace: "ns".into(),
            resource_version: "1".into(),
            kind: clusterdns_kubernetes::objects::ServiceKind::ClusterIp,
            cluster_ips: Box::default(),
            ports: Box::default(),
            external: Box::default(),
        }
    }

    fn candidate(host: Host, port: i32) -> Candidate {
        Candidate {
            host,
            port,
            endpoint: None,
        }
    }

    #[test]
    fn srv_skips_the_sentinel_and_deduplicates() {
        let zone = Zone::new("example.com.", "dns").unwrap();
        let owner = Name::from_ascii("svc.ns.example.com.").unwrap();
        let ip = Host::Address("1.2.3.4".parse().unwrap());
        let candidates = [
            candidate(ip.clone(), 80),
            candidate(ip.clone(), 80),
            candidate(ip, -1),
        ];
        let ttls = Ttls {
            external: 7,
            cluster: 30,
        };
        let plan = srv(&owner, &zone, &service(), &candidates, ttls);
        let rendered: Vec<String> = plan
            .answers
            .iter()
            .chain(&plan.additionals)
            .map(|p| match p {
                Piece::Record(r) => format!("{} {} {}", r.name, r.ttl, r.data),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            rendered,
            [
                "svc.ns.example.com. 30 0 33 80 svc.ns.example.com.",
                "svc.ns.example.com. 7 1.2.3.4",
            ]
        );
    }

    #[test]
    fn a_hostname_gives_one_cname_and_lookups() {
        let owner = Name::from_ascii("svc.ns.example.com.").unwrap();
        let host = Host::Hostname("lb.cloud.test".into());
        let candidates = [candidate(host.clone(), 80), candidate(host, 443)];
        let ttls = Ttls {
            external: 7,
            cluster: 30,
        };
        let pieces = addresses(&owner, RecordType::A, &candidates, ttls);
        assert_eq!(pieces.len(), 1);
        match &pieces[0] {
            Piece::Cname { cname, target } => {
                assert_eq!(target.to_string(), "lb.cloud.test.");
                assert_eq!(cname.ttl, 30);
            }
            other => panic!("{other:?}"),
        }
        let zone = Zone::new("example.com.", "dns").unwrap();
        let plan = srv(&owner, &zone, &service(), &candidates, ttls);
        assert_eq!(plan.answers.len(), 2, "one SRV per port");
        assert_eq!(plan.additionals.len(), 2, "A and AAAA looked up once");
        assert!(!plan.is_ready());
    }
}
