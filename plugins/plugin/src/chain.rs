//! The plugin trait and the chain that runs plugins in order.

use std::sync::Arc;

use hickory_proto::op::ResponseCode;

use crate::error::{Error, Failure, NoNextPlugin};
use crate::reply::Reply;
use crate::request::Request;

/// A query-handling plugin. It either answers, or calls `next.serve(req)` and may adjust the
/// reply on its way back up (with [`Reply::map`]).
pub trait Plugin: Send + Sync + 'static {
    /// The directive name: logs, metrics, errors.
    fn name(&self) -> &'static str;

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a>;

    /// Asked by the `ready` plugin; true once the plugin can answer (e.g. caches synced).
    fn ready(&self) -> bool {
        true
    }
}

/// A borrowed view of the plugins after the current one.
#[derive(Clone, Copy)]
pub struct Next<'a> {
    rest: &'a [Arc<dyn Plugin>],
    caller: &'static str,
}

impl<'a> Next<'a> {
    /// Serves `req` with the next plugin. Past the last one this is SERVFAIL with
    /// `plugin/CALLER: no next plugin found`, as CoreDNS's `NextOrFailure`.
    pub fn serve(self, req: &'a Request) -> Reply<'a> {
        match self.rest.split_first() {
            Some((plugin, rest)) => plugin.serve(
                req,
                Next {
                    rest,
                    caller: plugin.name(),
                },
            ),
            None => Reply::fail(Failure::error(
                ResponseCode::ServFail,
                Error::new(self.caller, NoNextPlugin),
            )),
        }
    }

    /// The name of the plugin `serve` would call.
    pub fn name(&self) -> Option<&'static str> {
        self.rest.first().map(|p| p.name())
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

/// The plugins of one server block, in registry order.
#[derive(Clone, Default)]
pub struct Chain {
    plugins: Vec<Arc<dyn Plugin>>,
}

impl Chain {
    pub fn new(plugins: Vec<Arc<dyn Plugin>>) -> Self {
        Chain { plugins }
    }

    /// Serves `req` with the first plugin.
    pub fn serve<'a>(&'a self, req: &'a Request) -> Reply<'a> {
        Next {
            rest: &self.plugins,
            caller: "",
        }
        .serve(req)
    }

    pub fn plugins(&self) -> &[Arc<dyn Plugin>] {
        &self.plugins
    }

    /// A block whose directives never answer queries (only bind, health ...): REFUSED.
    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.plugins.iter().map(|p| p.name()))
            .finish()
    }
}
