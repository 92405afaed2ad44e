//! What exists in the cluster zone: the candidate set of kubernetes.md §3.1 for a parsed name
//! (CoreDNS `Records`/`findServices`/`findPods`) and the server's own names of §5.2. Pure
//! functions over the cache's [`Index`]; the caller holds the read lock for their duration.

use std::net::IpAddr;

use hickory_proto::rr::Name;

use crate::cache::{Entry, Index};
use crate::config::{Config, PodMode};
use crate::objects::{Service, ServiceKind, parse_ip};
use crate::qname::{self, Kind, Parsed, Shape};

/// No such name (§4 rows 7, 8, 10): NXDOMAIN after the fallthrough and unsynced checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameError;

/// What a candidate resolves to.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    Address(IpAddr),
    /// An ExternalName's CNAME target.
    Cname(&'a Name),
}

/// The name a candidate is known by (its SRV target, §3.4).
#[derive(Clone, Copy, Debug)]
pub enum Owner<'a> {
    /// `<svc>.<ns>.svc.<z>`
    Service(NamedService<'a>),
    /// `<endpoint>.<svc>.<ns>.svc.<z>`
    Endpoint(NamedService<'a>, &'a str),
    /// `<label>.<ns>.pod.<z>` (labels as queried, lower case)
    Pod { label: &'a str, namespace: &'a str },
}

impl Owner<'_> {
    /// Same name: SRV records are de-duplicated on (target, port).
    pub fn same(&self, other: &Owner<'_>) -> bool {
        match (self, other) {
            (Owner::Service(a), Owner::Service(b)) => a.is(b),
            (Owner::Endpoint(a, x), Owner::Endpoint(b, y)) => a.is(b) && x == y,
            (
                Owner::Pod { label, namespace },
                Owner::Pod {
                    label: l,
                    namespace: n,
                },
            ) => label == l && namespace == n,
            _ => false,
        }
    }

    /// The owner as an absolute name under `zone` (the zone as the client spelled it).
    pub fn name(&self, zone: &Name) -> Option<Name> {
        match self {
            Owner::Service(s) => s.name(None, zone),
            Owner::Endpoint(s, endpoint) => s.name(Some(endpoint), zone),
            Owner::Pod { label, namespace } => join(&[label, namespace, "pod"], zone),
        }
    }
}

/// A Service with its relative name `<svc>.<ns>.svc`, which the cache builds once per
/// Service ([`Entry::relative`]): an SRV target is then a copy and one append of the zone,
/// not a name built label by label for every answer.
#[derive(Clone, Copy, Debug)]
pub struct NamedService<'a> {
    pub service: &'a Service,
    /// None where no cache entry is at hand (PTR): built when needed.
    pub relative: Option<&'a Name>,
}

impl<'a> NamedService<'a> {
    /// The Service of `entry`, with the name built for it.
    pub fn of(service: &'a Service, entry: &'a Entry) -> Self {
        NamedService {
            service,
            relative: entry.relative.as_ref(),
        }
    }

    /// Without a prebuilt name (it is built on use).
    pub fn unnamed(service: &'a Service) -> Self {
        NamedService {
            service,
            relative: None,
        }
    }

    /// The same Service object.
    pub fn is(&self, other: &NamedService<'_>) -> bool {
        std::ptr::eq(self.service, other.service)
    }

    /// `[<endpoint>.]<svc>.<ns>.svc.<zone>`; None as [`join`].
    pub fn name(&self, endpoint: Option<&str>, zone: &Name) -> Option<Name> {
        let built;
        let relative = match self.relative {
            Some(relative) => relative,
            None => {
                built = relative_name(self.service)?;
                &built
            }
        };
        let name = match endpoint {
            None => relative.clone(),
            Some(endpoint) => Name::new()
                .append_label(endpoint.as_bytes())
                .ok()?
                .append_name(relative)
                .ok()?,
        };
        name.append_name(zone).ok()
    }
}

