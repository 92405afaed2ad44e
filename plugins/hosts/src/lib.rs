//! The `hosts` directive: answers A, AAAA and PTR queries from a hosts file and inline
//! entries (plugins-resolution.md §3; metrics.md, hosts).
#![forbid(unsafe_code)]

mod config;
mod hosts;
mod hostsfile;
mod loader;
mod metrics;
mod reverse;
mod table;
#[cfg(test)]
mod tests;

use plugin::metrics::MetricsHub;
use plugin::{ConfigError, Setup};

pub use config::{DEFAULT_PATH, DEFAULT_RELOAD, DEFAULT_TTL, HostsConfig, parse};
pub use hosts::Hosts;
pub use hostsfile::HostsMap;
pub use metrics::HostsMetrics;

use hostsfile::ParseOptions;
use loader::Loader;

pub const NAME: &str = "hosts";

/// Registers the hosts families at process start (metrics.md §1: the label-less
/// `coredns_hosts_reload_timestamp_seconds` is always exported).
pub fn register_metrics(hub: &MetricsHub) {
    hub.get::<HostsMetrics>();
}

/// Parses the block's `hosts`, reads the file once, starts the reload task and adds the
/// handler.
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    let block_zones = s.zones();
    let config = parse(&mut s.d, &block_zones)?;
    let inline = hostsfile::parse(
        config.inline.join("\n").as_bytes(),
        ParseOptions {
            zones: &config.zones,
            auto_reverse: config.auto_reverse,
        },
    );
    let mut loader = Loader::new(
        config.path.clone(),
        config.zones.clone(),
        config.auto_reverse,
        config.ttl,
        inline,
        s.metrics().get::<HostsMetrics>(),
    );
    loader.read_blocking();
    let table = loader.table.clone();
    // A setup outside a runtime (a config check) serves nothing, so has nothing to reload.
    if !config.reload.is_zero() && tokio::runtime::Handle::try_current().is_ok() {
        s.tasks().spawn(loader.run(config.reload));
    }
    s.add_plugin(Hosts {
        zones: config.zones,
        fall: config.fall,
        fallthrough_unsupported: config.fallthrough_unsupported,
        table,
    });
    Ok(())
}

/// Fuzzing entry: the hosts-file parser and the building of the answers over arbitrary bytes,
/// then a lookup of every name found. Must never panic.
pub fn fuzz_hosts_file(data: &[u8]) {
    let zones = [".".to_string()];
    for auto_reverse in [true, false] {
        let map = hostsfile::parse(
            data,
            ParseOptions {
                zones: &zones,
                auto_reverse,
            },
        );
        let table = table::Table::build(&map, &map, DEFAULT_TTL);
        for name in map.name4.keys().chain(map.name6.keys()) {
            let _ = (table.a(name), table.aaaa(name), table.knows(name));
        }
        for suffix in map.wild4.keys() {
            let probe = format!("x.{suffix}");
            let _ = (table.a(&probe), table.knows(&probe));
        }
        for &address in map.addr.keys() {
            let _ = table.ptr(address);
            let _ = reverse::address(&reverse::name(address));
        }
    }
}
