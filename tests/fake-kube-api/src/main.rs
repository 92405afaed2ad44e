//! `fake-kube-api`: the fake Kubernetes API server as a process, filled with a generated
//! cluster, for benchmarks. Objects are changed from outside through the `/fake/` control
//! routes (see README.md). Runs until SIGINT or SIGTERM.
#![forbid(unsafe_code)]

use std::{path::PathBuf, process::ExitCode, time::Duration};

use fake_kube_api::{FakeApi, generate::ClusterSpec};

const USAGE: &str = "usage: fake-kube-api [--port P] [--services N] [--endpoints-per-service M] \
[--namespaces K] [--print-kubeconfig PATH] [--bookmark-interval-ms MS] [--history-limit CHANGES]";

struct Options {
    port: u16,
    spec: ClusterSpec,
    kubeconfig: Option<PathBuf>,
    bookmark_interval: Duration,
    history_limit: usize,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        port: 0,
        spec: ClusterSpec {
            namespaces: 10,
            services: 0,
            endpoints_per_service: 0,
        },
        kubeconfig: None,
        bookmark_interval: Duration::from_secs(60),
        history_limit: 100_000,
    };
    let mut args = args.peekable();
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag}: not a number: {value:?}"))
        };
        match flag.as_str() {
            "--port" => {
                options.port = value
                    .parse()
                    .map_err(|_| format!("--port: not a port: {value:?}"))?
            }
            "--services" => options.spec.services = number()?,
            "--endpoints-per-service" => options.spec.endpoints_per_service = number()?,
            "--namespaces" => options.spec.namespaces = number()?.max(1),
            "--print-kubeconfig" => options.kubeconfig = Some(PathBuf::from(value)),
            "--bookmark-interval-ms" => {
                options.bookmark_interval = Duration::from_millis(number()? as u64)
            }
            "--history-limit" => options.history_limit = number()?,
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let api = match FakeApi::builder()
        .port(options.port)
        .bookmark_interval(options.bookmark_interval)
        .history_limit(options.history_limit)
        .start()
        .await
    {
        Ok(api) => api,
        Err(e) => {
            eprintln!("fake-kube-api: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = api.populate(&options.spec) {
        eprintln!("fake-kube-api: {e}");
        return ExitCode::FAILURE;
    }
    if let Some(path) = &options.kubeconfig
        && let Err(e) = api.write_kubeconfig(path)
    {
        eprintln!("fake-kube-api: {e}");
        return ExitCode::FAILURE;
    }
    // One line a driving script waits for: the cluster is complete from here on.
    println!(
        "fake-kube-api listening on {} ({} services, {} endpoints, resourceVersion {})",
        api.url(),
        options.spec.services,
        options.spec.services * options.spec.endpoints_per_service,
        api.resource_version()
    );
    wait_for_stop_signal().await;
    ExitCode::SUCCESS
}

async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
