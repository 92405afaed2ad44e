//! The API source over HTTPS against the fake API server (kubernetes.md §8: `endpoint` with
//! `tls CERT KEY CACERT`, and a kubeconfig's embedded TLS data): with the right CA and a client
//! certificate the watches sync; a client certificate the server does not accept, or a CA that
//! did not sign the server's certificate, gets nothing (the handshake fails, no request reaches
//! the server). Certificates are generated per test; no key is committed.

mod source_support;

use std::sync::Arc;

use clusterdns_kubernetes::feed::Resource;
use clusterdns_kubernetes::settings::{ApiSettings, Kubeconfig, TlsFiles, WatchScope};
use clusterdns_kubernetes::source;
use fake_kube_api::{FakeApi, KUBECONFIG_TOKEN, KubeconfigTls, TestCertificates};
use serde_json::{Value, json};
use source_support::{Event, Recorder, TempDir, eventually, new_recorder, scope};

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn service(name: &str, ip: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"clusterIP": ip, "clusterIPs": [ip], "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}
    })
}

/// Services and Namespaces only: enough to see a sync, fewer connections to refuse.
fn core_scope() -> WatchScope {
    let mut scope = scope();
    scope.pods = false;
    scope.endpoint_slices = false;
    scope
}

/// An HTTPS fake API server with this certificate set, holding `default` and one Service.
async fn https_api(certs: &TestCertificates, require_client_cert: bool) -> FakeApi {
    let api = FakeApi::builder()
        .tls(certs.server_tls(require_client_cert))
        .start()
        .await
        .expect("HTTPS fake API starts");
    assert!(api.url().starts_with("https://127.0.0.1:"), "{}", api.url());
    api.apply(namespace("default")).expect("apply");
    api.apply(service("web", "10.0.0.10")).expect("apply");
    api
}

/// `tls CERT KEY CACERT` files in `dir`.
fn tls_files(dir: &TempDir, cert_pem: &str, key_pem: &str, ca_pem: &str) -> TlsFiles {
    TlsFiles {
        cert: dir.write("client.crt", cert_pem),
        key: dir.write("client.key", key_pem),
        ca: dir.write("ca.crt", ca_pem),
    }
}

fn endpoint_with_tls(api: &FakeApi, tls: TlsFiles) -> ApiSettings {
    ApiSettings {
        endpoint: Some(api.url()),
        tls: Some(tls),
        ..ApiSettings::default()
    }
}

fn kubeconfig(dir: &TempDir, api: &FakeApi, tls: &KubeconfigTls) -> ApiSettings {
    let path = dir.path().join("config");
    api.write_kubeconfig_with_tls(&path, tls)
        .expect("kubeconfig");
    ApiSettings {
        kubeconfig: Some(Kubeconfig {
            path,
            context: None,
        }),
        ..ApiSettings::default()
    }
}

struct Running {
    recorder: Arc<Recorder>,
    tasks: plugin::tasks::Tasks,
}

impl Running {
    fn start(settings: &ApiSettings) -> Running {
        let recorder = new_recorder();
        let tasks = plugin::tasks::Tasks::new();
        source::start(
            settings,
            &core_scope(),
            recorder.clone(),
            &tasks,
            &plugin::metrics::MetricsHub::new(),
        )
        .expect("API source starts");
        Running { recorder, tasks }
    }

    async fn synced(&self) -> bool {
        eventually(|| {
            self.recorder.synced(Resource::Namespaces) >= 1
                && self.recorder.synced(Resource::Services) >= 1
        })
        .await
    }

    /// A new Service applied now reaches the sink through the open watch.
    async fn sees_new_service(&self, api: &FakeApi) -> bool {
        api.wait_for_open_watches(2).await;
        api.apply(service("api", "10.0.0.11")).expect("apply");
        eventually(|| {
            self.recorder
                .keys(Resource::Services)
                .contains(&"default/api".to_string())
        })
        .await
    }

    /// The client keeps failing: waits (bounded) until the server has refused at least two
    /// handshakes, then checks that nothing got through. Returns why the server saw them fail.
    async fn refused(&self, api: &FakeApi) -> Vec<String> {
        assert!(
            eventually(|| api.tls_failures().len() >= 2).await,
            "the server saw no failed handshake"
        );
        assert_eq!(api.requests(), [], "no request got past TLS");
        assert!(
            !self
                .recorder
                .events()
                .iter()
                .any(|e| matches!(e, Event::Synced(_) | Event::Upsert(..))),
            "{:?}",
            self.recorder.events()
        );
        api.tls_failures()
    }
}

