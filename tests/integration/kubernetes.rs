//! The kubernetes plugin end to end: our binary watches a fake Kubernetes API server that
//! speaks the real list/watch protocol over HTTP on 127.0.0.1 (tests/fake-kube-api), and the
//! answers follow what the API server says — through changes, dropped watches, `410 Gone`
//! re-lists and outages (kubernetes.md §9).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use fake_kube_api::{FakeApi, ResourceKind};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use serde_json::{Value, json};

use crate::harness::*;

/// A fake API server on its own runtime, alive as long as this value.
pub(crate) struct Api {
    api: FakeApi,
    runtime: tokio::runtime::Runtime,
}

impl Api {
    pub(crate) fn start() -> Api {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let api = runtime.block_on(FakeApi::start()).expect("fake API starts");
        let this = Api { api, runtime };
        this.apply(namespace("default"));
        this
    }

    pub(crate) fn apply(&self, object: Value) {
        self.api.apply(object).expect("apply");
    }

    fn delete(&self, kind: ResourceKind, namespace: &str, name: &str) {
        self.api.delete(kind, namespace, name).expect("delete");
    }

    fn set_down(&self, down: bool) {
        self.runtime
            .block_on(self.api.set_down(down))
            .expect("set_down");
    }

    pub(crate) fn kubeconfig(&self, dir: &Path) -> String {
        let path = dir.join("kubeconfig");
        self.api.write_kubeconfig(&path).expect("kubeconfig");
        path.display().to_string()
    }
}

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

pub(crate) fn cluster_ip_service(name: &str, ip: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip],
                 "ports": [{"name": "http", "protocol": "TCP", "port": 80}]}
    })
}

fn headless_service(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"clusterIP": "None", "clusterIPs": ["None"],
                 "ports": [{"name": "http", "protocol": "TCP", "port": 80}]}
    })
}

fn slice(service: &str, addresses: &[String]) -> Value {
    let endpoints: Vec<Value> = addresses
        .iter()
        .map(|a| json!({"addresses": [a], "conditions": {"ready": true}}))
        .collect();
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": format!("{service}-x1"), "namespace": "default",
                     "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"name": "http", "protocol": "TCP", "port": 80}]
    })
}

fn external_name_service(name: &str, target: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"type": "ExternalName", "externalName": target}
    })
}

struct Ports {
    ready: String,
    metrics: String,
}

/// `cluster.local` (and its reverse zone) from the API server; everything else answered by
/// `whoami`, which lets a test see where a self-lookup went.
fn start_server(api: &Api, options: &str) -> (Server, Ports) {
    let dir = temp_dir("kubeconfig");
    let kubeconfig = api.kubeconfig(&dir);
    let ports = Ports {
        ready: format!("127.0.0.1:{}", free_port()),
        metrics: format!("127.0.0.1:{}", free_port()),
    };
    let corefile = format!(
        "cluster.local:PORT 10.in-addr.arpa:PORT {{\n    ready {ready}\n    prometheus {metrics}\n    \
         kubernetes cluster.local 10.in-addr.arpa {{\n        kubeconfig {kubeconfig}\n        {options}\n    }}\n}}\n\
         .:PORT {{\n    whoami\n}}\n",
        ready = ports.ready,
        metrics = ports.metrics,
    );
    let server = Server::start(&corefile);
    // The kubeconfig must outlive the server's start only; the server read it at setup.
    drop(dir);
    (server, ports)
}

