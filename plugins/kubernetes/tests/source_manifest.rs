//! `manifests PATH`: what the manifest source delivers to the cache for files and folders of
//! YAML and JSON, how it selects, and how it follows edits.

mod source_support;

use std::path::Path;
use std::sync::Arc;

use clusterdns_kubernetes::feed::Resource;
use clusterdns_kubernetes::settings::{ApiSettings, WatchScope};
use clusterdns_kubernetes::source::{self, ManifestError, SourceError};
use source_support::{Event, Recorder, TempDir, eventually, new_recorder, scope};

fn settings(path: &Path) -> ApiSettings {
    ApiSettings {
        manifests: Some(path.to_owned()),
        ..ApiSettings::default()
    }
}

fn start(
    path: &Path,
    scope: &WatchScope,
    recorder: &Arc<Recorder>,
    tasks: &plugin::tasks::Tasks,
) -> Result<(), SourceError> {
    source::start(
        &settings(path),
        scope,
        recorder.clone(),
        tasks,
        &plugin::metrics::MetricsHub::new(),
    )
}

/// Starts, waits for the first complete delivery (Services are always listed).
async fn started(path: &Path, scope: &WatchScope) -> (Arc<Recorder>, plugin::tasks::Tasks) {
    let recorder = new_recorder();
    let tasks = plugin::tasks::Tasks::new();
    start(path, scope, &recorder, &tasks).expect("manifest source starts");
    let all_synced = |r: &Recorder| {
        r.synced(Resource::Services) >= 1
            && r.synced(Resource::Namespaces) >= 1
            && (!scope.endpoint_slices || r.synced(Resource::EndpointSlices) >= 1)
            && (!scope.pods || r.synced(Resource::Pods) >= 1)
    };
    assert!(eventually(|| all_synced(&recorder)).await);
    (recorder, tasks)
}

const MULTI_DOC: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: default
  labels: {team: web}
---
apiVersion: v1
kind: Namespace
metadata:
  name: hidden
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  clusterIP: 10.0.0.10
  ports: [{name: http, port: 80, protocol: TCP}]
---
# no namespace: `default`, as kubectl apply would
apiVersion: v1
kind: Service
metadata:
  name: db
  labels: {app: db}
spec:
  clusterIP: 10.0.0.11
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec: {replicas: 3}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc12
  namespace: default
  labels: {kubernetes.io/service-name: web, app: web}
addressType: IPv4
endpoints:
- addresses: [10.1.0.5]
  conditions: {ready: true}
ports: [{name: http, port: 8080, protocol: TCP}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: default, labels: {app: web}}
status: {phase: Running, podIP: 10.1.0.5}
---
apiVersion: v1
kind: Pod
metadata: {name: job-1, namespace: default, labels: {app: web}}
status: {phase: Succeeded, podIP: 10.1.0.6}
---
apiVersion: v1
kind: Pod
metadata: {name: pending-1, namespace: default, labels: {app: db}}
"#;

#[tokio::test]
async fn multi_document_yaml_delivers_each_resource_as_a_listing() {
    let dir = TempDir::new("multi-doc");
    let file = dir.write("cluster.yaml", MULTI_DOC);
    let (recorder, tasks) = started(&file, &scope()).await;

    assert_eq!(recorder.keys(Resource::Namespaces), ["default", "hidden"]);
    assert_eq!(
        recorder.keys(Resource::Services),
        ["default/db", "default/web"]
    );
    assert_eq!(
        recorder.keys(Resource::EndpointSlices),
        ["default/web-abc12"]
    );
    // Succeeded pods are not listed (the API's field selector, §10); a pod without a phase is.
    assert_eq!(
        recorder.keys(Resource::Pods),
        ["default/pending-1", "default/web-1"]
    );
    // Each resource: Begin, its objects, Synced — nothing else.
    let services = recorder.events_of(Resource::Services);
    assert_eq!(services.first(), Some(&Event::Begin(Resource::Services)));
    assert_eq!(services.last(), Some(&Event::Synced(Resource::Services)));
    assert_eq!(services.len(), 4);

    let web = &recorder.state(Resource::Services)["default/web"];
    assert_eq!(web["spec"]["clusterIP"], "10.0.0.10");
    assert_eq!(web["spec"]["ports"][0]["port"], 80);
    let version = web["metadata"]["resourceVersion"].as_str().unwrap_or("");
    assert!(!version.is_empty(), "a resourceVersion is filled in");
    tasks.stop().await;
}

