//! Connection settings that can be checked without an API server fail the Corefile at setup,
//! with a text that names the problem; an unreachable API server does not.

mod source_support;

use std::path::PathBuf;

use clusterdns_kubernetes::settings::{ApiSettings, Kubeconfig, TlsFiles};
use clusterdns_kubernetes::source::{self, SourceError};
use source_support::{TempDir, new_recorder, scope};

fn start(settings: &ApiSettings) -> Result<plugin::tasks::Tasks, SourceError> {
    let tasks = plugin::tasks::Tasks::new();
    source::start(
        settings,
        &scope(),
        new_recorder(),
        &tasks,
        &plugin::metrics::MetricsHub::new(),
    )?;
    Ok(tasks)
}

fn kubeconfig(path: PathBuf, context: Option<&str>) -> ApiSettings {
    ApiSettings {
        kubeconfig: Some(Kubeconfig {
            path,
            context: context.map(str::to_owned),
        }),
        ..ApiSettings::default()
    }
}

const KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: 'http://127.0.0.1:1'}
contexts:
- name: main
  context: {cluster: c, user: u}
users:
- name: u
  user: {token: t}
";

#[tokio::test]
async fn kubeconfig_problems_fail_setup() {
    let dir = TempDir::new("kubeconfig-errors");
    let missing = dir.path().join("missing");
    let no_current = dir.write("no-current", KUBECONFIG);
    let with_current = dir.write(
        "with-current",
        &format!("{KUBECONFIG}current-context: main\n"),
    );
    let garbage = dir.write("garbage", "clusters: [unclosed\n");
    let no_server = dir.write(
        "no-server",
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: main\n  context: {cluster: c}\ncurrent-context: main\n",
    );

    let cases: Vec<(ApiSettings, String)> = vec![
        (
            kubeconfig(missing.clone(), None),
            format!(
                "invalid kubeconfig {}: No such file or directory",
                missing.display()
            ),
        ),
        (
            kubeconfig(no_current.clone(), None),
            format!(
                "invalid kubeconfig {}: current-context is not set",
                no_current.display()
            ),
        ),
        (
            kubeconfig(with_current.clone(), Some("nope")),
            format!(
                "invalid kubeconfig {}: context \"nope\" does not exist",
                with_current.display()
            ),
        ),
        (
            kubeconfig(garbage.clone(), None),
            format!("invalid kubeconfig {}: ", garbage.display()),
        ),
        (
            kubeconfig(no_server.clone(), None),
            format!(
                "invalid kubeconfig {}: cluster url is missing",
                no_server.display()
            ),
        ),
    ];
    for (settings, expected) in cases {
        let error = start(&settings).expect_err("setup fails");
        assert!(
            error.to_string().starts_with(&expected),
            "{error} should start with {expected}"
        );
    }

    // The same file with a context that exists (named, or current) starts.
    for settings in [
        kubeconfig(no_current.clone(), Some("main")),
        kubeconfig(with_current.clone(), None),
    ] {
        start(&settings).expect("starts").stop().await;
    }
}

#[tokio::test]
async fn endpoint_problems_fail_setup() {
    let dir = TempDir::new("endpoint-errors");
    let junk = dir.write("junk.pem", "not a certificate\n");
    let missing = dir.path().join("missing.pem");
    let endpoint = |url: &str, tls: Option<TlsFiles>| ApiSettings {
        endpoint: Some(url.into()),
        tls,
        ..ApiSettings::default()
    };

    for url in ["not a url", "ftp://api:6443", "/just/a/path"] {
        let error = start(&endpoint(url, None)).expect_err("bad URL");
        assert!(
            matches!(error, SourceError::Endpoint { .. }),
            "{url}: {error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with(&format!("invalid endpoint \"{url}\": ")),
            "{error}"
        );
    }

    let error = start(&endpoint(
        "https://api:6443",
        Some(TlsFiles {
            cert: junk.clone(),
            key: missing.clone(),
            ca: junk.clone(),
        }),
    ))
    .expect_err("missing key");
    assert_eq!(
        error.to_string(),
        format!(
            "tls: cannot read client key {}: No such file or directory (os error 2)",
            missing.display()
        )
    );

    // Files that exist but hold no PEM: refused at setup too (by kube's loader or its TLS setup).
    let error = start(&endpoint(
        "https://api:6443",
        Some(TlsFiles {
            cert: junk.clone(),
            key: junk.clone(),
            ca: junk.clone(),
        }),
    ))
    .expect_err("junk PEM");
    assert!(
        matches!(error, SourceError::Endpoint { .. } | SourceError::Client(_)),
        "{error:?}"
    );

    // Reachable or not, plain http or https: nothing is dialled at setup.
    for url in ["http://127.0.0.1:1", "https://127.0.0.1:1"] {
        start(&endpoint(url, None)).expect("starts").stop().await;
    }
}

#[tokio::test]
async fn outside_a_cluster_without_endpoint_setup_fails_like_client_go() {
    // Pods always have these variables; only outside a cluster is the error reachable (and
    // tests may not change the environment: that needs `unsafe` in edition 2024).
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        return;
    }
    let error = start(&ApiSettings::default()).expect_err("not in a cluster");
    assert!(matches!(error, SourceError::NotInCluster), "{error:?}");
    assert_eq!(
        error.to_string(),
        "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"
    );
}

#[tokio::test]
async fn manifests_need_no_cluster_and_win_over_the_api_settings() {
    let dir = TempDir::new("manifests-win");
    let file = dir.write(
        "c.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n",
    );
    let settings = ApiSettings {
        manifests: Some(file),
        // Would fail setup if looked at.
        endpoint: Some("not a url".into()),
        ..ApiSettings::default()
    };
    start(&settings).expect("starts").stop().await;
}
