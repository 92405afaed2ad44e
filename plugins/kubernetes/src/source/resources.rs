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

/// `impl Watched for $type`: its client-go type name and the sink method it feeds.
macro_rules! watched {
    ($type:ty, $go_type:literal, $deliver:ident) => {
        impl Watched for $type {
            const GO_TYPE: &'static str = $go_type;

            fn deliver(sink: &dyn ClusterSink, event: Feed<Self>) {
                sink.$deliver(event)
            }
        }
    };
}

watched!(Service, "*v1.Service", services);
watched!(EndpointSlice, "*v1.EndpointSlice", endpoint_slices);
watched!(Namespace, "*v1.Namespace", namespaces);
watched!(Pod, "*v1.Pod", pods);

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