pub(crate) fn addresses(m: &Message) -> BTreeSet<IpAddr> {
    m.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn answers_with(server: &Server, name: &str, expected: &[&str]) -> bool {
    let want: BTreeSet<IpAddr> = expected.iter().map(|a| ip(a)).collect();
    wait_until(|| {
        let m = server.udp(name, RecordType::A);
        rcode(&m) == ResponseCode::NoError && addresses(&m) == want
    })
}

const WEB: &str = "web.default.svc.cluster.local.";

#[test]
fn answers_follow_adds_changes_and_deletes() {
    let api = Api::start();
    api.apply(cluster_ip_service("web", "10.0.0.1"));
    let (server, _) = start_server(&api, "");

    assert!(answers_with(&server, WEB, &["10.0.0.1"]));
    let m = server.udp(WEB, RecordType::A);
    assert!(
        m.metadata.authoritative,
        "the plugin's answers are authoritative"
    );

    api.apply(cluster_ip_service("web", "10.0.0.2"));
    assert!(answers_with(&server, WEB, &["10.0.0.2"]), "a change");

    api.apply(cluster_ip_service("api", "10.0.0.3"));
    assert!(answers_with(
        &server,
        "api.default.svc.cluster.local.",
        &["10.0.0.3"]
    ));
    let ptr = server.udp("3.0.0.10.in-addr.arpa.", RecordType::PTR);
    assert_eq!(rcode(&ptr), ResponseCode::NoError);
    assert_eq!(
        ptr.answers[0].data.to_string(),
        "api.default.svc.cluster.local."
    );

    api.delete(ResourceKind::Service, "default", "web");
    assert!(
        wait_until(|| rcode(&server.udp(WEB, RecordType::A)) == ResponseCode::NXDomain),
        "a delete"
    );
}

#[test]
fn a_dropped_watch_and_a_relist_never_interrupt_answers() {
    let api = Api::start();
    api.apply(cluster_ip_service("stay", "10.0.1.1"));
    api.apply(cluster_ip_service("gone", "10.0.1.2"));
    let (server, _) = start_server(&api, "");
    assert!(answers_with(
        &server,
        "stay.default.svc.cluster.local.",
        &["10.0.1.1"]
    ));

    // Query `stay` without pause while the watches are dropped and re-listed.
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let queries = Arc::new(AtomicUsize::new(0));
    let addr = server.addr();
    let prober = {
        let (stop, failures, queries) = (stop.clone(), failures.clone(), queries.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) && queries.load(Ordering::Relaxed) < 20_000 {
                let q = query_message("stay.default.svc.cluster.local.", RecordType::A, rand_id());
                let m = udp(addr, &q);
                if rcode(&m) != ResponseCode::NoError || addresses(&m) != [ip("10.0.1.1")].into() {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
                queries.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    // A dropped watch resumes from its resourceVersion: later changes still arrive.
    api.api.drop_watches();
    api.apply(cluster_ip_service("new", "10.0.1.3"));
    assert!(answers_with(
        &server,
        "new.default.svc.cluster.local.",
        &["10.0.1.3"]
    ));

    // History expired while the watches were away: they get 410 Gone and list again. The
    // object deleted in the meantime disappears with the new listing; the others stay.
    api.api.drop_watches();
    api.delete(ResourceKind::Service, "default", "gone");
    api.api.force_relist();
    assert!(wait_until(|| rcode(
        &server.udp("gone.default.svc.cluster.local.", RecordType::A)
    ) == ResponseCode::NXDomain));

    stop.store(true, Ordering::Relaxed);
    prober.join().unwrap();
    assert!(queries.load(Ordering::Relaxed) > 0);
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "every answer for `stay` during drops and re-lists was the right one"
    );
    let relists = api
        .api
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/services") && !r.is_watch())
        .count();
    assert!(
        relists >= 2,
        "the services were listed again ({relists} lists)"
    );
}

#[test]
fn api_down_at_start_is_servfail_and_not_ready_until_it_comes_back() {
    let api = Api::start();
    api.apply(cluster_ip_service("web", "10.0.2.1"));
    api.set_down(true);
    // Serving starts after startup_timeout, unsynced.
    let (server, ports) = start_server(&api, "startup_timeout 1s");

    let m = server.udp(WEB, RecordType::A);
    assert_eq!(
        rcode(&m),
        ResponseCode::ServFail,
        "name errors are SERVFAIL"
    );
    assert!(
        m.authorities
            .iter()
            .any(|r| r.record_type() == RecordType::SOA),
        "the SERVFAIL carries the zone's SOA"
    );
    let soa = server.udp("cluster.local.", RecordType::SOA);
    assert_eq!(rcode(&soa), ResponseCode::NoError, "the apex still answers");
    assert_eq!(http_get(&ports.ready, "/ready").map(|r| r.0), Some(503));

    api.set_down(false);
    assert!(answers_with(&server, WEB, &["10.0.2.1"]));
    assert!(wait_until(
        || http_get(&ports.ready, "/ready").map(|r| r.0) == Some(200)
    ));
}

#[test]
fn api_down_after_sync_keeps_answering_from_the_last_state() {
    let api = Api::start();
    api.apply(cluster_ip_service("web", "10.0.3.1"));
    let (server, ports) = start_server(&api, "");
    assert!(answers_with(&server, WEB, &["10.0.3.1"]));
    assert!(wait_until(
        || http_get(&ports.ready, "/ready").map(|r| r.0) == Some(200)
    ));

    api.set_down(true);
    for _ in 0..50 {
        assert_eq!(
            addresses(&server.udp(WEB, RecordType::A)),
            [ip("10.0.3.1")].into()
        );
        assert_eq!(
            rcode(&server.udp("nope.default.svc.cluster.local.", RecordType::A)),
            ResponseCode::NXDomain,
            "a synced cache answers NXDOMAIN, not SERVFAIL"
        );
    }
    assert_eq!(http_get(&ports.ready, "/ready").map(|r| r.0), Some(200));

    // Back up: the watches resume and changes flow again.
    api.set_down(false);
    api.apply(cluster_ip_service("web", "10.0.3.2"));
    assert!(answers_with(&server, WEB, &["10.0.3.2"]));
}

#[test]
fn external_name_is_chased_through_the_server_itself() {
    // The target is outside cluster.local, in a zone another block of the same server answers
    // (a second kubernetes stanza over the same API as `other.test`): the CNAME is followed by
    // that block's answer, so the lookup went through the server's zone routing (§3.5).
    let api = Api::start();
    api.apply(external_name_service(
        "my-database",
        "web.default.svc.other.test",
    ));
    api.apply(cluster_ip_service("web", "10.0.7.1"));
    let dir = temp_dir("kubeconfig");
    let kubeconfig = api.kubeconfig(&dir);
    let server = Server::start(&format!(
        "cluster.local:PORT {{\n    kubernetes {{\n        kubeconfig {kubeconfig}\n    }}\n}}\n\
         other.test:PORT {{\n    kubernetes {{\n        kubeconfig {kubeconfig}\n    }}\n}}\n\
         .:PORT {{\n    whoami\n}}\n"
    ));
    let name = "my-database.default.svc.cluster.local.";
    assert!(wait_until(
        || server.udp(name, RecordType::A).answers.len() == 2
    ));
    let m = server.udp(name, RecordType::A);
    assert_eq!(rcode(&m), ResponseCode::NoError);
    assert_eq!(m.answers[0].record_type(), RecordType::CNAME);
    assert_eq!(m.answers[0].data.to_string(), "web.default.svc.other.test.");
    assert_eq!(m.answers[1].name.to_string(), "web.default.svc.other.test.");
    assert_eq!(addresses(&m), [ip("10.0.7.1")].into());
    // A CNAME query gets the CNAME alone (never chased).
    let cname = server.udp(name, RecordType::CNAME);
    assert_eq!(cname.answers.len(), 1);
}

#[test]
fn a_large_headless_answer_is_truncated_over_udp_and_whole_over_tcp() {
    let api = Api::start();
    api.apply(headless_service("big"));
    let pods: Vec<String> = (1..=100).map(|i| format!("10.9.0.{i}")).collect();
    api.apply(slice("big", &pods));
    let (server, _) = start_server(&api, "");
    let name = "big.default.svc.cluster.local.";
    assert!(wait_until(
        || server.tcp(name, RecordType::A).answers.len() == 100
    ));

    let over_udp = server.udp(name, RecordType::A);
    assert!(
        over_udp.metadata.truncation,
        "100 A records exceed 512 bytes"
    );
    assert!(over_udp.answers.len() < 100);
    let over_tcp = server.tcp(name, RecordType::A);
    assert!(!over_tcp.metadata.truncation);
    assert_eq!(addresses(&over_tcp).len(), 100);
}

#[test]
fn only_what_deploy_rbac_grants_is_requested() {
    let api = Api::start();
    api.apply(cluster_ip_service("web", "10.0.4.1"));
    let (server, _) = start_server(&api, "pods verified");
    assert!(answers_with(&server, WEB, &["10.0.4.1"]));
    api.apply(cluster_ip_service("web", "10.0.4.2"));
    assert!(answers_with(&server, WEB, &["10.0.4.2"]));

    let grants = rbac_grants();
    let requests = api.api.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(request.method, "GET", "{request:?}");
        let verb = if request.is_watch() { "watch" } else { "list" };
        let (group, resource) = resource_of(&request.path)
            .unwrap_or_else(|| panic!("a cluster-wide collection path: {request:?}"));
        assert!(
            grants.contains(&(group.clone(), resource.clone(), verb.to_string())),
            "{verb} {group}/{resource} is not granted by deploy/kubernetes/rbac.yaml"
        );
    }
    // Every resource the plugin watches with `pods verified` was asked for.
    let asked: BTreeSet<String> = requests
        .iter()
        .filter_map(|r| resource_of(&r.path).map(|(_, res)| res))
        .collect();
    for resource in ["services", "endpointslices", "namespaces", "pods"] {
        assert!(asked.contains(resource), "{resource} was watched");
    }
}

/// `/api/v1/services` → ("", "services"); `/apis/discovery.k8s.io/v1/endpointslices` →
/// ("discovery.k8s.io", "endpointslices"). Namespaced paths are not expected (the watches are
/// cluster-wide, kubernetes.md §10).
fn resource_of(path: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["api", "v1", resource] => Some((String::new(), resource.to_string())),
        ["apis", group, _version, resource] => Some((group.to_string(), resource.to_string())),
        _ => None,
    }
}

/// (apiGroup, resource, verb) triples of the ClusterRole in deploy/kubernetes/rbac.yaml.
fn rbac_grants() -> BTreeSet<(String, String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes/rbac.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let mut grants = BTreeSet::new();
    for document in serde_saphyr::from_multiple::<Value>(&text).expect("rbac.yaml parses") {
        if document["kind"] != "ClusterRole" {
            continue;
        }
        for rule in document["rules"].as_array().unwrap() {
            let strings = |key: &str| -> Vec<String> {
                rule[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect()
            };
            for group in strings("apiGroups") {
                for resource in strings("resources") {
                    for verb in strings("verbs") {
                        grants.insert((group.clone(), resource.clone(), verb));
                    }
                }
            }
        }
    }
    grants
}

#[test]
fn kubernetes_metrics_are_exported() {
    let api = Api::start();
    api.apply(cluster_ip_service("web", "10.0.5.1"));
    let (server, ports) = start_server(&api, "");
    assert!(answers_with(&server, WEB, &["10.0.5.1"]));
    // An endpoint change stamped by the EndpointSlice controller is timed from that stamp.
    let mut stamped = slice("web", &["10.8.0.1".to_string()]);
    let now = chrono_like_now();
    stamped["metadata"]["annotations"] =
        json!({"endpoints.kubernetes.io/last-change-trigger-time": now});
    api.apply(stamped);
    assert!(answers_with(
        &server,
        "10-8-0-1.web.default.svc.cluster.local.",
        &["10.8.0.1"]
    ));
    let (_, text) = http_get(&ports.metrics, "/metrics").expect("metrics");
    let host = api.api.address().to_string();
    assert!(
        metric_value(
            &text,
            "coredns_kubernetes_rest_client_requests_total",
            &[("code", "200"), ("method", "GET"), ("host", &host)]
        )
        .is_some_and(|v| v > 0.0),
        "{text}"
    );
    assert_eq!(
        metric_value(
            &text,
            "coredns_kubernetes_dns_programming_duration_seconds_count",
            &[("service_kind", "cluster_ip")]
        ),
        Some(1.0),
        "{text}"
    );
}

/// The current time as RFC 3339 UTC seconds, the format of the trigger-time annotation.
fn chrono_like_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm) for the date part.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[test]
fn corefile_example_serves_the_training_cluster_from_its_manifest() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("Corefile.example")).unwrap();
    // Same file, on free ports, with the manifest path made absolute (the server runs in a
    // temp dir).
    let manifest = root.join("examples/cluster.yaml");
    let corefile = text
        .replace(":1053", ":PORT")
        .replace("localhost:8080", &format!("localhost:{}", free_port()))
        .replace("localhost:8181", &format!("localhost:{}", free_port()))
        .replace("localhost:9153", &format!("localhost:{}", free_port()))
        .replace("examples/cluster.yaml", &manifest.display().to_string());
    let server = Server::start(&corefile);

    assert!(answers_with(
        &server,
        "nginx-service.default.svc.cluster.local.",
        &["10.103.98.179"]
    ));
    let srv = server.udp(
        "_http._tcp.nginx1-service-clusterip.default.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_eq!(rcode(&srv), ResponseCode::NoError);
    assert_eq!(
        srv.answers[0].data.to_string(),
        "0 100 80 nginx1-service-clusterip.default.svc.cluster.local."
    );
    let ptr = server.udp("179.98.103.10.in-addr.arpa.", RecordType::PTR);
    assert_eq!(
        ptr.answers[0].data.to_string(),
        "nginx-service.default.svc.cluster.local."
    );
    let cname = server.udp("my-database.default.svc.cluster.local.", RecordType::CNAME);
    assert_eq!(cname.answers[0].data.to_string(), "db.example.com.");
    assert_eq!(
        addresses(&server.udp("nginx2-service.default.svc.cluster.local.", RecordType::A)),
        [ip("10.100.170.165")].into()
    );
    // k8s_external: the MetalLB address under the outside zone, with the zone's SOA/NS.
    assert_eq!(
        addresses(&server.udp("nginx2-service.default.example.org.", RecordType::A)),
        [ip("192.168.1.11")].into()
    );
    // hosts and rewrite, the course's two hand-written variants: a pinned outside name, and
    // an in-cluster name served from it with the client's own name on the answer.
    assert_eq!(
        addresses(&server.udp("webservice1.com.", RecordType::A)),
        [ip("172.16.0.3")].into()
    );
    // `cache 30` caps the hosts TTL (3600) on its way out (plugins-resolution.md §10.3).
    let pinned = server.udp("webservice1.com.", RecordType::A);
    assert!(pinned.answers.iter().all(|r| r.ttl <= 30), "{pinned}");
    let rewritten = server.udp("web-service.cluster.local.", RecordType::A);
    assert_eq!(addresses(&rewritten), [ip("172.16.0.3")].into());
    assert_eq!(
        rewritten.answers[0].name.to_string(),
        "web-service.cluster.local."
    );
    let soa = server.udp("example.org.", RecordType::SOA);
    assert_eq!(
        soa.answers[0]
            .data
            .to_string()
            .split(' ')
            .take(2)
            .collect::<Vec<_>>(),
        ["ns1.dns.example.org.", "hostmaster.dns.example.org."]
    );
    assert_eq!(
        rcode(&server.udp("nginx-service.default.example.org.", RecordType::A)),
        ResponseCode::NXDomain,
        "a ClusterIP service has no outside address"
    );
}

