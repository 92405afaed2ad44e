//! autopath through the real binary: its Corefile errors, and a search list from a resolv.conf
//! counted in `coredns_autopath_success_total` (the kubernetes-backed cases T106–T111 run
//! where the kubernetes plugin is wired).

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use crate::harness::*;
use crate::startup_errors::start_error;

#[test]
fn corefile_errors_read_like_coredns() {
    let cases = [
        (
            ".:PORT {\n    autopath\n    whoami\n}\n",
            "plugin/autopath: no resolv-conf specified",
        ),
        (
            ".:PORT {\n    autopath missing.conf\n    whoami\n}\n",
            r#"plugin/autopath: failed to parse "missing.conf": open missing.conf: no such file or directory"#,
        ),
        // The named plugin is in the block but has no search path to give (checked once
        // the whole block is set up).
        (
            ".:PORT {\n    autopath @whoami\n    whoami\n}\n",
            "plugin/autopath: whoami does not implement the AutoPather interface",
        ),
    ];
    for (corefile, want) in cases {
        assert_eq!(start_error(corefile), want, "{corefile}");
    }
}

#[test]
fn a_resolv_conf_search_list_is_used_and_counted() {
    let files = temp_dir("autopath");
    let resolv = files.join("resolv.conf");
    std::fs::write(
        &resolv,
        "nameserver 10.0.0.10\nsearch Example.Internal other.test\n",
    )
    .unwrap();
    let metrics = format!("127.0.0.1:{}", free_port());
    let server = Server::start(&format!(
        ".:PORT {{\n    autopath {}\n    prometheus {metrics}\n    whoami\n}}\n",
        resolv.display()
    ));
    let series = format!(
        "coredns_autopath_success_total{{server=\"dns://:{}\"}}",
        server.port
    );
    let count = || {
        let (_, text) = http_get(&metrics, "/metrics").expect("metrics endpoint");
        text.lines()
            .find_map(|line| line.strip_prefix(&series).map(|v| v.trim().to_string()))
    };
    // Not at or below the first search domain: untouched, not counted.
    assert_eq!(
        rcode(&server.udp("www.elsewhere.test.", RecordType::A)),
        ResponseCode::NoError
    );
    assert_eq!(count(), None);
    // Below it: whoami answers the first try, which wins.
    let reply = server.udp("www.example.internal.", RecordType::A);
    assert_eq!(rcode(&reply), ResponseCode::NoError);
    assert_eq!(reply.queries[0].name().to_string(), "www.example.internal.");
    assert_eq!(count().as_deref(), Some("1"));
}
