//! The adaptive dial timeout of §1.8 (CoreDNS `limitTimeout` / `averageTimeout`): a running
//! average of dial times, starting at 15 s; the timeout is twice the average, within 1 s..30 s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const INITIAL_AVERAGE: Duration = Duration::from_secs(15);
const MIN_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_TIMEOUT: Duration = Duration::from_secs(30);
/// Each sample moves the average a quarter of the way.
const WEIGHT: i64 = 4;

#[derive(Debug)]
pub struct DialTimer {
    /// Nanoseconds.
    average: AtomicU64,
}

impl Default for DialTimer {
    fn default() -> Self {
        DialTimer {
            average: AtomicU64::new(INITIAL_AVERAGE.as_nanos() as u64),
        }
    }
}

impl DialTimer {
    pub fn timeout(&self) -> Duration {
        let average = Duration::from_nanos(self.average.load(Ordering::Relaxed));
        if average < MIN_TIMEOUT {
            MIN_TIMEOUT
        } else if average < MAX_TIMEOUT / 2 {
            2 * average
        } else {
            MAX_TIMEOUT
        }
    }

    /// Records how long a dial took (successful or not, as CoreDNS does).
    pub fn record(&self, took: Duration) {
        let sample = i64::try_from(took.as_nanos()).unwrap_or(i64::MAX);
        // A lost update between two concurrent dials only skips one sample.
        let current = self.average.load(Ordering::Relaxed) as i64;
        let next = current.saturating_add((sample - current) / WEIGHT).max(0);
        self.average.store(next as u64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_thirty_seconds_and_falls_to_one() {
        let t = DialTimer::default();
        assert_eq!(t.timeout(), MAX_TIMEOUT);
        for _ in 0..20 {
            t.record(Duration::from_millis(1));
        }
        assert_eq!(t.timeout(), MIN_TIMEOUT);
        for _ in 0..4 {
            t.record(Duration::from_secs(4));
        }
        let timeout = t.timeout();
        assert!(
            timeout > MIN_TIMEOUT && timeout < MAX_TIMEOUT,
            "{timeout:?}"
        );
    }
}
