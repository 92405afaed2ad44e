//! `manifests PATH` (our extension, issue #3 "Local use without a cluster"): the cluster objects
//! come from a YAML/JSON file, or a folder of them, instead of an API server.
//!
//! The first read happens at setup, so a missing or broken file fails the Corefile with a clear
//! error. Afterwards the path is polled; every change that parses is delivered as a complete
//! listing per resource (`Begin`, `Upsert`s, `Synced`), which the cache applies with its
//! mark-and-sweep exactly like an API re-list. A file that no longer parses keeps its last good
//! objects (the error is logged once, with file and line); a PATH that disappears keeps
//! everything, like the hosts plugin.

mod parse;
mod set;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::resources::Watched;
use super::selection::Selection;
use crate::feed::{ClusterSink, Feed};

pub(crate) use parse::Objects;
use set::ManifestSet;

/// Why a manifest file could not be used. Displayed as one log line (or setup error) naming the
/// file and, where the parser knows it, the line.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("manifests {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("manifests {}: larger than {limit} bytes", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("manifests {}: {message}", path.display())]
    Yaml { path: PathBuf, message: String },
    #[error("manifests {}: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("manifests {}: {at}: {reason}", path.display())]
    Invalid {
        path: PathBuf,
        at: String,
        reason: String,
    },
    #[error("manifests {}: {at}: {what}: {source}", path.display())]
    Object {
        path: PathBuf,
        at: String,
        what: String,
        #[source]
        source: serde_json::Error,
    },
}

/// How often the path is checked. A `stat` per file per second costs nothing, and a second is
/// what a person editing the file notices as "at once"; inotify would need another dependency
/// and misses the symlink swap by which Kubernetes updates a mounted ConfigMap.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

pub(crate) fn start(
    path: &Path,
    selection: &Selection,
    sink: Arc<dyn ClusterSink>,
    tasks: &plugin::tasks::Tasks,
) -> Result<(), ManifestError> {
    let mut set = ManifestSet::new(path.to_owned());
    if let Some(error) = set.refresh(selection).errors.into_iter().next() {
        return Err(error);
    }
    let selection = selection.clone();
    tasks.spawn(async move {
        let mut set = set;
        // Deliveries run on a blocking thread: reading, parsing and the cache's index building
        // for a large cluster take long enough to stall the DNS workers otherwise. The task
        // owns the set, lends it to the blocking thread and takes it back.
        let mut first = true;
        let mut interval = tokio::time::interval(POLL_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut reported = Vec::new();
        loop {
            interval.tick().await;
            let sink = sink.clone();
            let selection = selection.clone();
            let step = tokio::task::spawn_blocking(move || {
                let outcome = set.refresh(&selection);
                let deliver = std::mem::take(&mut first) || outcome.changed;
                if deliver {
                    deliver_all(set.merged(), &selection, &*sink);
                }
                (set, first, outcome.errors)
            });
            let errors;
            (set, first, errors) = match step.await {
                Ok(step) => step,
                Err(e) => {
                    plugin::log::error(
                        Some("kubernetes"),
                        format_args!("manifests: reader stopped: {e}"),
                    );
                    return;
                }
            };
            reported = report_new_errors(errors, reported);
        }
    });
    Ok(())
}

/// Logs each error once while it lasts (a file that stays broken, a PATH that stays away):
/// an error seen at the previous poll is not repeated.
fn report_new_errors(errors: Vec<ManifestError>, previous: Vec<String>) -> Vec<String> {
    let current: Vec<String> = errors.iter().map(ToString::to_string).collect();
    for text in &current {
        if !previous.contains(text) {
            plugin::log::error(
                Some("kubernetes"),
                format_args!("{text}; keeping the last objects"),
            );
        }
    }
    current
}

/// A complete listing of every resource the scope asks for.
fn deliver_all(objects: Objects, selection: &Selection, sink: &dyn ClusterSink) {
    deliver::<Namespace>(objects.namespaces.into_values(), sink);
    deliver::<Service>(objects.services.into_values(), sink);
    if selection.endpoint_slices {
        deliver::<EndpointSlice>(objects.endpoint_slices.into_values(), sink);
    }
    if selection.pods {
        deliver::<Pod>(objects.pods.into_values(), sink);
    }
}

fn deliver<K: Watched>(objects: impl Iterator<Item = K>, sink: &dyn ClusterSink) {
    K::deliver(sink, Feed::Begin);
    for object in objects {
        K::deliver(sink, Feed::Upsert(object));
    }
    K::deliver(sink, Feed::Synced);
}

/// The `manifests` fuzz target's body (fuzz/fuzz_targets/manifests.rs; the committed corpus
/// also runs in the integration tests): arbitrary bytes read as a YAML and as a JSON manifest,
/// every object found fed into a cache, listed again (the re-list sweep), then listed empty.
/// Bad input must give an error or be skipped, never a panic.
pub fn fuzz_manifest(data: &[u8]) {
    use crate::cache::{Cache, CacheOptions};
    let text = String::from_utf8_lossy(data);
    let selection = Selection {
        labels: None,
        namespace_labels: None,
        endpoint_slices: true,
        pods: true,
    };
    let cache = Cache::new(
        CacheOptions {
            endpoint_pod_names: data.first().is_some_and(|b| b & 1 == 1),
            endpoint_slices: true,
            pods: true,
        },
        None,
    );
    for path in ["fuzz.yaml", "fuzz.json"] {
        if let Ok(objects) = parse::parse_file(Path::new(path), &text, &selection) {
            deliver_all(objects.clone(), &selection, &cache);
            deliver_all(objects, &selection, &cache);
            deliver_all(Objects::default(), &selection, &cache);
        }
    }
}