/// `<svc>.<ns>.svc` as a relative name (not fully qualified); None when the Service's name
/// or namespace is no valid DNS label (the API never produces those).
pub fn relative_name(service: &Service) -> Option<Name> {
    join(&[&service.name, &service.namespace, "svc"], &Name::new())
}

/// `labels` (left to right) in front of `zone`. None when a label is not a valid DNS label
/// (the API never produces those) or the name would be too long.
///
/// Label by label into one name: `Name::from_labels` would collect the labels into
/// intermediate vectors first, several allocations per SRV target on the hot path.
pub fn join(labels: &[&str], zone: &Name) -> Option<Name> {
    let mut name = Name::new();
    for label in labels {
        name = name.append_label(label.as_bytes()).ok()?;
    }
    name.append_name(zone).ok()
}

/// One element of the candidate set: (address or CNAME target, port, owner key).
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    pub target: Target<'a>,
    /// The Service port for ClusterIP answers, the slice port for endpoint answers, 0 for
    /// pods, [`crate::objects::SENTINEL_PORT`] for a Service or slice without ports.
    pub port: i32,
    pub owner: Owner<'a>,
}

/// The lookup context of one stanza over one snapshot of the cache.
pub struct Lookup<'a> {
    pub config: &'a Config,
    pub index: &'a Index,
}

impl<'a> Lookup<'a> {
    /// `namespaces` list and the Namespace object (§4 row 8; CoreDNS `namespaceExposed`).
    pub fn namespace_exposed(&self, namespace: &str) -> bool {
        self.namespace_listed(namespace) && self.index.namespace_exists(namespace)
    }

    /// Only the `namespaces` list (what reverse lookups filter by, §6, Q9).
    pub fn namespace_listed(&self, namespace: &str) -> bool {
        self.config.namespaces.is_empty() || self.config.namespaces.iter().any(|n| n == namespace)
    }

