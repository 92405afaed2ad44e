//! State shared by the control handle, the accept loop, request handlers and watch tasks.

use std::{
    sync::{Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use tokio::sync::watch;

use crate::{faults::Faults, list::SnapshotCache, requests::RecordedRequest, store::Store};

/// Tunables of a running fake API server.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// How often a watch that allows bookmarks gets one.
    pub bookmark_interval: Duration,
    /// The watch duration when a client gives no `timeoutSeconds`.
    pub default_watch_timeout: Duration,
}

pub(crate) struct Shared {
    pub store: Mutex<Store>,
    /// The current resourceVersion; watch tasks wake up when it changes.
    pub resource_version: watch::Sender<u64>,
    /// Bumped by `drop_watches`: every open watch ends.
    pub watch_generation: watch::Sender<u64>,
    /// Number of watch responses being streamed.
    pub open_watches: watch::Sender<usize>,
    pub faults: Mutex<Faults>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    /// Why each failed TLS handshake failed (HTTPS servers only).
    pub tls_failures: Mutex<Vec<String>>,
    pub settings: Mutex<Settings>,
    pub snapshots: Mutex<SnapshotCache>,
}

impl Shared {
    pub fn new(store: Store, settings: Settings) -> Shared {
        let resource_version = store.resource_version();
        Shared {
            store: Mutex::new(store),
            resource_version: watch::Sender::new(resource_version),
            watch_generation: watch::Sender::new(0),
            open_watches: watch::Sender::new(0),
            faults: Mutex::new(Faults::default()),
            requests: Mutex::new(Vec::new()),
            tls_failures: Mutex::new(Vec::new()),
            settings: Mutex::new(settings),
            snapshots: Mutex::new(SnapshotCache::default()),
        }
    }

    /// Runs a change on the store and wakes the watches.
    pub fn mutate<T>(&self, change: impl FnOnce(&mut Store) -> T) -> T {
        let (result, resource_version) = {
            let mut store = lock(&self.store);
            let result = change(&mut store);
            (result, store.resource_version())
        };
        self.resource_version.send_if_modified(|current| {
            let modified = *current != resource_version;
            *current = resource_version;
            modified
        });
        result
    }
}

/// Locks a mutex; a panic elsewhere while holding it leaves data that is still consistent
/// enough for a test server, so poisoning is ignored rather than turned into more panics.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Creates or updates an object; returns the resourceVersion it now has.
    pub fn apply(&self, value: serde_json::Value) -> Result<u64, crate::FakeApiError> {
        let prepared = crate::object::PreparedObject::from_value(value)?;
        Ok(self.mutate(|store| store.apply(prepared)))
    }

    /// Deletes an object; returns the resourceVersion of the deletion.
    pub fn delete(
        &self,
        kind: crate::ResourceKind,
        namespace: &str,
        name: &str,
    ) -> Result<u64, crate::FakeApiError> {
        self.mutate(|store| store.delete(kind, namespace, name))
    }

    /// Compacts all history: watches and continue tokens from older versions get 410.
    pub fn expire_history(&self) {
        let resource_version = {
            let mut store = lock(&self.store);
            store.expire_history();
            store.resource_version()
        };
        lock(&self.snapshots).forget_before(resource_version);
    }

    /// Ends every open watch response.
    pub fn drop_watches(&self) {
        self.watch_generation.send_modify(|g| *g += 1);
    }
}
