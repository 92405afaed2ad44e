//! The startup hold of kubernetes.md §9: serving waits for the caches to sync, polled every
//! 100 ms, for at most `startup_timeout`, logging every 500 ms while it waits.

use std::sync::Arc;
use std::time::Duration;

use crate::cache::Cache;

const POLL: Duration = Duration::from_millis(100);
const LOG_EVERY: Duration = Duration::from_millis(500);

/// Completes when `cache` has synced or `timeout` has passed (then with a warning).
pub async fn wait_for_sync(cache: Arc<Cache>, timeout: Duration) {
    let start = tokio::time::Instant::now();
    let deadline = start + timeout;
    let mut poll = tokio::time::interval_at(start + POLL, POLL);
    let mut log = tokio::time::interval_at(start + LOG_EVERY, LOG_EVERY);
    let expired = tokio::time::sleep_until(deadline);
    tokio::pin!(expired);
    loop {
        tokio::select! {
            _ = poll.tick() => {
                if cache.has_synced() {
                    return;
                }
            }
            _ = log.tick() => {
                plugin::log::info(
                    Some(crate::NAME),
                    format_args!("waiting for Kubernetes API before starting server"),
                );
            }
            _ = &mut expired => {
                plugin::log::warning(
                    Some(crate::NAME),
                    format_args!("starting server with unsynced Kubernetes API"),
                );
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::CacheOptions;
    use crate::feed::{ClusterSink, Feed};

    #[tokio::test(start_paused = true)]
    async fn returns_once_synced() {
        let cache = Arc::new(Cache::new(CacheOptions::default(), None));
        let waiting = tokio::spawn(wait_for_sync(cache.clone(), Duration::from_secs(3600)));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(!waiting.is_finished());
        cache.services(Feed::Synced);
        cache.namespaces(Feed::Synced);
        waiting.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_at_the_timeout() {
        let cache = Arc::new(Cache::new(CacheOptions::default(), None));
        wait_for_sync(cache.clone(), Duration::from_secs(5)).await;
        assert!(!cache.has_synced());
    }
}
