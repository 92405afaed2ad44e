//! What a directive's setup sees and builds: its tokens, its block, the instance's services.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::chain::Plugin;
use crate::dispenser::Dispenser;
use crate::error::ConfigError;
use crate::extensions::Extensions;
use crate::http::HttpRoute;
use crate::metrics::MetricsHub;
use crate::readiness::Readiness;
use crate::tasks::Tasks;
use crate::upstream::Upstream;

/// A normalised server key (corefile.md §6): `dns://example.org.:53`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerKey {
    /// `dns`, `tls`, `quic`, `grpc`, `https`, `https3`.
    pub scheme: String,
    /// Lower-case FQDN; reverse CIDR keys are already expanded into `in-addr.arpa.` zones.
    pub zone: String,
    pub port: u16,
}

impl std::fmt::Display for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.zone, self.port)
    }
}

/// One server block as its directives configure it.
#[derive(Default)]
pub struct BlockConfig {
    /// Position of the block in the Corefile (0-based).
    pub index: usize,
    /// Every zone of the block with its scheme and port, in key order.
    pub keys: Vec<ServerKey>,
    /// The addresses to listen on (set by `bind`); empty means the wildcard address.
    pub listen_hosts: Vec<String>,
    /// `bind` was used: an empty `listen_hosts` then means "not served at all".
    pub bind_used: bool,
    /// `debug`: panics are not recovered on this block's listeners.
    pub debug: bool,
    /// `errors { stacktrace }`: recovered panics are logged with a stack trace.
    pub stacktrace: bool,
    /// `prometheus` is in this block: `coredns_plugin_enabled` is set for its plugins.
    pub metrics: bool,
    /// `ready` is in this block: its plugins are asked by `/ready`.
    pub readiness: bool,
    /// The query-handling plugins, in registry order.
    pub plugins: Vec<Arc<dyn Plugin>>,
    /// Values the block's plugins share with each other (kubernetes → autopath, k8s_external).
    pub extensions: Extensions,
    /// Checks registered with [`Setup::after_block`], run by the assembler once every
    /// directive of the block was set up.
    pub after_block: Vec<AfterBlockHook>,
}

impl BlockConfig {
    /// The block's zones in key order, without repeats (what plugins default to).
    pub fn zones(&self) -> Vec<String> {
        let mut zones: Vec<String> = Vec::new();
        for key in &self.keys {
            if !zones.contains(&key.zone) {
                zones.push(key.zone.clone());
            }
        }
        zones
    }
}

/// `reload [INTERVAL] [JITTER]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReloadSettings {
    pub interval: Duration,
    pub jitter: Duration,
}

pub type HookFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
/// Work to do when an instance stops (process shutdown, or replaced by a reload).
pub type Hook = Box<dyn FnOnce() -> HookFuture + Send>;

/// A check that runs once the whole block is set up (see [`Setup::after_block`]).
pub type AfterBlock = Box<dyn FnOnce(&mut BlockConfig) -> Result<(), ConfigError> + Send>;

/// An [`AfterBlock`] check and the directive that registered it (its errors are reported as
/// that directive's: `plugin/NAME: ...`).
pub struct AfterBlockHook {
    /// Filled in by the assembler after the directive's setup returned (empty in plugin
    /// tests that run a setup on their own).
    pub directive: &'static str,
    pub run: AfterBlock,
}

impl std::fmt::Debug for AfterBlockHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AfterBlockHook")
            .field("directive", &self.directive)
            .finish()
    }
}

impl BlockConfig {
    /// Runs the block's [`AfterBlockHook`]s in registration order and removes them; the first
    /// error stops, with the name of the directive that registered the failing check.
    pub fn run_after_block(&mut self) -> Result<(), (&'static str, ConfigError)> {
        let hooks = std::mem::take(&mut self.after_block);
        for hook in hooks {
            (hook.run)(self).map_err(|error| (hook.directive, error))?;
        }
        Ok(())
    }
}

/// Services shared by every block of one configuration instance.
pub struct InstanceServices {
    pub metrics: Arc<MetricsHub>,
    pub routes: Vec<HttpRoute>,
    pub tasks: Tasks,
    pub readiness: Arc<Readiness>,
    /// Run when the instance stops, in registration (= registry) order.
    pub shutdown_hooks: Vec<Hook>,
    /// `health { lameduck }`: how long to keep answering after SIGTERM.
    pub lameduck: Option<Duration>,
    /// `reload`: the last block that has it decides (cli-and-endpoints.md §8.1).
    pub reload: Option<ReloadSettings>,
    /// Re-enters the server (bound by the server once the instance's listeners exist).
    pub upstream: Upstream,
    /// Awaited (all at once) before the instance's DNS listeners serve it; see
    /// [`Setup::before_serving`].
    pub before_serving: Vec<HookFuture>,
    /// Run once the instance's DNS listeners serve it; see [`Setup::on_serving`].
    pub on_serving: Vec<Box<dyn FnOnce() + Send>>,
}

