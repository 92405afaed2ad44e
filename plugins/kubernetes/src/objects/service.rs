//! A Service reduced to what DNS uses (kubernetes.md §11.1).

use std::net::IpAddr;

use hickory_proto::rr::Name;
use k8s_openapi::api::core::v1::Service as ApiService;

use super::address::parse_ip;
use super::port::{Port, Protocol, with_sentinel};

/// How a Service answers (kubernetes.md §3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceKind {
    /// ClusterIP, NodePort or LoadBalancer: answered from its cluster IPs.
    ClusterIp,
    /// `clusterIPs[0] == "None"`: answered from its ready endpoints.
    Headless,
    /// `type: ExternalName`: a CNAME to `text`. `target` is the CNAME target, None when the
    /// external name is an IP literal or not a valid name (such a Service yields nothing).
    ExternalName {
        text: Box<str>,
        target: Option<Name>,
    },
}

/// An external address (kubernetes.md §11.1): `spec.externalIPs`, then each LoadBalancer
/// ingress `ip`, or its `hostname` when the ip is empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternalAddress {
    Ip(IpAddr),
    Hostname(Box<str>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub name: Box<str>,
    pub namespace: Box<str>,
    pub resource_version: Box<str>,
    pub kind: ServiceKind,
    /// Parsed cluster IPs (both families for dual-stack). Empty for headless and
    /// ExternalName Services, and for entries that do not parse.
    pub cluster_ips: Box<[IpAddr]>,
    /// At least one: the sentinel when the Service lists none.
    pub ports: Box<[Port]>,
    pub external: Box<[ExternalAddress]>,
}

