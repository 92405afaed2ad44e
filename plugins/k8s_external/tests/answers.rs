//! The contract's k8s_external cases T95–T105, T113, T114 (kubernetes.md §18.2, configs X1
//! and X2 over fixture set K), and further cases for what §14 says beyond them: rcode, answer,
//! authority and additional sections, compared as text (record order and SOA serials are
//! not compared).

mod support;

use clusterdns_kubernetes::test_support::answers::{
    self, NOERROR, answer, case, check_cases, next, nodata, nxdomain, rendered,
};
use clusterdns_kubernetes::test_support::fixture::Fixture;
use hickory_proto::rr::RecordType;
use plugin::test_util::query;

use support::{Block, Setting, XSOA};

const C0: &str = "kubernetes cluster.local in-addr.arpa ip6.arpa";
const C3: &str = "kubernetes cluster.local in-addr.arpa ip6.arpa {\nttl 30\n}";
const OWN: &[&str] = &["10.244.0.53"];
/// An own address no EndpointSlice lists (CoreDNS outside the cluster).
const OUTSIDE: &[&str] = &["192.0.2.10"];

const fn setting(external: &'static str) -> Setting {
    Setting {
        kubernetes: C0,
        external,
        own: OWN,
        fed: true,
    }
}

const X1: Setting = setting("k8s_external example.com {\nheadless\n}");
const X2: Setting = setting("k8s_external example.com in-addr.arpa");
const X1F: Setting = setting("k8s_external example.com {\nheadless\nfallthrough\n}");
const X2F: Setting =
    setting("k8s_external example.com in-addr.arpa {\nfallthrough in-addr.arpa\n}");
/// X1 without `headless`.
const X0: Setting = setting("k8s_external example.com");
/// Two TTLs: kubernetes 30, k8s_external 7 (Q13).
const XT: Setting = Setting {
    kubernetes: C3,
    ..setting("k8s_external example.com {\nttl 7\n}")
};
/// X1 outside the cluster: the own address is in no slice.
const XO: Setting = Setting { own: OUTSIDE, ..X1 };
/// Another apex label.
const XA: Setting = Setting {
    own: OUTSIDE,
    ..setting("k8s_external example.com {\napex ns\n}")
};
/// X2 with the kubernetes stanza exposing only `kube-system`.
const X2N: Setting = Setting {
    kubernetes: "kubernetes cluster.local in-addr.arpa ip6.arpa {\nnamespaces kube-system\n}",
    ..X2
};
/// X1 before the caches synced (C9's empty cache).
const X9: Setting = Setting { fed: false, ..X1 };

const XSOA_IN: &str =
    "in-addr.arpa. 5 SOA ns1.dns.in-addr.arpa. hostmaster.dns.in-addr.arpa. * 7200 1800 86400 5";
const XSOA7: &str =
    "example.com. 7 SOA ns1.dns.example.com. hostmaster.dns.example.com. * 7200 1800 86400 7";

type Case = answers::Case<Setting>;

use RecordType::{A, AAAA, MX, NS, PTR, SOA, SRV, TXT};