impl InstanceServices {
    pub fn new(metrics: Arc<MetricsHub>) -> Self {
        InstanceServices {
            metrics,
            routes: Vec::new(),
            tasks: Tasks::new(),
            readiness: Arc::new(Readiness::new()),
            shutdown_hooks: Vec::new(),
            lameduck: None,
            reload: None,
            upstream: Upstream::new(),
            before_serving: Vec::new(),
            on_serving: Vec::new(),
        }
    }
}

/// The context one directive's setup runs in, once per block.
pub struct Setup<'a> {
    /// The directive's tokens in this block: every occurrence, in file order.
    pub d: Dispenser,
    pub block: &'a mut BlockConfig,
    pub services: &'a mut InstanceServices,
}

impl<'a> Setup<'a> {
    pub fn new(
        d: Dispenser,
        block: &'a mut BlockConfig,
        services: &'a mut InstanceServices,
    ) -> Self {
        Setup { d, block, services }
    }

    /// The block's zones (what a plugin without zone arguments serves).
    pub fn zones(&self) -> Vec<String> {
        self.block.zones()
    }

    /// Adds a query-handling plugin to the block's chain. Setup runs in registry order, so
    /// plugins land in execution order.
    pub fn add_plugin(&mut self, plugin: impl Plugin) {
        self.block.plugins.push(Arc::new(plugin));
    }

    pub fn metrics(&self) -> &Arc<MetricsHub> {
        &self.services.metrics
    }

    pub fn add_route(&mut self, route: HttpRoute) {
        self.services.routes.push(route);
    }

    pub fn tasks(&self) -> &Tasks {
        &self.services.tasks
    }

    /// A handle that resolves names through this server (CoreDNS `upstream.New()`).
    pub fn upstream(&self) -> Upstream {
        self.services.upstream.clone()
    }

    pub fn on_shutdown(&mut self, hook: impl FnOnce() -> HookFuture + Send + 'static) {
        self.services.shutdown_hooks.push(Box::new(hook));
    }

    /// Holds the instance's DNS serving until `gate` completes (kubernetes.md §9: wait for the
    /// watch caches to sync). The server awaits every gate of the instance concurrently after
    /// its HTTP endpoints are up (so `/ready` answers 503 meanwhile) and before its DNS
    /// listeners serve it; on reload the running instance serves until the new one's gates are
    /// through. The server imposes no time limit: the gate enforces its own (`startup_timeout`).
    /// Shutdown signals still interrupt the wait.
    pub fn before_serving(&mut self, gate: impl Future<Output = ()> + Send + 'static) {
        self.services.before_serving.push(Box::pin(gate));
    }

    /// Runs `hook` once the instance's DNS listeners serve it: at start after the sockets are
    /// bound, on reload right after the new zone tables were swapped in (so whatever the hook
    /// sends to the server reaches this instance, not the one it replaced: loop's probe).
    /// Not run for an instance that never serves (a failed or interrupted reload).
    pub fn on_serving(&mut self, hook: impl FnOnce() + Send + 'static) {
        self.services.on_serving.push(Box::new(hook));
    }

    /// Runs `check` once every directive of this block was set up (in registry order, so a
    /// directive set up before the one it depends on can look at it: autopath and
    /// k8s_external need the block's kubernetes). Checks run in registration order; an error
    /// fails the configuration like an error of this directive's setup.
    pub fn after_block(
        &mut self,
        check: impl FnOnce(&mut BlockConfig) -> Result<(), ConfigError> + Send + 'static,
    ) {
        self.block.after_block.push(AfterBlockHook {
            directive: "",
            run: Box::new(check),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `setup` with no tokens in a fresh block; returns the block and services it left.
    fn set_up(setup: impl FnOnce(&mut Setup<'_>)) -> (BlockConfig, InstanceServices) {
        let mut block = BlockConfig::default();
        let mut services = InstanceServices::new(Arc::new(MetricsHub::new()));
        setup(&mut Setup::new(
            Dispenser::new("Corefile", Vec::new()),
            &mut block,
            &mut services,
        ));
        (block, services)
    }

    #[test]
    fn after_block_checks_run_in_order_and_stop_at_the_first_error() {
        let (mut block, _) = set_up(|s| {
            s.after_block(|b| {
                b.listen_hosts.push("first".into());
                Ok(())
            });
            s.after_block(|b| {
                b.listen_hosts.push("second".into());
                Err(ConfigError::NotSupported)
            });
            s.after_block(|b| {
                b.listen_hosts.push("never".into());
                Ok(())
            });
        });
        block.after_block[1].directive = "autopath";
        let (directive, error) = block.run_after_block().unwrap_err();
        assert_eq!(directive, "autopath");
        assert!(matches!(error, ConfigError::NotSupported));
        assert_eq!(block.listen_hosts, ["first", "second"]);
        assert!(block.after_block.is_empty(), "checks run once");
    }

    #[test]
    fn before_serving_gates_are_collected() {
        let (_, services) = set_up(|s| {
            s.before_serving(async {});
            s.before_serving(std::future::pending());
        });
        assert_eq!(services.before_serving.len(), 2);
    }
}
