//! The object store: current objects per kind, the global resourceVersion counter and the
//! retained change history that watches replay from.
//!
//! Like etcd behind the real API server, every change gets the next resourceVersion of one
//! counter shared by all kinds, and history older than the retained window is compacted: a
//! watch or a continue token from before the window is answered 410 Gone.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
};

use crate::{
    error::FakeApiError,
    object::{PreparedObject, StoredObject},
    resource::ResourceKind,
    timestamp::now_rfc3339,
};

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeType {
    Added,
    Modified,
    Deleted,
}

/// One change, as a watch replays it.
#[derive(Debug)]
pub(crate) struct Change {
    pub resource_version: u64,
    pub change_type: ChangeType,
    /// The new object; for a deletion, the last state carrying the deletion's resourceVersion.
    pub object: Arc<StoredObject>,
    /// The state before a modification: a filtered watch needs it to tell "stopped matching"
    /// (sent as DELETED) from "not interesting".
    pub previous: Option<Arc<StoredObject>>,
}

/// A request for history the store no longer has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expired {
    /// The oldest resourceVersion a watch may still start from.
    pub oldest: u64,
}

/// Namespace and name: the order list answers come in, as from etcd's key order.
pub(crate) type ObjectKey = (String, String);

pub(crate) struct Store {
    resource_version: u64,
    objects: BTreeMap<ResourceKind, BTreeMap<ObjectKey, Arc<StoredObject>>>,
    history: VecDeque<Arc<Change>>,
    history_limit: usize,
    /// New watches and continue tokens from before this resourceVersion are too old.
    compacted_through: u64,
    /// Watches already streaming stay valid from this resourceVersion on: after
    /// `expire_history`, a watch that was caught up has missed nothing and keeps running,
    /// while a client that reconnects with that version must list again.
    in_flight_floor: u64,
    next_uid: u64,
}

impl Store {
    pub fn new(history_limit: usize) -> Store {
        Store {
            resource_version: 1,
            objects: BTreeMap::new(),
            history: VecDeque::new(),
            history_limit: history_limit.max(1),
            compacted_through: 0,
            in_flight_floor: 0,
            next_uid: 1,
        }
    }

    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// Creates or updates an object. An update that changes nothing keeps the object's
    /// resourceVersion and emits no event, like the real API server's no-op updates.
    pub fn apply(&mut self, mut prepared: PreparedObject) -> u64 {
        let key = (prepared.namespace.clone(), prepared.name.clone());
        let existing = self
            .objects
            .get(&prepared.kind)
            .and_then(|m| m.get(&key))
            .cloned();
        let (uid, created) = match &existing {
            Some(old) => (old_uid(old), old_creation(old)),
            None => (
                prepared
                    .metadata_string("uid")
                    .map(str::to_string)
                    .unwrap_or_else(|| self.new_uid()),
                prepared
                    .metadata_string("creationTimestamp")
                    .map(str::to_string)
                    .unwrap_or_else(now_rfc3339),
            ),
        };
        if let Some(old) = &existing {
            let unchanged = prepared.stamp(old.resource_version, &uid, &created);
            if unchanged.body == old.body {
                return old.resource_version;
            }
        }
        let resource_version = self.resource_version + 1;
        let object = Arc::new(prepared.stamp(resource_version, &uid, &created));
        self.objects
            .entry(prepared.kind)
            .or_default()
            .insert(key, object.clone());
        let change_type = if existing.is_some() {
            ChangeType::Modified
        } else {
            ChangeType::Added
        };
        self.record(Change {
            resource_version,
            change_type,
            object,
            previous: existing,
        });
        resource_version
    }

    /// Deletes an object; the namespace is ignored for cluster-scoped kinds.
    pub fn delete(
        &mut self,
        kind: ResourceKind,
        namespace: &str,
        name: &str,
    ) -> Result<u64, FakeApiError> {
        let namespace = if kind.namespaced() { namespace } else { "" };
        let key = (namespace.to_string(), name.to_string());
        let removed = self
            .objects
            .get_mut(&kind)
            .and_then(|m| m.remove(&key))
            .ok_or_else(|| FakeApiError::NotFound {
                kind,
                namespace: namespace.to_string(),
                name: name.to_string(),
            })?;
        let resource_version = self.resource_version + 1;
        self.record(Change {
            resource_version,
            change_type: ChangeType::Deleted,
            object: Arc::new(removed.with_resource_version(resource_version)),
            previous: None,
        });
        Ok(resource_version)
    }

