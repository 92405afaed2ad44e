//! Realistic cluster objects for benchmarks and tests: Namespaces, ClusterIP Services with
//! named ports, and the EndpointSlices the EndpointSlice controller would make for them (at
//! most 100 endpoints per slice, ready endpoints with node, zone and Pod targetRef) — what
//! `kubectl get -o json` shows on a real cluster.

use std::net::Ipv4Addr;

use serde_json::{Value, json};

use crate::{error::FakeApiError, fake_api::FakeApi};

/// The EndpointSlice controller's default `--max-endpoints-per-slice`.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterSpec {
    /// Namespaces the Services are spread over (`ns-0`...), besides `default` and `kube-system`.
    pub namespaces: usize,
    /// Number of Services (`svc-0`...), round-robin over the namespaces.
    pub services: usize,
    /// Ready endpoints of each Service.
    pub endpoints_per_service: usize,
}

impl ClusterSpec {
    /// The namespace of Service number `index`.
    pub fn namespace_of(&self, index: usize) -> String {
        format!("ns-{}", index % self.namespaces.max(1))
    }

    /// Every object of the cluster, in an order a real cluster could have created them
    /// (namespaces, then each Service followed by its EndpointSlices).
    pub fn objects(&self) -> impl Iterator<Item = Value> + '_ {
        let namespaces = ["default".to_string(), "kube-system".to_string()]
            .into_iter()
            .chain((0..self.namespaces.max(1)).map(|i| format!("ns-{i}")))
            .map(|name| namespace(&name));
        let services = (0..self.services).flat_map(move |i| {
            std::iter::once(service(&self.namespace_of(i), i)).chain(endpoint_slices(
                &self.namespace_of(i),
                i,
                self.endpoints_per_service,
            ))
        });
        namespaces.chain(services)
    }
}

/// A deterministic UID for a generated object.
fn uid(kind: u8, index: usize, sub: usize) -> String {
    format!(
        "{kind:02x}000000-0000-4000-8000-{:06x}{:06x}",
        index & 0xff_ffff,
        sub & 0xff_ffff
    )
}

/// A short lowercase suffix like the ones `generateName` and ReplicaSets produce.
fn suffix(seed: usize, length: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut x = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5bd1_e995;
    (0..length)
        .map(|_| {
            x ^= x >> 29;
            x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            ALPHABET[(x % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

/// A Namespace object.
pub fn namespace(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    })
}

/// The ClusterIP of Service number `index` (in 10.96.0.0/12, after the first ten addresses).
pub fn cluster_ip(index: usize) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 96, 0, 10)).wrapping_add(index as u32))
}

/// The address of endpoint `endpoint` of Service `service` (in 10.128.0.0/9).
pub fn endpoint_ip(service: usize, endpoints_per_service: usize, endpoint: usize) -> Ipv4Addr {
    let n = (service * endpoints_per_service + endpoint) as u32;
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 128, 0, 2)).wrapping_add(n))
}

/// Service number `index`: ClusterIP, ports `http` 80→8080 and `grpc` 9090, selector app=name.
pub fn service(namespace: &str, index: usize) -> Value {
    let name = format!("svc-{index}");
    let ip = cluster_ip(index).to_string();
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid(1, index, 0),
            "labels": {"app": name},
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": ip,
            "clusterIPs": [ip],
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
            "sessionAffinity": "None",
            "selector": {"app": name},
            "ports": [
                {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                {"name": "grpc", "port": 9090, "protocol": "TCP", "targetPort": 9090},
            ],
        },
        "status": {"loadBalancer": {}},
    })
}

/// The EndpointSlices of Service number `index` with `endpoints` ready endpoints.
pub fn endpoint_slices(namespace: &str, index: usize, endpoints: usize) -> Vec<Value> {
    let service_name = format!("svc-{index}");
    let replica_set = suffix(index, 10);
    let chunks: Vec<(usize, usize)> = (0..endpoints)
        .step_by(MAX_ENDPOINTS_PER_SLICE)
        .map(|start| (start, (start + MAX_ENDPOINTS_PER_SLICE).min(endpoints)))
        .collect();
    // A Service without endpoints still has one (empty) slice.
    let chunks = if chunks.is_empty() {
        vec![(0, 0)]
    } else {
        chunks
    };
    chunks
        .into_iter()
        .enumerate()
        .map(|(slice, (start, end))| {
            let items: Vec<Value> = (start..end)
                .map(|e| {
                    json!({
                        "addresses": [endpoint_ip(index, endpoints, e).to_string()],
                        "conditions": {"ready": true, "serving": true, "terminating": false},
                        "nodeName": format!("node-{}", (index + e) % 50),
                        "zone": format!("zone-{}", ["a", "b", "c"][(index + e) % 3]),
                        "targetRef": {
                            "kind": "Pod",
                            "namespace": namespace,
                            "name": format!("{service_name}-{replica_set}-{}", suffix(index * 1_000_003 + e + 7_777, 5)),
                            "uid": uid(3, index, e),
                        },
                    })
                })
                .collect();
            json!({
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": format!("{service_name}-{}", suffix(index * 131 + slice, 5)),
                    "namespace": namespace,
                    "generateName": format!("{service_name}-"),
                    "uid": uid(2, index, slice),
                    "labels": {
                        "app": service_name,
                        "kubernetes.io/service-name": service_name,
                        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                    },
                    "ownerReferences": [{
                        "apiVersion": "v1",
                        "kind": "Service",
                        "name": service_name,
                        "uid": uid(1, index, 0),
                        "controller": true,
                        "blockOwnerDeletion": true,
                    }],
                },
                "addressType": "IPv4",
                "endpoints": items,
                "ports": [
                    {"name": "http", "port": 8080, "protocol": "TCP"},
                    {"name": "grpc", "port": 9090, "protocol": "TCP"},
                ],
            })
        })
        .collect()
}

impl FakeApi {
    /// Applies every object of a generated cluster.
    pub fn populate(&self, spec: &ClusterSpec) -> Result<(), FakeApiError> {
        for object in spec.objects() {
            self.apply(object)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_are_split_at_one_hundred_endpoints_and_addresses_are_unique() {
        let slices = endpoint_slices("ns-0", 7, 250);
        let sizes: Vec<usize> = slices
            .iter()
            .map(|s| s["endpoints"].as_array().map_or(0, Vec::len))
            .collect();
        assert_eq!(sizes, [100, 100, 50]);
        let mut addresses: Vec<&str> = slices
            .iter()
            .flat_map(|s| s["endpoints"].as_array().into_iter().flatten())
            .filter_map(|e| e["addresses"][0].as_str())
            .collect();
        addresses.sort_unstable();
        addresses.dedup();
        assert_eq!(addresses.len(), 250);
        assert_eq!(endpoint_slices("ns-0", 1, 0).len(), 1);
    }

    #[test]
    fn spec_counts() {
        let spec = ClusterSpec {
            namespaces: 3,
            services: 10,
            endpoints_per_service: 2,
        };
        let objects: Vec<Value> = spec.objects().collect();
        let count = |kind: &str| objects.iter().filter(|o| o["kind"] == kind).count();
        assert_eq!(
            (count("Namespace"), count("Service"), count("EndpointSlice")),
            (5, 10, 10)
        );
    }
}
