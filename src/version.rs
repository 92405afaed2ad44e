//! What `-version` prints and `coredns_build_info` carries.

/// The CoreDNS release whose behaviour this build reproduces: line 1 of `-version`, which
/// existing scripts match on (cli-and-endpoints.md §2).
pub const COREDNS_VERSION: &str = "1.14.7";

pub const RUSTC: &str = env!("CLUSTERDNS_RUSTC");
pub const GIT_COMMIT: &str = env!("CLUSTERDNS_GIT_COMMIT");

/// The two `-version` lines: CoreDNS's shape, our name, version and commit on line 2.
pub fn lines() -> [String; 2] {
    [
        format!("CoreDNS-{COREDNS_VERSION}"),
        format!(
            "{}/{}, {}, clusterdns-{} {}",
            std::env::consts::OS,
            go_arch(),
            RUSTC,
            env!("CARGO_PKG_VERSION"),
            GIT_COMMIT
        ),
    ]
}

/// Go's GOARCH names (`amd64`, `arm64`) for the architectures Kubernetes nodes run.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}
