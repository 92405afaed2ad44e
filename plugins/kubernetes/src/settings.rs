//! Where the cluster objects come from and which of them are watched: the parsed form of the
//! connection and selection options (kubernetes.md §8, §10). Filled by `config.rs`, read by
//! `source/`.

use std::path::PathBuf;
use std::time::Duration;

/// How to reach the API server (or the manifest file that stands in for it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiSettings {
    /// `endpoint URL…`: only the first is used. Ignored when `kubeconfig` is set.
    pub endpoint: Option<String>,
    /// `tls CERT KEY CACERT`: client certificate, key and CA for `endpoint`.
    pub tls: Option<TlsFiles>,
    /// `kubeconfig FILE [CONTEXT]`: takes precedence over `endpoint`/`tls`.
    pub kubeconfig: Option<Kubeconfig>,
    /// `apiserver_qps`: client-side request rate (requests per second).
    pub qps: Option<f32>,
    /// `apiserver_burst`: token-bucket burst.
    pub burst: Option<u32>,
    /// `apiserver_max_inflight`: concurrent API requests (0 or unset = unlimited).
    pub max_inflight: Option<u32>,
    /// `manifests PATH` (our extension): read the objects from a YAML/JSON file or folder
    /// instead of an API server, and re-read it when it changes.
    pub manifests: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kubeconfig {
    pub path: PathBuf,
    pub context: Option<String>,
}

/// Which objects are watched, and how (kubernetes.md §10 "Watches").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchScope {
    /// `labels`: server-side selector on Services, EndpointSlices and Pods.
    pub labels: Option<String>,
    /// `namespace_labels`: server-side selector on Namespaces.
    pub namespace_labels: Option<String>,
    /// `noendpoints`: no EndpointSlice watch.
    pub endpoint_slices: bool,
    /// `pods verified` (or autopath): the Pod watch runs.
    pub pods: bool,
    /// `startup_timeout`, default 5 s.
    pub startup_timeout: Duration,
}
