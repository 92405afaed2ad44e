//! The zone's own records (kubernetes.md §14; CoreDNS `plugin/k8s_external/apex.go`): SOA and
//! NS at the apex, and the `<apex>.<z>` subdomain where `ns1.<apex>.<z>` lives.

use std::net::IpAddr;

use clusterdns_kubernetes::ClusterView;
use clusterdns_kubernetes::objects::ExternalAddress;
use hickory_proto::rr::rdata::{NS, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::records::{address_record, family_matches};
use crate::zone::Zone;

/// SOA timers (§14, as the kubernetes zone's).
const REFRESH: i32 = 7200;
const RETRY: i32 = 1800;
const EXPIRE: i32 = 86400;

/// `<z> <ttl> SOA ns1.<apex>.<z>. hostmaster.<apex>.<z>. <serial> 7200 1800 86400 <ttl>`,
/// owner the zone as configured. The serial is the k8s_external clock (§11.6).
pub fn soa(zone: &Zone, ttl: u32, serial: u32) -> Record {
    Record::from_rdata(
        zone.name.clone(),
        ttl,
        RData::SOA(SOA::new(
            zone.ns1.clone(),
            zone.hostmaster.clone(),
            serial,
            REFRESH,
            RETRY,
            EXPIRE,
            ttl,
        )),
    )
}

/// `<z> <ttl> NS ns1.<apex>.<z>.`
pub fn ns(zone: &Zone, ttl: u32) -> Record {
    Record::from_rdata(zone.name.clone(), ttl, RData::NS(NS(zone.ns1.clone())))
}

/// The addresses of `ns1.<apex>.<z>` (§14, from §5.2 steps 1–2): the external addresses of
/// the Services whose slices list one of the server's own addresses (with `headless`, a
/// headless one contributes that slice's endpoint addresses); the own addresses when no slice
/// lists them. Hostname ingresses have no address here. Each address once.
pub fn name_server_addresses(view: &ClusterView, headless: bool) -> Vec<IpAddr> {
    let fronting = view.fronting();
    let mut out: Vec<IpAddr> = Vec::new();
    let mut push = |ip: IpAddr| {
        if !out.contains(&ip) {
            out.push(ip);
        }
    };
    if fronting.services.is_empty() {
        fronting.own_addresses.iter().copied().for_each(&mut push);
        return out;
    }
    for front in &fronting.services {
        if headless && front.service.is_headless() {
            front.endpoints.iter().for_each(|(_, ip)| push(*ip));
        } else {
            for address in front.service.external.iter() {
                if let ExternalAddress::Ip(ip) = address {
                    push(*ip);
                }
            }
        }
    }
    out
}

/// What a name under `<apex>.<z>` is: `labels` are the query's labels left of the zone.
#[derive(Debug, PartialEq, Eq)]
pub enum SubApex {
    /// `<apex>.<z>` itself: an empty non-terminal.
    NoData,
    /// `ns1.<apex>.<z>`.
    NameServer,
    NameError,
}

pub fn sub_apex(labels: &[&str]) -> SubApex {
    // CoreDNS counts the labels left of the zone, apex included: one is the apex, two with
    // `ns1` in front is the name server, anything else does not exist.
    match labels {
        [_] => SubApex::NoData,
        ["ns1", _] => SubApex::NameServer,
        _ => SubApex::NameError,
    }
}

/// A/AAAA records of `ns1.<apex>.<z>` (or the NS glue) with `owner`; other types none.
pub fn name_server_records(
    owner: &Name,
    qtype: RecordType,
    addresses: &[IpAddr],
    ttl: u32,
) -> Vec<Record> {
    addresses
        .iter()
        .filter(|ip| family_matches(qtype, ip))
        .map(|ip| address_record(owner.clone(), ttl, *ip))
        .collect()
}

/// The NS glue: every address, owner `ns1.<apex>.` + the query name as spelled.
pub fn glue(owner: &Name, addresses: &[IpAddr], ttl: u32) -> Vec<Record> {
    addresses
        .iter()
        .map(|ip| address_record(owner.clone(), ttl, *ip))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_apex_names() {
        assert_eq!(sub_apex(&["dns"]), SubApex::NoData);
        assert_eq!(sub_apex(&["ns1", "dns"]), SubApex::NameServer);
        assert_eq!(sub_apex(&["ns2", "dns"]), SubApex::NameError);
        assert_eq!(sub_apex(&["a", "ns1", "dns"]), SubApex::NameError);
        // A two-label apex: the apex itself already counts two.
        assert_eq!(sub_apex(&["a", "b"]), SubApex::NameError);
    }

    #[test]
    fn soa_and_ns_use_the_configured_zone() {
        let zone = Zone::new("example.com.", "dns").unwrap();
        let soa = soa(&zone, 5, 42);
        assert_eq!(
            format!("{} {} {}", soa.name, soa.ttl, soa.data),
            "example.com. 5 ns1.dns.example.com. hostmaster.dns.example.com. 42 7200 1800 86400 5"
        );
        let ns = ns(&zone, 5);
        assert_eq!(
            format!("{} {} {}", ns.name, ns.ttl, ns.data),
            "example.com. 5 ns1.dns.example.com."
        );
    }
}
