//! List requests: selectors, `limit`/`continue` pagination over a consistent snapshot,
//! `resourceVersion`/`resourceVersionMatch`, and a body streamed item by item.
//!
//! API concepts, "Retrieving large results sets in chunks": the continue token carries the
//! resourceVersion of the first page, every page reports that same list resourceVersion, and a
//! token whose resourceVersion has been compacted is answered 410 Expired. The first page's
//! matching objects are kept (as shared pointers) so later pages show the same snapshot.

use std::{collections::VecDeque, sync::Arc};

use bytes::{BufMut, Bytes, BytesMut};
use hyper::Response;
use serde::{Deserialize, Serialize};

use crate::{
    body::{ResponseBody, stream_response},
    object::StoredObject,
    query::Query,
    resource::ResourceKind,
    selector::{FieldSelector, LabelSelector},
    shared::{Shared, lock},
    status::ApiError,
    store::{ObjectKey, Store},
};

/// How many paginated list snapshots are kept for continue tokens; an evicted one is rebuilt
/// from the current state (still correct for a watcher: its watch replays the difference).
const SNAPSHOTS_KEPT: usize = 16;

/// Size at which a streamed list body is cut into a chunk.
const CHUNK_BYTES: usize = 64 * 1024;

/// The matching objects of a list, as of one resourceVersion.
pub(crate) struct ListSnapshot {
    resource_version: u64,
    objects: Vec<Arc<StoredObject>>,
}

/// Snapshots of paginated lists still being read.
#[derive(Default)]
pub(crate) struct SnapshotCache {
    next_id: u64,
    entries: VecDeque<(u64, Arc<ListSnapshot>)>,
}

impl SnapshotCache {
    fn insert(&mut self, snapshot: Arc<ListSnapshot>) -> u64 {
        self.next_id += 1;
        self.entries.push_back((self.next_id, snapshot));
        while self.entries.len() > SNAPSHOTS_KEPT {
            self.entries.pop_front();
        }
        self.next_id
    }

    fn get(&self, id: u64) -> Option<Arc<ListSnapshot>> {
        self.entries
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, s)| s.clone())
    }

    /// Drops snapshots older than `resource_version` (their tokens are answered 410 anyway).
    pub fn forget_before(&mut self, resource_version: u64) {
        self.entries
            .retain(|(_, s)| s.resource_version >= resource_version);
    }
}

/// The opaque `continue` value: hex of this JSON (the real one is base64 of a similar JSON).
#[derive(Serialize, Deserialize)]
struct ContinueToken {
    v: String,
    rv: u64,
    namespace: String,
    name: String,
    snapshot: u64,
}

