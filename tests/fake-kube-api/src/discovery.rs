//! Discovery answers (`/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>[/v1]`): what
//! kubectl and client discovery ask before anything else. Only the served kinds are listed,
//! with the verbs this server implements (get, list, watch).

use serde_json::{Value, json};

use crate::resource::ResourceKind;

/// The Kubernetes version this fake API server claims to be.
pub(crate) fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0-fake",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T00:00:00Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// The discovery document for a path, if the path is a discovery path.
pub(crate) fn document(path: &str, server_address: &str) -> Option<Value> {
    match path {
        "/version" | "/version/" => Some(version()),
        "/api" | "/api/" => Some(json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
        })),
        "/api/v1" | "/api/v1/" => Some(resource_list("", "v1")),
        "/apis" | "/apis/" => Some(json!({
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [group("discovery.k8s.io")],
        })),
        "/apis/discovery.k8s.io" | "/apis/discovery.k8s.io/" => {
            let mut group = group("discovery.k8s.io");
            if let Value::Object(map) = &mut group {
                map.insert("kind".into(), "APIGroup".into());
                map.insert("apiVersion".into(), "v1".into());
            }
            Some(group)
        }
        "/apis/discovery.k8s.io/v1" | "/apis/discovery.k8s.io/v1/" => {
            Some(resource_list("discovery.k8s.io", "discovery.k8s.io/v1"))
        }
        _ => None,
    }
}

fn group(name: &str) -> Value {
    let version = json!({"groupVersion": format!("{name}/v1"), "version": "v1"});
    json!({"name": name, "versions": [version.clone()], "preferredVersion": version})
}

fn resource_list(group: &str, group_version: &str) -> Value {
    let resources: Vec<Value> = ResourceKind::ALL
        .into_iter()
        .filter(|k| k.group() == group)
        .map(|k| {
            json!({
                "name": k.plural(),
                "singularName": k.singular(),
                "namespaced": k.namespaced(),
                "kind": k.kind(),
                "verbs": ["get", "list", "watch"],
                "shortNames": k.short_names(),
            })
        })
        .collect();
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    })
}
