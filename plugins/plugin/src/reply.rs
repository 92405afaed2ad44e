//! What a plugin returns: an outcome available now, or a future of one.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::Failure;
use crate::response::Response;

/// A written reply, or a failure the server core answers (corefile.md §7.2 step 10).
pub type Outcome = Result<Response, Failure>;

type BoxFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// The result of [`crate::Plugin::serve`]. An authoritative answer or a cache hit is `Ready`
/// and allocates no future anywhere in the chain; only waiting (forward) pays for a box.
#[must_use]
pub enum Reply<'a> {
    /// The outcome, taken when polled.
    Ready(Option<Outcome>),
    Pending(BoxFuture<'a>),
}

impl<'a> Reply<'a> {
    pub fn ready(outcome: Outcome) -> Self {
        Reply::Ready(Some(outcome))
    }

    pub fn answer(response: Response) -> Self {
        Reply::ready(Ok(response))
    }

    pub fn fail(failure: Failure) -> Self {
        Reply::ready(Err(failure))
    }

    pub fn pending(future: impl Future<Output = Outcome> + Send + 'a) -> Self {
        Reply::Pending(Box::pin(future))
    }

    pub fn is_ready(&self) -> bool {
        matches!(self, Reply::Ready(_))
    }

    /// Runs `f` on the outcome: inline when it is ready, else when the future completes.
    /// How log, prometheus and minimal look at a reply on its way back up.
    pub fn map(self, f: impl FnOnce(Outcome) -> Outcome + Send + 'a) -> Reply<'a> {
        match self {
            Reply::Ready(outcome) => Reply::Ready(outcome.map(f)),
            Reply::Pending(future) => Reply::pending(async move { f(future.await) }),
        }
    }
}

impl Future for Reply<'_> {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        match self.get_mut() {
            Reply::Ready(outcome) => {
                Poll::Ready(outcome.take().expect("Reply polled after completion"))
            }
            Reply::Pending(future) => future.as_mut().poll(cx),
        }
    }
}
