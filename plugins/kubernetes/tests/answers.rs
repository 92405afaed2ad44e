//! The contract's cases T01–T94 and T112 (kubernetes.md §18.2) against the plugin over
//! fixture set K: rcode, answer, authority and additional sections, compared as text (record
//! order and SOA serials are not compared).

mod fixture;

use clusterdns_kubernetes::test_support::answers::{
    self, CaseSetting, NOERROR, NXDOMAIN, SERVFAIL, Want, answer, case, check_cases, nodata,
    nxdomain,
};
use hickory_proto::rr::RecordType;
use plugin::test_util::{Recorder, serve};

use fixture::Stanza;

/// A stanza of the table: its Corefile lines, the server's own addresses, and whether set K
/// was fed (false: the cache never synced and is empty, C9).
#[derive(Clone, Copy, Debug)]
struct Cfg {
    corefile: &'static str,
    own: &'static [&'static str],
    fed: bool,
}

impl CaseSetting for Cfg {
    const NEGATIVE_SOA: &'static str = SOA_CL;

    fn expand(text: &str) -> String {
        expand(text)
    }
}

/// A stanza on set K with the default own address.
const fn cfg(corefile: &'static str) -> Cfg {
    Cfg {
        corefile,
        own: OWN,
        fed: true,
    }
}

const C0: Cfg = cfg("kubernetes cluster.local in-addr.arpa ip6.arpa");
const C1: Cfg = cfg("kubernetes cluster.local in-addr.arpa ip6.arpa {\npods insecure\n}");
const C2: Cfg = cfg("kubernetes cluster.local in-addr.arpa ip6.arpa {\npods verified\n}");
const C3: Cfg = cfg("kubernetes cluster.local in-addr.arpa ip6.arpa {\nttl 30\n}");
const C3600: Cfg = cfg("kubernetes cluster.local in-addr.arpa ip6.arpa {\nttl 3600\n}");
const C4: Cfg =
    cfg("kubernetes cluster.local in-addr.arpa ip6.arpa {\nfallthrough in-addr.arpa ip6.arpa\n}");
const C5: Cfg = cfg("kubernetes cluster.local in-addr.arpa ip6.arpa {\nnamespaces testns\n}");
const C6: Cfg = cfg("kubernetes cluster.local in-addr.arpa ip6.arpa {\nignore empty_service\n}");
const C7: Cfg = cfg("kubernetes cluster.local in-addr.arpa ip6.arpa {\nnoendpoints\n}");
const C8: Cfg = cfg("kubernetes cluster.local in-addr.arpa ip6.arpa {\nendpoint_pod_names\n}");
/// C0 before the caches synced (C9's empty cache).
const C9: Cfg = Cfg { fed: false, ..C0 };
/// C9 with `fallthrough`.
const C9F: Cfg = Cfg {
    fed: false,
    ..cfg("kubernetes cluster.local in-addr.arpa ip6.arpa {\nfallthrough\n}")
};
const C10: Cfg =
    cfg("kubernetes cluster.local in-addr.arpa ip6.arpa {\nlabels k8s-app=kube-dns\n}");
const C11: Cfg =
    cfg("kubernetes cluster.local in-addr.arpa ip6.arpa {\nnamespace_labels team=a\n}");

const SOA_CL: &str =
    "cluster.local. 5 SOA ns.dns.cluster.local. hostmaster.cluster.local. * 7200 1800 86400 5";
const SOA_IN: &str =
    "in-addr.arpa. 5 SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. * 7200 1800 86400 5";
const OWN: &[&str] = &["10.244.0.53"];

type Case = answers::Case<Cfg>;

/// NXDOMAIN in a reverse zone.
const fn nxdomain_in(id: &'static str, cfg: Cfg, qname: &'static str, qtype: RecordType) -> Case {
    nxdomain(id, cfg, qname, qtype).with_authority(&[SOA_IN])
}

use RecordType::{A, AAAA, AXFR, CNAME, HINFO, MX, NS, PTR, SOA, SRV, TXT};

