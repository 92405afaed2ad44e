//! A kubeconfig for the fake API server: one cluster at its plain-http URL, one context, and a
//! user with a dummy bearer token (the server accepts anything; the token lets tests check
//! that the client sent the credentials of the kubeconfig).

/// The token written into the kubeconfig.
pub const KUBECONFIG_TOKEN: &str = "fake-kube-api-token";

/// The kubeconfig YAML for a server at `url`.
pub(crate) fn kubeconfig_yaml(url: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: fake-kube-api
  cluster:
    server: {url}
contexts:
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
"
    )
}
