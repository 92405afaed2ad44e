//! The watch cache: reduced objects in indexes built for the questions DNS asks
//! (kubernetes.md §11), fed by the sources through [`ClusterSink`].
//!
//! One `RwLock` guards every index. Queries take the read lock for the few lookups an answer
//! needs; each source task takes the write lock for one event at a time. Nothing awaits while
//! holding it.
//!
//! Re-lists are mark and sweep (§9: "A re-list replaces the store only when complete"):
//! `Begin` starts a new generation of the resource, each `Upsert` stamps its object with it,
//! and `Synced` removes what still carries an older one. Objects that did not change stay in
//! place, so there is no window of missing names and never a second copy of the cache.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use hickory_proto::rr::Name;
use k8s_openapi::api::core::v1::{Namespace, Pod as ApiPod, Service as ApiService};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::jiff::Timestamp;

use crate::clock::Clock;
use crate::feed::{ClusterSink, Feed, Resource};
use crate::lookup::relative_name;
use crate::metrics::KubernetesMetrics;
use crate::objects::pod::namespace_name;
use crate::objects::slice::{Reduced, store_key};
use crate::objects::{ExternalAddress, Pod, PodEvent, Service, Slice};

/// Maps keyed by names and addresses, hashed with a fast non-cryptographic hasher (the keys
/// come from the API server, and foldhash's per-process seed still randomises them).
pub type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// An object with the listing generation that last mentioned it.
#[derive(Clone, Debug)]
pub struct Stored<T> {
    pub object: T,
    generation: u32,
}

/// Everything known under one `<service>.<namespace>` key: the Service (if cached) and the
/// slices labelled with its name (also before the Service itself arrives).
#[derive(Clone, Debug, Default)]
pub struct Entry {
    pub service: Option<Stored<Arc<Service>>>,
    pub slices: Vec<Arc<Slice>>,
    /// The Service's `<svc>.<ns>.svc` as a relative name, built when the Service is stored:
    /// SRV targets and additional records need it per answer (§3.4). Kept beside the
    /// Service, not in it, so that the reduced object stays what the API said.
    pub relative: Option<Name>,
}

impl Entry {
    pub fn service(&self) -> Option<&Arc<Service>> {
        self.service.as_ref().map(|s| &s.object)
    }

    /// Removes the Service (and the name built for it).
    fn take_service(&mut self) -> Option<Stored<Arc<Service>>> {
        self.relative = None;
        self.service.take()
    }

    /// Ready addresses over all slices (for `ignore empty_service`).
    pub fn has_ready_address(&self) -> bool {
        self.slices.iter().any(|s| !s.endpoints.is_empty())
    }
}

/// Who claims one address (the PTR index, §6).
#[derive(Clone, Debug, Default)]
pub struct Claims {
    /// Services with this cluster IP, in the order they arrived.
    pub services: Vec<Arc<Service>>,
    /// Slices listing it as a ready address (each slice once).
    pub slices: Vec<Arc<Slice>>,
}

impl Claims {
    fn is_empty(&self) -> bool {
        self.services.is_empty() && self.slices.is_empty()
    }
}

/// The indexes. Read through [`Cache::read`].
#[derive(Debug, Default)]
pub struct Index {
    /// `<service>.<namespace>` → Service and its slices.
    pub services: Map<Box<str>, Entry>,
    /// `<namespace>/<slice>` → the slice (§11.2).
    slices: Map<Box<str>, Stored<Arc<Slice>>>,
    /// Cluster IPs and ready endpoint addresses → who has them.
    pub by_address: Map<IpAddr, Claims>,
    /// External addresses (IPs only) → Services, for k8s_external's PTR.
    pub by_external_address: Map<IpAddr, Vec<Arc<Service>>>,
    /// `<namespace>/<pod>` → the pod.
    pods: Map<Box<str>, Stored<Arc<Pod>>>,
    /// `status.podIP` → pods, first arrived first.
    pub pods_by_address: Map<IpAddr, Vec<Arc<Pod>>>,
    /// Namespace names → generation.
    namespaces: Map<Box<str>, u32>,
    generations: [u32; 4],
}

fn slot(resource: Resource) -> usize {
    match resource {
        Resource::Services => 0,
        Resource::EndpointSlices => 1,
        Resource::Namespaces => 2,
        Resource::Pods => 3,
    }
}

