//! Corefile → [`Instance`]: runs each directive's setup in registry order, then each block's
//! `after_block` checks, and groups the blocks' zones into listeners (corefile.md §1 steps
//! 3–7).

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use plugin::metrics::{DnsMetrics, MetricsHub, PluginLabels};
use plugin::setup::{BlockConfig, InstanceServices, ServerKey};
use plugin::{Chain, ConfigError, Dispenser, Setup};

use crate::corefile::{self, CorefileError, KeyError, ServerBlock, Source};
use crate::registry;

/// Why a configuration could not be built. The first error stops the build (corefile.md §1).
#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    #[error(transparent)]
    Corefile(#[from] CorefileError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("plugin/{plugin}: {error}")]
    Plugin {
        plugin: &'static str,
        error: ConfigError,
    },
    #[error("cannot serve {key} - transport not supported by this build")]
    Transport { key: String },
    #[error("cannot serve {key} - it is already defined")]
    Duplicate { key: String },
    #[error("cannot serve {key} on {host} - zone overlap listener capacity with {other}")]
    Overlap {
        key: String,
        host: String,
        other: String,
    },
    #[error("Listen: invalid bind address {0:?}")]
    BindAddress(String),
}

/// One DNS listen address and the zones it routes.
pub struct ListenerPlan {
    pub addr: SocketAddr,
    /// The `server` metric label: `dns://:53`, `dns://127.0.0.1:53`, `dns://[::1]:53`.
    pub identity: Arc<str>,
    /// Zone (lower-case FQDN) → the chain of the block that serves it.
    pub zones: Vec<(String, Chain)>,
    /// A block on this listener uses `chaos` or `forward`: other classes than IN are served.
    pub allow_other_classes: bool,
    /// No block on this listener has `debug`: panics are answered SERVFAIL.
    pub recover_panics: bool,
    /// Recovered panics are logged with a stack trace: the last block on this listener decides
    /// (`errors { stacktrace }`, plugins-core.md).
    pub stacktrace: bool,
}

/// A complete configuration, ready to be started or swapped in.
pub struct Instance {
    pub blocks: Vec<BlockConfig>,
    pub listeners: Vec<ListenerPlan>,
    pub services: InstanceServices,
    /// SHA-512 of the parsed Corefile (the reload check compares it).
    pub digest: String,
    /// Startup lines, one per listener zone (`.:53`, `example.org.:53 on 127.0.0.1`).
    pub banner: Vec<String>,
    /// A block uses `debug`.
    pub debug: bool,
}

/// Where a configuration comes from and the flags that shape it.
pub struct Options<'a> {
    pub default_port: &'a str,
    pub metrics: Arc<MetricsHub>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// The built-in configuration used when there is no Corefile, or it has no server block
/// (corefile.md §9): `.:PORT { whoami log }` with PORT from `-dns.port`. Its name in messages
/// is `Corefile`.
pub fn default_source(port: &str) -> Source {
    Source {
        name: Arc::from("Corefile"),
        text: format!(".:{port} {{\n    whoami\n    log\n}}\n").into_bytes(),
        dir: std::path::PathBuf::from("."),
    }
}

/// Parses `source` and builds an instance from it. No server block → the built-in config.
pub fn assemble(source: &Source, opts: &Options<'_>) -> Result<Instance, AssembleError> {
    let known: &dyn Fn(&str) -> bool = &registry::is_known;
    let mut blocks = corefile::parse(source, opts.env, Some(known))?;
    if blocks.is_empty() {
        blocks = corefile::parse(&default_source(opts.default_port), opts.env, Some(known))?;
    }
    let digest = corefile::digest(&blocks);
    build(&blocks, digest, opts)
}

