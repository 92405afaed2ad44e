//! Raw-HTTP tests of watch requests: events after a version, selectors, bookmarks, timeouts,
//! 410 for compacted history, initial events.

mod common;

use std::time::Duration;

use common::{Watch, get_json, rv, service};
use fake_kube_api::{FakeApi, ResourceKind};
use serde_json::json;

#[tokio::test]
async fn watch_streams_added_modified_deleted_after_the_given_version() {
    let api = FakeApi::start().await.expect("start");
    api.apply(service("a", "before", json!({}))).expect("apply");
    let (_, list) = get_json(&api, "/api/v1/services").await;
    let list_rv = rv(&list);
    // Applied before the watch opens, after the list: replayed from history.
    let added = api
        .apply(service("a", "s", json!({"v": "1"})))
        .expect("apply");
    let mut watch = Watch::open(
        &api,
        &format!("/api/v1/services?watch=true&resourceVersion={list_rv}"),
    )
    .await;
    let event = watch.next_change().await.expect("event");
    assert_eq!(event["type"], "ADDED");
    assert_eq!(event["object"]["kind"], "Service");
    assert_eq!(event["object"]["apiVersion"], "v1");
    assert_eq!(event["object"]["metadata"]["name"], "s");
    assert_eq!(rv(&event["object"]), added);

    // Other kinds do not show on a services watch.
    api.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}))
        .expect("apply");
    let modified = api
        .apply(service("a", "s", json!({"v": "2"})))
        .expect("apply");
    let event = watch.next_change().await.expect("event");
    assert_eq!(event["type"], "MODIFIED");
    assert_eq!(rv(&event["object"]), modified);
    assert_eq!(event["object"]["metadata"]["labels"]["v"], "2");

    let deleted = api.delete(ResourceKind::Service, "a", "s").expect("delete");
    let event = watch.next_change().await.expect("event");
    assert_eq!(event["type"], "DELETED");
    assert_eq!(event["object"]["metadata"]["name"], "s");
    assert_eq!(rv(&event["object"]), deleted);
}

#[tokio::test]
async fn a_filtered_watch_sees_objects_leave_and_enter_its_selection() {
    let api = FakeApi::start().await.expect("start");
    let start = api.resource_version();
    let mut watch = Watch::open(
        &api,
        &format!(
            "/api/v1/namespaces/a/services?watch=1&resourceVersion={start}&labelSelector=app%3Dweb"
        ),
    )
    .await;
    api.apply(service("b", "other-namespace", json!({"app": "web"})))
        .expect("apply");
    api.apply(service("a", "s", json!({"app": "db"})))
        .expect("apply");
    api.apply(service("a", "s", json!({"app": "web"})))
        .expect("apply");
    let event = watch.next_change().await.expect("event");
    assert_eq!(
        (
            event["type"].as_str(),
            event["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("s"))
    );
    let left = api
        .apply(service("a", "s", json!({"app": "db", "x": "y"})))
        .expect("apply");
    let event = watch.next_change().await.expect("event");
    assert_eq!(event["type"], "DELETED");
    // The object as it last matched, at the version of the change.
    assert_eq!(event["object"]["metadata"]["labels"]["app"], "web");
    assert_eq!(rv(&event["object"]), left);
}

#[tokio::test]
async fn bookmarks_carry_the_current_version_when_allowed() {
    let api = FakeApi::builder()
        .bookmark_interval(Duration::from_millis(20))
        .start()
        .await
        .expect("start");
    let start = api.resource_version();
    api.apply(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}))
        .expect("apply");
    let current = api.resource_version();
    let mut watch = Watch::open(
        &api,
        &format!("/api/v1/services?watch=true&resourceVersion={start}&allowWatchBookmarks=true"),
    )
    .await;
    let event = watch.next().await.expect("event");
    assert_eq!(event["type"], "BOOKMARK");
    assert_eq!(event["object"]["kind"], "Service");
    assert_eq!(rv(&event["object"]), current);
}

