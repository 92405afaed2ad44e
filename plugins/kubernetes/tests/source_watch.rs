//! The API source against the fake Kubernetes API server (real HTTP on 127.0.0.1, kube-rs
//! unmodified): what reaches the cache through list, watch, resume, re-list and outages, and
//! which requests the API server sees.

mod source_support;

use std::sync::Arc;
use std::time::Duration;

use clusterdns_kubernetes::feed::Resource;
use clusterdns_kubernetes::settings::{ApiSettings, Kubeconfig, WatchScope};
use clusterdns_kubernetes::source;
use fake_kube_api::{FakeApi, KUBECONFIG_TOKEN, RecordedRequest, ResourceKind};
use serde_json::{Value, json};
use source_support::{Event, Recorder, TempDir, eventually, new_recorder, scope};

fn namespace(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

fn service(ns: &str, name: &str, ip: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"clusterIP": ip, "clusterIPs": [ip], "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}
    })
}

fn slice(ns: &str, name: &str, service: &str, ip: &str, labels: Value) -> Value {
    let mut labels = labels;
    labels["kubernetes.io/service-name"] = json!(service);
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [ip], "conditions": {"ready": true}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
    })
}

fn pod(ns: &str, name: &str, ip: &str, phase: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        "status": {"phase": phase, "podIP": ip}
    })
}

/// default and kube-system, two Services, a slice, a running and a finished Pod.
async fn seeded_api() -> FakeApi {
    let api = FakeApi::start().await.expect("fake API starts");
    for object in [
        namespace("default", json!({"team": "web"})),
        namespace("kube-system", json!({})),
        service("default", "web", "10.0.0.10", json!({"app": "web"})),
        service(
            "kube-system",
            "kube-dns",
            "10.0.0.53",
            json!({"app": "dns"}),
        ),
        slice(
            "default",
            "web-abc",
            "web",
            "10.1.0.5",
            json!({"app": "web"}),
        ),
        pod(
            "default",
            "web-1",
            "10.1.0.5",
            "Running",
            json!({"app": "web"}),
        ),
        pod(
            "default",
            "job-1",
            "10.1.0.6",
            "Succeeded",
            json!({"app": "web"}),
        ),
    ] {
        api.apply(object).expect("apply");
    }
    api
}

/// The default scope without Pods and EndpointSlices: Services and Namespaces only.
fn core_scope() -> WatchScope {
    let mut scope = scope();
    scope.pods = false;
    scope.endpoint_slices = false;
    scope
}

fn endpoint(api: &FakeApi) -> ApiSettings {
    ApiSettings {
        endpoint: Some(api.url()),
        ..ApiSettings::default()
    }
}

struct Running {
    recorder: Arc<Recorder>,
    tasks: plugin::tasks::Tasks,
    metrics: Arc<plugin::metrics::MetricsHub>,
}

impl Running {
    fn start(settings: &ApiSettings, scope: &WatchScope) -> Running {
        let recorder = new_recorder();
        let tasks = plugin::tasks::Tasks::new();
        let metrics = Arc::new(plugin::metrics::MetricsHub::new());
        source::register_metrics(&metrics);
        source::start(settings, scope, recorder.clone(), &tasks, &metrics)
            .expect("API source starts");
        Running {
            recorder,
            tasks,
            metrics,
        }
    }

    /// Starts against `api`, waits for the first complete listing of every resource of
    /// `scope` and for its watches to be open.
    async fn synced_on(api: &FakeApi, scope: &WatchScope) -> Running {
        let run = Running::start(&endpoint(api), scope);
        assert!(run.synced(scope, 1).await);
        api.wait_for_open_watches(Running::resources(scope).len())
            .await;
        run
    }

    fn resources(scope: &WatchScope) -> Vec<Resource> {
        let mut resources = vec![Resource::Namespaces, Resource::Services];
        if scope.endpoint_slices {
            resources.push(Resource::EndpointSlices);
        }
        if scope.pods {
            resources.push(Resource::Pods);
        }
        resources
    }

    async fn synced(&self, scope: &WatchScope, times: usize) -> bool {
        let resources = Running::resources(scope);
        eventually(|| resources.iter().all(|r| self.recorder.synced(*r) >= times)).await
    }

    fn metrics_text(&self) -> String {
        self.metrics.encode_text().expect("metrics encode")
    }

