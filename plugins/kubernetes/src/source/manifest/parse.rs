//! One manifest file's text → the Services, EndpointSlices, Namespaces and Pods it holds,
//! selected as the API server would select them (kubernetes.md §10).
//!
//! Accepted shapes: YAML (one or several `---`-separated documents) or JSON; each document an
//! object, a `kind: List` (what `kubectl get … -o yaml|json` prints) or a typed list such as
//! `ServiceList` (what the API returns; its items carry no `kind`). Other kinds are ignored.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::Path;

use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::Value;

use super::ManifestError;
use crate::source::resources::pod_phase_selected;
use crate::source::selection::{Selection, Selector};

/// The objects of one file (or of all files, merged), keyed by `(namespace, name)` so that a
/// later definition of the same object replaces an earlier one.
#[derive(Clone, Debug, Default)]
pub(crate) struct Objects {
    pub(crate) services: BTreeMap<(String, String), Service>,
    pub(crate) endpoint_slices: BTreeMap<(String, String), EndpointSlice>,
    pub(crate) namespaces: BTreeMap<(String, String), Namespace>,
    pub(crate) pods: BTreeMap<(String, String), Pod>,
}

impl Objects {
    /// `other`'s objects over ours.
    pub(crate) fn overlay(&mut self, other: &Objects) {
        self.services
            .extend(other.services.iter().map(|(k, v)| (k.clone(), v.clone())));
        self.endpoint_slices.extend(
            other
                .endpoint_slices
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        self.namespaces
            .extend(other.namespaces.iter().map(|(k, v)| (k.clone(), v.clone())));
        self.pods
            .extend(other.pods.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

/// Larger than any real cluster dump needs, small enough that a runaway file cannot take the
/// server's memory: the text is held whole while it is parsed.
pub(crate) const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// serde-saphyr's limits, raised for cluster-sized documents (its defaults stop at 250,000
/// nodes, about 6,000 Services) but keeping the alias and anchor limits that stop
/// "billion laughs" expansion.
fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 100_000_000;
    budget.max_nodes = 50_000_000;
    budget.max_documents = 1_000_000;
    budget.max_total_scalar_bytes = usize::try_from(MAX_FILE_BYTES).unwrap_or(usize::MAX);
    // Manifests have no use for aliases beyond a few (kubectl never writes any); expanding
    // them is where a hostile file would spend its effort.
    budget.max_recorded_anchor_events = 100_000;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 100_000;
    options.emit_comments = false;
    // One line per error in the log, not an annotated snippet of the file.
    options.with_snippet = false;
    options
}

pub(crate) fn parse_file(
    path: &Path,
    text: &str,
    selection: &Selection,
) -> Result<Objects, ManifestError> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let documents: Vec<Value> = if is_json {
        let value = serde_json::from_str(text).map_err(|source| ManifestError::Json {
            path: path.to_owned(),
            source,
        })?;
        vec![value]
    } else {
        serde_saphyr::from_multiple_with_options(text, yaml_options()).map_err(|e| {
            ManifestError::Yaml {
                path: path.to_owned(),
                message: e.to_string(),
            }
        })?
    };
    let mut objects = Objects::default();
    for (index, document) in documents.into_iter().enumerate() {
        if document.is_null() {
            continue;
        }
        let at = if is_json {
            String::from("top level")
        } else {
            format!("document {}", index + 1)
        };
        collect(path, document, &at, None, selection, &mut objects)?;
    }
    Ok(objects)
}

/// Files the source does not know how to read are ignored, like kubectl's `-f DIR`.
pub(crate) fn is_manifest_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.starts_with('.')
        && (lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json"))
}

/// `default_kind`: the item kind of a typed list (`ServiceList` items have no `kind`).
fn collect(
    path: &Path,
    mut value: Value,
    at: &str,
    default_kind: Option<(&str, &str)>,
    selection: &Selection,
    out: &mut Objects,
) -> Result<(), ManifestError> {
    let Some(object) = value.as_object_mut() else {
        return Err(ManifestError::Invalid {
            path: path.to_owned(),
            at: at.to_owned(),
            reason: "not an object".into(),
        });
    };
    if let Some((api_version, kind)) = default_kind {
        object
            .entry("apiVersion")
            .or_insert_with(|| Value::from(api_version));
        object.entry("kind").or_insert_with(|| Value::from(kind));
    }
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if kind.is_empty() {
        return Err(ManifestError::Invalid {
            path: path.to_owned(),
            at: at.to_owned(),
            reason: "no kind".into(),
        });
    }
    if let Some(item_kind) = kind.strip_suffix("List") {
        let item_default = (!item_kind.is_empty()).then_some((api_version.as_str(), item_kind));
        let items = match object.remove("items") {
            Some(Value::Array(items)) => items,
            Some(Value::Null) | None => Vec::new(),
            Some(_) => {
                return Err(ManifestError::Invalid {
                    path: path.to_owned(),
                    at: at.to_owned(),
                    reason: "items is not a list".into(),
                });
            }
        };
        for (i, item) in items.into_iter().enumerate() {
            let item_at = format!("{at}, item {}", i + 1);
            collect(path, item, &item_at, item_default, selection, out)?;
        }
        return Ok(());
    }
    match (api_version.as_str(), kind.as_str()) {
        ("v1", "Service") => {
            let service: Service = typed(path, value, at)?;
            if Selector::matches(selection.labels.as_ref(), service.metadata.labels.as_ref()) {
                out.services.insert(key(&service.metadata), service);
            }
        }
        ("discovery.k8s.io/v1", "EndpointSlice") if selection.endpoint_slices => {
            let slice: EndpointSlice = typed(path, value, at)?;
            if Selector::matches(selection.labels.as_ref(), slice.metadata.labels.as_ref()) {
                out.endpoint_slices.insert(key(&slice.metadata), slice);
            }
        }
        ("v1", "Namespace") => {
            let namespace: Namespace = typed(path, value, at)?;
            if Selector::matches(
                selection.namespace_labels.as_ref(),
                namespace.metadata.labels.as_ref(),
            ) {
                out.namespaces.insert(key(&namespace.metadata), namespace);
            }
        }
        ("v1", "Pod") if selection.pods => {
            let pod: Pod = typed(path, value, at)?;
            if pod_phase_selected(&pod)
                && Selector::matches(selection.labels.as_ref(), pod.metadata.labels.as_ref())
            {
                out.pods.insert(key(&pod.metadata), pod);
            }
        }
        _ => plugin::log::debug(
            Some("kubernetes"),
            format_args!(
                "manifests {}: {at}: ignoring {api_version} {kind}",
                path.display()
            ),
        ),
    }
    Ok(())
}

fn key(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> (String, String) {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// The JSON value as a k8s-openapi object, completed the way `kubectl apply` and the API
/// server would: a namespaced object without a namespace is in `default`, and every object
/// gets a `resourceVersion` that changes exactly when its content does (the cache uses
/// resourceVersions to tell updates from repeats, §11.6, and a hand-edited kubectl dump keeps
/// its old ones).
fn typed<K>(path: &Path, mut value: Value, at: &str) -> Result<K, ManifestError>
where
    K: k8s_openapi::Resource + serde::de::DeserializeOwned,
{
    let name = value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    let Some(name) = name else {
        return Err(ManifestError::Invalid {
            path: path.to_owned(),
            at: at.to_owned(),
            reason: format!("{} without metadata.name", K::KIND),
        });
    };
    let namespaced = K::KIND != "Namespace";
    let mut what = format!("{} {name}", K::KIND);
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        if namespaced {
            let namespace = metadata
                .entry("namespace")
                .or_insert_with(|| Value::from("default"));
            if namespace.as_str().is_none_or(str::is_empty) {
                *namespace = Value::from("default");
            }
            if let Some(ns) = namespace.as_str() {
                what = format!("{} {ns}/{name}", K::KIND);
            }
        }
        metadata.remove("resourceVersion");
    }
    let version = content_version(&value);
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.insert("resourceVersion".into(), Value::from(version));
    }
    serde_json::from_value(value).map_err(|source| ManifestError::Object {
        path: path.to_owned(),
        at: at.to_owned(),
        what,
        source,
    })
}

/// A stable digest of the object (serde_json's maps are ordered, so equal objects print the
/// same), as a decimal string like real resourceVersions.
fn content_version(value: &Value) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    value.to_string().hash(&mut hasher);
    hasher.finish().to_string()
}