#[tokio::test]
async fn watch_ends_after_timeout_seconds() {
    let api = FakeApi::start().await.expect("start");
    let mut watch = Watch::open(
        &api,
        &format!(
            "/api/v1/pods?watch=true&resourceVersion={}&timeoutSeconds=1",
            api.resource_version()
        ),
    )
    .await;
    assert!(watch.next().await.is_none());
}

#[tokio::test]
async fn watch_from_compacted_history_gets_an_error_event_410() {
    let api = FakeApi::start().await.expect("start");
    api.apply(service("a", "s", json!({}))).expect("apply");
    let old = api.resource_version();
    api.apply(service("a", "t", json!({}))).expect("apply");
    api.expire_history();
    let mut watch = Watch::open(
        &api,
        &format!("/api/v1/services?watch=true&resourceVersion={old}"),
    )
    .await;
    let event = watch.next().await.expect("event");
    assert_eq!(event["type"], "ERROR");
    assert_eq!(event["object"]["kind"], "Status");
    assert_eq!(event["object"]["code"], 410);
    assert_eq!(event["object"]["reason"], "Expired");
    assert!(watch.next().await.is_none());

    // The version a fresh list returns can be watched from.
    let (_, list) = get_json(&api, "/api/v1/services").await;
    let mut watch = Watch::open(
        &api,
        &format!("/api/v1/services?watch=true&resourceVersion={}", rv(&list)),
    )
    .await;
    api.apply(service("a", "u", json!({}))).expect("apply");
    let event = watch.next_change().await.expect("event");
    assert_eq!(
        (
            event["type"].as_str(),
            event["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("u"))
    );
}

#[tokio::test]
async fn a_history_limit_compacts_old_versions() {
    let api = FakeApi::builder()
        .history_limit(2)
        .start()
        .await
        .expect("start");
    let old = api.resource_version();
    for name in ["a", "b", "c"] {
        api.apply(service("x", name, json!({}))).expect("apply");
    }
    let mut watch = Watch::open(
        &api,
        &format!("/api/v1/services?watch=true&resourceVersion={old}"),
    )
    .await;
    assert_eq!(watch.next().await.expect("event")["object"]["code"], 410);
}

#[tokio::test]
async fn caught_up_watches_survive_expire_history_alone() {
    let api = FakeApi::start().await.expect("start");
    let mut watch = Watch::open_now(&api, "/api/v1/services").await;
    api.wait_for_open_watches(1).await;
    api.expire_history();
    api.apply(service("a", "after", json!({}))).expect("apply");
    let event = watch.next_change().await.expect("event");
    assert_eq!(event["type"], "ADDED");
}

#[tokio::test]
async fn drop_watches_ends_open_watches() {
    let api = FakeApi::start().await.expect("start");
    let mut watch = Watch::open_now(&api, "/api/v1/services").await;
    api.wait_for_open_watches(1).await;
    api.drop_watches();
    assert!(watch.next().await.is_none());
}

#[tokio::test]
async fn resource_version_zero_and_send_initial_events_start_with_the_current_objects() {
    let api = FakeApi::start().await.expect("start");
    api.apply(service("a", "one", json!({}))).expect("apply");
    api.apply(service("a", "two", json!({}))).expect("apply");
    let current = api.resource_version();
    let mut watch = Watch::open(
        &api,
        "/api/v1/services?watch=true&resourceVersion=&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
    )
    .await;
    for name in ["one", "two"] {
        let event = watch.next().await.expect("event");
        assert_eq!(
            (
                event["type"].as_str(),
                event["object"]["metadata"]["name"].as_str()
            ),
            (Some("ADDED"), Some(name))
        );
    }
    let end = watch.next().await.expect("bookmark");
    assert_eq!(end["type"], "BOOKMARK");
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(rv(&end["object"]), current);

    let mut watch = Watch::open(&api, "/api/v1/services?watch=true&resourceVersion=0").await;
    let event = watch.next().await.expect("event");
    assert_eq!(
        (
            event["type"].as_str(),
            event["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("one"))
    );
}
