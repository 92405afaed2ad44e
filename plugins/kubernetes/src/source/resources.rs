//! The four object types both sources deliver, and where each goes in the sink.

use std::fmt::Debug;

use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde::de::DeserializeOwned;

use crate::feed::{ClusterSink, Feed};

/// An object type a source watches or loads.
pub(crate) trait Watched:
    kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static
{
    /// client-go's name for the type, as it appears in CoreDNS's watch error lines
    /// (`Failed to watch *v1.Service: …`).
    const GO_TYPE: &'static str;

    fn deliver(sink: &dyn ClusterSink, event: Feed<Self>);
}

impl Watched for Service {
    const GO_TYPE: &'static str = "*v1.Service";

    fn deliver(sink: &dyn ClusterSink, event: Feed<Self>) {
        sink.services(event)
    }
}

impl Watched for EndpointSlice {
    const GO_TYPE: &'static str = "*v1.EndpointSlice";

    fn deliver(sink: &dyn ClusterSink, event: Feed<Self>) {
        sink.endpoint_slices(event)
    }
}

impl Watched for Namespace {
    const GO_TYPE: &'static str = "*v1.Namespace";

    fn deliver(sink: &dyn ClusterSink, event: Feed<Self>) {
        sink.namespaces(event)
    }
}

impl Watched for Pod {
    const GO_TYPE: &'static str = "*v1.Pod";

    fn deliver(sink: &dyn ClusterSink, event: Feed<Self>) {
        sink.pods(event)
    }
}

/// The Pod watch's field selector (kubernetes.md §10): finished pods never reach the cache.
pub(crate) const POD_FIELD_SELECTOR: &str =
    "status.phase!=Succeeded,status.phase!=Failed,status.phase!=Unknown";

/// [`POD_FIELD_SELECTOR`] applied on our side (manifest source). A pod without a phase has the
/// empty phase, which the server's `!=` selector keeps as well.
pub(crate) fn pod_phase_selected(pod: &Pod) -> bool {
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("");
    !matches!(phase, "Succeeded" | "Failed" | "Unknown")
}
