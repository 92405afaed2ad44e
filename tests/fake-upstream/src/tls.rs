//! The DNS-over-TLS certificate, made when the server starts so no key is ever committed: a
//! self-signed CA and a leaf it signs for "dns.test" and 127.0.0.1, so a client can verify
//! by either (forward's `tls_servername dns.test`, or the IP).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use crate::FakeUpstreamError;

/// The DNS name in the DoT server's certificate.
pub const TLS_SERVER_NAME: &str = "dns.test";

/// The acceptor for a fresh certificate, and the PEM of the CA that signed it.
pub(crate) fn generate() -> Result<(TlsAcceptor, String), FakeUpstreamError> {
    let mut ca_params = CertificateParams::new(Vec::new())?;
    // Every CA its own name, as unrelated CAs have: a client trusting another fake's CA then
    // fails with "unknown issuer", not with a bad signature.
    static NEXT_CA: AtomicU64 = AtomicU64::new(1);
    let serial = NEXT_CA.fetch_add(1, Ordering::Relaxed);
    ca_params.distinguished_name.push(
        DnType::CommonName,
        format!("fake-upstream test CA {}-{serial}", std::process::id()),
    );
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    let mut leaf_params = CertificateParams::new(vec![TLS_SERVER_NAME.to_string()])?;
    leaf_params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, TLS_SERVER_NAME);
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate()?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca)?;

    let chain = vec![CertificateDer::from(leaf.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    // ring explicitly: the server does not depend on rustls' process-wide default provider.
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
    Ok((TlsAcceptor::from(Arc::new(config)), ca.pem()))
}
