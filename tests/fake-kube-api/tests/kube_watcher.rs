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
    runtime::{
        WatchStreamExt,
        watcher::{self, Event},
    },
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

#[tokio::test]
async fn kube_watcher_rides_out_errors_and_a_server_restart() {
    let api = FakeApi::start().await.expect("start");
    api.apply(service("a", "first")).expect("apply");
    let client = client_from_kubeconfig_file(&api).await;
    // The first list attempts fail: a starting API server.
    api.fail_next(2, 503);
    // The watcher runs in a task of its own, as in a real controller, so that it keeps its
    // watch open while the test waits for it.
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let mut events = watcher::watcher(
        Api::<Service>::namespaced(client, "a"),
        watcher::Config::default(),
    )
    .default_backoff()
    .boxed();
    let task = tokio::spawn(async move {
        while let Some(result) = events.next().await {
            // Errors (503s, refused connections) are retried by the watcher after a backoff.
            if let Ok(event) = result
                && sender.send(describe(&event)).is_err()
            {
                return;
            }
        }
    });
    // Each failed list restarts with Init; the successful one completes.
    let mut initial = Vec::new();
    loop {
        let event = receiver.recv().await.expect("event");
        if event == "Init" {
            initial.clear();
        }
        let done = event == "InitDone";
        initial.push(event);
        if done {
            break;
        }
    }
    assert_eq!(initial, ["Init", "InitApply first", "InitDone"]);
    api.wait_for_open_watches(1).await;

    api.set_down(true).await.expect("down");
    api.apply(service("a", "second")).expect("apply");
    api.set_down(false).await.expect("up");
    // History was kept, so the watch resumes where it was: no re-list.
    assert_eq!(receiver.recv().await.as_deref(), Some("Apply second"));
    task.abort();

    let requests = api.requests();
    let failed_lists = 2;
    let lists = requests.iter().filter(|r| !r.is_watch()).count();
    assert_eq!(lists, failed_lists + 1, "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|r| r.path == "/api/v1/namespaces/a/services"),
        "{requests:?}"
    );
}
