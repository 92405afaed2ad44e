//! Answers over a cache that changes (events, re-lists), the quirks around the zone's
//! spelling, the ExternalName self-lookup edge cases, and what the plugin publishes for
//! autopath and k8s_external. Fixture set K (kubernetes.md §18.1) unless stated.

mod fixture;

use std::sync::Arc;

use clusterdns_kubernetes::feed::{ClusterSink, Feed};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use k8s_openapi::api::core::v1::Service;
use plugin::test_util::query;
use plugin::test_util::{StubAnswer, StubResolver};

use clusterdns_kubernetes::test_support::answers::rendered;
use clusterdns_kubernetes::test_support::fixture::{Fixture, Watches};
use fixture::Stanza;

const C0: &str = "kubernetes cluster.local in-addr.arpa ip6.arpa";
const C2: &str = "kubernetes cluster.local in-addr.arpa ip6.arpa {\npods verified\n}";

async fn ask(stanza: &Stanza, name: &str, qtype: RecordType) -> (ResponseCode, Vec<String>) {
    let (response, _) = stanza.ask(&query(name, qtype).build()).await;
    (response.rcode, rendered(response.answers.records()))
}

fn service(json: serde_json::Value) -> Service {
    serde_json::from_value(json).unwrap()
}

#[tokio::test]
async fn events_and_relists_show_in_answers() {
    let stanza = Stanza::new(C0, &["10.244.0.53"], true);
    let fixture = Fixture::set_k();
    let name = "svc1.testns.svc.cluster.local.";

    // An update moves the answer and the PTR index.
    let mut moved = fixture.services[0].clone();
    let spec = moved.spec.as_mut().unwrap();
    spec.cluster_ip = Some("10.0.0.77".into());
    spec.cluster_ips = Some(vec!["10.0.0.77".into()]);
    moved.metadata.resource_version = Some("99".into());
    stanza.cache.services(Feed::Upsert(moved.clone()));
    assert_eq!(
        ask(&stanza, name, RecordType::A).await.1,
        [format!("{name} 5 A 10.0.0.77")]
    );
    let (rcode, _) = ask(&stanza, "1.0.0.10.in-addr.arpa.", RecordType::PTR).await;
    assert_eq!(rcode, ResponseCode::NXDomain);
    let (rcode, ptr) = ask(&stanza, "77.0.0.10.in-addr.arpa.", RecordType::PTR).await;
    assert_eq!((rcode, ptr.len()), (ResponseCode::NoError, 1));

    // A re-list that no longer mentions svc1: it answers until the listing completes.
    stanza.cache.services(Feed::Begin);
    for svc in fixture.services.iter().skip(1) {
        stanza.cache.services(Feed::Upsert(svc.clone()));
    }
    assert_eq!(
        ask(&stanza, name, RecordType::A).await.0,
        ResponseCode::NoError
    );
    stanza.cache.services(Feed::Synced);
    assert_eq!(
        ask(&stanza, name, RecordType::A).await.0,
        ResponseCode::NXDomain
    );
    assert_eq!(
        ask(&stanza, "svc2.testns.svc.cluster.local.", RecordType::A)
            .await
            .0,
        ResponseCode::NoError
    );

    // Deleting one of hdls1's slices leaves only the other family.
    let v6 = fixture
        .endpoint_slices
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some("hdls1-v6"))
        .unwrap();
    stanza.cache.endpoint_slices(Feed::Delete(v6.clone()));
    let (rcode, answers) = ask(&stanza, "hdls1.testns.svc.cluster.local.", RecordType::AAAA).await;
    assert_eq!((rcode, answers.len()), (ResponseCode::NoError, 0));
    // The namespace going away makes its names NXDOMAIN.
    let testns = fixture.namespaces[1].clone();
    stanza.cache.namespaces(Feed::Delete(testns));
    assert_eq!(
        ask(&stanza, "svc2.testns.svc.cluster.local.", RecordType::A)
            .await
            .0,
        ResponseCode::NXDomain
    );
}

#[tokio::test]
async fn positive_answers_before_the_first_sync() {
    // §4: answers are served from whatever the cache holds; only name errors become
    // SERVFAIL while unsynced.
    let stanza = Stanza::new(C0, &["10.244.0.53"], false);
    let fixture = Fixture::set_k();
    stanza
        .cache
        .namespaces(Feed::Upsert(fixture.namespaces[1].clone()));
    stanza
        .cache
        .services(Feed::Upsert(fixture.services[0].clone()));
    assert_eq!(
        ask(&stanza, "svc1.testns.svc.cluster.local.", RecordType::A).await,
        (
            ResponseCode::NoError,
            vec!["svc1.testns.svc.cluster.local. 5 A 10.0.0.1".to_string()]
        )
    );
    assert_eq!(
        ask(&stanza, "svc1.testns.svc.cluster.local.", RecordType::AAAA)
            .await
            .0,
        ResponseCode::NoError,
        "NODATA never turns into SERVFAIL"
    );
    assert_eq!(
        ask(&stanza, "svc0.testns.svc.cluster.local.", RecordType::A)
            .await
            .0,
        ResponseCode::ServFail
    );
    assert!(!stanza.plugin.ready());
    Fixture::set_k().feed(
        &*stanza.cache,
        Watches {
            endpoint_slices: true,
            pods: false,
        },
        None,
        None,
    );
    assert!(stanza.plugin.ready());
}