impl ContinueToken {
    fn encode(&self) -> String {
        hex::encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(text: &str) -> Option<ContinueToken> {
        let bytes = hex::decode(text).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// What selects the objects of a list or watch.
#[derive(Debug, Clone)]
pub(crate) struct ObjectFilter {
    pub kind: ResourceKind,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl ObjectFilter {
    /// Parses the selectors of a request; the error is the 400 answer.
    pub fn from_query(
        kind: ResourceKind,
        namespace: Option<&str>,
        query: &Query,
    ) -> Result<ObjectFilter, ApiError> {
        let labels = LabelSelector::parse(query.get("labelSelector").unwrap_or(""))
            .map_err(|e| ApiError::new(400, format!("unable to parse requirement: {e}")))?;
        let fields = FieldSelector::parse(query.get("fieldSelector").unwrap_or(""), kind)
            .map_err(|e| ApiError::new(400, e.0))?;
        Ok(ObjectFilter {
            kind,
            namespace: namespace.map(str::to_string),
            labels,
            fields,
        })
    }

    pub fn matches(&self, object: &StoredObject) -> bool {
        object.kind == self.kind
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| *ns == object.namespace)
            && self.labels.matches(&object.labels)
            && self.fields.matches(object)
    }

    fn has_selectors(&self) -> bool {
        self.labels != LabelSelector::default() || self.fields != FieldSelector::default()
    }

    /// The matching objects in key order, after `after`.
    pub fn collect(&self, store: &Store, after: Option<&ObjectKey>) -> Vec<Arc<StoredObject>> {
        store
            .objects(self.kind, self.namespace.as_deref(), after)
            .filter(|o| self.matches(o))
            .cloned()
            .collect()
    }
}

/// Answers a list request.
pub(crate) fn handle_list(
    shared: &Shared,
    kind: ResourceKind,
    namespace: Option<&str>,
    query: &Query,
) -> Result<Response<ResponseBody>, ApiError> {
    let filter = ObjectFilter::from_query(kind, namespace, query)?;
    let limit = match query
        .get("limit")
        .filter(|l| !l.is_empty())
        .map(str::parse::<usize>)
    {
        None | Some(Ok(0)) => None,
        Some(Ok(limit)) => Some(limit),
        Some(Err(_)) => return Err(ApiError::new(400, "limit must be a non-negative integer")),
    };
    let resource_version = query.get("resourceVersion").unwrap_or("");
    let version_match = query.get("resourceVersionMatch").unwrap_or("");
    let (snapshot, start) = match query.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => {
            if !version_match.is_empty() {
                return Err(ApiError::new(
                    400,
                    "resourceVersionMatch is forbidden when continue is provided",
                ));
            }
            if !resource_version.is_empty() && resource_version != "0" {
                return Err(ApiError::new(
                    400,
                    "specifying resource version is not allowed when using continue",
                ));
            }
            continued_snapshot(shared, &filter, token)?
        }
        None => {
            let store = lock(&shared.store);
            check_list_version(&store, resource_version, version_match)?;
            let snapshot = ListSnapshot {
                resource_version: store.resource_version(),
                objects: filter.collect(&store, None),
            };
            (Arc::new(snapshot), 0)
        }
    };
    let end = limit.map_or(snapshot.objects.len(), |l| {
        snapshot.objects.len().min(start.saturating_add(l))
    });
    let continue_token = if end < snapshot.objects.len() {
        let last = &snapshot.objects[end - 1];
        let id = lock(&shared.snapshots).insert(snapshot.clone());
        Some(ContinueToken {
            v: "meta.k8s.io/v1".into(),
            rv: snapshot.resource_version,
            namespace: last.namespace.clone(),
            name: last.name.clone(),
            snapshot: id,
        })
    } else {
        None
    };
    let remaining = snapshot.objects.len() - end;
    let mut header = BytesMut::with_capacity(256);
    header.put_slice(b"{\"kind\":\"");
    header.put_slice(kind.list_kind().as_bytes());
    header.put_slice(b"\",\"apiVersion\":\"");
    header.put_slice(kind.api_version().as_bytes());
    header.put_slice(b"\",\"metadata\":{\"resourceVersion\":\"");
    header.put_slice(snapshot.resource_version.to_string().as_bytes());
    header.put_u8(b'"');
    if let Some(token) = &continue_token {
        header.put_slice(b",\"continue\":\"");
        header.put_slice(token.encode().as_bytes());
        header.put_u8(b'"');
        // Like the real server: the count is only known (and sent) without selectors.
        if !filter.has_selectors() {
            header.put_slice(format!(",\"remainingItemCount\":{remaining}").as_bytes());
        }
    }
    header.put_slice(b"},\"items\":[");
    Ok(stream_response(list_body(header, snapshot, start, end)))
}

/// The snapshot and start index a continue token points at.
fn continued_snapshot(
    shared: &Shared,
    filter: &ObjectFilter,
    token: &str,
) -> Result<(Arc<ListSnapshot>, usize), ApiError> {
    let token = ContinueToken::decode(token).ok_or_else(|| {
        ApiError::new(
            400,
            "continue key is not valid: incorrect encoded start resourceVersion",
        )
    })?;
    let store = lock(&shared.store);
    if store.check_not_compacted(token.rv).is_err() {
        return Err(ApiError::expired(
            "The provided continue parameter is too old to display a consistent list result. \
             You can start a new list without the continue parameter.",
        ));
    }
    let key = (token.namespace, token.name);
    let snapshot = lock(&shared.snapshots).get(token.snapshot);
    Ok(match snapshot {
        Some(snapshot) => {
            let start = snapshot.objects.partition_point(|o| {
                (o.namespace.as_str(), o.name.as_str()) <= (key.0.as_str(), key.1.as_str())
            });
            (snapshot, start)
        }
        None => {
            let snapshot = ListSnapshot {
                resource_version: token.rv,
                objects: filter.collect(&store, Some(&key)),
            };
            (Arc::new(snapshot), 0)
        }
    })
}

/// Checks `resourceVersion`/`resourceVersionMatch` of a first list page as the API server
/// validates them. Any version not older than the current one is served from the current state.
fn check_list_version(
    store: &Store,
    resource_version: &str,
    version_match: &str,
) -> Result<(), ApiError> {
    if resource_version.is_empty() {
        if !version_match.is_empty() {
            return Err(ApiError::new(
                400,
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            ));
        }
        return Ok(());
    }
    let Ok(requested) = resource_version.parse::<u64>() else {
        return Err(ApiError::new(
            400,
            format!("invalid resource version: {resource_version}"),
        ));
    };
    match version_match {
        "" | "NotOlderThan" => {}
        "Exact" if requested == 0 => {
            return Err(ApiError::new(
                400,
                "resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"",
            ));
        }
        "Exact" => {
            if store.check_not_compacted(requested).is_err() {
                return Err(ApiError::expired(format!(
                    "too old resource version: {requested} ({})",
                    store.resource_version()
                )));
            }
        }
        other => {
            return Err(ApiError::new(
                400,
                format!("unsupported resourceVersionMatch value {other:?}"),
            ));
        }
    }
    if requested > store.resource_version() {
        return Err(ApiError::too_large(format!(
            "Too large resource version: {requested}, current: {}",
            store.resource_version()
        )));
    }
    Ok(())
}

/// The list body: header, the items of `start..end` comma-joined, footer; cut into chunks.
fn list_body(
    header: BytesMut,
    snapshot: Arc<ListSnapshot>,
    start: usize,
    end: usize,
) -> impl futures_util::Stream<Item = Bytes> + Send + 'static {
    futures_util::stream::unfold(Some((header, start)), move |state| {
        let snapshot = snapshot.clone();
        async move {
            let (mut chunk, mut index) = state?;
            while index < end && chunk.len() < CHUNK_BYTES {
                if index > start {
                    chunk.put_u8(b',');
                }
                snapshot.objects[index].write_item(&mut chunk);
                index += 1;
            }
            if index == end {
                chunk.put_slice(b"]}");
                return Some((chunk.freeze(), None));
            }
            Some((
                chunk.freeze(),
                Some((BytesMut::with_capacity(CHUNK_BYTES + 4096), index)),
            ))
        }
    })
}