impl Service {
    /// Reduces an API Service; None without a name or namespace.
    pub fn from_api(api: &ApiService) -> Option<Service> {
        let meta = &api.metadata;
        let name = meta.name.as_deref().filter(|n| !n.is_empty())?;
        let namespace = meta.namespace.as_deref().filter(|n| !n.is_empty())?;
        let spec = api.spec.as_ref();
        let ips: Vec<&str> = match spec.and_then(|s| s.cluster_ips.as_ref()) {
            Some(list) if !list.is_empty() => list.iter().map(String::as_str).collect(),
            _ => vec![spec.and_then(|s| s.cluster_ip.as_deref()).unwrap_or("")],
        };
        let kind = if spec.and_then(|s| s.type_.as_deref()) == Some("ExternalName") {
            let text = spec.and_then(|s| s.external_name.as_deref()).unwrap_or("");
            ServiceKind::ExternalName {
                text: text.into(),
                target: cname_target(text),
            }
        } else if ips.first() == Some(&"None") {
            ServiceKind::Headless
        } else {
            ServiceKind::ClusterIp
        };
        let cluster_ips = match kind {
            ServiceKind::ClusterIp => ips.iter().filter_map(|ip| parse_ip(ip)).collect(),
            _ => Box::default(),
        };
        let ports = spec
            .and_then(|s| s.ports.as_ref())
            .map(|ports| {
                ports
                    .iter()
                    .map(|p| Port {
                        name: p.name.as_deref().unwrap_or("").into(),
                        protocol: Protocol::from_api(p.protocol.as_deref()),
                        port: p.port,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut external: Vec<ExternalAddress> = spec
            .and_then(|s| s.external_ips.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|ip| parse_ip(ip).map(ExternalAddress::Ip))
            .collect();
        let ingress = api
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_ref());
        for entry in ingress.into_iter().flatten() {
            match (entry.ip.as_deref(), entry.hostname.as_deref()) {
                (Some(ip), _) if !ip.is_empty() => {
                    if let Some(ip) = parse_ip(ip) {
                        external.push(ExternalAddress::Ip(ip));
                    }
                }
                (_, Some(host)) if !host.is_empty() => {
                    external.push(ExternalAddress::Hostname(host.into()));
                }
                _ => {}
            }
        }
        Some(Service {
            name: name.into(),
            namespace: namespace.into(),
            resource_version: meta.resource_version.as_deref().unwrap_or("").into(),
            kind,
            cluster_ips,
            ports: with_sentinel(ports),
            external: external.into_boxed_slice(),
        })
    }

    /// `<name>.<namespace>`: the key Services and their slices are found by (§11.1).
    pub fn key(&self) -> String {
        format!("{}.{}", self.name, self.namespace)
    }

    pub fn is_headless(&self) -> bool {
        self.kind == ServiceKind::Headless
    }

    pub fn is_external_name(&self) -> bool {
        matches!(self.kind, ServiceKind::ExternalName { .. })
    }

    /// What moves the cluster clock on an update (kubernetes.md §11.6): the external name or
    /// any port changed.
    pub fn dns_differs(&self, other: &Service) -> bool {
        let external_name = |s: &Service| match &s.kind {
            ServiceKind::ExternalName { text, .. } => Some(text.clone()),
            _ => None,
        };
        external_name(self) != external_name(other) || self.ports != other.ports
    }

    /// What moves the k8s_external clock on an update (§11.6): external addresses or ports.
    pub fn external_differs(&self, other: &Service) -> bool {
        self.external != other.external || self.ports != other.ports
    }
}

/// The CNAME target of an ExternalName: none for an IP literal (§3.1) or an invalid name.
fn cname_target(text: &str) -> Option<Name> {
    if text.is_empty() || parse_ip(text).is_some() {
        return None;
    }
    let mut name = Name::from_ascii(text).ok()?;
    name.set_fqdn(true);
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(json: serde_json::Value) -> Option<Service> {
        Service::from_api(&serde_json::from_value(json).unwrap())
    }

    #[test]
    fn reduces_the_kinds() {
        let svc = service(serde_json::json!({
            "metadata": {"name": "svc-dual-stack", "namespace": "testns", "resourceVersion": "7"},
            "spec": {"clusterIP": "10.0.0.3", "clusterIPs": ["10.0.0.3", "10::3"],
                     "ports": [{"name": "http", "protocol": "TCP", "port": 80}]}
        }))
        .unwrap();
        assert_eq!(svc.kind, ServiceKind::ClusterIp);
        assert_eq!(svc.cluster_ips.len(), 2);
        assert_eq!(svc.key(), "svc-dual-stack.testns");
        assert_eq!(&*svc.resource_version, "7");

        // clusterIP alone when clusterIPs is absent; headless from "None"; no ports → sentinel.
        let only = service(serde_json::json!({
            "metadata": {"name": "a", "namespace": "n"}, "spec": {"clusterIP": "10.0.0.9"}
        }))
        .unwrap();
        assert_eq!(&*only.cluster_ips, &["10.0.0.9".parse::<IpAddr>().unwrap()]);
        assert_eq!(&*only.ports, &[Port::sentinel()]);
        let headless = service(serde_json::json!({
            "metadata": {"name": "h", "namespace": "n"}, "spec": {"clusterIP": "None"}
        }))
        .unwrap();
        assert!(headless.is_headless());
        assert!(headless.cluster_ips.is_empty());

        let ext = service(serde_json::json!({
            "metadata": {"name": "external", "namespace": "n"},
            "spec": {"type": "ExternalName", "externalName": "ext.interwebs.test"}
        }))
        .unwrap();
        match &ext.kind {
            ServiceKind::ExternalName { target, .. } => {
                assert_eq!(target.as_ref().unwrap().to_string(), "ext.interwebs.test.")
            }
            other => panic!("{other:?}"),
        }
        let literal = service(serde_json::json!({
            "metadata": {"name": "lit", "namespace": "n"},
            "spec": {"type": "ExternalName", "externalName": "1.2.3.4"}
        }))
        .unwrap();
        assert!(matches!(
            literal.kind,
            ServiceKind::ExternalName { target: None, .. }
        ));

        assert!(service(serde_json::json!({"metadata": {"name": "x"}})).is_none());
    }

    #[test]
    fn external_addresses_keep_their_order() {
        let svc = service(serde_json::json!({
            "metadata": {"name": "lb", "namespace": "n"},
            "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.21", "externalIPs": ["1.2.3.4"]},
            "status": {"loadBalancer": {"ingress": [{"ip": "2.3.4.5"}, {"hostname": "lb.cloud.test"}, {}]}}
        }))
        .unwrap();
        assert_eq!(
            &*svc.external,
            &[
                ExternalAddress::Ip("1.2.3.4".parse().unwrap()),
                ExternalAddress::Ip("2.3.4.5".parse().unwrap()),
                ExternalAddress::Hostname("lb.cloud.test".into()),
            ]
        );
    }
}