#[tokio::test]
async fn kubectl_list_output_works_as_is() {
    // The checked-in example is `kubectl get svc,endpointslices,ns,pods -A -o yaml` shaped.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/cluster.yaml");
    let (recorder, tasks) = started(&example, &scope()).await;
    let services = recorder.keys(Resource::Services);
    for expected in [
        "default/kubernetes",
        "kube-system/kube-dns",
        "default/nginx-service",
        "default/my-database",
        "default/nginx2-service",
    ] {
        assert!(
            services.iter().any(|s| s == expected),
            "{expected} in {services:?}"
        );
    }
    let namespaces = recorder.keys(Resource::Namespaces);
    assert!(namespaces.iter().any(|n| n == "default"), "{namespaces:?}");
    assert!(!recorder.keys(Resource::EndpointSlices).is_empty());
    assert!(!recorder.keys(Resource::Pods).is_empty());
    let db = &recorder.state(Resource::Services)["default/my-database"];
    assert_eq!(db["spec"]["externalName"], "db.example.com");
    tasks.stop().await;
}

#[tokio::test]
async fn json_list_and_typed_lists_without_item_kinds() {
    let dir = TempDir::new("json");
    let file = dir.write(
        "cluster.json",
        r#"{
          "apiVersion": "v1",
          "kind": "List",
          "items": [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}},
            {"apiVersion": "v1", "kind": "ServiceList", "items": [
              {"metadata": {"name": "a", "namespace": "default"}, "spec": {"clusterIP": "10.0.0.1"}},
              {"metadata": {"name": "b", "namespace": "default"}, "spec": {"clusterIP": "10.0.0.2"}}
            ]}
          ]
        }"#,
    );
    let (recorder, tasks) = started(&file, &scope()).await;
    assert_eq!(
        recorder.keys(Resource::Services),
        ["default/a", "default/b"]
    );
    assert_eq!(recorder.keys(Resource::Namespaces), ["default"]);
    // Listed, empty.
    assert!(recorder.keys(Resource::Pods).is_empty());
    assert_eq!(recorder.listings(Resource::Pods), [Vec::<String>::new()]);
    tasks.stop().await;
}

#[tokio::test]
async fn folder_reads_yaml_and_json_files_in_name_order() {
    let dir = TempDir::new("folder");
    dir.write(
        "10-services.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {clusterIP: 10.0.0.1}\n",
    );
    // Later file, same object: it wins.
    dir.write(
        "20-override.json",
        r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"}, "spec": {"clusterIP": "10.0.0.2"}}"#,
    );
    dir.write(
        "30-ns.yml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n",
    );
    // Not manifests by name: never read (they would not parse).
    dir.write("notes.txt", "this: [is not yaml");
    dir.write(".hidden.yaml", "this: [is not yaml");
    std::fs::create_dir(dir.path().join("sub.yaml")).expect("sub folder");

    let (recorder, tasks) = started(dir.path(), &scope()).await;
    assert_eq!(recorder.keys(Resource::Services), ["default/web"]);
    assert_eq!(
        recorder.state(Resource::Services)["default/web"]["spec"]["clusterIP"],
        "10.0.0.2"
    );
    assert_eq!(recorder.keys(Resource::Namespaces), ["default"]);

    // A file removed from the folder takes its objects with it.
    std::fs::remove_file(dir.path().join("30-ns.yml")).expect("remove");
    assert!(eventually(|| recorder.keys(Resource::Namespaces).is_empty()).await);
    assert_eq!(recorder.keys(Resource::Services), ["default/web"]);
    tasks.stop().await;
}

