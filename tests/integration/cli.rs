//! CoreDNS's flags, exit codes and startup output.

use hickory_proto::rr::RecordType;

use crate::harness::*;

#[test]
fn version_prints_two_lines_coredns_first() {
    let (code, stdout, _) = run_binary(&temp_dir("version"), &["-version"]);
    assert_eq!(code, Some(0));
    let lines: Vec<_> = stdout.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("CoreDNS-1."), "{stdout}");
    assert!(lines[1].contains("clusterdns"), "{stdout}");
}

#[test]
fn plugins_lists_implemented_directives_sorted() {
    let (code, stdout, _) = run_binary(&temp_dir("plugins"), &["--plugins"]);
    assert_eq!(code, Some(0));
    assert!(stdout.ends_with("\n\n"));
    let names: Vec<_> = stdout.lines().filter(|l| !l.is_empty()).collect();
    assert!(
        names.contains(&"whoami") && names.contains(&"prometheus") && names.contains(&"reload")
    );
    assert!(names.windows(2).all(|w| w[0] < w[1]));
    assert!(!names.contains(&"etcd"));
}

#[test]
fn help_and_bad_flags_exit_like_go() {
    let dir = temp_dir("flags");
    let (code, _, stderr) = run_binary(&dir, &["-h"]);
    assert_eq!(code, Some(0));
    assert!(stderr.contains("  -conf string\n    \tCorefile to load (default \"Corefile\")"));
    let (code, _, stderr) = run_binary(&dir, &["-nope"]);
    assert_eq!(code, Some(2));
    assert!(stderr.starts_with("flag provided but not defined: -nope\nUsage of "));
    let (code, _, stderr) = run_binary(&dir, &["-quiet", "false"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr
            .trim_end()
            .ends_with("extra command line arguments: [false]"),
        "{stderr}"
    );
}

#[test]
fn missing_conf_file_is_fatal() {
    let (code, _, stderr) = run_binary(&temp_dir("missing"), &["-conf", "nothere/Corefile"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr.trim_end(),
        "open nothere/Corefile: no such file or directory"
    );
}

#[test]
fn no_corefile_starts_the_default_whoami_server() {
    let dir = temp_dir("default");
    let port = free_port();
    let mut child = std::process::Command::new(binary())
        .current_dir(&dir)
        .args(["-dns.port", &port.to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let query = query_message("whoami.example.", RecordType::A, 77)
        .to_vec()
        .unwrap();
    let answered =
        wait_until(|| udp_exchange(addr, &query, std::time::Duration::from_millis(200)).is_some());
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(answered);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with(&format!(".:{port}\nCoreDNS-")),
        "{stdout}"
    );
    // The default config logs every query (it has `log`).
    assert!(stdout.contains("\"A IN whoami.example. udp "), "{stdout}");
}

#[test]
fn empty_corefile_is_the_default_too_and_quiet_hides_the_banner() {
    let port = free_port();
    let mut server = Server::spawn_with(
        "# only a comment\n",
        port,
        &["-dns.port", &port.to_string(), "-quiet"],
    );
    let query = query_message("whoami.example.", RecordType::A, 78)
        .to_vec()
        .unwrap();
    assert!(wait_until(|| udp_exchange(
        server.addr(),
        &query,
        std::time::Duration::from_millis(200)
    )
    .is_some()));
    assert!(server.stdout.wait_for("[INFO] 127.0.0.1:"));
    assert!(!server.stdout.text().contains("CoreDNS-"));
    server.signal("KILL");
    server.wait_exit();
}

#[test]
fn pidfile_is_written_after_start_and_removed_on_sigterm() {
    let port = free_port();
    let dir = temp_dir("pid");
    let pidfile = dir.join("coredns.pid");
    let mut server = Server::spawn_with(
        &format!(".:{port} {{\n    whoami\n}}\n"),
        port,
        &["-pidfile", pidfile.to_str().unwrap()],
    );
    assert!(wait_until(|| pidfile.exists()));
    assert_eq!(
        std::fs::read_to_string(&pidfile).unwrap(),
        format!("{}\n", server.child.id())
    );
    server.signal("TERM");
    assert_eq!(server.wait_exit(), Some(0));
    assert!(!pidfile.exists());
}

#[test]
fn conf_stdin_reads_the_corefile_from_a_pipe() {
    use std::io::Write;
    let dir = temp_dir("stdin");
    let port = free_port();
    let mut child = std::process::Command::new(binary())
        .current_dir(&dir)
        .args(["-conf", "stdin", "-quiet"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let corefile = format!(".:{port} {{\n    any\n    whoami\n}}\n");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(corefile.as_bytes())
        .unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let query = query_message("piped.example.", RecordType::ANY, 79)
        .to_vec()
        .unwrap();
    let reply = {
        let mut reply = None;
        wait_until(|| {
            reply = udp_exchange(addr, &query, std::time::Duration::from_millis(200));
            reply.is_some()
        });
        reply
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let reply = hickory_proto::op::Message::from_vec(&reply.expect("answered")).unwrap();
    assert_eq!(
        reply.answers.len(),
        1,
        "the piped Corefile's `any` answered"
    );
}
