//! The TLS client side of `tls://` upstreams (plugins-resolution.md §1.4 `tls`,
//! `tls_servername`; RFC 7858): rustls, TLS 1.2 at least, the system roots or a CA file, an
//! optional client certificate.

use std::fs::File;
use std::io::BufReader;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

/// What the `tls` option names.
#[derive(Clone, Debug, Default)]
pub struct TlsFiles {
    /// CA bundle to verify upstreams against instead of the system roots.
    pub ca: Option<PathBuf>,
    /// Client certificate and key.
    pub client: Option<(PathBuf, PathBuf)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TlsConfigError {
    #[error("could not read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("no certificates found in {0}")]
    NoCertificates(String),
    #[error("no private key found in {0}")]
    NoPrivateKey(String),
    #[error("TLS configuration: {0}")]
    Rustls(String),
}

fn read_error(path: &Path, e: impl std::fmt::Display) -> TlsConfigError {
    TlsConfigError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let file = File::open(path).map_err(|e| read_error(path, e))?;
    let certs = rustls_pemfile::certs(&mut BufReader::new(file))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| read_error(path, e))?;
    if certs.is_empty() {
        return Err(TlsConfigError::NoCertificates(path.display().to_string()));
    }
    Ok(certs)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    let file = File::open(path).map_err(|e| read_error(path, e))?;
    rustls_pemfile::private_key(&mut BufReader::new(file))
        .map_err(|e| read_error(path, e))?
        .ok_or_else(|| TlsConfigError::NoPrivateKey(path.display().to_string()))
}

fn roots(ca: Option<&Path>) -> Result<RootCertStore, TlsConfigError> {
    let mut store = RootCertStore::empty();
    match ca {
        Some(path) => {
            for cert in certificates(path)? {
                store
                    .add(cert)
                    .map_err(|e| TlsConfigError::Rustls(e.to_string()))?;
            }
        }
        None => {
            // Unreadable individual certificates are skipped, as Go's system pool does.
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                // As with Go's empty system pool: every handshake will fail, loudly.
                plugin::log::warning(
                    Some("forward"),
                    format_args!(
                        "no system root certificates found; tls:// upstreams will fail verification"
                    ),
                );
            }
        }
    }
    Ok(store)
}

/// The client configuration for `files`. Sessions are resumed through rustls's in-memory
/// cache (CoreDNS keeps a session cache per TLS config too, §1.7).
pub fn client_config(files: &TlsFiles) -> Result<Arc<ClientConfig>, TlsConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsConfigError::Rustls(e.to_string()))?
        .with_root_certificates(roots(files.ca.as_deref())?);
    let config = match &files.client {
        Some((cert, key)) => builder
            .with_client_auth_cert(certificates(cert)?, private_key(key)?)
            .map_err(|e| TlsConfigError::Rustls(e.to_string()))?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The name an upstream's certificate is checked against (and sent as SNI): the
/// `tls_servername`, else the upstream's `%name`, else its IP address (§1.4).
pub fn server_name(name: Option<&str>, ip: IpAddr) -> Result<ServerName<'static>, TlsConfigError> {
    match name {
        Some(name) => ServerName::try_from(name.to_string())
            .map_err(|e| TlsConfigError::Rustls(format!("invalid TLS server name {name:?}: {e}"))),
        None => Ok(ServerName::IpAddress(ip.into())),
    }
}