#[tokio::test]
async fn selectors_are_applied_like_the_api_server() {
    let dir = TempDir::new("selectors");
    let file = dir.write("cluster.yaml", MULTI_DOC);
    let mut scope = scope();
    scope.labels = Some("app in (web)".into());
    scope.namespace_labels = Some("team=web".into());
    let (recorder, tasks) = started(&file, &scope).await;
    assert_eq!(recorder.keys(Resource::Services), ["default/web"]);
    assert_eq!(
        recorder.keys(Resource::EndpointSlices),
        ["default/web-abc12"]
    );
    assert_eq!(recorder.keys(Resource::Pods), ["default/web-1"]);
    assert_eq!(recorder.keys(Resource::Namespaces), ["default"]);
    tasks.stop().await;
}

#[tokio::test]
async fn resources_outside_the_scope_are_not_delivered() {
    let dir = TempDir::new("scope");
    let file = dir.write("cluster.yaml", MULTI_DOC);
    let mut scope = scope();
    scope.pods = false;
    scope.endpoint_slices = false;
    let (recorder, tasks) = started(&file, &scope).await;
    assert!(recorder.events_of(Resource::Pods).is_empty());
    assert!(recorder.events_of(Resource::EndpointSlices).is_empty());
    assert_eq!(
        recorder.keys(Resource::Services),
        ["default/db", "default/web"]
    );
    tasks.stop().await;
}

#[tokio::test]
async fn namespaces_are_never_invented() {
    let dir = TempDir::new("no-ns");
    let file = dir.write(
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: 10.0.0.1}\n",
    );
    let (recorder, tasks) = started(&file, &scope()).await;
    assert_eq!(recorder.keys(Resource::Services), ["shop/web"]);
    assert!(recorder.keys(Resource::Namespaces).is_empty());
    tasks.stop().await;
}

#[tokio::test]
async fn edits_are_delivered_as_new_listings() {
    let dir = TempDir::new("edit");
    let file = dir.write(
        "cluster.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default, resourceVersion: \"7\"}\nspec: {clusterIP: 10.0.0.1}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: default}\nspec: {clusterIP: 10.0.0.2}\n",
    );
    let (recorder, tasks) = started(&file, &scope()).await;
    let before = recorder.state(Resource::Services)["default/web"].clone();

    // web changes but keeps kubectl's resourceVersion; db goes away; api appears.
    dir.write(
        "cluster.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default, resourceVersion: \"7\"}\nspec: {clusterIP: 10.0.0.100}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: default}\nspec: {clusterIP: 10.0.0.3}\n",
    );
    assert!(eventually(|| recorder.synced(Resource::Services) >= 2).await);
    assert_eq!(
        recorder.keys(Resource::Services),
        ["default/api", "default/web"]
    );
    let after = &recorder.state(Resource::Services)["default/web"];
    assert_eq!(after["spec"]["clusterIP"], "10.0.0.100");
    assert_ne!(
        before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"],
        "a changed object gets a new resourceVersion"
    );
    // Every resource was listed again, in full.
    assert_eq!(recorder.synced(Resource::Namespaces), 2);
    tasks.stop().await;
}

#[tokio::test]
async fn a_broken_file_keeps_its_last_objects_until_fixed() {
    let dir = TempDir::new("broken");
    dir.write(
        "a.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {clusterIP: 10.0.0.1}\n",
    );
    dir.write(
        "b.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n",
    );
    let (recorder, tasks) = started(dir.path(), &scope()).await;

    // a.yaml breaks (YAML syntax), then b.yaml changes: the listing b's change causes still
    // holds a's last good objects.
    dir.write(
        "a.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: [unclosed\n",
    );
    dir.write(
        "b.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n",
    );
    assert!(eventually(|| recorder.keys(Resource::Namespaces).len() == 2).await);

    // Same with an object that does not fit its type.
    dir.write(
        "a.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{port: eighty}]}\n",
    );
    dir.write(
        "b.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n",
    );
    assert!(eventually(|| recorder.keys(Resource::Namespaces).len() == 1).await);

    // Fixed: the new content is delivered.
    dir.write(
        "a.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {clusterIP: 10.0.0.9}\n",
    );
    assert!(
        eventually(
            || recorder.state(Resource::Services)["default/web"]["spec"]["clusterIP"] == "10.0.0.9"
        )
        .await
    );
    let listings = recorder.listings(Resource::Services);
    assert!(listings.len() >= 3, "{listings:?}");
    for listing in listings {
        assert_eq!(listing, ["default/web"]);
    }
    tasks.stop().await;
}

