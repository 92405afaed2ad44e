//! The `/fake/` HTTP control routes and the `fake-kube-api` binary with a generated cluster.

mod common;

use std::io::{BufRead, BufReader};

use common::{Watch, get_json, item_names, post_json};
use fake_kube_api::{FakeApi, ResourceKind};
use serde_json::json;

#[tokio::test]
async fn control_routes_apply_delete_and_force_a_relist() {
    let api = FakeApi::start().await.expect("start");
    let service =
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "a"}});
    let (status, state) = post_json(
        &api.address(),
        "/fake/apply",
        &json!({"kind": "List", "items": [service]}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(state["objects"]["Service"], 1);
    let old = api.resource_version();

    let mut watch = Watch::open(
        &api,
        &format!("/api/v1/services?watch=true&resourceVersion={old}"),
    )
    .await;
    api.wait_for_open_watches(1).await;
    let (status, _) = post_json(&api.address(), "/fake/relist", &json!({})).await;
    assert_eq!(status, 200);
    assert!(watch.next().await.is_none(), "watch dropped");
    let mut watch = Watch::open(
        &api,
        &format!("/api/v1/services?watch=true&resourceVersion={old}"),
    )
    .await;
    assert_eq!(watch.next().await.expect("event")["object"]["code"], 410);

    let (status, _) = post_json(
        &api.address(),
        "/fake/delete",
        &json!({"kind": "services", "namespace": "a", "name": "s"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(api.count(ResourceKind::Service), 0);
    let (status, answer) = post_json(
        &api.address(),
        "/fake/delete",
        &json!({"kind": "Service", "namespace": "a", "name": "s"}),
    )
    .await;
    assert_eq!((status, answer["reason"].as_str()), (404, Some("NotFound")));
    let (status, answer) = post_json(
        &api.address(),
        "/fake/apply",
        &json!({"kind": "Widget", "apiVersion": "v9"}),
    )
    .await;
    assert_eq!(
        (status, answer["reason"].as_str()),
        (400, Some("BadRequest"))
    );
}

/// Kills the child process when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_serves_a_generated_cluster() {
    let kubeconfig = std::env::temp_dir().join(format!(
        "fake-kube-api-bin-{}.kubeconfig",
        std::process::id()
    ));
    let mut child = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_fake-kube-api"))
            .args([
                "--services",
                "30",
                "--endpoints-per-service",
                "3",
                "--namespaces",
                "4",
            ])
            .arg("--print-kubeconfig")
            .arg(&kubeconfig)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .expect("join")
    .expect("read line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"));
    let written = std::fs::read_to_string(&kubeconfig).expect("kubeconfig written");
    let _ = std::fs::remove_file(&kubeconfig);
    assert!(written.contains(&format!("server: {url}")), "{written}");

    let address: std::net::SocketAddr = url.trim_start_matches("http://").parse().expect("address");
    let (status, state) = get_json(&address, "/fake/state").await;
    assert_eq!(status, 200);
    assert_eq!(state["objects"]["Service"], 30);
    assert_eq!(state["objects"]["EndpointSlice"], 30);
    // default, kube-system and ns-0..ns-3.
    assert_eq!(state["objects"]["Namespace"], 6);

    let (_, slices) = get_json(
        &address,
        "/apis/discovery.k8s.io/v1/namespaces/ns-1/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dsvc-5",
    )
    .await;
    assert_eq!(slices["items"].as_array().map(Vec::len), Some(1));
    let slice = &slices["items"][0];
    assert_eq!(slice["endpoints"].as_array().map(Vec::len), Some(3));
    assert_eq!(slice["endpoints"][0]["targetRef"]["kind"], "Pod");
    assert_eq!(slice["endpoints"][0]["conditions"]["ready"], true);
    let (_, service) = get_json(&address, "/api/v1/namespaces/ns-1/services/svc-5").await;
    assert_eq!(service["spec"]["ports"][0]["name"], "http");
    assert_eq!(
        item_names(
            &get_json(
                &address,
                "/api/v1/namespaces/ns-1/services?fieldSelector=metadata.name%3Dsvc-5"
            )
            .await
            .1
        ),
        ["svc-5"]
    );
}
