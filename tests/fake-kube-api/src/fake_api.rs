//! `FakeApi`: the handle tests and the benchmark binary hold. Starting it serves the API on
//! 127.0.0.1; its methods change objects and inject faults while clients list and watch.

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use serde::Serialize;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::{
    error::FakeApiError,
    kubeconfig::{KubeconfigTls, kubeconfig_yaml},
    listener::Serving,
    requests::RecordedRequest,
    resource::ResourceKind,
    shared::{Settings, Shared, lock},
    store::Store,
    tls::{TlsConfig, acceptor},
};

/// Settings for a fake API server before it starts.
#[derive(Debug, Clone)]
pub struct FakeApiBuilder {
    port: u16,
    history_limit: usize,
    bookmark_interval: Duration,
    default_watch_timeout: Duration,
    tls: Option<TlsConfig>,
}

impl Default for FakeApiBuilder {
    fn default() -> Self {
        FakeApiBuilder {
            port: 0,
            history_limit: 100_000,
            bookmark_interval: Duration::from_secs(1),
            default_watch_timeout: Duration::from_secs(1800),
            tls: None,
        }
    }
}

impl FakeApiBuilder {
    /// The port on 127.0.0.1 (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// How many changes are kept for watches to replay (default 100,000). A watch that falls
    /// further behind, or starts from an older version, gets 410 Expired.
    pub fn history_limit(mut self, changes: usize) -> Self {
        self.history_limit = changes;
        self
    }

    /// How often a watch that allows bookmarks gets a BOOKMARK (default 1 s; the real server
    /// sends one about every minute).
    pub fn bookmark_interval(mut self, interval: Duration) -> Self {
        self.bookmark_interval = interval;
        self
    }

    /// How long a watch without `timeoutSeconds` stays open (default 30 min).
    pub fn default_watch_timeout(mut self, timeout: Duration) -> Self {
        self.default_watch_timeout = timeout;
        self
    }

    /// Serve HTTPS with this certificate (and, if it names a client CA, require client
    /// certificates) instead of plain HTTP.
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Binds 127.0.0.1:port and starts serving.
    pub async fn start(self) -> Result<FakeApi, FakeApiError> {
        let tls = self.tls.as_ref().map(acceptor).transpose()?;
        let requested = SocketAddr::from(([127, 0, 0, 1], self.port));
        let listener =
            TcpListener::bind(requested)
                .await
                .map_err(|source| FakeApiError::Listen {
                    address: requested,
                    source,
                })?;
        let address = listener
            .local_addr()
            .map_err(|source| FakeApiError::Listen {
                address: requested,
                source,
            })?;
        let shared = Arc::new(Shared::new(
            Store::new(self.history_limit),
            Settings {
                bookmark_interval: self.bookmark_interval,
                default_watch_timeout: self.default_watch_timeout,
            },
        ));
        let root = CancellationToken::new();
        let serving = Serving::start(listener, shared.clone(), tls.clone(), &root);
        Ok(FakeApi {
            inner: Arc::new(Inner {
                shared,
                address,
                tls,
                root,
                serving: tokio::sync::Mutex::new(Some(serving)),
            }),
        })
    }
}

/// A running fake Kubernetes API server. Cloning gives another handle to the same server; the
/// server stops when the last handle is dropped.
#[derive(Clone)]
pub struct FakeApi {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    address: SocketAddr,
    /// `Some` for an HTTPS server.
    tls: Option<TlsAcceptor>,
    root: CancellationToken,
    /// `None` while down.
    serving: tokio::sync::Mutex<Option<Serving>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.root.cancel();
    }
}

impl FakeApi {
    /// Starts a server on 127.0.0.1 with a free port and default settings.
    pub async fn start() -> Result<FakeApi, FakeApiError> {
        FakeApiBuilder::default().start().await
    }

    /// Settings before starting.
    pub fn builder() -> FakeApiBuilder {
        FakeApiBuilder::default()
    }

    /// The listening address (the same after going down and up again).
    pub fn address(&self) -> SocketAddr {
        self.inner.address
    }

