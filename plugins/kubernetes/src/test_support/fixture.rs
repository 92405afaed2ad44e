//! The contract's fixture set K (kubernetes.md §18.1) fed through a [`ClusterSink`], the
//! self-lookup stub §18.1 pairs with it, and a `kubernetes` stanza set up in a test block.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use hickory_proto::rr::RData;
use hickory_proto::rr::RecordType;
use hickory_proto::rr::rdata::A;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use plugin::test_util::{StubAnswer, StubResolver, TestBlock};

use crate::feed::{ClusterSink, Feed};
use crate::source::selector::LabelSelector;
use crate::{Cache, Environment, setup_with};

/// The objects of a fixture set, as the API server would list them.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fixture {
    pub namespaces: Vec<Namespace>,
    pub services: Vec<Service>,
    pub endpoint_slices: Vec<EndpointSlice>,
    pub pods: Vec<Pod>,
}

/// Which watches a stanza runs.
#[derive(Clone, Copy, Debug)]
pub struct Watches {
    pub endpoint_slices: bool,
    pub pods: bool,
}

impl Fixture {
    /// A fixture set written as YAML (`namespaces`, `services`, `endpointSlices`, `pods`).
    pub fn from_yaml(text: &str) -> Result<Fixture, serde_saphyr::Error> {
        serde_saphyr::from_str(text)
    }

    /// Set K (`tests/fixture/set_k.yaml` of this crate).
    pub fn set_k() -> Fixture {
        Fixture::from_yaml(include_str!("../../tests/fixture/set_k.yaml"))
            .expect("fixture set K parses")
    }

    /// Feeds what the stanza `corefile` (lines separated by `\n`) would list: only the watches
    /// it starts, only the objects its server-side selectors let through (kubernetes.md §10).
    pub fn feed_as_stanza(&self, sink: &dyn ClusterSink, corefile: &str) {
        let watches = Watches {
            endpoint_slices: !corefile.contains("noendpoints"),
            pods: corefile.contains("pods verified"),
        };
        self.feed(
            sink,
            watches,
            option_value(corefile, "labels").as_deref(),
            option_value(corefile, "namespace_labels").as_deref(),
        );
    }

    /// Feeds every resource as one complete listing, keeping only what the server-side
    /// selectors would list (`labels` on Services, slices and Pods, `namespace_labels` on
    /// Namespaces; kubernetes.md §10).
    pub fn feed(
        &self,
        sink: &dyn ClusterSink,
        watches: Watches,
        labels: Option<&str>,
        namespace_labels: Option<&str>,
    ) {
        sink.namespaces(Feed::Begin);
        for ns in &self.namespaces {
            if select(namespace_labels, ns.metadata.labels.as_ref()) {
                sink.namespaces(Feed::Upsert(ns.clone()));
            }
        }
        sink.namespaces(Feed::Synced);
        sink.services(Feed::Begin);
        for svc in &self.services {
            if select(labels, svc.metadata.labels.as_ref()) {
                sink.services(Feed::Upsert(svc.clone()));
            }
        }
        sink.services(Feed::Synced);
        if watches.endpoint_slices {
            self.feed_slices(sink, labels);
        }
        if watches.pods {
            self.feed_pods(sink, labels);
        }
    }

    pub fn feed_slices(&self, sink: &dyn ClusterSink, labels: Option<&str>) {
        sink.endpoint_slices(Feed::Begin);
        for slice in &self.endpoint_slices {
            if select(labels, slice.metadata.labels.as_ref()) {
                sink.endpoint_slices(Feed::Upsert(slice.clone()));
            }
        }
        sink.endpoint_slices(Feed::Synced);
    }

    pub fn feed_pods(&self, sink: &dyn ClusterSink, labels: Option<&str>) {
        sink.pods(Feed::Begin);
        for pod in &self.pods {
            if select(labels, pod.metadata.labels.as_ref()) {
                sink.pods(Feed::Upsert(pod.clone()));
            }
        }
        sink.pods(Feed::Synced);
    }

    /// The Service `namespace/name` of the set.
    pub fn service(&self, namespace: &str, name: &str) -> Service {
        self.services
            .iter()
            .find(|s| {
                s.metadata.namespace.as_deref() == Some(namespace)
                    && s.metadata.name.as_deref() == Some(name)
            })
            .cloned()
            .expect("service of the fixture set")
    }
}

/// What a server-side label selector lets through.
fn select(selector: Option<&str>, labels: Option<&BTreeMap<String, String>>) -> bool {
    selector.is_none_or(|s| LabelSelector::parse(s).expect("selector").matches(labels))
}

/// The arguments of `option` in a stanza, joined by spaces.
fn option_value(corefile: &str, option: &str) -> Option<String> {
    corefile.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some(option)).then(|| words.collect::<Vec<_>>().join(" "))
    })
}

/// The self-lookup of §18.1: what the rest of the server answers for the names set K's
/// ExternalName and LoadBalancer Services point outside the cluster zone.
pub fn set_k_self_lookup() -> StubResolver {
    let a = |ttl, ip: [u8; 4]| {
        Some(StubAnswer::records(vec![(
            ttl,
            RData::A(A::from(Ipv4Addr::from(ip))),
        )]))
    };
    StubResolver::nxdomain_otherwise()
        .row(
            "ext.interwebs.test.",
            Some(RecordType::A),
            a(30, [1, 2, 3, 4]),
        )
        .row("ext.interwebs.test.", None, Some(StubAnswer::default()))
        .row("lb.cloud.test.", Some(RecordType::A), a(30, [5, 6, 7, 8]))
        .row("google.com.", Some(RecordType::A), a(60, [142, 250, 0, 1]))
}

/// The environment of a stanza in tests: these own addresses and resolv.conf search list,
/// sources not started (the tests feed the cache).
pub fn environment(own: &[&str], resolv_search: &[&str]) -> Environment {
    Environment {
        own_addresses: own
            .iter()
            .map(|a| a.parse::<IpAddr>().expect("test address"))
            .collect(),
        resolv_search: resolv_search.iter().map(|s| s.to_string()).collect(),
        start_sources: false,
    }
}

/// Sets the `kubernetes` stanza `corefile` up in `block`; returns its cache. Panics with the
/// stanza when setup fails.
pub fn set_up(block: &mut TestBlock, corefile: &str, env: Environment) -> Arc<Cache> {
    let mut cache = None;
    block
        .setup(corefile, |s| setup_with(s, env).map(|c| cache = Some(c)))
        .unwrap_or_else(|e| panic!("{corefile}: {e}"));
    cache.expect("kubernetes set up")
}
