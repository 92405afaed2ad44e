//! `k8s_external`: answers a separate zone with the externally reachable addresses of
//! Kubernetes Services (`spec.externalIPs`, LoadBalancer ingress), read from the block's
//! `kubernetes` cache, as CoreDNS's k8s_external plugin does (kubernetes.md §14).
//!
//! Layout: [`config`] parses the directive; [`zone`] builds each zone's names once;
//! [`candidates`] reads a query name into candidates from the cache; [`records`] turns them
//! into records; [`apex`] answers the zone's own SOA/NS/`ns1.<apex>` names; [`external`] is
//! the plugin in the chain.
#![forbid(unsafe_code)]

pub mod apex;
pub mod candidates;
pub mod config;
pub mod external;
pub mod records;
pub mod zone;

use clusterdns_kubernetes::ClusterView;
use plugin::{ConfigError, Setup};

pub use config::{Config, K8sExternalError, parse};
pub use external::External;
use zone::Zone;

pub const NAME: &str = "k8s_external";

/// Parses the directive and adds the plugin. The cluster view is the block's `kubernetes`
/// stanza's, published in the block's extensions when that (later) setup runs; once the whole
/// block is set up, a block without `kubernetes` is an error, as in CoreDNS.
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    let block_zones = s.zones();
    let config = parse(&mut s.d, &block_zones)?;
    let zones = config
        .zones
        .iter()
        .map(|z| Zone::new(z, &config.apex))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ConfigError::invalid)?;
    let view = s.block.extensions.slot::<ClusterView>();
    let published = view.clone();
    s.after_block(move |_| match published.get() {
        Some(_) => Ok(()),
        None => Err(ConfigError::invalid(K8sExternalError::KubernetesNotLoaded)),
    });
    let upstream = s.upstream();
    s.add_plugin(External::new(config, zones, view, upstream));
    Ok(())
}

#[cfg(test)]
mod tests;
