//! One stored object: its identity, what selectors look at (labels and field labels), and its
//! JSON serialized once, at write time, without `apiVersion`/`kind`.
//!
//! Why bytes and not `serde_json::Value`: the benchmark cluster holds 50,000 Services and
//! 500,000 endpoints; a `Value` tree costs several times the JSON text, and every list page
//! and watch event would serialize it again. The body is kept without `apiVersion`/`kind`
//! because list items carry neither (the real API server strips them: the list's `kind` says
//! it) while watch events and single GETs carry both — those are written as a prefix.

use std::collections::BTreeMap;

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::{Map, Value};

use crate::{error::FakeApiError, resource::ResourceKind};

/// An object as the store keeps it. Immutable: a change stores a new one.
#[derive(Debug, Clone)]
pub(crate) struct StoredObject {
    pub kind: ResourceKind,
    /// Empty for cluster-scoped kinds.
    pub namespace: String,
    pub name: String,
    pub resource_version: u64,
    pub labels: BTreeMap<String, String>,
    /// The values of `kind.field_labels()`, in that order ("" where the object has none).
    pub fields: Vec<String>,
    /// The object's JSON without `apiVersion` and `kind`: `{"metadata":{...},...}`.
    pub body: Bytes,
}

impl StoredObject {
    /// The value of one field label, for field selectors; `None` if the kind has no such label.
    pub fn field(&self, label: &str) -> Option<&str> {
        self.kind
            .field_labels()
            .iter()
            .position(|l| *l == label)
            .and_then(|i| self.fields.get(i))
            .map(String::as_str)
    }

    /// Appends the object as a list item: the stored body as it is.
    pub fn write_item(&self, out: &mut BytesMut) {
        out.put_slice(&self.body);
    }

    /// Appends the whole object, `apiVersion` and `kind` first (watch events, single GETs).
    pub fn write_typed(&self, out: &mut BytesMut) {
        out.put_slice(b"{\"apiVersion\":\"");
        out.put_slice(self.kind.api_version().as_bytes());
        out.put_slice(b"\",\"kind\":\"");
        out.put_slice(self.kind.kind().as_bytes());
        out.put_slice(b"\",");
        // The body starts with '{' and is never `{}` (metadata.name is always there).
        out.put_slice(self.body.get(1..).unwrap_or(b"}"));
    }

    /// The whole object as a JSON value (control API readers, tests).
    pub fn to_value(&self) -> Value {
        let mut typed = BytesMut::with_capacity(self.body.len() + 64);
        self.write_typed(&mut typed);
        serde_json::from_slice(&typed).unwrap_or(Value::Null)
    }

    /// A copy of this object carrying another resourceVersion: the object of a DELETED event
    /// carries the version of the deletion, like the real API server's.
    pub fn with_resource_version(&self, resource_version: u64) -> StoredObject {
        let mut map: Map<String, Value> = serde_json::from_slice(&self.body).unwrap_or_default();
        set_resource_version(&mut map, resource_version);
        StoredObject {
            resource_version,
            body: serialize_map(&map),
            ..self.clone()
        }
    }
}

/// An object given to `apply`, checked and split into what the store needs.
#[derive(Debug)]
pub(crate) struct PreparedObject {
    pub kind: ResourceKind,
    pub namespace: String,
    pub name: String,
    /// The object without `apiVersion`/`kind`; metadata is stamped by the store.
    pub map: Map<String, Value>,
}

impl PreparedObject {
    /// Checks an object and finds its kind, namespace (`default` for a namespaced object
    /// without one, as kubectl would use) and name.
    pub fn from_value(value: Value) -> Result<PreparedObject, FakeApiError> {
        let Value::Object(mut map) = value else {
            return Err(FakeApiError::NotAnObject);
        };
        let api_version = take_string(&mut map, "apiVersion");
        let kind_name = take_string(&mut map, "kind");
        let kind = ResourceKind::from_type(&api_version, &kind_name).ok_or(
            FakeApiError::UnsupportedType {
                api_version,
                kind: kind_name,
            },
        )?;
        let metadata = map
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or(FakeApiError::InvalidMetadata("metadata is not an object"))?;
        let name = match metadata.get("name") {
            Some(Value::String(name)) if !name.is_empty() => name.clone(),
            _ => return Err(FakeApiError::MissingName),
        };
        let namespace = if kind.namespaced() {
            match metadata.get("namespace") {
                Some(Value::String(ns)) if !ns.is_empty() => ns.clone(),
                None | Some(Value::Null) | Some(Value::String(_)) => {
                    metadata.insert("namespace".into(), Value::String("default".into()));
                    "default".to_string()
                }
                Some(_) => {
                    return Err(FakeApiError::InvalidMetadata(
                        "metadata.namespace is not a string",
                    ));
                }
            }
        } else {
            metadata.remove("namespace");
            String::new()
        };
        match metadata.get("labels") {
            None | Some(Value::Null) => {}
            Some(Value::Object(labels)) if labels.values().all(Value::is_string) => {}
            Some(_) => {
                return Err(FakeApiError::InvalidMetadata(
                    "metadata.labels is not a map of strings",
                ));
            }
        }
        Ok(PreparedObject {
            kind,
            namespace,
            name,
            map,
        })
    }

    /// The metadata value of `key` as a string, if it is one.
    pub fn metadata_string(&self, key: &str) -> Option<&str> {
        self.map.get("metadata")?.get(key)?.as_str()
    }

    /// Stamps the server-owned metadata and serializes the object for storage.
    pub fn stamp(
        &mut self,
        resource_version: u64,
        uid: &str,
        creation_timestamp: &str,
    ) -> StoredObject {
        if let Some(Value::Object(metadata)) = self.map.get_mut("metadata") {
            metadata.insert("uid".into(), Value::String(uid.to_string()));
            metadata.insert(
                "creationTimestamp".into(),
                Value::String(creation_timestamp.to_string()),
            );
        }
        set_resource_version(&mut self.map, resource_version);
        let labels = self
            .map
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let fields = self
            .kind
            .field_labels()
            .iter()
            .map(|label| field_value(&self.map, label))
            .collect();
        StoredObject {
            kind: self.kind,
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            resource_version,
            labels,
            fields,
            body: serialize_map(&self.map),
        }
    }
}

fn take_string(map: &mut Map<String, Value>, key: &str) -> String {
    match map.remove(key) {
        Some(Value::String(s)) => s,
        _ => String::new(),
    }
}

fn set_resource_version(map: &mut Map<String, Value>, resource_version: u64) {
    if let Some(Value::Object(metadata)) = map.get_mut("metadata") {
        metadata.insert(
            "resourceVersion".into(),
            Value::String(resource_version.to_string()),
        );
    }
}

/// The value at a dotted field path, as field selectors compare it: strings as they are,
/// booleans and numbers as text, anything else (or nothing) as "".
fn field_value(map: &Map<String, Value>, path: &str) -> String {
    let mut parts = path.split('.');
    let mut current = parts.next().and_then(|first| map.get(first));
    for part in parts {
        current = current.and_then(|v| v.get(part));
    }
    match current {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn serialize_map(map: &Map<String, Value>) -> Bytes {
    // Serializing a map of JSON values cannot fail (keys are strings).
    Bytes::from(serde_json::to_vec(map).unwrap_or_else(|_| b"{}".to_vec()))
}