#[tokio::test]
async fn endpoint_with_client_certificate_syncs() {
    let certs = TestCertificates::generate().expect("certificates");
    // The server requires a client certificate: syncing proves the plugin sent one.
    let api = https_api(&certs, true).await;
    let dir = TempDir::new("tls-endpoint");
    let run = Running::start(&endpoint_with_tls(
        &api,
        tls_files(
            &dir,
            &certs.client_cert_pem,
            &certs.client_key_pem,
            &certs.ca_pem,
        ),
    ));
    assert!(run.synced().await);
    assert_eq!(run.recorder.keys(Resource::Services), ["default/web"]);
    assert!(run.sees_new_service(&api).await);
    assert_eq!(api.tls_failures(), Vec::<String>::new());
    run.tasks.stop().await;
}

#[tokio::test]
async fn server_refuses_a_missing_client_certificate() {
    let certs = TestCertificates::generate().expect("certificates");
    let api = https_api(&certs, true).await;
    let dir = TempDir::new("tls-no-client-cert");
    // `tls` always names a client certificate; a kubeconfig can trust the CA without one.
    let run = Running::start(&kubeconfig(
        &dir,
        &api,
        &KubeconfigTls {
            ca_pem: certs.ca_pem.clone(),
            client_cert_pem: None,
            client_key_pem: None,
        },
    ));
    let failures = run.refused(&api).await;
    assert!(
        failures.iter().all(|f| f.contains("no certificates")),
        "{failures:?}"
    );
    run.tasks.stop().await;
}

#[tokio::test]
async fn server_refuses_a_client_certificate_from_another_ca() {
    let certs = TestCertificates::generate().expect("certificates");
    let stranger = TestCertificates::generate().expect("certificates");
    let api = https_api(&certs, true).await;
    let dir = TempDir::new("tls-wrong-client-cert");
    let run = Running::start(&endpoint_with_tls(
        &api,
        tls_files(
            &dir,
            &stranger.client_cert_pem,
            &stranger.client_key_pem,
            &certs.ca_pem,
        ),
    ));
    let failures = run.refused(&api).await;
    assert!(
        failures.iter().all(|f| f.contains("UnknownIssuer")),
        "{failures:?}"
    );
    run.tasks.stop().await;
}

#[tokio::test]
async fn client_refuses_a_server_certificate_its_ca_did_not_sign() {
    let certs = TestCertificates::generate().expect("certificates");
    let stranger = TestCertificates::generate().expect("certificates");
    // No client CA: only the client's check of the server can fail.
    let api = https_api(&certs, false).await;
    let dir = TempDir::new("tls-wrong-ca");
    let run = Running::start(&endpoint_with_tls(
        &api,
        tls_files(
            &dir,
            &certs.client_cert_pem,
            &certs.client_key_pem,
            &stranger.ca_pem,
        ),
    ));
    let failures = run.refused(&api).await;
    // The client's alert, as the server received it.
    assert!(
        failures.iter().all(|f| f.contains("UnknownCA")),
        "{failures:?}"
    );
    run.tasks.stop().await;
}

#[tokio::test]
async fn kubeconfig_with_embedded_certificates_syncs() {
    let certs = TestCertificates::generate().expect("certificates");
    let api = https_api(&certs, true).await;
    let dir = TempDir::new("tls-kubeconfig");
    let run = Running::start(&kubeconfig(
        &dir,
        &api,
        &KubeconfigTls {
            ca_pem: certs.ca_pem.clone(),
            client_cert_pem: Some(certs.client_cert_pem.clone()),
            client_key_pem: Some(certs.client_key_pem.clone()),
        },
    ));
    assert!(run.synced().await);
    assert!(run.sees_new_service(&api).await);
    // The kubeconfig's token goes along with the client certificate.
    let expected = format!("Bearer {KUBECONFIG_TOKEN}");
    for request in api.requests() {
        assert_eq!(request.authorization.as_deref(), Some(expected.as_str()));
    }
    assert_eq!(api.tls_failures(), Vec::<String>::new());
    run.tasks.stop().await;
}
