//! The process-wide HTTP servers behind `/health`, `/ready` and `/metrics`.
//!
//! One server per socket address (`:8080`, `0.0.0.0:8080` and `[::]:8080` are one), whatever
//! directives declared routes on it (CoreDNS opens one listener per directive and lets SO_REUSEPORT split connections between
//! them, so `health :8080` and `ready :8080` would each answer half the probes with a 404;
//! here both paths are served on every connection). Servers outlive configuration instances:
//! a reload hands over the new instance's routes with [`HttpServers::apply`], which swaps the
//! route table of an address that stays bound instead of closing it, so probes never see a
//! refused connection during a reload (CoreDNS closes and reopens, cli-and-endpoints.md §8.2).

mod listen;
mod routes;
mod serve;
mod stall;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;
use plugin::http::{HttpRole, HttpRoute};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use listen::ListenError;
use listen::Target;
use routes::RouteTable;

/// An address that could not be served.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Displayed as Go's `net.Listen` error (`listen tcp :8080: bind: ...`).
    #[error("listen tcp {addr}: {source}")]
    Listen { addr: String, source: ListenError },
}

/// What a failed bind means for an address (cli-and-endpoints.md §4), decided by the most
/// important role among its routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BindFailure {
    /// `health`: fatal at startup, a failed reload otherwise.
    Fatal,
    /// `prometheus`: `[ERROR] Failed to start metrics handler: ...`, DNS keeps running.
    Logged,
    /// `ready`: no endpoint, no log.
    Silent,
}

impl BindFailure {
    fn for_routes(routes: &[HttpRoute]) -> Self {
        let has = |role| routes.iter().any(|r| r.role == role);
        if has(HttpRole::Health) {
            BindFailure::Fatal
        } else if has(HttpRole::Metrics) {
            BindFailure::Logged
        } else {
            BindFailure::Silent
        }
    }
}

/// One bound address.
struct Running {
    local: Option<SocketAddr>,
    table: serve::SharedTable,
    cancel: CancellationToken,
    accept: JoinHandle<()>,
}

impl Running {
    /// Stops accepting and returns once the socket is closed (new connections are refused).
    /// Connections in flight finish their request.
    async fn close(self) {
        self.cancel.cancel();
        let _ = self.accept.await;
    }
}

#[derive(Default)]
struct State {
    servers: HashMap<Target, Running>,
    /// The configured spelling(s) of each served address, for `local_addr`.
    names: HashMap<String, Target>,
}

/// The routes wanted on one socket, under the first spelling that named it (for errors).
struct Wanted {
    target: Target,
    addr: String,
    routes: Vec<HttpRoute>,
}

/// The HTTP servers of the process.
#[derive(Default)]
pub struct HttpServers {
    state: Mutex<State>,
    /// Serialises `apply` and `close_role`, which bind and close across awaits.
    changes: tokio::sync::Mutex<()>,
}

