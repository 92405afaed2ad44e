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

type Plugins = Arc<[Arc<dyn Plugin>]>;

/// A borrowed view of the plugins after the current one.
#[derive(Clone, Copy)]
pub struct Next<'a> {
    chain: &'a Plugins,
    /// Index in `chain` of the plugin `serve` calls.
    at: usize,
    caller: &'static str,
}

impl<'a> Next<'a> {
    /// Serves `req` with the next plugin. Past the last one this is SERVFAIL with
    /// `plugin/CALLER: no next plugin found`, as CoreDNS's `NextOrFailure`.
    pub fn serve(self, req: &'a Request) -> Reply<'a> {
        match self.chain.get(self.at) {
            Some(plugin) => plugin.serve(
                req,
                Next {
                    chain: self.chain,
                    at: self.at + 1,
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
        self.chain.get(self.at).map(|p| p.name())
    }

    pub fn is_empty(&self) -> bool {
        self.at >= self.chain.len()
    }

    /// An owned handle to the same plugins, for work that outlives the query: cache's
    /// background refresh (plugins-resolution.md §2.6, §2.7).
    pub fn to_owned(&self) -> OwnedNext {
        OwnedNext {
            chain: self.chain.clone(),
            at: self.at,
            caller: self.caller,
        }
    }
}

/// [`Next`] that owns its plugins (an `Arc` of the block's chain).
#[derive(Clone)]
pub struct OwnedNext {
    chain: Plugins,
    at: usize,
    caller: &'static str,
}

impl OwnedNext {
    pub fn as_next(&self) -> Next<'_> {
        Next {
            chain: &self.chain,
            at: self.at,
            caller: self.caller,
        }
    }
}

/// The plugins of one server block, in registry order.
#[derive(Clone)]
pub struct Chain {
    plugins: Plugins,
}

impl Default for Chain {
    fn default() -> Self {
        Chain::new(Vec::new())
    }
}

impl Chain {
    pub fn new(plugins: Vec<Arc<dyn Plugin>>) -> Self {
        Chain {
            plugins: plugins.into(),
        }
    }

    /// Serves `req` with the first plugin.
    pub fn serve<'a>(&'a self, req: &'a Request) -> Reply<'a> {
        self.first().serve(req)
    }

    /// The whole chain as a [`Next`]: what the server hands the first plugin.
    pub fn first(&self) -> Next<'_> {
        Next {
            chain: &self.plugins,
            at: 0,
            caller: "",
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::Response;
    use crate::test_util::query;
    use hickory_proto::rr::RecordType;

    struct Named(&'static str);

    impl Plugin for Named {
        fn name(&self) -> &'static str {
            self.0
        }

        fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
            if self.0 == "answer" {
                return Reply::answer(Response::reply_to(req, self.0));
            }
            next.serve(req)
        }
    }

    #[tokio::test]
    async fn an_owned_next_serves_the_same_plugins_after_the_query() {
        let chain = Chain::new(vec![Arc::new(Named("pass")), Arc::new(Named("answer"))]);
        let owned = {
            let first = chain.first();
            assert_eq!(first.name(), Some("pass"));
            first.to_owned()
        };
        drop(chain);
        let req = query("a.example.", RecordType::A).build();
        let response = owned.as_next().serve(&req).await.unwrap();
        assert_eq!(response.plugin, "answer");
    }
}