    pub fn get(
        &self,
        kind: ResourceKind,
        namespace: &str,
        name: &str,
    ) -> Option<Arc<StoredObject>> {
        let namespace = if kind.namespaced() { namespace } else { "" };
        self.objects
            .get(&kind)?
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// The objects of a kind (in one namespace, or all), in key order, starting after `after`.
    pub fn objects(
        &self,
        kind: ResourceKind,
        namespace: Option<&str>,
        after: Option<&ObjectKey>,
    ) -> impl Iterator<Item = &Arc<StoredObject>> {
        use std::ops::Bound;
        let lower = match after {
            Some(key) => Bound::Excluded(key.clone()),
            None => match namespace {
                Some(ns) => Bound::Included((ns.to_string(), String::new())),
                None => Bound::Unbounded,
            },
        };
        let namespace = namespace.map(str::to_string);
        self.objects
            .get(&kind)
            .into_iter()
            .flat_map(move |m| m.range((lower.clone(), Bound::Unbounded)))
            .take_while(move |((ns, _), _)| namespace.as_ref().is_none_or(|want| want == ns))
            .map(|(_, object)| object)
    }

    /// Number of objects of a kind.
    pub fn count(&self, kind: ResourceKind) -> usize {
        self.objects.get(&kind).map_or(0, BTreeMap::len)
    }

    /// Changes after `resource_version`, at most `max`, for a watch that is already streaming;
    /// `Expired` if some are compacted.
    pub fn changes_after(
        &self,
        resource_version: u64,
        max: usize,
    ) -> Result<Vec<Arc<Change>>, Expired> {
        if resource_version < self.in_flight_floor {
            return Err(Expired {
                oldest: self.compacted_through,
            });
        }
        let start = self
            .history
            .partition_point(|c| c.resource_version <= resource_version);
        Ok(self.history.iter().skip(start).take(max).cloned().collect())
    }

    /// `Expired` if a watch or continue token from `resource_version` cannot be served.
    pub fn check_not_compacted(&self, resource_version: u64) -> Result<(), Expired> {
        if resource_version < self.compacted_through {
            Err(Expired {
                oldest: self.compacted_through,
            })
        } else {
            Ok(())
        }
    }

    /// Compacts all history: every resourceVersion up to the current one becomes too old for
    /// new watches and continue tokens. The version is bumped (without an event) so that a
    /// fresh list gets a version a watch may start from.
    pub fn expire_history(&mut self) {
        self.history.clear();
        self.in_flight_floor = self.resource_version;
        self.resource_version += 1;
        self.compacted_through = self.resource_version;
    }

    fn record(&mut self, change: Change) {
        self.resource_version = change.resource_version;
        self.history.push_back(Arc::new(change));
        while self.history.len() > self.history_limit {
            if let Some(dropped) = self.history.pop_front() {
                self.compacted_through = dropped.resource_version;
                self.in_flight_floor = dropped.resource_version;
            }
        }
    }

    fn new_uid(&mut self) -> String {
        let n = self.next_uid;
        self.next_uid += 1;
        format!("fa4e0000-0000-4000-8000-{n:012x}")
    }
}

fn old_uid(object: &StoredObject) -> String {
    metadata_string(object, "uid")
}

fn old_creation(object: &StoredObject) -> String {
    metadata_string(object, "creationTimestamp")
}

fn metadata_string(object: &StoredObject, key: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Body {
        metadata: serde_json::Map<String, serde_json::Value>,
    }
    serde_json::from_slice::<Body>(&object.body)
        .ok()
        .and_then(|b| b.metadata.get(key)?.as_str().map(str::to_string))
        .unwrap_or_default()
}