impl Index {
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.services.get(key)
    }

    pub fn namespace_exists(&self, name: &str) -> bool {
        self.namespaces.contains_key(name)
    }

    pub fn claims(&self, address: &IpAddr) -> Option<&Claims> {
        self.by_address.get(address)
    }

    fn generation(&self, resource: Resource) -> u32 {
        self.generations[slot(resource)]
    }

    fn entry_mut(&mut self, key: &str) -> &mut Entry {
        if !self.services.contains_key(key) {
            self.services.insert(key.into(), Entry::default());
        }
        self.services.get_mut(key).expect("inserted above")
    }

    /// Drops an entry that holds neither a Service nor a slice.
    fn prune(&mut self, key: &str) {
        if self
            .services
            .get(key)
            .is_some_and(|e| e.service.is_none() && e.slices.is_empty())
        {
            self.services.remove(key);
        }
    }

    fn index_service(&mut self, service: &Arc<Service>) {
        for ip in service.cluster_ips.iter() {
            self.by_address
                .entry(*ip)
                .or_default()
                .services
                .push(service.clone());
        }
        for address in service.external.iter() {
            if let ExternalAddress::Ip(ip) = address {
                self.by_external_address
                    .entry(*ip)
                    .or_default()
                    .push(service.clone());
            }
        }
    }

    fn unindex_service(&mut self, service: &Arc<Service>) {
        for ip in service.cluster_ips.iter() {
            if let Some(claims) = self.by_address.get_mut(ip) {
                claims.services.retain(|s| !Arc::ptr_eq(s, service));
                if claims.is_empty() {
                    self.by_address.remove(ip);
                }
            }
        }
        for address in service.external.iter() {
            if let ExternalAddress::Ip(ip) = address
                && let Some(list) = self.by_external_address.get_mut(ip)
            {
                list.retain(|s| !Arc::ptr_eq(s, service));
                if list.is_empty() {
                    self.by_external_address.remove(ip);
                }
            }
        }
    }

    fn index_slice(&mut self, slice: &Arc<Slice>) {
        if let Some(key) = slice.service_key() {
            self.entry_mut(&key).slices.push(slice.clone());
        }
        for (i, endpoint) in slice.endpoints.iter().enumerate() {
            // Each slice once per address, even if it lists the address twice.
            if slice.endpoints[..i]
                .iter()
                .any(|e| e.address == endpoint.address)
            {
                continue;
            }
            self.by_address
                .entry(endpoint.address)
                .or_default()
                .slices
                .push(slice.clone());
        }
    }

    fn unindex_slice(&mut self, slice: &Arc<Slice>) {
        if let Some(key) = slice.service_key() {
            if let Some(entry) = self.services.get_mut(key.as_str()) {
                entry.slices.retain(|s| !Arc::ptr_eq(s, slice));
            }
            self.prune(&key);
        }
        for endpoint in slice.endpoints.iter() {
            if let Some(claims) = self.by_address.get_mut(&endpoint.address) {
                claims.slices.retain(|s| !Arc::ptr_eq(s, slice));
                if claims.is_empty() {
                    self.by_address.remove(&endpoint.address);
                }
            }
        }
    }

    fn index_pod(&mut self, pod: &Arc<Pod>) {
        if let Some(ip) = pod.ip {
            self.pods_by_address
                .entry(ip)
                .or_default()
                .push(pod.clone());
        }
    }

    fn unindex_pod(&mut self, pod: &Arc<Pod>) {
        if let Some(ip) = pod.ip
            && let Some(list) = self.pods_by_address.get_mut(&ip)
        {
            list.retain(|p| !Arc::ptr_eq(p, pod));
            if list.is_empty() {
                self.pods_by_address.remove(&ip);
            }
        }
    }
}

/// What the cache needs to know about its configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheOptions {
    /// `endpoint_pod_names` (§3.2): endpoint names are computed at ingest.
    pub endpoint_pod_names: bool,
    /// The EndpointSlice watch runs (not `noendpoints`): readiness waits for it.
    pub endpoint_slices: bool,
    /// The Pod watch runs: readiness waits for it.
    pub pods: bool,
}

