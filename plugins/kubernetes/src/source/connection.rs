//! How the client reaches the API server (kubernetes.md §8 "Client setup"), decided and checked
//! at setup without touching the network: in-cluster service account by default,
//! `kubeconfig FILE [CONTEXT]` before `endpoint URL` (+ `tls CERT KEY CACERT`).
//!
//! Everything here is synchronous (setup is). kube's `Config::from_custom_kubeconfig` is an
//! `async fn` but never waits on anything in kube 5 (it only reads files and parses), so it is
//! polled once with `now_or_never`; a future kube that really suspended there would fail setup
//! with a clear error, and `source_connection` tests would catch it on upgrade.

use std::path::Path;
use std::sync::Arc;

use futures_util::FutureExt;
use http::header::{HeaderValue, USER_AGENT};
use kube::config::{
    AuthInfo, Cluster, Context, KubeConfigOptions, Kubeconfig, NamedAuthInfo, NamedCluster,
    NamedContext,
};

use super::error::SourceError;
use crate::settings::{ApiSettings, TlsFiles};

/// The client configuration for `api` (its `manifests` is not looked at), and the `host`
/// label of its rest_client metrics.
pub(crate) fn client_config(api: &ApiSettings) -> Result<(kube::Config, Arc<str>), SourceError> {
    let (mut config, host) = if let Some(kubeconfig) = &api.kubeconfig {
        let config = from_kubeconfig(&kubeconfig.path, kubeconfig.context.as_deref())?;
        let host = host_label(&config);
        (config, host)
    } else if let Some(url) = &api.endpoint {
        let config = from_endpoint(url, api.tls.as_ref())?;
        let host = host_label(&config);
        (config, host)
    } else {
        in_cluster()?
    };
    // The watcher retries every failure with its own back-off; kube's retry layer underneath
    // would hide those requests from the rate limiter and the request metrics.
    config.default_retry = false;
    config.headers.push((
        USER_AGENT,
        HeaderValue::from_static(concat!("clusterdns/", env!("CARGO_PKG_VERSION"))),
    ));
    Ok((config, host))
}

/// The `host` label of the rest_client metrics: `host[:port]` of the API server URL, as
/// client-go's `url.Host`.
fn host_label(config: &kube::Config) -> Arc<str> {
    let authority = config
        .cluster_url
        .authority()
        .map(|a| a.as_str())
        .unwrap_or("");
    // Without any `user:password@`.
    authority.rsplit('@').next().unwrap_or(authority).into()
}

/// In a Pod. The `host` label is client-go's in-cluster host, `JoinHostPort(HOST, PORT)`
/// (`10.96.0.1:443`; kube's URL leaves out the port 443).
fn in_cluster() -> Result<(kube::Config, Arc<str>), SourceError> {
    // client-go's test, before anything is read: both variables set and non-empty.
    let variable = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(host), Some(port)) = (
        variable("KUBERNETES_SERVICE_HOST"),
        variable("KUBERNETES_SERVICE_PORT"),
    ) else {
        return Err(SourceError::NotInCluster);
    };
    let host: Arc<str> = if host.contains(':') {
        format!("[{host}]:{port}").into()
    } else {
        format!("{host}:{port}").into()
    };
    let config = kube::Config::incluster().map_err(|e| SourceError::InCluster(e.to_string()))?;
    // kube reads the token only at the first request; client-go reads it here, and so do we,
    // so that a Pod without its service account token fails at startup.
    if let Some(token_file) = &config.auth_info.token_file {
        std::fs::read(token_file)
            .map_err(|e| SourceError::InCluster(format!("open {token_file}: {e}")))?;
    }
    Ok((config, host))
}

fn from_kubeconfig(path: &Path, context: Option<&str>) -> Result<kube::Config, SourceError> {
    let invalid = |reason: String| SourceError::Kubeconfig {
        path: path.to_owned(),
        reason,
    };
    let kubeconfig = Kubeconfig::read_from(path).map_err(|e| match e {
        // Its own text repeats the path.
        kube::config::KubeconfigError::ReadConfig(source, _) => invalid(source.to_string()),
        other => invalid(other.to_string()),
    })?;
    let context = match context {
        Some(context) => context.to_owned(),
        None => kubeconfig
            .current_context
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| SourceError::NoCurrentContext {
                path: path.to_owned(),
            })?,
    };
    if !kubeconfig.contexts.iter().any(|c| c.name == context) {
        return Err(SourceError::UnknownContext {
            path: path.to_owned(),
            context,
        });
    }
    let options = KubeConfigOptions {
        context: Some(context),
        ..KubeConfigOptions::default()
    };
    build(kubeconfig, &options).map_err(invalid)
}

/// `endpoint URL` with or without `tls CERT KEY CACERT`: the same as a kubeconfig holding just
/// that cluster and those files, which lets kube read the PEM files as it does for kubeconfigs.
fn from_endpoint(url: &str, tls: Option<&TlsFiles>) -> Result<kube::Config, SourceError> {
    let invalid = |reason: String| SourceError::Endpoint {
        url: url.to_owned(),
        reason,
    };
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| invalid(e.to_string()))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(invalid("the scheme must be http or https".into())),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("no host".into()));
    }
    let mut cluster = Cluster {
        server: Some(url.to_owned()),
        ..Cluster::default()
    };
    let mut user = AuthInfo::default();
    if let Some(tls) = tls {
        for (role, path) in [
            ("client certificate", &tls.cert),
            ("client key", &tls.key),
            ("CA certificate", &tls.ca),
        ] {
            std::fs::File::open(path).map_err(|source| SourceError::TlsFile {
                role,
                path: path.clone(),
                source,
            })?;
        }
        cluster.certificate_authority = Some(tls.ca.display().to_string());
        user.client_certificate = Some(tls.cert.display().to_string());
        user.client_key = Some(tls.key.display().to_string());
    }
    let name = String::from("endpoint");
    let kubeconfig = Kubeconfig {
        clusters: vec![NamedCluster {
            name: name.clone(),
            cluster: Some(cluster),
            ..NamedCluster::default()
        }],
        auth_infos: vec![NamedAuthInfo {
            name: name.clone(),
            auth_info: Some(user),
            ..NamedAuthInfo::default()
        }],
        contexts: vec![NamedContext {
            name: name.clone(),
            context: Some(Context {
                cluster: name.clone(),
                user: Some(name.clone()),
                ..Context::default()
            }),
            ..NamedContext::default()
        }],
        current_context: Some(name),
        ..Kubeconfig::default()
    };
    build(kubeconfig, &KubeConfigOptions::default()).map_err(invalid)
}

fn build(kubeconfig: Kubeconfig, options: &KubeConfigOptions) -> Result<kube::Config, String> {
    match kube::Config::from_custom_kubeconfig(kubeconfig, options).now_or_never() {
        Some(Ok(config)) => Ok(config),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("kube's kubeconfig loader did not complete synchronously".into()),
    }
}
