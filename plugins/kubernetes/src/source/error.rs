//! What can go wrong while a source is being set up. Everything that can only go wrong later
//! (the API server is down, a watch fails, a manifest file is edited into something invalid)
//! is logged and retried instead: the Corefile must not fail because the API is briefly away
//! (kubernetes.md §9).

use std::path::PathBuf;

use super::manifest::ManifestError;

/// A source that cannot start. The server's setup prefixes `plugin/kubernetes: `, so the texts
/// read like CoreDNS's, which returns client-go's errors as they are.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// No `endpoint`, no `kubeconfig`, no `manifests`, and not running in a Pod: client-go's
    /// `rest.ErrNotInCluster`, word for word.
    #[error(
        "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"
    )]
    NotInCluster,

    /// In a Pod, but the service account's token or CA cannot be read.
    #[error("unable to load in-cluster configuration: {0}")]
    InCluster(String),

    /// The kubeconfig file cannot be read or parsed, or names no usable cluster.
    #[error("invalid kubeconfig {path}: {reason}")]
    Kubeconfig { path: PathBuf, reason: String },

    /// `kubeconfig FILE CONTEXT` names a context the file does not have (or, without CONTEXT,
    /// the file has no current-context).
    #[error("invalid kubeconfig {path}: context \"{context}\" does not exist")]
    UnknownContext { path: PathBuf, context: String },

    #[error("invalid kubeconfig {path}: current-context is not set")]
    NoCurrentContext { path: PathBuf },

    #[error("invalid endpoint \"{url}\": {reason}")]
    Endpoint { url: String, reason: String },

    /// One of the three `tls` files cannot be read.
    #[error("tls: cannot read {role} {path}: {source}")]
    TlsFile {
        role: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// kube could not build an HTTP client from the settings (bad PEM, bad key, …). The text
    /// is CoreDNS's for the same step.
    #[error("failed to create kubernetes notification controller: \"{0}\"")]
    Client(#[source] kube::Error),

    /// `labels` or `namespace_labels` is not a label selector. CoreDNS's text.
    #[error("unable to create Selector for LabelSelector '{selector}': \"{reason}\"")]
    Selector { selector: String, reason: String },

    /// `manifests PATH` could not be read or parsed at startup.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}
