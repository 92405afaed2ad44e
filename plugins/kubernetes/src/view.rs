//! [`ClusterView`]: the read-only handle on a `kubernetes` stanza's cache that `k8s_external`
//! uses (kubernetes.md §14). Published in the block's extensions as `ClusterView`.

use std::net::IpAddr;
use std::sync::Arc;

use crate::cache::Cache;
use crate::config::Config;
use crate::lookup::{Candidate, Lookup, Owner, Target, endpoint_candidates};
use crate::objects::Service;
use crate::qname::{Kind, Parsed};

/// A read-only view of one `kubernetes` stanza's cluster cache.
///
/// Every method takes the cache's read lock for the duration of the call and returns owned
/// data (Services are shared `Arc`s of the reduced objects, never API types).
#[derive(Clone)]
pub struct ClusterView {
    cache: Arc<Cache>,
    config: Arc<Config>,
    own_addresses: Arc<[IpAddr]>,
}

/// One endpoint answer of §3.1: an address, the slice port, and the endpoint name (§3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointRecord {
    pub name: Box<str>,
    pub address: IpAddr,
    /// The slice port; [`crate::objects::SENTINEL_PORT`] when the slice lists none.
    pub port: i32,
}

/// The Services fronting this server (§5.2 steps 1–2).
#[derive(Clone, Debug, Default)]
pub struct Fronting {
    /// The server's own addresses (step 1).
    pub own_addresses: Vec<IpAddr>,
    /// For each own address, each slice listing it and that slice's Service (step 2), in
    /// that order. Empty when no slice lists an own address (step 4 applies).
    pub services: Vec<FrontingService>,
}

#[derive(Clone, Debug)]
pub struct FrontingService {
    pub service: Arc<Service>,
    /// Every ready address of the slice that lists the own address, with its endpoint name.
    pub endpoints: Vec<(Box<str>, IpAddr)>,
}

impl ClusterView {
    pub fn new(cache: Arc<Cache>, config: Arc<Config>, own_addresses: Arc<[IpAddr]>) -> Self {
        ClusterView {
            cache,
            config,
            own_addresses,
        }
    }

    /// Every watch has completed its first list (§9).
    pub fn synced(&self) -> bool {
        self.cache.has_synced()
    }

    /// The kubernetes plugin's `ttl` (k8s_external uses it for SRV and CNAME records, Q13).
    pub fn ttl(&self) -> u32 {
        self.config.ttl
    }

    /// k8s_external's SOA serial (§11.6): moves only on Service updates that change external
    /// addresses or ports.
    pub fn external_serial(&self) -> u32 {
        self.cache.external_clock.serial()
    }

    /// The Namespace exists (after `namespace_labels`) and is in the `namespaces` list.
    pub fn namespace_exposed(&self, namespace: &str) -> bool {
        let index = self.cache.read();
        self.lookup(&index).namespace_exposed(namespace)
    }

    /// The Service `namespace/name` (names compared as stored: lower case).
    pub fn service(&self, namespace: &str, name: &str) -> Option<Arc<Service>> {
        let key = format!("{name}.{namespace}");
        let index = self.cache.read();
        index.entry(&key)?.service().cloned()
    }

    /// The endpoint answers of §3.1 for a Service (the headless candidate set, also what an
    /// endpoint label selects on any Service): every ready address whose endpoint name
    /// matches `endpoint` (empty: all) × every slice port matching `port`/`protocol`
    /// (empty: all; one leading `_` already stripped).
    pub fn endpoints(
        &self,
        namespace: &str,
        name: &str,
        endpoint: &str,
        port: &str,
        protocol: &str,
    ) -> Vec<EndpointRecord> {
        let key = format!("{name}.{namespace}");
        let index = self.cache.read();
        let Some(entry) = index.entry(&key) else {
            return Vec::new();
        };
        let Some(service) = entry.service() else {
            return Vec::new();
        };
        let filter = Parsed {
            kind: Kind::Svc,
            namespace,
            service: name,
            endpoint,
            port,
            protocol,
            key: &key,
        };
        let mut candidates: Vec<Candidate<'_>> = Vec::new();
        endpoint_candidates(service, entry, &filter, &mut candidates);
        candidates
            .into_iter()
            .filter_map(|c| match (c.target, c.owner) {
                (Target::Address(address), Owner::Endpoint(_, endpoint)) => Some(EndpointRecord {
                    name: endpoint.into(),
                    address,
                    port: c.port,
                }),
                _ => None,
            })
            .collect()
    }

    /// Services having `address` among their external addresses, filtered by the
    /// `namespaces` list only (§14 reverse, as §6).
    pub fn services_by_external_address(&self, address: IpAddr) -> Vec<Arc<Service>> {
        let index = self.cache.read();
        let lookup = self.lookup(&index);
        index
            .by_external_address
            .get(&address)
            .map(|list| {
                list.iter()
                    .filter(|s| lookup.namespace_listed(&s.namespace))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The Services fronting this server (§5.2 steps 1–2).
    pub fn fronting(&self) -> Fronting {
        let index = self.cache.read();
        let mut services = Vec::new();
        for local in self.own_addresses.iter() {
            let Some(claims) = index.claims(local) else {
                continue;
            };
            for slice in &claims.slices {
                let Some(service) = slice
                    .service_key()
                    .and_then(|k| index.entry(&k))
                    .and_then(|e| e.service())
                else {
                    continue;
                };
                services.push(FrontingService {
                    service: service.clone(),
                    endpoints: slice
                        .endpoints
                        .iter()
                        .map(|e| (e.name.clone(), e.address))
                        .collect(),
                });
            }
        }
        Fronting {
            own_addresses: self.own_addresses.to_vec(),
            services,
        }
    }

    fn lookup<'a>(&'a self, index: &'a crate::cache::Index) -> Lookup<'a> {
        Lookup {
            config: &self.config,
            index,
        }
    }
}

impl std::fmt::Debug for ClusterView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterView")
            .field("zones", &self.config.zones)
            .finish()
    }
}
