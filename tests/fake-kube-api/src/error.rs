//! Errors of the control API (what a test or the benchmark driver did wrong). Errors a
//! *client* of the fake API server causes are answered as Kubernetes `Status` objects instead
//! (see `status.rs`), never as panics.

use std::io;

use crate::resource::ResourceKind;

/// What went wrong when driving the fake API server.
#[derive(Debug, thiserror::Error)]
pub enum FakeApiError {
    /// The object given to `apply` is not a JSON object.
    #[error("object is not a JSON object")]
    NotAnObject,
    /// The object has no (string) `apiVersion`/`kind`, or a kind the fake server does not serve.
    #[error("unsupported object type: apiVersion {api_version:?}, kind {kind:?}")]
    UnsupportedType { api_version: String, kind: String },
    /// A kind name given to `delete` or the control routes is not one the fake server serves.
    #[error("unknown resource kind {0:?}")]
    UnknownKind(String),
    /// The object has no `metadata.name`.
    #[error("object has no metadata.name")]
    MissingName,
    /// A metadata field has the wrong JSON type (labels must be a map of strings, ...).
    #[error("invalid metadata: {0}")]
    InvalidMetadata(&'static str),
    /// `delete` of an object that does not exist.
    #[error("{kind} {namespace}/{name} not found")]
    NotFound {
        kind: ResourceKind,
        namespace: String,
        name: String,
    },
    /// The object could not be serialized (a typed object whose `Serialize` failed).
    #[error("cannot serialize object: {0}")]
    Serialize(#[from] serde_json::Error),
    /// A `fail_path` pattern that is not a valid glob.
    #[error("invalid path pattern: {0}")]
    BadPattern(String),
    /// Binding or re-binding the listening socket failed.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: std::net::SocketAddr,
        source: io::Error,
    },
    /// The TLS settings are unusable (PEM without a certificate or key, a key that does not
    /// match, ...), or generating test certificates failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// Writing the kubeconfig file failed.
    #[error("cannot write kubeconfig {path}: {source}")]
    WriteKubeconfig {
        path: std::path::PathBuf,
        source: io::Error,
    },
}
