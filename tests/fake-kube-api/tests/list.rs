//! Raw-HTTP tests of list requests: pagination, selectors, resourceVersion handling.

mod common;

use common::{get_json, item_names, rv, service};
use fake_kube_api::FakeApi;
use serde_json::json;

#[tokio::test]
async fn empty_list_has_kind_api_version_and_a_resource_version() {
    let api = FakeApi::start().await.expect("start");
    let (status, list) = get_json(&api, "/apis/discovery.k8s.io/v1/endpointslices").await;
    assert_eq!(status, 200);
    assert_eq!(list["kind"], "EndpointSliceList");
    assert_eq!(list["apiVersion"], "discovery.k8s.io/v1");
    assert_eq!(rv(&list), api.resource_version());
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn pages_come_from_one_snapshot_with_the_first_page_version() {
    let api = FakeApi::start().await.expect("start");
    for (ns, name) in [
        ("b", "s1"),
        ("a", "s2"),
        ("a", "s1"),
        ("c", "s0"),
        ("b", "s0"),
    ] {
        api.apply(service(ns, name, json!({}))).expect("apply");
    }
    let (status, first) = get_json(&api, "/api/v1/services?limit=2").await;
    assert_eq!(status, 200);
    assert_eq!(item_names(&first), ["s1", "s2"]);
    assert_eq!(first["items"][0]["metadata"]["namespace"], "a");
    assert_eq!(first["metadata"]["remainingItemCount"], 3);
    // List items carry no kind/apiVersion, as from the real server.
    assert!(first["items"][0].get("kind").is_none());
    let list_rv = rv(&first);

    // Changes after the first page do not show in later pages.
    api.apply(service("a", "s3", json!({}))).expect("apply");
    api.delete(fake_kube_api::ResourceKind::Service, "c", "s0")
        .expect("delete");

    let token = first["metadata"]["continue"]
        .as_str()
        .expect("continue")
        .to_string();
    let (_, second) = get_json(&api, &format!("/api/v1/services?limit=2&continue={token}")).await;
    assert_eq!(rv(&second), list_rv);
    let names: Vec<_> = second["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            format!(
                "{}/{}",
                i["metadata"]["namespace"].as_str().unwrap_or(""),
                i["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(names, ["b/s0", "b/s1"]);
    let token = second["metadata"]["continue"]
        .as_str()
        .expect("continue")
        .to_string();
    let (_, third) = get_json(&api, &format!("/api/v1/services?limit=2&continue={token}")).await;
    assert_eq!(item_names(&third), ["s0"]);
    assert_eq!(third["items"][0]["metadata"]["namespace"], "c");
    assert!(third["metadata"].get("continue").is_none());
    assert_eq!(rv(&third), list_rv);

    // A fresh list sees the changes.
    let (_, fresh) = get_json(&api, "/api/v1/services").await;
    assert_eq!(item_names(&fresh), ["s1", "s2", "s3", "s0", "s1"]);
    assert!(rv(&fresh) > list_rv);
}

#[tokio::test]
async fn a_continue_token_from_compacted_history_is_410_expired() {
    let api = FakeApi::start().await.expect("start");
    for name in ["a", "b", "c"] {
        api.apply(service("default", name, json!({})))
            .expect("apply");
    }
    let (_, first) = get_json(&api, "/api/v1/namespaces/default/services?limit=1").await;
    let token = first["metadata"]["continue"]
        .as_str()
        .expect("continue")
        .to_string();
    api.expire_history();
    let (status, answer) = get_json(
        &api,
        &format!("/api/v1/namespaces/default/services?limit=1&continue={token}"),
    )
    .await;
    assert_eq!(status, 410);
    assert_eq!(answer["kind"], "Status");
    assert_eq!(answer["reason"], "Expired");
    assert_eq!(answer["code"], 410);

    let (status, answer) = get_json(&api, "/api/v1/services?continue=garbage").await;
    assert_eq!(status, 400);
    assert_eq!(answer["reason"], "BadRequest");
}

#[tokio::test]
async fn label_and_field_selectors_filter_lists() {
    let api = FakeApi::start().await.expect("start");
    api.apply(service("a", "web", json!({"app": "web", "tier": "front"})))
        .expect("apply");
    api.apply(service("a", "db", json!({"app": "db"})))
        .expect("apply");
    api.apply(service("b", "plain", json!({}))).expect("apply");
    let cases = [
        ("labelSelector=app%3Dweb", vec!["web"]),
        ("labelSelector=app", vec!["db", "web"]),
        ("labelSelector=%21app", vec!["plain"]),
        ("labelSelector=app+in+%28web%2Cdb%29%2C%21tier", vec!["db"]),
        ("labelSelector=app%21%3Dweb", vec!["db", "plain"]),
        ("fieldSelector=metadata.name%3Dplain", vec!["plain"]),
        ("fieldSelector=metadata.namespace%21%3Da", vec!["plain"]),
    ];
    for (query, expected) in cases {
        let (status, list) = get_json(&api, &format!("/api/v1/services?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(item_names(&list), expected, "{query}");
    }
    let (_, namespaced) =
        get_json(&api, "/api/v1/namespaces/a/services?labelSelector=app%3Ddb").await;
    assert_eq!(item_names(&namespaced), ["db"]);

    for query in ["labelSelector=app+in+web", "fieldSelector=spec.nothing%3Dx"] {
        let (status, answer) = get_json(&api, &format!("/api/v1/services?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(answer["reason"], "BadRequest", "{query}");
    }
}

#[tokio::test]
async fn pod_phase_field_selector() {
    let api = FakeApi::start().await.expect("start");
    for (name, phase) in [
        ("running", "Running"),
        ("failed", "Failed"),
        ("done", "Succeeded"),
    ] {
        api.apply(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "x"}, "status": {"phase": phase}}))
            .expect("apply");
    }
    let (_, list) = get_json(
        &api,
        "/api/v1/pods?fieldSelector=status.phase%21%3DFailed%2Cstatus.phase%21%3DSucceeded",
    )
    .await;
    assert_eq!(item_names(&list), ["running"]);
}

#[tokio::test]
async fn resource_version_parameters_are_validated() {
    let api = FakeApi::start().await.expect("start");
    api.apply(service("a", "s", json!({}))).expect("apply");
    let current = api.resource_version();
    let (status, list) = get_json(
        &api,
        "/api/v1/services?resourceVersion=0&resourceVersionMatch=NotOlderThan",
    )
    .await;
    assert_eq!((status, rv(&list)), (200, current));
    let (status, _) = get_json(
        &api,
        &format!("/api/v1/services?resourceVersion={current}&resourceVersionMatch=Exact"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, answer) = get_json(&api, "/api/v1/services?resourceVersionMatch=Exact").await;
    assert_eq!(
        (status, answer["reason"].as_str()),
        (400, Some("BadRequest"))
    );
    let (status, answer) = get_json(
        &api,
        &format!("/api/v1/services?resourceVersion={}", current + 100),
    )
    .await;
    assert_eq!((status, answer["reason"].as_str()), (504, Some("Timeout")));
    api.expire_history();
    let (status, answer) = get_json(
        &api,
        &format!("/api/v1/services?resourceVersion={current}&resourceVersionMatch=Exact"),
    )
    .await;
    assert_eq!((status, answer["reason"].as_str()), (410, Some("Expired")));
}

#[tokio::test]
async fn objects_get_server_metadata_and_no_op_updates_keep_the_version() {
    let api = FakeApi::start().await.expect("start");
    let first = api
        .apply(service("a", "s", json!({"v": "1"})))
        .expect("apply");
    let (status, object) = get_json(&api, "/api/v1/namespaces/a/services/s").await;
    assert_eq!(status, 200);
    assert_eq!(object["kind"], "Service");
    assert_eq!(object["apiVersion"], "v1");
    assert_eq!(rv(&object), first);
    let uid = object["metadata"]["uid"].as_str().expect("uid").to_string();
    let created = object["metadata"]["creationTimestamp"]
        .as_str()
        .expect("creationTimestamp")
        .to_string();
    assert!(created.ends_with('Z'), "{created}");

    assert_eq!(
        api.apply(service("a", "s", json!({"v": "1"})))
            .expect("same"),
        first
    );
    let second = api
        .apply(service("a", "s", json!({"v": "2"})))
        .expect("update");
    assert!(second > first);
    let (_, object) = get_json(&api, "/api/v1/namespaces/a/services/s").await;
    assert_eq!(object["metadata"]["uid"], uid.as_str());
    assert_eq!(object["metadata"]["creationTimestamp"], created.as_str());
    assert_eq!(object["metadata"]["labels"]["v"], "2");

    let (status, missing) = get_json(&api, "/api/v1/namespaces/a/services/nope").await;
    assert_eq!(
        (status, missing["reason"].as_str()),
        (404, Some("NotFound"))
    );
}

#[tokio::test]
async fn discovery_documents() {
    let api = FakeApi::start().await.expect("start");
    let (_, version) = get_json(&api, "/version").await;
    assert_eq!(version["major"], "1");
    let (_, core) = get_json(&api, "/api").await;
    assert_eq!(core["versions"], json!(["v1"]));
    let (_, v1) = get_json(&api, "/api/v1").await;
    let names: Vec<_> = v1["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert!(
        names.contains(&json!("services")) && names.contains(&json!("namespaces")),
        "{names:?}"
    );
    let (_, groups) = get_json(&api, "/apis").await;
    assert_eq!(groups["groups"][0]["name"], "discovery.k8s.io");
    let (_, discovery) = get_json(&api, "/apis/discovery.k8s.io/v1").await;
    assert_eq!(discovery["resources"][0]["kind"], "EndpointSlice");
    let (status, _) = get_json(&api, "/api/v1/configmaps").await;
    assert_eq!(status, 404);
}
