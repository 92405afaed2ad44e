//! Watch requests: newline-delimited JSON events streamed from a resourceVersion on.
//!
//! API concepts, "Efficient detection of changes": events strictly after the given
//! resourceVersion; `resourceVersion` "" or "0" (or `sendInitialEvents=true`) first sends the
//! current objects as ADDED; `allowWatchBookmarks` gets periodic BOOKMARK events (and, with
//! `sendInitialEvents`, one annotated `k8s.io/initial-events-end` after the initial objects);
//! the watch ends after `timeoutSeconds`. A resourceVersion older than the retained history is
//! answered, as by the real server, with HTTP 200 and one ERROR event carrying a 410 Expired
//! Status. With selectors, an object that stops matching is sent as DELETED and one that
//! starts matching as ADDED (the watch cache does the same).

use std::{sync::Arc, time::Duration};

use bytes::{BufMut, Bytes, BytesMut};
use hyper::Response;
use tokio::sync::mpsc;

use crate::{
    body::{ResponseBody, stream_response},
    list::ObjectFilter,
    object::StoredObject,
    query::Query,
    resource::ResourceKind,
    shared::{Shared, lock},
    status::{ApiError, status_json},
    store::{Change, ChangeType},
};

/// Changes read from history per store lock.
const CHANGES_PER_READ: usize = 1024;

/// Buffered bytes at which pending events are sent without waiting for more.
const FLUSH_BYTES: usize = 32 * 1024;

/// Where a watch starts.
enum Start {
    /// Send the current objects as ADDED first (resourceVersion "" or "0", or
    /// sendInitialEvents=true).
    InitialEvents { end_bookmark: bool },
    /// Replay changes after this resourceVersion.
    After(u64),
}

/// Answers a watch request: checks parameters, then streams from a task of its own.
pub(crate) fn handle_watch(
    shared: &Arc<Shared>,
    kind: ResourceKind,
    namespace: Option<&str>,
    query: &Query,
    shutdown: tokio_util::sync::CancellationToken,
) -> Result<Response<ResponseBody>, ApiError> {
    let filter = ObjectFilter::from_query(kind, namespace, query)?;
    let bookmarks = query.flag("allowWatchBookmarks");
    let resource_version = query.get("resourceVersion").unwrap_or("");
    let start = if query.flag("sendInitialEvents") {
        if query.get("resourceVersionMatch") != Some("NotOlderThan") {
            return Err(ApiError::new(
                400,
                "sendInitialEvents is forbidden unless resourceVersionMatch is \"NotOlderThan\"",
            ));
        }
        Start::InitialEvents {
            end_bookmark: bookmarks,
        }
    } else if resource_version.is_empty() || resource_version == "0" {
        Start::InitialEvents {
            end_bookmark: false,
        }
    } else {
        match resource_version.parse::<u64>() {
            Ok(rv) => Start::After(rv),
            Err(_) => {
                return Err(ApiError::new(
                    400,
                    format!("invalid resource version: {resource_version}"),
                ));
            }
        }
    };
    // Like the API server, a missing or zero timeoutSeconds means the server's default.
    let timeout = match query
        .get("timeoutSeconds")
        .filter(|t| !t.is_empty() && *t != "0")
    {
        None => lock(&shared.settings).default_watch_timeout,
        Some(text) => match text.parse::<u64>() {
            Ok(seconds) => Duration::from_secs(seconds),
            Err(_) => {
                return Err(ApiError::new(
                    400,
                    "timeoutSeconds must be a non-negative integer",
                ));
            }
        },
    };
    let (sender, receiver) = mpsc::channel::<Bytes>(16);
    let watch = WatchTask {
        shared: shared.clone(),
        filter,
        bookmarks,
        sender,
    };
    tokio::spawn(watch.run(start, timeout, shutdown));
    let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((chunk, receiver))
    });
    Ok(stream_response(events))
}

struct WatchTask {
    shared: Arc<Shared>,
    filter: ObjectFilter,
    bookmarks: bool,
    sender: mpsc::Sender<Bytes>,
}

/// Keeps the open-watch count right however the task ends.
struct OpenWatchGuard(Arc<Shared>);

