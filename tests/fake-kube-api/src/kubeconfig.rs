//! A kubeconfig for the fake API server: one cluster at its URL, one context, and a user with a
//! dummy bearer token (the server accepts anything; the token lets tests check that the client
//! sent the credentials of the kubeconfig). For an HTTPS server it can also embed the CA and a
//! client certificate and key, base64 as kubectl writes them (`*-data` fields).

use base64::Engine;

/// The token written into the kubeconfig.
pub const KUBECONFIG_TOKEN: &str = "fake-kube-api-token";

/// The TLS material embedded in a kubeconfig, as PEM text.
#[derive(Debug, Clone, Default)]
pub struct KubeconfigTls {
    /// `certificate-authority-data`: the CA the client trusts for the server certificate.
    pub ca_pem: String,
    /// `client-certificate-data`, if set.
    pub client_cert_pem: Option<String>,
    /// `client-key-data`, if set.
    pub client_key_pem: Option<String>,
}

fn base64(pem: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(pem)
}

/// The kubeconfig YAML for a server at `url`, with `tls` embedded if given.
pub(crate) fn kubeconfig_yaml(url: &str, tls: Option<&KubeconfigTls>) -> String {
    let mut cluster_tls = String::new();
    let mut user_tls = String::new();
    if let Some(tls) = tls {
        cluster_tls = format!("    certificate-authority-data: {}\n", base64(&tls.ca_pem));
        if let Some(cert) = &tls.client_cert_pem {
            user_tls.push_str(&format!("    client-certificate-data: {}\n", base64(cert)));
        }
        if let Some(key) = &tls.client_key_pem {
            user_tls.push_str(&format!("    client-key-data: {}\n", base64(key)));
        }
    }
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: fake-kube-api
  cluster:
    server: {url}
{cluster_tls}contexts:
- name: fake-kube-api
  context:
    cluster: fake-kube-api
    user: fake-kube-api
    namespace: default
current-context: fake-kube-api
preferences: {{}}
users:
- name: fake-kube-api
  user:
    token: {KUBECONFIG_TOKEN}
{user_tls}"
    )
}