#[tokio::test]
async fn a_vanished_path_keeps_everything() {
    let dir = TempDir::new("vanished");
    let file = dir.write(
        "cluster.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {clusterIP: 10.0.0.1}\n",
    );
    let (recorder, tasks) = started(&file, &scope()).await;
    std::fs::remove_file(&file).expect("remove");
    // Back, with a change: delivered, and no listing ever came without `web`.
    dir.write(
        "cluster.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {clusterIP: 10.0.0.9}\n",
    );
    assert!(eventually(|| recorder.synced(Resource::Services) >= 2).await);
    for listing in recorder.listings(Resource::Services) {
        assert_eq!(listing, ["default/web"]);
    }
    assert_eq!(
        recorder.state(Resource::Services)["default/web"]["spec"]["clusterIP"],
        "10.0.0.9"
    );
    tasks.stop().await;
}

#[tokio::test]
async fn startup_errors_name_the_file_and_the_line() {
    let dir = TempDir::new("startup");
    let cases: &[(&str, &str, &str)] = &[
        (
            "syntax.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n   namespace: bad-indent\n",
            "line 5",
        ),
        (
            "typed.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{port: eighty}]}\n",
            "document 1: Service default/web: invalid type",
        ),
        (
            "nameless.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {namespace: default}\n",
            "document 1: Service without metadata.name",
        ),
        (
            "kindless.yaml",
            "apiVersion: v1\nmetadata: {name: x}\n",
            "document 1: no kind",
        ),
        (
            "scalar.yaml",
            "just a string\n",
            "document 1: not an object",
        ),
        ("broken.json", "{\"kind\": \"List\",", "EOF while parsing"),
    ];
    for (name, text, expected) in cases {
        let file = dir.write(name, text);
        let recorder = new_recorder();
        let tasks = plugin::tasks::Tasks::new();
        let error =
            start(&file, &scope(), &recorder, &tasks).expect_err("a broken manifest fails setup");
        assert!(
            matches!(error, SourceError::Manifest(_)),
            "{name}: {error:?}"
        );
        let text = error.to_string();
        assert!(
            text.starts_with(&format!("manifests {}: ", file.display())),
            "{name}: {text}"
        );
        assert!(text.contains(expected), "{name}: {text}");
        assert!(recorder.events().is_empty());
    }

    let missing = dir.path().join("absent.yaml");
    let recorder = new_recorder();
    let tasks = plugin::tasks::Tasks::new();
    let error = start(&missing, &scope(), &recorder, &tasks).expect_err("missing path");
    assert!(
        matches!(error, SourceError::Manifest(ManifestError::Read { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn alias_expansion_is_bounded() {
    // "Billion laughs": 9 levels of 9 aliases each would expand to ~387 million strings.
    let mut text = String::from("a0: &a0 [lol]\n");
    for level in 1..=9 {
        let refs = vec![format!("*a{}", level - 1); 9].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
    }
    let dir = TempDir::new("bomb");
    let file = dir.write("bomb.yaml", &text);
    let error = start(
        &file,
        &scope(),
        &new_recorder(),
        &plugin::tasks::Tasks::new(),
    )
    .expect_err("rejected, not expanded");
    assert!(
        matches!(error, SourceError::Manifest(ManifestError::Yaml { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn invalid_selectors_fail_setup() {
    let dir = TempDir::new("bad-selector");
    let file = dir.write("cluster.yaml", MULTI_DOC);
    let mut scope = scope();
    scope.labels = Some("app in (web".into());
    let error = start(&file, &scope, &new_recorder(), &plugin::tasks::Tasks::new())
        .expect_err("invalid selector");
    assert!(matches!(error, SourceError::Selector { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("unable to create Selector for LabelSelector 'app in (web': "),
        "{error}"
    );
}
