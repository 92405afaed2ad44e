//! `loop` end to end (plugins-core.md, loop; issue #4 "Tests": an upstream that forwards back
//! to us): `. { loop; forward . UPSTREAM }` where UPSTREAM relays every query back to our
//! server exits with status 1 and the FATAL line; with a well-behaved upstream the server
//! keeps serving.

use std::net::{Ipv4Addr, SocketAddr};

use fake_upstream::{Action, replies};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use crate::harness::*;

/// A local fake upstream and what the loop tests look at.
struct Upstream {
    upstream: LocalUpstream,
}

impl Upstream {
    fn start(script: impl Fn(&fake_upstream::Seen) -> Action + Send + Sync + 'static) -> Self {
        Upstream {
            upstream: LocalUpstream::start(script),
        }
    }

    /// The HINFO queries it received: the loop probes forward passed on.
    fn probes(&self) -> Vec<String> {
        self.upstream
            .seen()
            .iter()
            .filter_map(|seen| seen.question())
            .filter(|q| q.query_type() == RecordType::HINFO)
            .map(|q| q.name().to_string())
            .collect()
    }
}

fn corefile(port: u16, upstream: SocketAddr) -> String {
    format!(".:{port} {{\n    loop\n    forward . {upstream}\n}}\n")
}

/// True for a probe name `<R1>.<R2>.` of the root zone.
fn is_probe_name(name: &str) -> bool {
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    name.ends_with('.')
        && labels.len() == 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn an_upstream_that_forwards_back_to_us_stops_the_server() {
    let port = free_port();
    let server_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let upstream = Upstream::start(move |_| Action::Relay(server_addr));
    let mut server = Server::spawn_with(&corefile(port, upstream.upstream.addr()), port, &[]);
    let status = server.wait_exit();
    let stdout = server.stdout.text();
    assert_eq!(
        status,
        Some(1),
        "exit status\nstdout:\n{stdout}\nstderr:\n{}",
        server.stderr.text()
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("[FATAL] plugin/loop: "))
        .unwrap_or_else(|| panic!("no FATAL line in:\n{stdout}"));
    // [FATAL] plugin/loop: Loop (CLIENT_IP:PORT -> :PORT) detected for zone ".", see
    // https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO PROBE"
    let rest = line
        .strip_prefix("[FATAL] plugin/loop: Loop (127.0.0.1:")
        .unwrap_or_else(|| panic!("{line}"));
    let (client_port, rest) = rest.split_once(' ').unwrap();
    client_port.parse::<u16>().expect("client port");
    let middle = format!(
        "-> :{port}) detected for zone \".\", see https://coredns.io/plugins/loop#troubleshooting. Query: \"HINFO "
    );
    let probe = rest
        .strip_prefix(&middle)
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{line}"));
    assert!(is_probe_name(probe), "{line}");
    // The probe reached the upstream (and came back through us) before the exit.
    assert!(upstream.probes().iter().any(|p| p == probe));
}

#[test]
fn a_well_behaved_upstream_keeps_the_server_running() {
    let upstream = Upstream::start(|seen| {
        Action::Reply(replies::with_rcode(&seen.message, ResponseCode::NXDomain))
    });
    let port = free_port();
    let mut server = Server::spawn_with(&corefile(port, upstream.upstream.addr()), port, &[]);
    // The probe went through us to the upstream, which answered it: detection is over.
    assert!(
        wait_until(|| upstream.probes().iter().any(|p| is_probe_name(p))),
        "no probe reached the upstream\nstdout:\n{}",
        server.stdout.text()
    );
    let reply = server.udp("www.example.org.", RecordType::A);
    assert_eq!(rcode(&reply), ResponseCode::NXDomain, "still serving");
    assert_eq!(server.child.try_wait().unwrap(), None, "still running");
    assert!(!server.stdout.text().contains("[FATAL]"));
}

#[test]
fn a_loop_introduced_by_a_reload_stops_the_server() {
    // The new configuration's probe goes out once it serves, so it passes through the new
    // chain (which forwards back to us), not through the one it replaced.
    let good = Upstream::start(|seen| {
        Action::Reply(replies::with_rcode(&seen.message, ResponseCode::NXDomain))
    });
    let port = free_port();
    let server_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let relay = Upstream::start(move |_| Action::Relay(server_addr));
    let mut server = Server::spawn_with(&corefile(port, good.upstream.addr()), port, &[]);
    assert!(wait_until(|| good
        .probes()
        .iter()
        .any(|p| is_probe_name(p))));
    server.write_corefile(&corefile(port, relay.upstream.addr()));
    server.signal("USR1");
    assert_eq!(
        server.wait_exit(),
        Some(1),
        "stdout:\n{}",
        server.stdout.text()
    );
    assert!(
        server
            .stdout
            .text()
            .contains("[FATAL] plugin/loop: Loop (127.0.0.1:")
    );
}
