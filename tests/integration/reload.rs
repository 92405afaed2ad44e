//! Hot reload: a changed Corefile swaps in without losing a query; a broken one keeps the old.

use std::net::{Ipv4Addr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

use crate::harness::*;

fn has_any_plugin(server: &Server) -> bool {
    server.udp("probe.example.", RecordType::ANY).answers.len() == 1
}

#[test]
fn changed_corefile_is_reloaded_and_broken_one_keeps_the_old_config() {
    let metrics = format!("127.0.0.1:{}", free_port());
    let base = format!(".:PORT {{\n    reload 2s 0\n    prometheus {metrics}\n    whoami\n}}\n");
    let server = Server::start(&base);
    assert!(
        server
            .stdout
            .wait_for("[INFO] plugin/reload: Running configuration SHA512 = ")
    );
    assert!(!has_any_plugin(&server));

    server.write_corefile(&format!(
        ".:PORT {{\n    reload 2s 0\n    prometheus {metrics}\n    any\n    whoami\n}}\n"
    ));
    assert!(
        server.stdout.wait_for("[INFO] Reloading complete"),
        "{}",
        server.stdout.text()
    );
    assert!(has_any_plugin(&server));
    let (_, text) = http_get(&metrics, "/metrics").unwrap();
    assert!(
        text.contains("coredns_reload_version_info{hash=\"sha512\",value=\""),
        "{text}"
    );

    // A plugin error: the reload fails, is counted, and the running config keeps answering.
    server.write_corefile(&format!(
        ".:PORT {{\n    reload 2s 0\n    prometheus {metrics}\n    whoami extra\n}}\n"
    ));
    assert!(
        server
            .stdout
            .wait_for("[ERROR] plugin/reload: Corefile changed but reload failed: plugin/whoami:")
    );
    assert!(has_any_plugin(&server));
    let (_, text) = http_get(&metrics, "/metrics").unwrap();
    assert_eq!(
        metric_value(&text, "coredns_reload_failed_total", &[]),
        Some(1.0)
    );

    // A syntax error is only a warning.
    server.write_corefile(".:PORT {\n    reload 2s 0\n    whoami\n");
    assert!(
        server
            .stdout
            .wait_for("[WARNING] plugin/reload: Corefile parse failed: ")
    );
    assert!(has_any_plugin(&server));
}

#[test]
fn sigusr1_reloads_without_a_change_check() {
    let server = Server::start(".:PORT {\n    whoami\n}\n");
    server.write_corefile(".:PORT {\n    any\n    whoami\n}\n");
    server.signal("USR1");
    assert!(server.stdout.wait_for("[INFO] SIGUSR1: Reloading"));
    assert!(wait_until(|| has_any_plugin(&server)));
    server.write_corefile(".:PORT {\n    nonsense\n}\n");
    server.signal("USR1");
    assert!(server.stdout.wait_for(
        "[ERROR] SIGUSR1: Corefile:2 - Error during parsing: Unknown directive 'nonsense'"
    ));
    assert!(has_any_plugin(&server));
}

/// Sends a bounded number of queries one after the other while the Corefile is rewritten
/// several times, and checks every single one got a NOERROR answer, and that `/health` and
/// `/ready` never refused a connection meanwhile (their listeners are not bounced).
#[test]
fn no_query_is_lost_or_servfail_across_reloads() {
    let health = format!("127.0.0.1:{}", free_port());
    let ready = format!("127.0.0.1:{}", free_port());
    let corefile = |extra: &str| {
        format!(
            ".:PORT {{\n    reload 2s 0\n    health {health}\n    ready {ready}\n{extra}    whoami\n}}\n"
        )
    };
    let server = Server::start(&corefile(""));
    let addr = server.addr();
    let stop = Arc::new(AtomicBool::new(false));
    let client = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
            socket
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            let mut buf = vec![0u8; 4096];
            let (mut sent, mut lost, mut bad) = (0u32, 0u32, 0u32);
            let deadline = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::SeqCst) && sent < 200_000 && Instant::now() < deadline {
                let id = (sent % 65_000) as u16;
                let q = query_message("loop.example.", RecordType::A, id)
                    .to_vec()
                    .unwrap();
                socket.send_to(&q, addr).unwrap();
                sent += 1;
                match socket.recv_from(&mut buf) {
                    Ok((n, _)) => {
                        let reply = Message::from_vec(&buf[..n]).unwrap();
                        if reply.metadata.id != id
                            || reply.metadata.response_code != ResponseCode::NoError
                        {
                            bad += 1;
                        }
                    }
                    Err(_) => lost += 1,
                }
            }
            (sent, lost, bad)
        })
    };
    let prober = {
        let (stop, health, ready) = (stop.clone(), health.clone(), ready.clone());
        std::thread::spawn(move || {
            let (mut probes, mut failed) = (0u32, Vec::new());
            let deadline = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                for (addr, path) in [(&health, "/health"), (&ready, "/ready")] {
                    probes += 1;
                    match http_get(addr, path) {
                        Some((200, _)) => {}
                        other => failed.push(format!("{path}: {other:?}")),
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            (probes, failed)
        })
    };
    for round in 0..3 {
        let extra = if round % 2 == 0 { "    any\n" } else { "" };
        server.write_corefile(&corefile(extra));
        let seen = server.stdout.text().matches("Reloading complete").count();
        assert!(wait_until(|| server
            .stdout
            .text()
            .matches("Reloading complete")
            .count()
            > seen));
    }
    stop.store(true, Ordering::SeqCst);
    let (sent, lost, bad) = client.join().unwrap();
    assert!(sent > 100, "the loop ran ({sent} queries)");
    assert_eq!((lost, bad), (0, 0), "{sent} queries sent");
    let (probes, failed) = prober.join().unwrap();
    assert!(probes > 10, "the prober ran ({probes} probes)");
    assert!(
        failed.is_empty(),
        "{} of {probes} probes failed: {failed:?}",
        failed.len()
    );
}

#[test]
fn reload_moves_listeners_and_a_busy_port_keeps_the_old_config() {
    let metrics = format!("127.0.0.1:{}", free_port());
    let server = Server::start(&format!(
        ".:PORT {{\n    reload 2s 0\n    prometheus {metrics}\n    whoami\n}}\n"
    ));
    let old = server.addr();

    // A new port that something else holds (without SO_REUSEPORT): binding fails, the reload
    // is counted as failed and the running listener keeps answering.
    let busy = free_port();
    let _holder_udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, busy)).unwrap();
    let _holder_tcp = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, busy)).unwrap();
    server.write_corefile(&format!(
        ".:{busy} {{\n    bind 127.0.0.1\n    reload 2s 0\n    prometheus {metrics}\n    whoami\n}}\n"
    ));
    assert!(
        server
            .stdout
            .wait_for("Corefile changed but reload failed: Listen: listen tcp 127.0.0.1:")
    );
    assert_eq!(
        rcode(&udp(old, &query_message("still.old.", RecordType::A, 1))),
        ResponseCode::NoError
    );

    // A free new port: the new listener answers, the old address is closed.
    let moved = free_port();
    server.write_corefile(&format!(
        ".:{moved} {{\n    reload 2s 0\n    prometheus {metrics}\n    whoami\n}}\n"
    ));
    assert!(server.stdout.wait_for("[INFO] Reloading complete"));
    let new = std::net::SocketAddr::from((Ipv4Addr::LOCALHOST, moved));
    assert_eq!(
        rcode(&udp(new, &query_message("moved.", RecordType::A, 2))),
        ResponseCode::NoError
    );
    let probe = query_message("gone.", RecordType::A, 3).to_vec().unwrap();
    assert!(wait_until(|| udp_exchange(
        old,
        &probe,
        Duration::from_millis(200)
    )
    .is_none()));
}