fn build(
    parsed: &[ServerBlock],
    digest: String,
    opts: &Options<'_>,
) -> Result<Instance, AssembleError> {
    let mut blocks = Vec::with_capacity(parsed.len());
    for (index, block) in parsed.iter().enumerate() {
        let keys = corefile::inspect_keys(block, opts.default_port)?;
        for key in &keys {
            if key.scheme != "dns" {
                return Err(AssembleError::Transport {
                    key: key.to_string(),
                });
            }
        }
        blocks.push(BlockConfig {
            index,
            keys,
            ..BlockConfig::default()
        });
    }

    let mut services = InstanceServices::new(opts.metrics.clone());
    for directive in registry::DIRECTIVES {
        for (parsed_block, block) in parsed.iter().zip(blocks.iter_mut()) {
            let tokens = parsed_block.tokens_of(directive.name);
            let Some(first) = tokens.first() else {
                continue;
            };
            let plugin_err = |error| AssembleError::Plugin {
                plugin: directive.name,
                error,
            };
            let setup = directive
                .setup
                .ok_or_else(|| plugin_err(ConfigError::NotSupported))?;
            let file = first.file.clone();
            let checks_before = block.after_block.len();
            let mut s = Setup::new(Dispenser::new(file, tokens), block, &mut services);
            setup(&mut s).map_err(plugin_err)?;
            for check in &mut block.after_block[checks_before..] {
                check.directive = directive.name;
            }
        }
    }
    // `Setup::after_block` checks: every directive of the block is set up now, so a plugin
    // can look at the ones set up after it (autopath @kubernetes, k8s_external).
    for block in &mut blocks {
        block
            .run_after_block()
            .map_err(|(plugin, error)| AssembleError::Plugin { plugin, error })?;
    }

    let uses = |block: &ServerBlock, names: &[&str]| {
        block
            .directives
            .iter()
            .any(|d| names.contains(&d.name.as_str()))
    };
    let mut listeners: BTreeMap<SocketAddr, ListenerPlan> = BTreeMap::new();
    let mut served = HashSet::new();
    let mut banner = Vec::new();
    for (parsed_block, block) in parsed.iter().zip(&blocks) {
        let hosts = listen_hosts(block);
        let chain = Chain::new(block.plugins.clone());
        for key in &block.keys {
            for host in &hosts {
                check_overlap(&mut served, key, host)?;
                for addr in socket_addrs(host, key.port)? {
                    let plan = listeners.entry(addr).or_insert_with(|| ListenerPlan {
                        addr,
                        identity: identity(host, key.port),
                        zones: Vec::new(),
                        allow_other_classes: false,
                        recover_panics: true,
                        stacktrace: false,
                    });
                    plan.zones.push((key.zone.clone(), chain.clone()));
                    plan.allow_other_classes |= uses(parsed_block, &["chaos", "forward"]);
                    plan.recover_panics &= !block.debug;
                    plan.stacktrace = block.stacktrace;
                }
                banner.push(banner_line(key, host));
            }
        }
    }
    banner.sort();
    banner.dedup();

    record_plugin_enabled(&opts.metrics, &blocks);
    for block in blocks.iter().filter(|b| b.readiness) {
        services.readiness.register(&block.plugins);
    }
    let debug = blocks.iter().any(|b| b.debug);
    Ok(Instance {
        blocks,
        listeners: listeners.into_values().collect(),
        services,
        digest,
        banner,
        debug,
    })
}

/// The hosts a block listens on: its `bind` addresses, else the wildcard (""). A `bind` whose
/// addresses were all excepted serves nothing (plugins-core.md, bind).
fn listen_hosts(block: &BlockConfig) -> Vec<String> {
    if block.bind_used {
        block.listen_hosts.clone()
    } else {
        vec![String::new()]
    }
}

/// Rejects a zone served twice on one address, or once on the wildcard and once on a bound
/// address of the same port (corefile.md §7.1). `served` holds (zone, port, host) seen so far.
fn check_overlap(
    served: &mut HashSet<(String, u16, String)>,
    key: &ServerKey,
    host: &str,
) -> Result<(), AssembleError> {
    let entry = (key.zone.clone(), key.port, host.to_string());
    if served.contains(&entry) {
        return Err(AssembleError::Duplicate {
            key: key.to_string(),
        });
    }
    let same_zone =
        |(zone, port, _): &&(String, u16, String)| *zone == key.zone && *port == key.port;
    let clash = if host.is_empty() {
        served
            .iter()
            .filter(same_zone)
            .map(|(_, _, bound)| bound.clone())
            .next()
    } else {
        served
            .iter()
            .filter(same_zone)
            .any(|(_, _, h)| h.is_empty())
            .then(|| host.to_string())
    };
    if let Some(bound) = clash {
        return Err(AssembleError::Overlap {
            key: key.to_string(),
            host: bound,
            other: key.to_string(),
        });
    }
    served.insert(entry);
    Ok(())
}

/// The sockets for a host: the wildcard is both `0.0.0.0` and `[::]` (CoreDNS's `:53`).
fn socket_addrs(host: &str, port: u16) -> Result<Vec<SocketAddr>, AssembleError> {
    if host.is_empty() {
        return Ok(vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
        ]);
    }
    // A link-local address carries its interface (`fe80::1%eth0`); the socket needs the
    // address itself (the kernel picks the scope from the routing table).
    let ip_text = host.split('%').next().unwrap_or(host);
    let ip: IpAddr = ip_text
        .parse()
        .map_err(|_| AssembleError::BindAddress(host.to_string()))?;
    Ok(vec![SocketAddr::new(ip, port)])
}

fn identity(host: &str, port: u16) -> Arc<str> {
    if host.contains(':') {
        Arc::from(format!("dns://[{host}]:{port}"))
    } else {
        Arc::from(format!("dns://{host}:{port}"))
    }
}

fn banner_line(key: &ServerKey, host: &str) -> String {
    let mut line = format!("{}:{}", key.zone, key.port);
    if !host.is_empty() {
        line.push_str(&format!(" on {host}"));
    }
    line
}

/// `coredns_plugin_enabled`: 1 per query-handling plugin of the first key's zone of every block
/// with `prometheus`, per listen address (metrics.md §3). Reset on every build.
fn record_plugin_enabled(hub: &MetricsHub, blocks: &[BlockConfig]) {
    let metrics = hub.get::<DnsMetrics>();
    metrics.plugin_enabled.clear();
    for block in blocks.iter().filter(|b| b.metrics) {
        let Some(first) = block.keys.first() else {
            continue;
        };
        let zone: Arc<str> = Arc::from(first.zone.as_str());
        for host in listen_hosts(block) {
            let server = identity(&host, first.port);
            for plugin in &block.plugins {
                let labels = PluginLabels {
                    name: plugin.name(),
                    server: server.clone(),
                    view: Arc::from(""),
                    zone: zone.clone(),
                };
                metrics.plugin_enabled.get_or_create(&labels).set(1);
            }
        }
    }
}