impl HttpServers {
    pub fn new() -> Self {
        HttpServers::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes the running set of routes equal `routes`: binds new addresses, swaps the route
    /// table of addresses already bound (no bounce), closes addresses no longer used.
    ///
    /// Addresses are configured strings (`:8080`, `localhost:9153`): an empty or unspecified
    /// host listens on all interfaces of both families, a name on its first IPv4 address, as
    /// Go's `net.Listen`; spellings of the same socket share one server. A failure to resolve
    /// or bind an address serving `/health` is an error, and then nothing changed (new
    /// sockets are closed again, running ones keep their routes); a `/metrics` address logs
    /// `[ERROR] Failed to start metrics handler: ...`; a `/ready`-only address is silently
    /// left unserved. Failed addresses are tried again on the next apply.
    pub async fn apply(&self, routes: Vec<HttpRoute>) -> Result<(), HttpError> {
        let _serial = self.changes.lock().await;
        let mut by_addr: BTreeMap<String, Vec<HttpRoute>> = BTreeMap::new();
        for route in routes {
            by_addr.entry(route.addr.clone()).or_default().push(route);
        }

        let mut logged = Vec::new();
        let mut fail = |addr: &str, routes: &[HttpRoute], source| {
            let error = HttpError::Listen {
                addr: addr.to_string(),
                source,
            };
            match BindFailure::for_routes(routes) {
                BindFailure::Fatal => Err(error),
                BindFailure::Logged => {
                    logged.push(error);
                    Ok(())
                }
                BindFailure::Silent => Ok(()),
            }
        };

        let mut wanted: Vec<Wanted> = Vec::new();
        let mut names = HashMap::new();
        for (addr, routes) in by_addr {
            match listen::resolve(&addr).await {
                Ok(target) => {
                    names.insert(addr.clone(), target);
                    match wanted.iter_mut().find(|w| w.target == target) {
                        Some(w) => w.routes.extend(routes),
                        None => wanted.push(Wanted {
                            target,
                            addr,
                            routes,
                        }),
                    }
                }
                Err(source) => fail(&addr, &routes, source)?,
            }
        }

        let mut opened = Vec::new();
        for w in &wanted {
            if self.state().servers.contains_key(&w.target) {
                continue;
            }
            match listen::listen(w.target) {
                Ok(listener) => opened.push((w.target, listener)),
                // On `?`, `opened` is dropped: its sockets close unused.
                Err(source) => fail(&w.addr, &w.routes, source)?,
            }
        }
        for error in logged {
            plugin::log::error(
                None,
                format_args!("Failed to start metrics handler: {error}"),
            );
        }

        let closing: Vec<Running> = {
            let mut state = self.state();
            let mut tables: HashMap<Target, RouteTable> = wanted
                .iter()
                .map(|w| (w.target, RouteTable::new(&w.routes)))
                .collect();
            for (target, server) in state.servers.iter() {
                if let Some(table) = tables.remove(target) {
                    server.table.store(Arc::new(table));
                }
            }
            for (target, listener) in opened {
                let Some(table) = tables.remove(&target) else {
                    continue;
                };
                let table = Arc::new(ArcSwap::from_pointee(table));
                let cancel = CancellationToken::new();
                let local = listener.local_addr().ok();
                let accept = serve::spawn(listener, table.clone(), cancel.clone());
                state.servers.insert(
                    target,
                    Running {
                        local,
                        table,
                        cancel,
                        accept,
                    },
                );
            }
            let gone: Vec<Target> = state
                .servers
                .keys()
                .filter(|target| !wanted.iter().any(|w| w.target == **target))
                .copied()
                .collect();
            let closing = gone
                .iter()
                .filter_map(|target| state.servers.remove(target))
                .collect();
            state.names = names;
            closing
        };
        for server in closing {
            server.close().await;
        }
        Ok(())
    }

    /// One step of the shutdown order (cli-and-endpoints.md §5.1: ready, then health after
    /// lameduck, then metrics): closes every server whose routes are all of `role` and
    /// removes the routes of `role` from the others (those paths then answer 404).
    pub async fn close_role(&self, role: HttpRole) {
        let _serial = self.changes.lock().await;
        let closing: Vec<Running> = {
            let mut state = self.state();
            let mut only_role = Vec::new();
            for (target, server) in state.servers.iter() {
                let table = server.table.load();
                if !table.has_role(role) {
                    continue;
                }
                if table.only_role(role) {
                    only_role.push(*target);
                } else {
                    server.table.store(Arc::new(table.without(role)));
                }
            }
            only_role
                .iter()
                .filter_map(|target| state.servers.remove(target))
                .collect()
        };
        for server in closing {
            server.close().await;
        }
    }

    /// The bound address of a configured address string (tests configure port 0: `:0`).
    pub fn local_addr(&self, configured: &str) -> Option<SocketAddr> {
        let state = self.state();
        let target = state.names.get(configured)?;
        state.servers.get(target).and_then(|s| s.local)
    }
}

impl Drop for HttpServers {
    fn drop(&mut self) {
        for server in self.state().servers.values() {
            server.cancel.cancel();
        }
    }
}

impl std::fmt::Debug for HttpServers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.state().names.keys()).finish()
    }
}
