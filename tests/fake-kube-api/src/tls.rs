//! The optional HTTPS listener: the same routes over TLS (rustls with ring), with a server
//! certificate the test supplies and, when a client CA is given, a required client certificate
//! signed by it — what a real API server does with `--client-ca-file`. Handshakes that fail
//! are logged so a test can see the server refused a client (no request reaches the router).

use std::sync::Arc;

use rustls::{
    RootCertStore, ServerConfig,
    crypto::CryptoProvider,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    server::WebPkiClientVerifier,
};
use tokio_rustls::TlsAcceptor;

use crate::error::FakeApiError;

/// The server side of TLS, as PEM text.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// The server certificate chain (leaf first).
    pub cert_pem: String,
    /// The server's private key (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: String,
    /// When set, every client must present a certificate signed by one of these CAs; the
    /// handshake fails otherwise.
    pub client_ca_pem: Option<String>,
}

/// ring, whatever other providers the dependency tree enables: the server does not depend on
/// rustls' process-wide default provider being installed or unambiguous.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certificates(pem: &str, what: &str) -> Result<Vec<CertificateDer<'static>>, FakeApiError> {
    let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| FakeApiError::Tls(format!("{what}: {e}")))?;
    if certificates.is_empty() {
        return Err(FakeApiError::Tls(format!(
            "{what}: no certificate in the PEM"
        )));
    }
    Ok(certificates)
}

/// The acceptor for `config`; every PEM problem is an error, not a panic.
pub(crate) fn acceptor(config: &TlsConfig) -> Result<TlsAcceptor, FakeApiError> {
    let chain = certificates(&config.cert_pem, "server certificate")?;
    let key = PrivateKeyDer::from_pem_slice(config.key_pem.as_bytes())
        .map_err(|e| FakeApiError::Tls(format!("server key: {e}")))?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| FakeApiError::Tls(e.to_string()))?;
    let builder = match &config.client_ca_pem {
        None => builder.with_no_client_auth(),
        Some(ca_pem) => {
            let mut roots = RootCertStore::empty();
            for ca in certificates(ca_pem, "client CA")? {
                roots
                    .add(ca)
                    .map_err(|e| FakeApiError::Tls(format!("client CA: {e}")))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| FakeApiError::Tls(format!("client CA: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let server = builder
        .with_single_cert(chain, key)
        .map_err(|e| FakeApiError::Tls(format!("server certificate and key: {e}")))?;
    Ok(TlsAcceptor::from(Arc::new(server)))
}
