//! The HTTPS listener with kube 5 as the client: served routes are the same as over HTTP, a
//! required client certificate is enforced, the kubeconfig embeds the TLS data, going down and
//! up keeps HTTPS, and unusable PEM is an error at start.

use fake_kube_api::{FakeApi, FakeApiError, KubeconfigTls, TestCertificates, TlsConfig};
use k8s_openapi::api::core::v1::Service;
use kube::{
    Api, Client, Config,
    api::ListParams,
    config::{KubeConfigOptions, Kubeconfig},
};
use serde_json::json;

fn service(name: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"clusterIP": "10.96.0.20", "ports": [{"port": 80, "protocol": "TCP"}]},
    })
}

async fn client(api: &FakeApi, tls: &KubeconfigTls) -> Client {
    let kubeconfig =
        Kubeconfig::from_yaml(&api.kubeconfig_with_tls(tls)).expect("kube reads the kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kube accepts the kubeconfig");
    Client::try_from(config).expect("client")
}

fn with_client_cert(certs: &TestCertificates) -> KubeconfigTls {
    KubeconfigTls {
        ca_pem: certs.ca_pem.clone(),
        client_cert_pem: Some(certs.client_cert_pem.clone()),
        client_key_pem: Some(certs.client_key_pem.clone()),
    }
}

async fn service_names(client: Client) -> Result<Vec<String>, kube::Error> {
    let list = Api::<Service>::all(client)
        .list(&ListParams::default())
        .await?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|s| s.metadata.name)
        .collect())
}

#[tokio::test]
async fn https_with_a_required_client_certificate() {
    let certs = TestCertificates::generate().expect("certificates");
    let api = FakeApi::builder()
        .tls(certs.server_tls(true))
        .start()
        .await
        .expect("starts");
    assert_eq!(api.url(), format!("https://{}", api.address()));
    api.apply(service("web")).expect("apply");

    let trusted = client(&api, &with_client_cert(&certs)).await;
    assert_eq!(service_names(trusted.clone()).await.expect("list"), ["web"]);
    assert_eq!(api.requests().len(), 1);

    // Without a client certificate the handshake fails: the request never reaches the API.
    let anonymous = client(
        &api,
        &KubeconfigTls {
            ca_pem: certs.ca_pem.clone(),
            ..KubeconfigTls::default()
        },
    )
    .await;
    assert!(service_names(anonymous).await.is_err());
    api.wait_for_tls_failures(1).await;
    assert_eq!(api.requests().len(), 1);
    let failures = api.tls_failures();
    assert!(
        failures.iter().all(|f| f.contains("no certificates")),
        "{failures:?}"
    );

    // Down and up again: still HTTPS with the same certificate.
    api.set_down(true).await.expect("down");
    api.set_down(false).await.expect("up");
    let again = client(&api, &with_client_cert(&certs)).await;
    assert_eq!(service_names(again).await.expect("list"), ["web"]);
}

#[tokio::test]
async fn plain_http_clients_cannot_talk_to_the_https_server() {
    let certs = TestCertificates::generate().expect("certificates");
    let api = FakeApi::builder()
        .tls(certs.server_tls(false))
        .start()
        .await
        .expect("starts");
    let url = api.url().replacen("https://", "http://", 1);
    let config = Config::new(url.parse().expect("url"));
    let plain = Client::try_from(config).expect("client");
    assert!(service_names(plain).await.is_err());
    api.wait_for_tls_failures(1).await;
    assert_eq!(api.requests(), []);
}

#[tokio::test]
async fn unusable_pem_fails_start() {
    let certs = TestCertificates::generate().expect("certificates");
    let cases = [
        TlsConfig {
            cert_pem: "not PEM".into(),
            ..certs.server_tls(false)
        },
        TlsConfig {
            key_pem: "not PEM".into(),
            ..certs.server_tls(false)
        },
        // A key that does not belong to the certificate.
        TlsConfig {
            key_pem: certs.client_key_pem.clone(),
            ..certs.server_tls(false)
        },
        TlsConfig {
            client_ca_pem: Some("not PEM".into()),
            ..certs.server_tls(false)
        },
    ];
    for tls in cases {
        let result = FakeApi::builder().tls(tls.clone()).start().await;
        assert!(
            matches!(result, Err(FakeApiError::Tls(_))),
            "{tls:?} started"
        );
    }
}