#[test]
fn a_changed_manifest_file_is_served_without_a_restart() {
    let dir = temp_dir("manifest");
    let manifest = dir.join("cluster.yaml");
    let write = |ip: &str| {
        let list = json!({"apiVersion": "v1", "kind": "List", "items": [
            namespace("default"), cluster_ip_service("web", ip)]});
        std::fs::write(&manifest, serde_json::to_string_pretty(&list).unwrap()).unwrap();
    };
    write("10.0.6.1");
    let server = Server::start(&format!(
        "cluster.local:PORT {{\n    kubernetes {{\n        manifests {}\n    }}\n}}\n.:PORT {{\n    whoami\n}}\n",
        manifest.display()
    ));
    assert!(answers_with(&server, WEB, &["10.0.6.1"]));
    write("10.0.6.2");
    assert!(answers_with(&server, WEB, &["10.0.6.2"]));
    // A broken file keeps the last good objects.
    std::fs::write(&manifest, "items: [ {").unwrap();
    for _ in 0..20 {
        assert_eq!(
            addresses(&server.udp(WEB, RecordType::A)),
            [ip("10.0.6.2")].into()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn autopath_expands_a_pods_search_path_in_one_round_trip() {
    // The client (this test, 127.0.0.1) is the pod `podns/client`: a pod's first query for
    // `svc1.testns` under ndots:5 is `svc1.testns.podns.svc.cluster.local`, which autopath
    // answers with a CNAME to the name that exists (kubernetes.md §15, T106).
    let api = Api::start();
    for ns in ["podns", "testns"] {
        api.apply(namespace(ns));
    }
    let mut svc1 = cluster_ip_service("svc1", "10.0.0.1");
    svc1["metadata"]["namespace"] = json!("testns");
    api.apply(svc1);
    api.apply(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "client", "namespace": "podns"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        "status": {"phase": "Running", "podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}]}
    }));
    let dir = temp_dir("kubeconfig");
    let kubeconfig = api.kubeconfig(&dir);
    let server = Server::start(&format!(
        "cluster.local:PORT {{\n    autopath @kubernetes\n    kubernetes {{\n        kubeconfig {kubeconfig}\n        pods verified\n    }}\n}}\n.:PORT {{\n    whoami\n}}\n"
    ));
    let name = "svc1.testns.podns.svc.cluster.local.";
    assert!(wait_until(
        || server.udp(name, RecordType::A).answers.len() == 2
    ));
    let m = server.udp(name, RecordType::A);
    assert_eq!(rcode(&m), ResponseCode::NoError);
    assert_eq!(
        m.queries[0].name().to_string(),
        name,
        "the question is the client's"
    );
    assert_eq!(m.answers[0].name.to_string(), name);
    assert_eq!(
        m.answers[0].data.to_string(),
        "svc1.testns.svc.cluster.local."
    );
    assert_eq!(addresses(&m), [ip("10.0.0.1")].into());
    // An existing name without the type: NOERROR, empty, no CNAME (T107).
    let aaaa = server.udp(name, RecordType::AAAA);
    assert_eq!(rcode(&aaaa), ResponseCode::NoError);
    assert!(aaaa.answers.is_empty());
}
