//! The running server: the current [`Instance`], its DNS listeners and the HTTP servers.
//! Starts an instance, swaps in a new one without losing a query, and shuts down in CoreDNS's
//! order.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use plugin::http::HttpRole;
use plugin::metrics::{DnsMetrics, MetricsHub};

use crate::assemble::{Instance, ListenerPlan};
use crate::server::{Listener, ListenerOptions, ZoneTable};
use crate::services::http::{HttpError, HttpServers};

/// How long stopping listeners wait for queries in flight (corefile.md §7.4).
pub const GRACE: Duration = Duration::from_secs(5);

/// Why an instance could not be started or swapped in.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Go's text, which operators grep for: `Listen: listen tcp :53: bind: address already in use`.
    #[error("Listen: listen {proto} {addr}: bind: {}", go_reason(source))]
    Listen {
        proto: &'static str,
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Http(#[from] HttpError),
}

pub struct Supervisor {
    metrics: Arc<MetricsHub>,
    dns_metrics: Arc<DnsMetrics>,
    http: HttpServers,
    listeners: HashMap<SocketAddr, Listener>,
    current: Instance,
    options: ListenerOptions,
}

fn table_for(plan: &ListenerPlan) -> ZoneTable {
    let mut table = ZoneTable::new();
    for (zone, chain) in &plan.zones {
        table.insert(zone.clone(), chain.clone());
    }
    table.set_allow_other_classes(plan.allow_other_classes);
    table.set_recover_panics(plan.recover_panics);
    table.set_stacktrace(plan.stacktrace);
    table
}

/// The wildcard `[::]` is opened next to `0.0.0.0` when the host has IPv6; without it only
/// the IPv4 wildcard serves.
fn optional(plan: &ListenerPlan, error: &std::io::Error) -> bool {
    plan.addr.ip().is_unspecified()
        && plan.addr.is_ipv6()
        && matches!(
            error.raw_os_error(),
            Some(libc::EAFNOSUPPORT) | Some(libc::EADDRNOTAVAIL)
        )
}

impl Supervisor {
    /// Starts `instance`: HTTP endpoints first, then the DNS sockets (cli-and-endpoints.md §3).
    pub async fn start(
        instance: Instance,
        metrics: Arc<MetricsHub>,
    ) -> Result<Supervisor, StartError> {
        let http = HttpServers::new();
        http.apply(instance.services.routes.clone()).await?;
        let mut supervisor = Supervisor {
            dns_metrics: metrics.get::<DnsMetrics>(),
            metrics,
            http,
            listeners: HashMap::new(),
            current: instance,
            options: ListenerOptions::default(),
        };
        let plans: Vec<_> = supervisor.current.listeners.iter().collect();
        let fresh = supervisor.bind_missing(&plans).await?;
        supervisor.listeners = fresh;
        plugin::log::set_debug(supervisor.current.debug);
        Ok(supervisor)
    }

    pub fn instance(&self) -> &Instance {
        &self.current
    }

    pub fn metrics(&self) -> &Arc<MetricsHub> {
        &self.metrics
    }

    /// Bound addresses (tests start on port 0).
    pub fn dns_addrs(&self) -> Vec<SocketAddr> {
        self.listeners.values().map(Listener::local_addr).collect()
    }

    pub fn http(&self) -> &HttpServers {
        &self.http
    }

    /// Binds the plans whose address has no listener yet. On failure the ones bound here are
    /// closed again and nothing else changed.
    async fn bind_missing(
        &self,
        plans: &[&ListenerPlan],
    ) -> Result<HashMap<SocketAddr, Listener>, StartError> {
        let mut fresh = HashMap::new();
        for plan in plans
            .iter()
            .filter(|p| !self.listeners.contains_key(&p.addr))
        {
            let bound = Listener::bind(
                plan.addr,
                plan.identity.clone(),
                table_for(plan),
                self.dns_metrics.clone(),
                self.options.clone(),
            )
            .await;
            match bound {
                Ok(listener) => {
                    fresh.insert(plan.addr, listener);
                }
                Err(error) if optional(plan, &error) => {}
                Err(source) => {
                    for (_, listener) in fresh {
                        listener.stop(Duration::ZERO).await;
                    }
                    return Err(StartError::Listen {
                        proto: "tcp",
                        addr: listen_text(plan.addr),
                        source,
                    });
                }
            }
        }
        Ok(fresh)
    }

    /// Swaps in `next`. Everything that can fail (new sockets, HTTP binds) happens before the
    /// switch; on failure the running instance keeps serving untouched. Listeners on unchanged
    /// addresses keep their sockets and only get the new zone table, so no query is lost
    /// (queries in flight finish on the old chains).
    pub async fn replace(&mut self, next: Instance) -> Result<(), StartError> {
        let plans: Vec<_> = next.listeners.iter().collect();
        let mut fresh = self.bind_missing(&plans).await?;
        if let Err(error) = self.http.apply(next.services.routes.clone()).await {
            for (_, listener) in fresh.drain() {
                listener.stop(Duration::ZERO).await;
            }
            // Put the running routes back; they were bound before, so this does not fail in
            // practice, and if it did the old endpoints would only be missing, not wrong.
            let _ = self.http.apply(self.current.services.routes.clone()).await;
            return Err(error.into());
        }
        for plan in &next.listeners {
            if let Some(listener) = self.listeners.get(&plan.addr) {
                listener.swap_table(table_for(plan));
            }
        }
        let wanted: std::collections::HashSet<_> = next.listeners.iter().map(|p| p.addr).collect();
        let gone: Vec<SocketAddr> = self
            .listeners
            .keys()
            .filter(|a| !wanted.contains(a))
            .copied()
            .collect();
        for addr in gone {
            if let Some(listener) = self.listeners.remove(&addr) {
                tokio::spawn(listener.stop(GRACE));
            }
        }
        self.listeners.extend(fresh);
        plugin::log::set_debug(next.debug);
        let old = std::mem::replace(&mut self.current, next);
        retire(old).await;
        Ok(())
    }

    /// The SIGTERM/SIGINT sequence of cli-and-endpoints.md §5.1. DNS answers throughout.
    pub async fn shutdown(self, stop_listeners: bool, before_listeners: impl FnOnce()) {
        let Supervisor {
            http,
            listeners,
            current,
            ..
        } = self;
        let lameduck = current.services.lameduck;
        let readiness = current.services.readiness.clone();
        retire(current).await;
        readiness.set_shutting_down();
        http.close_role(HttpRole::Ready).await;
        if let Some(lameduck) = lameduck.filter(|d| !d.is_zero()) {
            plugin::log::info(
                Some("health"),
                format_args!(
                    "Going into lameduck mode for {}",
                    plugin::duration::format(lameduck)
                ),
            );
            tokio::time::sleep(lameduck).await;
        }
        http.close_role(HttpRole::Health).await;
        http.close_role(HttpRole::Metrics).await;
        before_listeners();
        if stop_listeners {
            let stops: Vec<_> = listeners
                .into_values()
                .map(|l| tokio::spawn(l.stop(GRACE)))
                .collect();
            for stop in stops {
                let _ = stop.await;
            }
        }
    }
}

/// Stops an instance that no longer serves: its shutdown hooks (errors flushes its windows),
/// then its background tasks.
async fn retire(instance: Instance) {
    let mut services = instance.services;
    for hook in services.shutdown_hooks.drain(..) {
        hook().await;
    }
    services.tasks.stop().await;
}

/// `:53`, `127.0.0.1:53`, `[::1]:53` as Go prints listen addresses.
fn listen_text(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!(":{}", addr.port())
    } else {
        addr.to_string()
    }
}

/// The lower-case errno text Go prints (`address already in use`), without Rust's
/// `(os error 98)` suffix.
fn go_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_errors_read_like_go() {
        let error = StartError::Listen {
            proto: "tcp",
            addr: listen_text("0.0.0.0:53".parse().unwrap()),
            source: std::io::Error::from_raw_os_error(libc::EADDRINUSE),
        };
        assert_eq!(
            error.to_string(),
            "Listen: listen tcp :53: bind: address already in use"
        );
        assert_eq!(
            listen_text("127.0.0.1:1053".parse().unwrap()),
            "127.0.0.1:1053"
        );
    }
}