#[tokio::test]
async fn apex_ns_and_ns_dns_need_the_zone_in_lower_case() {
    // CoreDNS compares the lower-cased name with the zone as the client spelled it.
    let stanza = Stanza::new(C0, &["10.244.0.53"], true);
    let (response, _) = stanza
        .ask(&query("Cluster.Local.", RecordType::NS).build())
        .await;
    assert_eq!(response.rcode, ResponseCode::NoError);
    assert!(response.answers.is_empty());
    assert_eq!(
        ask(&stanza, "NS.DNS.cluster.local.", RecordType::A).await.1,
        ["NS.DNS.cluster.local. 5 A 10.96.0.10"]
    );
    assert_eq!(
        ask(&stanza, "ns.dns.CLUSTER.local.", RecordType::A).await.0,
        ResponseCode::NXDomain
    );
    // ns.dns: TXT and PTR are name errors, other types NODATA (§2).
    assert_eq!(
        ask(&stanza, "ns.dns.cluster.local.", RecordType::TXT)
            .await
            .0,
        ResponseCode::NXDomain
    );
    assert_eq!(
        ask(&stanza, "ns.dns.cluster.local.", RecordType::PTR)
            .await
            .0,
        ResponseCode::NXDomain
    );
    assert_eq!(
        ask(&stanza, "ns.dns.cluster.local.", RecordType::MX).await,
        (ResponseCode::NoError, vec![])
    );
    assert_eq!(
        ask(&stanza, "ns.dns.cluster.local.", RecordType::AAAA).await,
        (ResponseCode::NoError, vec![])
    );
}

/// A self-lookup that produces no message for `gone.example.`, a truncated NXDOMAIN for
/// every other name.
fn odd_self_lookup() -> StubResolver {
    let truncated = StubAnswer::rcode(ResponseCode::NXDomain).truncated();
    StubResolver::otherwise(Some(truncated)).row("gone.example.", None, None)
}

#[tokio::test]
async fn external_names_follow_the_self_lookup_rules() {
    let stanza = Stanza::new(C0, &["10.244.0.53"], true);
    let add = |name: &str, target: &str| {
        stanza
            .cache
            .services(Feed::Upsert(service(serde_json::json!({
                "metadata": {"name": name, "namespace": "testns"},
                "spec": {"type": "ExternalName", "externalName": target}
            }))));
    };
    add("gone", "gone.example.");
    add("trunc", "trunc.example.");
    add("loop", "loop.testns.svc.cluster.local.");
    add("below", "x.below.testns.svc.cluster.local.");
    add("hop1", "hop2.testns.svc.cluster.local.");
    add("hop2", "hop1.testns.svc.cluster.local.");
    add("missing", "nothing.testns.svc.cluster.local.");
    add("literal", "192.0.2.1");
    // Rebind the upstream of a fresh stanza to the odd resolver.
    let odd = {
        let stanza =
            Stanza::with_resolver(C0, &["10.244.0.53"], true, &[], Arc::new(odd_self_lookup()));
        let cache = stanza.cache;
        for (name, target) in [("gone", "gone.example."), ("trunc", "trunc.example.")] {
            cache.services(Feed::Upsert(service(serde_json::json!({
                "metadata": {"name": name, "namespace": "testns"},
                "spec": {"type": "ExternalName", "externalName": target}
            }))));
        }
        stanza.plugin
    };
    let run = |name: &str| {
        let req = query(name, RecordType::A).build();
        let plugin = odd.clone();
        async move {
            plugin::test_util::serve(plugin, plugin::test_util::Recorder::new(), &req)
                .await
                .unwrap()
        }
    };
    // No message at all: the CNAME is dropped (NODATA).
    let gone = run("gone.testns.svc.cluster.local.").await;
    assert_eq!((gone.rcode, gone.answers.len()), (ResponseCode::NoError, 0));
    assert_eq!(gone.authorities.len(), 1);
    // NXDOMAIN from the lookup: NOERROR with the CNAME, TC copied (Q8).
    let trunc = run("trunc.testns.svc.cluster.local.").await;
    assert_eq!(trunc.rcode, ResponseCode::NoError);
    assert!(trunc.flags.truncated);
    assert_eq!(
        rendered(trunc.answers.records()),
        ["trunc.testns.svc.cluster.local. 5 CNAME trunc.example."]
    );

    let nodata = (ResponseCode::NoError, vec![]);
    // A target equal to or below the name, a loop, an in-zone target that does not resolve:
    // NODATA, not NXDOMAIN.
    assert_eq!(
        ask(&stanza, "loop.testns.svc.cluster.local.", RecordType::A).await,
        nodata
    );
    assert_eq!(
        ask(&stanza, "below.testns.svc.cluster.local.", RecordType::A).await,
        nodata
    );
    assert_eq!(
        ask(&stanza, "missing.testns.svc.cluster.local.", RecordType::A).await,
        nodata
    );
    let (rcode, chain) = ask(&stanza, "hop1.testns.svc.cluster.local.", RecordType::A).await;
    assert_eq!((rcode, chain), nodata);
    // An IP literal as external name yields nothing: NXDOMAIN.
    assert_eq!(
        ask(&stanza, "literal.testns.svc.cluster.local.", RecordType::A)
            .await
            .0,
        ResponseCode::NXDomain
    );
    // AAAA through an out-of-zone target: CNAME + the (empty) lookup answer.
    assert_eq!(
        ask(
            &stanza,
            "external.testns.svc.cluster.local.",
            RecordType::AAAA
        )
        .await,
        (
            ResponseCode::NoError,
            vec!["external.testns.svc.cluster.local. 5 CNAME ext.interwebs.test.".to_string()]
        )
    );
}

