//! A fake Kubernetes API server for tests and benchmarks: the real list/watch protocol over
//! HTTP or HTTPS (optionally requiring client certificates) on 127.0.0.1, for core/v1 Namespaces, Services, Endpoints and Pods and
//! discovery.k8s.io/v1 EndpointSlices, with fault controls (compacted history, dropped
//! watches, server down, injected errors, delays) and a request log. See README.md.
#![forbid(unsafe_code)]

mod body;
mod control_routes;
mod discovery;
mod error;
mod fake_api;
mod faults;
pub mod generate;
mod kubeconfig;
mod list;
mod listener;
mod object;
mod query;
mod requests;
mod resource;
mod router;
mod selector;
mod shared;
mod status;
mod store;
#[cfg(feature = "test-certs")]
mod test_certs;
mod timestamp;
mod tls;
mod watch;

pub use error::FakeApiError;
pub use fake_api::{FakeApi, FakeApiBuilder};
pub use kubeconfig::{KUBECONFIG_TOKEN, KubeconfigTls};
pub use requests::RecordedRequest;
pub use resource::ResourceKind;
#[cfg(feature = "test-certs")]
pub use test_certs::TestCertificates;
pub use tls::TlsConfig;
