//! The resource types the fake API server serves, with the names the API uses for each
//! (group, version, plural, kind, list kind, scope) — what discovery, routing and the
//! `kind`/`apiVersion` of answers are built from.

use std::{fmt, str::FromStr};

use crate::error::FakeApiError;

/// One served resource type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    /// core/v1 Namespace (cluster-scoped).
    Namespace,
    /// core/v1 Service.
    Service,
    /// core/v1 Endpoints (the legacy API, still served by Kubernetes 1.33).
    Endpoints,
    /// core/v1 Pod.
    Pod,
    /// discovery.k8s.io/v1 EndpointSlice.
    EndpointSlice,
}

impl ResourceKind {
    /// Every served kind, in discovery order.
    pub const ALL: [ResourceKind; 5] = [
        ResourceKind::Namespace,
        ResourceKind::Service,
        ResourceKind::Endpoints,
        ResourceKind::Pod,
        ResourceKind::EndpointSlice,
    ];

    /// The `kind` of one object ("Service").
    pub fn kind(self) -> &'static str {
        match self {
            ResourceKind::Namespace => "Namespace",
            ResourceKind::Service => "Service",
            ResourceKind::Endpoints => "Endpoints",
            ResourceKind::Pod => "Pod",
            ResourceKind::EndpointSlice => "EndpointSlice",
        }
    }

    /// The `kind` of a list answer ("ServiceList").
    pub fn list_kind(self) -> &'static str {
        match self {
            ResourceKind::Namespace => "NamespaceList",
            ResourceKind::Service => "ServiceList",
            ResourceKind::Endpoints => "EndpointsList",
            ResourceKind::Pod => "PodList",
            ResourceKind::EndpointSlice => "EndpointSliceList",
        }
    }

    /// The API group; empty for the core group.
    pub fn group(self) -> &'static str {
        match self {
            ResourceKind::EndpointSlice => "discovery.k8s.io",
            _ => "",
        }
    }

    /// The `apiVersion` of objects ("v1", "discovery.k8s.io/v1").
    pub fn api_version(self) -> &'static str {
        match self {
            ResourceKind::EndpointSlice => "discovery.k8s.io/v1",
            _ => "v1",
        }
    }

    /// The resource name in URLs ("services").
    pub fn plural(self) -> &'static str {
        match self {
            ResourceKind::Namespace => "namespaces",
            ResourceKind::Service => "services",
            ResourceKind::Endpoints => "endpoints",
            ResourceKind::Pod => "pods",
            ResourceKind::EndpointSlice => "endpointslices",
        }
    }

    /// The singular resource name, as discovery reports it.
    pub fn singular(self) -> &'static str {
        match self {
            ResourceKind::Namespace => "namespace",
            ResourceKind::Service => "service",
            ResourceKind::Endpoints => "endpoints",
            ResourceKind::Pod => "pod",
            ResourceKind::EndpointSlice => "endpointslice",
        }
    }

    /// kubectl short names, as discovery reports them.
    pub fn short_names(self) -> &'static [&'static str] {
        match self {
            ResourceKind::Namespace => &["ns"],
            ResourceKind::Service => &["svc"],
            ResourceKind::Endpoints => &["ep"],
            ResourceKind::Pod => &["po"],
            ResourceKind::EndpointSlice => &[],
        }
    }

    /// Whether objects live in a namespace.
    pub fn namespaced(self) -> bool {
        !matches!(self, ResourceKind::Namespace)
    }

    /// The field labels a `fieldSelector` may name for this kind. Like the real API server,
    /// any other field is a 400 "field label not supported".
    pub fn field_labels(self) -> &'static [&'static str] {
        match self {
            ResourceKind::Namespace => &["metadata.name", "status.phase"],
            ResourceKind::Service => &[
                "metadata.name",
                "metadata.namespace",
                "spec.clusterIP",
                "spec.type",
            ],
            ResourceKind::Endpoints | ResourceKind::EndpointSlice => {
                &["metadata.name", "metadata.namespace", "addressType"]
            }
            ResourceKind::Pod => &[
                "metadata.name",
                "metadata.namespace",
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.nominatedNodeName",
            ],
        }
    }

    /// The kind an object's `apiVersion` and `kind` name.
    pub fn from_type(api_version: &str, kind: &str) -> Option<ResourceKind> {
        ResourceKind::ALL
            .into_iter()
            .find(|k| k.api_version() == api_version && k.kind() == kind)
    }

    /// The kind a URL's group and plural name.
    pub fn from_group_plural(group: &str, plural: &str) -> Option<ResourceKind> {
        ResourceKind::ALL
            .into_iter()
            .find(|k| k.group() == group && k.plural() == plural)
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())
    }
}

impl FromStr for ResourceKind {
    type Err = FakeApiError;

    /// Accepts the kind ("Service"), the plural ("services"), the singular ("service") or a
    /// short name ("svc"), case-insensitively — what a benchmark script is likely to type.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResourceKind::ALL
            .into_iter()
            .find(|k| {
                k.kind().eq_ignore_ascii_case(s)
                    || k.plural().eq_ignore_ascii_case(s)
                    || k.singular().eq_ignore_ascii_case(s)
                    || k.short_names().iter().any(|n| n.eq_ignore_ascii_case(s))
            })
            .ok_or_else(|| FakeApiError::UnknownKind(s.to_string()))
    }
}