    /// The value of the requests_total series with this `code`, 0 if absent.
    fn requests_with_code(&self, code: &str) -> f64 {
        let prefix = format!("coredns_kubernetes_rest_client_requests_total{{code=\"{code}\",");
        self.metrics_text()
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    fn begins(&self, resource: Resource) -> usize {
        self.recorder.count(&Event::Begin(resource))
    }

    fn deletes(&self) -> usize {
        self.recorder
            .events()
            .iter()
            .filter(|e| matches!(e, Event::Delete(..)))
            .count()
    }
}

#[tokio::test]
async fn initial_list_then_changes_as_they_happen() {
    let api = seeded_api().await;
    let scope = scope();
    let run = Running::start(&endpoint(&api), &scope);
    assert!(run.synced(&scope, 1).await);
    let r = &run.recorder;

    assert_eq!(
        r.listings(Resource::Namespaces),
        [["default", "kube-system"]]
    );
    let mut services = r.listings(Resource::Services);
    services.iter_mut().for_each(|l| l.sort());
    assert_eq!(services, [["default/web", "kube-system/kube-dns"]]);
    assert_eq!(r.listings(Resource::EndpointSlices), [["default/web-abc"]]);
    // The finished pod is filtered by the server (field selector): never seen.
    assert_eq!(r.listings(Resource::Pods), [["default/web-1"]]);

    // Add, modify, delete: one event each, in order, no listing.
    api.apply(service("default", "api", "10.0.0.11", json!({})))
        .expect("apply");
    assert!(eventually(|| r.keys(Resource::Services).contains(&"default/api".into())).await);
    api.apply(service("default", "api", "10.0.0.12", json!({})))
        .expect("apply");
    assert!(
        eventually(
            || r.state(Resource::Services)["default/api"]["spec"]["clusterIP"] == "10.0.0.12"
        )
        .await
    );
    api.delete(ResourceKind::Service, "default", "api")
        .expect("delete");
    assert!(
        eventually(|| r.count(&Event::Delete(Resource::Services, "default/api".into())) == 1).await
    );
    assert!(!r.keys(Resource::Services).contains(&"default/api".into()));
    // A pod that finishes leaves the field selector: the server sends it as deleted.
    api.apply(pod(
        "default",
        "web-1",
        "10.1.0.5",
        "Succeeded",
        json!({"app": "web"}),
    ))
    .expect("apply");
    assert!(eventually(|| r.keys(Resource::Pods).is_empty()).await);
    assert_eq!(run.begins(Resource::Services), 1);
    run.tasks.stop().await;
}

fn allowed_path(request: &RecordedRequest) -> bool {
    matches!(
        request.path.as_str(),
        "/api/v1/services"
            | "/api/v1/namespaces"
            | "/api/v1/pods"
            | "/apis/discovery.k8s.io/v1/endpointslices"
    )
}

#[tokio::test]
async fn only_cluster_wide_list_and_watch_with_the_selectors() {
    let api = seeded_api().await;
    let mut scope = scope();
    scope.labels = Some("app in (web)".into());
    scope.namespace_labels = Some("team=web".into());
    let run = Running::start(&endpoint(&api), &scope);
    assert!(run.synced(&scope, 1).await);
    // Wait for every watch to be open: its request is in the log.
    api.wait_for_open_watches(4).await;

    let requests = api.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(request.method, "GET", "{request:?}");
        assert!(allowed_path(request), "{request:?}");
        let labels = request.query_param("labelSelector");
        let fields = request.query_param("fieldSelector");
        match request.path.as_str() {
            "/api/v1/namespaces" => assert_eq!(labels.as_deref(), Some("team=web")),
            _ => assert_eq!(labels.as_deref(), Some("app in (web)"), "{request:?}"),
        }
        if request.path == "/api/v1/pods" {
            assert_eq!(
                fields.as_deref(),
                Some("status.phase!=Succeeded,status.phase!=Failed,status.phase!=Unknown")
            );
        } else {
            assert_eq!(fields, None, "{request:?}");
        }
        if !request.is_watch() {
            // Paged, consistent lists: no resourceVersion (kube leaves it out of paged lists).
            assert_eq!(request.query_param("limit").as_deref(), Some("500"));
            assert_eq!(request.query_param("resourceVersion"), None, "{request:?}");
        }
    }
    for path in [
        "/api/v1/services",
        "/api/v1/namespaces",
        "/api/v1/pods",
        "/apis/discovery.k8s.io/v1/endpointslices",
    ] {
        assert!(
            requests.iter().any(|r| r.path == path && r.is_watch()),
            "a watch of {path}"
        );
    }
    let r = &run.recorder;
    assert_eq!(r.keys(Resource::Services), ["default/web"]);
    assert_eq!(r.keys(Resource::Namespaces), ["default"]);
    run.tasks.stop().await;
}