    /// `http://127.0.0.1:PORT`, or `https://127.0.0.1:PORT` when started with `tls`.
    pub fn url(&self) -> String {
        let scheme = if self.inner.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.inner.address)
    }

    /// Creates or updates an object given as JSON (`apiVersion`, `kind`, `metadata.name`
    /// required; a namespaced object without namespace goes to `default`). Stamps uid,
    /// creationTimestamp (kept on update) and a new resourceVersion, and emits ADDED or
    /// MODIFIED; an update that changes nothing emits nothing. Returns the object's
    /// resourceVersion.
    pub fn apply(&self, object: serde_json::Value) -> Result<u64, FakeApiError> {
        self.inner.shared.apply(object)
    }

    /// `apply` for a typed object (a k8s-openapi `Service`, ...).
    pub fn apply_typed<T: Serialize>(&self, object: &T) -> Result<u64, FakeApiError> {
        self.apply(serde_json::to_value(object)?)
    }

    /// Deletes an object (namespace ignored for cluster-scoped kinds) and emits DELETED.
    /// Returns the resourceVersion of the deletion.
    pub fn delete(
        &self,
        kind: ResourceKind,
        namespace: &str,
        name: &str,
    ) -> Result<u64, FakeApiError> {
        self.inner.shared.delete(kind, namespace, name)
    }

    /// The stored object, as a client would GET it.
    pub fn get(
        &self,
        kind: ResourceKind,
        namespace: &str,
        name: &str,
    ) -> Option<serde_json::Value> {
        lock(&self.inner.shared.store)
            .get(kind, namespace, name)
            .map(|o| o.to_value())
    }

    /// How many objects of a kind are stored.
    pub fn count(&self, kind: ResourceKind) -> usize {
        lock(&self.inner.shared.store).count(kind)
    }

    /// The current (global) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        lock(&self.inner.shared.store).resource_version()
    }

    /// Compacts all history: watches from, and continue tokens of, any older resourceVersion
    /// are answered 410 Expired. Open watches that are caught up keep running.
    pub fn expire_history(&self) {
        self.inner.shared.expire_history();
    }

    /// Ends every open watch response (cleanly, like a watch timeout); clients re-watch.
    pub fn drop_watches(&self) {
        self.inner.shared.drop_watches();
    }

    /// `expire_history` then `drop_watches`: every watching client has to list again.
    pub fn force_relist(&self) {
        self.expire_history();
        self.drop_watches();
    }

    /// Down: stop accepting (connections are refused) and close every open connection.
    /// Up: listen again on the same port. Returns once the change has taken effect.
    pub async fn set_down(&self, down: bool) -> Result<(), FakeApiError> {
        let mut serving = self.inner.serving.lock().await;
        if down {
            if let Some(running) = serving.take() {
                running.stop().await;
            }
        } else if serving.is_none() {
            let listener = TcpListener::bind(self.inner.address)
                .await
                .map_err(|source| FakeApiError::Listen {
                    address: self.inner.address,
                    source,
                })?;
            *serving = Some(Serving::start(
                listener,
                self.inner.shared.clone(),
                self.inner.tls.clone(),
                &self.inner.root,
            ));
        }
        Ok(())
    }

    /// Whether the server is down.
    pub async fn is_down(&self) -> bool {
        self.inner.serving.lock().await.is_none()
    }

    /// Answers the next `count` API requests with `status` (a Status body with the reason the
    /// real server gives for it: 500 InternalError, 503 ServiceUnavailable, 429, ...).
    pub fn fail_next(&self, count: u32, status: u16) {
        lock(&self.inner.shared.faults).fail_next(count, status);
    }

    /// Answers every API request whose path matches the glob `pattern` (`/api/v1/*services`)
    /// with `status`, until `clear_faults`.
    pub fn fail_path(&self, pattern: &str, status: u16) -> Result<(), FakeApiError> {
        let pattern =
            glob::Pattern::new(pattern).map_err(|e| FakeApiError::BadPattern(e.to_string()))?;
        lock(&self.inner.shared.faults).fail_path(pattern, status);
        Ok(())
    }

    /// Waits this long before answering each API request (a slow or starting API server).
    pub fn set_delay(&self, delay: Duration) {
        lock(&self.inner.shared.faults).delay = delay;
    }

    /// Removes every injected failure and the delay.
    pub fn clear_faults(&self) {
        lock(&self.inner.shared.faults).clear();
    }

    /// The bookmark interval of watches started from now on.
    pub fn set_bookmark_interval(&self, interval: Duration) {
        lock(&self.inner.shared.settings).bookmark_interval = interval;
    }

    /// Every API request so far, in arrival order (control routes excluded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.shared.requests).clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.inner.shared.requests).clear();
    }

    /// Why each failed TLS handshake failed so far, in order (an HTTPS server refusing a client
    /// without a valid client certificate, or a client that did not trust the server).
    pub fn tls_failures(&self) -> Vec<String> {
        lock(&self.inner.shared.tls_failures).clone()
    }

    /// Waits until at least `count` TLS handshakes have failed (the client may see the
    /// connection close before the server has logged why).
    pub async fn wait_for_tls_failures(&self, count: usize) {
        while lock(&self.inner.shared.tls_failures).len() < count {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Number of watch responses being streamed now.
    pub fn open_watches(&self) -> usize {
        *self.inner.shared.open_watches.borrow()
    }

    /// Waits until at least `count` watches are open (a client has reached its watch phase).
    pub async fn wait_for_open_watches(&self, count: usize) {
        let mut open = self.inner.shared.open_watches.subscribe();
        // The sender lives as long as `self`, so this only ends when the count is reached.
        let _ = open.wait_for(|n| *n >= count).await;
    }

    /// Waits until a request matching `predicate` has been recorded.
    pub async fn wait_for_request(&self, predicate: impl Fn(&RecordedRequest) -> bool) {
        loop {
            if lock(&self.inner.shared.requests).iter().any(&predicate) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// A kubeconfig (YAML) for this server: its URL, a dummy bearer token, no TLS material.
    pub fn kubeconfig(&self) -> String {
        kubeconfig_yaml(&self.url(), None)
    }

    /// A kubeconfig (YAML) for this server with a CA and optionally a client certificate and
    /// key embedded (`certificate-authority-data`, `client-certificate-data`,
    /// `client-key-data`).
    pub fn kubeconfig_with_tls(&self, tls: &KubeconfigTls) -> String {
        kubeconfig_yaml(&self.url(), Some(tls))
    }

    /// Writes `kubeconfig()` to a file.
    pub fn write_kubeconfig(&self, path: impl AsRef<Path>) -> Result<(), FakeApiError> {
        write(path.as_ref(), &self.kubeconfig())
    }

    /// Writes `kubeconfig_with_tls(tls)` to a file.
    pub fn write_kubeconfig_with_tls(
        &self,
        path: impl AsRef<Path>,
        tls: &KubeconfigTls,
    ) -> Result<(), FakeApiError> {
        write(path.as_ref(), &self.kubeconfig_with_tls(tls))
    }
}

fn write(path: &Path, kubeconfig: &str) -> Result<(), FakeApiError> {
    std::fs::write(path, kubeconfig).map_err(|source| FakeApiError::WriteKubeconfig {
        path: path.to_path_buf(),
        source,
    })
}
