//! kube 5's `runtime::watcher`, unmodified, against the fake API server through a kubeconfig
//! file: the initial list, an apply, a delete, and the re-list after compacted history and
//! dropped watches.

use std::time::Duration;

use fake_kube_api::{FakeApi, KUBECONFIG_TOKEN, ResourceKind};
use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Service;
use kube::{
    Api, Client, Config, ResourceExt,
    config::{KubeConfigOptions, Kubeconfig},
    runtime::watcher::{self, Event},
};
use serde_json::json;

fn service(namespace: &str, name: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.20", "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
    })
}

/// A short name for an event, to compare sequences.
fn describe(event: &Event<Service>) -> String {
    match event {
        Event::Init => "Init".into(),
        Event::InitApply(s) => format!("InitApply {}", s.name_any()),
        Event::InitDone => "InitDone".into(),
        Event::Apply(s) => format!("Apply {}", s.name_any()),
        Event::Delete(s) => format!("Delete {}", s.name_any()),
    }
}

async fn client_from_kubeconfig_file(api: &FakeApi) -> Client {
    let path = std::env::temp_dir().join(format!(
        "fake-kube-api-{}-{}.kubeconfig",
        std::process::id(),
        api.address().port()
    ));
    api.write_kubeconfig(&path).expect("write kubeconfig");
    let kubeconfig = Kubeconfig::read_from(&path).expect("kube reads the kubeconfig");
    let _ = std::fs::remove_file(&path);
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kube accepts the kubeconfig");
    Client::try_from(config).expect("client")
}

#[tokio::test]
async fn kube_watcher_lists_watches_and_relists_after_expired_history() {
    let api = FakeApi::builder()
        .bookmark_interval(Duration::from_millis(50))
        .start()
        .await
        .expect("start");
    api.apply(service("a", "first")).expect("apply");
    let client = client_from_kubeconfig_file(&api).await;
    // A small page size so that the initial list takes two pages.
    api.apply(service("b", "second")).expect("apply");
    let config = watcher::Config::default().page_size(1);
    let mut events = watcher::watcher(Api::<Service>::all(client), config).boxed();
    let mut next = async || -> Option<String> {
        // Errors (the 410 of the relist) are part of the protocol: skip to the next event.
        loop {
            match events.try_next().await {
                Ok(Some(event)) => return Some(describe(&event)),
                Ok(None) => return None,
                Err(_) => continue,
            }
        }
    };
    for expected in ["Init", "InitApply first", "InitApply second", "InitDone"] {
        assert_eq!(next().await.as_deref(), Some(expected));
    }

    api.apply(service("a", "third")).expect("apply");
    assert_eq!(next().await.as_deref(), Some("Apply third"));
    api.delete(ResourceKind::Service, "a", "first")
        .expect("delete");
    assert_eq!(next().await.as_deref(), Some("Delete first"));

    api.force_relist();
    // Key order (namespace, name): a/third before b/second.
    for expected in ["Init", "InitApply third", "InitApply second", "InitDone"] {
        assert_eq!(next().await.as_deref(), Some(expected));
    }
    api.apply(service("c", "fourth")).expect("apply");
    assert_eq!(next().await.as_deref(), Some("Apply fourth"));

    let requests = api.requests();
    assert!(requests.iter().all(|r| r.method == "GET"), "{requests:?}");
    assert!(
        requests.iter().all(|r| r.path == "/api/v1/services"),
        "{requests:?}"
    );
    let expected_auth = format!("Bearer {KUBECONFIG_TOKEN}");
    assert!(
        requests
            .iter()
            .all(|r| r.authorization.as_deref() == Some(expected_auth.as_str())),
        "{requests:?}"
    );
    // The relist: a watch answered with 410, then a list without continue token.
    let watches = requests.iter().filter(|r| r.is_watch()).count();
    let first_pages = requests
        .iter()
        .filter(|r| !r.is_watch() && r.query_param("continue").is_none())
        .count();
    assert!(watches >= 2, "{requests:?}");
    assert_eq!(first_pages, 2, "{requests:?}");
}
