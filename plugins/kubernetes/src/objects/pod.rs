//! A Pod reduced to what DNS uses (kubernetes.md §7, §11.1, §11.3).

use std::net::IpAddr;

use k8s_openapi::api::core::v1::Pod as ApiPod;

use super::address::parse_ip;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pod {
    pub name: Box<str>,
    pub namespace: Box<str>,
    pub resource_version: Box<str>,
    /// `status.podIP` (the primary address only, §7); None while unassigned.
    pub ip: Option<IpAddr>,
}

/// What an add/update of a pod means for the cache.
#[derive(Debug, PartialEq, Eq)]
pub enum PodEvent {
    Store(Pod),
    /// Carries a `deletionTimestamp`: not cached if new, kept unchanged if cached (§11.3).
    Terminating {
        key: String,
    },
    /// Phase Succeeded, Failed or Unknown: the API's field selector never lists these
    /// (§10); one arriving anyway (a manifest file) is treated as gone.
    Finished {
        key: String,
    },
    Invalid,
}

impl Pod {
    pub fn from_api(api: &ApiPod) -> PodEvent {
        let meta = &api.metadata;
        let (Some(name), Some(namespace)) = (
            meta.name.as_deref().filter(|n| !n.is_empty()),
            meta.namespace.as_deref().filter(|n| !n.is_empty()),
        ) else {
            return PodEvent::Invalid;
        };
        let key = super::slice::store_key(namespace, name);
        let status = api.status.as_ref();
        if matches!(
            status.and_then(|s| s.phase.as_deref()),
            Some("Succeeded" | "Failed" | "Unknown")
        ) {
            return PodEvent::Finished { key };
        }
        if meta.deletion_timestamp.is_some() {
            return PodEvent::Terminating { key };
        }
        PodEvent::Store(Pod {
            name: name.into(),
            namespace: namespace.into(),
            resource_version: meta.resource_version.as_deref().unwrap_or("").into(),
            ip: status.and_then(|s| s.pod_ip.as_deref()).and_then(parse_ip),
        })
    }

    pub fn store_key(&self) -> String {
        super::slice::store_key(&self.namespace, &self.name)
    }
}

/// The name of a Namespace object (its labels are filtered server-side, §11.1).
pub fn namespace_name(api: &k8s_openapi::api::core::v1::Namespace) -> Option<&str> {
    api.metadata.name.as_deref().filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> PodEvent {
        Pod::from_api(&serde_json::from_value(json).unwrap())
    }

    #[test]
    fn reduces_by_phase_and_deletion() {
        let running = pod(serde_json::json!({
            "metadata": {"name": "foo", "namespace": "podns", "resourceVersion": "3"},
            "status": {"phase": "Running", "podIP": "10.240.0.1"}
        }));
        assert_eq!(
            running,
            PodEvent::Store(Pod {
                name: "foo".into(),
                namespace: "podns".into(),
                resource_version: "3".into(),
                ip: Some("10.240.0.1".parse().unwrap()),
            })
        );
        assert_eq!(
            pod(serde_json::json!({
                "metadata": {"name": "done", "namespace": "podns"},
                "status": {"phase": "Succeeded", "podIP": "10.240.0.2"}
            })),
            PodEvent::Finished {
                key: "podns/done".into()
            }
        );
        assert_eq!(
            pod(serde_json::json!({
                "metadata": {"name": "t", "namespace": "podns", "deletionTimestamp": "2024-01-01T00:00:00Z"},
                "status": {"phase": "Running", "podIP": "10.240.0.3"}
            })),
            PodEvent::Terminating {
                key: "podns/t".into()
            }
        );
        assert_eq!(pod(serde_json::json!({"metadata": {}})), PodEvent::Invalid);
    }
}