fn cases() -> Vec<Case> {
    vec![
        answer(
            "T01",
            C0,
            "dns-version.cluster.local.",
            TXT,
            &["dns-version.cluster.local. 28800 TXT \"1.1.0\""],
        ),
        nxdomain("T02", C0, "dns-version.cluster.local.", A),
        answer("T03", C0, "cluster.local.", SOA, &[SOA_CL]),
        case(
            "T04",
            C0,
            "cluster.local.",
            NS,
            NOERROR,
            &["cluster.local. 5 NS kube-dns.kube-system.svc.cluster.local."],
            &["kube-dns.kube-system.svc.cluster.local. 5 A 10.96.0.10"],
            &[],
        ),
        case(
            "T05",
            Cfg {
                own: &["192.0.2.10"],
                ..C0
            },
            "cluster.local.",
            NS,
            NOERROR,
            &["cluster.local. 5 NS ns.dns.cluster.local."],
            &["ns.dns.cluster.local. 5 A 192.0.2.10"],
            &[],
        ),
        answer(
            "T06",
            C0,
            "ns.dns.cluster.local.",
            A,
            &["ns.dns.cluster.local. 5 A 10.96.0.10"],
        ),
        nodata("T07", C0, "cluster.local.", A),
        nxdomain("T08", C0, "cluster.local.", TXT),
        nodata("T09a", C0, "svc.cluster.local.", A),
        nodata("T09b", C0, "pod.cluster.local.", A),
        nxdomain("T10", C0, "foo.cluster.local.", A),
        nodata("T11", C0, "svc0.t.", SOA),
        case(
            "T12",
            C0,
            "cluster.local.",
            AXFR,
            Want::Refused,
            &[],
            &[],
            &[],
        ),
        answer("T13", C0, "svc1.t.", A, &["svc1.t. 5 A 10.0.0.1"]),
        nodata("T14", C0, "svc1.t.", AAAA),
        case(
            "T15",
            C0,
            "svc1.t.",
            SRV,
            NOERROR,
            &["svc1.t. 5 SRV 0 100 80 svc1.t."],
            &["svc1.t. 5 A 10.0.0.1"],
            &[],
        ),
        case(
            "T16",
            C0,
            "_http._tcp.svc1.t.",
            SRV,
            NOERROR,
            &["_http._tcp.svc1.t. 5 SRV 0 100 80 svc1.t."],
            &["svc1.t. 5 A 10.0.0.1"],
            &[],
        ),
        nxdomain("T17a", C0, "_https._tcp.svc1.t.", SRV),
        nxdomain("T17b", C0, "_http._udp.svc1.t.", SRV),
        answer(
            "T18",
            C0,
            "_http._tcp.svc1.t.",
            A,
            &["_http._tcp.svc1.t. 5 A 10.0.0.1"],
        ),
        answer(
            "T19",
            C0,
            "http.tcp.svc1.t.",
            A,
            &["http.tcp.svc1.t. 5 A 10.0.0.1"],
        ),
        nxdomain("T20", C0, "_tcp.svc1.t.", SRV),
        nodata("T21a", C0, "svc1.t.", TXT),
        nodata("T21b", C0, "svc1.t.", PTR),
        nodata("T21c", C0, "svc1.t.", CNAME),
        nodata("T21d", C0, "svc1.t.", MX),
        nodata("T21e", C0, "svc1.t.", HINFO),
        nxdomain("T22a", C0, "svc0.t.", A),
        nxdomain("T22b", C0, "svc0.t.", TXT),
        nxdomain("T23", C0, "svc1.ghostns.svc.cluster.local.", A),
        nodata("T24", C0, "testns.svc.cluster.local.", A),
        nxdomain("T25", C0, "nsnoexist.svc.cluster.local.", A),
        nxdomain("T26", C0, "a.b.c.svc1.t.", A),
        answer(
            "T27",
            C0,
            "SvC1.TeStNs.SvC.cLuStEr.LoCaL.",
            A,
            &["SvC1.TeStNs.SvC.cLuStEr.LoCaL. 5 A 10.0.0.1"],
        ),
        case(
            "T28",
            C0,
            "_HtTp._TcP.sVc1.TeStNs.SvC.cLuStEr.LoCaL.",
            SRV,
            NOERROR,
            &[
                "_HtTp._TcP.sVc1.TeStNs.SvC.cLuStEr.LoCaL. 5 SRV 0 100 80 svc1.testns.svc.cLuStEr.LoCaL.",
            ],
            &["svc1.testns.svc.cLuStEr.LoCaL. 5 A 10.0.0.1"],
            &[],
        ),
        case(
            "T29",
            C0,
            "nope.testns.svc.ClUsTeR.lOcAl.",
            A,
            NXDOMAIN,
            &[],
            &[],
            &[
                "ClUsTeR.lOcAl. 5 SOA ns.dns.ClUsTeR.lOcAl. hostmaster.ClUsTeR.lOcAl. * 7200 1800 86400 5",
            ],
        ),
        answer(
            "T30a",
            C0,
            "svc6.t.",
            AAAA,
            &["svc6.t. 5 AAAA 1234:abcd::1"],
        ),
        nodata("T30b", C0, "svc6.t.", A),
        answer(
            "T31a",
            C0,
            "svc-dual-stack.t.",
            A,
            &["svc-dual-stack.t. 5 A 10.0.0.3"],
        ),
        answer(
            "T31b",
            C0,
            "svc-dual-stack.t.",
            AAAA,
            &["svc-dual-stack.t. 5 AAAA 10::3"],
        ),
        case(
            "T32",
            C0,
            "svc-dual-stack.t.",
            SRV,
            NOERROR,
            &["svc-dual-stack.t. 5 SRV 0 50 80 svc-dual-stack.t."],
            &[
                "svc-dual-stack.t. 5 A 10.0.0.3",
                "svc-dual-stack.t. 5 AAAA 10::3",
            ],
            &[],
        ),
        answer("T33", C0, "svcempty.t.", A, &["svcempty.t. 5 A 10.0.0.2"]),
        case(
            "T34",
            C0,
            "svc-multi.t.",
            SRV,
            NOERROR,
            &[
                "svc-multi.t. 5 SRV 0 50 80 svc-multi.t.",
                "svc-multi.t. 5 SRV 0 50 443 svc-multi.t.",
            ],
            &["svc-multi.t. 5 A 10.0.0.4"],
            &[],
        ),
        case(
            "T35",
            C0,
            "_https._tcp.svc-multi.t.",
            SRV,
            NOERROR,
            &["_https._tcp.svc-multi.t. 5 SRV 0 100 443 svc-multi.t."],
            &["svc-multi.t. 5 A 10.0.0.4"],
            &[],
        ),
        case(
            "T36",
            C0,
            "svc-unnamed.t.",
            SRV,
            NOERROR,
            &["svc-unnamed.t. 5 SRV 0 100 8080 svc-unnamed.t."],
            &["svc-unnamed.t. 5 A 10.0.0.5"],
            &[],
        ),
        nxdomain("T37", C0, "_http._tcp.svc-unnamed.t.", SRV),
        answer(
            "T38",
            C0,
            "ep1a.svc1.t.",
            A,
            &["ep1a.svc1.t. 5 A 172.0.0.1"],
        ),
        case(
            "T39",
            C0,
            "ep1a.svc1.t.",
            SRV,
            NOERROR,
            &["ep1a.svc1.t. 5 SRV 0 100 8080 ep1a.svc1.t."],
            &["ep1a.svc1.t. 5 A 172.0.0.1"],
            &[],
        ),
        nxdomain("T40", C0, "172-0-0-1.svc1.t.", A),
        answer(
            "T41",
            C0,
            "hdls1.t.",
            A,
            &[
                "hdls1.t. 5 A 172.0.0.2",
                "hdls1.t. 5 A 172.0.0.3",
                "hdls1.t. 5 A 172.0.0.4",
                "hdls1.t. 5 A 172.0.0.5",
            ],
        ),
        answer(
            "T42",
            C0,
            "hdls1.t.",
            AAAA,
            &[
                "hdls1.t. 5 AAAA 5678:abcd::1",
                "hdls1.t. 5 AAAA 5678:abcd::2",
            ],
        ),
        case(
            "T43",
            C0,
            "_http._tcp.hdls1.t.",
            SRV,
            NOERROR,
            &[
                "_http._tcp.hdls1.t. 5 SRV 0 16 80 172-0-0-2.hdls1.t.",
                "_http._tcp.hdls1.t. 5 SRV 0 16 80 172-0-0-3.hdls1.t.",
                "_http._tcp.hdls1.t. 5 SRV 0 16 80 dup-name.hdls1.t.",
                "_http._tcp.hdls1.t. 5 SRV 0 16 80 5678-abcd--1.hdls1.t.",
                "_http._tcp.hdls1.t. 5 SRV 0 16 80 5678-abcd--2.hdls1.t.",
            ],
            HDLS1_ADDITIONAL,
            &[],
        ),
        case(
            "T44",
            C0,
            "hdls1.t.",
            SRV,
            NOERROR,
            &[
                "hdls1.t. 5 SRV 0 16 80 172-0-0-2.hdls1.t.",
                "hdls1.t. 5 SRV 0 16 80 172-0-0-3.hdls1.t.",
                "hdls1.t. 5 SRV 0 16 80 dup-name.hdls1.t.",
                "hdls1.t. 5 SRV 0 16 80 5678-abcd--1.hdls1.t.",
                "hdls1.t. 5 SRV 0 16 80 5678-abcd--2.hdls1.t.",
            ],
            HDLS1_ADDITIONAL,
            &[],
        ),
        answer(
            "T45a",
            C0,
            "dup-name.hdls1.t.",
            A,
            &[
                "dup-name.hdls1.t. 5 A 172.0.0.4",
                "dup-name.hdls1.t. 5 A 172.0.0.5",
            ],
        ),
        nodata("T45b", C0, "dup-name.hdls1.t.", AAAA),
        answer(
            "T46",
            C0,
            "5678-abcd--1.hdls1.t.",
            AAAA,
            &["5678-abcd--1.hdls1.t. 5 AAAA 5678:abcd::1"],
        ),
        nxdomain("T47a", C0, "172-0-0-6.hdls1.t.", A),
        nxdomain("T47b", C0, "172-0-0-7.hdls1.t.", A),
        nxdomain("T47c", C0, "bogus.hdls1.t.", A),
        answer(
            "T48a",
            C0,
            "hdlsprtls.t.",
            A,
            &["hdlsprtls.t. 5 A 172.0.0.20"],
        ),
        nodata("T48b", C0, "hdlsprtls.t.", SRV),
        nxdomain("T49a", C0, "hdls-empty.t.", A),
        nxdomain("T49b", C0, "hdls-empty.t.", AAAA),
        nxdomain("T49c", C0, "hdls-empty.t.", SRV),
        answer(
            "T50a",
            C0,
            "web-0.web.t.",
            A,
            &["web-0.web.t. 5 A 10.1.0.5"],
        ),
        answer(
            "T50b",
            C0,
            "web-0.web.t.",
            AAAA,
            &["web-0.web.t. 5 AAAA fd00::5"],
        ),
        case(
            "T51",
            C0,
            "_http._tcp.web.t.",
            SRV,
            NOERROR,
            &["_http._tcp.web.t. 5 SRV 0 50 80 web-0.web.t."],
            &["web-0.web.t. 5 A 10.1.0.5", "web-0.web.t. 5 AAAA fd00::5"],
            &[],
        ),
        answer(
            "T52",
            C0,
            "external.t.",
            CNAME,
            &["external.t. 5 CNAME ext.interwebs.test."],
        ),
        answer(
            "T53",
            C0,
            "external.t.",
            A,
            &[
                "external.t. 5 CNAME ext.interwebs.test.",
                "ext.interwebs.test. 30 A 1.2.3.4",
            ],
        ),
        answer(
            "T54",
            C0,
            "external-to-service.t.",
            A,
            &[
                "external-to-service.t. 5 CNAME svc1.t.",
                "svc1.t. 5 A 10.0.0.1",
            ],
        ),
        nodata("T55a", C0, "external.t.", SRV),
        nodata("T55b", C0, "external.t.", TXT),
        nxdomain("T56a", C0, "_http._tcp.external.t.", SRV),
        nxdomain("T56b", C0, "endpoint.external.t.", CNAME),
        answer(
            "T57",
            C0,
            "1.0.0.10.in-addr.arpa.",
            PTR,
            &["1.0.0.10.in-addr.arpa. 5 PTR svc1.t."],
        ),
        answer("T58", C0, V6_DUAL_STACK, PTR, &[V6_DUAL_STACK_PTR]),
        answer(
            "T59",
            C0,
            "1.0.0.172.in-addr.arpa.",
            PTR,
            &["1.0.0.172.in-addr.arpa. 5 PTR ep1a.svc1.t."],
        ),
        answer(
            "T60",
            C0,
            "2.0.0.172.in-addr.arpa.",
            PTR,
            &[
                "2.0.0.172.in-addr.arpa. 5 PTR 172-0-0-2.hdls1.t.",
                "2.0.0.172.in-addr.arpa. 5 PTR 172-0-0-2.svc2.t.",
            ],
        ),
        answer(
            "T61",
            C0,
            "4.0.0.172.in-addr.arpa.",
            PTR,
            &["4.0.0.172.in-addr.arpa. 5 PTR dup-name.hdls1.t."],
        ),
        answer("T62", C0, V6_HDLS1, PTR, &[V6_HDLS1_PTR]),
        nxdomain_in("T63", C0, "6.0.0.172.in-addr.arpa.", PTR),
        nxdomain_in("T64", C0, "99.99.99.99.in-addr.arpa.", PTR),
        case(
            "T65",
            C4,
            "99.99.99.99.in-addr.arpa.",
            PTR,
            Want::Next,
            &[],
            &[],
            &[],
        ),
        nxdomain("T66", C4, "svc0.t.", A),
        nxdomain_in("T67a", C0, "10.in-addr.arpa.", PTR),
        nxdomain_in("T67b", C0, "svc1.testns.svc.in-addr.arpa.", A),
        nxdomain_in("T68", C2, "1.0.240.10.in-addr.arpa.", PTR),
        nxdomain("T69a", C0, "10-240-0-1.podns.pod.cluster.local.", A),
        nxdomain("T69b", C0, "podns.pod.cluster.local.", A),
        answer(
            "T70",
            C1,
            "10-240-0-1.podns.pod.cluster.local.",
            A,
            &["10-240-0-1.podns.pod.cluster.local. 5 A 10.240.0.1"],
        ),
        answer(
            "T71",
            C1,
            "172-0-0-2.podns.pod.cluster.local.",
            A,
            &["172-0-0-2.podns.pod.cluster.local. 5 A 172.0.0.2"],
        ),
        nxdomain("T72a", C1, "blah.podns.pod.cluster.local.", A),
        nxdomain("T72b", C1, "1-2-3-4.nsnoexist.pod.cluster.local.", A),
        nodata("T73", C1, "podns.pod.cluster.local.", A),
        answer(
            "T74a",
            C1,
            "fd00--1.podns.pod.cluster.local.",
            AAAA,
            &["fd00--1.podns.pod.cluster.local. 5 AAAA fd00::1"],
        ),
        nodata("T74b", C1, "1-2-3-4.podns.pod.cluster.local.", AAAA),
        answer(
            "T75",
            C1,
            "x.1-2-3-4.podns.pod.cluster.local.",
            A,
            &["x.1-2-3-4.podns.pod.cluster.local. 5 A 1.2.3.4"],
        ),
        answer(
            "T76",
            C2,
            "10-240-0-1.podns.pod.cluster.local.",
            A,
            &["10-240-0-1.podns.pod.cluster.local. 5 A 10.240.0.1"],
        ),
        nxdomain("T77a", C2, "10-240-0-1.testns.pod.cluster.local.", A),
        nxdomain("T77b", C2, "172-0-0-2.podns.pod.cluster.local.", A),
        nxdomain("T77c", C2, "10-240-0-2.podns.pod.cluster.local.", A),
        answer("T78a", C3, "svc1.t.", A, &["svc1.t. 30 A 10.0.0.1"]),
        case(
            "T78b",
            C3,
            "svc0.t.",
            A,
            NXDOMAIN,
            &[],
            &[],
            &[
                "cluster.local. 30 SOA ns.dns.cluster.local. hostmaster.cluster.local. * 7200 1800 86400 30",
            ],
        ),
        answer(
            "T78c",
            C3,
            "dns-version.cluster.local.",
            TXT,
            &["dns-version.cluster.local. 28800 TXT \"1.1.0\""],
        ),
        case(
            "T79",
            C3600,
            "svc0.t.",
            A,
            NXDOMAIN,
            &[],
            &[],
            &[
                "cluster.local. 300 SOA ns.dns.cluster.local. hostmaster.cluster.local. * 7200 1800 86400 3600",
            ],
        ),
        nxdomain("T80a", C5, "kube-dns.kube-system.svc.cluster.local.", A),
        nxdomain_in("T80b", C5, "10.0.96.10.in-addr.arpa.", PTR),
        nxdomain("T81", C6, "svcempty.t.", A),
        answer("T82a", C6, "svc1.t.", A, &["svc1.t. 5 A 10.0.0.1"]),
        answer(
            "T82b",
            C6,
            "external.t.",
            CNAME,
            &["external.t. 5 CNAME ext.interwebs.test."],
        ),
        nxdomain("T83a", C7, "hdls1.t.", A),
        nxdomain("T83b", C7, "ep1a.svc1.t.", A),
        nxdomain_in("T83c", C7, "2.0.0.172.in-addr.arpa.", PTR),
        answer("T84", C7, "svc1.t.", A, &["svc1.t. 5 A 10.0.0.1"]),
        case(
            "T85",
            C7,
            "cluster.local.",
            NS,
            NOERROR,
            &["cluster.local. 5 NS ns.dns.cluster.local."],
            &["ns.dns.cluster.local. 5 A 10.244.0.53"],
            &[],
        ),
        answer(
            "T86a",
            C8,
            "pn-pod-0.hdls-pn.t.",
            A,
            &["pn-pod-0.hdls-pn.t. 5 A 172.0.1.1"],
        ),
        nxdomain("T86b", C8, "172-0-1-1.hdls-pn.t.", A),
        answer(
            "T87a",
            C0,
            "172-0-1-1.hdls-pn.t.",
            A,
            &["172-0-1-1.hdls-pn.t. 5 A 172.0.1.1"],
        ),
        nxdomain("T87b", C0, "pn-pod-0.hdls-pn.t.", A),
        answer(
            "T88",
            C8,
            "1.1.0.172.in-addr.arpa.",
            PTR,
            &["1.1.0.172.in-addr.arpa. 5 PTR pn-pod-0.hdls-pn.t."],
        ),
        case("T89", C9, "svc1.t.", A, SERVFAIL, &[], &[], &[SOA_CL]),
        answer("T90a", C9, "cluster.local.", SOA, &[SOA_CL]),
        answer(
            "T90b",
            C9,
            "dns-version.cluster.local.",
            TXT,
            &["dns-version.cluster.local. 28800 TXT \"1.1.0\""],
        ),
        case("T91", C9F, "svc1.t.", A, Want::Next, &[], &[], &[]),
        answer(
            "T92a",
            C10,
            "kube-dns.kube-system.svc.cluster.local.",
            A,
            &["kube-dns.kube-system.svc.cluster.local. 5 A 10.96.0.10"],
        ),
        nxdomain("T92b", C10, "svc1.t.", A),
        answer("T93a", C11, "svc1.t.", A, &["svc1.t. 5 A 10.0.0.1"]),
        nxdomain("T93b", C11, "kube-dns.kube-system.svc.cluster.local.", A),
        answer(
            "T94",
            C11,
            "10.0.96.10.in-addr.arpa.",
            PTR,
            &["10.0.96.10.in-addr.arpa. 5 PTR kube-dns.kube-system.svc.cluster.local."],
        ),
        nxdomain_in("T112", C0, "1.0.0.10.in-addr.arpa.", A),
    ]
}