impl Drop for OpenWatchGuard {
    fn drop(&mut self) {
        self.0
            .open_watches
            .send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl WatchTask {
    async fn run(
        self,
        start: Start,
        timeout: Duration,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        self.shared.open_watches.send_modify(|n| *n += 1);
        let _guard = OpenWatchGuard(self.shared.clone());
        let mut changed = self.shared.resource_version.subscribe();
        let mut dropped = self.shared.watch_generation.subscribe();
        dropped.mark_unchanged();
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let bookmark_interval = lock(&self.shared.settings).bookmark_interval;
        let mut bookmark_timer = tokio::time::interval_at(
            tokio::time::Instant::now() + bookmark_interval,
            bookmark_interval,
        );
        bookmark_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        let mut cursor = match start {
            Start::After(rv) => {
                let too_old = lock(&self.shared.store).check_not_compacted(rv).err();
                if let Some(expired) = too_old {
                    self.send_expired(rv, expired.oldest).await;
                    return;
                }
                rv
            }
            Start::InitialEvents { end_bookmark } => match self.send_initial(end_bookmark).await {
                Some(rv) => rv,
                None => return,
            },
        };
        loop {
            changed.mark_unchanged();
            match self.send_changes(cursor).await {
                Ok(Some(next)) => cursor = next,
                Ok(None) => return,
                Err(Expired) => return,
            }
            tokio::select! {
                _ = changed.changed() => {}
                _ = bookmark_timer.tick(), if self.bookmarks => {
                    if !self.send(bookmark(self.filter.kind, cursor, false)).await {
                        return;
                    }
                }
                _ = &mut deadline => return,
                _ = dropped.changed() => return,
                _ = shutdown.cancelled() => return,
                _ = self.sender.closed() => return,
            }
        }
    }

    /// Sends the current matching objects as ADDED; returns the resourceVersion they are at.
    async fn send_initial(&self, end_bookmark: bool) -> Option<u64> {
        let (resource_version, objects) = {
            let store = lock(&self.shared.store);
            (store.resource_version(), self.filter.collect(&store, None))
        };
        let mut pending = BytesMut::new();
        for object in &objects {
            write_event(&mut pending, "ADDED", object);
            if pending.len() >= FLUSH_BYTES && !self.send(pending.split().freeze()).await {
                return None;
            }
        }
        if end_bookmark {
            pending.put_slice(&bookmark(self.filter.kind, resource_version, true));
        }
        if !pending.is_empty() && !self.send(pending.freeze()).await {
            return None;
        }
        Some(resource_version)
    }

    /// Sends every change after `cursor` that this watch selects. Returns the new cursor, or
    /// `None` if the client is gone; a compacted cursor gets the ERROR 410 event.
    async fn send_changes(&self, mut cursor: u64) -> Result<Option<u64>, Expired> {
        loop {
            let read = {
                let store = lock(&self.shared.store);
                store
                    .changes_after(cursor, CHANGES_PER_READ)
                    .map(|changes| (changes, store.resource_version()))
                    .map_err(|expired| (expired, store.resource_version()))
            };
            let (changes, current) = match read {
                Ok(read) => read,
                Err((expired, _)) => {
                    self.send_expired(cursor, expired.oldest).await;
                    return Err(Expired);
                }
            };
            let full_read = changes.len() == CHANGES_PER_READ;
            let mut pending = BytesMut::new();
            for change in &changes {
                cursor = change.resource_version;
                self.write_change(&mut pending, change);
                if pending.len() >= FLUSH_BYTES && !self.send(pending.split().freeze()).await {
                    return Ok(None);
                }
            }
            if !pending.is_empty() && !self.send(pending.freeze()).await {
                return Ok(None);
            }
            if !full_read {
                // Everything up to `current` has been seen, even if none of it was ours.
                return Ok(Some(cursor.max(current)));
            }
        }
    }

    fn write_change(&self, out: &mut BytesMut, change: &Change) {
        if change.object.kind != self.filter.kind {
            return;
        }
        let now = self.filter.matches(&change.object);
        match change.change_type {
            ChangeType::Added if now => write_event(out, "ADDED", &change.object),
            ChangeType::Deleted if now => write_event(out, "DELETED", &change.object),
            ChangeType::Modified => {
                let before = change
                    .previous
                    .as_ref()
                    .is_some_and(|p| self.filter.matches(p));
                match (before, now) {
                    (true, true) => write_event(out, "MODIFIED", &change.object),
                    (false, true) => write_event(out, "ADDED", &change.object),
                    (true, false) => {
                        if let Some(previous) = &change.previous {
                            let gone = previous.with_resource_version(change.resource_version);
                            write_event(out, "DELETED", &gone);
                        }
                    }
                    (false, false) => {}
                }
            }
            _ => {}
        }
    }

    /// Sends the ERROR event with a 410 Expired Status, as the real server does for a watch
    /// from a compacted resourceVersion.
    async fn send_expired(&self, requested: u64, oldest: u64) {
        let status = status_json(
            410,
            "Expired",
            &format!("too old resource version: {requested} ({oldest})"),
        );
        let mut event = BytesMut::new();
        event.put_slice(b"{\"type\":\"ERROR\",\"object\":");
        event.put_slice(status.to_string().as_bytes());
        event.put_slice(b"}\n");
        self.send(event.freeze()).await;
    }

    /// Sends bytes to the client; false if it is gone.
    async fn send(&self, bytes: Bytes) -> bool {
        self.sender.send(bytes).await.is_ok()
    }
}

struct Expired;

fn write_event(out: &mut BytesMut, event_type: &str, object: &StoredObject) {
    out.put_slice(b"{\"type\":\"");
    out.put_slice(event_type.as_bytes());
    out.put_slice(b"\",\"object\":");
    object.write_typed(out);
    out.put_slice(b"}\n");
}

/// A BOOKMARK event: only the kind and the resourceVersion the watch has reached.
fn bookmark(kind: ResourceKind, resource_version: u64, initial_events_end: bool) -> Bytes {
    let annotations = if initial_events_end {
        ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}"
    } else {
        ""
    };
    Bytes::from(format!(
        "{{\"type\":\"BOOKMARK\",\"object\":{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{{\"resourceVersion\":\"{resource_version}\",\"creationTimestamp\":null{annotations}}}}}}}\n",
        kind.kind(),
        kind.api_version(),
    ))
}