#[tokio::test]
async fn scope_decides_which_resources_are_watched() {
    let api = seeded_api().await;
    let scope = core_scope();
    let run = Running::synced_on(&api, &scope).await;
    for request in api.requests() {
        assert!(
            request.path == "/api/v1/services" || request.path == "/api/v1/namespaces",
            "{request:?}"
        );
    }
    assert!(run.recorder.events_of(Resource::Pods).is_empty());
    assert!(run.recorder.events_of(Resource::EndpointSlices).is_empty());
    run.tasks.stop().await;
}

#[tokio::test]
async fn dropped_watches_resume_without_listing_again() {
    let api = seeded_api().await;
    let scope = scope();
    let run = Running::synced_on(&api, &scope).await;
    api.clear_requests();

    api.drop_watches();
    api.apply(service("default", "late", "10.0.0.20", json!({})))
        .expect("apply");
    let r = &run.recorder;
    assert!(eventually(|| r.keys(Resource::Services).contains(&"default/late".into())).await);
    api.wait_for_open_watches(4).await;

    // Resumed from the last resourceVersion: watches only, no list, no new listing.
    let requests = api.requests();
    assert!(
        requests.iter().all(RecordedRequest::is_watch),
        "{requests:?}"
    );
    for resource in Running::resources(&scope) {
        assert_eq!(run.begins(resource), 1, "{resource:?}");
    }
    assert_eq!(run.deletes(), 0);
    run.tasks.stop().await;
}

#[tokio::test]
async fn expired_history_lists_again() {
    let api = seeded_api().await;
    let scope = scope();
    let run = Running::synced_on(&api, &scope).await;

    api.apply(service("default", "late", "10.0.0.20", json!({})))
        .expect("apply");
    api.force_relist();
    // Every watch is told 410 on resuming and lists again: a second complete listing each.
    assert!(run.synced(&scope, 2).await);
    let r = &run.recorder;
    let mut last = r.listings(Resource::Services).pop().expect("a listing");
    last.sort();
    assert_eq!(
        last,
        ["default/late", "default/web", "kube-system/kube-dns"]
    );
    // The re-list replaced nothing by deleting: the sink saw no Delete.
    assert_eq!(run.deletes(), 0);
    run.tasks.stop().await;
}

#[tokio::test]
async fn gone_when_opening_a_watch_lists_again() {
    let api = seeded_api().await;
    let scope = core_scope();
    let run = Running::synced_on(&api, &scope).await;

    // The next request (a re-watch) is answered 410 by the server itself, not by an ERROR event.
    api.fail_next(1, 410);
    api.drop_watches();
    let relisted = || {
        run.begins(Resource::Services) + run.begins(Resource::Namespaces) == 3
            && run.recorder.synced(Resource::Services) + run.recorder.synced(Resource::Namespaces)
                == 3
    };
    assert!(eventually(relisted).await);
    assert_eq!(run.requests_with_code("410"), 1.0);
    run.tasks.stop().await;
}

#[tokio::test]
async fn api_down_at_start_syncs_when_it_comes_up() {
    let api = seeded_api().await;
    api.set_down(true).await.expect("down");
    let scope = scope();
    let run = Running::start(&endpoint(&api), &scope);
    // The client tried and failed (no HTTP response: `<error>`), nothing reached the sink.
    assert!(eventually(|| run.requests_with_code("<error>") >= 8.0).await);
    // At most the announcement of each listing, once, however often the client retried.
    let events = run.recorder.events();
    assert!(
        events.iter().all(|e| matches!(e, Event::Begin(_))),
        "{events:?}"
    );
    for resource in Running::resources(&scope) {
        assert!(run.begins(resource) <= 1, "{events:?}");
    }

    api.set_down(false).await.expect("up");
    assert!(run.synced(&scope, 1).await);
    for resource in Running::resources(&scope) {
        assert_eq!(run.begins(resource), 1, "{resource:?}");
    }
    assert_eq!(
        run.recorder.keys(Resource::Services),
        ["default/web", "kube-system/kube-dns"]
    );
    run.tasks.stop().await;
}

#[tokio::test]
async fn api_down_after_sync_changes_nothing_then_resumes() {
    let api = seeded_api().await;
    let scope = scope();
    let run = Running::synced_on(&api, &scope).await;
    let events_before = run.recorder.events().len();

    api.set_down(true).await.expect("down");
    // Re-watching fails a few times (with back-off)…
    assert!(eventually(|| run.requests_with_code("<error>") >= 4.0).await);
    // …and the cache heard nothing of it: no Begin, no Delete.
    assert_eq!(run.recorder.events().len(), events_before);

    api.apply(service("default", "while-down", "10.0.0.30", json!({})))
        .expect("apply");
    api.set_down(false).await.expect("up");
    let r = &run.recorder;
    assert!(
        eventually(|| r
            .keys(Resource::Services)
            .contains(&"default/while-down".into()))
        .await
    );
    // Resumed from where it was: still one listing per resource.
    for resource in Running::resources(&scope) {
        assert_eq!(run.begins(resource), 1, "{resource:?}");
    }
    assert_eq!(run.deletes(), 0);
    run.tasks.stop().await;
}

