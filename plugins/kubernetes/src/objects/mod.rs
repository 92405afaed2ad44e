//! The cluster objects reduced to the fields DNS uses (kubernetes.md §11.1). Conversion from
//! the k8s-openapi types happens once, when an event arrives; answers never see API types.

pub mod address;
pub mod pod;
pub mod port;
pub mod service;
pub mod slice;

pub use address::parse_ip;
pub use pod::{Pod, PodEvent};
pub use port::{Port, Protocol, SENTINEL_PORT};
pub use service::{ExternalAddress, Service, ServiceKind};
pub use slice::{Endpoint, Slice};
