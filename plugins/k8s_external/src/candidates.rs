//! What a name below a k8s_external zone stands for (kubernetes.md §14; CoreDNS
//! `kubernetes.External`): the candidate set the records are built from, or why there is none.

use std::net::IpAddr;
use std::sync::Arc;

use clusterdns_kubernetes::ClusterView;
use clusterdns_kubernetes::objects::{ExternalAddress, Service};

/// One answer candidate: an address or hostname, a port, and whose it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub host: Host,
    /// The Service port (external addresses) or the slice port (endpoints);
    /// [`clusterdns_kubernetes::objects::SENTINEL_PORT`] for an object without ports.
    pub port: i32,
    /// The endpoint name of an endpoint answer: SRV target `<ep>.<svc>.<ns>.<z>` instead of
    /// `<svc>.<ns>.<z>`.
    pub endpoint: Option<Box<str>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    Address(IpAddr),
    /// A LoadBalancer ingress hostname: answered with a CNAME (§14).
    Hostname(Box<str>),
}

/// The outcome of a forward name lookup.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// The Service the name found, and its candidates (never empty).
    Candidates(Arc<Service>, Vec<Candidate>),
    /// The name exists without candidates: a namespace (`<ns>.<z>`).
    Exists,
    /// NXDOMAIN: unknown or unexposed namespace, too many labels, no candidate.
    NameError,
}

/// The labels of a forward name read right to left: namespace, service, then either one
/// endpoint label or port and protocol (one leading `_` stripped from each, as CoreDNS's
/// `stripUnderscore`).
#[derive(Debug, PartialEq, Eq)]
struct Shape<'n> {
    namespace: &'n str,
    service: Option<&'n str>,
    endpoint: &'n str,
    port: &'n str,
    protocol: &'n str,
}

/// `labels` are the query's labels left of the zone, lower case, left to right.
fn shape<'n>(labels: &[&'n str]) -> Option<Shape<'n>> {
    let strip = |label: &'n str| label.strip_prefix('_').unwrap_or(label);
    let mut shape = Shape {
        namespace: labels.last()?,
        service: None,
        endpoint: "",
        port: "",
        protocol: "",
    };
    match labels {
        [_] => {}
        [service, _] => shape.service = Some(service),
        [endpoint, service, _] => {
            shape.service = Some(service);
            shape.endpoint = strip(endpoint);
        }
        [port, protocol, service, _] => {
            shape.service = Some(service);
            shape.port = strip(port);
            shape.protocol = strip(protocol);
        }
        _ => return None,
    }
    Some(shape)
}

/// Finds the candidates of a forward name. `headless`: the option of that name.
pub fn find(view: &ClusterView, labels: &[&str], headless: bool) -> Found {
    // CoreDNS checks the namespace before the length: a too-long name in an unknown namespace
    // and one in a known namespace are both NXDOMAIN, so the order only matters for speed.
    let Some(namespace) = labels.last() else {
        return Found::Exists;
    };
    if !view.namespace_exposed(namespace) {
        return Found::NameError;
    }
    let Some(shape) = shape(labels) else {
        return Found::NameError;
    };
    let Some(service_name) = shape.service else {
        return Found::Exists;
    };
    let Some(service) = view.service(shape.namespace, service_name) else {
        return Found::NameError;
    };
    let candidates = if headless
        && service.external.is_empty()
        && (service.is_headless() || !shape.endpoint.is_empty())
    {
        endpoint_candidates(view, &service, &shape)
    } else {
        // An endpoint label in front of an externally addressed Service is ignored (Q13).
        external_candidates(&service, &shape)
    };
    if candidates.is_empty() {
        Found::NameError
    } else {
        Found::Candidates(service, candidates)
    }
}

/// Each external address × each Service port matching port/protocol.
fn external_candidates(service: &Service, shape: &Shape<'_>) -> Vec<Candidate> {
    let mut out = Vec::new();
    for address in service.external.iter() {
        let host = match address {
            ExternalAddress::Ip(ip) => Host::Address(*ip),
            ExternalAddress::Hostname(name) => Host::Hostname(name.clone()),
        };
        for port in service.ports.iter() {
            if port.matches(shape.port, shape.protocol) {
                out.push(Candidate {
                    host: host.clone(),
                    port: port.port,
                    endpoint: None,
                });
            }
        }
    }
    out
}

/// The endpoint answers of §3.1, named `<ep>.<svc>.<ns>.<z>`.
fn endpoint_candidates(view: &ClusterView, service: &Service, shape: &Shape<'_>) -> Vec<Candidate> {
    view.endpoints(
        &service.namespace,
        &service.name,
        shape.endpoint,
        shape.port,
        shape.protocol,
    )
    .into_iter()
    .map(|record| Candidate {
        host: Host::Address(record.address),
        port: record.port,
        endpoint: Some(record.name),
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_read_right_to_left() {
        let plain = |namespace, service| Shape {
            namespace,
            service,
            endpoint: "",
            port: "",
            protocol: "",
        };
        assert_eq!(shape(&["testns"]), Some(plain("testns", None)));
        assert_eq!(
            shape(&["svc", "testns"]),
            Some(plain("testns", Some("svc")))
        );
        assert_eq!(
            shape(&["_x", "svc", "testns"]).map(|s| s.endpoint),
            Some("x")
        );
        let srv = shape(&["_http", "_tcp", "svc", "testns"]).unwrap();
        assert_eq!((srv.port, srv.protocol), ("http", "tcp"));
        let bare = shape(&["http", "tcp", "svc", "testns"]).unwrap();
        assert_eq!((bare.port, bare.protocol), ("http", "tcp"));
        // Only one underscore is stripped.
        let twice = shape(&["__http", "_tcp", "svc", "testns"]).unwrap();
        assert_eq!(twice.port, "_http");
        assert_eq!(shape(&["a", "b", "c", "svc", "testns"]), None);
        assert_eq!(shape(&[]), None);
    }
}
