//! A broken Corefile stops the start with CoreDNS's message on stderr and exit status 1.

use crate::harness::*;

/// Starts the binary on `corefile` (`PORT` replaced by a free port), expects exit status 1
/// and returns its stderr without the trailing newline.
pub(crate) fn start_error(corefile: &str) -> String {
    let port = free_port();
    let mut server = Server::spawn_with(&corefile.replace("PORT", &port.to_string()), port, &[]);
    assert_eq!(
        server.wait_exit(),
        Some(1),
        "stdout: {}",
        server.stdout.text()
    );
    server.stderr.text().trim_end_matches('\n').to_string()
}

#[test]
fn corefile_error_catalogue() {
    let cases = [
        (
            ".:PORT {\n    whoami\n    foo\n}\n",
            "Corefile:3 - Error during parsing: Unknown directive 'foo'",
        ),
        (
            ".:PORT { whoami }\n",
            "Corefile:1 - Error during parsing: Unexpected '}' because no matching opening brace",
        ),
        (
            ".:PORT {\n    whoami extra\n}\n",
            "plugin/whoami: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'extra'",
        ),
        (
            ".:PORT {\n    errors\n    errors\n}\n",
            "plugin/errors: this plugin can only be used once per Server Block",
        ),
        (
            ".:PORT {\n    whoami\n}\n.:PORT {\n    whoami\n}\n",
            "cannot serve dns://.:PORT - it is already defined",
        ),
        (
            "example.org:PORT {\n    whoami\n}\nEXAMPLE.ORG.:PORT {\n    whoami\n}\n",
            "cannot serve dns://example.org.:PORT - it is already defined",
        ),
        (
            ":PORT {\n    whoami\n}\n",
            "error inspecting server blocks: zone is not a valid domain name: ",
        ),
        (
            ".:PORT {\n    health 8080\n}\n",
            "plugin/health: address 8080: missing port in address",
        ),
        (
            ".:PORT {\n    file db.example\n}\n",
            "plugin/file: not supported by this build",
        ),
    ];
    for (corefile, want) in cases {
        let port = free_port();
        let got = start_error(&corefile.replace("PORT", &port.to_string()));
        assert_eq!(got, want.replace("PORT", &port.to_string()), "{corefile}");
    }
}

#[test]
fn plugin_errors_are_reported_in_registry_order() {
    // corefile.md §12 #46: `bufsize` (line 4) comes before `whoami` (line 2) in plugin.cfg.
    let got = start_error(".:PORT {\n    whoami extra\n    log\n    bufsize 10\n}\n");
    assert!(
        got.starts_with("plugin/bufsize: plugin/bufsize: Corefile:4"),
        "{got}"
    );
}

#[test]
fn bound_and_unbound_overlap_is_rejected() {
    let got = start_error(".:PORT {\n    whoami\n}\n.:PORT {\n    bind 127.0.0.1\n    whoami\n}\n");
    assert!(
        got.starts_with("cannot serve dns://.:")
            && got.contains("on 127.0.0.1 - zone overlap listener capacity with dns://.:"),
        "{got}"
    );
}

#[test]
fn busy_port_is_fatal() {
    let port = free_port();
    let holder = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let _udp = std::net::UdpSocket::bind(("127.0.0.1", port)).unwrap();
    let got = start_error(&format!(
        ".:{port} {{\n    bind 127.0.0.1\n    whoami\n}}\n"
    ));
    assert_eq!(
        got,
        format!("Listen: listen tcp 127.0.0.1:{port}: bind: address already in use")
    );
    drop(holder);
}
