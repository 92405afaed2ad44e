//! Queries over UDP and TCP: whoami, routing between blocks, the header rules.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, RData, RecordType};

use crate::harness::*;

#[test]
fn whoami_answers_over_udp_and_tcp() {
    let server = Server::start(".:PORT {\n    whoami\n}\n");
    for (reply, proto) in [
        (server.udp("Whoami.Example.", RecordType::A), "_udp"),
        (server.tcp("whoami.example.", RecordType::A), "_tcp"),
    ] {
        assert_eq!(rcode(&reply), ResponseCode::NoError);
        assert!(reply.metadata.authoritative);
        assert!(reply.answers.is_empty());
        assert_eq!(reply.additionals.len(), 2);
        assert!(
            matches!(reply.additionals[0].data, RData::A(a) if a.0 == std::net::Ipv4Addr::LOCALHOST)
        );
        assert!(
            reply.additionals[1].name.to_string().starts_with(proto),
            "{}",
            reply.additionals[1].name
        );
    }
    // Case of the question is echoed.
    let reply = server.udp("Whoami.Example.", RecordType::A);
    assert_eq!(reply.queries[0].name().to_string(), "Whoami.Example.");
}

#[test]
fn plugins_run_in_registry_order_not_corefile_order() {
    // `any` runs before `whoami` in plugin.cfg even though it is written after it.
    let server = Server::start(".:PORT {\n    whoami\n    any\n}\n");
    let reply = server.udp("example.org.", RecordType::ANY);
    assert_eq!(reply.answers.len(), 1);
    assert_eq!(reply.answers[0].record_type(), RecordType::HINFO);
}

#[test]
fn most_specific_zone_handles_the_query() {
    let server = Server::start(
        "example.org:PORT {\n    any\n    whoami\n}\n.:PORT {\n    whoami\n}\nsub.example.org:PORT {\n}\n",
    );
    // www.EXAMPLE.org goes to example.org (which has `any`), org to `.` (which has not).
    assert_eq!(
        server
            .udp("www.EXAMPLE.org.", RecordType::ANY)
            .answers
            .len(),
        1
    );
    assert_eq!(server.udp("org.", RecordType::ANY).answers.len(), 0);
    // A block without query-handling plugins refuses, with no fallback to shorter zones.
    assert_eq!(
        rcode(&server.udp("a.sub.example.org.", RecordType::A)),
        ResponseCode::Refused
    );
}

#[test]
fn no_matching_zone_is_refused_and_other_ports_are_not_candidates() {
    let other = free_port();
    let server = Server::start(&format!(
        "example.org:PORT {{\n    whoami\n}}\n.:{other} {{\n    whoami\n}}\n"
    ));
    assert_eq!(
        rcode(&server.udp("example.com.", RecordType::A)),
        ResponseCode::Refused
    );
    assert_eq!(
        rcode(&server.udp("example.org.", RecordType::A)),
        ResponseCode::NoError
    );
}

#[test]
fn chaos_class_is_refused_without_chaos_or_forward() {
    let server = Server::start(".:PORT {\n    whoami\n}\n");
    let q = with_class(
        query_message("version.bind.", RecordType::TXT, 9),
        DNSClass::CH,
    );
    assert_eq!(rcode(&udp(server.addr(), &q)), ResponseCode::Refused);
}

#[test]
fn edns_is_echoed_with_the_query_size_and_do_bit() {
    let server = Server::start(".:PORT {\n    whoami\n}\n");
    let reply = udp(
        server.addr(),
        &with_edns(query_message("a.example.", RecordType::A, 5), 1400, 0, true),
    );
    let edns = reply.edns.expect("OPT echoed");
    assert_eq!(edns.max_payload(), 1400);
    assert!(edns.flags().dnssec_ok);
    assert_eq!(edns.version(), 0);
    // No OPT in the query, none in the reply.
    assert!(server.udp("a.example.", RecordType::A).edns.is_none());
}

