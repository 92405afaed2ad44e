//! Build facts for `coredns_build_info{revision, goversion}`: the git commit (from
//! `CLUSTERDNS_GIT_COMMIT` when the build sets it, e.g. a container build without `.git`,
//! else from git, else empty as CoreDNS allows) and the compiler (`rustc 1.95.0`).

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CLUSTERDNS_GIT_COMMIT");
    let commit = std::env::var("CLUSTERDNS_GIT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(git_commit)
        .unwrap_or_default();
    println!("cargo:rustc-env=CLUSTERDNS_GIT_COMMIT={commit}");
    println!(
        "cargo:rustc-env=CLUSTERDNS_RUSTC_VERSION={}",
        rustc_version()
    );
}

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// The short commit, as CoreDNS's `GitCommit`; the build re-runs when HEAD moves.
fn git_commit() -> Option<String> {
    let git_dir = run("git", &["rev-parse", "--absolute-git-dir"])?;
    let git_dir = Path::new(&git_dir);
    for watched in ["HEAD", "packed-refs"] {
        let path = git_dir.join(watched);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    if let Some(reference) = run("git", &["symbolic-ref", "-q", "HEAD"]) {
        let path = git_dir.join(reference);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    run("git", &["rev-parse", "--short", "HEAD"])
}

/// `rustc 1.95.0` from `rustc 1.95.0 (59807616e 2026-04-14)`.
fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    run(&rustc, &["--version"])
        .map(|v| v.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "rustc".to_string())
}
