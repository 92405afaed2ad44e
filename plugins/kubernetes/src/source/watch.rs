//! One resource's watch (kube-rs's `watcher`, kubernetes.md §10): a paged list, then a watch
//! from its resourceVersion, resumed from the last seen version when it drops and listed again
//! when that version is gone (410). Its events go to the sink in order, one to one:
//!
//! | kube `watcher::Event` | [`Feed`] |
//! |---|---|
//! | `Init` | `Begin` |
//! | `InitApply(obj)` | `Upsert(obj)` |
//! | `InitDone` | `Synced` |
//! | `Apply(obj)` | `Upsert(obj)` |
//! | `Delete(obj)` | `Delete(obj)` |
//!
//! Errors never reach the sink: they are logged and retried with kube's default back-off
//! (0.8 s doubling to 30 s, with jitter), forever. So after the first sync an outage changes
//! nothing in the cache; a re-list after it replaces the cache's content only at its
//! `Synced` (the cache's mark and sweep, §9). A listing that fails half-way starts again with
//! a new `Begin`, so the cache can see `Begin`, some `Upsert`s, `Begin` again; never two
//! `Begin`s in a row.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};

use super::resources::Watched;
use super::watch_log::WatchLog;
use crate::feed::{ClusterSink, Feed};

pub(crate) async fn run<K: Watched>(
    client: Client,
    config: watcher::Config,
    sink: Arc<dyn ClusterSink>,
) {
    let mut log = WatchLog::new(K::GO_TYPE);
    // kube announces a listing (`Init`) before it sends the list request, so while the API
    // server is unreachable every retry would announce another. A `Begin` right after a
    // `Begin` tells the cache nothing: only the first is passed on. (After an `Upsert` a new
    // `Begin` is passed on: the cache must forget the half listing's marks.)
    let mut listing_announced = false;
    loop {
        let api: Api<K> = Api::all(client.clone());
        let mut events = std::pin::pin!(watcher(api, config.clone()).default_backoff());
        while let Some(event) = events.next().await {
            match event {
                Ok(event) => {
                    let event = feed(event);
                    let is_begin = matches!(event, Feed::Begin);
                    if is_begin && listing_announced {
                        continue;
                    }
                    listing_announced = is_begin;
                    if !is_begin {
                        log.recovered();
                    }
                    K::deliver(&*sink, event);
                }
                Err(error) => {
                    log.report(&error);
                    if gone_at_watch_start(&error) {
                        break;
                    }
                }
            }
        }
        // Only a 410 on opening the watch gets here (the watcher's stream has no end):
        // kube would retry that resourceVersion forever, client-go lists again, and so do we
        // with a fresh watcher. The pause keeps a misbehaving server from making this a loop.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn feed<K>(event: watcher::Event<K>) -> Feed<K> {
    match event {
        watcher::Event::Init => Feed::Begin,
        watcher::Event::InitApply(object) | watcher::Event::Apply(object) => Feed::Upsert(object),
        watcher::Event::InitDone => Feed::Synced,
        watcher::Event::Delete(object) => Feed::Delete(object),
    }
}

/// The API server answered the watch request itself with `410 Gone` (rather than a `200` whose
/// first event is an `ERROR` 410, which kube handles by listing again).
fn gone_at_watch_start(error: &watcher::Error) -> bool {
    matches!(
        error,
        watcher::Error::WatchStartFailed(kube::Error::Api(status)) if status.code == 410
    )
}
