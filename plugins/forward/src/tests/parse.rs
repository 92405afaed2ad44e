//! Option parsing as a table of Corefile snippets (plugins-resolution.md §1.1–§1.4, §1.13,
//! F20, F21).

use std::time::Duration;

use plugin::test_util::{TestBlock, check_chain_setup, dispenser};

use super::harness::TempFile;
use crate::policy::Policy;
use crate::upstream_spec::Protocol;
use crate::{ForwardConfig, parse, setup};

fn one(corefile: &str) -> ForwardConfig {
    let mut configs = parse(&mut dispenser(corefile)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(configs.len(), 1);
    configs.remove(0)
}

#[tokio::test]
async fn snippets_accepted_and_rejected_like_coredns() {
    let sixteen: Vec<String> = (1..=16).map(|i| format!("10.0.0.{i}")).collect();
    let too_many = format!("forward . {}", sixteen.join(" "));
    let empty_file = TempFile::new("# nothing\nsearch example.org\n");
    let only_empty = format!("forward . {}", empty_file.path());
    let all_options = "forward . 127.0.0.1 {\nexcept a.example b.example\nforce_tcp\nprefer_udp\nexpire 5s\nmax_age 10s\nmax_idle_conns 4\nread_timeout 1s\nmax_fails 3\nmax_connect_attempts 0\ndoh_method GET\ntls\ntls_servername dns.test\npolicy round_robin\nhealth_check 1s no_rec domain example.org\nmax_concurrent 100\nnext NXDOMAIN servfail\nnext_on_nodata\nfailfast_all_unhealthy_upstreams\nfailover SERVFAIL REFUSED\nsource_address 127.0.0.1\nresolver 127.0.0.1 127.0.0.1:5353\n}";
    let cases: Vec<(&str, Result<(), &str>)> = vec![
        ("forward . 127.0.0.1", Ok(())),
        (
            "forward example.org 127.0.0.1:5353 [::1]:53 tls://127.0.0.1%dns.test",
            Ok(()),
        ),
        (all_options, Ok(())),
        (
            "forward",
            Err(
                "Corefile:1 - Error during parsing: Wrong argument count or unexpected line ending after 'forward'",
            ),
        ),
        (
            "forward .",
            Err(
                "Corefile:1 - Error during parsing: Wrong argument count or unexpected line ending after '.'",
            ),
        ),
        (
            "forward 10.0.0.0/33 127.0.0.1",
            Err("unable to normalize '10.0.0.0/33'"),
        ),
        // F21
        (
            "forward . https://1.1.1.1/dns-query",
            Err(
                "paths are not allowed in HTTPS upstream addresses (the /dns-query path is used by default): https://1.1.1.1/dns-query",
            ),
        ),
        (too_many.as_str(), Err("more than 15 TOs configured: 16")),
        (
            "forward . tls://1.1.1.1%a {\ntls_servername b\n}",
            Err(
                "both forward ('b') and proxy level ('a') TLS servernames are set for upstream proxy 'tls://1.1.1.1:853'",
            ),
        ),
        (
            "forward . 1.1.1.1 {\nfailover NOERROR\n}",
            Err("NoError cannot be used in failover"),
        ),
        // §1.13
        (
            "forward . 1.1.1.1 {\nnext FOO\n}",
            Err("FOO is not a valid rcode"),
        ),
        (
            "forward . 1.1.1.1 {\nfailover bogus\n}",
            Err("bogus is not a valid rcode"),
        ),
        (
            "forward . 1.1.1.1 {\nexpire -1s\n}",
            Err("expire can't be negative: -1s"),
        ),
        (
            "forward . 1.1.1.1 {\nmax_age -2s\n}",
            Err("max_age can't be negative: -2s"),
        ),
        (
            "forward . 1.1.1.1 {\nmax_idle_conns -1\n}",
            Err("max_idle_conns can't be negative: -1"),
        ),
        (
            "forward . 1.1.1.1 {\nmax_concurrent -5\n}",
            Err("max_concurrent can't be negative: -5"),
        ),
        (
            "forward . 1.1.1.1 {\nhealth_check -1s\n}",
            Err("health_check can't be negative: -1000000000"),
        ),
        (
            "forward . 1.1.1.1 {\nread_timeout 0\n}",
            Err("read_timeout must be positive: 0s"),
        ),
        (
            "forward . 1.1.1.1 {\nread_timeout -1s\n}",
            Err("read_timeout must be positive: -1s"),
        ),
        (
            "forward . 1.1.1.1 {\nmax_age 5s\n}",
            Err("max_age (5s) must not be less than expire (10s)"),
        ),
        (
            "forward . 1.1.1.1 {\nhealth_check 1s bogus\n}",
            Err("health_check: unknown option bogus"),
        ),
        (
            "forward . 1.1.1.1 {\nhealth_check 1s domain\n}",
            Err(
                "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'domain'",
            ),
        ),
        (
            "forward . 1.1.1.1 {\nhealth_check 1s domain a..b\n}",
            Err("health_check: invalid domain name a..b"),
        ),
        (
            "forward . 1.1.1.1 {\nsource_address x\n}",
            Err("Corefile:2 - Error during parsing: invalid IP address: x"),
        ),
        (
            "forward . 1.1.1.1 {\nresolver 1.1.1.1 nope\n}",
            Err("resolver must be an IP address or IP:port: \"nope\""),
        ),
        (
            "forward . 1.1.1.1 {\nbogus\n}",
            Err("Corefile:2 - Error during parsing: unknown property 'bogus'"),
        ),
        (
            "forward . 1.1.1.1 {\npolicy bad\n}",
            Err("Corefile:2 - Error during parsing: unknown policy 'bad'"),
        ),
        (
            "forward . 1.1.1.1 {\nmax_fails x\n}",
            Err("strconv.ParseUint: parsing \"x\": invalid syntax"),
        ),
        (
            "forward . 1.1.1.1 {\nmax_connect_attempts 99999999999\n}",
            Err("strconv.ParseUint: parsing \"99999999999\": value out of range"),
        ),
        (
            "forward . 1.1.1.1 {\ndoh_method PUT\n}",
            Err("doh_method must be either POST or GET"),
        ),
        (
            "forward . 1.1.1.1 {\nforce_tcp extra\n}",
            Err(
                "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'extra'",
            ),
        ),
        (
            "forward . 1.1.1.1 {\ntls a b c d\n}",
            Err(
                "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'd'",
            ),
        ),
        (
            "forward . 1.1.1.1 {\ntls /no/such/ca.pem\n}",
            Err("could not read /no/such/ca.pem: No such file or directory (os error 2)"),
        ),
        (
            "forward . grpc://1.2.3.4",
            Err("'grpc' is not supported as a destination protocol in forward: grpc://1.2.3.4"),
        ),
        (
            "forward . https://1.2.3.4",
            Err(
                "'https' upstreams (DNS over HTTPS) are not supported by this build: https://1.2.3.4",
            ),
        ),
        (
            only_empty.as_str(),
            Err("no valid upstream addresses found"),
        ),
        (
            "forward . /no/such/file",
            Err("not an IP address, file, or valid domain: \"/no/such/file\""),
        ),
    ];
    check_chain_setup(&cases, setup);
}

#[tokio::test]
async fn each_line_is_an_instance() {
    let mut t = TestBlock::new(&["."]);
    t.setup("forward example.org 127.0.0.1\nforward . 127.0.0.2", setup)
        .unwrap();
    let names: Vec<&str> = t.block.plugins.iter().map(|p| p.name()).collect();
    assert_eq!(names, ["forward", "forward"]);
}

#[test]
fn defaults() {
    let c = one("forward . 127.0.0.1 127.0.0.2");
    assert_eq!(c.from, ".");
    assert_eq!(c.expire, Duration::from_secs(10));
    assert_eq!(c.max_age, Duration::ZERO);
    assert_eq!(c.read_timeout, Duration::from_secs(2));
    assert_eq!(c.max_fails, 2);
    assert_eq!(c.connect_attempt_cap(), 4);
    assert_eq!(c.policy, Policy::Random);
    assert_eq!(c.health_check.interval, Duration::from_millis(500));
    assert!(c.health_check.recursion_desired);
    assert_eq!(c.health_check.domain, ".");
    assert_eq!(c.max_concurrent, 0);
}

#[test]
fn options_land_in_the_config() {
    let c = one(
        "forward Example.ORG 127.0.0.1 {\nexcept Int.Example.ORG\nhealth_check 100ms no_rec domain Example.NET\nnext nxdomain\nfailover SERVFAIL\nmax_connect_attempts 0\npolicy sequential\ntls_servername dns.test\n}",
    );
    assert_eq!(c.from, "example.org.");
    assert_eq!(c.except, ["int.example.org."]);
    assert_eq!(c.health_check.interval, Duration::from_millis(100));
    assert!(!c.health_check.recursion_desired);
    assert_eq!(c.health_check.domain, "example.net.");
    assert_eq!(c.next, [3]);
    assert_eq!(c.failover, [2]);
    assert_eq!(c.connect_attempt_cap(), 0);
    assert_eq!(c.policy, Policy::Sequential);
    assert_eq!(c.tls_servername.as_deref(), Some("dns.test"));
}

/// F20, and duplicates collapsing across a file and an address.
#[test]
fn f20_resolv_conf_upstreams() {
    let rc = TempFile::new(
        "# c\nsearch x\nnameserver 10.0.0.1\nnameserver fe80::1%eth0 # z\noptions ndots:5",
    );
    let c = one(&format!(
        "forward . {} 10.0.0.1:53 tls://10.0.0.2",
        rc.path()
    ));
    let upstreams: Vec<(String, Protocol)> = c
        .upstreams
        .iter()
        .map(|u| (u.addr.to_string(), u.protocol))
        .collect();
    assert_eq!(
        upstreams,
        [
            ("10.0.0.1:53".to_string(), Protocol::Dns),
            ("[fe80::1]:53".to_string(), Protocol::Dns),
            ("10.0.0.2:853".to_string(), Protocol::Tls),
        ]
    );
}

#[test]
fn cidr_from_keeps_the_first_zone() {
    assert_eq!(
        one("forward 10.0.0.0/15 127.0.0.1").from,
        "0.10.in-addr.arpa."
    );
}

/// Hostname upstreams: through the operating system, or through `resolver`.
#[tokio::test(flavor = "multi_thread")]
async fn hostname_upstreams() {
    let c = one("forward . localhost:5353");
    assert!(!c.upstreams.is_empty());
    assert!(
        c.upstreams
            .iter()
            .all(|u| u.addr.ip().is_loopback() && u.addr.port() == 5353)
    );

    let resolver = fake_upstream::FakeUpstream::start(fake_upstream::replies::echo_a(
        60,
        std::net::Ipv4Addr::new(192, 0, 2, 53),
    ))
    .await
    .unwrap();
    let corefile = format!(
        "forward . tls://ns.test%dns.test {{\nresolver {}\n}}",
        resolver.addr()
    );
    let c = tokio::task::spawn_blocking(move || one(&corefile))
        .await
        .unwrap();
    assert_eq!(c.upstreams.len(), 1);
    assert_eq!(c.upstreams[0].addr.to_string(), "192.0.2.53:853");
    assert_eq!(c.upstreams[0].protocol, Protocol::Tls);
    assert_eq!(c.upstreams[0].server_name.as_deref(), Some("dns.test"));
    assert!(
        resolver
            .seen()
            .iter()
            .any(|s| s.asks("ns.test.", hickory_proto::rr::RecordType::AAAA))
    );
}