/// The cache of one `kubernetes` stanza.
pub struct Cache {
    index: RwLock<Index>,
    options: CacheOptions,
    synced: [AtomicBool; 4],
    /// The cluster and reverse zones' SOA serial (§11.6).
    pub clock: Clock,
    /// k8s_external's SOA serial (§11.6): Service updates changing external addresses/ports.
    pub external_clock: Clock,
    metrics: Option<Arc<KubernetesMetrics>>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("options", &self.options)
            .field("synced", &self.synced)
            .finish()
    }
}

impl Cache {
    pub fn new(options: CacheOptions, metrics: Option<Arc<KubernetesMetrics>>) -> Self {
        Cache {
            index: RwLock::new(Index::default()),
            options,
            synced: Default::default(),
            clock: Clock::new(),
            external_clock: Clock::new(),
            metrics,
        }
    }

    pub fn options(&self) -> CacheOptions {
        self.options
    }

    /// The indexes, for the few lookups of one answer. Do not hold across an await.
    pub fn read(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    /// True once `resource` completed its first listing (sticky, §9).
    pub fn is_synced(&self, resource: Resource) -> bool {
        self.synced[slot(resource)].load(Ordering::Acquire)
    }

    /// Every watch this stanza started has completed its initial list (§9, readiness).
    pub fn has_synced(&self) -> bool {
        self.is_synced(Resource::Services)
            && self.is_synced(Resource::Namespaces)
            && (!self.options.endpoint_slices || self.is_synced(Resource::EndpointSlices))
            && (!self.options.pods || self.is_synced(Resource::Pods))
    }

    fn begin(&self, resource: Resource) {
        let mut index = self.write();
        let generation = &mut index.generations[slot(resource)];
        *generation = generation.wrapping_add(1);
    }

    fn mark_synced(&self, resource: Resource) {
        self.synced[slot(resource)].store(true, Ordering::Release);
    }

    fn upsert_service(&self, service: Service) {
        let key = service.key();
        let mut index = self.write();
        let generation = index.generation(Resource::Services);
        let old = index
            .services
            .get(key.as_str())
            .and_then(|e| e.service.as_ref())
            .map(|s| s.object.clone());
        if let Some(old) = &old
            && **old == service
        {
            if let Some(stored) = index.entry_mut(&key).service.as_mut() {
                stored.generation = generation;
            }
            return;
        }
        let service = Arc::new(service);
        match &old {
            Some(old) => {
                index.unindex_service(old);
                if service.dns_differs(old) {
                    self.clock.touch();
                }
                if service.external_differs(old) {
                    self.external_clock.touch();
                }
            }
            None => self.clock.touch(),
        }
        index.index_service(&service);
        let entry = index.entry_mut(&key);
        entry.relative = relative_name(&service);
        entry.service = Some(Stored {
            object: service,
            generation,
        });
    }

    fn delete_service(&self, key: &str) {
        let mut index = self.write();
        let Some(old) = index.services.get_mut(key).and_then(Entry::take_service) else {
            return;
        };
        index.unindex_service(&old.object);
        index.prune(key);
        self.clock.touch();
    }

    fn sweep_services(&self) {
        let mut index = self.write();
        let generation = index.generation(Resource::Services);
        let stale: Vec<Box<str>> = index
            .services
            .iter()
            .filter(|(_, e)| {
                e.service
                    .as_ref()
                    .is_some_and(|s| s.generation != generation)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in &stale {
            if let Some(old) = index.services.get_mut(key).and_then(Entry::take_service) {
                index.unindex_service(&old.object);
            }
            index.prune(key);
        }
        if !stale.is_empty() {
            self.clock.touch();
        }
    }

    fn upsert_slice(&self, slice: Slice, trigger: Option<Timestamp>) {
        let key = slice.store_key();
        let mut index = self.write();
        let generation = index.generation(Resource::EndpointSlices);
        self.observe_programming(&index, &slice, trigger);
        if let Some(stored) = index.slices.get_mut(key.as_str())
            && *stored.object == slice
        {
            stored.generation = generation;
            return;
        }
        let slice = Arc::new(slice);
        match index.slices.remove(key.as_str()) {
            Some(old) => {
                index.unindex_slice(&old.object);
                if slice.dns_differs(&old.object) {
                    self.clock.touch();
                }
            }
            None => self.clock.touch(),
        }
        index.index_slice(&slice);
        index.slices.insert(
            key.into(),
            Stored {
                object: slice,
                generation,
            },
        );
    }

    fn delete_slice(&self, slice: &Slice, trigger: Option<Timestamp>) {
        let mut index = self.write();
        self.observe_programming(&index, slice, trigger);
        if let Some(old) = index.slices.remove(slice.store_key().as_str()) {
            index.unindex_slice(&old.object);
            self.clock.touch();
        }
    }

    fn sweep_slices(&self) {
        let mut index = self.write();
        let generation = index.generation(Resource::EndpointSlices);
        let stale: Vec<Box<str>> = index
            .slices
            .iter()
            .filter(|(_, s)| s.generation != generation)
            .map(|(k, _)| k.clone())
            .collect();
        for key in &stale {
            if let Some(old) = index.slices.remove(key) {
                index.unindex_slice(&old.object);
            }
        }
        if !stale.is_empty() {
            self.clock.touch();
        }
    }

    /// `coredns_kubernetes_dns_programming_duration_seconds`: a slice event carrying the
    /// trigger-time annotation whose Service is known (metrics.md, kubernetes).
    fn observe_programming(&self, index: &Index, slice: &Slice, trigger: Option<Timestamp>) {
        let (Some(metrics), Some(trigger)) = (&self.metrics, trigger) else {
            return;
        };
        let Some(service) = slice
            .service_key()
            .and_then(|k| index.entry(&k).and_then(|e| e.service().cloned()))
        else {
            return;
        };
        let elapsed = Timestamp::now().duration_since(trigger).as_secs_f64();
        metrics.observe(service.is_headless(), elapsed);
    }

    fn upsert_pod(&self, event: PodEvent) {
        let mut index = self.write();
        let generation = index.generation(Resource::Pods);
        match event {
            PodEvent::Invalid => {}
            PodEvent::Terminating { key } => {
                // Kept unchanged until its delete event; still part of this listing (§11.3).
                if let Some(stored) = index.pods.get_mut(key.as_str()) {
                    stored.generation = generation;
                }
            }
            PodEvent::Finished { key } => {
                if let Some(old) = index.pods.remove(key.as_str()) {
                    index.unindex_pod(&old.object);
                    self.clock.touch();
                }
            }
            PodEvent::Store(pod) => {
                let key = pod.store_key();
                if let Some(stored) = index.pods.get_mut(key.as_str())
                    && *stored.object == pod
                {
                    stored.generation = generation;
                    return;
                }
                let pod = Arc::new(pod);
                match index.pods.remove(key.as_str()) {
                    Some(old) => {
                        index.unindex_pod(&old.object);
                        if old.object.ip != pod.ip {
                            self.clock.touch();
                        }
                    }
                    None => self.clock.touch(),
                }
                index.index_pod(&pod);
                index.pods.insert(
                    key.into(),
                    Stored {
                        object: pod,
                        generation,
                    },
                );
            }
        }
    }

    fn delete_pod(&self, key: &str) {
        let mut index = self.write();
        if let Some(old) = index.pods.remove(key) {
            index.unindex_pod(&old.object);
            self.clock.touch();
        }
    }

    fn sweep_pods(&self) {
        let mut index = self.write();
        let generation = index.generation(Resource::Pods);
        let stale: Vec<Box<str>> = index
            .pods
            .iter()
            .filter(|(_, p)| p.generation != generation)
            .map(|(k, _)| k.clone())
            .collect();
        for key in &stale {
            if let Some(old) = index.pods.remove(key) {
                index.unindex_pod(&old.object);
            }
        }
        if !stale.is_empty() {
            self.clock.touch();
        }
    }
}

fn api_key(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Option<String> {
    Some(store_key(meta.namespace.as_deref()?, meta.name.as_deref()?))
}

/// The events of every resource, in the order the source delivers them. Namespaces move no
/// clock (§11.6).
impl ClusterSink for Cache {
    fn services(&self, event: Feed<ApiService>) {
        match event {
            Feed::Begin => self.begin(Resource::Services),
            Feed::Upsert(api) => {
                if let Some(service) = Service::from_api(&api) {
                    self.upsert_service(service);
                }
            }
            Feed::Delete(api) => {
                if let (Some(name), Some(namespace)) = (
                    api.metadata.name.as_deref(),
                    api.metadata.namespace.as_deref(),
                ) {
                    self.delete_service(&format!("{name}.{namespace}"));
                }
            }
            Feed::Synced => {
                self.sweep_services();
                self.mark_synced(Resource::Services);
            }
        }
    }

    fn endpoint_slices(&self, event: Feed<EndpointSlice>) {
        match event {
            Feed::Begin => self.begin(Resource::EndpointSlices),
            Feed::Upsert(api) => {
                if let Reduced::Slice(slice, trigger) =
                    Slice::from_api(&api, self.options.endpoint_pod_names)
                {
                    self.upsert_slice(slice, trigger);
                }
            }
            Feed::Delete(api) => {
                if let Reduced::Slice(slice, trigger) =
                    Slice::from_api(&api, self.options.endpoint_pod_names)
                {
                    self.delete_slice(&slice, trigger);
                }
            }
            Feed::Synced => {
                self.sweep_slices();
                self.mark_synced(Resource::EndpointSlices);
            }
        }
    }

    fn namespaces(&self, event: Feed<Namespace>) {
        match event {
            Feed::Begin => self.begin(Resource::Namespaces),
            Feed::Upsert(api) => {
                if let Some(name) = namespace_name(&api) {
                    let mut index = self.write();
                    let generation = index.generation(Resource::Namespaces);
                    index.namespaces.insert(name.into(), generation);
                }
            }
            Feed::Delete(api) => {
                if let Some(name) = namespace_name(&api) {
                    self.write().namespaces.remove(name);
                }
            }
            Feed::Synced => {
                {
                    let mut index = self.write();
                    let generation = index.generation(Resource::Namespaces);
                    index.namespaces.retain(|_, g| *g == generation);
                }
                self.mark_synced(Resource::Namespaces);
            }
        }
    }

    fn pods(&self, event: Feed<ApiPod>) {
        match event {
            Feed::Begin => self.begin(Resource::Pods),
            Feed::Upsert(api) => self.upsert_pod(Pod::from_api(&api)),
            Feed::Delete(api) => {
                if let Some(key) = api_key(&api.metadata) {
                    self.delete_pod(&key);
                }
            }
            Feed::Synced => {
                self.sweep_pods();
                self.mark_synced(Resource::Pods);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::metrics::MetricsHub;
    use serde_json::json;

    fn service(json: serde_json::Value) -> ApiService {
        serde_json::from_value(json).unwrap()
    }

    fn svc1(rv: &str, ip: &str, port: i32) -> ApiService {
        service(json!({
            "metadata": {"name": "svc1", "namespace": "testns", "resourceVersion": rv},
            "spec": {"clusterIP": ip, "ports": [{"name": "http", "protocol": "TCP", "port": port}]}
        }))
    }

    fn slice(rv: &str, addresses: &[&str], annotation: Option<&str>) -> EndpointSlice {
        let endpoints: Vec<_> = addresses
            .iter()
            .map(|a| json!({"addresses": [a], "conditions": {"ready": true}}))
            .collect();
        let mut meta = json!({"name": "svc1-a", "namespace": "testns", "resourceVersion": rv,
                              "labels": {"kubernetes.io/service-name": "svc1"}});
        if let Some(time) = annotation {
            meta["annotations"] = json!({"endpoints.kubernetes.io/last-change-trigger-time": time});
        }
        serde_json::from_value(json!({
            "metadata": meta, "addressType": "IPv4",
            "ports": [{"name": "http", "protocol": "TCP", "port": 8080}],
            "endpoints": endpoints
        }))
        .unwrap()
    }

    fn pod(name: &str, ip: &str, extra: serde_json::Value) -> ApiPod {
        let mut meta = json!({"name": name, "namespace": "podns", "resourceVersion": "1"});
        if let Some(map) = extra.as_object() {
            for (k, v) in map {
                meta[k] = v.clone();
            }
        }
        serde_json::from_value(
            json!({"metadata": meta, "status": {"phase": "Running", "podIP": ip}}),
        )
        .unwrap()
    }

    fn cache() -> Cache {
        Cache::new(
            CacheOptions {
                endpoint_pod_names: false,
                endpoint_slices: true,
                pods: true,
            },
            None,
        )
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_relist_removes_only_what_it_did_not_mention() {
        let cache = cache();
        let other = service(json!({"metadata": {"name": "svc2", "namespace": "testns"},
                                    "spec": {"clusterIP": "10.0.0.8"}}));
        cache.services(Feed::Begin);
        cache.services(Feed::Upsert(svc1("1", "10.0.0.1", 80)));
        cache.services(Feed::Upsert(other.clone()));
        cache.services(Feed::Synced);
        let before = cache
            .read()
            .entry("svc1.testns")
            .and_then(|e| e.service().cloned());

        cache.services(Feed::Begin);
        cache.services(Feed::Upsert(svc1("1", "10.0.0.1", 80)));
        // During the listing nothing is missing yet.
        assert!(cache.read().entry("svc2.testns").is_some());
        cache.services(Feed::Synced);
        let index = cache.read();
        assert!(index.entry("svc2.testns").is_none());
        assert!(index.claims(&ip("10.0.0.8")).is_none());
        // The unchanged object stayed in place: no second copy was built.
        let after = index
            .entry("svc1.testns")
            .and_then(|e| e.service().cloned());
        assert!(Arc::ptr_eq(&before.unwrap(), &after.unwrap()));
    }

    #[test]
    fn updates_and_deletes_reindex_addresses() {
        let cache = cache();
        cache.services(Feed::Upsert(svc1("1", "10.0.0.1", 80)));
        cache.endpoint_slices(Feed::Upsert(slice("1", &["172.0.0.1"], None)));
        cache.services(Feed::Upsert(svc1("2", "10.0.0.99", 80)));
        cache.endpoint_slices(Feed::Upsert(slice("2", &["172.0.0.9"], None)));
        {
            let index = cache.read();
            assert!(index.claims(&ip("10.0.0.1")).is_none());
            assert_eq!(index.claims(&ip("10.0.0.99")).unwrap().services.len(), 1);
            assert!(index.claims(&ip("172.0.0.1")).is_none());
            assert_eq!(index.claims(&ip("172.0.0.9")).unwrap().slices.len(), 1);
            assert_eq!(index.entry("svc1.testns").unwrap().slices.len(), 1);
        }
        cache.endpoint_slices(Feed::Delete(slice("2", &["172.0.0.9"], None)));
        cache.services(Feed::Delete(svc1("2", "10.0.0.99", 80)));
        let index = cache.read();
        assert!(index.entry("svc1.testns").is_none());
        assert!(index.by_address.is_empty());
    }

    #[test]
    fn slices_before_their_service_are_gathered_under_it() {
        let cache = cache();
        cache.endpoint_slices(Feed::Upsert(slice("1", &["172.0.0.1"], None)));
        assert!(
            cache
                .read()
                .entry("svc1.testns")
                .unwrap()
                .service()
                .is_none()
        );
        cache.services(Feed::Upsert(svc1("1", "10.0.0.1", 80)));
        let index = cache.read();
        let entry = index.entry("svc1.testns").unwrap();
        assert!(entry.service().is_some() && entry.has_ready_address());
    }

    #[test]
    fn which_events_move_the_clocks() {
        let cache = cache();
        let moved = |f: &dyn Fn()| {
            cache.clock.reset();
            cache.external_clock.reset();
            f();
            (
                cache.clock.serial() != 0,
                cache.external_clock.serial() != 0,
            )
        };
        // §11.6: adds and deletes move the cluster clock, never the external one (Q13).
        assert_eq!(
            moved(&|| cache.services(Feed::Upsert(svc1("1", "10.0.0.1", 80)))),
            (true, false)
        );
        // Same object again (a re-list): nothing.
        assert_eq!(
            moved(&|| cache.services(Feed::Upsert(svc1("1", "10.0.0.1", 80)))),
            (false, false)
        );
        // Cluster IP changed: no clock (only external name and ports count).
        assert_eq!(
            moved(&|| cache.services(Feed::Upsert(svc1("2", "10.0.0.2", 80)))),
            (false, false)
        );
        // A port changed: both clocks.
        assert_eq!(
            moved(&|| cache.services(Feed::Upsert(svc1("3", "10.0.0.2", 81)))),
            (true, true)
        );
        let with_external = service(json!({
            "metadata": {"name": "svc1", "namespace": "testns", "resourceVersion": "4"},
            "spec": {"clusterIP": "10.0.0.2", "externalIPs": ["1.2.3.4"],
                     "ports": [{"name": "http", "protocol": "TCP", "port": 81}]}
        }));
        assert_eq!(
            moved(&|| cache.services(Feed::Upsert(with_external.clone()))),
            (false, true)
        );
        assert_eq!(
            moved(&|| cache.endpoint_slices(Feed::Upsert(slice("1", &["172.0.0.1"], None)))),
            (true, false)
        );
        assert_eq!(
            moved(&|| cache.endpoint_slices(Feed::Upsert(slice("2", &["172.0.0.1"], None)))),
            (false, false)
        );
        assert_eq!(
            moved(&|| cache.endpoint_slices(Feed::Upsert(slice("3", &["172.0.0.2"], None)))),
            (true, false)
        );
        // Namespaces move no clock.
        let ns: Namespace =
            serde_json::from_value(json!({"metadata": {"name": "testns"}})).unwrap();
        assert_eq!(
            moved(&|| cache.namespaces(Feed::Upsert(ns.clone()))),
            (false, false)
        );
        assert_eq!(
            moved(&|| cache.pods(Feed::Upsert(pod("foo", "10.240.0.1", json!({}))))),
            (true, false)
        );
        assert_eq!(
            moved(&|| cache.pods(Feed::Delete(pod("foo", "10.240.0.1", json!({}))))),
            (true, false)
        );
        assert_eq!(
            moved(&|| cache.services(Feed::Delete(with_external.clone()))),
            (true, false)
        );
        // A sweep that removes something is a delete.
        assert_eq!(
            moved(&|| {
                cache.endpoint_slices(Feed::Begin);
                cache.endpoint_slices(Feed::Synced)
            }),
            (true, false)
        );
    }

    #[test]
    fn terminating_and_finished_pods() {
        let cache = cache();
        let terminating = json!({"deletionTimestamp": "2024-01-01T00:00:00Z"});
        cache.pods(Feed::Upsert(pod("new", "10.240.0.7", terminating.clone())));
        assert!(!cache.read().pods_by_address.contains_key(&ip("10.240.0.7")));
        cache.pods(Feed::Upsert(pod("foo", "10.240.0.1", json!({}))));
        cache.pods(Feed::Begin);
        cache.pods(Feed::Upsert(pod("foo", "10.240.0.9", terminating)));
        cache.pods(Feed::Synced);
        // Kept unchanged (old address) until its delete event, also across the re-list.
        assert!(cache.read().pods_by_address.contains_key(&ip("10.240.0.1")));
        let mut finished = pod("foo", "10.240.0.1", json!({}));
        finished.status.as_mut().unwrap().phase = Some("Succeeded".into());
        cache.pods(Feed::Upsert(finished));
        assert!(cache.read().pods_by_address.is_empty());
    }

    #[test]
    fn readiness_waits_for_the_watches_started_and_is_sticky() {
        let without_pods = Cache::new(
            CacheOptions {
                endpoint_pod_names: false,
                endpoint_slices: false,
                pods: false,
            },
            None,
        );
        without_pods.services(Feed::Synced);
        assert!(!without_pods.has_synced());
        without_pods.namespaces(Feed::Synced);
        assert!(without_pods.has_synced(), "slices and pods are not watched");

        let all = cache();
        all.services(Feed::Synced);
        all.namespaces(Feed::Synced);
        all.endpoint_slices(Feed::Synced);
        assert!(!all.has_synced(), "pods are watched");
        all.pods(Feed::Synced);
        assert!(all.has_synced());
        all.services(Feed::Begin);
        assert!(all.has_synced(), "a re-list keeps readiness");
    }

    #[test]
    fn programming_duration_needs_the_annotation_and_one_known_service() {
        let hub = MetricsHub::new();
        let metrics = hub.get::<KubernetesMetrics>();
        let cache = Cache::new(CacheOptions::default(), Some(metrics));
        let time = "2024-01-01T00:00:00Z";
        // Service unknown yet: not observed.
        cache.endpoint_slices(Feed::Upsert(slice("1", &["172.0.0.1"], Some(time))));
        cache.services(Feed::Upsert(svc1("1", "10.0.0.1", 80)));
        // No annotation: not observed.
        cache.endpoint_slices(Feed::Upsert(slice("2", &["172.0.0.1"], None)));
        cache.endpoint_slices(Feed::Upsert(slice("3", &["172.0.0.2"], Some(time))));
        cache.endpoint_slices(Feed::Delete(slice("3", &["172.0.0.2"], Some(time))));
        let text = hub.encode_text().unwrap();
        assert!(
            text.contains("coredns_kubernetes_dns_programming_duration_seconds_count{service_kind=\"cluster_ip\"} 2"),
            "{text}"
        );
    }
}