#[test]
fn edns_version_above_zero_is_badvers() {
    let server = Server::start(".:PORT {\n    whoami\n}\n");
    let reply = udp(
        server.addr(),
        &with_edns(
            query_message("a.example.", RecordType::A, 5),
            1232,
            1,
            false,
        ),
    );
    let edns = reply.edns.as_ref().expect("OPT in BADVERS reply");
    assert_eq!(edns.version(), 0);
    assert_eq!(edns.rcode_high(), 1, "BADVERS is extended rcode 16");
    assert!(reply.additionals.is_empty());
}

#[test]
fn bufsize_clamps_what_the_client_advertised() {
    let server = Server::start(".:PORT {\n    bufsize 1000\n    whoami\n}\n");
    let reply = udp(
        server.addr(),
        &with_edns(
            query_message("a.example.", RecordType::A, 5),
            4096,
            0,
            false,
        ),
    );
    assert_eq!(reply.edns.unwrap().max_payload(), 1000);
}

#[test]
fn default_port_flag_applies_to_keys_without_port() {
    let port = free_port();
    let mut server = Server::spawn_with(
        ". {\n    whoami\n}\n",
        port,
        &["-dns.port", &port.to_string()],
    );
    assert!(wait_until(|| udp_exchange(
        server.addr(),
        &query_message("a.", RecordType::A, 1).to_vec().unwrap(),
        std::time::Duration::from_millis(200)
    )
    .is_some()));
    assert!(server.stdout.wait_for(&format!(".:{port}")));
    server.signal("KILL");
    server.wait_exit();
}

#[test]
fn bind_interface_with_except_listens_only_where_asked() {
    // `lo` has 127.0.0.1 and ::1; excepting ::1 leaves only the IPv4 address.
    let server =
        Server::start(".:PORT {\n    bind lo {\n        except ::1\n    }\n    whoami\n}\n");
    assert_eq!(
        rcode(&server.udp("bound.example.", RecordType::A)),
        ResponseCode::NoError
    );
    let v6 = std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, server.port));
    let socket = std::net::UdpSocket::bind("[::1]:0").expect("IPv6 loopback");
    socket
        .set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    let q = query_message("v6.example.", RecordType::A, 3)
        .to_vec()
        .unwrap();
    socket.send_to(&q, v6).unwrap();
    let mut buf = [0u8; 512];
    assert!(
        socket.recv_from(&mut buf).is_err(),
        "::1 was excepted, nothing listens there"
    );
    assert!(
        server
            .stdout
            .wait_for(&format!(".:{} on 127.0.0.1", server.port))
    );
}

#[test]
fn log_lines_use_coredns_default_format() {
    let server = Server::start(".:PORT {\n    log\n    whoami\n}\n");
    server.udp("Log.Example.", RecordType::AAAA);
    let pattern = regex::Regex::new(
        r#"\[INFO\] 127\.0\.0\.1:\d+ - \d+ "AAAA IN log\.example\. udp \d+ false 512" NOERROR qr,aa,rd \d+ \d+(\.\d+)?s\n"#,
    )
    .unwrap();
    assert!(
        wait_until(|| pattern.is_match(&server.stdout.text())),
        "{}",
        server.stdout.text()
    );
}

#[test]
fn chain_without_a_terminal_plugin_is_servfail_and_errors_logs_it() {
    // `any` passes non-ANY queries on; nothing follows it (CoreDNS's NextOrFailure).
    let server = Server::start(".:PORT {\n    errors\n    any\n}\n");
    assert_eq!(
        rcode(&server.udp("Nothing.Example.", RecordType::A)),
        ResponseCode::ServFail
    );
    assert!(
        server.stdout.wait_for(
            "[ERROR] plugin/errors: 2 nothing.example. A: plugin/any: no next plugin found\n"
        ),
        "{}",
        server.stdout.text()
    );
}
