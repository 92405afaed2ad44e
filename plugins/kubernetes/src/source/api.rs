//! The API server source: one kube client (with the limits and metrics layer) shared by one
//! watch per resource (kubernetes.md §10): Services and Namespaces always, EndpointSlices
//! unless `noendpoints`, Pods with `pods verified`. Only `list` and `watch` requests are ever
//! sent, cluster-wide.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::client::ClientBuilder;
use kube::runtime::watcher;

use super::client_layer::{ClientLayer, ClientLimits};
use super::connection::client_config;
use super::error::SourceError;
use super::resources::{POD_FIELD_SELECTOR, Watched};
use super::rest_metrics::RestClientMetrics;
use super::selection::{Selection, Selector};
use super::watch;
use crate::feed::ClusterSink;
use crate::settings::ApiSettings;

pub(crate) fn start(
    api: &ApiSettings,
    selection: &Selection,
    sink: Arc<dyn ClusterSink>,
    tasks: &plugin::tasks::Tasks,
    metrics: &plugin::metrics::MetricsHub,
) -> Result<(), SourceError> {
    let (config, host) = client_config(api)?;
    let layer = ClientLayer::new(
        ClientLimits::from_options(api.qps, api.burst, api.max_inflight),
        metrics.get::<RestClientMetrics>(),
        host,
    );
    // Building the client reads the client certificate and key and sets up TLS, but opens no
    // connection: an unreachable API server is not a setup error (§9).
    let client = ClientBuilder::try_from(config)
        .map_err(SourceError::Client)?
        .with_layer(&layer)
        .build();

    let labels = selection.labels.as_ref();
    spawn::<Namespace>(
        tasks,
        &client,
        &sink,
        watch_config(selection.namespace_labels.as_ref()),
    );
    spawn::<Service>(tasks, &client, &sink, watch_config(labels));
    if selection.endpoint_slices {
        spawn::<EndpointSlice>(tasks, &client, &sink, watch_config(labels));
    }
    if selection.pods {
        spawn::<Pod>(
            tasks,
            &client,
            &sink,
            watch_config(labels).fields(POD_FIELD_SELECTOR),
        );
    }
    Ok(())
}

/// The list and watch parameters of every watch: kube's defaults.
///
/// - Lists are paged (500 objects, client-go's page size too) and consistent: kube leaves
///   `resourceVersion` out of paged lists. client-go's informers ask `resourceVersion=0`, but
///   servers ignore `limit` with it (one unpaged answer) and, since Kubernetes 1.31, answer
///   consistent lists from the watch cache as well, so the paged consistent list costs the
///   API server no more and bounds each answer's size.
/// - Bookmarks on (the resume point stays fresh), the watch timeout kube's 290 s.
fn watch_config(labels: Option<&Selector>) -> watcher::Config {
    let config = watcher::Config::default();
    match labels {
        Some(selector) => config.labels(&selector.text),
        None => config,
    }
}

fn spawn<K: Watched>(
    tasks: &plugin::tasks::Tasks,
    client: &kube::Client,
    sink: &Arc<dyn ClusterSink>,
    config: watcher::Config,
) {
    tasks.spawn(watch::run::<K>(client.clone(), config, sink.clone()));
}
