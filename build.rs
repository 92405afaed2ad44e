//! Records the compiler version and the git commit for `-version` and `coredns_build_info`.

use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = output(&rustc, &["--version"]);
    // "rustc 1.95.0 (59807616e 2026-04-14)" -> "rustc 1.95.0"
    let short: Vec<&str> = version.split_whitespace().take(2).collect();
    println!("cargo:rustc-env=CLUSTERDNS_RUSTC={}", short.join(" "));
    println!(
        "cargo:rustc-env=CLUSTERDNS_GIT_COMMIT={}",
        output("git", &["rev-parse", "--short", "HEAD"])
    );
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
}
