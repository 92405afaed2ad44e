//! kubeadm's Corefile, as `deploy/kubernetes/coredns.yaml` ships it, end to end: cluster names
//! from a fake API server, everything else forwarded to a fake upstream, cached (except
//! cluster.local), shuffled, and the loop probe passing (plugins-resolution.md §10.2). Only the
//! ports, the API server address and the upstream address are replaced for the test machine
//! (resolv.conf upstreams always use port 53, §1.3; its parsing has its own tests).

use std::net::Ipv4Addr;
use std::path::Path;

use fake_upstream::{Action, replies};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, Record, RecordType};

use crate::harness::*;
use crate::kubernetes::{Api, addresses, cluster_ip_service};

/// The Corefile of the ConfigMap in `deploy/kubernetes/coredns.yaml`.
fn shipped_corefile() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("deploy/kubernetes/coredns.yaml")).unwrap();
    let mut lines = manifest.lines().skip_while(|l| l.trim() != "Corefile: |");
    lines.next();
    lines
        .take_while(|l| l.starts_with("    ") || l.trim().is_empty())
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

const OUTSIDE: [Ipv4Addr; 4] = [
    Ipv4Addr::new(192, 0, 2, 1),
    Ipv4Addr::new(192, 0, 2, 2),
    Ipv4Addr::new(192, 0, 2, 3),
    Ipv4Addr::new(192, 0, 2, 4),
];

#[test]
fn kubeadm_corefile_serves_the_cluster_and_the_outside() {
    let corefile = shipped_corefile();
    assert!(
        corefile.contains("forward . /etc/resolv.conf"),
        "{corefile}"
    );
    let api = Api::start();
    api.apply(cluster_ip_service("nginx", "10.96.1.1"));
    let upstream = LocalUpstream::start(|seen| {
        let query = &seen.message;
        if seen.asks("www.example.com.", RecordType::A) {
            let mut reply = replies::reply(query);
            for ip in OUTSIDE {
                reply.add_answer(Record::from_rdata(
                    query.queries[0].name().clone(),
                    300,
                    RData::A(ip.into()),
                ));
            }
            Action::Reply(reply)
        } else {
            Action::Reply(replies::nxdomain_with_soa(query, 3600, 60))
        }
    });
    let dir = temp_dir("stock");
    let kubeconfig = api.kubeconfig(&dir);
    let corefile = corefile
        .replace(".:53", ".:PORT")
        .replace("health {", &format!("health 127.0.0.1:{} {{", free_port()))
        .replace("ready\n", &format!("ready 127.0.0.1:{}\n", free_port()))
        .replace(
            "prometheus :9153",
            &format!("prometheus 127.0.0.1:{}", free_port()),
        )
        .replace(
            "kubernetes cluster.local in-addr.arpa ip6.arpa {",
            &format!(
                "kubernetes cluster.local in-addr.arpa ip6.arpa {{\n   kubeconfig {kubeconfig}"
            ),
        )
        .replace(
            "forward . /etc/resolv.conf",
            &format!("forward . {}", upstream.addr()),
        );
    let server = Server::start(&corefile);

    // Cluster names come from the API server, with the Corefile's `ttl 30`.
    let nginx = server.udp("nginx.default.svc.cluster.local.", RecordType::A);
    assert_eq!(rcode(&nginx), ResponseCode::NoError, "{nginx}");
    assert_eq!(
        nginx.answers[0].data,
        RData::A(Ipv4Addr::new(10, 96, 1, 1).into())
    );
    assert_eq!(nginx.answers[0].ttl, 30);

    // `cache 30 { disable … cluster.local }`: a Service created after an NXDOMAIN is answered
    // as soon as it is programmed, not 30 s later.
    let later = "later.default.svc.cluster.local.";
    assert_eq!(
        rcode(&server.udp(later, RecordType::A)),
        ResponseCode::NXDomain
    );
    api.apply(cluster_ip_service("later", "10.96.1.2"));
    assert!(wait_until(|| {
        rcode(&server.udp(later, RecordType::A)) == ResponseCode::NoError
    }));

    // Outside names: forwarded once, then answered from the cache with TTLs capped at 30 and
    // counting down, AA set on hits; the addresses shuffled by loadbalance.
    let asked = |name: &str| {
        upstream
            .seen()
            .iter()
            .filter(|s| s.asks(name, RecordType::A))
            .count()
    };
    let first = server.udp("www.example.com.", RecordType::A);
    assert_eq!(first.answers.len(), 4);
    assert!(
        first.answers.iter().all(|r| r.ttl <= 30 && r.ttl >= 29),
        "{first}"
    );
    let mut leaders = std::collections::BTreeSet::new();
    for _ in 0..40 {
        let hit = server.udp("www.example.com.", RecordType::A);
        assert!(hit.metadata.authoritative, "a cache hit is authoritative");
        assert_eq!(addresses(&hit).len(), 4);
        if let RData::A(a) = &hit.answers[0].data {
            leaders.insert(a.0);
        }
    }
    assert_eq!(asked("www.example.com."), 1, "answered from the cache");
    assert!(leaders.len() > 1, "loadbalance shuffles: {leaders:?}");

    // NXDOMAIN from upstream: the SOA's TTL capped at 30, cached.
    let nx = server.udp("nothing.example.com.", RecordType::A);
    assert_eq!(rcode(&nx), ResponseCode::NXDomain);
    assert!(nx.authorities[0].ttl <= 30);
    server.udp("nothing.example.com.", RecordType::A);
    assert_eq!(asked("nothing.example.com."), 1);

    // The loop probe went through the chain to the upstream and came back: still serving.
    assert!(wait_until(|| upstream.seen().iter().any(|s| s
        .question()
        .is_some_and(|q| q.query_type() == RecordType::HINFO))));
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(
        rcode(&server.udp("www.example.com.", RecordType::A)),
        ResponseCode::NoError
    );
}