const HDLS1_ADDITIONAL: &[&str] = &[
    "172-0-0-2.hdls1.t. 5 A 172.0.0.2",
    "172-0-0-3.hdls1.t. 5 A 172.0.0.3",
    "dup-name.hdls1.t. 5 A 172.0.0.4",
    "dup-name.hdls1.t. 5 A 172.0.0.5",
    "5678-abcd--1.hdls1.t. 5 AAAA 5678:abcd::1",
    "5678-abcd--2.hdls1.t. 5 AAAA 5678:abcd::2",
];
const V6_DUAL_STACK: &str =
    "3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.ip6.arpa.";
const V6_DUAL_STACK_PTR: &str = "3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.ip6.arpa. 5 PTR svc-dual-stack.t.";
const V6_HDLS1: &str = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.8.7.6.5.ip6.arpa.";
const V6_HDLS1_PTR: &str = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.8.7.6.5.ip6.arpa. 5 PTR 5678-abcd--1.hdls1.t.";

/// Expands the contract's `t.` shorthand (`testns.svc.cluster.local.`).
fn expand(text: &str) -> String {
    let full = "testns.svc.cluster.local.";
    text.split(' ')
        .map(|word| match word.strip_suffix(".t.") {
            Some(head) => format!("{head}.{full}"),
            None if word == "t." => full.to_string(),
            None => word.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn contract_cases() {
    check_cases(cases(), "kubernetes", async |case: &Case, req| {
        let Cfg { corefile, own, fed } = case.setting;
        let stanza = Stanza::new(corefile, own, fed);
        let next = Recorder::new();
        let outcome = serve(stanza.plugin.clone(), next.clone(), req).await;
        let mut problems = Vec::new();
        // Handed on exactly once when the case wants it, else never.
        if next.calls() != usize::from(case.want == Want::Next) {
            problems.push(format!("next called {} times", next.calls()));
        }
        (outcome, problems)
    })
    .await;
}