fn cases() -> Vec<Case> {
    vec![
        // The contract's cases (§18.2).
        answer("T95", X1, "example.com.", SOA, &[XSOA]),
        case(
            "T96",
            X1,
            "example.com.",
            NS,
            NOERROR,
            &["example.com. 5 NS ns1.dns.example.com."],
            &[],
            &[],
        ),
        answer(
            "T97a",
            X1,
            "svc-ext.testns.example.com.",
            A,
            &["svc-ext.testns.example.com. 5 A 1.2.3.4"],
        ),
        nodata("T97b", X1, "svc-ext.testns.example.com.", AAAA),
        case(
            "T98",
            X1,
            "_http._tcp.svc-ext.testns.example.com.",
            SRV,
            NOERROR,
            &["_http._tcp.svc-ext.testns.example.com. 5 SRV 0 100 80 svc-ext.testns.example.com."],
            &["svc-ext.testns.example.com. 5 A 1.2.3.4"],
            &[],
        ),
        answer(
            "T99",
            X1,
            "svc-lb.testns.example.com.",
            A,
            &["svc-lb.testns.example.com. 5 A 2.3.4.5"],
        ),
        answer(
            "T100",
            X1,
            "svc-lbhost.testns.example.com.",
            A,
            &[
                "svc-lbhost.testns.example.com. 5 CNAME lb.cloud.test.",
                "lb.cloud.test. 30 A 5.6.7.8",
            ],
        ),
        nxdomain("T101a", X1, "svc1.testns.example.com.", A),
        nxdomain("T101b", X1, "svc-ext.nsnoexist.example.com.", A),
        answer(
            "T102a",
            X1,
            "hdls1.testns.example.com.",
            A,
            &[
                "hdls1.testns.example.com. 5 A 172.0.0.2",
                "hdls1.testns.example.com. 5 A 172.0.0.3",
                "hdls1.testns.example.com. 5 A 172.0.0.4",
                "hdls1.testns.example.com. 5 A 172.0.0.5",
            ],
        ),
        answer(
            "T102b",
            X1,
            "dup-name.hdls1.testns.example.com.",
            A,
            &[
                "dup-name.hdls1.testns.example.com. 5 A 172.0.0.4",
                "dup-name.hdls1.testns.example.com. 5 A 172.0.0.5",
            ],
        ),
        nodata("T103a", X1, "testns.example.com.", A),
        nodata("T103b", X1, "dns.example.com.", A),
        nodata("T103c", X1, "ns1.dns.example.com.", A),
        nxdomain("T104a", X1, "foo.dns.example.com.", A),
        nxdomain(
            "T104b",
            X1,
            "*._not-udp-or-tcp.svc-ext.testns.example.com.",
            SRV,
        ),
        answer(
            "T105",
            X2,
            "4.3.2.1.in-addr.arpa.",
            PTR,
            &["4.3.2.1.in-addr.arpa. 5 PTR svc-ext.testns.example.com."],
        ),
        answer(
            "T113",
            X1,
            "x.svc-ext.testns.example.com.",
            A,
            &["x.svc-ext.testns.example.com. 5 A 1.2.3.4"],
        ),
        next("T114", X1F, "unknown.testns.example.com.", A),
        // The apex and the name server subdomain.
        nodata("K01a", X1, "example.com.", AAAA),
        nodata("K01b", X1, "example.com.", TXT),
        nodata("K01c", X1, "dns.example.com.", SOA),
        nxdomain("K02a", X1, "ns2.dns.example.com.", A),
        nxdomain("K02b", X1, "a.ns1.dns.example.com.", A),
        // Sub-apex name errors never fall through (CoreDNS).
        nxdomain("K02c", X1F, "foo.dns.example.com.", A),
        case(
            "K03a",
            XO,
            "example.com.",
            NS,
            NOERROR,
            &["example.com. 5 NS ns1.dns.example.com."],
            &["ns1.dns.example.com. 5 A 192.0.2.10"],
            &[],
        ),
        answer(
            "K03b",
            XO,
            "ns1.dns.example.com.",
            A,
            &["ns1.dns.example.com. 5 A 192.0.2.10"],
        ),
        nodata("K03c", XO, "ns1.dns.example.com.", AAAA),
        nodata("K03d", XO, "ns1.dns.example.com.", TXT),
        // Built names use the zone as configured; glue and answer owners the query's spelling.
        case(
            "K04a",
            XO,
            "ExAmPlE.CoM.",
            NS,
            NOERROR,
            &["example.com. 5 NS ns1.dns.example.com."],
            &["ns1.dns.ExAmPlE.CoM. 5 A 192.0.2.10"],
            &[],
        ),
        answer(
            "K04b",
            X1,
            "SvC-ExT.TeStNs.ExAmPlE.CoM.",
            A,
            &["SvC-ExT.TeStNs.ExAmPlE.CoM. 5 A 1.2.3.4"],
        ),
        nxdomain("K04c", X1, "NoPe.TeStNs.ExAmPlE.CoM.", A),
        case(
            "K04d",
            X1,
            "_HtTp._TcP.sVc-ExT.testns.ExAmPlE.cOm.",
            SRV,
            NOERROR,
            &["_HtTp._TcP.sVc-ExT.testns.ExAmPlE.cOm. 5 SRV 0 100 80 svc-ext.testns.example.com."],
            &["svc-ext.testns.example.com. 5 A 1.2.3.4"],
            &[],
        ),
        answer(
            "K05a",
            XA,
            "example.com.",
            SOA,
            &[
                "example.com. 5 SOA ns1.ns.example.com. hostmaster.ns.example.com. * 7200 1800 86400 5",
            ],
        ),
        answer(
            "K05b",
            XA,
            "ns1.ns.example.com.",
            A,
            &["ns1.ns.example.com. 5 A 192.0.2.10"],
        ),
        // Other types on existing names; names that do not exist.
        nodata("K06a", X1, "svc-ext.testns.example.com.", TXT),
        nodata("K06b", X1, "svc-ext.testns.example.com.", MX),
        nodata("K06c", X1, "svc-ext.testns.example.com.", PTR),
        nxdomain("K06d", X1, "svc0.testns.example.com.", TXT),
        nxdomain("K06e", X1, "a.b.c.svc-ext.testns.example.com.", A),
        nxdomain("K06f", X1, "_https._tcp.svc-ext.testns.example.com.", SRV),
        case(
            "K07",
            X1,
            "svc-ext.testns.example.com.",
            SRV,
            NOERROR,
            &["svc-ext.testns.example.com. 5 SRV 0 100 80 svc-ext.testns.example.com."],
            &["svc-ext.testns.example.com. 5 A 1.2.3.4"],
            &[],
        ),
        // LoadBalancer hostnames: SRV targets the hostname, its addresses from self-lookups;
        // the CNAME stays when the lookup finds nothing.
        case(
            "K08a",
            X1,
            "svc-lbhost.testns.example.com.",
            SRV,
            NOERROR,
            &["svc-lbhost.testns.example.com. 5 SRV 0 100 80 lb.cloud.test."],
            &["lb.cloud.test. 30 A 5.6.7.8"],
            &[],
        ),
        answer(
            "K08b",
            X1,
            "svc-lbhost.testns.example.com.",
            AAAA,
            &["svc-lbhost.testns.example.com. 5 CNAME lb.cloud.test."],
        ),
        // `headless`: endpoint answers for Services without external addresses.
        case(
            "K09a",
            X1,
            "_http._tcp.hdls1.testns.example.com.",
            SRV,
            NOERROR,
            &[
                "_http._tcp.hdls1.testns.example.com. 5 SRV 0 16 80 172-0-0-2.hdls1.testns.example.com.",
                "_http._tcp.hdls1.testns.example.com. 5 SRV 0 16 80 172-0-0-3.hdls1.testns.example.com.",
                "_http._tcp.hdls1.testns.example.com. 5 SRV 0 16 80 5678-abcd--1.hdls1.testns.example.com.",
                "_http._tcp.hdls1.testns.example.com. 5 SRV 0 16 80 5678-abcd--2.hdls1.testns.example.com.",
                "_http._tcp.hdls1.testns.example.com. 5 SRV 0 16 80 dup-name.hdls1.testns.example.com.",
            ],
            &[
                "172-0-0-2.hdls1.testns.example.com. 5 A 172.0.0.2",
                "172-0-0-3.hdls1.testns.example.com. 5 A 172.0.0.3",
                "5678-abcd--1.hdls1.testns.example.com. 5 AAAA 5678:abcd::1",
                "5678-abcd--2.hdls1.testns.example.com. 5 AAAA 5678:abcd::2",
                "dup-name.hdls1.testns.example.com. 5 A 172.0.0.4",
                "dup-name.hdls1.testns.example.com. 5 A 172.0.0.5",
            ],
            &[],
        ),
        answer(
            "K09b",
            X1,
            "hdls1.testns.example.com.",
            AAAA,
            &[
                "hdls1.testns.example.com. 5 AAAA 5678:abcd::1",
                "hdls1.testns.example.com. 5 AAAA 5678:abcd::2",
            ],
        ),
        answer(
            "K09c",
            X1,
            "ep1a.svc1.testns.example.com.",
            A,
            &["ep1a.svc1.testns.example.com. 5 A 172.0.0.1"],
        ),
        nxdomain("K09d", X1, "hdls-empty.testns.example.com.", A),
        answer(
            "K09e",
            X1,
            "hdlsprtls.testns.example.com.",
            A,
            &["hdlsprtls.testns.example.com. 5 A 172.0.0.20"],
        ),
        nodata("K09f", X1, "hdlsprtls.testns.example.com.", SRV),
        nxdomain("K09g", X1, "bogus.hdls1.testns.example.com.", A),
        nxdomain("K10a", X0, "hdls1.testns.example.com.", A),
        nxdomain("K10b", X0, "ep1a.svc1.testns.example.com.", A),
        // Reverse zones.
        nxdomain("K11a", X2, "9.9.9.9.in-addr.arpa.", PTR).with_authority(&[XSOA_IN]),
        answer(
            "K11b",
            X2,
            "5.4.3.2.in-addr.arpa.",
            PTR,
            &["5.4.3.2.in-addr.arpa. 5 PTR svc-lb.testns.example.com."],
        ),
        nxdomain("K11c", X2, "4.3.2.1.in-addr.arpa.", A).with_authority(&[XSOA_IN]),
        nxdomain("K11d", X2, "1.in-addr.arpa.", PTR).with_authority(&[XSOA_IN]),
        next("K11e", X2F, "1.0.0.10.in-addr.arpa.", PTR),
        // The kubernetes `namespaces` list filters forward and reverse names.
        nxdomain("K11f", X2N, "4.3.2.1.in-addr.arpa.", PTR).with_authority(&[XSOA_IN]),
        nxdomain("K11g", X2N, "svc-ext.testns.example.com.", A),
        // Two TTLs (Q13): SRV and CNAME take the kubernetes ttl.
        case(
            "K12a",
            XT,
            "svc-ext.testns.example.com.",
            SRV,
            NOERROR,
            &["svc-ext.testns.example.com. 30 SRV 0 100 80 svc-ext.testns.example.com."],
            &["svc-ext.testns.example.com. 7 A 1.2.3.4"],
            &[],
        ),
        answer(
            "K12b",
            XT,
            "svc-lbhost.testns.example.com.",
            A,
            &[
                "svc-lbhost.testns.example.com. 30 CNAME lb.cloud.test.",
                "lb.cloud.test. 30 A 5.6.7.8",
            ],
        ),
        answer(
            "K12c",
            XT,
            "svc-ext.testns.example.com.",
            A,
            &["svc-ext.testns.example.com. 7 A 1.2.3.4"],
        ),
        nxdomain("K12d", XT, "svc0.testns.example.com.", A).with_authority(&[XSOA7]),
        // Before the caches synced: NXDOMAIN, never SERVFAIL.
        nxdomain("K13a", X9, "svc-ext.testns.example.com.", A),
        answer("K13b", X9, "example.com.", SOA, &[XSOA]),
        // Names outside the zones go on untouched.
        next("K14", X1, "svc1.testns.svc.cluster.local.", A),
    ]
}