    /// CoreDNS `Records`: the candidates for a name in `zone`, or a name error.
    pub fn records(
        &self,
        name_lower: &'a str,
        zone: &str,
    ) -> Result<Vec<Candidate<'a>>, NameError> {
        let shape = qname::parse(name_lower, zone).map_err(|_| NameError)?;
        let parsed = match shape {
            Shape::Apex | Shape::KindOnly => return Ok(Vec::new()),
            Shape::Name(parsed) => parsed,
        };
        // Service-shaped names inside a reverse zone (§4 row 7).
        if plugin::reverse_zones::is_reverse(name_lower) {
            return Err(NameError);
        }
        if !self.namespace_exposed(parsed.namespace) {
            return Err(NameError);
        }
        match parsed.kind {
            Kind::Pod => self.pods(&parsed),
            Kind::Svc => self.services(&parsed),
        }
    }

    /// Whether `<svc>.<ns>` names a Service that answers (after `ignore empty_service`).
    fn service_entry(&self, key: &str) -> Option<(&'a Service, &'a Entry)> {
        let entry = self.index.entry(key)?;
        let service = entry.service()?;
        // §3.1: `ignore empty_service` removes ClusterIP-kind Services without a ready address.
        if self.config.ignore_empty_service
            && service.kind == ServiceKind::ClusterIp
            && !entry.has_ready_address()
        {
            return None;
        }
        Some((service, entry))
    }

    /// CoreDNS `findServices` (§3.1).
    fn services(&self, r: &Parsed<'a>) -> Result<Vec<Candidate<'a>>, NameError> {
        if r.service.is_empty() {
            return Ok(Vec::new());
        }
        let (service, entry) = self.service_entry(r.key).ok_or(NameError)?;
        let mut out = Vec::new();
        match &service.kind {
            ServiceKind::ExternalName { target, .. } => {
                if !(r.endpoint.is_empty() && r.port.is_empty() && r.protocol.is_empty()) {
                    return Err(NameError);
                }
                let target = target.as_ref().ok_or(NameError)?;
                out.push(Candidate {
                    target: Target::Cname(target),
                    port: service.ports.first().map_or(-1, |p| p.port),
                    owner: Owner::Service(NamedService::of(service, entry)),
                });
                return Ok(out);
            }
            ServiceKind::Headless => endpoint_candidates(service, entry, r, &mut out),
            ServiceKind::ClusterIp if !r.endpoint.is_empty() => {
                endpoint_candidates(service, entry, r, &mut out)
            }
            ServiceKind::ClusterIp => {
                out.reserve_exact(service.ports.len() * service.cluster_ips.len());
                let owner = Owner::Service(NamedService::of(service, entry));
                let mut found = false;
                for port in service.ports.iter() {
                    if !port.matches(r.port, r.protocol) {
                        continue;
                    }
                    // The name exists once a port matched, even without a parsable IP.
                    found = true;
                    for ip in service.cluster_ips.iter() {
                        out.push(Candidate {
                            target: Target::Address(*ip),
                            port: port.port,
                            owner,
                        });
                    }
                }
                if !found {
                    return Err(NameError);
                }
                return Ok(out);
            }
        }
        if out.is_empty() {
            return Err(NameError);
        }
        Ok(out)
    }

    /// CoreDNS `findPods` (§7).
    fn pods(&self, r: &Parsed<'a>) -> Result<Vec<Candidate<'a>>, NameError> {
        if self.config.pods == PodMode::Disabled {
            return Err(NameError);
        }
        if r.service.is_empty() {
            return Ok(Vec::new());
        }
        let ip = pod_address(r.service).ok_or(NameError)?;
        let candidate = Candidate {
            target: Target::Address(ip),
            port: 0,
            owner: Owner::Pod {
                label: r.service,
                namespace: r.namespace,
            },
        };
        if self.config.pods == PodMode::Insecure {
            return Ok(vec![candidate]);
        }
        let pods = self.index.pods_by_address.get(&ip).ok_or(NameError)?;
        let out: Vec<Candidate<'a>> = pods
            .iter()
            .filter(|p| p.namespace.eq_ignore_ascii_case(r.namespace))
            .map(|_| candidate)
            .collect();
        if out.is_empty() {
            return Err(NameError);
        }
        Ok(out)
    }

    /// The server's own names and addresses (§5.2 steps 1–4), as (labels before the zone,
    /// address). Step 4 (`ns.dns`) when no slice lists an own address.
    pub fn own_names(&self, own_addresses: &[IpAddr]) -> Vec<(OwnName<'a>, IpAddr)> {
        let mut out = Vec::new();
        let mut found = false;
        for local in own_addresses {
            let Some(claims) = self.index.claims(local) else {
                continue;
            };
            for slice in &claims.slices {
                found = true;
                let Some((service, entry)) = slice
                    .service_key()
                    .and_then(|k| self.index.entry(&k))
                    .and_then(|e| Some((e.service()?, e)))
                else {
                    continue;
                };
                let named = NamedService::of(service, entry);
                match service.kind {
                    ServiceKind::Headless => {
                        for endpoint in slice.endpoints.iter() {
                            out.push((
                                OwnName::Owner(Owner::Endpoint(named, &endpoint.name)),
                                endpoint.address,
                            ));
                        }
                    }
                    _ => {
                        for ip in service.cluster_ips.iter() {
                            out.push((OwnName::Owner(Owner::Service(named)), *ip));
                        }
                    }
                }
            }
        }
        if !found {
            for local in own_addresses {
                out.push((OwnName::NsDns, *local));
            }
        }
        out
    }
}

/// A name of §5.2: a Service/endpoint name, or `ns.dns.<z>`.
#[derive(Clone, Copy, Debug)]
pub enum OwnName<'a> {
    Owner(Owner<'a>),
    NsDns,
}

impl OwnName<'_> {
    pub fn name(&self, zone: &Name) -> Option<Name> {
        match self {
            OwnName::Owner(owner) => owner.name(zone),
            OwnName::NsDns => join(&["ns", "dns"], zone),
        }
    }

    pub fn same(&self, other: &OwnName<'_>) -> bool {
        match (self, other) {
            (OwnName::NsDns, OwnName::NsDns) => true,
            (OwnName::Owner(a), OwnName::Owner(b)) => a.same(b),
            _ => false,
        }
    }
}

