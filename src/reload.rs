//! Hot reload: re-read the Corefile through the same origin, and when its digest changed (or
//! on SIGUSR1) build a complete new instance and swap it in. Any failure keeps the running
//! instance (cli-and-endpoints.md §8).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use clusterdns_reload::ReloadMetrics;
use plugin::metrics::MetricsHub;
use plugin::setup::ReloadSettings;

use crate::assemble::{self, AssembleError, Options, default_source};
use crate::corefile;
use crate::source::ConfigOrigin;
use crate::supervisor::{StartError, Supervisor};

/// Why a reload did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Load(#[from] crate::source::LoadError),
    #[error(transparent)]
    Assemble(#[from] AssembleError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("configuration read from stdin cannot be re-read")]
    Stdin,
}

/// What a reload check found.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    /// Same digest, or the Corefile could not be read (retried next tick).
    Unchanged,
    /// The Corefile does not parse: warned, nothing done.
    ParseFailed,
    Reloaded,
    /// Changed, but the new configuration failed: the old one keeps serving.
    Failed,
    /// A stop signal ended the wait for the new instance's gates (not counted as failed).
    Interrupted,
}

pub struct Reloader {
    origin: ConfigOrigin,
    default_port: String,
    metrics: Arc<MetricsHub>,
    reload_metrics: Arc<ReloadMetrics>,
    /// Digest of the configuration last acted on (also a failed one: no retry until the file
    /// changes again).
    digest: String,
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The period of one configuration: INTERVAL plus a random offset in [-JITTER/2, +JITTER/2),
/// chosen once (CoreDNS uses half the jitter on each side, whatever its docs say).
pub fn period(settings: ReloadSettings) -> Duration {
    let jitter = settings.jitter.as_nanos() as u64;
    if jitter == 0 {
        return settings.interval;
    }
    let offset = rand::random::<u64>() % jitter;
    (settings.interval + Duration::from_nanos(offset))
        .saturating_sub(Duration::from_nanos(jitter / 2))
}

impl Reloader {
    pub fn new(
        origin: ConfigOrigin,
        default_port: String,
        metrics: Arc<MetricsHub>,
        digest: String,
    ) -> Self {
        Reloader {
            origin,
            default_port,
            reload_metrics: metrics.get::<ReloadMetrics>(),
            metrics,
            digest,
        }
    }

    fn options(&self) -> Options<'_> {
        Options {
            default_port: &self.default_port,
            metrics: self.metrics.clone(),
            env: &process_env,
        }
    }

    /// One tick of the `reload` plugin's watcher. `interrupt` (a stop signal) ends a wait
    /// for the new instance's `before_serving` gates: the reload then fails.
    pub async fn check(
        &mut self,
        supervisor: &mut Supervisor,
        interrupt: impl Future<Output = ()>,
    ) -> Check {
        if !self.origin.can_reload() {
            return Check::Unchanged;
        }
        let Ok(source) = self.origin.load(&self.default_port) else {
            return Check::Unchanged;
        };
        let blocks = match corefile::parse(&source, &process_env, None) {
            Ok(blocks) if blocks.is_empty() => {
                match corefile::parse(&default_source(&self.default_port), &process_env, None) {
                    Ok(blocks) => blocks,
                    Err(_) => return Check::Unchanged,
                }
            }
            Ok(blocks) => blocks,
            Err(e) => {
                plugin::log::warning(Some("reload"), format_args!("Corefile parse failed: {e}"));
                return Check::ParseFailed;
            }
        };
        let digest = corefile::digest(&blocks);
        if digest == self.digest {
            return Check::Unchanged;
        }
        self.digest = digest.clone();
        plugin::log::info(None, format_args!("Reloading"));
        match self.build_and_swap(&source, supervisor, interrupt).await {
            Ok(()) => {
                self.reload_metrics.set_version(&digest);
                Check::Reloaded
            }
            Err(ReloadError::Start(StartError::Interrupted)) => Check::Interrupted,
            Err(e) => {
                plugin::log::error(None, format_args!("Restart failed: {e}"));
                plugin::log::error(
                    Some("reload"),
                    format_args!("Corefile changed but reload failed: {e}"),
                );
                self.reload_metrics.failed.inc();
                Check::Failed
            }
        }
    }

    /// SIGUSR1: reload now, without the change check; failures are logged, not counted.
    pub async fn reload_now(
        &mut self,
        supervisor: &mut Supervisor,
        interrupt: impl Future<Output = ()>,
    ) -> Result<(), ReloadError> {
        if !self.origin.can_reload() {
            return Err(ReloadError::Stdin);
        }
        let source = self.origin.load(&self.default_port)?;
        self.build_and_swap(&source, supervisor, interrupt).await?;
        self.digest = supervisor.instance().digest.clone();
        Ok(())
    }

    async fn build_and_swap(
        &self,
        source: &corefile::Source,
        supervisor: &mut Supervisor,
        interrupt: impl Future<Output = ()>,
    ) -> Result<(), ReloadError> {
        let instance = assemble::assemble(source, &self.options())?;
        let digest = instance.digest.clone();
        let has_reload = instance.services.reload.is_some();
        supervisor.replace(instance, interrupt).await?;
        if has_reload {
            plugin::log::info(
                Some("reload"),
                format_args!("Running configuration SHA512 = {digest}"),
            );
        }
        plugin::log::info(None, format_args!("Reloading complete"));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_stays_within_half_the_jitter() {
        let settings = ReloadSettings {
            interval: Duration::from_secs(30),
            jitter: Duration::from_secs(10),
        };
        for _ in 0..1000 {
            let p = period(settings);
            assert!(
                p >= Duration::from_secs(25) && p < Duration::from_secs(35),
                "{p:?}"
            );
        }
        let fixed = ReloadSettings {
            interval: Duration::from_secs(5),
            jitter: Duration::ZERO,
        };
        assert_eq!(period(fixed), Duration::from_secs(5));
    }
}