#[tokio::test]
async fn contract_cases() {
    check_cases(
        cases(),
        clusterdns_k8s_external::NAME,
        async |case: &Case, req| (Block::new(case.setting).chain.serve(req).await, Vec::new()),
    )
    .await;
}

#[tokio::test]
async fn replies_are_ready_unless_a_hostname_is_looked_up() {
    let block = Block::new(X1);
    for (name, qtype, ready) in [
        ("svc-ext.testns.example.com.", A, true),
        ("svc-ext.testns.example.com.", SRV, true),
        ("example.com.", NS, true),
        ("nope.testns.example.com.", A, true),
        ("svc-lbhost.testns.example.com.", A, false),
        ("svc-lbhost.testns.example.com.", SRV, false),
    ] {
        let req = query(name, qtype).build();
        assert_eq!(block.chain.serve(&req).is_ready(), ready, "{name} {qtype}");
    }
}

/// The NS glue and `ns1.<apex>.<z>` come from the Services fronting the server (§14, §5.2).
#[tokio::test]
async fn name_server_addresses_follow_the_fronting_services() {
    use clusterdns_kubernetes::feed::{ClusterSink, Feed};

    async fn glue(block: &Block) -> Vec<String> {
        let req = query("example.com.", NS).build();
        rendered(block.ask(&req).await.additionals.records())
    }
    let fixture = Fixture::set_k();

    // kube-dns (fronting 10.244.0.53) gets external addresses.
    let mut kube_dns = fixture.service("kube-system", "kube-dns");
    kube_dns.metadata.resource_version = Some("900".into());
    kube_dns.spec.as_mut().unwrap().external_ips =
        Some(vec!["192.0.2.53".into(), "2001:db8::53".into()]);
    let block = Block::new(X1);
    block.cache.services(Feed::Upsert(kube_dns.clone()));
    assert_eq!(
        glue(&block).await,
        [
            "ns1.dns.example.com. 5 A 192.0.2.53",
            "ns1.dns.example.com. 5 AAAA 2001:db8::53"
        ]
    );
    let req = query("ns1.dns.example.com.", AAAA).build();
    assert_eq!(
        rendered(block.ask(&req).await.answers.records()),
        ["ns1.dns.example.com. 5 AAAA 2001:db8::53"]
    );

    // A headless kube-dns: with `headless`, its slice's endpoint addresses; without, its
    // external addresses (none).
    let mut headless = fixture.service("kube-system", "kube-dns");
    headless.metadata.resource_version = Some("901".into());
    let spec = headless.spec.as_mut().unwrap();
    spec.cluster_ip = Some("None".into());
    spec.cluster_ips = Some(vec!["None".into()]);
    let block = Block::new(X1);
    block.cache.services(Feed::Upsert(headless.clone()));
    assert_eq!(glue(&block).await, ["ns1.dns.example.com. 5 A 10.244.0.53"]);
    let block = Block::new(X0);
    block.cache.services(Feed::Upsert(headless));
    assert!(glue(&block).await.is_empty());
}

/// The SOA serial is the k8s_external clock: it moves when a Service's external addresses
/// change (§11.6), and is read per query.
#[tokio::test]
async fn the_soa_serial_follows_external_address_changes() {
    use clusterdns_kubernetes::feed::{ClusterSink, Feed};
    use hickory_proto::rr::RData;

    async fn serial(block: &Block) -> u32 {
        let req = query("example.com.", SOA).build();
        match &block.ask(&req).await.answers.records()[0].data {
            RData::SOA(soa) => soa.serial,
            other => panic!("{other:?}"),
        }
    }
    let block = Block::new(X1);
    let before = serial(&block).await;
    let mut svc = Fixture::set_k().service("testns", "svc-ext");
    svc.metadata.resource_version = Some("902".into());
    svc.spec.as_mut().unwrap().external_ips = Some(vec!["1.2.3.5".into()]);
    block.cache.services(Feed::Upsert(svc));
    let after = serial(&block).await;
    assert!(after > before, "serial {before} → {after}");
    assert!(after > 0);

    let req = query("svc-ext.testns.example.com.", A).build();
    assert_eq!(
        rendered(block.ask(&req).await.answers.records()),
        ["svc-ext.testns.example.com. 5 A 1.2.3.5"]
    );
}