/// Endpoint candidates of a Service (§3.1): every ready address of its slices whose endpoint
/// name matches the label (if any), × every slice port matching port/protocol.
pub fn endpoint_candidates<'a>(
    service: &'a Service,
    entry: &'a Entry,
    r: &Parsed<'_>,
    out: &mut Vec<Candidate<'a>>,
) {
    for slice in &entry.slices {
        for endpoint in slice.endpoints.iter() {
            if !r.endpoint.is_empty() && !r.endpoint.eq_ignore_ascii_case(&endpoint.name) {
                continue;
            }
            for port in slice.ports.iter() {
                if !port.matches(r.port, r.protocol) {
                    continue;
                }
                out.push(Candidate {
                    target: Target::Address(endpoint.address),
                    port: port.port,
                    owner: Owner::Endpoint(NamedService::of(service, entry), &endpoint.name),
                });
            }
        }
    }
}

/// A pod label as an address (§7): exactly three `-` and no `--` is IPv4 with dots, anything
/// else IPv6 with every `-` a `:`.
pub fn pod_address(label: &str) -> Option<IpAddr> {
    let dashes = label.bytes().filter(|b| *b == b'-').count();
    let text = if dashes == 3 && !label.contains("--") {
        label.replace('-', ".")
    } else {
        label.replace('-', ":")
    };
    parse_ip(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_labels_become_addresses() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(pod_address("10-240-0-1"), ip("10.240.0.1"));
        assert_eq!(pod_address("fd00--1"), ip("fd00::1"));
        assert_eq!(pod_address("1-2-3-4-5"), None);
        assert_eq!(pod_address("blah"), None);
        assert_eq!(pod_address("010-0-0-1"), None);
    }

    fn service(name: &str, namespace: &str) -> Service {
        Service {
            name: name.into(),
            namespace: namespace.into(),
            resource_version: "1".into(),
            kind: ServiceKind::ClusterIp,
            cluster_ips: Box::default(),
            ports: Box::default(),
            external: Box::default(),
        }
    }

    #[test]
    fn prebuilt_relative_names_give_the_joined_names() {
        let zone = Name::from_ascii("cLuStEr.LoCaL.").unwrap();
        let svc = service("svc1", "testns");
        let relative = relative_name(&svc).unwrap();
        assert!(!relative.is_fqdn());
        let named = NamedService {
            service: &svc,
            relative: Some(&relative),
        };
        for owner in [named, NamedService::unnamed(&svc)] {
            assert_eq!(
                owner.name(None, &zone),
                join(&["svc1", "testns", "svc"], &zone)
            );
            let endpoint = owner.name(Some("ep1a"), &zone).unwrap();
            assert_eq!(endpoint.to_string(), "ep1a.svc1.testns.svc.cLuStEr.LoCaL.");
            assert!(endpoint.is_fqdn());
            assert_eq!(owner.name(Some(""), &zone), None);
        }
        // A label no DNS name can hold: no name, as when joined.
        let long = "x".repeat(64);
        assert_eq!(relative_name(&service(&long, "testns")), None);
        assert_eq!(
            NamedService::unnamed(&service(&long, "testns")).name(None, &zone),
            None
        );
    }

    #[test]
    fn owner_names_use_the_zone_as_given() {
        let zone = Name::from_ascii("cLuStEr.LoCaL.").unwrap();
        let name = join(&["svc1", "testns", "svc"], &zone).unwrap();
        assert_eq!(name.to_string(), "svc1.testns.svc.cLuStEr.LoCaL.");
        assert_eq!(
            join(&["ns", "dns"], &Name::root()).unwrap().to_string(),
            "ns.dns."
        );
    }
}
