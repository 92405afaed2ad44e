//! Re-entering the server: a plugin resolves a name "through this same server", as CoreDNS's
//! `plugin/pkg/upstream` does (kubernetes.md §3.5: an ExternalName target outside the cluster
//! zone goes through cache, forward, … with the original query's EDNS options).
//!
//! Setup hands every plugin the same [`Upstream`]; the server binds it to the listener that
//! received the query once the instance is built (the handle exists before the listeners do,
//! so it is bound late).
//!
//! Lookups nest (a plugin's lookup reaches a plugin that looks up again); [`MAX_DEPTH`] bounds
//! the nesting so a plugin that looks itself up ends instead of recursing forever.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use hickory_proto::rr::{Name, RecordType};

use crate::request::Request;
use crate::response::Response;

pub type LookupFuture<'a> = Pin<Box<dyn Future<Output = Option<Response>> + Send + 'a>>;

/// How many lookups may be nested inside one another within one query. CoreDNS has no
/// limit (its callers avoid loops: kubernetes only looks up names outside its zones); a bound
/// turns a loop between plugins into a `None` answer instead of a stack overflow. Eight is far
/// above any real chain (an ExternalName that points at another ExternalName is two).
pub const MAX_DEPTH: u8 = 8;

tokio::task_local! {
    /// The lookup nesting of the query being served by this task. Lives only inside
    /// [`Upstream::lookup`], so queries that never look anything up pay nothing.
    static DEPTH: u8;
}

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
    /// (yet), the server produced no message, or [`MAX_DEPTH`] lookups are already nested
    /// (the depth travels with the task, so a lookup made from a task spawned by a plugin
    /// starts counting afresh).
    pub async fn lookup(
        &self,
        origin: &Request,
        name: Name,
        qtype: RecordType,
    ) -> Option<Response> {
        let resolver = self.resolver.get()?;
        let depth = DEPTH.try_with(|depth| *depth).unwrap_or(0);
        if depth >= MAX_DEPTH {
            return None;
        }
        DEPTH
            .scope(depth + 1, resolver.resolve(origin, name, qtype))
            .await
    }

    /// True once the server bound the handle.
    pub fn is_bound(&self) -> bool {
        self.resolver.get().is_some()
    }
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("bound", &self.resolver.get().is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU8, Ordering};

    fn request(name: &str) -> Request {
        crate::test_util::query(name, RecordType::A).build()
    }

    /// A plugin that resolves its own name again through the server, forever.
    struct LooksItselfUp {
        upstream: Upstream,
        calls: AtomicU8,
    }

    impl Resolve for LooksItselfUp {
        fn resolve<'a>(
            &'a self,
            origin: &'a Request,
            name: Name,
            qtype: RecordType,
        ) -> LookupFuture<'a> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                let inner = self.upstream.lookup(origin, name.clone(), qtype).await;
                Some(inner.unwrap_or_else(|| {
                    crate::Response::reply_to(origin, "loop")
                        .with_rcode(hickory_proto::op::ResponseCode::Refused)
                }))
            })
        }
    }

    #[tokio::test]
    async fn an_unbound_handle_answers_none() {
        let upstream = Upstream::new();
        assert!(!upstream.is_bound());
        let req = request("example.org.");
        let got = upstream
            .lookup(
                &req,
                Name::from_ascii("a.example.org.").unwrap(),
                RecordType::A,
            )
            .await;
        assert!(got.is_none());
    }

    #[tokio::test]
    async fn nested_lookups_stop_at_max_depth() {
        let upstream = Upstream::new();
        let looper = Arc::new(LooksItselfUp {
            upstream: upstream.clone(),
            calls: AtomicU8::new(0),
        });
        upstream.bind(looper.clone());
        assert!(upstream.is_bound());
        let req = request("loop.example.org.");
        let got = upstream
            .lookup(
                &req,
                Name::from_ascii("loop.example.org.").unwrap(),
                RecordType::A,
            )
            .await
            .expect("the outermost lookup answers");
        // The innermost lookup was refused by the cap; every level above answered.
        assert_eq!(got.rcode, hickory_proto::op::ResponseCode::Refused);
        assert_eq!(looper.calls.load(Ordering::SeqCst), MAX_DEPTH);
        // The depth is per lookup chain, not global: a second lookup gets the full depth.
        looper.calls.store(0, Ordering::SeqCst);
        let again = upstream
            .lookup(
                &req,
                Name::from_ascii("loop.example.org.").unwrap(),
                RecordType::A,
            )
            .await;
        assert!(again.is_some());
        assert_eq!(looper.calls.load(Ordering::SeqCst), MAX_DEPTH);
    }
}
