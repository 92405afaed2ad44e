//! An EndpointSlice reduced to what DNS uses (kubernetes.md §11.1, §11.4, §11.5).

use std::net::IpAddr;

use k8s_openapi::api::discovery::v1::EndpointSlice as ApiSlice;
use k8s_openapi::jiff::Timestamp;

use super::address::{endpoint_name, parse_ip};
use super::port::{Port, Protocol, with_sentinel};

/// The label that ties a slice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// When the EndpointSlice controller saw the change this slice reflects
/// (`coredns_kubernetes_dns_programming_duration_seconds`).
pub const TRIGGER_TIME_ANNOTATION: &str = "endpoints.kubernetes.io/last-change-trigger-time";

/// One ready address of a slice with its endpoint name (§3.2), computed once at ingest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub address: IpAddr,
    pub name: Box<str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slice {
    pub name: Box<str>,
    pub namespace: Box<str>,
    pub resource_version: Box<str>,
    /// The `kubernetes.io/service-name` label; a slice without it is never found through a
    /// Service (§11.2) but still serves PTR lookups of its addresses.
    pub service: Option<Box<str>>,
    /// At least one: the sentinel when the slice lists none.
    pub ports: Box<[Port]>,
    /// Ready (or readiness unknown) addresses only: not-ready endpoints are dropped here
    /// (§11.4).
    pub endpoints: Box<[Endpoint]>,
}

/// What reducing a slice yields.
#[derive(Debug)]
pub enum Reduced {
    Slice(Slice, Option<Timestamp>),
    /// An FQDN slice (deprecated, never produced by the controller): not served (§11.5,
    /// free).
    Skipped,
    /// No name or namespace: not an object we can store.
    Invalid,
}

impl Slice {
    /// Reduces an API slice. `pod_names` is the `endpoint_pod_names` option (§3.2).
    pub fn from_api(api: &ApiSlice, pod_names: bool) -> Reduced {
        let meta = &api.metadata;
        let (Some(name), Some(namespace)) = (
            meta.name.as_deref().filter(|n| !n.is_empty()),
            meta.namespace.as_deref().filter(|n| !n.is_empty()),
        ) else {
            return Reduced::Invalid;
        };
        if api.address_type == "FQDN" {
            return Reduced::Skipped;
        }
        let service = meta
            .labels
            .as_ref()
            .and_then(|l| l.get(SERVICE_NAME_LABEL))
            .filter(|s| !s.is_empty())
            .map(|s| Box::<str>::from(s.as_str()));
        let ports = api
            .ports
            .iter()
            .flatten()
            .map(|p| Port {
                name: p.name.as_deref().unwrap_or("").into(),
                protocol: Protocol::from_api(p.protocol.as_deref()),
                port: p.port.unwrap_or(super::port::SENTINEL_PORT),
            })
            .collect();
        let mut endpoints = Vec::new();
        for endpoint in &api.endpoints {
            // Unset readiness counts as ready (§11.4); `serving`/`terminating` are ignored.
            let ready = endpoint
                .conditions
                .as_ref()
                .and_then(|c| c.ready)
                .unwrap_or(true);
            if !ready {
                continue;
            }
            let pod_name = endpoint
                .target_ref
                .as_ref()
                .and_then(|r| r.name.as_deref())
                .filter(|n| n.len() < 64);
            for text in &endpoint.addresses {
                let Some(address) = parse_ip(text) else {
                    continue;
                };
                endpoints.push(Endpoint {
                    address,
                    name: endpoint_name(endpoint.hostname.as_deref(), pod_name, pod_names, text),
                });
            }
        }
        let trigger = meta
            .annotations
            .as_ref()
            .and_then(|a| a.get(TRIGGER_TIME_ANNOTATION))
            .and_then(|t| t.parse::<Timestamp>().ok());
        Reduced::Slice(
            Slice {
                name: name.into(),
                namespace: namespace.into(),
                resource_version: meta.resource_version.as_deref().unwrap_or("").into(),
                service,
                ports: with_sentinel(ports),
                endpoints: endpoints.into_boxed_slice(),
            },
            trigger,
        )
    }

