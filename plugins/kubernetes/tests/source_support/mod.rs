//! Shared by the `source_*` tests: a sink that records every event, a temporary folder, and a
//! bounded wait for a condition (no timing assertions: a condition either becomes true or the
//! wait gives up and the test fails).
#![allow(dead_code)] // each test binary uses its own part of this module

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clusterdns_kubernetes::feed::{ClusterSink, Feed, Resource};
use clusterdns_kubernetes::settings::WatchScope;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::ResourceExt;

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Begin(Resource),
    /// `namespace/name` (just `name` for Namespaces) and the object as JSON.
    Upsert(Resource, String, serde_json::Value),
    Delete(Resource, String),
    Synced(Resource),
}

impl Event {
    pub fn resource(&self) -> Resource {
        match self {
            Event::Begin(r) | Event::Synced(r) | Event::Upsert(r, ..) | Event::Delete(r, _) => *r,
        }
    }
}

#[derive(Default)]
pub struct Recorder {
    events: Mutex<Vec<Event>>,
}

fn key<K: kube::Resource>(object: &K) -> String {
    match object.namespace() {
        Some(ns) => format!("{ns}/{}", object.name_any()),
        None => object.name_any(),
    }
}

impl Recorder {
    fn record<K: kube::Resource + serde::Serialize>(&self, resource: Resource, event: Feed<K>) {
        let event = match event {
            Feed::Begin => Event::Begin(resource),
            Feed::Upsert(object) => Event::Upsert(
                resource,
                key(&object),
                serde_json::to_value(&object).expect("k8s objects serialize"),
            ),
            Feed::Delete(object) => Event::Delete(resource, key(&object)),
            Feed::Synced => Event::Synced(resource),
        };
        self.events.lock().expect("not poisoned").push(event);
    }

    pub fn events(&self) -> Vec<Event> {
        self.events.lock().expect("not poisoned").clone()
    }

    pub fn events_of(&self, resource: Resource) -> Vec<Event> {
        self.events()
            .into_iter()
            .filter(|e| e.resource() == resource)
            .collect()
    }

    pub fn count(&self, wanted: &Event) -> usize {
        self.events().iter().filter(|e| *e == wanted).count()
    }

    pub fn synced(&self, resource: Resource) -> usize {
        self.count(&Event::Synced(resource))
    }

    /// What a mark-and-sweep cache would hold after the events so far: the contract of the
    /// `Feed` interface (feed.rs).
    pub fn state(&self, resource: Resource) -> BTreeMap<String, serde_json::Value> {
        let mut state = BTreeMap::new();
        let mut listing: Option<BTreeSet<String>> = None;
        for event in self.events_of(resource) {
            match event {
                Event::Begin(_) => listing = Some(BTreeSet::new()),
                Event::Upsert(_, key, value) => {
                    if let Some(listing) = &mut listing {
                        listing.insert(key.clone());
                    }
                    state.insert(key, value);
                }
                Event::Delete(_, key) => {
                    state.remove(&key);
                }
                Event::Synced(_) => {
                    if let Some(listed) = listing.take() {
                        state.retain(|k, _| listed.contains(k));
                    }
                }
            }
        }
        state
    }

    pub fn keys(&self, resource: Resource) -> Vec<String> {
        self.state(resource).into_keys().collect()
    }

    /// The listings (Begin … Synced) delivered so far, each as the keys it held.
    pub fn listings(&self, resource: Resource) -> Vec<Vec<String>> {
        let mut listings = Vec::new();
        let mut current: Option<Vec<String>> = None;
        for event in self.events_of(resource) {
            match event {
                Event::Begin(_) => current = Some(Vec::new()),
                Event::Upsert(_, key, _) => {
                    if let Some(current) = &mut current {
                        current.push(key);
                    }
                }
                Event::Synced(_) => listings.extend(current.take()),
                Event::Delete(..) => {}
            }
        }
        listings
    }
}

impl ClusterSink for Recorder {
    fn services(&self, event: Feed<Service>) {
        self.record(Resource::Services, event)
    }
    fn endpoint_slices(&self, event: Feed<EndpointSlice>) {
        self.record(Resource::EndpointSlices, event)
    }
    fn namespaces(&self, event: Feed<Namespace>) {
        self.record(Resource::Namespaces, event)
    }
    fn pods(&self, event: Feed<Pod>) {
        self.record(Resource::Pods, event)
    }
}

/// Polls `condition` every 20 ms for up to 60 s; true as soon as it holds. The bound only
/// keeps a broken build from hanging: passing tests never get near it.
pub async fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..3000 {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    condition()
}

pub fn scope() -> WatchScope {
    WatchScope {
        labels: None,
        namespace_labels: None,
        endpoint_slices: true,
        pods: true,
        startup_timeout: Duration::from_secs(5),
    }
}

/// A fresh folder under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "clusterdns-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        // Write-then-rename, as editors and kubectl do: the reader never sees half a file.
        let staging = self.0.join(format!(".{name}.tmp"));
        std::fs::write(&staging, text).expect("write manifest");
        std::fs::rename(&staging, &path).expect("rename manifest");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn new_recorder() -> Arc<Recorder> {
    Arc::new(Recorder::default())
}
