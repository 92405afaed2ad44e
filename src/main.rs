//! `clusterdns`: CoreDNS's command line, in front of [`clusterdns::run`].
#![forbid(unsafe_code)]

use clusterdns::flags::{self, FlagError};
use clusterdns::{registry, run, version};

/// mimalloc instead of glibc's malloc: a query allocates a little (its bytes, its lower-cased
/// name) and frees it at once, and glibc's malloc and free were a tenth of a cache hit's
/// instructions (callgrind, bench/README.md "Where the time goes (cache hits)"). Version 2
/// without transparent huge pages (Cargo.toml): mimalloc 3, or huge pages, raised the RSS of
/// a 10,000-service cluster from 57 MB to 69-87 MB; this build stays at glibc's 57 MB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args();
    let program = args.next().unwrap_or_else(|| "clusterdns".to_string());
    let args: Vec<String> = args.collect();
    let flags = match flags::parse(&args) {
        Ok(flags) => flags,
        Err(FlagError::Help) => {
            eprint!("{}", flags::usage(&program));
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("{e}");
            eprint!("{}", flags::usage(&program));
            std::process::exit(e.exit_code());
        }
    };
    if !flags.extra.is_empty() {
        // Printed by Go's log package before CoreDNS turns timestamps off, hence the prefix.
        let now = clusterdns::clock::go_log_timestamp();
        eprintln!(
            "{now} extra command line arguments: {}",
            flags::go_slice(&flags.extra)
        );
        std::process::exit(1);
    }
    if flags.version {
        for line in version::lines() {
            println!("{line}");
        }
        return;
    }
    if flags.plugins {
        for name in registry::implemented_names() {
            println!("{name}");
        }
        println!();
        return;
    }
    clusterdns::server::install_panic_hook();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(run::run(flags));
    runtime.shutdown_timeout(run::RUNTIME_SHUTDOWN);
    std::process::exit(code);
}
