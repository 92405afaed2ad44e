//! Fault controls over raw HTTP: injected error statuses, server down and up on the same
//! port, delays, and the request log.

mod common;

use std::time::{Duration, Instant};

use common::{Watch, get_json, send, service};
use fake_kube_api::FakeApi;
use serde_json::json;

#[tokio::test]
async fn fail_next_answers_the_next_requests_with_a_status() {
    let api = FakeApi::start().await.expect("start");
    api.fail_next(2, 500);
    for _ in 0..2 {
        let (status, answer) = get_json(&api, "/api/v1/services").await;
        assert_eq!(status, 500);
        assert_eq!(answer["kind"], "Status");
        assert_eq!(answer["reason"], "InternalError");
        assert_eq!(answer["code"], 500);
    }
    let (status, _) = get_json(&api, "/api/v1/services").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn fail_path_answers_matching_paths_until_cleared() {
    let api = FakeApi::start().await.expect("start");
    api.fail_path("/api/v1/namespaces/*/services", 503)
        .expect("pattern");
    let (status, answer) = get_json(&api, "/api/v1/namespaces/a/services").await;
    assert_eq!(
        (status, answer["reason"].as_str()),
        (503, Some("ServiceUnavailable"))
    );
    let (status, _) = get_json(&api, "/api/v1/services").await;
    assert_eq!(status, 200);
    api.clear_faults();
    let (status, _) = get_json(&api, "/api/v1/namespaces/a/services").await;
    assert_eq!(status, 200);
    assert!(api.fail_path("[", 500).is_err());
}

#[tokio::test]
async fn down_refuses_connections_and_closes_watches_then_up_serves_on_the_same_port() {
    let api = FakeApi::start().await.expect("start");
    let address = api.address();
    let mut watch = Watch::open_now(&api, "/api/v1/services").await;
    api.wait_for_open_watches(1).await;

    api.set_down(true).await.expect("down");
    assert!(api.is_down().await);
    assert!(watch.next().await.is_none(), "the open watch is cut");
    let refused = tokio::net::TcpStream::connect(address)
        .await
        .expect_err("connection refused");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);

    // Changes made while down are there when it comes back.
    api.apply(service("a", "while-down", json!({})))
        .expect("apply");
    api.set_down(false).await.expect("up");
    assert_eq!(api.address(), address);
    let (status, list) = get_json(&api, "/api/v1/services").await;
    assert_eq!(status, 200);
    assert_eq!(common::item_names(&list), ["while-down"]);
}

#[tokio::test]
async fn delay_holds_answers_back() {
    let api = FakeApi::start().await.expect("start");
    let delay = Duration::from_millis(200);
    api.set_delay(delay);
    let started = Instant::now();
    let (status, _) = get_json(&api, "/version").await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= delay);
}

#[tokio::test]
async fn requests_are_recorded_and_only_get_is_served() {
    let api = FakeApi::start().await.expect("start");
    get_json(
        &api,
        "/api/v1/namespaces/a/services?labelSelector=app%3Dweb&limit=5",
    )
    .await;
    let response = send(&api, "POST", "/api/v1/namespaces/a/services")
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 405);
    // Control routes are not recorded.
    send(&api, "GET", "/fake/state").await.expect("state");

    let requests = api.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/api/v1/namespaces/a/services");
    assert_eq!(
        requests[0].query_param("labelSelector").as_deref(),
        Some("app=web")
    );
    assert_eq!(requests[0].query_param("limit").as_deref(), Some("5"));
    assert!(!requests[0].is_watch());
    assert_eq!(requests[1].method, "POST");
    api.clear_requests();
    assert!(api.requests().is_empty());
}
