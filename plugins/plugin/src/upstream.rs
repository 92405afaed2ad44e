//! Re-entering the server: a plugin resolves a name "through this same server", as CoreDNS's
//! `plugin/pkg/upstream` does (kubernetes.md §3.5: an ExternalName target outside the cluster
//! zone goes through cache, forward, … with the original query's EDNS options).
//!
//! Setup hands every plugin the same [`Upstream`]; the server binds it to the listener that
//! received the query once the instance is built (the handle exists before the listeners do,
//! so it is bound late).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use hickory_proto::rr::{Name, RecordType};

use crate::request::Request;
use crate::response::Response;

pub type LookupFuture<'a> = Pin<Box<dyn Future<Output = Option<Response>> + Send + 'a>>;

/// What the server implements to answer a lookup from inside the chain.
pub trait Resolve: Send + Sync + 'static {
    /// Serves a new query for `name`/`qtype` from the top of the server that received
    /// `origin`, copying `origin`'s client, transport and EDNS options. `None` when the server
    /// produced no message (CoreDNS: the lookup returned no reply).
    fn resolve<'a>(
        &'a self,
        origin: &'a Request,
        name: Name,
        qtype: RecordType,
    ) -> LookupFuture<'a>;
}

/// A late-bound handle to [`Resolve`]. Cheap to clone.
#[derive(Clone, Default)]
pub struct Upstream {
    resolver: Arc<OnceLock<Arc<dyn Resolve>>>,
}

impl Upstream {
    /// An unbound handle (what setup hands out before the server exists).
    pub fn new() -> Self {
        Upstream::default()
    }

    /// A handle bound at once, e.g. to a stub in a plugin's tests.
    pub fn bound(resolver: Arc<dyn Resolve>) -> Self {
        let upstream = Upstream::new();
        upstream.bind(resolver);
        upstream
    }

    /// Binds the handle. Only the first binding counts.
    pub fn bind(&self, resolver: Arc<dyn Resolve>) {
        let _ = self.resolver.set(resolver);
    }

    /// Resolves `name`/`qtype` through the server. `None` when the handle is not bound
    /// (yet) or the server produced no message.
    pub async fn lookup(
        &self,
        origin: &Request,
        name: Name,
        qtype: RecordType,
    ) -> Option<Response> {
        let resolver = self.resolver.get()?.clone();
        resolver.resolve(origin, name, qtype).await
    }
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("bound", &self.resolver.get().is_some())
            .finish()
    }
}
