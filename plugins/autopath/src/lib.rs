//! The `autopath` directive: server-side search path completion (kubernetes.md §15, CoreDNS
//! `plugin/autopath`). `autopath [ZONE...] RESOLV-CONF`, where RESOLV-CONF is a
//! `resolv.conf`-like file or `@PLUGIN`, a plugin of the block that provides a
//! [`SearchPath`] (kubernetes).
#![forbid(unsafe_code)]

mod autopath;
mod cname;
pub mod metrics;
pub mod resolv_conf;

use std::sync::Arc;

use plugin::extensions::Slot;
use plugin::search_path::SearchPath;
use plugin::setup::BlockConfig;
use plugin::{ConfigError, Dispenser, Setup};

pub use autopath::{Autopath, Overshot, SearchSource};
pub use metrics::AutopathMetrics;

pub const NAME: &str = "autopath";

/// What the block's `autopath` lines configure. Every line is read and later lines win, as
/// in CoreDNS: the zones are the last line's, `plugin` the last `@PLUGIN`, `search` the last
/// file's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Lower-case FQDNs; the block's zones when the line names none.
    pub zones: Vec<String>,
    /// The `PLUGIN` of `@PLUGIN`.
    pub plugin: Option<String>,
    /// The file's search domains as lower-case FQDNs, then `""` (the bare name); empty
    /// without a file.
    pub search: Vec<String>,
}

/// Setup errors, with CoreDNS's texts (the assembler adds `plugin/autopath: `).
#[derive(Debug, thiserror::Error)]
pub enum AutopathError {
    #[error("no resolv-conf specified")]
    NoResolvConf,
    #[error("failed to parse {path:?}: {source}")]
    ResolvConf {
        path: String,
        source: resolv_conf::ReadError,
    },
    /// `@PLUGIN` names a plugin of the block that has no search path to give.
    #[error("{0} does not implement the AutoPather interface")]
    NotAutoPather(String),
}

/// Adds the autopath handler. With `@PLUGIN`, the search path is taken once the whole block
/// is set up (the provider, kubernetes, comes after autopath in the registry).
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    let zones = s.zones();
    let config = parse(&mut s.d, &zones)?;
    let provider: Slot<Arc<dyn SearchPath>> = Slot::default();
    if let Some(name) = config.plugin {
        let provider = provider.clone();
        s.after_block(move |block| bind_provider(block, &name, &provider));
    }
    let metrics = s.metrics().get::<AutopathMetrics>();
    let search = SearchSource {
        fixed: config.search,
        provider,
    };
    s.add_plugin(Autopath::new(config.zones, search, metrics));
    Ok(())
}

/// Reads every `autopath` line of the block (CoreDNS `autoPathParse`).
pub fn parse(d: &mut Dispenser, block_zones: &[String]) -> Result<Config, ConfigError> {
    let mut config = Config::default();
    while d.next() {
        let mut args = d.remaining_args();
        let Some(resolv) = args.pop() else {
            return Err(ConfigError::invalid(AutopathError::NoResolvConf));
        };
        match resolv.strip_prefix('@') {
            Some(plugin) => config.plugin = Some(plugin.to_string()),
            None => {
                let domains = resolv_conf::search_domains(&resolv).map_err(|source| {
                    ConfigError::invalid(AutopathError::ResolvConf {
                        path: resolv.clone(),
                        source,
                    })
                })?;
                config.search = domains
                    .iter()
                    .map(|d| plugin::zones::normalize(d))
                    .chain([String::new()])
                    .collect();
            }
        }
        config.zones = if args.is_empty() {
            block_zones.to_vec()
        } else {
            args.iter().map(|z| plugin::zones::normalize(z)).collect()
        };
    }
    Ok(config)
}

/// The after-block check of `@NAME` (CoreDNS's OnStartup lookup of the handler): a plugin
/// of the block named NAME must provide a search path; its path then replaces the file's.
/// No such plugin in the block: accepted, and autopath works from the file's list if any,
/// else does nothing (CoreDNS's behaviour); a warning says so.
fn bind_provider(
    block: &mut BlockConfig,
    name: &str,
    provider: &Slot<Arc<dyn SearchPath>>,
) -> Result<(), ConfigError> {
    if !block.plugins.iter().any(|p| p.name() == name) {
        plugin::log::warning(
            Some(NAME),
            format_args!("@{name}: no such plugin in this server block, no search path from it"),
        );
        return Ok(());
    }
    match block.extensions.slot::<Arc<dyn SearchPath>>().get() {
        Some(search) => {
            let _ = provider.set(search.clone());
            Ok(())
        }
        None => Err(ConfigError::invalid(AutopathError::NotAutoPather(
            name.to_string(),
        ))),
    }
}

/// Registers `coredns_autopath_success_total` (metrics.md §1: families exist from the start).
pub fn register_metrics(hub: &plugin::metrics::MetricsHub) {
    hub.get::<AutopathMetrics>();
}

#[cfg(test)]
mod tests;