#[tokio::test]
async fn search_path_for_autopath() {
    let stanza = Stanza::with_search(C2, &["10.244.0.53"], true, &["example.internal."]);
    let search = stanza.search_path.clone().expect("published");
    let from_pod = query("svc1.testns.podns.svc.cluster.local.", RecordType::A).build();
    assert_eq!(
        search.search_path(&from_pod),
        Some(vec![
            "podns.svc.cluster.local.".to_string(),
            "svc.cluster.local.".to_string(),
            "cluster.local.".to_string(),
            "example.internal.".to_string(),
            String::new(),
        ])
    );
    let stranger = query("svc1.testns.podns.svc.cluster.local.", RecordType::A)
        .client("10.99.0.1:5353")
        .build();
    assert_eq!(search.search_path(&stranger), None);
    let outside = query("example.org.", RecordType::A).build();
    assert_eq!(search.search_path(&outside), None);
    // Without `pods verified` autopath does nothing (T110).
    let insecure = Stanza::new(
        "kubernetes cluster.local {\npods insecure\n}",
        &["10.244.0.53"],
        true,
    );
    assert_eq!(insecure.search_path.unwrap().search_path(&from_pod), None);
}

#[tokio::test]
async fn cluster_view_for_k8s_external() {
    let stanza = Stanza::new(C0, &["10.244.0.53"], true);
    let view = stanza.view.clone().expect("published");
    assert!(view.synced());
    assert_eq!(view.ttl(), 5);
    assert!(view.namespace_exposed("testns"));
    assert!(!view.namespace_exposed("ghostns"));
    let ext = view.service("testns", "svc-ext").unwrap();
    assert_eq!(ext.external.len(), 1);
    assert!(view.service("testns", "nope").is_none());
    let dup = view.endpoints("testns", "hdls1", "dup-name", "", "");
    let mut addresses: Vec<String> = dup.iter().map(|e| e.address.to_string()).collect();
    addresses.sort();
    assert_eq!(addresses, ["172.0.0.4", "172.0.0.5"]);
    assert_eq!(
        view.endpoints("testns", "hdls1", "", "http", "tcp").len(),
        6
    );
    assert!(
        view.endpoints("testns", "hdls1", "", "https", "")
            .is_empty()
    );
    let by_ip = view.services_by_external_address("1.2.3.4".parse().unwrap());
    assert_eq!(by_ip.len(), 1);
    assert_eq!(&*by_ip[0].name, "svc-ext");
    let fronting = view.fronting();
    assert_eq!(fronting.services.len(), 1);
    assert_eq!(&*fronting.services[0].service.name, "kube-dns");
    assert_eq!(fronting.services[0].endpoints.len(), 1);
    // The external clock moves on a Service update that changes external addresses only.
    let before = view.external_serial();
    assert_eq!(before, 0, "adds do not move it (Q13)");
    let mut changed = Fixture::set_k().services[16].clone();
    assert_eq!(changed.metadata.name.as_deref(), Some("svc-ext"));
    changed.spec.as_mut().unwrap().external_ips = Some(vec!["1.2.3.5".into()]);
    changed.metadata.resource_version = Some("1000".into());
    stanza.cache.services(Feed::Upsert(changed));
    assert_ne!(view.external_serial(), 0);
}
