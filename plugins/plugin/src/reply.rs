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

    /// Shows `f` the outcome: inline when it is ready, else when the future completes. How
    /// errors, log and prometheus look at a reply on its way back up. Unlike [`Reply::map`]
    /// a ready outcome stays where it is: a reply is moved on every step up the chain, and
    /// taking it out and back is two more copies of it.
    pub fn inspect(self, f: impl FnOnce(&Outcome) + Send + 'a) -> Reply<'a> {
        match &self {
            Reply::Ready(Some(outcome)) => {
                f(outcome);
                self
            }
            Reply::Ready(None) => self,
            Reply::Pending(_) => Reply::pending(async move {
                let outcome = self.await;
                f(&outcome);
                outcome
            }),
        }
    }

    /// Runs `f` on the outcome: inline when it is ready, else when the future completes.
    /// How minimal and cache change a reply on its way back up.
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

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;
    use hickory_proto::op::ResponseCode;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn refused() -> Outcome {
        Err(Failure::rcode(ResponseCode::Refused))
    }

    #[test]
    fn inspect_sees_a_ready_outcome_at_once_and_keeps_it_ready() {
        let seen = AtomicUsize::new(0);
        let reply = Reply::ready(refused()).inspect(|outcome| {
            assert!(outcome.is_err());
            seen.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(seen.load(Ordering::Relaxed), 1);
        assert!(reply.is_ready());
        let outcome = reply.now_or_never().expect("ready");
        assert_eq!(outcome.unwrap_err().rcode, ResponseCode::Refused);
    }

    #[tokio::test]
    async fn inspect_sees_a_pending_outcome_when_it_completes() {
        let seen = AtomicUsize::new(0);
        let reply = Reply::pending(async {
            tokio::task::yield_now().await;
            refused()
        })
        .inspect(|_| {
            seen.fetch_add(1, Ordering::Relaxed);
        });
        assert!(!reply.is_ready());
        assert_eq!(seen.load(Ordering::Relaxed), 0);
        let outcome = reply.await;
        assert_eq!(seen.load(Ordering::Relaxed), 1);
        assert_eq!(outcome.unwrap_err().rcode, ResponseCode::Refused);
    }
}