#[tokio::test]
async fn server_errors_are_retried() {
    let api = seeded_api().await;
    api.fail_next(3, 500);
    let scope = scope();
    let run = Running::start(&endpoint(&api), &scope);
    assert!(run.synced(&scope, 1).await);
    assert_eq!(run.requests_with_code("500"), 3.0);
    assert!(run.requests_with_code("200") >= 4.0);
    assert_eq!(
        run.recorder.keys(Resource::Services),
        ["default/web", "kube-system/kube-dns"]
    );
    run.tasks.stop().await;
}

#[tokio::test]
async fn kubeconfig_with_current_or_named_context() {
    let api = seeded_api().await;
    let dir = TempDir::new("kubeconfig");
    let path = dir.path().join("config");
    api.write_kubeconfig(&path).expect("kubeconfig");
    let scope = scope();
    for context in [None, Some("fake-kube-api".to_owned())] {
        api.clear_requests();
        let settings = ApiSettings {
            kubeconfig: Some(Kubeconfig {
                path: path.clone(),
                context,
            }),
            // Ignored: the kubeconfig wins.
            endpoint: Some("http://127.0.0.1:1".into()),
            ..ApiSettings::default()
        };
        let run = Running::start(&settings, &scope);
        assert!(run.synced(&scope, 1).await);
        let expected = format!("Bearer {KUBECONFIG_TOKEN}");
        for request in api.requests() {
            assert_eq!(request.authorization.as_deref(), Some(expected.as_str()));
        }
        run.tasks.stop().await;
    }
}

#[tokio::test]
async fn metrics_name_the_host_and_the_verb() {
    let api = seeded_api().await;
    let scope = scope();
    let run = Running::start(&endpoint(&api), &scope);
    assert!(run.synced(&scope, 1).await);
    let host = api.address().to_string();
    let text = run.metrics_text();
    for needle in [
        format!(
            "coredns_kubernetes_rest_client_requests_total{{code=\"200\",host=\"{host}\",method=\"GET\"}}"
        ),
        format!(
            "coredns_kubernetes_rest_client_request_duration_seconds_count{{host=\"{host}\",verb=\"GET\"}}"
        ),
        format!(
            "coredns_kubernetes_rest_client_rate_limiter_duration_seconds_count{{host=\"{host}\",verb=\"GET\"}}"
        ),
    ] {
        assert!(text.contains(&needle), "{needle} in\n{text}");
    }
    run.tasks.stop().await;
}

#[tokio::test]
async fn burst_bounds_requests_while_the_bucket_refills() {
    let api = seeded_api().await;
    let scope = core_scope();
    // Two watches need four requests (two lists, two watches); the bucket holds two and then
    // gives one token per 100 s.
    let settings = ApiSettings {
        qps: Some(0.01),
        burst: Some(2),
        ..endpoint(&api)
    };
    let run = Running::start(&settings, &scope);
    assert!(eventually(|| api.requests().len() >= 2).await);
    // A settling pause for a request that should not come (a slow machine can only make a
    // third request less likely, never more).
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(api.requests().len(), 2, "{:?}", api.requests());
    run.tasks.stop().await;
}

#[tokio::test]
async fn max_inflight_caps_requests_waiting_for_an_answer() {
    let api = seeded_api().await;
    let scope = core_scope();
    // The API server sits on every request: with one slot, only one request is ever sent.
    api.set_delay(Duration::from_secs(3600));
    let capped = ApiSettings {
        max_inflight: Some(1),
        ..endpoint(&api)
    };
    let run = Running::start(&capped, &scope);
    assert!(eventually(|| !api.requests().is_empty()).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(api.requests().len(), 1, "{:?}", api.requests());
    run.tasks.stop().await;

    // Without the cap both lists go out at once.
    api.clear_requests();
    let run = Running::start(&endpoint(&api), &scope);
    assert!(eventually(|| api.requests().len() >= 2).await);
    run.tasks.stop().await;
}

#[tokio::test]
async fn a_watch_gives_its_slot_back_once_answered() {
    let api = seeded_api().await;
    let scope = scope();
    // Four watches through one slot: each watch holds it only until its headers arrive, or
    // the second resource could never list.
    let settings = ApiSettings {
        max_inflight: Some(1),
        ..endpoint(&api)
    };
    let run = Running::start(&settings, &scope);
    assert!(run.synced(&scope, 1).await);
    api.wait_for_open_watches(4).await;
    run.tasks.stop().await;
}
