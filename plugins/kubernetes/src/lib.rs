//! kubernetes: answers the cluster zone (`cluster.local`) from a watch cache of Services,
//! EndpointSlices, Namespaces and Pods, as CoreDNS's kubernetes plugin does
//! (../shared/compat/kubernetes.md is the contract).
#![forbid(unsafe_code)]

pub mod feed;
pub mod settings;
pub mod source;
