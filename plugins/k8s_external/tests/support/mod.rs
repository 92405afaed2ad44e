//! A server block with `k8s_external` and `kubernetes` over the contract's fixture set K
//! (kubernetes.md §18.1, read from the kubernetes crate's tests), the self-lookup stub of
//! §18.1, and records rendered as text.

#![allow(dead_code)]

use std::net::IpAddr;
use std::sync::Arc;

use clusterdns_kubernetes::feed::{ClusterSink, Feed};
use clusterdns_kubernetes::{Cache, Environment, setup_with};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use plugin::test_util::{Recorder, TestBlock};
use plugin::upstream::{LookupFuture, Resolve};
use plugin::{Chain, Request, Response};

/// The objects of set K, as the API server would list them.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fixture {
    pub namespaces: Vec<Namespace>,
    pub services: Vec<Service>,
    pub endpoint_slices: Vec<EndpointSlice>,
    pub pods: Vec<Pod>,
}

impl Fixture {
    pub fn set_k() -> Fixture {
        serde_saphyr::from_str(include_str!("../../../kubernetes/tests/fixture/set_k.yaml"))
            .expect("fixture set K parses")
    }

    /// Every resource as one complete listing (no selectors: the stanzas here use none).
    pub fn feed(&self, sink: &dyn ClusterSink) {
        sink.namespaces(Feed::Begin);
        self.namespaces
            .iter()
            .for_each(|o| sink.namespaces(Feed::Upsert(o.clone())));
        sink.namespaces(Feed::Synced);
        sink.services(Feed::Begin);
        self.services
            .iter()
            .for_each(|o| sink.services(Feed::Upsert(o.clone())));
        sink.services(Feed::Synced);
        sink.endpoint_slices(Feed::Begin);
        self.endpoint_slices
            .iter()
            .for_each(|o| sink.endpoint_slices(Feed::Upsert(o.clone())));
        sink.endpoint_slices(Feed::Synced);
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
            .expect("service of set K")
    }
}

/// The self-lookup stub: `lb.cloud.test. 30 A 5.6.7.8`, everything else NXDOMAIN.
pub struct SelfLookup;

impl Resolve for SelfLookup {
    fn resolve<'a>(
        &'a self,
        origin: &'a Request,
        name: Name,
        qtype: RecordType,
    ) -> LookupFuture<'a> {
        Box::pin(async move {
            let mut response = Response::reply_to(origin, "stub");
            if name.to_string().eq_ignore_ascii_case("lb.cloud.test.") && qtype == RecordType::A {
                response.answers = vec![Record::from_rdata(
                    name,
                    30,
                    RData::A(A("5.6.7.8".parse().unwrap())),
                )]
                .into();
            } else {
                response.rcode = ResponseCode::NXDomain;
            }
            Some(response)
        })
    }
}

/// How the block is built.
#[derive(Clone, Copy, Debug)]
pub struct Setting {
    /// The `kubernetes` line (with its block, lines separated by `\n`).
    pub kubernetes: &'static str,
    /// The `k8s_external` line.
    pub external: &'static str,
    /// The server's own addresses.
    pub own: &'static [&'static str],
    /// Feed set K (false: never synced, empty).
    pub fed: bool,
}

/// One server block `.` with k8s_external, kubernetes and a recording last plugin, in
/// registry order.
pub struct Block {
    pub chain: Chain,
    pub cache: Arc<Cache>,
    pub next: Arc<Recorder>,
}

impl Block {
    pub fn new(setting: Setting) -> Block {
        let mut block = TestBlock::new(&["."]);
        block.services.upstream.bind(Arc::new(SelfLookup));
        block
            .setup(setting.external, clusterdns_k8s_external::setup)
            .unwrap_or_else(|e| panic!("{}: {e}", setting.external));
        let env = Environment {
            own_addresses: setting
                .own
                .iter()
                .map(|a| a.parse::<IpAddr>().unwrap())
                .collect(),
            resolv_search: Vec::new(),
            start_sources: false,
        };
        let mut cache = None;
        block
            .setup(setting.kubernetes, |s| {
                setup_with(s, env).map(|c| cache = Some(c))
            })
            .unwrap_or_else(|e| panic!("{}: {e}", setting.kubernetes));
        block
            .block
            .run_after_block()
            .unwrap_or_else(|(_, e)| panic!("after block: {e}"));
        let cache = cache.expect("kubernetes set up");
        if setting.fed {
            Fixture::set_k().feed(&*cache);
        }
        let next = Recorder::new();
        let mut plugins = block.block.plugins.clone();
        plugins.push(next.clone());
        Block {
            chain: Chain::new(plugins),
            cache,
            next,
        }
    }

    /// Runs one query through the chain; panics when nothing was written.
    pub async fn ask(&self, req: &Request) -> Response {
        self.chain
            .serve(req)
            .await
            .unwrap_or_else(|f| panic!("{}: not written: {f:?}", req.qname()))
    }
}

/// A record as text, `owner ttl TYPE rdata`; an SOA's serial is written `*` (not compared).
pub fn render(record: &Record) -> String {
    match &record.data {
        RData::SOA(soa) => format!(
            "{} {} SOA {} {} * {} {} {} {}",
            record.name,
            record.ttl,
            soa.mname,
            soa.rname,
            soa.refresh,
            soa.retry,
            soa.expire,
            soa.minimum
        ),
        data => format!(
            "{} {} {} {}",
            record.name,
            record.ttl,
            record.record_type(),
            data
        ),
    }
}

/// A section rendered and sorted (record order is not compared).
pub fn rendered(records: &[Record]) -> Vec<String> {
    let mut out: Vec<String> = records.iter().map(render).collect();
    out.sort();
    out
}
