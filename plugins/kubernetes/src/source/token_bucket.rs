//! `apiserver_qps` / `apiserver_burst`: client-go's token bucket (`flowcontrol.NewTokenBucketRateLimiter`).
//! The bucket starts full; each request takes one token; tokens come back at `qps` per second
//! up to `burst`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

pub(crate) struct TokenBucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    refilled_at: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl TokenBucket {
    /// `qps` must be positive (0 means "no limit" and builds no bucket). A burst below one
    /// token could never let a request through, so it counts as one.
    pub(crate) fn new(qps: f64, burst: u32) -> TokenBucket {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            per_second: qps,
            burst,
            tokens: burst,
            refilled_at: Instant::now(),
            sleep: None,
        }
    }

    /// Ready once a token has been taken; until then the caller's task is woken when the
    /// next token is due.
    pub(crate) fn poll_take(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let now = Instant::now();
            let earned = now.duration_since(self.refilled_at).as_secs_f64() * self.per_second;
            self.tokens = (self.tokens + earned).min(self.burst);
            self.refilled_at = now;
            if self.tokens >= 1.0 {
                self.tokens -= 1.0;
                self.sleep = None;
                return Poll::Ready(());
            }
            let missing = 1.0 - self.tokens;
            // At least a microsecond: float rounding must not turn into a busy loop.
            let wait =
                Duration::from_secs_f64(missing / self.per_second).max(Duration::from_micros(1));
            let due = now + wait;
            let sleep = match &mut self.sleep {
                Some(sleep) => {
                    sleep.as_mut().reset(due);
                    sleep
                }
                None => self.sleep.insert(Box::pin(tokio::time::sleep_until(due))),
            };
            ready!(sleep.as_mut().poll(cx));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn take(bucket: &mut TokenBucket) {
        std::future::poll_fn(|cx| bucket.poll_take(cx)).await
    }

    /// Virtual time (paused clock): the test checks the arithmetic, not the machine's speed.
    #[tokio::test(start_paused = true)]
    async fn burst_then_qps() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(2.0, 3);
        for _ in 0..3 {
            take(&mut bucket).await;
        }
        assert_eq!(Instant::now(), start, "the burst is available at once");
        take(&mut bucket).await;
        let fourth = Instant::now().duration_since(start);
        assert!(
            fourth >= Duration::from_millis(500) && fourth < Duration::from_millis(510),
            "{fourth:?}"
        );
        take(&mut bucket).await;
        let fifth = Instant::now().duration_since(start);
        assert!(
            fifth >= Duration::from_millis(1000) && fifth < Duration::from_millis(1010),
            "{fifth:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn refills_up_to_burst_only() {
        let mut bucket = TokenBucket::new(10.0, 2);
        take(&mut bucket).await;
        take(&mut bucket).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
        let start = Instant::now();
        take(&mut bucket).await;
        take(&mut bucket).await;
        assert_eq!(Instant::now(), start);
        take(&mut bucket).await;
        assert!(Instant::now().duration_since(start) >= Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn zero_burst_counts_as_one() {
        let mut bucket = TokenBucket::new(1.0, 0);
        let start = Instant::now();
        take(&mut bucket).await;
        assert_eq!(Instant::now(), start);
        take(&mut bucket).await;
        assert!(Instant::now().duration_since(start) >= Duration::from_secs(1));
    }
}
