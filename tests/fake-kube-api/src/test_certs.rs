//! Certificates made at test time (feature `test-certs`), so no key is ever committed: a CA, a
//! server certificate for 127.0.0.1 (IP SAN) and `localhost` signed by it, and a client
//! certificate signed by it. Two calls give two unrelated sets, which is how tests get a
//! "wrong" CA or client certificate.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};

use crate::{error::FakeApiError, tls::TlsConfig};

/// One CA and the server and client certificates it signed, as PEM.
#[derive(Debug, Clone)]
pub struct TestCertificates {
    pub ca_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

fn failed(e: rcgen::Error) -> FakeApiError {
    FakeApiError::Tls(format!("generating a test certificate: {e}"))
}

impl TestCertificates {
    /// A fresh CA (ECDSA P-256 keys throughout) and its two leaf certificates.
    pub fn generate() -> Result<TestCertificates, FakeApiError> {
        let mut ca_params = CertificateParams::new(Vec::new()).map_err(failed)?;
        // Each CA gets its own name, as unrelated CAs have: a verifier then finds no issuer for
        // a stranger's certificate (UnknownIssuer) instead of one whose signature is wrong.
        static NEXT_CA: AtomicU64 = AtomicU64::new(1);
        let serial = NEXT_CA.fetch_add(1, Ordering::Relaxed);
        ca_params.distinguished_name.push(
            DnType::CommonName,
            format!("fake-kube-api test CA {}-{serial}", std::process::id()),
        );
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(failed)?)
            .map_err(failed)?;

        let mut server_params =
            CertificateParams::new(vec!["localhost".to_string()]).map_err(failed)?;
        server_params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        server_params
            .distinguished_name
            .push(DnType::CommonName, "fake-kube-api");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = KeyPair::generate().map_err(failed)?;
        let server_cert = server_params.signed_by(&server_key, &ca).map_err(failed)?;

        // A Kubernetes user is the certificate's CN (and groups its O).
        let mut client_params = CertificateParams::new(Vec::new()).map_err(failed)?;
        client_params
            .distinguished_name
            .push(DnType::CommonName, "clusterdns");
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_key = KeyPair::generate().map_err(failed)?;
        let client_cert = client_params.signed_by(&client_key, &ca).map_err(failed)?;

        Ok(TestCertificates {
            ca_pem: ca.pem(),
            server_cert_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
        })
    }

    /// The server side for `FakeApiBuilder::tls`: this server certificate, and, if
    /// `require_client_cert`, client certificates must be signed by this CA.
    pub fn server_tls(&self, require_client_cert: bool) -> TlsConfig {
        TlsConfig {
            cert_pem: self.server_cert_pem.clone(),
            key_pem: self.server_key_pem.clone(),
            client_ca_pem: require_client_cert.then(|| self.ca_pem.clone()),
        }
    }
}
