//! SIGTERM in CoreDNS's order: ready goes away first, health stays up through lameduck,
//! DNS answers until the end.

use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use crate::harness::*;

#[test]
fn sigterm_shuts_down_in_coredns_order_with_lameduck() {
    let health = format!("127.0.0.1:{}", free_port());
    let ready = format!("127.0.0.1:{}", free_port());
    let mut server = Server::start(&format!(
        ".:PORT {{\n    health {health} {{\n        lameduck 3s\n    }}\n    ready {ready}\n    whoami\n}}\n"
    ));
    assert_eq!(http_get(&ready, "/ready").map(|r| r.0), Some(200));
    server.signal("TERM");
    assert!(
        server
            .stdout
            .wait_for("[INFO] SIGTERM: Shutting down servers then terminating")
    );
    assert!(
        server
            .stdout
            .wait_for("[INFO] plugin/health: Going into lameduck mode for 3s")
    );
    // During lameduck: ready refuses connections, health still says OK, DNS still answers.
    assert!(wait_until(|| http_get(&ready, "/ready").is_none()));
    assert_eq!(http_get(&health, "/health"), Some((200, "OK".to_string())));
    assert_eq!(
        rcode(&server.udp("during.lameduck.", RecordType::A)),
        ResponseCode::NoError
    );
    assert_eq!(server.wait_exit(), Some(0));
    assert!(http_get(&health, "/health").is_none());
}

#[test]
fn sigquit_exits_at_once() {
    let mut server = Server::start(
        ".:PORT {\n    health 127.0.0.1:0 {\n        lameduck 30s\n    }\n    whoami\n}\n",
    );
    let started = std::time::Instant::now();
    server.signal("QUIT");
    assert_eq!(server.wait_exit(), Some(0));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "no lameduck on SIGQUIT"
    );
    assert!(
        server
            .stdout
            .text()
            .contains("[INFO] SIGQUIT: Quitting process immediately")
    );
}

#[test]
fn sighup_is_ignored() {
    let server = Server::start(".:PORT {\n    whoami\n}\n");
    server.signal("HUP");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        rcode(&server.udp("after.hup.", RecordType::A)),
        ResponseCode::NoError
    );
}

#[test]
fn sigint_shuts_down_and_a_second_one_forces_quit() {
    let mut server = Server::start(
        ".:PORT {\n    health 127.0.0.1:0 {\n        lameduck 20s\n    }\n    whoami\n}\n",
    );
    server.signal("INT");
    assert!(server.stdout.wait_for("[INFO] SIGINT: Shutting down"));
    assert!(server.stdout.wait_for("Going into lameduck mode for 20s"));
    server.signal("INT");
    assert_eq!(server.wait_exit(), Some(2));
    assert!(server.stdout.text().contains("[INFO] SIGINT: Force quit"));
}