    /// `<namespace>/<name>`: how slices are stored (§11.2).
    pub fn store_key(&self) -> String {
        store_key(&self.namespace, &self.name)
    }

    /// `<service>.<namespace>`: the Service this slice is gathered under.
    pub fn service_key(&self) -> Option<String> {
        self.service
            .as_ref()
            .map(|s| format!("{}.{}", s, self.namespace))
    }

    /// What moves the cluster clock on an update (§11.6): the count or, position by
    /// position, an address, endpoint name or port changed.
    pub fn dns_differs(&self, other: &Slice) -> bool {
        self.endpoints != other.endpoints || self.ports != other.ports
    }
}

/// `<namespace>/<name>` of an API object.
pub fn store_key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduce(json: serde_json::Value, pod_names: bool) -> Reduced {
        Slice::from_api(&serde_json::from_value(json).unwrap(), pod_names)
    }

    #[test]
    fn keeps_ready_addresses_with_their_names() {
        let json = serde_json::json!({
            "metadata": {"name": "hdls1-v4", "namespace": "testns",
                         "labels": {"kubernetes.io/service-name": "hdls1"},
                         "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "2024-05-01T10:00:00Z"}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "protocol": "TCP", "port": 80}],
            "endpoints": [
                {"addresses": ["172.0.0.2"], "conditions": {"ready": true}},
                {"addresses": ["172.0.0.4"], "conditions": {"ready": true}, "hostname": "dup-name"},
                {"addresses": ["172.0.0.6"], "conditions": {"ready": false}},
                {"addresses": ["172.0.0.7"], "conditions": {"ready": false, "serving": true, "terminating": true}},
                {"addresses": ["172.0.0.20"]},
                {"addresses": ["172.0.1.1"], "targetRef": {"kind": "Pod", "name": "pn-pod-0"}},
                {"addresses": ["not-an-ip"]}
            ]
        });
        let Reduced::Slice(slice, trigger) = reduce(json.clone(), false) else {
            panic!("reduced")
        };
        let got: Vec<(String, &str)> = slice
            .endpoints
            .iter()
            .map(|e| (e.address.to_string(), &*e.name))
            .collect();
        assert_eq!(
            got,
            [
                ("172.0.0.2".to_string(), "172-0-0-2"),
                ("172.0.0.4".to_string(), "dup-name"),
                ("172.0.0.20".to_string(), "172-0-0-20"),
                ("172.0.1.1".to_string(), "172-0-1-1"),
            ]
        );
        assert_eq!(slice.service_key().as_deref(), Some("hdls1.testns"));
        assert_eq!(slice.store_key(), "testns/hdls1-v4");
        assert!(trigger.is_some());
        let Reduced::Slice(named, _) = reduce(json, true) else {
            panic!("reduced")
        };
        assert_eq!(&*named.endpoints[3].name, "pn-pod-0");
    }

    #[test]
    fn portless_fqdn_and_nameless_slices() {
        let Reduced::Slice(slice, None) = reduce(
            serde_json::json!({"metadata": {"name": "s", "namespace": "n"}, "addressType": "IPv4",
                               "endpoints": [], "ports": [{"name": "x", "port": null}]}),
            false,
        ) else {
            panic!("reduced")
        };
        assert_eq!(slice.ports[0].port, -1);
        assert!(slice.service.is_none());
        assert!(matches!(
            reduce(
                serde_json::json!({"metadata": {"name": "s", "namespace": "n"}, "addressType": "FQDN", "endpoints": []}),
                false
            ),
            Reduced::Skipped
        ));
        assert!(matches!(
            reduce(
                serde_json::json!({"metadata": {}, "addressType": "IPv4", "endpoints": []}),
                false
            ),
            Reduced::Invalid
        ));
    }
}
